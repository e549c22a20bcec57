// The store's statements, each prepared once per connection (named), and how their rows become values.
import pg from 'pg';
import { KV_TABLE } from './schema.js';
import { decodeValue, type EncodedBatch } from './rows.js';

/** Rows one scan statement reads; a longer scan pages on (keyset: after the last key seen). */
export const SCAN_PAGE_ROWS = 1_000;

interface Row {
  k: string;
  v: Buffer;
  json: boolean;
}

const GET = { name: 'kv_get', text: `SELECT v, json FROM ${KV_TABLE} WHERE k = $1` };
const GET_MANY = { name: 'kv_get_many', text: `SELECT k, v, json FROM ${KV_TABLE} WHERE k = ANY($1::text[])` };
// Bounds are inclusive as LevelDB's gte/lte; the "after"/"before" forms continue a scan past the last key
// of the previous page. LIMIT NULL is no limit.
const SCAN = {
  forward: { name: 'kv_scan_fwd', text: `SELECT k, v, json FROM ${KV_TABLE} WHERE k >= $1 AND k <= $2 ORDER BY k ASC LIMIT $3` },
  forwardAfter: { name: 'kv_scan_fwd_after', text: `SELECT k, v, json FROM ${KV_TABLE} WHERE k > $1 AND k <= $2 ORDER BY k ASC LIMIT $3` },
  reverse: { name: 'kv_scan_rev', text: `SELECT k, v, json FROM ${KV_TABLE} WHERE k >= $1 AND k <= $2 ORDER BY k DESC LIMIT $3` },
  reverseBefore: { name: 'kv_scan_rev_before', text: `SELECT k, v, json FROM ${KV_TABLE} WHERE k >= $1 AND k < $2 ORDER BY k DESC LIMIT $3` },
};
export async function selectOne<T>(client: pg.Client, key: string): Promise<T | undefined> {
  const { rows } = await client.query<Omit<Row, 'k'>>({ ...GET, values: [key] });
  const row = rows[0];
  return row === undefined ? undefined : decodeValue<T>(row.v, row.json);
}

export async function selectMany<T>(client: pg.Client, keys: readonly string[]): Promise<(T | undefined)[]> {
  const { rows } = await client.query<Row>({ ...GET_MANY, values: [keys] });
  const found = new Map<string, T>();
  for (const row of rows) found.set(row.k, decodeValue<T>(row.v, row.json));
  return keys.map((key) => found.get(key));
}

export interface ScanRange {
  readonly gte: string;
  readonly lte: string;
  readonly reverse: boolean;
  /** Entries in all; undefined for no limit. */
  readonly limit: number | undefined;
}

/** One page of a scan: `after` is the last key the previous page returned (undefined for the first). */
export async function selectPage<T>(client: pg.Client, range: ScanRange, after: string | undefined, rows: number | null): Promise<[string, T][]> {
  let statement;
  let values: unknown[];
  if (!range.reverse) {
    statement = after === undefined ? SCAN.forward : SCAN.forwardAfter;
    values = [after ?? range.gte, range.lte, rows];
  } else {
    statement = after === undefined ? SCAN.reverse : SCAN.reverseBefore;
    values = [range.gte, after ?? range.lte, rows];
  }
  const result = await client.query<Row>({ ...statement, values });
  return result.rows.map((row) => [row.k, decodeValue<T>(row.v, row.json)]);
}

/** A string as an SQL literal: `pg`'s escapeLiteral (which doubles quotes and, when there is a backslash,
 *  writes an E'' string with it doubled), skipped for the common key that holds neither. */
export function quoteLiteral(text: string): string {
  return QUOTE_OR_BACKSLASH.test(text) ? pg.escapeLiteral(text) : `'${text}'`;
}
const QUOTE_OR_BACKSLASH = /['\\]/;

/** A batch's write as SQL text, its values written in: the deletes, then the puts as one multi-row
 *  upsert (the two touch disjoint keys: encodeBatch). Keys are quoted by `pg`'s escapeLiteral (an E'' string
 *  when they hold a backslash, so the text means the same whatever standard_conforming_strings says; the
 *  store refuses NUL), values are hex bytea literals. As text, the write and the COMMIT after it travel as
 *  one simple-protocol message: one write on each side and one answer instead of one per statement, which
 *  measured ~15-25 % more money transactions per second than a prepared statement plus COMMIT (docs/
 *  scale-out.md). Undefined for an empty batch. */
export function writeText(batch: EncodedBatch): string | undefined {
  const statements: string[] = [];
  if (batch.delKeys.length > 0) statements.push(`DELETE FROM ${KV_TABLE} WHERE k IN (${batch.delKeys.map(quoteLiteral).join(', ')})`);
  if (batch.putKeys.length > 0) {
    const rows = batch.putKeys.map((key, i) => `(${quoteLiteral(key)}, E'\\\\x${batch.putValues[i]!.toString('hex')}'::bytea, ${batch.putJson[i] ? 'true' : 'false'})`);
    statements.push(`INSERT INTO ${KV_TABLE} (k, v, json) VALUES ${rows.join(', ')} ON CONFLICT (k) DO UPDATE SET v = excluded.v, json = excluded.json`);
  }
  return statements.length === 0 ? undefined : statements.join('; ');
}

/** The last statement's result of a simple-protocol message (`pg` answers an array for several). */
export function lastResult(results: pg.QueryResult | pg.QueryResult[]): pg.QueryResult {
  return Array.isArray(results) ? results[results.length - 1]! : results;
}

/** A commit guard's check as SQL text: one row when the record at `key` is JSON holding every field of
 *  `holds`, none otherwise, and then PostgreSQL fails the statement with division_by_zero (SQLSTATE 22012,
 *  GUARD_FAILED_SQLSTATE), which aborts the transaction: the write and the COMMIT after it in the same
 *  message are not applied. Plain SQL, no function to install; no other statement of the store divides. */
export function guardText(key: string, holds: Readonly<Record<string, string | number | boolean>>): string {
  return `SELECT 1 / count(*) AS guard FROM ${KV_TABLE} WHERE k = ${quoteLiteral(key)} AND json AND convert_from(v, 'UTF8')::jsonb @> ${quoteLiteral(JSON.stringify(holds))}::jsonb`;
}
export const GUARD_FAILED_SQLSTATE = '22012';

/** The read a unit of work sends with its BEGIN and locks, as SQL text (keys escaped by escapeLiteral). */
export function prefetchText(keys: readonly string[]): string {
  return `SELECT k, v, json FROM ${KV_TABLE} WHERE k IN (${keys.map(quoteLiteral).join(', ')})`;
}
