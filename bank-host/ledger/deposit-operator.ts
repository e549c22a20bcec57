// Operators and deposits: the deposit holds still held (and releasing one after verifying the cashbox), the
// deposits a kiosk opened and never committed, the host's sweep that releases holds whose period has ended,
// and the money exceptions (exceptions.ts) waiting for someone.
import { type OperatorServices, runOperatorAction } from '../audit/operator-action.js';
import { AdminError } from '../errors.js';
import type { BatchOp, KeyValueStore } from '../store/host-store.js';
import { planDepositHoldRelease, readDeposit } from './deposits.js';
import { type LedgerExceptionRecord, listExceptions, readException, resolvedExceptionOps } from './exceptions.js';
import { invariant } from './invariants.js';
import { readAccount } from './accounts.js';
import {
  DEPOSIT_HOLD_DUE_PREFIX,
  type DepositHoldRecord,
  type DepositRecord,
  OPEN_DEPOSIT_PREFIX,
  accountKey,
  depositHoldDueKey,
  depositHoldKey,
} from './records.js';

/** Listed at most per call. */
export const DEPOSITS_LISTED_MAX = 1_000;
/** Deposit holds the sweep releases per batch, so one sweep never stalls the committer. */
export const DEPOSIT_HOLD_SWEEP_BATCH = 200;

export async function readDepositHold(db: Pick<KeyValueStore, 'get'>, holdId: string): Promise<DepositHoldRecord | undefined> {
  const hold = await db.get<DepositHoldRecord>(depositHoldKey(holdId));
  if (hold !== undefined) invariant(hold.holdId === holdId, `deposit hold record ${holdId} is misfiled`);
  return hold;
}

/** Deposit holds still held, soonest release first. */
export async function listDepositHolds(db: Pick<KeyValueStore, 'get' | 'entries'>, limit = DEPOSITS_LISTED_MAX): Promise<DepositHoldRecord[]> {
  const holds: DepositHoldRecord[] = [];
  for await (const [key] of db.entries<unknown>(DEPOSIT_HOLD_DUE_PREFIX, { limit: Math.min(limit, DEPOSITS_LISTED_MAX) })) {
    const hold = await readDepositHold(db, key.slice(key.lastIndexOf(':') + 1));
    if (hold !== undefined && hold.status === 'held') holds.push(hold);
  }
  return holds;
}

/** Deposits opened and never committed, oldest first: each may hold notes only the kiosk's journal (or a
 *  count of its cashbox) can tell about. */
export async function listOpenDeposits(db: Pick<KeyValueStore, 'get' | 'entries'>, limit = DEPOSITS_LISTED_MAX): Promise<DepositRecord[]> {
  const deposits: DepositRecord[] = [];
  for await (const [key] of db.entries<unknown>(OPEN_DEPOSIT_PREFIX)) {
    const deposit = await readDeposit(db, key.slice(key.lastIndexOf(':') + 1));
    if (deposit !== undefined && deposit.status === 'open') deposits.push(deposit);
  }
  return deposits.sort((a, b) => a.openedMs - b.openedMs).slice(0, Math.min(limit, DEPOSITS_LISTED_MAX));
}

/** Releases one deposit hold under its account's lock, writing the release with `commit` (which adds the
 *  audit record); false when the hold was no longer held once the lock was taken. */
async function releaseDepositHold(
  services: OperatorServices,
  holdId: string,
  releasedBy: 'time' | 'operator',
  commit: (hold: DepositHoldRecord, ops: readonly BatchOp[]) => Promise<void>,
): Promise<boolean> {
  const { db, locks } = services;
  const first = await readDepositHold(db, holdId);
  if (first === undefined) return false;
  return locks.withLocks([accountKey(first.accountId), depositHoldKey(holdId)], async () => {
    const hold = await readDepositHold(db, holdId);
    if (hold === undefined || hold.status !== 'held') return false;
    const account = await readAccount(db, hold.accountId);
    invariant(account !== undefined, `account ${hold.accountId} of deposit hold ${holdId} is missing`);
    await commit(hold, planDepositHoldRelease(account, [hold], releasedBy, services.now()).ops);
    return true;
  });
}

const releaseFacts = (hold: DepositHoldRecord, releasedBy: 'time' | 'operator') => ({
  holdId: hold.holdId,
  depositId: hold.depositId,
  accountId: hold.accountId,
  deviceId: hold.deviceId,
  releasedBy,
});

/** The host's sweep: releases the deposit holds whose period has ended, a bounded batch per call; returns
 *  how many it released. */
export async function sweepDueDepositHolds(services: OperatorServices): Promise<number> {
  const due: string[] = [];
  const upper = depositHoldDueKey(services.now(), '\xff');
  for await (const [key] of services.db.entries<unknown>(DEPOSIT_HOLD_DUE_PREFIX, { lte: upper, limit: DEPOSIT_HOLD_SWEEP_BATCH })) due.push(key.slice(key.lastIndexOf(':') + 1));
  let released = 0;
  for (const holdId of due) {
    const done = await releaseDepositHold(services, holdId, 'time', (hold, ops) =>
      services.committer.commit({
        ops,
        events: [{ action: 'deposit.hold.release', outcome: 'ok', customerId: hold.customerId, deviceId: hold.deviceId, amountCents: hold.amountCents, detail: releaseFacts(hold, 'time') }],
      }),
    );
    if (done) released++;
  }
  return released;
}

/** An operator releases a deposit hold before its time (the cashbox was counted and the notes are there). */
export async function releaseDepositHoldByOperator(services: OperatorServices, holdId: string): Promise<DepositHoldRecord> {
  return runOperatorAction(services, 'deposit.hold.release', async (run) => {
    run.facts.detail = { holdId };
    const hold = await readDepositHold(services.db, holdId);
    if (hold === undefined) throw new AdminError('UNKNOWN_DEPOSIT_HOLD', `no deposit hold ${holdId}`);
    run.facts.customerId = hold.customerId;
    run.facts.amountCents = hold.amountCents;
    run.facts.detail = releaseFacts(hold, 'operator');
    const released = await releaseDepositHold(services, holdId, 'operator', (_, ops) => run.commit(ops));
    if (!released) throw new AdminError('DEPOSIT_HOLD_RELEASED', `deposit hold ${holdId} was already released`);
    const after = await readDepositHold(services.db, holdId);
    invariant(after !== undefined && after.status === 'released', `deposit hold ${holdId} was not released`);
    return after;
  });
}

export async function listMoneyExceptions(services: OperatorServices, all: boolean): Promise<LedgerExceptionRecord[]> {
  return listExceptions(services.db, { all, limit: DEPOSITS_LISTED_MAX });
}

/** An operator records how an exception was resolved (after counting the kiosk, adjusting by hand, or
 *  contacting the customer); the record stays, resolved, for the auditors. */
export async function resolveMoneyException(services: OperatorServices, exceptionId: string, resolution: string): Promise<LedgerExceptionRecord> {
  return runOperatorAction(services, 'exception.resolve', async (run) => {
    run.facts.detail = { exceptionId };
    return services.locks.withLocks([`exc:${exceptionId}`], async () => {
      const exception = await readException(services.db, exceptionId);
      if (exception === undefined) throw new AdminError('UNKNOWN_EXCEPTION', `no money exception ${exceptionId}`);
      if (exception.customerId !== undefined) run.facts.customerId = exception.customerId;
      run.facts.amountCents = exception.amountCents;
      if (exception.status === 'resolved') {
        run.facts.detail = { exceptionId, repeated: true };
        await run.commit([]);
        return exception;
      }
      const nowMs = services.now();
      await run.commit(resolvedExceptionOps(exception, resolution, nowMs));
      return { ...exception, status: 'resolved' as const, resolvedMs: nowMs, resolution };
    });
  });
}
