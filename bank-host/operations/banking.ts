// The bank host's customer operations: sign-in, registration and the money operations, as handlers for
// the dispatcher. Each handler validates what the schema cannot (amount rules, ownership), takes the locks
// of what it reads and writes, and ends with exactly one `ctx.finish` carrying its change and one audit
// event named after the message type, failures included.
import { ProtocolError } from '../../protocol/errors.js';
import { HISTORY_PAGE_SIZE_MAX, type MessageType, type RequestBody, type ResultOf } from '../../protocol/messages.js';
import { PinBlockError, decodePinBlockFormat4 } from '../../protocol/pin-block.js';
import type { AuditEvent } from '../audit/event.js';
import { requireUsableCard } from '../customers/cards.js';
import { planNewCustomer, readCard, readCustomer, readCustomerByUsername, readPasswordFailures } from '../customers/customers.js';
import { NO_FAILURES, isLockedOut, recordFailure } from '../customers/lockout.js';
import {
  SCRYPT_COST_PRODUCTION,
  type ScryptCost,
  checkPasswordPolicy,
  hashPassword,
  spendDecoyVerification,
  verifyPassword,
} from '../customers/passwords.js';
import { pinMatches } from '../customers/pins.js';
import { type CardRecord, cardKey, panLast4, passwordFailureKey, usernameKey } from '../customers/records.js';
import { readAccount, readCashAccount, summarizeAccount } from '../ledger/accounts.js';
import { validateDepositCents, validateTransferCents, validateWithdrawalCents } from '../ledger/amounts.js';
import { readHistory } from '../ledger/history.js';
import { availableCents, invariant } from '../ledger/invariants.js';
import { newPostingId, planMove } from '../ledger/journal.js';
import { accountKey, cashAccountId, dailyWithdrawalKey } from '../ledger/records.js';
import { type Settlement, planAuthorization, settleAuthorization } from '../ledger/withdrawals.js';
import type { BatchOp } from '../store/database.js';
import type { CustomerSession, OperationHandler, OperationTable, RequestContext } from './context.js';
import {
  dailyWithdrawalUsedCents,
  describeSession,
  newSession,
  requireReachableAccount,
  withdrawalScope,
} from './session.js';

export interface BankingOptions {
  /** Tests pass a cheap cost; production uses SCRYPT_COST_PRODUCTION. Existing hashes verify with the
   *  cost stored in them, whatever this says. */
  readonly scryptCost?: ScryptCost;
}

/** One request's run: collects the audit facts as the handler learns them and makes sure `finish` is
 *  called exactly once, with a matching audit event. */
class OperationRun<T extends MessageType> {
  finished = false;
  customerId: string | undefined;
  amountCents: number | undefined;
  readonly detail: Record<string, string | number | boolean> = {};

  constructor(readonly ctx: RequestContext<T>) {
    const session = ctx.connection.session;
    this.customerId = session?.customerId;
    if (session?.cardPan !== undefined) this.detail.cardLast4 = panLast4(session.cardPan);
  }

  get services() {
    return this.ctx.services;
  }

  private event(outcome: 'ok' | 'failed', reason?: string): AuditEvent {
    return {
      action: this.ctx.type,
      outcome,
      deviceId: this.ctx.connection.deviceId,
      requestId: this.ctx.requestId,
      ...(this.customerId !== undefined && { customerId: this.customerId }),
      ...(this.amountCents !== undefined && { amountCents: this.amountCents }),
      ...(reason !== undefined && { reason }),
      ...(Object.keys(this.detail).length > 0 && { detail: { ...this.detail } }),
    };
  }

  private claimFinish(): void {
    invariant(!this.finished, `${this.ctx.type} finished twice`);
    this.finished = true;
  }

  /** Writes `ops` with the success record and the reply, durably. Call inside the handler's locks. */
  async succeed(result: ResultOf<T>, ops: readonly BatchOp[] = []): Promise<ResultOf<T>> {
    this.claimFinish();
    await this.ctx.finish({ result }, { ops, events: [this.event('ok')] });
    return result;
  }

  /** Records a failure; `ops` are the state a failure changes (a PIN try, a sign-in failure counter). */
  async fail(error: ProtocolError, ops: readonly BatchOp[] = []): Promise<never> {
    this.claimFinish();
    await this.ctx.finish({ error }, { ops, events: [this.event('failed', error.code)] });
    throw error;
  }

  requireSession(): CustomerSession {
    const session = this.ctx.connection.session;
    if (session === undefined) throw new ProtocolError('NOT_SIGNED_IN');
    return session;
  }

  requireNoSession(): void {
    if (this.ctx.connection.session !== undefined) throw new ProtocolError('ALREADY_SIGNED_IN');
  }
}

type Work<T extends MessageType> = (run: OperationRun<T>, body: RequestBody<T>) => Promise<ResultOf<T>>;

/** A ProtocolError thrown before the handler finished changed nothing: record it as a failed action. */
function operation<T extends MessageType>(work: Work<T>): OperationHandler<T> {
  return async (ctx, body) => {
    const run = new OperationRun(ctx);
    try {
      return await work(run, body);
    } catch (error) {
      if (error instanceof ProtocolError && !run.finished) await run.fail(error);
      throw error;
    }
  };
}

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
  return locks.withLocks([cardKey(pan)], async () => {
    const stored = await readCard(db, pan);
    if (stored !== undefined) run.customerId = stored.customerId;
    const card = requireUsableCard(stored, nowMs);
    const pin = decodePin(pinBlock, pan, run.ctx.devicePinKey());
    if (!pinMatches(keys.pinVerify, pan, pin, card.pinVerificationValue)) {
      const triesFailed = card.pinTriesFailed + 1;
      const blocked = triesFailed >= config.maxPinTries;
      const updated: CardRecord = blocked
        ? { ...card, pinTriesFailed: triesFailed, status: 'blocked', blockedReason: 'pin-tries' }
        : { ...card, pinTriesFailed: triesFailed };
      run.detail.pinTriesFailed = triesFailed;
      return run.fail(new ProtocolError(blocked ? 'CARD_BLOCKED' : 'WRONG_PIN'), [{ type: 'put', key: cardKey(pan), value: updated }]);
    }
    const customer = await readCustomer(db, card.customerId);
    invariant(customer !== undefined, `card ending ${panLast4(pan)} names a missing customer`);
    const ops: BatchOp[] = card.pinTriesFailed > 0 ? [{ type: 'put', key: cardKey(pan), value: { ...card, pinTriesFailed: 0 } }] : [];
    const info = await describeSession(run.services, customer, nowMs, card);
    await run.succeed(info, ops);
    run.ctx.connection.session = newSession(customer, nowMs, card);
    return info;
  });
};

const signOut: Work<'signout'> = async (run) => {
  const result = await run.succeed({});
  run.ctx.connection.session = undefined;
  return result;
};

const balance: Work<'balance'> = async (run, { accountId }) => {
  const session = run.requireSession();
  run.detail.accountId = accountId;
  const account = await requireReachableAccount(run.services, session, accountId, run.ctx.nowMs);
  return run.succeed(summarizeAccount(account));
};

const deposit: Work<'deposit'> = async (run, { accountId, amountCents }) => {
  const session = run.requireSession();
  const { db, locks, config } = run.services;
  const { nowMs, connection } = run.ctx;
  run.amountCents = amountCents;
  run.detail.accountId = accountId;
  validateDepositCents(amountCents);
  await requireReachableAccount(run.services, session, accountId, nowMs);
  const cashId = cashAccountId(connection.deviceId);
  return locks.withLocks([accountKey(accountId), accountKey(cashId)], async () => {
    const account = await readAccount(db, accountId);
    invariant(account !== undefined, `account ${accountId} vanished`);
    const cash = await readCashAccount(db, connection.deviceId, config.currency, nowMs);
    const move = planMove({
      from: cash,
      to: account,
      amountCents,
      fromKind: 'deposit',
      toKind: 'deposit',
      postingId: newPostingId(),
      timestampMs: nowMs,
      deviceId: connection.deviceId,
      requestId: run.ctx.requestId,
    });
    return run.succeed({ postingId: move.legs[1].postingId, account: summarizeAccount(move.to) }, move.ops);
  });
};

const authorizeWithdrawal: Work<'withdraw.authorize'> = async (run, { accountId, amountCents }) => {
  const session = run.requireSession();
  const { db, locks, config } = run.services;
  const { nowMs, connection } = run.ctx;
  run.amountCents = amountCents;
  run.detail.accountId = accountId;
  validateWithdrawalCents(amountCents, config);
  await requireReachableAccount(run.services, session, accountId, nowMs);
  // The daily total is shared by every account the card (or customer) reaches: lock it too.
  const dailyKey = dailyWithdrawalKey(withdrawalScope(session), nowMs);
  return locks.withLocks([accountKey(accountId), dailyKey], async () => {
    const account = await readAccount(db, accountId);
    invariant(account !== undefined, `account ${accountId} vanished`);
    const planned = planAuthorization({
      account,
      amountCents,
      dailyKey,
      dailyUsedCents: await dailyWithdrawalUsedCents(run.services, dailyKey),
      dailyLimitCents: config.dailyWithdrawalLimitCents,
      deviceId: connection.deviceId,
      nowMs,
      requestId: run.ctx.requestId,
      ...(session.cardPan !== undefined && { cardLast4: panLast4(session.cardPan) }),
    });
    run.detail.authorizationId = planned.hold.authorizationId;
    return run.succeed(
      { authorizationId: planned.hold.authorizationId, amountCents, account: summarizeAccount(planned.account) },
      planned.ops,
    );
  });
};

/** Completion and reversal need no session (the kiosk may have rebooted since it dispensed) but must
 *  come from the device that authorized. */
function settle<T extends 'withdraw.complete' | 'withdraw.reverse'>(
  run: OperationRun<T>,
  authorizationId: string,
  settlement: Settlement,
  answer: (result: { postedCents: number; releasedCents: number }) => ResultOf<T>,
): Promise<ResultOf<T>> {
  const { config } = run.services;
  run.detail.authorizationId = authorizationId;
  return settleAuthorization(
    run.services,
    authorizationId,
    settlement,
    { deviceId: run.ctx.connection.deviceId, nowMs: run.ctx.nowMs, requestId: run.ctx.requestId, settledBy: 'device', currency: config.currency },
    (plan) => {
      run.customerId = plan.hold.customerId;
      run.amountCents = plan.result.postedCents;
      run.detail.accountId = plan.hold.accountId;
      run.detail.releasedCents = plan.result.releasedCents;
      if (plan.repeated) run.detail.repeated = true;
      return run.succeed(answer(plan.result), plan.ops);
    },
  );
}

const completeWithdrawal: Work<'withdraw.complete'> = (run, { authorizationId, dispensedCents }) =>
  settle(run, authorizationId, { kind: 'complete', dispensedCents }, (result) => ({
    authorizationId,
    postedCents: result.postedCents,
    releasedCents: result.releasedCents,
  }));

const reverseWithdrawal: Work<'withdraw.reverse'> = (run, { authorizationId }) =>
  settle(run, authorizationId, { kind: 'reverse' }, (result) => ({ authorizationId, releasedCents: result.releasedCents }));

const history: Work<'history'> = async (run, body) => {
  const session = run.requireSession();
  run.detail.accountId = body.accountId;
  await requireReachableAccount(run.services, session, body.accountId, run.ctx.nowMs);
  const page = await readHistory(run.services.db, body, HISTORY_PAGE_SIZE_MAX);
  return run.succeed(page.nextCursor !== undefined ? { entries: page.entries, nextCursor: page.nextCursor } : { entries: page.entries });
};

const transfer: Work<'transfer'> = async (run, { fromAccountId, toAccountId, amountCents }) => {
  const session = run.requireSession();
  const { db, locks } = run.services;
  const nowMs = run.ctx.nowMs;
  run.amountCents = amountCents;
  run.detail.accountId = fromAccountId;
  run.detail.toAccountId = toAccountId;
  validateTransferCents(amountCents);
  if (fromAccountId === toAccountId) throw new ProtocolError('SAME_ACCOUNT');
  await requireReachableAccount(run.services, session, fromAccountId, nowMs);
  await requireReachableAccount(run.services, session, toAccountId, nowMs);
  return locks.withLocks([accountKey(fromAccountId), accountKey(toAccountId)], async () => {
    const [from, to] = await Promise.all([readAccount(db, fromAccountId), readAccount(db, toAccountId)]);
    invariant(from !== undefined && to !== undefined, 'a transfer account vanished');
    if (amountCents > availableCents(from)) throw new ProtocolError('INSUFFICIENT_FUNDS');
    const move = planMove({
      from,
      to,
      amountCents,
      fromKind: 'transfer-out',
      toKind: 'transfer-in',
      postingId: newPostingId(),
      timestampMs: nowMs,
      deviceId: run.ctx.connection.deviceId,
      requestId: run.ctx.requestId,
    });
    return run.succeed({ postingId: move.legs[0].postingId, from: summarizeAccount(move.from), to: summarizeAccount(move.to) }, move.ops);
  });
};

export function createBankingOperations(options: BankingOptions = {}): OperationTable {
  const cost = options.scryptCost ?? SCRYPT_COST_PRODUCTION;
  return {
    register: operation(register(cost)),
    'signin.password': operation(signInWithPassword(cost)),
    'signin.card': operation(signInWithCard),
    signout: operation(signOut),
    balance: operation(balance),
    deposit: operation(deposit),
    'withdraw.authorize': operation(authorizeWithdrawal),
    'withdraw.complete': operation(completeWithdrawal),
    'withdraw.reverse': operation(reverseWithdrawal),
    history: operation(history),
    transfer: operation(transfer),
  };
}

export const bankingOperations: OperationTable = createBankingOperations();
