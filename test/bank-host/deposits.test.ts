// Deposits credit exactly the notes a kiosk's acceptor stacked, from that kiosk's cashbox account, and the
// host's funds-availability policy decides how much of it the customer may spend at once. Every test runs
// on the real dispatcher (test/helpers/dispatcher-harness.ts).
import test from 'ava';
import { ProtocolError } from '../../protocol/errors.js';
import { checkLedger } from '../../bank-host/ledger/check.js';
import { sweepDueDepositHolds } from '../../bank-host/ledger/deposit-operator.js';
import { readAccount } from '../../bank-host/ledger/accounts.js';
import { cashboxAccountId } from '../../bank-host/ledger/records.js';
import { runAdminCommand } from '../../bank-host/admin/commands.js';
import type { ConnectionState } from '../../bank-host/operations/context.js';
import { type Harness, type HarnessOptions, createHarness } from '../helpers/dispatcher-harness.js';
import { notesFor } from '../helpers/kiosk-cash.js';

const PASSWORD = 'correct horse battery';
const DAY_MS = 24 * 3_600_000;

async function withHarness(run: (h: Harness) => Promise<void>, options?: HarnessOptions): Promise<void> {
  const h = await createHarness(options);
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

async function customer(h: Harness, username: string, deviceId = 'kiosk-01'): Promise<{ connection: ConnectionState; accountId: string }> {
  const connection = await h.connect(deviceId);
  const info = await h.ok(connection, 'register', { username, password: PASSWORD });
  return { connection, accountId: info.accounts[0]!.accountId };
}

const code = (answer: unknown) => (answer instanceof ProtocolError ? answer.code : 'ok');

test('a deposit credits exactly the sum of its notes, moved from the kiosk’s cashbox account', (t) =>
  withHarness(async (h) => {
    const { connection, accountId } = await customer(h, 'alice');
    const opened = await h.ok(connection, 'deposit.open', { accountId });
    t.deepEqual(opened.denominationsCents, [100, 500, 1_000, 2_000, 5_000, 10_000]);
    const committed = await h.ok(connection, 'deposit.commit', {
      depositId: opened.depositId,
      notes: [
        { denominationCents: 2_000, count: 3 },
        { denominationCents: 500, count: 1 },
      ],
    });
    t.is(committed.creditedCents, 6_500);
    t.is(committed.account.balanceCents, 6_500);
    t.is((await readAccount(h.services.db, cashboxAccountId('kiosk-01')))?.balanceCents, -6_500);
    t.like(await readAccount(h.services.db, cashboxAccountId('kiosk-01')), { kind: 'cash', container: 'cashbox', deviceId: 'kiosk-01' });
    t.like(await checkLedger(h.services.db), { ok: true, totalBalanceCents: 0 });
    const record = (await h.auditLog()).find((e) => e.action === 'deposit.commit');
    t.like(record, { outcome: 'ok', amountCents: 6_500 });
  }));

test('there is no way to deposit an amount: a bare amount, notes the kiosk does not take, or a bad list is refused and credits nothing', (t) =>
  withHarness(async (h) => {
    const { connection, accountId } = await customer(h, 'bob');
    t.is(code(await h.call(connection, 'deposit' as never, { accountId, amountCents: 20_000 })), 'UNKNOWN_TYPE');
    const { depositId } = await h.ok(connection, 'deposit.open', { accountId });
    t.is(code(await h.call(connection, 'deposit.commit', { depositId, amountCents: 20_000 })), 'BAD_BODY');
    t.is(code(await h.call(connection, 'deposit.commit', { depositId, notes: [{ denominationCents: 2_500, count: 1 }] })), 'BAD_NOTES');
    t.is(code(await h.call(connection, 'deposit.commit', { depositId, notes: [{ denominationCents: 2_000, count: 1 }, { denominationCents: 2_000, count: 1 }] })), 'BAD_NOTES');
    t.is(code(await h.call(connection, 'deposit.commit', { depositId, notes: [{ denominationCents: 2_000, count: 0 }] })), 'BAD_NOTES');
    t.is(code(await h.call(connection, 'deposit.commit', { depositId, notes: [{ denominationCents: 100, count: 400 }, { denominationCents: 500, count: 101 }] })), 'BAD_NOTES');
    t.is(code(await h.call(connection, 'deposit.commit', { depositId, notes: [{ denominationCents: 2_000, count: -1 }] })), 'BAD_BODY');
    t.is((await h.ok(connection, 'balance', { accountId })).balanceCents, 0);
    // The deposit is still open: the right notes are credited.
    t.is((await h.ok(connection, 'deposit.commit', { depositId, notes: notesFor(4_000) })).creditedCents, 4_000);
  }));

test('a commit is credited once: the same notes again get the same answer, other notes are refused, another kiosk cannot commit it', (t) =>
  withHarness(async (h) => {
    const { connection, accountId } = await customer(h, 'carol');
    const { depositId } = await h.ok(connection, 'deposit.open', { accountId });
    const first = await h.ok(connection, 'deposit.commit', { depositId, notes: notesFor(5_000) });
    // A new request id (a kiosk that lost the answer and restarted without its journal's id would not do
    // this, but the host must hold either way).
    const again = await h.ok(connection, 'deposit.commit', { depositId, notes: notesFor(5_000) });
    t.is(again.creditedCents, first.creditedCents);
    t.is(again.postingId, first.postingId);
    t.is(code(await h.call(connection, 'deposit.commit', { depositId, notes: notesFor(10_000) })), 'DEPOSIT_SETTLED');
    const other = await h.connect('kiosk-02');
    t.is(code(await h.call(other, 'deposit.commit', { depositId, notes: notesFor(5_000) })), 'UNKNOWN_DEPOSIT');
    t.is(code(await h.call(other, 'deposit.commit', { depositId: 'dep_000000000000000000000000', notes: notesFor(5_000) })), 'UNKNOWN_DEPOSIT');
    t.is((await h.ok(connection, 'balance', { accountId })).balanceCents, 5_000);
    t.like(await checkLedger(h.services.db), { ok: true });
  }));

test('a commit needs no session: a kiosk that rebooted after stacking notes still credits them', (t) =>
  withHarness(async (h) => {
    const { connection, accountId } = await customer(h, 'dave');
    const { depositId } = await h.ok(connection, 'deposit.open', { accountId });
    await h.ok(connection, 'signout', {});
    const rebooted = await h.connect();
    t.is((await h.ok(rebooted, 'deposit.commit', { depositId, notes: notesFor(7_000) })).creditedCents, 7_000);
    // Opening one needs the customer.
    t.is(code(await h.call(rebooted, 'deposit.open', { accountId })), 'NOT_SIGNED_IN');
  }));

test('no notes closes a deposit without a credit; a later commit of notes is refused', (t) =>
  withHarness(async (h) => {
    const { connection, accountId } = await customer(h, 'erin');
    const { depositId } = await h.ok(connection, 'deposit.open', { accountId });
    const closed = await h.ok(connection, 'deposit.commit', { depositId, notes: [] });
    t.like(closed, { creditedCents: 0, availableNowCents: 0, heldCents: 0 });
    t.is(closed.postingId, undefined);
    t.is(code(await h.call(connection, 'deposit.commit', { depositId, notes: notesFor(2_000) })), 'DEPOSIT_SETTLED');
    t.is((await h.ok(connection, 'balance', { accountId })).balanceCents, 0);
  }));

test('a kiosk that has reported no note acceptor takes no deposits', (t) =>
  withHarness(async (h) => {
    const connection = await h.connect('kiosk-nodeposit', { reportStatus: false });
    const info = await h.ok(connection, 'register', { username: 'frank', password: PASSWORD });
    t.is(code(await h.call(connection, 'deposit.open', { accountId: info.accounts[0]!.accountId })), 'DEPOSITS_UNAVAILABLE');
  }));

const POLICY = { depositImmediateCentsPerDay: 20_000, depositHoldMs: 2 * DAY_MS, depositDailyCapCents: 100_000 };

test('funds availability: the first $200 a day is available at once, the rest after the hold period', (t) =>
  withHarness(async (h) => {
    const { connection, accountId } = await customer(h, 'gina');
    const committed = await h.deposit(connection, accountId, 50_000);
    t.like(committed, { creditedCents: 50_000, availableNowCents: 20_000, heldCents: 30_000, releaseAtMs: h.clock.nowMs + 2 * DAY_MS });
    t.like(committed.account, { balanceCents: 50_000, availableCents: 20_000 });
    // A minute later the day's allowance is spent: a second deposit is all held, a minute longer.
    h.clock.nowMs += 60_000;
    t.like(await h.deposit(connection, accountId, 10_000), { availableNowCents: 0, heldCents: 10_000 });
    t.is(code(await h.call(connection, 'withdraw.authorize', { accountId, amountCents: 40_000 })), 'INSUFFICIENT_FUNDS');
    t.is(code(await h.call(connection, 'withdraw.authorize', { accountId, amountCents: 20_000 })), 'ok');
    t.like(await checkLedger(h.services.db), { ok: true });

    // Two days after the first deposit its hold's period has ended (the second's has not): a withdrawal
    // spends it at once (released in its own batch, before the sweep has run), and the balance shows it.
    h.clock.nowMs += 2 * DAY_MS - 60_000;
    const later = await h.connect();
    await h.ok(later, 'signin.password', { username: 'gina', password: PASSWORD });
    t.like(await h.ok(later, 'balance', { accountId }), { balanceCents: 60_000, availableCents: 30_000 });
    t.is(code(await h.call(later, 'withdraw.authorize', { accountId, amountCents: 30_000 })), 'ok');
    t.like(await checkLedger(h.services.db), { ok: true });
  }, { config: POLICY }));

test('the host’s sweep releases holds whose period has ended, and an operator may release one early', (t) =>
  withHarness(async (h) => {
    const { connection, accountId } = await customer(h, 'hugo');
    await h.deposit(connection, accountId, 30_000); // 200 now, 100 held
    const ctx = { services: h.services, registry: undefined as never };
    const listed = (await runAdminCommand(ctx, 'deposits.holds', {})) as { holds: { holdId: string; amountCents: number }[] };
    t.is(listed.holds.length, 1);
    t.is(listed.holds[0]!.amountCents, 10_000);
    t.is(await sweepDueDepositHolds(h.services), 0, 'nothing is due yet');
    const released = (await runAdminCommand(ctx, 'deposits.release', { holdId: listed.holds[0]!.holdId })) as { hold: { status: string; releasedBy: string } };
    t.like(released.hold, { status: 'released', releasedBy: 'operator' });
    t.is((await h.ok(connection, 'balance', { accountId })).availableCents, 30_000);
    await t.throwsAsync(runAdminCommand(ctx, 'deposits.release', { holdId: listed.holds[0]!.holdId }), { message: /already released/ });

    await h.deposit(connection, accountId, 5_000); // all held: today's allowance is spent
    h.clock.nowMs += 2 * DAY_MS + 1;
    t.is(await sweepDueDepositHolds(h.services), 1);
    const later = await h.connect();
    await h.ok(later, 'signin.password', { username: 'hugo', password: PASSWORD });
    t.is((await h.ok(later, 'balance', { accountId })).availableCents, 35_000);
    t.deepEqual(((await runAdminCommand(ctx, 'deposits.holds', {})) as { holds: unknown[] }).holds, []);
    t.like(await checkLedger(h.services.db), { ok: true });
    const releases = (await h.auditLog()).filter((e) => e.action === 'deposit.hold.release');
    t.deepEqual(
      releases.map((e) => [e.actor ?? 'host', e.outcome, e.amountCents]),
      [['operator', 'ok', 10_000], ['operator', 'failed', 10_000], ['host', 'ok', 5_000]],
    );
  }, { config: POLICY }));

test('a customer who registered at a kiosk and deposited can withdraw only what is available', (t) =>
  withHarness(async (h) => {
    const { connection, accountId } = await customer(h, 'ivan');
    await h.deposit(connection, accountId, 50_000);
    t.is(code(await h.call(connection, 'withdraw.authorize', { accountId, amountCents: 50_000 })), 'INSUFFICIENT_FUNDS');
    t.is(code(await h.call(connection, 'transfer', { fromAccountId: accountId, toAccountId: accountId, amountCents: 30_000 })), 'SAME_ACCOUNT');
    t.is(code(await h.call(connection, 'withdraw.authorize', { accountId, amountCents: 20_000 })), 'ok');
    t.is(code(await h.call(connection, 'withdraw.authorize', { accountId, amountCents: 2_000 })), 'INSUFFICIENT_FUNDS');
  }, { config: POLICY }));

test('the daily deposit cap stops new deposits; notes already stacked beyond it are credited and recorded as an exception', (t) =>
  withHarness(async (h) => {
    const { connection, accountId } = await customer(h, 'jane');
    const first = await h.ok(connection, 'deposit.open', { accountId });
    t.is(first.remainingTodayCents, 100_000);
    await h.ok(connection, 'deposit.commit', { depositId: first.depositId, notes: notesFor(90_000) });
    const second = await h.ok(connection, 'deposit.open', { accountId });
    t.is(second.remainingTodayCents, 10_000);
    // The kiosk should have returned the note that went over; the host credits what was stacked anyway.
    const over = await h.ok(connection, 'deposit.commit', { depositId: second.depositId, notes: notesFor(20_000) });
    t.is(over.creditedCents, 20_000);
    t.is(code(await h.call(connection, 'deposit.open', { accountId })), 'DEPOSIT_LIMIT_EXCEEDED');
    const exceptions = (await runAdminCommand({ services: h.services, registry: undefined as never }, 'exceptions.list', {})) as { exceptions: { kind: string; amountCents: number; depositId: string }[] };
    t.deepEqual(exceptions.exceptions.map((e) => [e.kind, e.amountCents, e.depositId]), [['deposit-over-cap', 10_000, second.depositId]]);
    // The next day the cap starts again.
    h.clock.nowMs += DAY_MS;
    const nextDay = await h.connect();
    await h.ok(nextDay, 'signin.password', { username: 'jane', password: PASSWORD });
    t.is((await h.ok(nextDay, 'deposit.open', { accountId })).remainingTodayCents, 100_000);
  }, { config: { ...POLICY, depositHoldMs: 0 } }));
