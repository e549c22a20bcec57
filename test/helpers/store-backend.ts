// Which store the host tests run on. `BANK_HOST_STORE=postgresql` (set by the *.postgres.test.ts files
// before they import a suite) runs the same tests on PostgreSQL: one three-node Patroni cluster per test
// file (test/helpers/postgres-cluster.ts), started on first use and stopped when the file's process ends,
// with a fresh database per host, so tests do not see each other's keys. Unset: LevelDB, as ever.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { postgresStoreConfigSchema, type StoreConfig } from '../../bank-host/config.js';
import { PostgresCluster } from './postgres-cluster.js';

export type TestBackend = 'leveldb' | 'postgresql';

export function testBackend(): TestBackend {
  const chosen = process.env.BANK_HOST_STORE ?? 'leveldb';
  if (chosen !== 'leveldb' && chosen !== 'postgresql') throw new Error(`BANK_HOST_STORE must be leveldb or postgresql, not ${chosen}`);
  return chosen;
}

/** The credential file the test hosts read their database password from (in their key folder). */
export const TEST_PASSWORD_CREDENTIAL = 'postgres-password';

let cluster: Promise<PostgresCluster> | undefined;
let databases = 0;
/** How long this file's cluster took to start (for the test log). */
export let clusterStartMs: number | undefined;

export function sharedCluster(): Promise<PostgresCluster> {
  cluster ??= PostgresCluster.start().then((started) => {
    clusterStartMs = started.startMs;
    return started;
  });
  return cluster;
}

/** Stops the file's cluster (the cluster also stops itself when the process exits). */
export async function stopSharedCluster(): Promise<void> {
  const started = cluster;
  cluster = undefined;
  await (await started)?.stop();
}

/** Databases this file creates: one at a time (a file's tests start together, and CREATE DATABASE copies a
 *  template under a lock), each tried again when the superuser's connection timed out on a loaded machine. */
let creating: Promise<unknown> = Promise.resolve();
const CREATE_DATABASE_TRIES = 5;

function createDatabaseInTurn(started: PostgresCluster): ReturnType<PostgresCluster['createDatabase']> {
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
    addresses: started.addresses().map((a) => ({ host: a.host, port: a.port })),
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
