// Request ids make retries safe: the first answer to (device, request id) is stored in the same batch as
// the effect it describes, and a repeat gets that answer again without applying anything. Records survive
// reconnects and restarts and are swept after the retention period.
import { createHash } from 'node:crypto';
import type { ResponseEnvelope } from '../../protocol/envelope.js';
import type { BatchOp, KeyValueStore } from '../store/host-store.js';

export const IDEMPOTENCY_PREFIX = 'idem:';
/** Secondary index by time, so the sweep finds expired records without scanning them all. */
export const IDEMPOTENCY_EXPIRY_PREFIX = 'idemexp:';
/** Bounds one sweep batch so it never stalls the committer. */
export const IDEMPOTENCY_SWEEP_BATCH = 1_000;

export type StoredOutcome = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: Extract<ResponseEnvelope, { ok: false }>['error'] };

/** A sign-in's session, so that replaying a sign-in on a new connection binds the session again. A card
 *  sign-in's is named by its card id and last four digits, never its PAN. */
export interface StoredSession {
  readonly customerId: string;
  readonly username: string;
  readonly cardId?: string;
  readonly cardLast4?: string;
}

export interface IdempotencyRecord {
  /** SHA-256 of the type and the body: the same id with another body is refused. */
  readonly bodyHash: string;
  readonly type: string;
  readonly outcome: StoredOutcome;
  readonly session?: StoredSession;
  readonly storedAtMs: number;
}

export function idempotencyKey(deviceId: string, requestId: string): string {
  return `${IDEMPOTENCY_PREFIX}${deviceId}:${requestId}`;
}

function expiryKey(storedAtMs: number, deviceId: string, requestId: string): string {
  return `${IDEMPOTENCY_EXPIRY_PREFIX}${storedAtMs.toString().padStart(15, '0')}:${deviceId}:${requestId}`;
}

/** Canonical JSON (sorted keys) so the hash does not depend on the sender's key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

export function bodyHash(type: string, body: unknown): string {
  return createHash('sha256').update(type).update('\0').update(canonical(body)).digest('hex');
}

export function idempotencyOps(deviceId: string, requestId: string, record: IdempotencyRecord): BatchOp[] {
  return [
    { type: 'put', key: idempotencyKey(deviceId, requestId), value: record },
    { type: 'put', key: expiryKey(record.storedAtMs, deviceId, requestId), value: 1 },
  ];
}

export async function readIdempotencyRecord(db: KeyValueStore, deviceId: string, requestId: string): Promise<IdempotencyRecord | undefined> {
  return db.get<IdempotencyRecord>(idempotencyKey(deviceId, requestId));
}

/** Returns the delete operations for up to one sweep batch of records stored before `cutoffMs`. */
export async function expiredIdempotencyOps(db: KeyValueStore, cutoffMs: number): Promise<BatchOp[]> {
  const ops: BatchOp[] = [];
  const upper = expiryKey(cutoffMs, '', '');
  for await (const [key] of db.entries<number>(IDEMPOTENCY_EXPIRY_PREFIX, { lte: upper, limit: IDEMPOTENCY_SWEEP_BATCH })) {
    const [, , deviceId, requestId] = key.split(':');
    if (deviceId === undefined || requestId === undefined) continue;
    ops.push({ type: 'del', key }, { type: 'del', key: idempotencyKey(deviceId, requestId) });
  }
  return ops;
}
