// The store's statements, each prepared once per connection (named), and how their rows become values.
import type pg from 'pg';
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
// One statement for the whole batch: the deletes in a data-modifying WITH, the puts as one multi-row
// upsert. The batch's puts and deletes touch disjoint keys (encodeBatch), so their order does not matter.
const WRITE = {
  name: 'kv_write',
  text:
    `WITH deleted AS (DELETE FROM ${KV_TABLE} WHERE k = ANY($4::text[])) ` +
    `INSERT INTO ${KV_TABLE} (k, v, json) SELECT * FROM unnest($1::text[], $2::bytea[], $3::boolean[]) ` +
    `ON CONFLICT (k) DO UPDATE SET v = excluded.v, json = excluded.json`,
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

/** Sends the batch's one write statement (without waiting for it, so a COMMIT can follow it in the same
 *  round trip). */
export function sendWrite(client: pg.Client, batch: EncodedBatch): Promise<pg.QueryResult> {
  return client.query({ ...WRITE, values: [batch.putKeys, batch.putValues, batch.putJson, batch.delKeys] });
}
