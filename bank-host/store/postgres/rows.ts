// How keys and values become rows of the one table, and back. A value is stored as bytes with a flag: JSON
// text (the database's default encoding, as in LevelDB) or raw bytes (`valueEncoding: 'buffer'`, the audit
// records). Keys are text in the "C" collation, so PostgreSQL orders them by their UTF-8 bytes, which is
// LevelDB's order.
import type { BatchOp } from '../database.js';

/** The longest key, in UTF-8 bytes: far above any key the host makes, far below what a B-tree index entry
 *  may hold (about a third of a page). */
export const KEY_BYTES_MAX = 1_024;
/** The largest value, in bytes: a bound on one row (the host's largest records are a few kilobytes). */
export const VALUE_BYTES_MAX = 1 << 20;
/** Operations in one batch: a bound on one statement's parameters. The host's largest batches (an
 *  idempotency sweep) hold a few thousand. */
export const BATCH_OPS_MAX = 10_000;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Refuses a key PostgreSQL could not store as it is or LevelDB would order differently. */
export function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new TypeError(`a key must be a non-empty string, got ${JSON.stringify(key)}`);
  // PostgreSQL's text cannot hold NUL; a lone surrogate would be stored as U+FFFD and read back as another key.
  if (key.includes('\u0000')) throw new TypeError(`a key cannot contain NUL: ${JSON.stringify(key)}`);
  if (LONE_SURROGATE.test(key)) throw new TypeError(`a key must be well-formed Unicode (no lone surrogates): ${JSON.stringify(key)}`);
  if (Buffer.byteLength(key, 'utf8') > KEY_BYTES_MAX) throw new TypeError(`a key is at most ${KEY_BYTES_MAX} bytes: ${key.slice(0, 80)}…`);
}

/** The rows one batch writes: the last operation on each key wins, as in a LevelDB batch, so the puts and
 *  the deletes touch disjoint keys and can run as one statement. */
export interface EncodedBatch {
  readonly putKeys: string[];
  readonly putValues: Buffer[];
  readonly putJson: boolean[];
  readonly delKeys: string[];
}

export function encodeBatch(ops: readonly BatchOp[]): EncodedBatch {
  if (ops.length > BATCH_OPS_MAX) throw new RangeError(`a batch holds at most ${BATCH_OPS_MAX} operations, got ${ops.length}`);
  const last = new Map<string, BatchOp>();
  for (const op of ops) {
    checkKey(op.key);
    if (op.type === 'put') checkValue(op);
    else if (op.type !== 'del') throw new TypeError(`unknown batch operation ${JSON.stringify((op as { type: unknown }).type)}`);
    last.set(op.key, op);
  }
  const batch: EncodedBatch = { putKeys: [], putValues: [], putJson: [], delKeys: [] };
  // In key order, the same on every host, so two batches that share keys lock their rows in the same order
  // (PostgreSQL would otherwise break the deadlock by aborting one).
  for (const key of [...last.keys()].sort()) {
    const op = last.get(key)!;
    if (op.type === 'del') {
      batch.delKeys.push(key);
      continue;
    }
    const raw = op.valueEncoding === 'buffer';
    const bytes = raw ? (op.value as Buffer) : Buffer.from(JSON.stringify(op.value), 'utf8');
    if (bytes.length > VALUE_BYTES_MAX) throw new RangeError(`the value of ${key} is ${bytes.length} bytes; at most ${VALUE_BYTES_MAX}`);
    batch.putKeys.push(key);
    batch.putValues.push(bytes);
    batch.putJson.push(!raw);
  }
  return batch;
}

function checkValue(op: Extract<BatchOp, { type: 'put' }>): void {
  if (op.valueEncoding === 'buffer') {
    if (!Buffer.isBuffer(op.value)) throw new TypeError(`the value of ${op.key} must be a Buffer`);
    return;
  }
  if (op.value === undefined || op.value === null) throw new TypeError(`the value of ${op.key} cannot be ${String(op.value)}`);
  if (typeof op.value === 'function' || typeof op.value === 'symbol' || typeof op.value === 'bigint') throw new TypeError(`the value of ${op.key} is not JSON`);
}

/** A stored value as the caller wrote it: the parsed JSON document, or the raw bytes. */
export function decodeValue<T>(bytes: Buffer, json: boolean): T {
  return (json ? JSON.parse(bytes.toString('utf8')) : bytes) as T;
}
