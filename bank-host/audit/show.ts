// `audit show` and the customer's activity view: decrypt records and filter them. A customer filter walks
// that customer's index (`audit:cust:<id>:<seq>`) so nobody else's records are read, let alone decrypted.
// Every read is bounded: a page of results and a number of records looked at.
import { AuditError } from '../errors.js';
import type { KeyValueStore } from '../store/host-store.js';
import {
  AUDIT_RECORD_PREFIX,
  AUDIT_SEQ_DIGITS,
  type AuditEntry,
  auditCustomerPrefix,
  auditRecordKey,
  decodeStoredRecord,
  openRecord,
  readStoredRecords,
  seqOfRecordKey,
  toEntry,
} from './record.js';

export interface AuditFilter {
  readonly customerId?: string;
  readonly deviceId?: string;
  readonly action?: string;
  /** Any of these actions. */
  readonly actions?: readonly string[];
  readonly sinceMs?: number;
  readonly untilMs?: number;
  readonly outcome?: string;
}

export interface AuditPageRequest extends AuditFilter {
  /** Oldest first (`asc`, for `audit show`) or newest first (`desc`, for the activity view). */
  readonly order: 'asc' | 'desc';
  /** Exclusive: continue after (asc) or before (desc) this sequence number. */
  readonly cursorSeq?: number;
  /** Most entries returned. */
  readonly limit: number;
  /** Most records looked at, matching or not; a page can end early so one request never walks the whole log. */
  readonly scanLimit: number;
}

export interface AuditPage {
  readonly entries: AuditEntry[];
  /** Where the next page starts (pass as `cursorSeq`); absent when there is nothing more. */
  readonly nextCursorSeq?: number;
  /** Records that would not decrypt (altered, or another key): `audit verify` says which and how. */
  readonly undecryptableSeqs: number[];
}

/** Records fetched from LevelDB per step while walking the customer index. */
const FETCH_BATCH_RECORDS = 256;

const pad = (seq: number) => String(seq).padStart(AUDIT_SEQ_DIGITS, '0');

function matches(entry: AuditEntry, filter: AuditFilter): boolean {
  return (
    (filter.customerId === undefined || entry.customerId === filter.customerId) &&
    (filter.deviceId === undefined || entry.deviceId === filter.deviceId) &&
    (filter.action === undefined || entry.action === filter.action) &&
    (filter.actions === undefined || filter.actions.includes(entry.action)) &&
    (filter.outcome === undefined || entry.outcome === filter.outcome) &&
    (filter.sinceMs === undefined || entry.timestampMs >= filter.sinceMs) &&
    (filter.untilMs === undefined || entry.timestampMs <= filter.untilMs)
  );
}

/** Sequence numbers to look at, in order, starting after the cursor. */
async function* candidateSeqs(db: KeyValueStore, request: AuditPageRequest): AsyncGenerator<[number, unknown]> {
  const desc = request.order === 'desc';
  if (request.customerId !== undefined) {
    const prefix = auditCustomerPrefix(request.customerId);
    const range = request.cursorSeq === undefined ? {} : desc ? { lte: prefix + pad(request.cursorSeq - 1) } : { gte: prefix + pad(request.cursorSeq + 1) };
    let seqs: number[] = [];
    const flush = async function* (): AsyncGenerator<[number, unknown]> {
      const values = await readStoredRecords(db, seqs);
      for (let i = 0; i < seqs.length; i++) yield [seqs[i]!, values[i]];
      seqs = [];
    };
    for await (const [key] of db.entries<unknown>(prefix, { reverse: desc, ...range })) {
      seqs.push(Number(key.slice(prefix.length)));
      if (seqs.length === FETCH_BATCH_RECORDS) yield* flush();
    }
    if (seqs.length > 0) yield* flush();
    return;
  }
  const entries = db.bufferEntries(AUDIT_RECORD_PREFIX, {
    gte: request.cursorSeq !== undefined && !desc ? auditRecordKey(request.cursorSeq + 1) : AUDIT_RECORD_PREFIX,
    lte: request.cursorSeq !== undefined && desc ? auditRecordKey(request.cursorSeq - 1) : AUDIT_RECORD_PREFIX + '\xff',
    reverse: desc,
  });
  for await (const [key, value] of entries) {
    const seq = seqOfRecordKey(key);
    if (seq !== undefined) yield [seq, value];
  }
}

export async function readAuditPage(db: KeyValueStore, encKey: Buffer, request: AuditPageRequest): Promise<AuditPage> {
  const entries: AuditEntry[] = [];
  const undecryptableSeqs: number[] = [];
  let scanned = 0;
  let lastSeq: number | undefined;
  for await (const [seq, value] of candidateSeqs(db, request)) {
    if (entries.length >= request.limit || scanned >= request.scanLimit) return { entries, nextCursorSeq: lastSeq!, undecryptableSeqs };
    scanned++;
    lastSeq = seq;
    const stored = decodeStoredRecord(value);
    if (stored === undefined || stored.seq !== seq) {
      undecryptableSeqs.push(seq);
      continue;
    }
    let entry: AuditEntry;
    try {
      entry = toEntry(seq, openRecord(encKey, seq, stored.sealed));
    } catch (error) {
      if (!(error instanceof AuditError && error.code === 'AUDIT_DECRYPT_FAILED')) throw error;
      undecryptableSeqs.push(seq);
      continue;
    }
    if (matches(entry, request)) entries.push(entry);
  }
  return { entries, undecryptableSeqs };
}
