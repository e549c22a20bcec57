// `ledger check`: recomputes every balance from the journal and compares it with what the accounts say.
// It reports every difference it finds and never throws on one: an operator needs the whole picture, and
// a check that stops at the first problem hides the second. Memory stays bounded by the number of
// accounts and open holds (legs are streamed; each leg is verified by reading its counterpart).
import type { KeyValueStore } from '../store/host-store.js';
import { availableCents } from './invariants.js';
import {
  ACCOUNT_PREFIX,
  type AccountRecord,
  type DailyWithdrawalRecord,
  HOLD_PREFIX,
  type HoldRecord,
  OPEN_HOLD_PREFIX,
  type PostingLeg,
  DEPOSIT_HOLD_PREFIX,
  type DepositHoldRecord,
  depositHoldAccountKey,
  depositHoldDueKey,
  depositHoldKey,
  holdDailyKeys,
  postingKey,
  postingPrefix,
} from './records.js';

export type LedgerProblemKind =
  | 'balance-mismatch' // the account's balance differs from the sum of its legs
  | 'running-balance' // a leg's balanceAfter differs from the running sum
  | 'sequence' // legs are not numbered 1..nextSeq-1 without gaps
  | 'unpaired-leg' // a leg's counterpart is missing or does not mirror it
  | 'held-mismatch' // the account's held amount differs from its open holds
  | 'deposit-held-mismatch' // the account's deposit-held amount differs from its held deposit holds
  | 'deposit-hold-index' // the deposit-hold indexes and the hold records disagree
  | 'negative-available' // a customer account has less than its holds, or a negative balance
  | 'open-hold-index' // the open-hold index and the hold records disagree
  | 'daily-total' // a daily withdrawal total is below the holds still charged to it
  | 'malformed' // a record is not what its key says
  | 'total-nonzero'; // the sum of all balances is not zero

export interface LedgerProblem {
  readonly kind: LedgerProblemKind;
  readonly accountId?: string;
  readonly authorizationId?: string;
  readonly key?: string;
  readonly expected?: number;
  readonly actual?: number;
  readonly message: string;
}

export interface LedgerReport {
  readonly ok: boolean;
  readonly accounts: number;
  readonly postingLegs: number;
  readonly openHolds: number;
  /** Sum of every balance, customer and cash: 0 when the ledger is whole. */
  readonly totalBalanceCents: number;
  readonly customerBalanceCents: number;
  readonly cashBalanceCents: number;
  readonly problems: readonly LedgerProblem[];
}

/** Stops listing (but keeps counting) past this many problems, so a badly broken store still yields a
 *  readable report. */
export const LEDGER_PROBLEMS_LISTED_MAX = 1_000;

export async function checkLedger(db: KeyValueStore): Promise<LedgerReport> {
  const problems: LedgerProblem[] = [];
  let problemCount = 0;
  const report = (problem: LedgerProblem): void => {
    problemCount++;
    if (problems.length < LEDGER_PROBLEMS_LISTED_MAX) problems.push(problem);
  };

  // Open holds first: they are few, and every account check needs its share.
  const heldByAccount = new Map<string, number>();
  const heldByDailyKey = new Map<string, number>();
  let openHolds = 0;
  for await (const [key, hold] of db.entries<HoldRecord>(HOLD_PREFIX)) {
    if (typeof hold?.authorizationId !== 'string' || key !== `${HOLD_PREFIX}${hold.authorizationId}`) {
      report({ kind: 'malformed', key, message: `hold record ${key} does not name itself` });
      continue;
    }
    const indexed = (await db.get(`${OPEN_HOLD_PREFIX}${hold.authorizationId}`)) !== undefined;
    if ((hold.status === 'held') !== indexed) {
      report({
        kind: 'open-hold-index',
        authorizationId: hold.authorizationId,
        message: `hold ${hold.authorizationId} is ${hold.status} but ${indexed ? 'is' : 'is not'} in the open-hold index`,
      });
    }
    if (hold.status !== 'held') continue;
    openHolds++;
    heldByAccount.set(hold.accountId, (heldByAccount.get(hold.accountId) ?? 0) + hold.amountCents);
    for (const dailyKey of holdDailyKeys(hold)) heldByDailyKey.set(dailyKey, (heldByDailyKey.get(dailyKey) ?? 0) + hold.amountCents);
  }
  for await (const [key] of db.entries<unknown>(OPEN_HOLD_PREFIX)) {
    const authorizationId = key.slice(OPEN_HOLD_PREFIX.length);
    if ((await db.get(`${HOLD_PREFIX}${authorizationId}`)) === undefined) {
      report({ kind: 'open-hold-index', authorizationId, message: `open-hold index names missing hold ${authorizationId}` });
    }
  }
  const depositHeldByAccount = new Map<string, number>();
  for await (const [key, hold] of db.entries<DepositHoldRecord>(DEPOSIT_HOLD_PREFIX)) {
    if (typeof hold?.holdId !== 'string' || key !== depositHoldKey(hold.holdId) || !Number.isSafeInteger(hold.amountCents) || hold.amountCents <= 0) {
      report({ kind: 'malformed', key, message: `deposit hold record ${key} is not a deposit hold` });
      continue;
    }
    const held = hold.status === 'held';
    const byAccount = (await db.get(depositHoldAccountKey(hold.accountId, hold.holdId))) !== undefined;
    const byDue = (await db.get(depositHoldDueKey(hold.releaseAtMs, hold.holdId))) !== undefined;
    if (held !== byAccount || held !== byDue) {
      report({ kind: 'deposit-hold-index', key, message: `deposit hold ${hold.holdId} is ${hold.status} but its indexes say otherwise` });
    }
    if (held) depositHeldByAccount.set(hold.accountId, (depositHeldByAccount.get(hold.accountId) ?? 0) + hold.amountCents);
  }

  for (const [dailyKey, heldCents] of heldByDailyKey) {
    const daily = await db.get<DailyWithdrawalRecord>(dailyKey);
    const usedCents = daily?.usedCents ?? 0;
    if (usedCents < heldCents) {
      report({ kind: 'daily-total', key: dailyKey, expected: heldCents, actual: usedCents, message: `${dailyKey} counts less than its open holds` });
    }
  }

  let accounts = 0;
  let postingLegs = 0;
  let customerBalanceCents = 0;
  let cashBalanceCents = 0;
  for await (const [key, account] of db.entries<AccountRecord>(ACCOUNT_PREFIX)) {
    if (typeof account?.accountId !== 'string' || key !== `${ACCOUNT_PREFIX}${account.accountId}`) {
      report({ kind: 'malformed', key, message: `account record ${key} does not name itself` });
      continue;
    }
    accounts++;
    const accountId = account.accountId;
    if (account.kind === 'cash') cashBalanceCents += account.balanceCents;
    else customerBalanceCents += account.balanceCents;

    let runningCents = 0;
    let expectedSeq = 1;
    for await (const [legKey, leg] of db.entries<PostingLeg>(postingPrefix(accountId))) {
      postingLegs++;
      if (typeof leg !== 'object' || leg === null || !Number.isSafeInteger(leg.amountCents) || typeof leg.counterpartAccountId !== 'string') {
        report({ kind: 'malformed', accountId, key: legKey, message: `leg ${legKey} is not a posting leg` });
        continue;
      }
      if (leg.seq !== expectedSeq || legKey !== postingKey(accountId, leg.seq)) {
        report({ kind: 'sequence', accountId, key: legKey, expected: expectedSeq, actual: leg.seq, message: `leg ${legKey} is out of sequence` });
      }
      expectedSeq = leg.seq + 1;
      runningCents += leg.amountCents;
      if (leg.balanceAfterCents !== runningCents) {
        report({
          kind: 'running-balance',
          accountId,
          key: legKey,
          expected: runningCents,
          actual: leg.balanceAfterCents,
          message: `leg ${legKey} records a balance after of ${leg.balanceAfterCents}, the journal gives ${runningCents}`,
        });
      }
      // Verified from both sides, so a deleted leg is found from its surviving partner.
      {
        const other = await db.get<PostingLeg>(postingKey(leg.counterpartAccountId, leg.counterpartSeq));
        const mirrors =
          other !== undefined &&
          other.postingId === leg.postingId &&
          other.amountCents === -leg.amountCents &&
          other.counterpartAccountId === accountId &&
          other.counterpartSeq === leg.seq &&
          leg.amountCents !== 0;
        if (!mirrors) {
          report({ kind: 'unpaired-leg', accountId, key: legKey, message: `posting ${leg.postingId}: leg ${legKey} has no mirroring leg` });
        }
      }
    }
    if (expectedSeq !== account.nextSeq) {
      report({ kind: 'sequence', accountId, expected: expectedSeq, actual: account.nextSeq, message: `account ${accountId} expects its next leg at ${account.nextSeq}` });
    }
    if (runningCents !== account.balanceCents) {
      report({
        kind: 'balance-mismatch',
        accountId,
        expected: runningCents,
        actual: account.balanceCents,
        message: `account ${accountId} says ${account.balanceCents}, its postings sum to ${runningCents}`,
      });
    }
    const heldCents = heldByAccount.get(accountId) ?? 0;
    heldByAccount.delete(accountId);
    if (heldCents !== account.heldCents) {
      report({ kind: 'held-mismatch', accountId, expected: heldCents, actual: account.heldCents, message: `account ${accountId} holds ${account.heldCents}, its open holds sum to ${heldCents}` });
    }
    const depositHeldCents = depositHeldByAccount.get(accountId) ?? 0;
    depositHeldByAccount.delete(accountId);
    if (depositHeldCents !== (account.depositHeldCents ?? 0)) {
      report({
        kind: 'deposit-held-mismatch',
        accountId,
        expected: depositHeldCents,
        actual: account.depositHeldCents ?? 0,
        message: `account ${accountId} holds ${account.depositHeldCents ?? 0} of deposits, its deposit holds sum to ${depositHeldCents}`,
      });
    }
    if (account.kind !== 'cash' && (account.balanceCents < 0 || availableCents(account) < 0)) {
      report({ kind: 'negative-available', accountId, actual: availableCents(account), message: `account ${accountId} has a negative balance or available amount` });
    }
  }
  for (const [accountId, heldCents] of heldByAccount) {
    report({ kind: 'held-mismatch', accountId, expected: heldCents, actual: 0, message: `open holds name missing account ${accountId}` });
  }
  for (const [accountId, heldCents] of depositHeldByAccount) {
    report({ kind: 'deposit-held-mismatch', accountId, expected: heldCents, actual: 0, message: `deposit holds name missing account ${accountId}` });
  }

  const totalBalanceCents = customerBalanceCents + cashBalanceCents;
  if (totalBalanceCents !== 0) {
    report({ kind: 'total-nonzero', expected: 0, actual: totalBalanceCents, message: `all balances sum to ${totalBalanceCents}, not 0` });
  }
  return {
    ok: problemCount === 0,
    accounts,
    postingLegs,
    openHolds,
    totalBalanceCents,
    customerBalanceCents,
    cashBalanceCents,
    problems,
  };
}
