// Two-phase withdrawal. `authorize` places a hold (available balance drops, balance does not); the kiosk
// dispenses; `complete` turns the hold into a posting for what was actually dispensed and releases the
// rest, or `reverse` releases all of it. A hold that gets neither stays held until an operator resolves
// it: money on a hold is never moved by a timer, because only the kiosk (or a person) knows whether notes
// left the machine.
import { ProtocolError } from '../../protocol/errors.js';
import type { BatchOp, KeyValueStore } from '../store/host-store.js';
import type { StoreLocks } from '../store/host-store.js';
import { readAccount, readCashAccount } from './accounts.js';
import { assertPositiveCents, assertSafeCents, availableCents, invariant } from './invariants.js';
import { newAuthorizationId, newPostingId, planMove, putAccount } from './journal.js';
import {
  type AccountRecord,
  type DailyWithdrawalRecord,
  type HoldRecord,
  accountKey,
  cashAccountId,
  holdDailyKeys,
  holdKey,
  openHoldKey,
} from './records.js';

/** One daily limit a withdrawal counts against: the customer's, and the card's when a card is used. */
export interface DailyLimit {
  readonly key: string;
  readonly usedCents: number;
  readonly limitCents: number;
}

export interface AuthorizationInput {
  /** The customer account, read under its lock. */
  readonly account: AccountRecord;
  readonly amountCents: number;
  /** Every daily limit the withdrawal counts against, each read under its lock. */
  readonly dailyLimits: readonly DailyLimit[];
  readonly deviceId: string;
  readonly nowMs: number;
  readonly requestId?: string;
  readonly cardLast4?: string;
}

export interface PlannedAuthorization {
  readonly hold: HoldRecord;
  readonly account: AccountRecord;
  readonly ops: readonly BatchOp[];
}

/** Throws DAILY_LIMIT_EXCEEDED or INSUFFICIENT_FUNDS (changing nothing), or plans the hold. */
export function planAuthorization(input: AuthorizationInput): PlannedAuthorization {
  const { account, amountCents } = input;
  assertPositiveCents(amountCents, 'withdrawal amount');
  invariant(account.kind !== 'cash' && account.customerId !== undefined, 'withdrawals come from customer accounts');
  invariant(input.dailyLimits.length > 0, 'a withdrawal counts against at least the customer\'s daily limit');
  // Open holds count toward the daily limits, so two quick authorizations cannot both slip under them.
  for (const limit of input.dailyLimits) {
    assertSafeCents(limit.usedCents, `daily withdrawal total ${limit.key}`);
    if (limit.usedCents + amountCents > limit.limitCents) throw new ProtocolError('DAILY_LIMIT_EXCEEDED');
  }
  if (amountCents > availableCents(account)) throw new ProtocolError('INSUFFICIENT_FUNDS');

  const hold: HoldRecord = {
    authorizationId: newAuthorizationId(),
    accountId: account.accountId,
    customerId: account.customerId,
    deviceId: input.deviceId,
    amountCents,
    dailyKeys: input.dailyLimits.map((limit) => limit.key),
    ...(input.cardLast4 !== undefined && { cardLast4: input.cardLast4 }),
    status: 'held',
    createdMs: input.nowMs,
    ...(input.requestId !== undefined && { requestId: input.requestId }),
  };
  const accountAfter: AccountRecord = { ...account, heldCents: account.heldCents + amountCents };
  return {
    hold,
    account: accountAfter,
    ops: [
      putAccount(accountAfter),
      { type: 'put', key: holdKey(hold.authorizationId), value: hold },
      { type: 'put', key: openHoldKey(hold.authorizationId), value: { createdMs: hold.createdMs } },
      ...input.dailyLimits.map((limit): BatchOp => ({ type: 'put', key: limit.key, value: { usedCents: limit.usedCents + amountCents } satisfies DailyWithdrawalRecord })),
    ],
  };
}

export type Settlement = { readonly kind: 'complete'; readonly dispensedCents: number } | { readonly kind: 'reverse' };

export interface SettlementResult {
  readonly authorizationId: string;
  readonly postedCents: number;
  readonly releasedCents: number;
  readonly postingId?: string;
}

export interface SettlementPlan {
  /** The hold as it was before this settlement (for audit facts). */
  readonly hold: HoldRecord;
  readonly result: SettlementResult;
  /** Empty when the hold was already settled the same way: a repeat answers the first result again. */
  readonly ops: readonly BatchOp[];
  readonly repeated: boolean;
}

function settledResult(hold: HoldRecord): SettlementResult {
  return {
    authorizationId: hold.authorizationId,
    postedCents: hold.postedCents ?? 0,
    releasedCents: hold.releasedCents ?? 0,
    ...(hold.postingId !== undefined && { postingId: hold.postingId }),
  };
}

/** Whether `settlement` says what the hold's settlement said. What counts is the cash: completing with 0
 *  dispensed and reversing both say no note left the kiosk, so either repeats the other. */
function sameSettlement(hold: HoldRecord, settlement: Settlement): boolean {
  const posted = settlement.kind === 'complete' ? settlement.dispensedCents : 0;
  return (hold.status === 'completed' || hold.status === 'reversed') && (hold.postedCents ?? 0) === posted;
}

interface SettlementState {
  readonly account: AccountRecord;
  readonly cash: AccountRecord;
  /** Each of the hold's daily counters, as read under its lock. */
  readonly dailyUsedCents: ReadonlyMap<string, number>;
  readonly nowMs: number;
  readonly requestId?: string;
  readonly settledBy: 'device' | 'operator';
}

/** Plans the settlement of a `held` hold; every amount check happens before any record changes. */
export function planSettlement(hold: HoldRecord, settlement: Settlement, state: SettlementState): SettlementPlan {
  invariant(hold.status === 'held', `hold ${hold.authorizationId} is already ${hold.status}`);
  invariant(state.account.accountId === hold.accountId, 'settlement read the wrong account');
  const postedCents = settlement.kind === 'complete' ? settlement.dispensedCents : 0;
  if (!Number.isSafeInteger(postedCents) || postedCents < 0 || postedCents > hold.amountCents) {
    throw new ProtocolError('BAD_AMOUNT', 'the dispensed amount must be between 0 and the authorized amount');
  }
  const releasedCents = hold.amountCents - postedCents;
  invariant(state.account.heldCents >= hold.amountCents, `account ${hold.accountId} holds less than hold ${hold.authorizationId}`);
  const dailyKeys = holdDailyKeys(hold);
  for (const key of dailyKeys) invariant((state.dailyUsedCents.get(key) ?? 0) >= releasedCents, `daily total ${key} is below the amount released`);

  const ops: BatchOp[] = [];
  const released: AccountRecord = { ...state.account, heldCents: state.account.heldCents - hold.amountCents };
  let postingId: string | undefined;
  if (postedCents > 0) {
    postingId = newPostingId();
    const move = planMove({
      from: released,
      to: state.cash,
      amountCents: postedCents,
      fromKind: 'withdrawal',
      toKind: 'withdrawal',
      postingId,
      timestampMs: state.nowMs,
      deviceId: hold.deviceId,
      authorizationId: hold.authorizationId,
      ...(state.requestId !== undefined && { requestId: state.requestId }),
    });
    ops.push(...move.ops);
  } else {
    ops.push(putAccount(released));
  }
  const settled: HoldRecord = {
    ...hold,
    status: settlement.kind === 'complete' ? 'completed' : 'reversed',
    settledMs: state.nowMs,
    postedCents,
    releasedCents,
    ...(postingId !== undefined && { postingId }),
    settledBy: state.settledBy,
  };
  ops.push(
    { type: 'put', key: holdKey(hold.authorizationId), value: settled },
    { type: 'del', key: openHoldKey(hold.authorizationId) },
    ...dailyKeys.map((key): BatchOp => ({ type: 'put', key, value: { usedCents: (state.dailyUsedCents.get(key) ?? 0) - releasedCents } satisfies DailyWithdrawalRecord })),
  );
  return { hold, result: settledResult(settled), ops, repeated: false };
}

export async function readHold(db: KeyValueStore, authorizationId: string): Promise<HoldRecord | undefined> {
  const hold = await db.get<HoldRecord>(holdKey(authorizationId));
  if (hold !== undefined) invariant(hold.authorizationId === authorizationId, `hold record ${authorizationId} is misfiled`);
  return hold;
}

export interface SettleOptions {
  /** When set (a kiosk asking), the hold must have been authorized by this device. */
  readonly deviceId?: string;
  readonly nowMs: number;
  readonly requestId?: string;
  readonly settledBy: 'device' | 'operator';
  readonly currency: string;
  /** A kiosk settling a hold an operator already settled differently: what to do instead of refusing
   *  (the kiosk's report is a fact about notes that the bank must see, not a request to refuse). */
  readonly onOperatorSettled?: (hold: HoldRecord) => Promise<never>;
}

/** What a settlement of `hold` locks: the hold, the customer's account, the kiosk's cash account and the
 *  daily totals the hold counts against (all fixed when it was authorized). */
export function settlementLockKeys(hold: HoldRecord): string[] {
  return [holdKey(hold.authorizationId), accountKey(hold.accountId), accountKey(cashAccountId(hold.deviceId)), ...holdDailyKeys(hold)];
}

/** Reads the hold, takes the locks of everything a settlement touches, plans it and hands the plan to
 *  `write` while the locks are still held (the caller writes the plan's ops in its one batch). Throws
 *  UNKNOWN_AUTHORIZATION, AUTHORIZATION_SETTLED or BAD_AMOUNT without writing anything. */
export async function settleAuthorization<R>(
  store: { readonly db: KeyValueStore; readonly locks: StoreLocks },
  authorizationId: string,
  settlement: Settlement,
  options: SettleOptions,
  write: (plan: SettlementPlan) => Promise<R>,
): Promise<R> {
  const { db, locks } = store;
  const first = await readHold(db, authorizationId);
  // Another device's authorization is reported as unknown: a kiosk learns nothing about other kiosks.
  if (first === undefined || (options.deviceId !== undefined && first.deviceId !== options.deviceId)) {
    throw new ProtocolError('UNKNOWN_AUTHORIZATION');
  }
  return locks.withLocks(settlementLockKeys(first), async () => {
    // Re-read under the lock: a concurrent settlement may have landed since the first read.
    const hold = await readHold(db, authorizationId);
    invariant(hold !== undefined, `hold ${authorizationId} disappeared`);
    if (hold.status !== 'held') {
      if (!sameSettlement(hold, settlement)) {
        if (hold.settledBy === 'operator' && options.onOperatorSettled !== undefined) return options.onOperatorSettled(hold);
        throw new ProtocolError('AUTHORIZATION_SETTLED');
      }
      return write({ hold, result: settledResult(hold), ops: [], repeated: true });
    }
    const dailyKeys = holdDailyKeys(hold);
    const [account, cash, ...dailies] = await Promise.all([
      readAccount(db, hold.accountId),
      readCashAccount(db, hold.deviceId, options.currency, options.nowMs),
      ...dailyKeys.map((key) => db.get<DailyWithdrawalRecord>(key)),
    ]);
    invariant(account !== undefined, `account ${hold.accountId} of hold ${authorizationId} is missing`);
    const plan = planSettlement(hold, settlement, {
      account,
      cash,
      dailyUsedCents: new Map(dailyKeys.map((key, i) => [key, (dailies[i] as DailyWithdrawalRecord | undefined)?.usedCents ?? 0])),
      nowMs: options.nowMs,
      settledBy: options.settledBy,
      ...(options.requestId !== undefined && { requestId: options.requestId }),
    });
    return write(plan);
  });
}
