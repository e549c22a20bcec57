// Sign-in, registration and sign-out: the handlers that bind (or end) a customer session on a connection.
// A session is bound only after the change that records the sign-in is durable.
import { ProtocolError } from '../../protocol/errors.js';
import { PinBlockError, decodePinBlockFormat4 } from '../../protocol/pin-block.js';
import { cardIdOf } from '../customers/card-protection.js';
import { requireUsableCard } from '../customers/cards.js';
import { planNewCustomer, readCard, readCustomer, readCustomerByUsername, readPasswordFailures } from '../customers/customers.js';
import { NO_FAILURES, isLockedOut, recordFailure } from '../customers/lockout.js';
import { type ScryptCost, checkPasswordPolicy, hashPassword, spendDecoyVerification, verifyPassword } from '../customers/passwords.js';
import { pinBlockMark, pinMatches, pinVerificationValue, RECENT_PIN_BLOCKS_MAX } from '../customers/pins.js';
import { type CardRecord, cardKey, panLast4, passwordFailureKey, usernameKey } from '../customers/records.js';
import { invariant } from '../ledger/invariants.js';
import type { BatchOp } from '../store/database.js';
import type { OperationTable } from './context.js';
import { type OperationRun, type Work, operation, slow } from './run.js';
import { isSupervisorCard, readTechnician } from '../customers/technicians.js';
import { describeSession, describeSupervisorSession, newSession, newSupervisorSession } from './session.js';

const register = (cost: ScryptCost): Work<'register'> =>
  async (run, { username, password }) => {
    const { db, config, locks } = run.services;
    run.requireNoSession();
    run.detail.username = username;
    if (!config.registrationEnabled) throw new ProtocolError('REGISTRATION_DISABLED');
    const normalized = checkPasswordPolicy(password, username);
    // Cheap early answer before spending scrypt time; the decisive check is repeated under the lock.
    if ((await db.get(usernameKey(username))) !== undefined) throw new ProtocolError('USERNAME_TAKEN');
    const hash = await hashPassword(normalized, cost);
    return locks.withLocks([usernameKey(username)], async () => {
      if ((await db.get(usernameKey(username))) !== undefined) throw new ProtocolError('USERNAME_TAKEN');
      const nowMs = run.ctx.nowMs;
      const planned = planNewCustomer(username, hash, config.currency, nowMs);
      run.customerId = planned.customer.customerId;
      run.detail.accountId = planned.account.accountId;
      const info = await describeSession(run.services, planned.customer, nowMs, undefined, [planned.account]);
      await run.succeed(info, planned.ops);
      run.ctx.connection.session = newSession(planned.customer, nowMs);
      return info;
    });
  };

const signInWithPassword = (cost: ScryptCost): Work<'signin.password'> => async (run, { username, password }) => {
  const { db, locks } = run.services;
  const nowMs = run.ctx.nowMs;
  run.requireNoSession();
  if (isLockedOut((await readPasswordFailures(db, username)) ?? NO_FAILURES, nowMs)) throw new ProtocolError('LOCKED_OUT');
  const customer = await readCustomerByUsername(db, username);
  if (customer === undefined) {
    // The typed name is not recorded: people type their password into the username field.
    await spendDecoyVerification(password, cost);
    throw new ProtocolError('BAD_CREDENTIALS');
  }
  run.customerId = customer.customerId;
  // scrypt runs before the lock: only the counter update is serialized.
  const correct = await verifyPassword(password, customer.password);
  return locks.withLocks([passwordFailureKey(username)], async () => {
    const failures = (await readPasswordFailures(db, username)) ?? NO_FAILURES;
    // A concurrent attempt may have locked the name while this one was hashing.
    if (isLockedOut(failures, nowMs)) throw new ProtocolError('LOCKED_OUT');
    if (!correct) {
      const next = recordFailure(failures, nowMs);
      const ops: BatchOp[] = [{ type: 'put', key: passwordFailureKey(username), value: next }];
      return run.fail(new ProtocolError(isLockedOut(next, nowMs) ? 'LOCKED_OUT' : 'BAD_CREDENTIALS'), ops);
    }
    const ops: BatchOp[] = failures.failures > 0 ? [{ type: 'del', key: passwordFailureKey(username) }] : [];
    const info = await describeSession(run.services, customer, nowMs);
    await run.succeed(info, ops);
    run.ctx.connection.session = newSession(customer, nowMs);
    return info;
  });
};

/** The answer to a wrong PIN after `triesFailed` failures in a row: the card blocked at the last one, and
 *  the customer warned before it (WRONG_PIN_LAST_TRY) so that they can stop and call the bank. */
export function wrongPinCode(triesFailed: number, maxPinTries: number): 'CARD_BLOCKED' | 'WRONG_PIN_LAST_TRY' | 'WRONG_PIN' {
  if (triesFailed >= maxPinTries) return 'CARD_BLOCKED';
  return triesFailed === maxPinTries - 1 ? 'WRONG_PIN_LAST_TRY' : 'WRONG_PIN';
}

/** A wrong PIN: one more failed try on the card, which the last one blocks, recorded with the refusal. */
function failWrongPin(run: OperationRun<'signin.card' | 'pin.change'>, card: CardRecord, cardId: string, maxPinTries: number): Promise<never> {
  const triesFailed = card.pinTriesFailed + 1;
  const updated: CardRecord =
    triesFailed >= maxPinTries ? { ...card, pinTriesFailed: triesFailed, status: 'blocked', blockedReason: 'pin-tries' } : { ...card, pinTriesFailed: triesFailed };
  run.detail.pinTriesFailed = triesFailed;
  return run.fail(new ProtocolError(wrongPinCode(triesFailed, maxPinTries)), [{ type: 'put', key: cardKey(cardId), value: updated }]);
}

function decodePin(pinBlockHex: string, pan: string, key: Buffer): string {
  try {
    return decodePinBlockFormat4(Buffer.from(pinBlockHex, 'hex'), pan, key);
  } catch (error) {
    // Every decode failure is the same answer: which check failed says something about the block.
    if (error instanceof PinBlockError) throw new ProtocolError('BAD_PIN_BLOCK');
    throw error;
  }
}

const signInWithCard: Work<'signin.card'> = async (run, { pan, pinBlock }) => {
  const { db, keys, config, locks } = run.services;
  const nowMs = run.ctx.nowMs;
  run.requireNoSession();
  run.detail.cardLast4 = panLast4(pan);
  const cardId = cardIdOf(keys.master, pan);
  return locks.withLocks([cardKey(cardId)], async () => {
    const stored = await readCard(db, cardId);
    if (stored !== undefined) run.customerId = stored.customerId;
    const used = requireUsableCard(stored, nowMs);
    const mark = pinBlockMark(keys.pinVerify, cardId, pinBlock);
    if (used.recentPinBlocks?.includes(mark)) {
      // A block presented before: a resent sign-in. Refused like any block that does not decode.
      run.detail.pinBlockReused = true;
      throw new ProtocolError('BAD_PIN_BLOCK');
    }
    const card: CardRecord = { ...used, recentPinBlocks: [...(used.recentPinBlocks ?? []), mark].slice(-RECENT_PIN_BLOCKS_MAX) };
    const pinKey = run.ctx.devicePinKey();
    let pin: string;
    try {
      pin = decodePin(pinBlock, pan, pinKey.key);
    } finally {
      pinKey.key.fill(0);
    }
    if (!pinMatches(keys.pinVerify, pan, pin, card.pinVerificationValue)) return failWrongPin(run, card, cardId, config.maxPinTries);
    // Written every time: the card remembers the block it accepted.
    const ops: BatchOp[] = [{ type: 'put', key: cardKey(cardId), value: { ...card, pinTriesFailed: 0 } }];
    if (isSupervisorCard(card)) {
      // A technician's card: the kiosk opens its supervisor mode, never the customer menu.
      const technician = await readTechnician(db, card.customerId);
      invariant(technician !== undefined, `card ending ${panLast4(pan)} names a missing technician`);
      run.detail.role = 'supervisor';
      const info = describeSupervisorSession(run.services, technician, card);
      await run.succeed(info, ops);
      run.ctx.connection.session = newSupervisorSession(technician, card, nowMs);
      return info;
    }
    const customer = await readCustomer(db, card.customerId);
    invariant(customer !== undefined, `card ending ${panLast4(pan)} names a missing customer`);
    const info = await describeSession(run.services, customer, nowMs, card);
    await run.succeed(info, ops);
    run.ctx.connection.session = newSession(customer, nowMs, card);
    return info;
  });
};

/** The PIN of the card this session signed in with, changed at once with its failure count cleared. The
 *  current PIN is checked like a sign-in's (a wrong one counts as a failed try and may block the card);
 *  the new PIN arrives twice and must match. */
const changePin: Work<'pin.change'> = async (run, { pan, oldPinBlock, newPinBlock, confirmPinBlock }) => {
  const { db, keys, config, locks } = run.services;
  const nowMs = run.ctx.nowMs;
  const session = run.requireSession();
  run.detail.cardLast4 = panLast4(pan);
  const cardId = cardIdOf(keys.master, pan);
  if (session.cardId === undefined || session.cardId !== cardId) throw new ProtocolError('NOT_CARD_SESSION');
  return locks.withLocks([cardKey(cardId)], async () => {
    const card = requireUsableCard(await readCard(db, cardId), nowMs);
    const pinKey = run.ctx.devicePinKey();
    let oldPin: string;
    let newPin: string;
    let confirmedPin: string;
    try {
      oldPin = decodePin(oldPinBlock, pan, pinKey.key);
      newPin = decodePin(newPinBlock, pan, pinKey.key);
      confirmedPin = decodePin(confirmPinBlock, pan, pinKey.key);
    } finally {
      pinKey.key.fill(0);
    }
    if (!pinMatches(keys.pinVerify, pan, oldPin, card.pinVerificationValue)) return failWrongPin(run, card, cardId, config.maxPinTries);
    if (confirmedPin !== newPin) throw new ProtocolError('PIN_MISMATCH');
    const updated: CardRecord = { ...card, pinVerificationValue: pinVerificationValue(keys.pinVerify, pan, newPin), pinTriesFailed: 0 };
    await run.succeed({}, [{ type: 'put', key: cardKey(cardId), value: updated }]);
    return {};
  });
};

const signOut: Work<'signout'> = async (run) => {
  const result = await run.succeed({});
  run.ctx.connection.session = undefined;
  return result;
};

export function createSignInOperations(cost: ScryptCost): OperationTable {
  return {
    // scrypt inside the unit: never in another request's group commit.
    register: slow(operation(register(cost))),
    'signin.password': slow(operation(signInWithPassword(cost))),
    'signin.card': operation(signInWithCard),
    signout: operation(signOut),
    'pin.change': operation(changePin),
  };
}
