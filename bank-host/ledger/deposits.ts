// Deposits of counted notes. A deposit is opened while the customer is at the kiosk and committed with the
// notes the kiosk's acceptor stacked: the credit is their sum, moved from the kiosk's cashbox account to the
// customer's account, never an amount anyone typed. Of the credit, what the host's funds-availability
// policy allows is spendable at once; the rest is a deposit hold, released when its period ends (the host's
// sweep) or when an operator releases it. Pure planning, no I/O: callers read under their locks and write
// the returned operations in their one batch.
import { randomBytes } from 'node:crypto';
import { ProtocolError } from '../../protocol/errors.js';
import { NOTES_PER_DEPOSIT_MAX, type NoteCount } from '../../protocol/messages.js';
import type { BatchOp, KeyValueStore } from '../store/host-store.js';
import { assertSafeCents, availableCents, invariant } from './invariants.js';
import { newPostingId, planMove, putAccount } from './journal.js';
import {
  type AccountRecord,
  type DailyDepositRecord,
  type DepositHoldRecord,
  type DepositRecord,
  accountKey,
  dailyDepositKey,
  depositHoldAccountKey,
  depositHoldAccountPrefix,
  depositHoldDueKey,
  depositHoldKey,
  depositKey,
  openDepositKey,
} from './records.js';

const ID_RANDOM_BYTES = 12;
export const newDepositId = (): string => `dep_${randomBytes(ID_RANDOM_BYTES).toString('hex')}`;
const newDepositHoldId = (): string => `dhd_${randomBytes(ID_RANDOM_BYTES).toString('hex')}`;

/** The host's funds-availability policy (host.json). */
export interface AvailabilityPolicy {
  readonly depositImmediateCentsPerDay: number;
  readonly depositHoldMs: number;
  readonly depositDailyCapCents: number;
}

export async function readDeposit(db: Pick<KeyValueStore, 'get'>, depositId: string): Promise<DepositRecord | undefined> {
  const deposit = await db.get<DepositRecord>(depositKey(depositId));
  if (deposit !== undefined) invariant(deposit.depositId === depositId, `deposit record ${depositId} is misfiled`);
  return deposit;
}

export async function readDailyDeposits(db: Pick<KeyValueStore, 'get'>, customerId: string, nowMs: number): Promise<DailyDepositRecord> {
  return (await db.get<DailyDepositRecord>(dailyDepositKey(customerId, nowMs))) ?? { depositedCents: 0, availableNowCents: 0 };
}

/** What the customer may still deposit today. */
export function depositRemainingTodayCents(daily: DailyDepositRecord, policy: AvailabilityPolicy): number {
  return Math.max(0, policy.depositDailyCapCents - daily.depositedCents);
}

export function planDepositOpen(input: {
  readonly deviceId: string;
  readonly account: AccountRecord;
  readonly denominationsCents: readonly number[];
  readonly nowMs: number;
  readonly requestId?: string;
}): { readonly deposit: DepositRecord; readonly ops: readonly BatchOp[] } {
  const { account } = input;
  invariant(account.kind !== 'cash' && account.customerId !== undefined, 'deposits go into customer accounts');
  const deposit: DepositRecord = {
    depositId: newDepositId(),
    deviceId: input.deviceId,
    accountId: account.accountId,
    customerId: account.customerId,
    denominationsCents: [...input.denominationsCents],
    status: 'open',
    openedMs: input.nowMs,
    ...(input.requestId !== undefined && { openRequestId: input.requestId }),
  };
  return {
    deposit,
    ops: [
      { type: 'put', key: depositKey(deposit.depositId), value: deposit },
      { type: 'put', key: openDepositKey(deposit.deviceId, deposit.depositId), value: { openedMs: deposit.openedMs } },
    ],
  };
}

/** The notes' total in cents. BAD_NOTES when a denomination is not one the deposit's kiosk accepted,
 *  appears twice, or a count is out of range; checked before anything is read. */
export function sumNotes(notes: readonly NoteCount[], denominationsCents: readonly number[]): number {
  const seen = new Set<number>();
  let totalNotes = 0;
  let totalCents = 0;
  for (const { denominationCents, count } of notes) {
    if (!denominationsCents.includes(denominationCents)) throw new ProtocolError('BAD_NOTES', `${denominationCents} cents is not a note this kiosk accepts`);
    if (seen.has(denominationCents)) throw new ProtocolError('BAD_NOTES', `${denominationCents} cents is listed twice`);
    if (!Number.isSafeInteger(count) || count < 1) throw new ProtocolError('BAD_NOTES', 'each listed denomination needs a count of at least 1');
    seen.add(denominationCents);
    totalNotes += count;
    totalCents += denominationCents * count;
  }
  if (totalNotes > NOTES_PER_DEPOSIT_MAX) throw new ProtocolError('BAD_NOTES', `a deposit holds at most ${NOTES_PER_DEPOSIT_MAX} notes`);
  assertSafeCents(totalCents, 'deposit total');
  return totalCents;
}

/** Two note lists name the same notes, whatever their order. */
export function sameNotes(a: readonly NoteCount[], b: readonly NoteCount[]): boolean {
  const key = (notes: readonly NoteCount[]) => [...notes].sort((x, y) => x.denominationCents - y.denominationCents).map((n) => `${n.denominationCents}x${n.count}`).join(',');
  return key(a) === key(b);
}

export interface DepositCommitInput {
  readonly deposit: DepositRecord;
  readonly notes: readonly NoteCount[];
  /** The customer account and the kiosk's cashbox account, read under their locks. */
  readonly account: AccountRecord;
  readonly cashbox: AccountRecord;
  readonly daily: DailyDepositRecord;
  readonly policy: AvailabilityPolicy;
  readonly nowMs: number;
  readonly requestId?: string;
}

export interface PlannedDepositCommit {
  readonly deposit: DepositRecord;
  /** The account after the credit. */
  readonly account: AccountRecord;
  readonly creditedCents: number;
  readonly availableNowCents: number;
  readonly heldCents: number;
  readonly ops: readonly BatchOp[];
  /** The customer deposited more today than the cap allows (the kiosk should have stopped taking notes;
   *  the notes are in the cashbox, so they are credited all the same). */
  readonly overCapCents: number;
}

/** Plans the commit of an open deposit: the credit, the split between available now and held, the
 *  day's counters, and the deposit record's final state. No notes closes the deposit without a posting. */
export function planDepositCommit(input: DepositCommitInput): PlannedDepositCommit {
  const { deposit, policy, nowMs } = input;
  invariant(deposit.status === 'open', `deposit ${deposit.depositId} is already ${deposit.status}`);
  invariant(input.account.accountId === deposit.accountId, 'deposit commit read the wrong account');
  const creditedCents = sumNotes(input.notes, deposit.denominationsCents);
  const closedBase = {
    ...deposit,
    notes: input.notes.map((n) => ({ denominationCents: n.denominationCents, count: n.count })),
    committedMs: nowMs,
  };
  const closeOps = (record: DepositRecord): BatchOp[] => [
    { type: 'put', key: depositKey(deposit.depositId), value: record },
    { type: 'del', key: openDepositKey(deposit.deviceId, deposit.depositId) },
  ];
  if (creditedCents === 0) {
    const cancelled: DepositRecord = { ...closedBase, status: 'cancelled', creditedCents: 0, availableNowCents: 0, heldCents: 0 };
    return { deposit: cancelled, account: input.account, creditedCents: 0, availableNowCents: 0, heldCents: 0, ops: closeOps(cancelled), overCapCents: 0 };
  }

  const immediateLeft = Math.max(0, policy.depositImmediateCentsPerDay - input.daily.availableNowCents);
  const availableNowCents = policy.depositHoldMs === 0 ? creditedCents : Math.min(creditedCents, immediateLeft);
  const heldCents = creditedCents - availableNowCents;
  const postingId = newPostingId();
  const move = planMove({
    from: input.cashbox,
    to: input.account,
    amountCents: creditedCents,
    fromKind: 'deposit',
    toKind: 'deposit',
    postingId,
    timestampMs: nowMs,
    deviceId: deposit.deviceId,
    ...(input.requestId !== undefined && { requestId: input.requestId }),
  });
  const ops: BatchOp[] = [];
  let account = move.to;
  let holdId: string | undefined;
  let releaseAtMs: number | undefined;
  if (heldCents > 0) {
    holdId = newDepositHoldId();
    releaseAtMs = nowMs + policy.depositHoldMs;
    const hold: DepositHoldRecord = {
      holdId,
      depositId: deposit.depositId,
      accountId: deposit.accountId,
      customerId: deposit.customerId,
      deviceId: deposit.deviceId,
      amountCents: heldCents,
      createdMs: nowMs,
      releaseAtMs,
      status: 'held',
    };
    account = { ...account, depositHeldCents: (account.depositHeldCents ?? 0) + heldCents };
    ops.push(
      { type: 'put', key: depositHoldKey(holdId), value: hold },
      { type: 'put', key: depositHoldDueKey(releaseAtMs, holdId), value: { accountId: hold.accountId } },
      { type: 'put', key: depositHoldAccountKey(hold.accountId, holdId), value: { releaseAtMs } },
    );
  }
  // The move's account operation is replaced by the one that carries the hold as well.
  ops.push(...withoutAccountPut(move.ops, account.accountId), putAccount(account));
  invariant(availableCents(account) === availableCents(input.account) + availableNowCents, 'a deposit makes available exactly its immediate part');
  const daily: DailyDepositRecord = {
    depositedCents: input.daily.depositedCents + creditedCents,
    availableNowCents: input.daily.availableNowCents + availableNowCents,
  };
  ops.push({ type: 'put', key: dailyDepositKey(deposit.customerId, nowMs), value: daily });
  const committed: DepositRecord = {
    ...closedBase,
    status: 'committed',
    creditedCents,
    availableNowCents,
    heldCents,
    postingId,
    ...(holdId !== undefined && { holdId, releaseAtMs }),
  };
  ops.push(...closeOps(committed));
  const overCapCents = Math.max(0, daily.depositedCents - policy.depositDailyCapCents) - Math.max(0, input.daily.depositedCents - policy.depositDailyCapCents);
  return { deposit: committed, account, creditedCents, availableNowCents, heldCents, ops, overCapCents };
}

/** The deposit holds of one account still held, read in full (an account has few at a time). */
export async function readHeldDepositHolds(db: Pick<KeyValueStore, 'get' | 'entries'>, accountId: string): Promise<DepositHoldRecord[]> {
  const holds: DepositHoldRecord[] = [];
  for await (const [key] of db.entries<unknown>(depositHoldAccountPrefix(accountId))) {
    const holdId = key.slice(depositHoldAccountPrefix(accountId).length);
    const hold = await db.get<DepositHoldRecord>(depositHoldKey(holdId));
    invariant(hold !== undefined && hold.holdId === holdId && hold.status === 'held', `deposit hold index ${key} names no held hold`);
    holds.push(hold);
  }
  return holds;
}

/** Releases `holds` (all of one account, each still held) from `account`; returns the account after and
 *  the operations. */
export function planDepositHoldRelease(
  account: AccountRecord,
  holds: readonly DepositHoldRecord[],
  releasedBy: 'time' | 'operator',
  nowMs: number,
): { readonly account: AccountRecord; readonly ops: readonly BatchOp[] } {
  if (holds.length === 0) return { account, ops: [] };
  let released = 0;
  const ops: BatchOp[] = [];
  for (const hold of holds) {
    invariant(hold.accountId === account.accountId && hold.status === 'held', `deposit hold ${hold.holdId} cannot be released from ${account.accountId}`);
    released += hold.amountCents;
    ops.push(
      { type: 'put', key: depositHoldKey(hold.holdId), value: { ...hold, status: 'released', releasedMs: nowMs, releasedBy } satisfies DepositHoldRecord },
      { type: 'del', key: depositHoldDueKey(hold.releaseAtMs, hold.holdId) },
      { type: 'del', key: depositHoldAccountKey(hold.accountId, hold.holdId) },
    );
  }
  const after: AccountRecord = { ...account, depositHeldCents: (account.depositHeldCents ?? 0) - released };
  invariant((after.depositHeldCents ?? 0) >= 0, `account ${account.accountId} would release more deposit holds than it carries`);
  ops.push(putAccount(after));
  return { account: after, ops };
}

/** `ops` without its put of one account: for a plan that changes that account again before it is written. */
export function withoutAccountPut(ops: readonly BatchOp[], accountId: string): BatchOp[] {
  return ops.filter((op) => !(op.type === 'put' && op.key === accountKey(accountId)));
}

/** Under the account's lock, before money leaves it: the holds whose period has ended are released in the
 *  same batch, so a customer never waits on the sweep to spend what the policy already allows. */
export async function releaseDueDepositHolds(
  db: Pick<KeyValueStore, 'get' | 'entries'>,
  account: AccountRecord,
  nowMs: number,
): Promise<{ readonly account: AccountRecord; readonly ops: readonly BatchOp[] }> {
  if ((account.depositHeldCents ?? 0) === 0) return { account, ops: [] };
  const due = (await readHeldDepositHolds(db, account.accountId)).filter((hold) => hold.releaseAtMs <= nowMs);
  return planDepositHoldRelease(account, due, 'time', nowMs);
}
