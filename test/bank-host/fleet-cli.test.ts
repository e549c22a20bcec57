// `bank-host fleet ...` and `bank-host operator ...` as operators run them: through the serving host's admin
// socket, and on the database of a stopped host, with the same answers; tokens printed once and stored only
// as a hash.
import test from 'ava';
import path from 'node:path';
import type { Io } from '../../bank-host/cli/io.js';
import { main } from '../../bank-host/cli/main.js';
import { Database } from '../../bank-host/store/database.js';
import type { FleetOverview, KioskDetail } from '../../bank-host/fleet/views.js';
import { clientDeposit, startTestHost } from '../helpers/host.js';
import { testKioskStatus } from '../helpers/kiosk-cash.js';

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => (out += t + '\n'), err: (t) => (err += t + '\n'), env: {}, readSecret: async () => '' };
  const code = await main(argv, io);
  return { code, out, err };
}

test('fleet list, show, alerts and threshold answer the same through the admin socket and on a stopped host', async (t) => {
  const h = await startTestHost();
  t.teardown(() => h.close());
  const client = await h.connectedClient('kiosk-cli1');
  const { accounts } = await client.request('register', { username: 'cli-fleet', password: 'a long enough password' });
  await clientDeposit(client, accounts[0]!.accountId, 10_000);
  const { authorizationId } = await client.request('withdraw.authorize', { accountId: accounts[0]!.accountId, amountCents: 4_000 });
  await client.request('withdraw.complete', { authorizationId, dispensedCents: 4_000 });
  await client.request('kiosk.status', testKioskStatus({ inService: false, reasons: ['cash low'], cassettes: [{ denominationCents: 2_000, count: 10 }] }));
  await h.addDevice('kiosk-cli2');
  await h.host.state.services.fleet!.settled();
  const socket = ['--admin-socket', h.adminSocket];

  const listed = await cli(['fleet', 'list', ...socket]);
  t.is(listed.code, 0, listed.err);
  t.regex(listed.out, /^2 kiosks: 0 in-service, 1 out-of-service, 0 offline, 1 never-reported; 2 alerts/);
  t.regex(listed.out, /kiosk-cli1\tout-of-service\tconnected\treported \d+ s ago\tcash \$200\.00 \(10×\$20\.00\)\tcashbox 0 %\tpaper ok\talerts: out-of-service, low-cash/);
  t.regex(listed.out, /kiosk-cli2\tnever-reported\tnot connected\tnever reported/);
  const overview = JSON.parse((await cli(['fleet', 'list', '--json', ...socket])).out) as FleetOverview;
  t.deepEqual(overview.counts, { 'in-service': 0, 'out-of-service': 1, offline: 0, 'never-reported': 1 });

  const shown = await cli(['fleet', 'show', 'kiosk-cli1', ...socket]);
  t.is(shown.code, 0, shown.err);
  t.regex(shown.out, /recent transactions:\n  \S+ \S+ UTC\twithdrawal\t\$40\.00\n  \S+ \S+ UTC\tdeposit\t\$100\.00/);
  t.regex(shown.out, /last balancing: none yet/);
  const detail = JSON.parse((await cli(['fleet', 'show', 'kiosk-cli1', '--json', ...socket])).out) as KioskDetail;
  t.deepEqual(detail.recentTransactions.map((x) => [x.kind, x.amountCents]), [['withdrawal', 4_000], ['deposit', 10_000]]);
  t.is(detail.transactionsPerHour.length, 24);
  t.is(detail.transactionsPerHour.reduce((n, hour) => n + hour.withdrawals + hour.deposits, 0), 2);
  const unknown = await cli(['fleet', 'show', 'kiosk-nope', ...socket]);
  t.is(unknown.code, 1);
  t.regex(unknown.err, /\[DEVICE_UNKNOWN\]/);

  const alerts = await cli(['fleet', 'alerts', ...socket]);
  t.regex(alerts.out, /^CRITICAL\tkiosk-cli1\tout-of-service\tsince \d+ s ago\tcash low\nWARNING\tkiosk-cli1\tlow-cash\t/);

  const threshold = await cli(['fleet', 'threshold', 'kiosk-cli1', '--low-cash-notes', '5', ...socket]);
  t.is(threshold.code, 0, threshold.err);
  t.regex(threshold.out, /kiosk-cli1: low cash below 5 notes a cassette \(the kiosk's own\)/);
  t.false((await cli(['fleet', 'alerts', ...socket])).out.includes('low-cash'), 'ten notes are above the kiosk’s own threshold');
  const usage = await cli(['fleet', 'threshold', 'kiosk-cli1', ...socket]);
  t.is(usage.code, 2);
  t.regex(usage.err, /needs --low-cash-notes N, --low-cash AMOUNT or --default/);

  // Stopped: the same commands read the same store.
  client.close();
  await h.stop();
  const stopped = ['--data', h.dataDir, '--keys', h.keysDir];
  const offline = JSON.parse((await cli(['fleet', 'list', '--json', ...stopped])).out) as FleetOverview;
  t.deepEqual(offline.kiosks.map((k) => [k.deviceId, k.state, k.connected]), [['kiosk-cli1', 'out-of-service', null], ['kiosk-cli2', 'never-reported', null]]);
  t.deepEqual(offline.alerts.map((a) => a.kind), ['out-of-service']);
  t.deepEqual(JSON.parse((await cli(['fleet', 'show', 'kiosk-cli1', '--json', ...stopped])).out).recentTransactions, detail.recentTransactions);
  t.is((await cli(['fleet', 'threshold', 'kiosk-cli1', '--default', ...stopped])).code, 0);
  t.regex((await cli(['fleet', 'show', 'kiosk-cli1', ...stopped])).out, /low cash below 100 notes a cassette \(the host's\)/);
});

test('operator add prints a token once and stores only its hash; list and revoke; a name is given one live token', async (t) => {
  const h = await startTestHost();
  t.teardown(() => h.close());
  const socket = ['--admin-socket', h.adminSocket];
  const added = await cli(['operator', 'add', 'alice', ...socket]);
  t.is(added.code, 0, added.err);
  const token = added.out.split('\n')[0]!;
  t.regex(token, /^bho_[A-Za-z0-9_-]{43}$/);
  t.regex(added.out, /shown this once, stored only as a hash/);
  const again = await cli(['operator', 'add', 'alice', ...socket]);
  t.is(again.code, 1);
  t.regex(again.err, /\[OPERATOR_EXISTS\]/);
  t.regex((await cli(['operator', 'add', 'Bad Name', ...socket])).err, /\[BAD_OPERATOR_NAME\]/);
  const json = JSON.parse((await cli(['operator', 'add', 'bob', '--json', ...socket])).out) as { token: string; operator: { name: string } };
  t.is(json.operator.name, 'bob');
  t.true(h.host.state.services.operators!.verify(token)?.name === 'alice');
  t.is(h.host.state.services.operators!.verify(json.token)?.name, 'bob');

  const listed = await cli(['operator', 'list', ...socket]);
  t.regex(listed.out, /^alice\tactive\tcreated .*\nbob\tactive/);
  t.false(listed.out.includes(token) || listed.out.includes('Sha256'), 'never a token or its hash');
  t.regex((await cli(['operator', 'revoke', 'alice', ...socket])).out, /^revoked alice\trevoked\tcreated .*\trevoked /);
  t.is(h.host.state.services.operators!.verify(token), undefined, 'a revoked token is refused at once');
  t.regex((await cli(['operator', 'revoke', 'alice', ...socket])).err, /\[UNKNOWN_OPERATOR\]/);
  // The name may be given a new token; the old one stays dead.
  const renewed = (await cli(['operator', 'add', 'alice', ...socket])).out.split('\n')[0]!;
  t.not(renewed, token);
  t.is(h.host.state.services.operators!.verify(token), undefined);
  t.is(h.host.state.services.operators!.verify(renewed)?.name, 'alice');

  // No token anywhere in the store, and each change is audited without one.
  await h.stop();
  const db = await Database.open(path.join(h.dataDir, 'db'));
  try {
    let records = 0;
    for await (const [key, value] of db.level.iterator<string, Buffer>({ valueEncoding: 'buffer' })) {
      records++;
      for (const secret of [token, renewed, json.token]) t.false(value.includes(secret.slice(4)) || key.includes(secret.slice(4)), `a token in ${key}`);
    }
    t.true(records > 0);
  } finally {
    await db.close();
  }
  const audit = JSON.parse((await cli(['audit', 'show', '--json', '--data', h.dataDir, '--keys', h.keysDir])).out).entries as { action: string; outcome: string; reason?: string }[];
  const seen = audit.filter((e) => e.action.startsWith('operator.')).map((e) => `${e.action}:${e.outcome}${e.reason ? `:${e.reason}` : ''}`);
  t.deepEqual(seen, [
    'operator.add:ok',
    'operator.add:failed:OPERATOR_EXISTS',
    'operator.add:failed:BAD_OPERATOR_NAME',
    'operator.add:ok',
    'operator.revoke:ok',
    'operator.revoke:failed:UNKNOWN_OPERATOR',
    'operator.add:ok',
  ]);
});
