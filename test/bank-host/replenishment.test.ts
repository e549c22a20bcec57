// Replenishment and balancing at the host, on the real dispatcher (test/helpers/dispatcher-harness.ts): a
// technician's supervisor card opens a replenishment, each container's count moves its notes to the branch
// vault and any difference to over/short, a balancing report is written per replenishment, a difference is
// an `unbalanced` alert until an operator resolves it; roles never cross; bad counts change nothing.
import test from 'ava';
import { ProtocolError } from '../../protocol/errors.js';
import type { NoteCount } from '../../protocol/messages.js';
import { runAdminCommand } from '../../bank-host/admin/commands.js';
import { addTechnician } from '../../bank-host/customers/technicians.js';
import { readLatestBalancing, readUnresolvedBalancings } from '../../bank-host/fleet/balancing.js';
import { readAccount } from '../../bank-host/ledger/accounts.js';
import { checkLedger } from '../../bank-host/ledger/check.js';
import { type PostingLeg, cashAccountId, cashboxAccountId, overShortAccountId, postingPrefix, vaultAccountId } from '../../bank-host/ledger/records.js';
import type { ConnectionState } from '../../bank-host/operations/context.js';
import type { DeviceRegistry } from '../../bank-host/devices/registry.js';
import { type Harness, createHarness } from '../helpers/dispatcher-harness.js';

const PASSWORD = 'correct horse battery';
const code = (answer: unknown) => (answer instanceof ProtocolError ? answer.code : 'ok');
const notes = (...pairs: [number, number][]): NoteCount[] => pairs.map(([denominationCents, count]) => ({ denominationCents, count }));

async function withHarness(run: (h: Harness) => Promise<void>): Promise<void> {
  const h = await createHarness();
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

async function technician(h: Harness, name = 'tech.anne', deviceId = 'kiosk-01'): Promise<ConnectionState> {
  const connection = await h.connect(deviceId);
  const card = await addTechnician(h.services, name);
  const info = await h.ok(connection, 'signin.card', { pan: card.pan, pinBlock: h.pinBlock(deviceId, card.pan, card.pin) });
  if (info.role !== 'supervisor') throw new Error('a technician card did not open supervisor mode');
  return connection;
}

async function customer(h: Harness, username: string): Promise<{ connection: ConnectionState; accountId: string }> {
  const connection = await h.connect('kiosk-01');
  const info = await h.ok(connection, 'register', { username, password: PASSWORD });
  return { connection, accountId: info.accounts[0]!.accountId };
}

async function legs(h: Harness, accountId: string): Promise<PostingLeg[]> {
  const found: PostingLeg[] = [];
  for await (const [, leg] of h.services.db.entries<PostingLeg>(postingPrefix(accountId))) found.push(leg);
  return found;
}

const balanceOf = async (h: Harness, accountId: string) => (await readAccount(h.services.db, accountId))?.balanceCents ?? 0;
const alertKinds = (h: Harness) => h.services.fleet!.alerts.of('kiosk-01').map((a) => a.kind);

/** The first replenishment of a new kiosk: nothing in it, then its first cassettes (100 × $20, 50 × $50). */
async function openingLoad(h: Harness, tech: ConnectionState): Promise<void> {
  const { replenishmentId } = await h.ok(tech, 'replenish.open', {});
  await h.ok(tech, 'replenish.unload', { replenishmentId, container: 'cassettes', notes: [] });
  await h.ok(tech, 'replenish.unload', { replenishmentId, container: 'cashbox', notes: [] });
  await h.ok(tech, 'replenish.load', { replenishmentId, notes: notes([2_000, 100], [5_000, 50]) });
  const closed = await h.ok(tech, 'replenish.close', { replenishmentId });
  if (!closed.balanced) throw new Error('the opening load did not balance');
}

test('a technician card signs in to supervisor mode with no accounts, and may do no customer operation', (t) =>
  withHarness(async (h) => {
    const tech = await technician(h);
    t.is(code(await h.call(tech, 'withdraw.authorize', { accountId: 'acc_0123456789abcdef', amountCents: 2_000 })), 'ROLE_NOT_ALLOWED');
    t.is(code(await h.call(tech, 'balance', { accountId: 'acc_0123456789abcdef' })), 'ROLE_NOT_ALLOWED');
    t.is(code(await h.call(tech, 'deposit.open', { accountId: 'acc_0123456789abcdef' })), 'ROLE_NOT_ALLOWED');
    t.is(code(await h.call(tech, 'activity', {})), 'ROLE_NOT_ALLOWED');
    const audit = await h.auditLog();
    t.like(audit.find((e) => e.action === 'technician.add'), { outcome: 'ok', actor: 'operator' });
    t.like(audit.find((e) => e.action === 'signin.card'), { outcome: 'ok' });
    t.true(audit.some((e) => e.action === 'withdraw.authorize' && e.outcome === 'failed' && e.reason === 'ROLE_NOT_ALLOWED'));
  }));

test('a customer may not open a replenishment, and no one may without signing in', (t) =>
  withHarness(async (h) => {
    const { connection } = await customer(h, 'alice');
    t.is(code(await h.call(connection, 'replenish.open', {})), 'ROLE_NOT_ALLOWED');
    const stranger = await h.connect('kiosk-01');
    t.is(code(await h.call(stranger, 'replenish.open', {})), 'NOT_SIGNED_IN');
    // The sessionless steps act only on a replenishment this kiosk opened.
    t.is(code(await h.call(stranger, 'replenish.unload', { replenishmentId: 'rpl_0123456789abcdef01234567', container: 'cassettes', notes: [] })), 'UNKNOWN_REPLENISHMENT');
    t.like(await checkLedger(h.services.db), { ok: true, totalBalanceCents: 0 });
  }));

test('a replenishment with a counted difference posts it to over/short and raises the unbalanced alert until an operator resolves it; the next one balances exactly', (t) =>
  withHarness(async (h) => {
    const tech = await technician(h);
    await openingLoad(h, tech);
    t.is(await balanceOf(h, cashAccountId('kiosk-01')), -450_000, 'the ledger says the cassettes hold the $4,500 loaded');
    t.is(await balanceOf(h, vaultAccountId('main')), 450_000);
    await h.services.fleet!.checkNow();
    t.deepEqual(alertKinds(h), []);

    // Customers: a $265 deposit into the cashbox, a $100 withdrawal from the cassettes.
    const { connection, accountId } = await customer(h, 'bob');
    await h.deposit(connection, accountId, 26_500);
    const { authorizationId } = await h.ok(connection, 'withdraw.authorize', { accountId, amountCents: 10_000 });
    await h.ok(connection, 'withdraw.complete', { authorizationId, dispensedCents: 10_000 });

    // The technician counts one $20 note fewer than the ledger's $4,400, and the cashbox exactly.
    const { replenishmentId } = await h.ok(tech, 'replenish.open', {});
    const cassettes = await h.ok(tech, 'replenish.unload', { replenishmentId, container: 'cassettes', notes: notes([2_000, 94], [5_000, 50]) });
    t.like(cassettes, { container: 'cassettes', countedCents: 438_000, ledgerCents: 440_000, differenceCents: -2_000 });
    t.is(cassettes.postingIds.length, 2, 'the counted notes to the vault, the shortage from over/short');
    const cashbox = await h.ok(tech, 'replenish.unload', { replenishmentId, container: 'cashbox', notes: notes([100, 0], [500, 1], [1_000, 1], [5_000, 1], [10_000, 2]) });
    t.like(cashbox, { container: 'cashbox', countedCents: 26_500, ledgerCents: 26_500, differenceCents: 0 });

    // The ledger: both containers empty, the vault holding what was counted, over/short the shortage.
    t.is(await balanceOf(h, cashAccountId('kiosk-01')), 0);
    t.is(await balanceOf(h, cashboxAccountId('kiosk-01')), 0);
    t.is(await balanceOf(h, vaultAccountId('main')), 450_000 - 438_000 - 26_500);
    t.is(await balanceOf(h, overShortAccountId('main')), -2_000);
    const shortage = (await legs(h, overShortAccountId('main'))).map((l) => ({ kind: l.kind, amountCents: l.amountCents, counterpart: l.counterpartAccountId, deviceId: l.deviceId }));
    t.deepEqual(shortage, [{ kind: 'over-short', amountCents: -2_000, counterpart: cashAccountId('kiosk-01'), deviceId: 'kiosk-01' }]);
    t.deepEqual(
      (await legs(h, vaultAccountId('main'))).map((l) => [l.kind, l.amountCents]),
      [['cash-load', 450_000], ['cash-unload', -438_000], ['cash-unload', -26_500]],
    );
    t.like(await checkLedger(h.services.db), { ok: true, totalBalanceCents: 0 });

    // The balancing report and the alert, with its audit record.
    const report = await readLatestBalancing(h.services.db, 'kiosk-01');
    t.like(report, { unbalanced: true, containers: [{ container: 'cassettes', countedCents: 438_000, ledgerCents: 440_000, differenceCents: -2_000 }, { container: 'cashbox', differenceCents: 0 }] });
    await h.services.fleet!.checkNow();
    t.deepEqual(alertKinds(h), ['unbalanced']);
    t.regex(h.services.fleet!.alerts.of('kiosk-01')[0]!.detail, /cassettes -2000 cents/);
    t.like((await h.auditLog()).find((e) => e.action === 'alert.raise'), { deviceId: 'kiosk-01', detail: { kind: 'unbalanced' } });
    const detail = await h.services.fleet!.detail('kiosk-01');
    t.like(detail.lastBalancing, { unbalanced: true });
    t.true(detail.recentTransactions.some((x) => x.kind === 'over-short'));

    // New cassettes, then close: the receipt's figures.
    const loaded = await h.ok(tech, 'replenish.load', { replenishmentId, notes: notes([2_000, 200], [5_000, 100]) });
    t.like(loaded, { loadedCents: 900_000, ledgerCents: 900_000 });
    const closed = await h.ok(tech, 'replenish.close', { replenishmentId });
    t.like(closed, { balanced: false, loadedCents: 900_000 });
    t.is(closed.unloaded.length, 2);

    // The next replenishment counts exactly what the ledger says: balanced, but the earlier difference
    // still waits for an operator.
    h.clock.nowMs += 60_000;
    const second = await h.ok(tech, 'replenish.open', {});
    t.like(await h.ok(tech, 'replenish.unload', { replenishmentId: second.replenishmentId, container: 'cassettes', notes: notes([2_000, 200], [5_000, 100]) }), { differenceCents: 0, ledgerCents: 900_000 });
    t.like(await h.ok(tech, 'replenish.unload', { replenishmentId: second.replenishmentId, container: 'cashbox', notes: [] }), { differenceCents: 0, ledgerCents: 0 });
    t.like(await h.ok(tech, 'replenish.close', { replenishmentId: second.replenishmentId }), { balanced: true, loadedCents: 0 });
    t.like(await readLatestBalancing(h.services.db, 'kiosk-01'), { unbalanced: false });
    await h.services.fleet!.checkNow();
    t.deepEqual(alertKinds(h), ['unbalanced'], 'a balanced count does not explain an earlier difference');

    // The operator resolves it (audited), and the alert clears (audited).
    const ctx = { services: h.services, registry: undefined as unknown as DeviceRegistry };
    await t.throwsAsync(runAdminCommand(ctx, 'fleet.resolve', { deviceId: 'kiosk-01', resolution: '' }), { message: /resolution/ });
    const resolved = (await runAdminCommand(ctx, 'fleet.resolve', { deviceId: 'kiosk-01', resolution: 'a $20 note found in the reject bin' })) as { resolved: unknown[] };
    t.is(resolved.resolved.length, 1);
    await h.services.fleet!.checkNow();
    t.deepEqual(alertKinds(h), []);
    t.deepEqual(await readUnresolvedBalancings(h.services.db, 'kiosk-01'), []);
    await t.throwsAsync(runAdminCommand(ctx, 'fleet.resolve', { deviceId: 'kiosk-01', resolution: 'again' }), { message: /no balancing difference/ });
    const audit = await h.auditLog();
    t.like(audit.find((e) => e.action === 'fleet.resolve' && e.outcome === 'ok'), { actor: 'operator', amountCents: 2_000, detail: { deviceId: 'kiosk-01', reports: 1, differenceCents: -2_000 } });
    t.like(audit.find((e) => e.action === 'alert.clear'), { deviceId: 'kiosk-01', detail: { kind: 'unbalanced' } });
    t.true(audit.some((e) => e.action === 'replenish.unload' && e.outcome === 'ok' && e.detail?.differenceCents === -2_000));
    t.is(await balanceOf(h, overShortAccountId('main')), -2_000, 'resolving changes no posting');
    t.like(await checkLedger(h.services.db), { ok: true, totalBalanceCents: 0 });
  }));

test('bad counts are refused and change nothing: negative, unknown notes, listed twice, a second different count, a load before the unload', (t) =>
  withHarness(async (h) => {
    const tech = await technician(h);
    const { replenishmentId } = await h.ok(tech, 'replenish.open', {});
    const unloadCassettes = (list: unknown) => h.call(tech, 'replenish.unload', { replenishmentId, container: 'cassettes', notes: list });
    t.is(code(await unloadCassettes([{ denominationCents: 2_000, count: -1 }])), 'BAD_BODY');
    t.is(code(await unloadCassettes([{ denominationCents: 2_000, count: 1.5 }])), 'BAD_BODY');
    t.is(code(await unloadCassettes([{ denominationCents: 1_000, count: 3 }])), 'BAD_NOTES', 'the cassettes hold no $10 notes');
    t.is(code(await unloadCassettes(notes([2_000, 1], [2_000, 2]))), 'BAD_NOTES');
    t.is(code(await h.call(tech, 'replenish.unload', { replenishmentId, container: 'vault', notes: [] })), 'BAD_BODY');
    t.is(code(await h.call(tech, 'replenish.load', { replenishmentId, notes: notes([2_000, 10]) })), 'REPLENISHMENT_ORDER');
    t.deepEqual(await legs(h, vaultAccountId('main')), [], 'nothing was posted');

    // A retry of the same count is the first answer, posted once; another count is refused.
    const requestId = 'aa'.repeat(16);
    const first = await h.call(tech, 'replenish.unload', { replenishmentId, container: 'cassettes', notes: notes([2_000, 3]) }, { requestId });
    const again = await h.call(tech, 'replenish.unload', { replenishmentId, container: 'cassettes', notes: notes([2_000, 3]) }, { requestId });
    t.deepEqual(again, first);
    t.like(await h.call(tech, 'replenish.unload', { replenishmentId, container: 'cassettes', notes: notes([2_000, 3], [5_000, 0]) }), { countedCents: 6_000 }, 'the same count in another request');
    t.is(code(await unloadCassettes(notes([2_000, 4]))), 'REPLENISHMENT_STEP_DONE');
    t.is((await legs(h, vaultAccountId('main'))).length, 1);

    // Another kiosk cannot touch this kiosk's replenishment.
    const other = await h.connect('kiosk-02');
    t.is(code(await h.call(other, 'replenish.close', { replenishmentId })), 'UNKNOWN_REPLENISHMENT');
    t.like(await h.ok(tech, 'replenish.close', { replenishmentId }), { balanced: false });
    t.is(code(await unloadCassettes(notes([2_000, 3]))), 'ok', 'a repeat of a done step is answered after the close too');
    t.is(code(await h.call(tech, 'replenish.unload', { replenishmentId, container: 'cashbox', notes: [] })), 'UNKNOWN_REPLENISHMENT', 'no new step after the close');
    t.like(await checkLedger(h.services.db), { ok: true, totalBalanceCents: 0 });
  }));

test('a replenishment open at a kiosk is resumed, not duplicated, when the technician signs in again', (t) =>
  withHarness(async (h) => {
    const tech = await technician(h);
    const opened = await h.ok(tech, 'replenish.open', {});
    await h.ok(tech, 'replenish.unload', { replenishmentId: opened.replenishmentId, container: 'cashbox', notes: [] });
    const again = await technician(h, 'tech.bruno');
    const resumed = await h.ok(again, 'replenish.open', {});
    t.is(resumed.replenishmentId, opened.replenishmentId);
    t.deepEqual(resumed.unloaded.map((u) => u.container), ['cashbox']);
    t.deepEqual(resumed.cassetteDenominationsCents, [2_000, 5_000]);
    t.deepEqual(resumed.cashboxDenominationsCents, [100, 500, 1_000, 2_000, 5_000, 10_000]);
  }));
