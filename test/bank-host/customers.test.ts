import test from 'ava';
import { cardIdOf } from '../../bank-host/customers/card-protection.js';
import { ProtocolError } from '../../protocol/errors.js';
import { addCustomer, blockCard, issueCard, openAccount, showCustomer, unblockCard } from '../../bank-host/customers/admin.js';
import { DEMO_IIN, expiryFor, generatePan, isExpired, isLuhnValid, luhnCheckDigit } from '../../bank-host/customers/cards.js';
import { LOCKOUT_MAX_MS, NO_FAILURES, isLockedOut, recordFailure } from '../../bank-host/customers/lockout.js';
import {
  PASSWORD_LENGTH_MAX,
  SCRYPT_COST_PRODUCTION,
  checkPasswordPolicy,
  hashPassword,
  verifyPassword,
} from '../../bank-host/customers/passwords.js';
import { generatePin, pinMatches, pinVerificationValue } from '../../bank-host/customers/pins.js';
import { AdminError } from '../../bank-host/errors.js';
import { TEST_SCRYPT_COST, type Harness, createHarness } from '../helpers/dispatcher-harness.js';

const PASSWORD = 'correct horse battery';

async function withHarness(run: (h: Harness) => Promise<void>): Promise<void> {
  const h = await createHarness();
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

function adminCode(error: unknown): string | undefined {
  return error instanceof AdminError ? error.code : undefined;
}

test('a password hashed at the production cost verifies, a wrong one does not, and salts differ', async (t) => {
  const started = performance.now();
  const hash = await hashPassword(PASSWORD, SCRYPT_COST_PRODUCTION);
  t.log(`scrypt N=2^17 r=8 p=1: ${Math.round(performance.now() - started)} ms`);
  t.like(hash, { scheme: 'scrypt', log2N: 17, r: 8, p: 1 });
  t.is(Buffer.from(hash.saltB64, 'base64').length, 16);
  t.true(await verifyPassword(PASSWORD, hash));
  t.false(await verifyPassword('correct horse batterz', hash));
  const again = await hashPassword(PASSWORD, SCRYPT_COST_PRODUCTION);
  t.not(again.saltB64, hash.saltB64);
  t.not(again.hashB64, hash.hashB64);
});

test('password hashing at the production cost runs off the event loop', async (t) => {
  // While two N=2^17 hashes run, timers keep firing: the event loop is never blocked for anything
  // like the length of one hash.
  let lastTickMs = performance.now();
  let longestGapMs = 0;
  const ticker = setInterval(() => {
    const nowMs = performance.now();
    longestGapMs = Math.max(longestGapMs, nowMs - lastTickMs);
    lastTickMs = nowMs;
  }, 2);
  const started = performance.now();
  try {
    await Promise.all([hashPassword(PASSWORD, SCRYPT_COST_PRODUCTION), hashPassword(PASSWORD, SCRYPT_COST_PRODUCTION)]);
  } finally {
    clearInterval(ticker);
  }
  const hashingMs = performance.now() - started;
  t.log(`two hashes: ${Math.round(hashingMs)} ms; longest event-loop gap ${Math.round(longestGapMs)} ms`);
  t.true(hashingMs > 50, 'the production cost is expensive');
  t.true(longestGapMs < hashingMs / 3, `the event loop stalled for ${Math.round(longestGapMs)} ms of ${Math.round(hashingMs)} ms`);
});

test('a hash verifies with the cost stored in it, whatever the current cost', async (t) => {
  const cheap = await hashPassword(PASSWORD, TEST_SCRYPT_COST);
  t.true(await verifyPassword(PASSWORD, cheap));
  await t.throwsAsync(verifyPassword(PASSWORD, { ...cheap, log2N: 40 }), { message: /out of range/ });
});

test('the password policy wants 8 to 128 characters, three distinct, and not the username', (t) => {
  const weak = (password: string) => t.throws(() => checkPasswordPolicy(password, 'alice'), { instanceOf: ProtocolError, message: /./ });
  weak('1234567');
  weak('x'.repeat(PASSWORD_LENGTH_MAX + 1));
  weak('my-alice-pw');
  weak('abababab');
  t.is(checkPasswordPolicy('12345678', 'alice'), '12345678');
  t.is(checkPasswordPolicy('x'.repeat(PASSWORD_LENGTH_MAX - 2) + 'yz', 'alice').length, PASSWORD_LENGTH_MAX);
  // NFC: a decomposed é and a composed one are the same password.
  t.is(checkPasswordPolicy('caf\u0065\u0301-latte', 'alice'), 'caf\u00e9-latte');
});

test('generated PANs carry the demo IIN and a valid Luhn check digit', (t) => {
  t.true(isLuhnValid('4111111111111111'));
  t.false(isLuhnValid('4111111111111112'));
  t.is(luhnCheckDigit('7992739871'), 3);
  for (let i = 0; i < 200; i++) {
    const pan = generatePan();
    t.regex(pan, /^[0-9]{16}$/);
    t.true(pan.startsWith(DEMO_IIN));
    t.true(isLuhnValid(pan));
  }
});

test('issued PINs are four random digits and never a repeated digit or a straight run', (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 2_000; i++) {
    const pin = generatePin();
    t.regex(pin, /^[0-9]{4}$/);
    t.false(['0000', '1111', '1234', '4321', '9876', '6789'].includes(pin));
    seen.add(pin);
  }
  t.true(seen.size > 1_000);
});

test('the PIN verification value is keyed and bound to the PAN', (t) => {
  const key = Buffer.alloc(32, 7);
  const value = pinVerificationValue(key, '9990010000000017', '4821');
  t.true(pinMatches(key, '9990010000000017', '4821', value));
  t.false(pinMatches(key, '9990010000000017', '4822', value));
  t.false(pinMatches(key, '9990010000000025', '4821', value));
  t.false(pinMatches(Buffer.alloc(32, 8), '9990010000000017', '4821', value));
  t.false(pinMatches(key, '9990010000000017', '48a1', value));
  t.not(value, pinVerificationValue(key, '9990010000000025', '4821'));
});

test('a card is valid through the last day of its expiry month, four years on', (t) => {
  const issuedMs = Date.UTC(2025, 5, 15);
  t.is(expiryFor(issuedMs), '2029-06');
  t.false(isExpired('2029-06', Date.UTC(2029, 5, 30, 23, 59, 59, 999)));
  t.true(isExpired('2029-06', Date.UTC(2029, 6, 1)));
  t.is(expiryFor(Date.UTC(2025, 11, 31)), '2029-12');
  t.true(isExpired('2029-12', Date.UTC(2030, 0, 1)));
});

test('lockout starts at the fifth failure in a row and doubles up to a cap', (t) => {
  let record = NO_FAILURES;
  const nowMs = 1_000_000;
  for (let i = 0; i < 4; i++) record = recordFailure(record, nowMs);
  t.false(isLockedOut(record, nowMs));
  const locks: number[] = [];
  for (let i = 0; i < 12; i++) {
    record = recordFailure(record, nowMs);
    locks.push(record.lockedUntilMs - nowMs);
  }
  t.deepEqual(locks.slice(0, 4), [30_000, 60_000, 120_000, 240_000]);
  t.is(locks.at(-1), LOCKOUT_MAX_MS);
  t.true(isLockedOut(record, nowMs + LOCKOUT_MAX_MS - 1));
  t.false(isLockedOut(record, nowMs + LOCKOUT_MAX_MS));
});

test('an operator adds a customer, opens accounts and issues a card; show reveals no secret', (t) =>
  withHarness(async (h) => {
    const added = await addCustomer(h.services, 'alice', PASSWORD, { scryptCost: TEST_SCRYPT_COST });
    const savings = await openAccount(h.services, 'alice', 'savings');
    const card = await issueCard(h.services, 'alice');
    t.true(isLuhnValid(card.pan));
    t.regex(card.pin, /^[0-9]{4}$/);
    t.deepEqual(card.accountIds, [added.accountId, savings.accountId]);
    const view = await showCustomer(h.services, 'alice');
    t.is(view.customerId, added.customerId);
    t.deepEqual(view.accounts.map((a) => [a.accountId, a.kind, a.balanceCents, a.heldCents]), [
      [added.accountId, 'chequing', 0, 0],
      [savings.accountId, 'savings', 0, 0],
    ]);
    t.deepEqual(view.cards, [{ cardLast4: card.pan.slice(-4), status: 'active', expiresYm: card.expiresYm, accountIds: card.accountIds, pinTriesFailed: 0 }]);
    const text = JSON.stringify(view);
    t.false(text.includes(card.pan));
    t.false(/hash|salt|pinVerification/i.test(text));
    const stored = JSON.stringify(await h.services.db.get(`card:${cardIdOf(h.services.keys.master, card.pan)}`));
    t.false(stored.includes(`"${card.pin}"`));
    t.false(stored.includes(card.pan), 'the card record holds no full PAN');
  }));

test('operator errors have stable codes and are audited as failed actions', (t) =>
  withHarness(async (h) => {
    await addCustomer(h.services, 'alice', PASSWORD, { scryptCost: TEST_SCRYPT_COST });
    t.is(adminCode(await addCustomer(h.services, 'alice', PASSWORD, { scryptCost: TEST_SCRYPT_COST }).catch((e) => e)), 'USERNAME_TAKEN');
    t.is(adminCode(await addCustomer(h.services, 'Bad Name', PASSWORD).catch((e) => e)), 'BAD_USERNAME');
    t.is(adminCode(await addCustomer(h.services, 'bob', 'short').catch((e) => e)), 'WEAK_PASSWORD');
    t.is(adminCode(await openAccount(h.services, 'nobody').catch((e) => e)), 'UNKNOWN_CUSTOMER');
    t.is(adminCode(await issueCard(h.services, 'alice', 'acc_notalices').catch((e) => e)), 'UNKNOWN_ACCOUNT');
    t.is(adminCode(await blockCard(h.services, '9990010000000017').catch((e) => e)), 'CARD_UNKNOWN');
    for (let i = 1; i < 8; i++) await openAccount(h.services, 'alice');
    t.is(adminCode(await openAccount(h.services, 'alice').catch((e) => e)), 'TOO_MANY_ACCOUNTS');
    const operatorEvents = h.events.filter((e) => e.actor === 'operator');
    t.true(operatorEvents.every((e) => e.actor === 'operator'));
    t.deepEqual(
      operatorEvents.filter((e) => e.outcome === 'failed').map((e) => `${e.action}:${e.reason}`),
      ['customer.add:USERNAME_TAKEN', 'customer.add:BAD_USERNAME', 'customer.add:WEAK_PASSWORD', 'account.open:UNKNOWN_CUSTOMER', 'card.issue:UNKNOWN_ACCOUNT', 'card.block:CARD_UNKNOWN', 'account.open:TOO_MANY_ACCOUNTS'],
    );
    t.false(JSON.stringify(h.events).includes(PASSWORD));
  }));

test('blocking a card refuses sign-in; unblocking restores it and forgets failed tries', (t) =>
  withHarness(async (h) => {
    await addCustomer(h.services, 'alice', PASSWORD, { scryptCost: TEST_SCRYPT_COST });
    const card = await issueCard(h.services, 'alice');
    const connection = await h.connect();
    const signIn = (pin: string) => h.call(connection, 'signin.card', { pan: card.pan, pinBlock: h.pinBlock('kiosk-01', card.pan, pin) });
    const wrong = card.pin === '9999' ? '9998' : '9999';
    await signIn(wrong);
    await signIn(wrong);
    t.like(await blockCard(h.services, card.pan), { status: 'blocked', pinTriesFailed: 2, cardLast4: card.pan.slice(-4) });
    t.like(await signIn(card.pin), { code: 'CARD_BLOCKED' });
    t.like(await unblockCard(h.services, card.pan), { status: 'active', pinTriesFailed: 0 });
    t.like(await signIn(wrong), { code: 'WRONG_PIN' });
    t.like(await h.services.db.get(`card:${cardIdOf(h.services.keys.master, card.pan)}`), { pinTriesFailed: 1 });
    await h.ok(connection, 'signin.card', { pan: card.pan, pinBlock: h.pinBlock('kiosk-01', card.pan, card.pin) });
    const blocked = h.events.find((e) => e.action === 'card.block');
    t.like(blocked, { actor: 'operator', outcome: 'ok', detail: { cardLast4: card.pan.slice(-4) } });
  }));

test('a customer added by an operator signs in with the password at the kiosk', (t) =>
  withHarness(async (h) => {
    const added = await addCustomer(h.services, 'alice', PASSWORD, { scryptCost: TEST_SCRYPT_COST });
    const info = await h.ok(await h.connect(), 'signin.password', { username: 'alice', password: PASSWORD });
    t.is(info.customerId, added.customerId);
    t.deepEqual(info.accounts.map((a) => a.accountId), [added.accountId]);
  }));
