import test from 'ava';
import { cardIdOf } from '../../bank-host/customers/card-protection.js';
import { ProtocolError } from '../../protocol/errors.js';
import type { MessageType, SessionInfo } from '../../protocol/messages.js';
import { addCustomer, blockCard, issueCard, openAccount } from '../../bank-host/customers/admin.js';
import { SCRYPT_COST_PRODUCTION } from '../../bank-host/customers/passwords.js';
import { checkLedger } from '../../bank-host/ledger/check.js';
import type { ConnectionState } from '../../bank-host/operations/context.js';
import { TEST_SCRYPT_COST, type Harness, createHarness } from '../helpers/dispatcher-harness.js';

const PASSWORD = 'correct horse battery';
const DAY_MS = 24 * 3_600_000;

function isError(t: { true: (value: boolean, message?: string) => void }, answer: unknown, code: string): void {
  t.true(answer instanceof ProtocolError && answer.code === code, `expected ${code}, got ${answer instanceof ProtocolError ? answer.code : JSON.stringify(answer)}`);
}

async function withHarness(run: (h: Harness) => Promise<void>, options?: Parameters<typeof createHarness>[0]): Promise<void> {
  const h = await createHarness(options);
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

/** Registers `username` on a fresh connection and returns the signed-in connection and its account. */
async function registered(h: Harness, username: string, deviceId = 'kiosk-01'): Promise<{ connection: ConnectionState; info: SessionInfo; accountId: string }> {
  const connection = await h.connect(deviceId);
  const info = await h.ok(connection, 'register', { username, password: PASSWORD });
  return { connection, info, accountId: info.accounts[0]!.accountId };
}

async function withCard(h: Harness, username: string): Promise<{ pan: string; pin: string; accountId: string }> {
  const added = await addCustomer(h.services, username, PASSWORD, { scryptCost: TEST_SCRYPT_COST });
  const card = await issueCard(h.services, username);
  return { pan: card.pan, pin: card.pin, accountId: added.accountId };
}

const wrongPinFor = (pin: string): string => (pin === '9999' ? '9998' : '9999');

test('register creates a customer with one empty chequing account and signs in', (t) =>
  withHarness(async (h) => {
    const { connection, info } = await registered(h, 'alice');
    t.is(info.username, 'alice');
    t.is(info.accounts.length, 1);
    t.like(info.accounts[0], { kind: 'chequing', currency: 'CAD', balanceCents: 0, availableCents: 0 });
    t.is(info.dailyWithdrawalRemainingCents, h.services.config.dailyWithdrawalLimitCents);
    t.is(connection.session?.customerId, info.customerId);
    t.is(connection.session?.cardId, undefined);
  }));

test('at the production scrypt cost a customer registers and signs in again with the same password', (t) =>
  withHarness(async (h) => {
    const { info } = await registered(h, 'alice');
    const stored = await h.services.db.get<{ password: { log2N: number } }>(`cust:${info.customerId}`);
    t.is(stored?.password.log2N, 17);
    t.like(await h.ok(await h.connect(), 'signin.password', { username: 'alice', password: PASSWORD }), { customerId: info.customerId });
    t.like(await h.call(await h.connect(), 'signin.password', { username: 'alice', password: PASSWORD + '!' }), { code: 'BAD_CREDENTIALS' });
  }, { scryptCost: SCRYPT_COST_PRODUCTION }));

test('register is refused when disabled, when the name is taken, for a weak password, and when signed in', (t) =>
  withHarness(async (h) => {
    const { connection } = await registered(h, 'alice');
    isError(t, await h.call(await h.connect(), 'register', { username: 'alice', password: PASSWORD }), 'USERNAME_TAKEN');
    isError(t, await h.call(await h.connect(), 'register', { username: 'bob', password: 'short' }), 'WEAK_PASSWORD');
    isError(t, await h.call(await h.connect(), 'register', { username: 'bob', password: 'xxbobxxyy' }), 'WEAK_PASSWORD');
    isError(t, await h.call(connection, 'register', { username: 'carol', password: PASSWORD }), 'ALREADY_SIGNED_IN');
    await withHarness(async (closed) => {
      const other = await closed.connect();
      isError(t, await closed.call(other, 'register', { username: 'bob', password: PASSWORD }), 'REGISTRATION_DISABLED');
      t.is(other.session, undefined);
    }, { config: { registrationEnabled: false } });
  }));

test('two concurrent registrations of one name create one customer', (t) =>
  withHarness(async (h) => {
    const answers = await Promise.all([1, 2, 3].map(async () => h.call(await h.connect(), 'register', { username: 'alice', password: PASSWORD })));
    t.is(answers.filter((a) => !(a instanceof ProtocolError)).length, 1);
    t.is(answers.filter((a) => a instanceof ProtocolError && a.code === 'USERNAME_TAKEN').length, 2);
  }));

test('password sign-in accepts the right password and refuses a wrong one or an unknown name alike', (t) =>
  withHarness(async (h) => {
    await registered(h, 'alice');
    const connection = await h.connect();
    isError(t, await h.call(connection, 'signin.password', { username: 'alice', password: 'wrong password' }), 'BAD_CREDENTIALS');
    isError(t, await h.call(connection, 'signin.password', { username: 'nobody', password: PASSWORD }), 'BAD_CREDENTIALS');
    t.is(connection.session, undefined);
    const info = await h.ok(connection, 'signin.password', { username: 'alice', password: PASSWORD });
    t.is(connection.session?.customerId, info.customerId);
    isError(t, await h.call(connection, 'signin.password', { username: 'alice', password: PASSWORD }), 'ALREADY_SIGNED_IN');
  }));

test('five wrong passwords lock the username with a backoff that doubles, and a right one resets it', (t) =>
  withHarness(async (h) => {
    await registered(h, 'alice');
    const connection = await h.connect();
    const attempt = (password: string) => h.call(connection, 'signin.password', { username: 'alice', password });
    for (let i = 0; i < 4; i++) isError(t, await attempt('wrong password'), 'BAD_CREDENTIALS');
    isError(t, await attempt('wrong password'), 'LOCKED_OUT');
    // While locked even the right password is refused, and the refusal does not extend the lock.
    isError(t, await attempt(PASSWORD), 'LOCKED_OUT');
    t.like(await h.services.db.get('pwfail:alice'), { failures: 5, lockedUntilMs: h.clock.nowMs + 30_000 });
    h.clock.nowMs += 30_000;
    isError(t, await attempt('wrong password'), 'LOCKED_OUT');
    t.like(await h.services.db.get('pwfail:alice'), { failures: 6, lockedUntilMs: h.clock.nowMs + 60_000 });
    h.clock.nowMs += 60_000;
    await h.ok(connection, 'signin.password', { username: 'alice', password: PASSWORD });
    t.is(await h.services.db.get('pwfail:alice'), undefined);
    const failed = h.events.filter((e) => e.action === 'signin.password' && e.outcome === 'failed');
    t.true(failed.every((e) => e.reason === 'BAD_CREDENTIALS' || e.reason === 'LOCKED_OUT'));
  }));

test('card sign-in with the right PIN opens a session on the card and resets failed tries', (t) =>
  withHarness(async (h) => {
    const { pan, pin } = await withCard(h, 'alice');
    const connection = await h.connect();
    isError(t, await h.call(connection, 'signin.card', { pan, pinBlock: h.pinBlock('kiosk-01', pan, wrongPinFor(pin)) }), 'WRONG_PIN');
    const cardKey = `card:${cardIdOf(h.services.keys.master, pan)}`;
    t.like(await h.services.db.get(cardKey), { pinTriesFailed: 1 });
    const info = await h.ok(connection, 'signin.card', { pan, pinBlock: h.pinBlock('kiosk-01', pan, pin) });
    t.is(info.cardLast4, pan.slice(-4));
    t.like(connection.session, { cardId: cardIdOf(h.services.keys.master, pan), cardLast4: pan.slice(-4) });
    t.like(await h.services.db.get(cardKey), { pinTriesFailed: 0, status: 'active' });
  }));

test('three wrong PINs block the card (the second warns of the last try), and then even the right PIN is refused', (t) =>
  withHarness(async (h) => {
    const { pan, pin } = await withCard(h, 'alice');
    const connection = await h.connect();
    const attempt = (p: string) => h.call(connection, 'signin.card', { pan, pinBlock: h.pinBlock('kiosk-01', pan, p) });
    isError(t, await attempt(wrongPinFor(pin)), 'WRONG_PIN');
    isError(t, await attempt(wrongPinFor(pin)), 'WRONG_PIN_LAST_TRY');
    isError(t, await attempt(wrongPinFor(pin)), 'CARD_BLOCKED');
    isError(t, await attempt(pin), 'CARD_BLOCKED');
    t.like(await h.services.db.get(`card:${cardIdOf(h.services.keys.master, pan)}`), { status: 'blocked', blockedReason: 'pin-tries', pinTriesFailed: 3 });
    t.is(connection.session, undefined);
  }));

test('card sign-in refuses unknown and expired cards and PIN blocks for another key or card', (t) =>
  withHarness(async (h) => {
    const { pan, pin } = await withCard(h, 'alice');
    const other = await issueCard(h.services, 'alice');
    const connection = await h.connect();
    await h.connect('kiosk-02');
    isError(t, await h.call(connection, 'signin.card', { pan: '9990010000000000', pinBlock: h.pinBlock('kiosk-01', '9990010000000000', pin) }), 'CARD_UNKNOWN');
    isError(t, await h.call(connection, 'signin.card', { pan, pinBlock: h.pinBlock('kiosk-02', pan, pin) }), 'BAD_PIN_BLOCK');
    isError(t, await h.call(connection, 'signin.card', { pan, pinBlock: h.pinBlock('kiosk-01', other.pan, pin) }), 'BAD_PIN_BLOCK');
    // A bad block is not a PIN try: it proves nothing about the PIN.
    t.like(await h.services.db.get(`card:${cardIdOf(h.services.keys.master, pan)}`), { pinTriesFailed: 0 });
    h.clock.nowMs += 5 * 366 * DAY_MS;
    isError(t, await h.call(connection, 'signin.card', { pan, pinBlock: h.pinBlock('kiosk-01', pan, pin) }), 'CARD_EXPIRED');
  }));

test('balance answers for the session’s own account and UNKNOWN_ACCOUNT for anyone else’s', (t) =>
  withHarness(async (h) => {
    const alice = await registered(h, 'alice');
    const bob = await registered(h, 'bob');
    t.like(await h.ok(alice.connection, 'balance', { accountId: alice.accountId }), { accountId: alice.accountId, balanceCents: 0 });
    isError(t, await h.call(alice.connection, 'balance', { accountId: bob.accountId }), 'UNKNOWN_ACCOUNT');
    isError(t, await h.call(alice.connection, 'balance', { accountId: 'acc_doesnotexist' }), 'UNKNOWN_ACCOUNT');
    await h.deposit(alice.connection, alice.accountId, 100);
    // The kiosk's cash accounts exist (the deposit made its cashbox's) but are no customer's.
    isError(t, await h.call(alice.connection, 'balance', { accountId: 'cashbox-kiosk-01' }), 'UNKNOWN_ACCOUNT');
    isError(t, await h.call(alice.connection, 'balance', { accountId: 'cash-kiosk-01' }), 'UNKNOWN_ACCOUNT');
    isError(t, await h.call(await h.connect(), 'balance', { accountId: alice.accountId }), 'NOT_SIGNED_IN');
  }));

test('a deposit moves money from the kiosk’s cashbox account into the customer’s account', (t) =>
  withHarness(async (h) => {
    const { connection, accountId } = await registered(h, 'alice');
    const result = await h.deposit(connection, accountId, 12_300);
    t.like(result, { creditedCents: 12_300, availableNowCents: 12_300, heldCents: 0 });
    t.like(result.account, { balanceCents: 12_300, availableCents: 12_300 });
    t.like(await h.services.db.get('acct:cashbox-kiosk-01'), { kind: 'cash', deviceId: 'kiosk-01', container: 'cashbox', balanceCents: -12_300 });
    // The cassettes' account is the other side of withdrawals only.
    t.is(await h.services.db.get('acct:cash-kiosk-01'), undefined);
    const report = await checkLedger(h.services.db);
    t.true(report.ok, JSON.stringify(report.problems));
    t.is(report.totalBalanceCents, 0);
  }));

test('a deposit with bad notes, of another kiosk, or into another customer’s account changes no money', (t) =>
  withHarness(async (h) => {
    const alice = await registered(h, 'alice');
    const bob = await registered(h, 'bob');
    // There is no typed amount any more: a bare amount is not a message the host knows.
    isError(t, await h.call(alice.connection, 'deposit' as MessageType, { accountId: alice.accountId, amountCents: 100 }), 'UNKNOWN_TYPE');
    isError(t, await h.call(alice.connection, 'deposit.open', { accountId: bob.accountId }), 'UNKNOWN_ACCOUNT');
    isError(t, await h.call(alice.connection, 'deposit.open', {}), 'BAD_BODY');
    const { depositId } = await h.ok(alice.connection, 'deposit.open', { accountId: alice.accountId });
    const commit = (connection: ConnectionState, notes: unknown) => h.call(connection, 'deposit.commit', { depositId, notes });
    // Notes the acceptor does not take, a denomination listed twice, an empty count, more notes than a
    // deposit holds: refused by the host's count.
    isError(t, await commit(alice.connection, [{ denominationCents: 300, count: 1 }]), 'BAD_NOTES');
    isError(t, await commit(alice.connection, [{ denominationCents: 2_000, count: 1 }, { denominationCents: 2_000, count: 1 }]), 'BAD_NOTES');
    isError(t, await commit(alice.connection, [{ denominationCents: 2_000, count: 0 }]), 'BAD_NOTES');
    isError(t, await commit(alice.connection, [{ denominationCents: 100, count: 300 }, { denominationCents: 500, count: 300 }]), 'BAD_NOTES');
    // Counts and fields the message schema refuses.
    isError(t, await commit(alice.connection, [{ denominationCents: 2_000, count: 1.5 }]), 'BAD_BODY');
    isError(t, await commit(alice.connection, [{ denominationCents: 2_000, count: -1 }]), 'BAD_BODY');
    isError(t, await h.call(alice.connection, 'deposit.commit', { depositId, notes: [], amountCents: 100 }), 'BAD_BODY');
    // Only the kiosk holding the notes may commit: to another kiosk the deposit does not exist.
    isError(t, await commit(await h.connect('kiosk-02'), [{ denominationCents: 2_000, count: 1 }]), 'UNKNOWN_DEPOSIT');
    isError(t, await h.call(alice.connection, 'deposit.commit', { depositId: 'dep_nosuchthing', notes: [{ denominationCents: 2_000, count: 1 }] }), 'UNKNOWN_DEPOSIT');
    t.like(await h.ok(bob.connection, 'balance', { accountId: bob.accountId }), { balanceCents: 0 });
    t.like(await h.ok(alice.connection, 'balance', { accountId: alice.accountId }), { balanceCents: 0 });
    const audited = h.events.find((e) => e.action === 'deposit.commit' && e.reason === 'BAD_NOTES');
    t.like(audited, { outcome: 'failed', customerId: alice.info.customerId, deviceId: 'kiosk-01', detail: { depositId, accountId: alice.accountId } });
    // The refusals left the deposit open: the notes actually stacked are credited, once.
    t.like(await commit(alice.connection, [{ denominationCents: 2_000, count: 1 }]), { creditedCents: 2_000, account: { balanceCents: 2_000 } });
    t.true((await checkLedger(h.services.db)).ok);
  }));

test('authorize holds the amount, complete posts it, and the hold counts toward the daily limit', (t) =>
  withHarness(async (h) => {
    const { connection, accountId } = await registered(h, 'alice');
    await h.deposit(connection, accountId, 50_000);
    const authorized = await h.ok(connection, 'withdraw.authorize', { accountId, amountCents: 20_000 });
    t.like(authorized.account, { balanceCents: 50_000, availableCents: 30_000 });
    const completed = await h.ok(connection, 'withdraw.complete', { authorizationId: authorized.authorizationId, dispensedCents: 20_000 });
    t.deepEqual(completed, { authorizationId: authorized.authorizationId, postedCents: 20_000, releasedCents: 0 });
    t.like(await h.ok(connection, 'balance', { accountId }), { balanceCents: 30_000, availableCents: 30_000 });
    // The notes left the cassettes; the deposit's went into the cashbox.
    t.like(await h.services.db.get('acct:cash-kiosk-01'), { kind: 'cash', balanceCents: 20_000 });
    t.like(await h.services.db.get('acct:cashbox-kiosk-01'), { kind: 'cash', container: 'cashbox', balanceCents: -50_000 });
    t.true((await checkLedger(h.services.db)).ok);
  }));

test('a short dispense posts what came out and releases the rest; a zero dispense posts nothing', (t) =>
  withHarness(async (h) => {
    const { connection, accountId } = await registered(h, 'alice');
    await h.deposit(connection, accountId, 100_000);
    const first = await h.ok(connection, 'withdraw.authorize', { accountId, amountCents: 60_000 });
    t.deepEqual(await h.ok(connection, 'withdraw.complete', { authorizationId: first.authorizationId, dispensedCents: 40_000 }), {
      authorizationId: first.authorizationId,
      postedCents: 40_000,
      releasedCents: 20_000,
    });
    const second = await h.ok(connection, 'withdraw.authorize', { accountId, amountCents: 20_000 });
    t.like(await h.ok(connection, 'withdraw.complete', { authorizationId: second.authorizationId, dispensedCents: 0 }), { postedCents: 0, releasedCents: 20_000 });
    t.like(await h.ok(connection, 'balance', { accountId }), { balanceCents: 60_000, availableCents: 60_000 });
    isError(t, await h.call(connection, 'withdraw.complete', { authorizationId: second.authorizationId, dispensedCents: 20_000 }), 'AUTHORIZATION_SETTLED');
    const third = await h.ok(connection, 'withdraw.authorize', { accountId, amountCents: 20_000 });
    isError(t, await h.call(connection, 'withdraw.complete', { authorizationId: third.authorizationId, dispensedCents: 20_001 }), 'BAD_AMOUNT');
    // The released parts no longer count toward today's limit: 40,000 posted + 20,000 held.
    t.like(await h.ok(connection, 'balance', { accountId }), { availableCents: 40_000 });
    t.true((await checkLedger(h.services.db)).ok);
  }));

test('complete and reverse are idempotent by state and refuse a different settlement', (t) =>
  withHarness(async (h) => {
    const { connection, accountId } = await registered(h, 'alice');
    await h.deposit(connection, accountId, 100_000);
    const a = await h.ok(connection, 'withdraw.authorize', { accountId, amountCents: 20_000 });
    const done = await h.ok(connection, 'withdraw.complete', { authorizationId: a.authorizationId, dispensedCents: 20_000 });
    t.deepEqual(await h.ok(connection, 'withdraw.complete', { authorizationId: a.authorizationId, dispensedCents: 20_000 }), done);
    isError(t, await h.call(connection, 'withdraw.complete', { authorizationId: a.authorizationId, dispensedCents: 10_000 }), 'AUTHORIZATION_SETTLED');
    isError(t, await h.call(connection, 'withdraw.reverse', { authorizationId: a.authorizationId }), 'AUTHORIZATION_SETTLED');

    const b = await h.ok(connection, 'withdraw.authorize', { accountId, amountCents: 40_000 });
    const reversed = await h.ok(connection, 'withdraw.reverse', { authorizationId: b.authorizationId });
    t.deepEqual(reversed, { authorizationId: b.authorizationId, releasedCents: 40_000 });
    t.deepEqual(await h.ok(connection, 'withdraw.reverse', { authorizationId: b.authorizationId }), reversed);
    isError(t, await h.call(connection, 'withdraw.complete', { authorizationId: b.authorizationId, dispensedCents: 40_000 }), 'AUTHORIZATION_SETTLED');
    t.like(await h.ok(connection, 'balance', { accountId }), { balanceCents: 80_000, availableCents: 80_000 });
    t.true((await checkLedger(h.services.db)).ok);
  }));

test('a rebooted kiosk completes without a session, but only the authorizing kiosk may settle', (t) =>
  withHarness(async (h) => {
    const { connection, accountId } = await registered(h, 'alice');
    await h.deposit(connection, accountId, 100_000);
    const a = await h.ok(connection, 'withdraw.authorize', { accountId, amountCents: 20_000 });
    isError(t, await h.call(await h.connect('kiosk-02'), 'withdraw.complete', { authorizationId: a.authorizationId, dispensedCents: 20_000 }), 'UNKNOWN_AUTHORIZATION');
    isError(t, await h.call(await h.connect('kiosk-02'), 'withdraw.reverse', { authorizationId: a.authorizationId }), 'UNKNOWN_AUTHORIZATION');
    isError(t, await h.call(await h.connect(), 'withdraw.reverse', { authorizationId: 'auth_nosuchthing' }), 'UNKNOWN_AUTHORIZATION');
    const rebooted = await h.connect('kiosk-01');
    t.like(await h.ok(rebooted, 'withdraw.complete', { authorizationId: a.authorizationId, dispensedCents: 20_000 }), { postedCents: 20_000 });
    const event = h.events.findLast((e) => e.action === 'withdraw.complete');
    t.like(event, { outcome: 'ok', customerId: (await h.services.db.get<{ customerId: string }>(`acct:${accountId}`))!.customerId, amountCents: 20_000 });
  }));

test('withdrawal amounts must be dispensable, within the maximum, the balance and the daily limit', (t) =>
  withHarness(async (h) => {
    const { connection, accountId } = await registered(h, 'alice');
    await h.deposit(connection, accountId, 500_000);
    isError(t, await h.call(connection, 'withdraw.authorize', { accountId, amountCents: 2_500 }), 'NOT_DISPENSABLE');
    isError(t, await h.call(connection, 'withdraw.authorize', { accountId, amountCents: 102_000 }), 'LIMIT_EXCEEDED');
    const first = await h.ok(connection, 'withdraw.authorize', { accountId, amountCents: 60_000 });
    // The open hold counts: 60,000 + 60,000 > 100,000.
    isError(t, await h.call(connection, 'withdraw.authorize', { accountId, amountCents: 60_000 }), 'DAILY_LIMIT_EXCEEDED');
    await h.ok(connection, 'withdraw.reverse', { authorizationId: first.authorizationId });
    await h.ok(connection, 'withdraw.authorize', { accountId, amountCents: 100_000 });
    isError(t, await h.call(connection, 'withdraw.authorize', { accountId, amountCents: 2_000 }), 'DAILY_LIMIT_EXCEEDED');
    // A new UTC day starts a new total. The session idled through the night, so the customer signs in again.
    h.clock.nowMs += DAY_MS;
    isError(t, await h.call(connection, 'withdraw.authorize', { accountId, amountCents: 2_000 }), 'SESSION_EXPIRED');
    t.is(connection.session, undefined);
    await h.ok(connection, 'signin.password', { username: 'alice', password: PASSWORD });
    await h.ok(connection, 'withdraw.authorize', { accountId, amountCents: 2_000 });

    const poor = await registered(h, 'bob');
    await h.deposit(poor.connection, poor.accountId, 3_000);
    isError(t, await h.call(poor.connection, 'withdraw.authorize', { accountId: poor.accountId, amountCents: 4_000 }), 'INSUFFICIENT_FUNDS');
    const failed = h.events.findLast((e) => e.action === 'withdraw.authorize');
    t.like(failed, { outcome: 'failed', reason: 'INSUFFICIENT_FUNDS', amountCents: 4_000, customerId: poor.info.customerId });
    t.like(await h.ok(poor.connection, 'balance', { accountId: poor.accountId }), { balanceCents: 3_000, availableCents: 3_000 });
  }, { config: { dailyWithdrawalLimitCents: 100_000, maxWithdrawalCents: 100_000 } }));

test('many concurrent withdrawals on one account never overdraw it', (t) =>
  withHarness(async (h) => {
    const { connection, accountId } = await registered(h, 'alice');
    await h.deposit(connection, accountId, 100_000);
    const kiosks = await Promise.all(Array.from({ length: 20 }, (_, i) => h.connect(`kiosk-${String(i).padStart(2, '0')}`)));
    for (const kiosk of kiosks) kiosk.session = { ...connection.session! };
    const answers = await Promise.all(kiosks.map((kiosk) => h.call(kiosk, 'withdraw.authorize', { accountId, amountCents: 20_000 })));
    const granted = answers.filter((a) => !(a instanceof ProtocolError));
    t.is(granted.length, 5);
    t.true(answers.every((a) => !(a instanceof ProtocolError) || a.code === 'INSUFFICIENT_FUNDS'));
    await Promise.all(
      granted.map((a, i) => {
        const kiosk = kiosks[answers.indexOf(a)]!;
        return h.ok(kiosk, 'withdraw.complete', { authorizationId: (a as { authorizationId: string }).authorizationId, dispensedCents: i === 0 ? 0 : 20_000 });
      }),
    );
    t.like(await h.ok(connection, 'balance', { accountId }), { balanceCents: 20_000, availableCents: 20_000 });
    const report = await checkLedger(h.services.db);
    t.true(report.ok, JSON.stringify(report.problems));
  }, { config: { dailyWithdrawalLimitCents: 10_000_000 } }));

test('a transfer moves money between two of the customer’s accounts and refuses bad requests', (t) =>
  withHarness(async (h) => {
    const alice = await registered(h, 'alice');
    const bob = await registered(h, 'bob');
    const savings = await openAccount(h.services, 'alice', 'savings');
    await h.deposit(alice.connection, alice.accountId, 10_000);
    const moved = await h.ok(alice.connection, 'transfer', { fromAccountId: alice.accountId, toAccountId: savings.accountId, amountCents: 4_000 });
    t.like(moved.from, { balanceCents: 6_000 });
    t.like(moved.to, { accountId: savings.accountId, kind: 'savings', balanceCents: 4_000 });
    isError(t, await h.call(alice.connection, 'transfer', { fromAccountId: alice.accountId, toAccountId: alice.accountId, amountCents: 1 }), 'SAME_ACCOUNT');
    isError(t, await h.call(alice.connection, 'transfer', { fromAccountId: alice.accountId, toAccountId: savings.accountId, amountCents: 6_001 }), 'INSUFFICIENT_FUNDS');
    isError(t, await h.call(alice.connection, 'transfer', { fromAccountId: alice.accountId, toAccountId: bob.accountId, amountCents: 1 }), 'UNKNOWN_ACCOUNT');
    isError(t, await h.call(bob.connection, 'transfer', { fromAccountId: alice.accountId, toAccountId: bob.accountId, amountCents: 1 }), 'UNKNOWN_ACCOUNT');
    // Held money is not available to transfer.
    await h.ok(alice.connection, 'withdraw.authorize', { accountId: alice.accountId, amountCents: 6_000 });
    isError(t, await h.call(alice.connection, 'transfer', { fromAccountId: alice.accountId, toAccountId: savings.accountId, amountCents: 1 }), 'INSUFFICIENT_FUNDS');
    t.true((await checkLedger(h.services.db)).ok);
  }));

test('history pages newest first with the running balance, and filters by kind and time', (t) =>
  withHarness(async (h) => {
    const { connection, accountId } = await registered(h, 'alice');
    const savings = await openAccount(h.services, 'alice', 'savings');
    const startMs = h.clock.nowMs;
    for (let i = 1; i <= 7; i++) {
      h.clock.nowMs = startMs + i * 60_000;
      await h.deposit(connection, accountId, i * 1_000);
    }
    h.clock.nowMs = startMs + 8 * 60_000;
    await h.ok(connection, 'transfer', { fromAccountId: accountId, toAccountId: savings.accountId, amountCents: 500 });
    h.clock.nowMs = startMs + 9 * 60_000;
    const a = await h.ok(connection, 'withdraw.authorize', { accountId, amountCents: 4_000 });
    await h.ok(connection, 'withdraw.complete', { authorizationId: a.authorizationId, dispensedCents: 4_000 });

    const first = await h.ok(connection, 'history', { accountId, limit: 4 });
    t.deepEqual(first.entries.map((e) => [e.kind, e.amountCents, e.balanceAfterCents]), [
      ['withdrawal', -4_000, 23_500],
      ['transfer-out', -500, 27_500],
      ['deposit', 7_000, 28_000],
      ['deposit', 6_000, 21_000],
    ]);
    t.truthy(first.nextCursor);
    const second = await h.ok(connection, 'history', { accountId, limit: 4, cursor: first.nextCursor });
    t.deepEqual(second.entries.map((e) => e.amountCents), [5_000, 4_000, 3_000, 2_000]);
    const third = await h.ok(connection, 'history', { accountId, limit: 4, cursor: second.nextCursor });
    t.deepEqual(third.entries.map((e) => e.amountCents), [1_000]);
    t.is(third.nextCursor, undefined);

    const deposits = await h.ok(connection, 'history', { accountId, kinds: ['deposit'], sinceMs: startMs + 3 * 60_000, untilMs: startMs + 5 * 60_000 });
    t.deepEqual(deposits.entries.map((e) => e.amountCents), [5_000, 4_000, 3_000]);
    t.true(deposits.entries.every((e) => e.deviceId === 'kiosk-01'));
    isError(t, await h.call(connection, 'history', { accountId, cursor: 'garbage' }), 'BAD_BODY');
    const other = await registered(h, 'bob');
    isError(t, await h.call(other.connection, 'history', { accountId }), 'UNKNOWN_ACCOUNT');
  }));

test('a card session reaches only the card’s accounts, and stops when the card is blocked', (t) =>
  withHarness(async (h) => {
    const added = await addCustomer(h.services, 'alice', PASSWORD, { scryptCost: TEST_SCRYPT_COST });
    const savings = await openAccount(h.services, 'alice', 'savings');
    const card = await issueCard(h.services, 'alice', added.accountId);
    const connection = await h.connect();
    const info = await h.ok(connection, 'signin.card', { pan: card.pan, pinBlock: h.pinBlock('kiosk-01', card.pan, card.pin) });
    t.deepEqual(info.accounts.map((a) => a.accountId), [added.accountId]);
    isError(t, await h.call(connection, 'balance', { accountId: savings.accountId }), 'UNKNOWN_ACCOUNT');
    await h.deposit(connection, added.accountId, 50_000);
    await h.ok(connection, 'withdraw.authorize', { accountId: added.accountId, amountCents: 20_000 });
    // A card sign-in's withdrawal counts against the card's daily total and the customer's.
    t.like(await h.services.db.get(`wdday:card-${cardIdOf(h.services.keys.master, card.pan)}:2025-06-15`), { usedCents: 20_000 });
    t.like(await h.services.db.get(`wdday:cust-${added.customerId}:2025-06-15`), { usedCents: 20_000 });
    await blockCard(h.services, card.pan);
    isError(t, await h.call(connection, 'balance', { accountId: added.accountId }), 'CARD_BLOCKED');
  }));

test('signout ends the session', (t) =>
  withHarness(async (h) => {
    const { connection, accountId } = await registered(h, 'alice');
    t.deepEqual(await h.ok(connection, 'signout', {}), {});
    t.is(connection.session, undefined);
    isError(t, await h.call(connection, 'balance', { accountId }), 'NOT_SIGNED_IN');
  }));

test('every action leaves one audit event named after it, and no event holds a secret', (t) =>
  withHarness(async (h) => {
    const { pan, pin, accountId } = await withCard(h, 'alice');
    const connection = await h.connect();
    await h.call(connection, 'signin.card', { pan, pinBlock: h.pinBlock('kiosk-01', pan, wrongPinFor(pin)) });
    const pinBlock = h.pinBlock('kiosk-01', pan, pin);
    await h.ok(connection, 'signin.card', { pan, pinBlock });
    await h.deposit(connection, accountId, 40_000);
    const a = await h.ok(connection, 'withdraw.authorize', { accountId, amountCents: 20_000 });
    await h.ok(connection, 'withdraw.complete', { authorizationId: a.authorizationId, dispensedCents: 20_000 });
    await h.ok(connection, 'history', { accountId });
    await h.ok(connection, 'signout', {});
    await h.call(await h.connect(), 'signin.password', { username: 'alice', password: 'not the password' });
    t.deepEqual(
      h.events.filter((e) => e.actor === undefined).map((e) => `${e.action}:${e.outcome}`),
      // The kiosk's status report on connecting first, then the customer's actions.
      ['kiosk.status:ok', 'signin.card:failed', 'signin.card:ok', 'deposit.open:ok', 'deposit.commit:ok', 'withdraw.authorize:ok', 'withdraw.complete:ok', 'history:ok', 'signout:ok', 'signin.password:failed'],
    );
    // Neither what the handlers recorded nor what the log holds once decrypted.
    for (const text of [JSON.stringify(h.events), JSON.stringify(await h.auditLog())]) {
      for (const secret of [pan, pinBlock, PASSWORD, 'not the password', h.services.keys.pinVerify.toString('hex')]) t.false(text.includes(secret));
      t.false(/"pin"/.test(text));
    }
    // The credit is on the commit's record: what the notes added up to.
    const deposit = h.events.find((e) => e.action === 'deposit.commit')!;
    t.like(deposit, { deviceId: 'kiosk-01', amountCents: 40_000, detail: { cardLast4: pan.slice(-4), accountId } });
    t.truthy(deposit.requestId);
    t.like(h.events.find((e) => e.action === 'deposit.open'), { deviceId: 'kiosk-01', detail: { cardLast4: pan.slice(-4), accountId, depositId: deposit.detail?.depositId } });
  }));
