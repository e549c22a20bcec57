// Which store the host tests run on. `BANK_HOST_STORE=postgresql` (set by the *.postgres.test.ts files
// before they import a suite) runs the same tests on PostgreSQL: one three-node Patroni cluster for the
// whole test run (started by the first file that needs it, stopped when the run ends), with a fresh
// database per host, so tests do not see each other's keys. Unset: LevelDB, as ever.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { postgresStoreConfigSchema, type StoreConfig } from '../../bank-host/config.js';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { CLUSTER_START_TIMEOUT_MS, checkClusterTools, type Credentials } from './postgres-cluster.js';

export type TestBackend = 'leveldb' | 'postgresql';

export function testBackend(): TestBackend {
  const chosen = process.env.BANK_HOST_STORE ?? 'leveldb';
  if (chosen !== 'leveldb' && chosen !== 'postgresql') throw new Error(`BANK_HOST_STORE must be leveldb or postgresql, not ${chosen}`);
  return chosen;
}

/** The credential file the test hosts read their database password from (in their key folder). */
export const TEST_PASSWORD_CREDENTIAL = 'postgres-password';

/** What the test files of a run share: the cluster's nodes and its roles (the daemon's cluster.json). */
export interface SharedCluster {
  readonly addresses: readonly { readonly host: string; readonly port: number }[];
  readonly superuser: Credentials;
  readonly app: Credentials;
  readonly startMs: number;
  /** A fresh database owned by the application's role. */
  createDatabase(name: string): Promise<Credentials>;
}

let cluster: Promise<SharedCluster> | undefined;
let databases = 0;
/** How long the run's cluster took to start (for the test log). */
export let clusterStartMs: number | undefined;
/** Between two looks for the daemon's cluster.json. */
const SHARED_CLUSTER_POLL_MS = 200;

/** The run's one cluster: the first test file that needs it starts the daemon
 *  (postgres-cluster-daemon.ts, detached, stopping the cluster once the test runner's process, this
 *  worker's parent, is gone); every file of the run then uses it. Tests that kill nodes start their own. */
export function sharedCluster(): Promise<SharedCluster> {
  cluster ??= joinSharedCluster().then((joined) => {
    clusterStartMs = joined.startMs;
    return joined;
  });
  return cluster;
}

async function joinSharedCluster(): Promise<SharedCluster> {
  checkClusterTools();
  const dir = path.join(os.tmpdir(), `atm-shared-pg-cluster-${process.ppid}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
    const daemon = spawn(process.execPath, ['--import=tsx', fileURLToPath(new URL('./postgres-cluster-daemon.ts', import.meta.url)), dir, String(process.ppid)], { detached: true, stdio: 'ignore' });
    daemon.unref();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const deadline = Date.now() + CLUSTER_START_TIMEOUT_MS;
  for (;;) {
    const failed = readJson<{ message: string }>(path.join(dir, 'error.json'));
    if (failed !== undefined) throw new Error(`the run's PostgreSQL cluster did not start: ${failed.message}`);
    const info = readJson<Omit<SharedCluster, 'createDatabase'>>(path.join(dir, 'cluster.json'));
    if (info !== undefined) return { ...info, createDatabase: (name) => createDatabaseOn(info, name) };
    if (Date.now() > deadline) throw new Error(`the run's PostgreSQL cluster was not ready within ${CLUSTER_START_TIMEOUT_MS} ms (${dir})`);
    await new Promise((resolve) => setTimeout(resolve, SHARED_CLUSTER_POLL_MS));
  }
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** CREATE DATABASE on whichever node is the primary (a standby refuses it as read-only). */
async function createDatabaseOn(info: Omit<SharedCluster, 'createDatabase'>, name: string): Promise<Credentials> {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${name}`);
  const client = await primaryClient(info, info.superuser, 'postgres');
  try {
    await client.query(`CREATE DATABASE ${name} OWNER ${info.app.user} ENCODING 'UTF8' TEMPLATE template0`);
    return { ...info.app, database: name };
  } catch (error) {
    throw new Error(`the primary did not take CREATE DATABASE ${name}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** A connection as `role` to `database` on the run's primary. Not any node: a standby may not have replayed
 *  the database's creation yet (the synchronous standby has it durable, not necessarily applied), and then
 *  refuses the connection ("database does not exist"); a node that refuses is passed over. */
export async function primaryClient(started: Pick<SharedCluster, 'addresses'>, role: Credentials, database: string): Promise<pg.Client> {
  const answers: string[] = [];
  for (const address of started.addresses) {
    const client = new pg.Client({ ...address, user: role.user, password: role.password, database, connectionTimeoutMillis: 10_000 });
    try {
      await client.connect();
      if (!(await client.query<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby')).rows[0]!.standby) return client;
      answers.push(`${address.host}:${address.port} standby`);
    } catch (error) {
      answers.push(`${address.host}:${address.port} ${error instanceof Error ? error.message : String(error)}`);
    }
    await client.end().catch(() => {});
  }
  throw new Error(`no primary among the nodes: ${answers.join('; ')}`);
}

/** Nothing to stop: the daemon stops the run's cluster when the run ends. */
export async function stopSharedCluster(): Promise<void> {}

/** Databases this file creates: one at a time (a file's tests start together, and CREATE DATABASE copies a
 *  template under a lock), each tried again when the superuser's connection timed out on a loaded machine. */
let creating: Promise<unknown> = Promise.resolve();
const CREATE_DATABASE_TRIES = 5;

function createDatabaseInTurn(started: SharedCluster): Promise<Credentials> {
  const created = creating.then(async () => {
    const name = `host_${process.pid}_${++databases}_${randomBytes(3).toString('hex')}`;
    for (let attempt = 1; ; attempt++) {
      try {
        return await started.createDatabase(name);
      } catch (error) {
        if (attempt === CREATE_DATABASE_TRIES || !/timeout|terminated|ECONNRE/i.test(String(error))) throw error;
      }
    }
  });
  creating = created.catch(() => undefined);
  return created;
}

/** The `store` setting of a test host on `backend`: for PostgreSQL a fresh database on the file's cluster,
 *  its password written into `keysDir` (owner-only) as systemd would hand it over. */
export async function testStoreConfig(keysDir: string, backend: TestBackend = testBackend(), hostId = 'test-host'): Promise<StoreConfig> {
  if (backend === 'leveldb') return { backend: 'leveldb' };
  const started = await sharedCluster();
  const credentials = await createDatabaseInTurn(started);
  await writeFile(path.join(keysDir, TEST_PASSWORD_CREDENTIAL), credentials.password + '\n', { mode: 0o600 });
  return postgresStoreConfigSchema.parse({
    backend: 'postgresql',
    addresses: started.addresses.map((a) => ({ host: a.host, port: a.port })),
    database: credentials.database,
    user: credentials.user,
    passwordCredential: TEST_PASSWORD_CREDENTIAL,
    hostId,
    // Generous on a loaded 2-core machine running the cluster and the suite at once.
    connectTimeoutMs: 10_000,
    // A file's tests run at once, each with its own host: few connections each.
    poolSize: 4,
    queryTimeoutMs: 20_000,
  });
}
