// The money a signed-in customer moves and looks at: balances, two-phase withdrawals, transfers between
// their own accounts, and history. Deposits are in deposits.ts.
import { ProtocolError } from '../../protocol/errors.js';
import { HISTORY_PAGE_SIZE_MAX, type ResultOf } from '../../protocol/messages.js';
import { kioskStatusKey, readKioskStatus } from '../devices/kiosk-status.js';
import { readAccount, summarizeAccount } from '../ledger/accounts.js';
import { requirePayable, validateTransferCents, validateWithdrawalCents } from '../ledger/amounts.js';
import { releaseDueDepositHolds, withoutAccountPut } from '../ledger/deposits.js';
import { exceptionIdFor, exceptionOps } from '../ledger/exceptions.js';
import { readHistory } from '../ledger/history.js';
import { availableCents, invariant } from '../ledger/invariants.js';
import { newPostingId, planMove } from '../ledger/journal.js';
import { HOLD_PREFIX, type HoldRecord, accountKey, holdKey } from '../ledger/records.js';
import { type Settlement, planAuthorization, settleAuthorization, settlementLockKeys } from '../ledger/withdrawals.js';
import type { CustomerSession, OperationTable, RequestFacts } from './context.js';
import { type OperationRun, type Work, operation } from './run.js';
import { accountAsSeen, dailyWithdrawalLimitKeys, readDailyLimits, requireReachableAccount, sessionReads } from './session.js';

const balance: Work<'balance'> = async (run, { accountId }) => {
  const session = run.requireSession();
  run.detail.accountId = accountId;
  const account = await requireReachableAccount(run.services, session, accountId, run.ctx.nowMs);
  return run.succeed(summarizeAccount(await accountAsSeen(run.services, account, run.ctx.nowMs)));
};

const authorizeWithdrawal: Work<'withdraw.authorize'> = async (run, { accountId, amountCents }) => {
  const session = run.requireSession();
  const { db, locks, config } = run.services;
  const { nowMs, connection } = run.ctx;
  run.amountCents = amountCents;
  run.detail.accountId = accountId;
  validateWithdrawalCents(amountCents, config);
  requirePayable(amountCents, (await readKioskStatus(db, connection.deviceId))?.status.cassettes);
  await requireReachableAccount(run.services, session, accountId, nowMs);
  const { limitKeys, keys } = authorizationLocks(config, session, accountId, nowMs);
  return locks.withLocks(keys, async () => {
    const read = await readAccount(db, accountId);
    invariant(read !== undefined, `account ${accountId} vanished`);
    // Deposit holds whose period ended are released in this batch, so the customer can spend them now.
    const released = await releaseDueDepositHolds(db, read, nowMs);
    const planned = planAuthorization({
      account: released.account,
      amountCents,
      dailyLimits: await readDailyLimits(run.services, limitKeys),
      deviceId: connection.deviceId,
      nowMs,
      requestId: run.ctx.requestId,
      ...(session.cardLast4 !== undefined && { cardLast4: session.cardLast4 }),
    });
    run.detail.authorizationId = planned.hold.authorizationId;
    return run.succeed(
      { authorizationId: planned.hold.authorizationId, amountCents, account: summarizeAccount(planned.account) },
      [...withoutAccountPut(released.ops, accountId), ...planned.ops],
    );
  });
};

/** What an authorization locks: the account, and the daily totals, which are shared by every account the
 *  customer (and the card) reaches. */
function authorizationLocks(config: RequestFacts['config'], session: CustomerSession, accountId: string, nowMs: number) {
  const limitKeys = dailyWithdrawalLimitKeys(config, session, nowMs);
  return { limitKeys, keys: [accountKey(accountId), ...limitKeys.map((limit) => limit.key)] };
}

/** What a transfer locks: both accounts. */
const transferLocks = (fromAccountId: string, toAccountId: string) => [accountKey(fromAccountId), accountKey(toAccountId)];

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
    {
      deviceId: run.ctx.connection.deviceId,
      nowMs: run.ctx.nowMs,
      requestId: run.ctx.requestId,
      settledBy: 'device',
      currency: config.currency,
      onOperatorSettled: (hold) => recordOperatorSettledDispense(run, hold, settlement),
    },
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

/** The kiosk says it dispensed (or did not) for a hold an operator settled otherwise. That is a fact about
 *  cash the bank must see: it is recorded as an open exception (with the kiosk's figure), the kiosk is told
 *  SETTLED_BY_OPERATOR so it closes its journal, and nothing else in the ledger moves. */
async function recordOperatorSettledDispense<T extends 'withdraw.complete' | 'withdraw.reverse'>(run: OperationRun<T>, hold: HoldRecord, settlement: Settlement): Promise<never> {
  const dispensedCents = settlement.kind === 'complete' ? settlement.dispensedCents : 0;
  run.customerId = hold.customerId;
  run.detail.accountId = hold.accountId;
  run.detail.operatorPostedCents = hold.postedCents ?? 0;
  run.detail.kioskDispensedCents = dispensedCents;
  const ops = await exceptionOps(run.services.db, {
    exceptionId: exceptionIdFor('dispensed-after-operator-settlement', hold.authorizationId),
    kind: 'dispensed-after-operator-settlement',
    deviceId: hold.deviceId,
    customerId: hold.customerId,
    accountId: hold.accountId,
    authorizationId: hold.authorizationId,
    amountCents: dispensedCents,
    detail: `the kiosk reports ${dispensedCents} cents dispensed; an operator had ${hold.status} the hold, posting ${hold.postedCents ?? 0} cents`,
    createdMs: run.ctx.nowMs,
  });
  return run.fail(new ProtocolError('SETTLED_BY_OPERATOR'), ops);
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
  return locks.withLocks(transferLocks(fromAccountId, toAccountId), async () => {
    const [read, to] = await Promise.all([readAccount(db, fromAccountId), readAccount(db, toAccountId)]);
    invariant(read !== undefined && to !== undefined, 'a transfer account vanished');
    const released = await releaseDueDepositHolds(db, read, nowMs);
    const from = released.account;
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
    return run.succeed(
      { postingId: move.legs[0].postingId, from: summarizeAccount(move.from), to: summarizeAccount(await accountAsSeen(run.services, move.to, nowMs)) },
      [...withoutAccountPut(released.ops, fromAccountId), ...move.ops],
    );
  });
};

/** A settlement reads its hold first. */
const holdReads = (_request: RequestFacts, { authorizationId }: { authorizationId: string }) => [holdKey(authorizationId)];

/** And locks what the hold names, known before it runs when this host authorized it (a kiosk usually
 *  settles where it authorized). */
const holdLocks = ({ recall, deviceId }: RequestFacts, { authorizationId }: { authorizationId: string }) => {
  const hold = recall<HoldRecord>(holdKey(authorizationId));
  return hold === undefined || hold.deviceId !== deviceId ? [] : settlementLockKeys(hold);
};

export const moneyOperations: OperationTable = {
  balance: operation(balance, ({ session }, { accountId }) => [...sessionReads(session), accountKey(accountId)]),
  'withdraw.authorize': operation(
    authorizeWithdrawal,
    ({ deviceId, session }) => [kioskStatusKey(deviceId), ...sessionReads(session)],
    ({ session, config, nowMs }, { accountId }) => (session === undefined ? [] : authorizationLocks(config, session, accountId, nowMs).keys),
  ),
  'withdraw.complete': operation(completeWithdrawal, holdReads, holdLocks, [HOLD_PREFIX]),
  'withdraw.reverse': operation(reverseWithdrawal, holdReads, holdLocks, [HOLD_PREFIX]),
  history: operation(history),
  transfer: operation(
    transfer,
    ({ session }) => sessionReads(session),
    ({ session }, { fromAccountId, toAccountId }) => (session === undefined ? [] : transferLocks(fromAccountId, toAccountId)),
  ),
};
