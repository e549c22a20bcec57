// Double entry: every movement of money is one posting of two legs, one per account, summing to zero. This
// module computes the records and batch operations of a posting from accounts already read under their
// locks; it performs no I/O, so the caller writes everything in its one batch.
import { randomBytes } from 'node:crypto';
import type { BatchOp } from '../store/database.js';
import { assertAccountSound, assertPositiveCents, invariant } from './invariants.js';
import { type AccountRecord, type LedgerPostingKind, type PostingLeg, SEQ_MAX, accountKey, postingKey } from './records.js';

const POSTING_ID_RANDOM_BYTES = 12;
const AUTHORIZATION_ID_RANDOM_BYTES = 12;
const ACCOUNT_ID_RANDOM_BYTES = 8;

export const newPostingId = (): string => `pst_${randomBytes(POSTING_ID_RANDOM_BYTES).toString('hex')}`;
export const newAuthorizationId = (): string => `auth_${randomBytes(AUTHORIZATION_ID_RANDOM_BYTES).toString('hex')}`;
export const newCustomerAccountId = (): string => `acc_${randomBytes(ACCOUNT_ID_RANDOM_BYTES).toString('hex')}`;

export interface Move {
  readonly from: AccountRecord;
  readonly to: AccountRecord;
  readonly amountCents: number;
  readonly fromKind: LedgerPostingKind;
  readonly toKind: LedgerPostingKind;
  readonly postingId: string;
  readonly timestampMs: number;
  readonly deviceId?: string;
  readonly authorizationId?: string;
  readonly requestId?: string;
}

export interface PlannedMove {
  readonly from: AccountRecord;
  readonly to: AccountRecord;
  readonly legs: readonly [PostingLeg, PostingLeg];
  /** The two legs and both updated accounts. */
  readonly ops: readonly BatchOp[];
}

/** The batch operation that stores an account, after checking it is sound. */
export function putAccount(account: AccountRecord): BatchOp {
  assertAccountSound(account);
  return { type: 'put', key: accountKey(account.accountId), value: account };
}

export function planMove(move: Move): PlannedMove {
  const { from, to, amountCents } = move;
  assertPositiveCents(amountCents, 'posting amount');
  invariant(from.accountId !== to.accountId, 'a posting needs two different accounts');
  invariant(from.currency === to.currency, `currency mismatch between ${from.accountId} and ${to.accountId}`);
  invariant(from.nextSeq < SEQ_MAX && to.nextSeq < SEQ_MAX, 'posting sequence exhausted');
  const totalBeforeCents = from.balanceCents + to.balanceCents;

  const fromAfter: AccountRecord = { ...from, balanceCents: from.balanceCents - amountCents, nextSeq: from.nextSeq + 1 };
  const toAfter: AccountRecord = { ...to, balanceCents: to.balanceCents + amountCents, nextSeq: to.nextSeq + 1 };
  // Conservation: a posting moves money, it never creates or destroys it.
  invariant(fromAfter.balanceCents + toAfter.balanceCents === totalBeforeCents, 'posting does not sum to zero');

  const shared = {
    postingId: move.postingId,
    timestampMs: move.timestampMs,
    ...(move.deviceId !== undefined && { deviceId: move.deviceId }),
    ...(move.authorizationId !== undefined && { authorizationId: move.authorizationId }),
    ...(move.requestId !== undefined && { requestId: move.requestId }),
  };
  const debit: PostingLeg = {
    ...shared,
    accountId: from.accountId,
    seq: from.nextSeq,
    kind: move.fromKind,
    amountCents: -amountCents,
    balanceAfterCents: fromAfter.balanceCents,
    counterpartAccountId: to.accountId,
    counterpartSeq: to.nextSeq,
  };
  const credit: PostingLeg = {
    ...shared,
    accountId: to.accountId,
    seq: to.nextSeq,
    kind: move.toKind,
    amountCents,
    balanceAfterCents: toAfter.balanceCents,
    counterpartAccountId: from.accountId,
    counterpartSeq: from.nextSeq,
  };
  return {
    from: fromAfter,
    to: toAfter,
    legs: [debit, credit],
    ops: [
      { type: 'put', key: postingKey(debit.accountId, debit.seq), value: debit },
      { type: 'put', key: postingKey(credit.accountId, credit.seq), value: credit },
      putAccount(fromAfter),
      putAccount(toAfter),
    ],
  };
}

/** A kiosk's cash account, as it is before its first posting. */
export function newCashAccount(deviceId: string, accountId: string, currency: string, nowMs: number): AccountRecord {
  return { accountId, kind: 'cash', currency, deviceId, balanceCents: 0, heldCents: 0, nextSeq: 1, openedMs: nowMs };
}
