// Money exceptions: facts about cash that the ledger could not simply apply, kept durably for an operator
// until someone resolves them. Today: a kiosk reporting notes dispensed for a withdrawal an operator had
// already settled differently (the customer may hold cash the ledger did not charge, or was charged for
// cash they never got), and a deposit credited beyond the customer's daily cap (the notes were already in
// the cashbox, so they were credited). Never a log line only: each is a record, in the audit log, and in
// `bank-host exceptions list` until resolved.
import type { BatchOp, KeyValueStore } from '../store/host-store.js';

export type ExceptionKind = 'dispensed-after-operator-settlement' | 'deposit-over-cap';

export interface LedgerExceptionRecord {
  readonly exceptionId: string;
  readonly kind: ExceptionKind;
  readonly deviceId: string;
  readonly customerId?: string;
  readonly accountId?: string;
  readonly authorizationId?: string;
  readonly depositId?: string;
  /** The amount in question: the cash the kiosk says it dispensed, or the credit beyond the cap. */
  readonly amountCents: number;
  /** What the ledger did, in words for the operator. */
  readonly detail: string;
  readonly createdMs: number;
  readonly status: 'open' | 'resolved';
  readonly resolvedMs?: number;
  readonly resolution?: string;
}

export const EXCEPTION_PREFIX = 'exc:';
/** Index of exceptions still open. */
export const OPEN_EXCEPTION_PREFIX = 'excopen:';
export const exceptionKey = (exceptionId: string): string => `${EXCEPTION_PREFIX}${exceptionId}`;
export const openExceptionKey = (exceptionId: string): string => `${OPEN_EXCEPTION_PREFIX}${exceptionId}`;
/** One exception per thing it is about, so a kiosk reporting the same fact twice records it once. */
export const exceptionIdFor = (kind: ExceptionKind, subjectId: string): string => `exc_${kind === 'deposit-over-cap' ? 'cap' : 'opset'}_${subjectId}`;

export async function readException(db: Pick<KeyValueStore, 'get'>, exceptionId: string): Promise<LedgerExceptionRecord | undefined> {
  return db.get<LedgerExceptionRecord>(exceptionKey(exceptionId));
}

/** The operations that record `exception` (open), or none when an exception with its id exists already. */
export async function exceptionOps(db: Pick<KeyValueStore, 'get'>, exception: Omit<LedgerExceptionRecord, 'status'>): Promise<BatchOp[]> {
  if ((await readException(db, exception.exceptionId)) !== undefined) return [];
  const record: LedgerExceptionRecord = { ...exception, status: 'open' };
  return [
    { type: 'put', key: exceptionKey(record.exceptionId), value: record },
    { type: 'put', key: openExceptionKey(record.exceptionId), value: { createdMs: record.createdMs } },
  ];
}

export function resolvedExceptionOps(exception: LedgerExceptionRecord, resolution: string, nowMs: number): BatchOp[] {
  const resolved: LedgerExceptionRecord = { ...exception, status: 'resolved', resolvedMs: nowMs, resolution };
  return [
    { type: 'put', key: exceptionKey(exception.exceptionId), value: resolved },
    { type: 'del', key: openExceptionKey(exception.exceptionId) },
  ];
}

/** Open exceptions, oldest first, or every exception with `all`; bounded by `limit`. */
export async function listExceptions(db: Pick<KeyValueStore, 'get' | 'entries'>, options: { readonly all?: boolean; readonly limit: number }): Promise<LedgerExceptionRecord[]> {
  const found: LedgerExceptionRecord[] = [];
  if (options.all) {
    for await (const [, record] of db.entries<LedgerExceptionRecord>(EXCEPTION_PREFIX)) found.push(record);
  } else {
    for await (const [key] of db.entries<unknown>(OPEN_EXCEPTION_PREFIX)) {
      const record = await readException(db, key.slice(OPEN_EXCEPTION_PREFIX.length));
      if (record !== undefined) found.push(record);
    }
  }
  return found.sort((a, b) => a.createdMs - b.createdMs).slice(0, options.limit);
}
