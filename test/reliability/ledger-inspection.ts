// What the bank host's database holds, summarized by request id, so a test can compare it with what each
// client was told: which postings, holds and deposits every request produced, the balances, and how many
// audit records each request left. Runs wherever the database is open (the host child process, or in-process).
import type { KeyValueStore } from '../../bank-host/store/host-store.js';
import { readAuditPage } from '../../bank-host/audit/show.js';
import {
  ACCOUNT_PREFIX,
  DEPOSIT_PREFIX,
  HOLD_PREFIX,
  POSTING_PREFIX,
  type AccountRecord,
  type DepositRecord,
  type DepositStatus,
  type HoldRecord,
  type HoldStatus,
  type PostingLeg,
} from '../../bank-host/ledger/records.js';

export interface PostingsOfRequest {
  /** Distinct posting ids written for this request id: 1 for an applied posting, more is a duplicate. */
  readonly postingIds: string[];
  readonly legs: number;
}

export interface HoldSummary {
  readonly authorizationId: string;
  readonly accountId: string;
  readonly amountCents: number;
  readonly status: HoldStatus;
  readonly requestId?: string;
  readonly postedCents?: number;
}

export interface DepositSummary {
  readonly depositId: string;
  readonly accountId: string;
  readonly status: DepositStatus;
  /** The `deposit.open` request that created it. */
  readonly openRequestId?: string;
  readonly creditedCents?: number;
  readonly postingId?: string;
}

export interface LedgerInspection {
  readonly postingsByRequest: Record<string, PostingsOfRequest>;
  /** Postings written without a request id (none are expected from kiosks). */
  readonly postingsWithoutRequest: number;
  readonly holds: Record<string, HoldSummary>;
  readonly deposits: Record<string, DepositSummary>;
  readonly balances: Record<string, { readonly balanceCents: number; readonly heldCents: number; readonly kind: string }>;
  /** `ok` audit records per request id, when the audit log was read. */
  readonly auditOkByRequest?: Record<string, number>;
  readonly auditRecords?: number;
}

/** Enough for any test run here; a bound so a runaway log cannot make the inspection unbounded. */
const AUDIT_RECORDS_READ_MAX = 5_000_000;

export async function inspectLedger(db: KeyValueStore, auditEncKey?: Buffer): Promise<LedgerInspection> {
  const postingsByRequest: Record<string, { postingIds: string[]; legs: number }> = {};
  let postingsWithoutRequest = 0;
  for await (const [, leg] of db.entries<PostingLeg>(POSTING_PREFIX)) {
    if (leg.requestId === undefined) {
      postingsWithoutRequest++;
      continue;
    }
    const entry = (postingsByRequest[leg.requestId] ??= { postingIds: [], legs: 0 });
    entry.legs++;
    if (!entry.postingIds.includes(leg.postingId)) entry.postingIds.push(leg.postingId);
  }
  const holds: Record<string, HoldSummary> = {};
  for await (const [, hold] of db.entries<HoldRecord>(HOLD_PREFIX)) {
    holds[hold.authorizationId] = {
      authorizationId: hold.authorizationId,
      accountId: hold.accountId,
      amountCents: hold.amountCents,
      status: hold.status,
      ...(hold.requestId !== undefined && { requestId: hold.requestId }),
      ...(hold.postedCents !== undefined && { postedCents: hold.postedCents }),
    };
  }
  const deposits: Record<string, DepositSummary> = {};
  for await (const [, deposit] of db.entries<DepositRecord>(DEPOSIT_PREFIX)) {
    deposits[deposit.depositId] = {
      depositId: deposit.depositId,
      accountId: deposit.accountId,
      status: deposit.status,
      ...(deposit.openRequestId !== undefined && { openRequestId: deposit.openRequestId }),
      ...(deposit.creditedCents !== undefined && { creditedCents: deposit.creditedCents }),
      ...(deposit.postingId !== undefined && { postingId: deposit.postingId }),
    };
  }
  const balances: Record<string, { balanceCents: number; heldCents: number; kind: string }> = {};
  for await (const [, account] of db.entries<AccountRecord>(ACCOUNT_PREFIX)) {
    balances[account.accountId] = { balanceCents: account.balanceCents, heldCents: account.heldCents, kind: account.kind };
  }
  if (auditEncKey === undefined) return { postingsByRequest, postingsWithoutRequest, holds, deposits, balances };
  const page = await readAuditPage(db, auditEncKey, { order: 'asc', limit: AUDIT_RECORDS_READ_MAX, scanLimit: AUDIT_RECORDS_READ_MAX });
  const auditOkByRequest: Record<string, number> = {};
  for (const entry of page.entries) {
    if (entry.outcome === 'ok' && entry.requestId !== undefined) auditOkByRequest[entry.requestId] = (auditOkByRequest[entry.requestId] ?? 0) + 1;
  }
  return { postingsByRequest, postingsWithoutRequest, holds, deposits, balances, auditOkByRequest, auditRecords: page.entries.length + page.undecryptableSeqs.length };
}
