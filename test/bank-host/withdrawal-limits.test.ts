// What a withdrawal may be: limits belong to the customer (and also to each card), never to one sign-in
// method; the amount must be payable in the notes the kiosk reported it holds; and a kiosk's report of a
// dispense for a hold an operator already settled is kept as an exception, not a log line.
import test from 'ava';
import { ProtocolError } from '../../protocol/errors.js';
import { runAdminCommand } from '../../bank-host/admin/commands.js';
import { issueCard } from '../../bank-host/customers/admin.js';
import { checkLedger } from '../../bank-host/ledger/check.js';
import { resolveHold } from '../../bank-host/ledger/operator.js';
import { type Harness, type HarnessOptions, createHarness } from '../helpers/dispatcher-harness.js';
import { testKioskStatus } from '../helpers/kiosk-cash.js';

const PASSWORD = 'correct horse battery';

async function withHarness(run: (h: Harness) => Promise<void>, options?: HarnessOptions): Promise<void> {
  const h = await createHarness(options);
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

const code = (answer: unknown) => (answer instanceof ProtocolError ? answer.code : 'ok');

/** A customer with $5,000 and a card with its PIN; `cardSession()` signs in with the card on a new connection. */
async function customerWithCard(h: Harness, username: string) {
  const connection = await h.connect();
  const info = await h.ok(connection, 'register', { username, password: PASSWORD });
  const accountId = info.accounts[0]!.accountId;
  await h.deposit(connection, accountId, 500_000);
  await h.ok(connection, 'signout', {});
  const card = await issueCard(h.services, username);
  return {
    accountId,
    async passwordSession() {
      const c = await h.connect();
      await h.ok(c, 'signin.password', { username, password: PASSWORD });
      return c;
    },
    async cardSession(pan = card.pan, pin = card.pin) {
      const c = await h.connect();
      await h.ok(c, 'signin.card', { pan, pinBlock: h.pinBlock('kiosk-01', pan, pin) });
      return c;
    },
  };
}

test('the daily limit is the customer’s: a password session and two cards share it', (t) =>
  withHarness(async (h) => {
    const alice = await customerWithCard(h, 'alice');
    const second = await issueCard(h.services, 'alice');
    const byPassword = await alice.passwordSession();
    t.is(code(await h.call(byPassword, 'withdraw.authorize', { accountId: alice.accountId, amountCents: 40_000 })), 'ok');
    const byCard = await alice.cardSession();
    t.is((await h.ok(byCard, 'balance', { accountId: alice.accountId })).balanceCents, 500_000);
    t.is(code(await h.call(byCard, 'withdraw.authorize', { accountId: alice.accountId, amountCents: 40_000 })), 'ok');
    const bySecondCard = await alice.cardSession(second.pan, second.pin);
    // $800 used of $1,000 today, however she signed in.
    t.is(code(await h.call(bySecondCard, 'withdraw.authorize', { accountId: alice.accountId, amountCents: 40_000 })), 'DAILY_LIMIT_EXCEEDED');
    t.is(code(await h.call(bySecondCard, 'withdraw.authorize', { accountId: alice.accountId, amountCents: 20_000 })), 'ok');
    t.is(code(await h.call(byPassword, 'withdraw.authorize', { accountId: alice.accountId, amountCents: 2_000 })), 'DAILY_LIMIT_EXCEEDED');
    // What a sign-in says is left is the customer's figure.
    const fresh = await h.connect();
    t.is((await h.ok(fresh, 'signin.password', { username: 'alice', password: PASSWORD })).dailyWithdrawalRemainingCents, 0);
    t.like(await checkLedger(h.services.db), { ok: true });
  }, { config: { dailyWithdrawalLimitCents: 100_000, cardDailyWithdrawalLimitCents: 100_000, maxWithdrawalCents: 100_000 } }));

test('each card also has its own daily limit, below the customer’s', (t) =>
  withHarness(async (h) => {
    const bob = await customerWithCard(h, 'bob');
    const byCard = await bob.cardSession();
    t.is(code(await h.call(byCard, 'withdraw.authorize', { accountId: bob.accountId, amountCents: 20_000 })), 'ok');
    t.is(code(await h.call(byCard, 'withdraw.authorize', { accountId: bob.accountId, amountCents: 20_000 })), 'DAILY_LIMIT_EXCEEDED');
    // The customer's own limit still has room: by password (no card) it goes through.
    const byPassword = await bob.passwordSession();
    t.is(code(await h.call(byPassword, 'withdraw.authorize', { accountId: bob.accountId, amountCents: 40_000 })), 'ok');
  }, { config: { dailyWithdrawalLimitCents: 100_000, cardDailyWithdrawalLimitCents: 30_000 } }));

test('an amount is refused unless the notes the kiosk reported can pay it, whatever its size', (t) =>
  withHarness(async (h) => {
    const connection = await h.connect();
    const info = await h.ok(connection, 'register', { username: 'carol', password: PASSWORD });
    const accountId = info.accounts[0]!.accountId;
    await h.deposit(connection, accountId, 100_000);
    // $20 and $50 cassettes: $70 and $90 are payable (the host checks exactly, as the kiosk plans), $30 is not.
    t.is(code(await h.call(connection, 'withdraw.authorize', { accountId, amountCents: 7_000 })), 'ok');
    t.is(code(await h.call(connection, 'withdraw.authorize', { accountId, amountCents: 9_000 })), 'ok');
    const refused = await h.call(connection, 'withdraw.authorize', { accountId, amountCents: 3_000 });
    t.is(code(refused), 'NOT_DISPENSABLE');
    t.regex((refused as ProtocolError).message, /2000, 5000 cents/);
    // The kiosk now reports only $50 notes: $70 no longer is.
    await h.ok(connection, 'kiosk.status', testKioskStatus({ cassettes: [{ denominationCents: 5_000, count: 100 }] }));
    t.is(code(await h.call(connection, 'withdraw.authorize', { accountId, amountCents: 7_000 })), 'NOT_DISPENSABLE');
    t.is(code(await h.call(connection, 'withdraw.authorize', { accountId, amountCents: 10_000 })), 'ok');
    // A kiosk that never reported its notes pays nothing.
    const silent = await h.connect('kiosk-silent', { reportStatus: false });
    await h.ok(silent, 'signin.password', { username: 'carol', password: PASSWORD });
    t.is(code(await h.call(silent, 'withdraw.authorize', { accountId, amountCents: 2_000 })), 'NOT_DISPENSABLE');
    // And amounts past the per-withdrawal maximum are refused with it named.
    const tooMuch = await h.call(connection, 'withdraw.authorize', { accountId, amountCents: 200_000 });
    t.is(code(tooMuch), 'LIMIT_EXCEEDED');
    t.regex((tooMuch as ProtocolError).message, /at most 100000 cents/);
    // $9,999,999 is beyond what any message may carry.
    t.is(code(await h.call(connection, 'withdraw.authorize', { accountId, amountCents: 999_999_900 })), 'BAD_AMOUNT');
  }));

test('an older status report arriving late never replaces a newer one', (t) =>
  withHarness(async (h) => {
    const connection = await h.connect();
    const info = await h.ok(connection, 'register', { username: 'dora', password: PASSWORD });
    await h.deposit(connection, info.accounts[0]!.accountId, 10_000);
    await h.ok(connection, 'kiosk.status', testKioskStatus({ cassettes: [{ denominationCents: 5_000, count: 10 }] }));
    // A retry of an older report (its timestamp before the last one's).
    h.clock.nowMs -= 1_000;
    await h.ok(connection, 'kiosk.status', testKioskStatus());
    h.clock.nowMs += 1_000;
    t.is(code(await h.call(connection, 'withdraw.authorize', { accountId: info.accounts[0]!.accountId, amountCents: 2_000 })), 'NOT_DISPENSABLE');
  }));

test('a kiosk reporting a dispense for a hold an operator already reversed is recorded as an exception for operators', (t) =>
  withHarness(async (h) => {
    const connection = await h.connect();
    const info = await h.ok(connection, 'register', { username: 'eve', password: PASSWORD });
    const accountId = info.accounts[0]!.accountId;
    await h.deposit(connection, accountId, 20_000);
    const { authorizationId } = await h.ok(connection, 'withdraw.authorize', { accountId, amountCents: 6_000 });
    // The kiosk went quiet; after the attention period an operator decided nothing was dispensed.
    await resolveHold(h.services, authorizationId, 'reverse');
    // The kiosk comes back: its journal says the notes left.
    const afterReboot = await h.connect();
    const answer = await h.call(afterReboot, 'withdraw.complete', { authorizationId, dispensedCents: 6_000 });
    t.is(code(answer), 'SETTLED_BY_OPERATOR');
    const ctx = { services: h.services, registry: undefined as never };
    const { exceptions } = (await runAdminCommand(ctx, 'exceptions.list', {})) as { exceptions: { exceptionId: string; kind: string; amountCents: number; authorizationId: string; status: string }[] };
    t.deepEqual(exceptions.map((e) => [e.kind, e.amountCents, e.authorizationId, e.status]), [['dispensed-after-operator-settlement', 6_000, authorizationId, 'open']]);
    // The same report again (a retry with a new id) does not record it twice.
    t.is(code(await h.call(afterReboot, 'withdraw.complete', { authorizationId, dispensedCents: 6_000 })), 'SETTLED_BY_OPERATOR');
    t.is(((await runAdminCommand(ctx, 'exceptions.list', {})) as { exceptions: unknown[] }).exceptions.length, 1);
    const record = (await h.auditLog()).find((e) => e.action === 'withdraw.complete' && e.reason === 'SETTLED_BY_OPERATOR');
    t.like(record?.detail, { kioskDispensedCents: 6_000, operatorPostedCents: 0 });
    // The money did not move: the operator's reversal stands until someone resolves the exception.
    t.is((await h.ok(connection, 'balance', { accountId })).balanceCents, 20_000);
    const resolved = (await runAdminCommand(ctx, 'exceptions.resolve', { exceptionId: exceptions[0]!.exceptionId, resolution: 'counted the kiosk: $60 short; customer charged by branch' })) as { exception: { status: string } };
    t.is(resolved.exception.status, 'resolved');
    t.deepEqual(((await runAdminCommand(ctx, 'exceptions.list', {})) as { exceptions: unknown[] }).exceptions, []);
    t.is(((await runAdminCommand(ctx, 'exceptions.list', { all: true })) as { exceptions: unknown[] }).exceptions.length, 1);
    // A settlement that agrees with the operator's is an ordinary repeat, not an exception.
    t.is(code(await h.call(afterReboot, 'withdraw.reverse', { authorizationId })), 'ok');
    t.like(await checkLedger(h.services.db), { ok: true });
  }));

test('completing with nothing dispensed and reversing are the same settlement: either repeats the other', (t) =>
  withHarness(async (h) => {
    const connection = await h.connect();
    const info = await h.ok(connection, 'register', { username: 'fay', password: PASSWORD });
    const accountId = info.accounts[0]!.accountId;
    await h.deposit(connection, accountId, 20_000);
    const a = await h.ok(connection, 'withdraw.authorize', { accountId, amountCents: 4_000 });
    t.like(await h.ok(connection, 'withdraw.reverse', { authorizationId: a.authorizationId }), { releasedCents: 4_000 });
    t.like(await h.ok(connection, 'withdraw.complete', { authorizationId: a.authorizationId, dispensedCents: 0 }), { postedCents: 0, releasedCents: 4_000 });
    const b = await h.ok(connection, 'withdraw.authorize', { accountId, amountCents: 4_000 });
    t.like(await h.ok(connection, 'withdraw.complete', { authorizationId: b.authorizationId, dispensedCents: 0 }), { postedCents: 0, releasedCents: 4_000 });
    t.like(await h.ok(connection, 'withdraw.reverse', { authorizationId: b.authorizationId }), { releasedCents: 4_000 });
    // Any cash out is a different settlement.
    t.is(code(await h.call(connection, 'withdraw.complete', { authorizationId: b.authorizationId, dispensedCents: 2_000 })), 'AUTHORIZATION_SETTLED');
    t.is((await h.ok(connection, 'balance', { accountId })).availableCents, 20_000);
    t.like(await checkLedger(h.services.db), { ok: true });
  }));
