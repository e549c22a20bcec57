// Deposits of counted notes. `deposit.open` (the customer is there, signed in) names the account and learns
// which notes this kiosk's acceptor takes and how much more the customer may deposit today; the kiosk then
// stacks notes, journalling each before anything else; `deposit.commit` (sessionless, so a rebooted kiosk
// can finish it) credits exactly the notes stacked. There is no way to deposit an amount: the credit is
// always the host's sum of the notes.
import { ProtocolError } from '../../protocol/errors.js';
import type { ResultOf } from '../../protocol/messages.js';
import { kioskStatusKey, readKioskStatus } from '../devices/kiosk-status.js';
import { readAccount, summarizeAccount } from '../ledger/accounts.js';
import {
  depositRemainingTodayCents,
  planDepositCommit,
  planDepositOpen,
  readDailyDeposits,
  readDeposit,
  sameNotes,
  sumNotes,
} from '../ledger/deposits.js';
import { exceptionIdFor, exceptionOps } from '../ledger/exceptions.js';
import { invariant } from '../ledger/invariants.js';
import { newCashAccount } from '../ledger/journal.js';
import { DEPOSIT_PREFIX, type DepositRecord, accountKey, cashboxAccountId, dailyDepositKey, depositKey } from '../ledger/records.js';
import type { OperationTable } from './context.js';
import { type Work, operation } from './run.js';
import { accountAsSeen, requireReachableAccount, sessionReads } from './session.js';

const openDeposit: Work<'deposit.open'> = async (run, { accountId }) => {
  const session = run.requireSession();
  const { db, config } = run.services;
  const { nowMs, connection } = run.ctx;
  run.detail.accountId = accountId;
  const account = await requireReachableAccount(run.services, session, accountId, nowMs);
  const acceptor = (await readKioskStatus(db, connection.deviceId))?.status.noteAcceptor;
  if (acceptor === undefined) throw new ProtocolError('DEPOSITS_UNAVAILABLE');
  const remainingTodayCents = depositRemainingTodayCents(await readDailyDeposits(db, session.customerId, nowMs), config);
  if (remainingTodayCents === 0) throw new ProtocolError('DEPOSIT_LIMIT_EXCEEDED');
  const planned = planDepositOpen({ deviceId: connection.deviceId, account, denominationsCents: acceptor.denominationsCents, nowMs, requestId: run.ctx.requestId });
  run.detail.depositId = planned.deposit.depositId;
  return run.succeed({ depositId: planned.deposit.depositId, denominationsCents: [...acceptor.denominationsCents], remainingTodayCents }, planned.ops);
};

function committedResult(deposit: DepositRecord, account: ResultOf<'deposit.commit'>['account']): ResultOf<'deposit.commit'> {
  return {
    depositId: deposit.depositId,
    creditedCents: deposit.creditedCents ?? 0,
    availableNowCents: deposit.availableNowCents ?? 0,
    heldCents: deposit.heldCents ?? 0,
    ...(deposit.releaseAtMs !== undefined && { releaseAtMs: deposit.releaseAtMs }),
    ...(deposit.postingId !== undefined && { postingId: deposit.postingId }),
    account,
  };
}

/** What a deposit's commit locks: the deposit, the customer's account, the kiosk's cashbox account and the
 *  customer's deposits of the day. */
function depositCommitLockKeys(deposit: DepositRecord, nowMs: number): string[] {
  return [depositKey(deposit.depositId), accountKey(deposit.accountId), accountKey(cashboxAccountId(deposit.deviceId)), dailyDepositKey(deposit.customerId, nowMs)];
}

const commitDeposit: Work<'deposit.commit'> = async (run, { depositId, notes }) => {
  const { db, locks, config } = run.services;
  const { nowMs, connection } = run.ctx;
  run.detail.depositId = depositId;
  const first = await readDeposit(db, depositId);
  // Another kiosk's deposit is reported as unknown: a kiosk learns nothing about other kiosks.
  if (first === undefined || first.deviceId !== connection.deviceId) throw new ProtocolError('UNKNOWN_DEPOSIT');
  run.customerId = first.customerId;
  run.detail.accountId = first.accountId;
  // Checked before any lock: a bad list changes nothing.
  run.amountCents = sumNotes(notes, first.denominationsCents);
  const cashboxId = cashboxAccountId(first.deviceId);
  return locks.withLocks(depositCommitLockKeys(first, nowMs), async () => {
    const deposit = await readDeposit(db, depositId);
    invariant(deposit !== undefined, `deposit ${depositId} disappeared`);
    if (deposit.status !== 'open') {
      // The same notes again (a kiosk that did not hear the answer) get the first answer; other notes are
      // refused: a deposit is credited once.
      if (!sameNotes(deposit.notes ?? [], notes)) throw new ProtocolError('DEPOSIT_SETTLED');
      run.detail.repeated = true;
      const account = await readAccount(db, deposit.accountId);
      invariant(account !== undefined, `account ${deposit.accountId} of deposit ${depositId} is missing`);
      return run.succeed(committedResult(deposit, summarizeAccount(await accountAsSeen(run.services, account, nowMs))));
    }
    const [account, cashbox] = await Promise.all([readAccount(db, deposit.accountId), readAccount(db, cashboxId)]);
    invariant(account !== undefined, `account ${deposit.accountId} of deposit ${depositId} is missing`);
    const plan = planDepositCommit({
      deposit,
      notes,
      account,
      cashbox: cashbox ?? { ...newCashAccount(deposit.deviceId, cashboxId, config.currency, nowMs), container: 'cashbox' },
      daily: await readDailyDeposits(db, deposit.customerId, nowMs),
      policy: config,
      nowMs,
      requestId: run.ctx.requestId,
    });
    run.detail.heldCents = plan.heldCents;
    const ops = [...plan.ops];
    if (plan.overCapCents > 0) {
      run.detail.overCapCents = plan.overCapCents;
      ops.push(
        ...(await exceptionOps(db, {
          exceptionId: exceptionIdFor('deposit-over-cap', depositId),
          kind: 'deposit-over-cap',
          deviceId: deposit.deviceId,
          customerId: deposit.customerId,
          accountId: deposit.accountId,
          depositId,
          amountCents: plan.overCapCents,
          detail: `credited ${plan.creditedCents} cents of stacked notes, ${plan.overCapCents} cents beyond the daily deposit cap`,
          createdMs: nowMs,
        })),
      );
    }
    return run.succeed(committedResult(plan.deposit, summarizeAccount(await accountAsSeen(run.services, plan.account, nowMs))), ops);
  });
};

export const depositOperations: OperationTable = {
  'deposit.open': operation(openDeposit, ({ deviceId, session, nowMs }, { accountId }) =>
    session === undefined ? [] : [...sessionReads(session), accountKey(accountId), kioskStatusKey(deviceId), dailyDepositKey(session.customerId, nowMs)],
  ),
  'deposit.commit': operation(
    commitDeposit,
    (_request, { depositId }) => [depositKey(depositId)],
    // The deposit as this host opened it, when it did (a kiosk usually commits where it opened).
    ({ recall, deviceId, nowMs }, { depositId }) => {
      const opened = recall<DepositRecord>(depositKey(depositId));
      return opened === undefined || opened.deviceId !== deviceId ? [] : depositCommitLockKeys(opened, nowMs);
    },
    [DEPOSIT_PREFIX],
  ),
};
