// An account's postings, newest first, in pages. The cursor is the sequence number of the last leg a page
// examined, so a page is stable while new postings arrive (they have higher numbers).
import { ProtocolError } from '../../protocol/errors.js';
import { type HistoryEntry, type PostingKind } from '../../protocol/messages.js';
import type { KeyValueStore } from '../store/host-store.js';
import { invariant } from './invariants.js';
import { type PostingLeg, postingKey, postingPrefix } from './records.js';

export const HISTORY_PAGE_SIZE_DEFAULT = 20;
/** Legs one request may examine when filters skip most of them; past this the page ends early with a
 *  cursor, so a filter that matches nothing cannot make one request walk a whole account. */
export const HISTORY_SCAN_MAX_LEGS = 2_000;

export interface HistoryQuery {
  readonly accountId: string;
  readonly limit?: number;
  readonly cursor?: string;
  readonly sinceMs?: number;
  readonly untilMs?: number;
  readonly kinds?: readonly PostingKind[];
}

export interface HistoryPage {
  readonly entries: HistoryEntry[];
  readonly nextCursor?: string;
}

const CURSOR_PATTERN = /^s([0-9]{1,12})$/;

function parseCursor(cursor: string): number {
  const match = CURSOR_PATTERN.exec(cursor);
  const seq = match ? Number(match[1]) : NaN;
  if (!Number.isSafeInteger(seq) || seq < 1) throw new ProtocolError('BAD_BODY', 'the history cursor is not valid');
  return seq;
}

export async function readHistory(db: KeyValueStore, query: HistoryQuery, pageSizeMax: number): Promise<HistoryPage> {
  const limit = Math.min(query.limit ?? HISTORY_PAGE_SIZE_DEFAULT, pageSizeMax);
  const prefix = postingPrefix(query.accountId);
  const beforeSeq = query.cursor === undefined ? undefined : parseCursor(query.cursor);
  const kinds = query.kinds && query.kinds.length > 0 ? new Set(query.kinds) : undefined;

  const entries: HistoryEntry[] = [];
  let scanned = 0;
  let lastSeq: number | undefined;
  let exhausted = true;
  for await (const [key, leg] of db.entries<PostingLeg>(prefix, {
    reverse: true,
    ...(beforeSeq !== undefined && { lte: postingKey(query.accountId, beforeSeq - 1) }),
  })) {
    invariant(leg.accountId === query.accountId && key === postingKey(leg.accountId, leg.seq), `posting ${key} is misfiled`);
    if (entries.length === limit || scanned === HISTORY_SCAN_MAX_LEGS) {
      exhausted = false;
      break;
    }
    scanned++;
    lastSeq = leg.seq;
    if (query.untilMs !== undefined && leg.timestampMs > query.untilMs) continue;
    if (query.sinceMs !== undefined && leg.timestampMs < query.sinceMs) continue;
    if (kinds !== undefined && !kinds.has(leg.kind)) continue;
    entries.push({
      postingId: leg.postingId,
      kind: leg.kind,
      amountCents: leg.amountCents,
      balanceAfterCents: leg.balanceAfterCents,
      timestampMs: leg.timestampMs,
      ...(leg.deviceId !== undefined && { deviceId: leg.deviceId }),
    });
  }
  return { entries, ...(!exhausted && lastSeq !== undefined && { nextCursor: `s${lastSeq}` }) };
}
