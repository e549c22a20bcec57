// The store's schema: one key-value table whose keys sort as LevelDB's do, and a one-row table naming the
// schema's version. Creating it is idempotent and safe when several hosts start at once (they take one
// advisory lock for it); a database whose schema is newer than this code, whose key column sorts otherwise,
// or whose encoding is not UTF-8 is refused with a clear error rather than used.
import type pg from 'pg';
import { PostgresStoreError } from './errors.js';

export const SCHEMA_VERSION = 1;
export const KV_TABLE = 'kv';
export const NUMBERS_SEQUENCE = 'kv_numbers';
/** The advisory lock hosts take while creating or checking the schema (any fixed number outside the range
 *  lock-key hashes are likely to hit; a collision would only serialize a unit of work with a host's start). */
const SCHEMA_LOCK_ID = '7386953120190715001';

const CREATE = [
  // "C": keys compare by their UTF-8 bytes, LevelDB's order; range scans use the primary key's index.
  `CREATE TABLE IF NOT EXISTS ${KV_TABLE} (k text COLLATE "C" PRIMARY KEY, v bytea NOT NULL, json boolean NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS kv_schema (one boolean PRIMARY KEY DEFAULT true CHECK (one), version integer NOT NULL)`,
  `INSERT INTO kv_schema (version) VALUES (${SCHEMA_VERSION}) ON CONFLICT (one) DO NOTHING`,
  // Numbers units of work draw (UnitOfWork.numbers): increasing, never repeated, with gaps where a unit that
  // drew them rolled back (the audit log's record positions). Created by every version-1 store that opens.
  `CREATE SEQUENCE IF NOT EXISTS ${NUMBERS_SEQUENCE} AS bigint MINVALUE 1 NO CYCLE`,
];

export interface SchemaFacts {
  readonly version: number;
  readonly synchronousCommit: string;
  /** The primary's synchronous_standby_names (Patroni sets it in synchronous mode); '' means commits wait
   *  for no standby. */
  readonly synchronousStandbyNames: string;
}

/** Creates the schema if needed and checks what is there. Runs in its own transaction on `client`. */
export async function ensureSchema(client: pg.Client): Promise<SchemaFacts> {
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK_ID})`);
    const encoding = (await client.query<{ e: string }>(`SELECT current_setting('server_encoding') AS e`)).rows[0]!.e;
    if (encoding !== 'UTF8') throw new PostgresStoreError('STORE_SCHEMA', `the database's encoding is ${encoding}; the store needs UTF8 (CREATE DATABASE … ENCODING 'UTF8' TEMPLATE template0)`);
    for (const statement of CREATE) await client.query(statement);
    const collation = (
      await client.query<{ c: string | null }>(
        `SELECT collation_name AS c FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'k'`,
        [KV_TABLE],
      )
    ).rows[0]?.c;
    if (collation !== 'C') throw new PostgresStoreError('STORE_SCHEMA', `the key column ${KV_TABLE}.k has collation ${collation ?? 'default'}; it must be "C" so keys sort as LevelDB's do`);
    const version = (await client.query<{ version: number }>('SELECT version FROM kv_schema')).rows[0]!.version;
    if (version > SCHEMA_VERSION) throw new PostgresStoreError('STORE_SCHEMA', `the database's schema is version ${version}, newer than this host's ${SCHEMA_VERSION}: upgrade the host`);
    const settings = await client.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings WHERE name IN ('synchronous_commit', 'synchronous_standby_names')`,
    );
    await client.query('COMMIT');
    const setting = (name: string) => settings.rows.find((r) => r.name === name)?.setting ?? '';
    return { version, synchronousCommit: setting('synchronous_commit'), synchronousStandbyNames: setting('synchronous_standby_names') };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
