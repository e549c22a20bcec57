// `bank-host technician add` and `bank-host fleet resolve` as operators run them, against a serving host
// whose kiosk (a real TLS client) is replenished by the technician's card with a counted difference: the
// alert, `fleet show`'s balancing lines, the resolution through the admin socket, and on a stopped host.
import test from 'ava';
import { testKioskStatus } from '../helpers/kiosk-cash.js';
import type { Io } from '../../bank-host/cli/io.js';
import { main } from '../../bank-host/cli/main.js';
import { encodePinBlockFormat4 } from '../../protocol/pin-block.js';
import { startTestHost } from '../helpers/host.js';

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => (out += t + '\n'), err: (t) => (err += t + '\n'), env: {}, readSecret: async () => '' };
  const code = await main(argv, io);
  return { code, out, err };
}

test('technician add issues a supervisor card once; a replenishment with a difference is an alert until fleet resolve', async (t) => {
  const h = await startTestHost();
  t.teardown(() => h.close());
  const socket = ['--admin-socket', h.adminSocket];
  const added = await cli(['technician', 'add', 'tech.anne', ...socket]);
  t.is(added.code, 0, added.err);
  const [, pan, pin] = /supervisor card ([0-9]{16}) expiring \S+\nPIN ([0-9]{4})/.exec(added.out) ?? [];
  t.truthy(pan && pin, added.out);
  t.regex((await cli(['technician', 'add', 'tech.anne', ...socket])).err, /\[USERNAME_TAKEN\]/);
  t.regex((await cli(['technician', 'add', 'Bad Name', ...socket])).err, /\[BAD_USERNAME\]/);
  t.is((await cli(['technician', '--help'])).code, 0);

  const kShared = await h.addDevice('kiosk-rp1');
  const kiosk = h.client('kiosk-rp1', kShared);
  kiosk.start();
  await kiosk.waitConnected(5_000);
  await kiosk.request('kiosk.status', testKioskStatus());
  const pinBlock = encodePinBlockFormat4(pin!, pan!, h.pinKey('kiosk-rp1')).toString('hex');
  const session = await kiosk.request('signin.card', { pan: pan!, pinBlock });
  t.is(session.role, 'supervisor');
  const { replenishmentId } = await kiosk.request('replenish.open', {});
  const counted = await kiosk.request('replenish.unload', { replenishmentId, container: 'cassettes', notes: [{ denominationCents: 2_000, count: 5 }] });
  t.like(counted, { countedCents: 10_000, ledgerCents: 0, differenceCents: 10_000 });
  await kiosk.request('replenish.close', { replenishmentId });
  await h.host.state.services.fleet!.settled();

  t.regex((await cli(['fleet', 'alerts', ...socket])).out, /CRITICAL\tkiosk-rp1\tunbalanced\tsince \d+ s ago\tbalancing of \S+: cassettes \+10000 cents: bank-host fleet resolve kiosk-rp1 --note TEXT once explained/);
  const shown = await cli(['fleet', 'show', 'kiosk-rp1', ...socket]);
  t.regex(shown.out, /last balancing: \S+ \S+ UTC UNBALANCED\n  cassettes\tcounted \$100\.00\tledger \$0\.00\tdifference \+\$100\.00/);

  const noNote = await cli(['fleet', 'resolve', 'kiosk-rp1', ...socket]);
  t.is(noNote.code, 2);
  t.regex(noNote.err, /needs --note TEXT/);
  const resolved = await cli(['fleet', 'resolve', 'kiosk-rp1', '--note', 'first load was made by hand before replenishment existed', ...socket]);
  t.is(resolved.code, 0, resolved.err);
  t.regex(resolved.out, /kiosk-rp1: balancing of \S+ \S+ UTC resolved \(cassettes \+\$100\.00\)/);
  t.is((await cli(['fleet', 'alerts', ...socket])).out.trim(), 'no alerts');
  const again = await cli(['fleet', 'resolve', 'kiosk-rp1', '--note', 'again', ...socket]);
  t.is(again.code, 1);
  t.regex(again.err, /\[NOTHING_TO_RESOLVE\]/);

  // A stopped host reads the same report, resolved.
  kiosk.close();
  await h.stop();
  const stopped = await cli(['fleet', 'show', 'kiosk-rp1', '--data', h.dataDir, '--keys', h.keysDir]);
  t.regex(stopped.out, /last balancing: \S+ \S+ UTC resolved: first load was made by hand/);
  const audit = JSON.parse((await cli(['audit', 'show', '--json', '--data', h.dataDir, '--keys', h.keysDir])).out).entries as { action: string; outcome: string; reason?: string }[];
  t.deepEqual(
    audit.filter((e) => ['technician.add', 'fleet.resolve', 'alert.raise', 'alert.clear'].includes(e.action)).map((e) => `${e.action}:${e.outcome}${e.reason ? `:${e.reason}` : ''}`),
    ['technician.add:ok', 'technician.add:failed:USERNAME_TAKEN', 'technician.add:failed:BAD_USERNAME', 'alert.raise:ok', 'fleet.resolve:ok', 'alert.clear:ok', 'fleet.resolve:failed:NOTHING_TO_RESOLVE'],
  );
  t.false(JSON.stringify(audit).includes(pan!), 'no PAN in the audit log');
});
