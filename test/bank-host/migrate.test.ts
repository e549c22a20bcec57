// `bank-host migrate`: a LevelDB host's complete state into an empty PostgreSQL database (a real Patroni
// cluster), verified before it commits; a second run over the same target refused, changing nothing; a
// host then serves from the copy (same balances, its audit log verifying across the migrated chain and the
// new lanes); bad arguments refused with the usage.
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { main } from '../../bank-host/cli/main.js';
import { verifyAuditChain } from '../../bank-host/audit/verify.js';
import { readAccount } from '../../bank-host/ledger/accounts.js';
import { checkLedger } from '../../bank-host/ledger/check.js';
import { MIGRATION_MARKER_KEY } from '../../bank-host/host-migrate.js';
import { PostgresStore } from '../../bank-host/store/postgres/index.js';
import type { Io } from '../../bank-host/cli/io.js';
import { createHarness } from '../helpers/dispatcher-harness.js';
import { CLUSTER_START_TIMEOUT_MS } from '../helpers/postgres-cluster.js';
import { clusterStartMs, sharedCluster, stopSharedCluster } from '../helpers/store-backend.js';

const PASSWORD = 'correct horse battery';

test.after.always(() => stopSharedCluster());

function capture(): { io: Io; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, readSecret: async () => '' }, out, err };
}

test('bad arguments are refused with the usage, changing nothing', async (t) => {
  const run = async (...argv: string[]) => {
    const c = capture();
    return { code: await main(['migrate', ...argv], c.io), text: [...c.out, ...c.err].join('\n') };
  };
  t.like(await run('--help'), { code: 0 });
  t.regex((await run('--help')).text, /--to URL/);
  t.regex((await run('--data', '/nonexistent')).text, /migrate needs --data and --keys/);
  t.is((await run('--data', '/tmp/x', '--keys', '/tmp/y')).code, 2);
  t.regex((await run('--data', '/tmp/x', '--keys', '/tmp/y')).text, /needs --to/);
  t.is((await run('--bogus')).code, 2);
  t.is((await run('stray', '--data', '/tmp/x')).code, 2);
  const withPassword = await run('--data', '/tmp/x', '--keys', '/tmp/y', '--to', 'postgresql://atm:hunter2@db1/atm');
  t.is(withPassword.code, 1);
  t.regex(withPassword.text, /must not hold a password/);
  t.notRegex(withPassword.text, /hunter2/);
  const badCredential = await run('--data', '/tmp/x', '--keys', '/tmp/y', '--to', 'postgresql://atm@db1/atm', '--password-credential', '../shadow');
  t.is(badCredential.code, 2);
  const noDatabase = await run('--data', '/nonexistent-data', '--keys', '/nonexistent-keys', '--to', 'postgresql://atm@db1/atm');
  t.is(noDatabase.code, 1);
});

test('a LevelDB host is copied whole, verified, refused a second time, and served from PostgreSQL', async (t) => {
  t.timeout(CLUSTER_START_TIMEOUT_MS + 120_000);
  const cluster = await sharedCluster();
  t.log(`cluster started in ${clusterStartMs} ms`);
  // A LevelDB host with customers, deposits, withdrawals and their audit records.
  const source = await createHarness();
  t.teardown(() => source.close());
  const kiosk = await source.connect('kiosk-01');
  const accounts: string[] = [];
  for (const name of ['alice', 'bob', 'carol']) {
    const connection = await source.connect('kiosk-01');
    const info = await source.ok(connection, 'register', { username: name, password: PASSWORD });
    accounts.push(info.accounts[0]!.accountId);
    await source.deposit(connection, info.accounts[0]!.accountId, 50_000);
    const held = await source.ok(connection, 'withdraw.authorize', { accountId: info.accounts[0]!.accountId, amountCents: 20_000 });
    await source.ok(connection, 'withdraw.complete', { authorizationId: held.authorizationId, dispensedCents: 20_000 });
  }
  void kiosk;
  const sourceRecords = (await source.auditLog()).length;
  await source.stop();

  const target = await cluster.createDatabase('migrated_1');
  await writeFile(path.join(source.keysDir, 'postgres-password'), target.password + '\n', { mode: 0o600 });
  const url = `postgresql://${target.user}@${cluster.addresses.map((a) => `${a.host}:${a.port}`).join(',')}/${target.database}`;
  const first = capture();
  t.is(await main(['migrate', '--data', source.dataDir, '--keys', source.keysDir, '--to', url], first.io), 0, first.err.join('\n'));
  const summary = JSON.parse(first.out.join('\n')) as { ok: boolean; auditRecords: number; accounts: number };
  t.true(summary.ok);
  t.is(summary.auditRecords, sourceRecords);
  t.true(first.err.some((line) => /verifying the copy/.test(line)), 'progress is shown');

  // A second run over the same target is refused and changes nothing.
  const second = capture();
  t.is(await main(['migrate', '--data', source.dataDir, '--keys', source.keysDir, '--to', url], second.io), 1);
  t.regex(second.err.join('\n'), /already holds keys/);

  // A host on the copy: same balances, the ledger whole, and the log verifying across the migrated chain and new lanes.
  const served = await createHarness({ sameStoreAs: { keysDir: source.keysDir, store: { backend: 'postgresql', addresses: cluster.addresses.map((a) => ({ ...a })), database: target.database, user: target.user, passwordCredential: 'postgres-password', idleInTransactionTimeoutMs: 1_000, connectTimeoutMs: 10_000 }, hostId: 'host-after' } });
  t.teardown(() => served.close());
  for (const accountId of accounts) t.is((await readAccount(served.services.db, accountId))?.balanceCents, 30_000);
  const again = await served.connect('kiosk-02');
  await served.ok(again, 'signin.password', { username: 'alice', password: PASSWORD });
  await served.ok(again, 'withdraw.authorize', { accountId: accounts[0]!, amountCents: 10_000 });
  t.like(await checkLedger(served.services.db), { ok: true, totalBalanceCents: 0 });
  const keys = { enc: served.services.keys.auditEnc, mac: served.services.keys.auditMac, sign: served.services.keys.auditSign };
  const verified = await verifyAuditChain(served.services.db, keys);
  t.true(verified.ok, JSON.stringify(verified.problem));
  t.true(verified.records > sourceRecords);
  t.truthy(await (served.services.db as PostgresStore).get(MIGRATION_MARKER_KEY));
});
