// Opens the store host.json names (store/host-store.ts is the boundary): LevelDB in the data folder (the
// default, `npm start`'s) with its group committer, one audit chain and in-process locks; or PostgreSQL
// (docs/scale-out.md) with units of work, one audit chain per lane and advisory locks, the password read
// from the key folder (systemd's credentials directory under systemd), never from host.json or a log.
import { stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../protocol/log.js';
import { AuditChain } from './audit/chain.js';
import type { AuditEvent } from './audit/event.js';
import { LaneAuditChains, laneHeadKey } from './audit/lane-chain.js';
import { postgresStoreConfigSchema, type HostConfig, type PostgresStoreConfig } from './config.js';
import { migrateStore, STORE_FORMAT, type MigrationCounts } from './customers/store-format.js';
import { ConfigError, HostError } from './errors.js';
import { loadSecretText, type HostKeys } from './keys.js';
import { Database } from './store/database.js';
import { GroupCommitter } from './store/group-commit.js';
import { IN_PROCESS_REQUESTS, type HostStore } from './store/host-store.js';
import { KeyedLocks } from './store/locks.js';
import { PostgresCommitter, PostgresLocks, PostgresRequests } from './store/postgres/host-units.js';
import { PostgresStore, type PostgresAddress, type PostgresStoreOptions } from './store/postgres/index.js';

export const DATABASE_FOLDER = 'db';

/** The database's own files: LevelDB writes CURRENT when it creates a database, so a folder `init` made
 *  (by any version) has it. */
const DATABASE_MARKER_FILE = 'CURRENT';

export interface StorePaths {
  readonly dataDir: string;
  readonly keysDir: string;
  readonly keysFromCredentials?: boolean;
}

export interface OpenedStore {
  readonly store: HostStore<AuditEvent>;
  /** Why the audit log refuses new records (wrong keys, a malformed head), if it does. */
  readonly auditRefusal: string | undefined;
  /** LevelDB's chain (for the CLI and tests that read its head); undefined on PostgreSQL. */
  readonly chain: AuditChain | undefined;
  readonly migrated: MigrationCounts | undefined;
}

export async function requireDatabase(dataDir: string): Promise<void> {
  try {
    await stat(path.join(dataDir, DATABASE_FOLDER, DATABASE_MARKER_FILE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new HostError(
      'NOT_INITIALIZED',
      `${dataDir} holds no bank-host database; run \`bank-host init --data ${dataDir} --keys KEYS\` to create one, or check --data for a typo`,
    );
  }
}

export async function openHostStore(paths: StorePaths, config: HostConfig, keys: HostKeys, log: Logger, now: () => number, options: { mustExist?: boolean } = {}): Promise<OpenedStore> {
  const settings = config.store;
  if (settings.backend === 'postgresql') return openPostgres(paths, settings, keys, log, now);
  if (options.mustExist) await requireDatabase(paths.dataDir);
  const { db, migrated } = await openCurrentDatabase(path.join(paths.dataDir, DATABASE_FOLDER), keys.master, now, log);
  try {
    // Loaded at open, so the serving host and the CLI on a stopped host both continue the same chain.
    const chain = await AuditChain.open(db, { enc: keys.auditEnc, mac: keys.auditMac });
    const committer = new GroupCommitter<AuditEvent>(db, chain, now);
    const store: HostStore<AuditEvent> = {
      backend: 'leveldb',
      db,
      locks: new KeyedLocks(),
      committer,
      requests: IN_PROCESS_REQUESTS,
      async close() {
        await committer.close();
        await db.close();
      },
    };
    return { store, auditRefusal: chain.refusal, chain, migrated };
  } catch (error) {
    await db.close();
    throw error;
  }
}

/** Opens the database, bringing a store of an earlier format to the current one first. A migration that
 *  rewrote anything is followed by a reopen: LevelDB then writes a fresh manifest, and the old key ranges
 *  it named (card numbers among them) leave the disk with the compacted files. */
async function openCurrentDatabase(location: string, master: Buffer, now: () => number, log: Logger): Promise<{ db: Database; migrated?: MigrationCounts }> {
  const db = await Database.open(location);
  let migrated;
  try {
    const committer = new GroupCommitter<AuditEvent>(db);
    try {
      migrated = await migrateStore(db, committer, master, now());
    } finally {
      await committer.close();
    }
  } catch (error) {
    await db.close();
    throw error;
  }
  if (migrated === undefined || !Object.values(migrated).some((n) => n > 0)) return { db };
  log.info('the database was brought to the current format: no full card number is kept', { format: STORE_FORMAT, ...migrated });
  await db.close();
  return { db: await Database.open(location), migrated };
}

/** The PostgreSQL store's connection settings from host.json's `store` (and the password credential). */
export async function postgresStoreOptions(paths: StorePaths, settings: PostgresStoreConfig): Promise<PostgresStoreOptions> {
  const named = settings.connectionString !== undefined ? parseStoreConnectionString(settings.connectionString) : { addresses: settings.addresses!, database: settings.database!, user: settings.user! };
  const password = await loadSecretText(paths.keysDir, settings.passwordCredential, { fromCredentials: paths.keysFromCredentials ?? false });
  return {
    ...named,
    password,
    hostId: settings.hostId ?? defaultHostId(),
    laneKey: laneHeadKey,
    ...(settings.poolSize !== undefined && { poolSize: settings.poolSize }),
    ...(settings.groupCommitUnits !== undefined && { groupCommitUnits: settings.groupCommitUnits }),
    ...(settings.groupCommitLanes !== undefined && { groupCommitLanes: settings.groupCommitLanes }),
    ...(settings.connectTimeoutMs !== undefined && { connectTimeoutMs: settings.connectTimeoutMs }),
    ...(settings.queryTimeoutMs !== undefined && { queryTimeoutMs: settings.queryTimeoutMs }),
    ...(settings.lockTimeoutMs !== undefined && { lockTimeoutMs: settings.lockTimeoutMs }),
    idleInTransactionTimeoutMs: settings.idleInTransactionTimeoutMs,
  };
}

/** The machine's name, cut to the characters a host id may hold. */
function defaultHostId(): string {
  const name = os.hostname().replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  return name === '' ? 'host' : name;
}

async function openPostgres(paths: StorePaths, settings: PostgresStoreConfig, keys: HostKeys, log: Logger, now: () => number): Promise<OpenedStore> {
  const options = await postgresStoreOptions(paths, settings);
  const pg = await PostgresStore.open(options);
  try {
    const chains = await LaneAuditChains.open(pg, { enc: keys.auditEnc, mac: keys.auditMac });
    const committer = new PostgresCommitter<AuditEvent>(pg, chains, now);
    const migrated = await migrateStore(pg, committer, keys.master, now());
    log.info('store: PostgreSQL', { primary: pg.connections.primary ?? null, database: options.database, hostId: options.hostId, schemaVersion: pg.schema.version });
    const store: HostStore<AuditEvent> = {
      backend: 'postgresql',
      db: pg,
      locks: new PostgresLocks(pg),
      committer,
      requests: new PostgresRequests(pg),
      async close() {
        await committer.close();
        await pg.close();
      },
    };
    return { store, auditRefusal: chains.refusal, chain: undefined, migrated: migrated !== undefined && Object.values(migrated).some((n) => n > 0) ? migrated : undefined };
  } catch (error) {
    await pg.close();
    throw error;
  }
}

/** `postgresql://user@node1:5432,node2:5432/database`: several nodes (the host finds the primary), no
 *  password (a credential), no options. Validated as host.json's fields are. */
export function parseStoreConnectionString(text: string): { addresses: PostgresAddress[]; database: string; user: string } {
  const match = /^postgres(?:ql)?:\/\/([^@/?#]+)@([^/?#]+)\/([^/?#]+)$/.exec(text);
  if (match === null) throw new ConfigError('the store connection string must read postgresql://user@host[:port][,host[:port]…]/database');
  const [, user, hosts, database] = match as unknown as [string, string, string, string];
  if (user.includes(':')) throw new ConfigError('the store connection string must not hold a password: put it in the credential file passwordCredential names');
  const addresses = hosts.split(',').map((part) => {
    const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::([0-9]{1,5}))?$/.exec(part);
    const plain = /^([A-Za-z0-9._-]+)(?::([0-9]{1,5}))?$/.exec(part);
    const found = bracketed ?? plain;
    if (found === null) throw new ConfigError(`the store connection string names a node "${part.slice(0, 64)}" that is not host[:port]`);
    return { host: found[1]!, port: found[2] === undefined ? 5432 : Number(found[2]) };
  });
  const parsed = postgresStoreConfigSchema.safeParse({ backend: 'postgresql', addresses, database: decodeURIComponent(database), user: decodeURIComponent(user) });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`the store connection string: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return { addresses: parsed.data.addresses!.map((a) => ({ host: a.host, port: a.port })), database: parsed.data.database!, user: parsed.data.user! };
}
