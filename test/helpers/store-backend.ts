// Which store the host tests run on. `BANK_HOST_STORE=postgresql` (set by the *.postgres.test.ts files
// before they import a suite) runs the same tests on PostgreSQL: one three-node Patroni cluster per test
// file (test/helpers/postgres-cluster.ts), started on first use and stopped when the file's process ends,
// with a fresh database per host, so tests do not see each other's keys. Unset: LevelDB, as ever.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { StoreConfig } from '../../bank-host/config.js';
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

/** The `store` setting of a test host on `backend`: for PostgreSQL a fresh database on the file's cluster,
 *  its password written into `keysDir` (owner-only) as systemd would hand it over. */
export async function testStoreConfig(keysDir: string, backend: TestBackend = testBackend(), hostId = 'test-host'): Promise<StoreConfig> {
  if (backend === 'leveldb') return { backend: 'leveldb' };
  const started = await sharedCluster();
  const credentials = await started.createDatabase(`host_${process.pid}_${++databases}_${randomBytes(3).toString('hex')}`);
  await writeFile(path.join(keysDir, TEST_PASSWORD_CREDENTIAL), credentials.password + '\n', { mode: 0o600 });
  return {
    backend: 'postgresql',
    addresses: started.addresses().map((a) => ({ host: a.host, port: a.port })),
    database: credentials.database,
    user: credentials.user,
    passwordCredential: TEST_PASSWORD_CREDENTIAL,
    hostId,
  };
}
