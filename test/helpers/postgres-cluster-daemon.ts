// One PostgreSQL cluster shared by every test file of a run (test/helpers/store-backend.ts starts it):
// run detached with a folder and the test runner's process id, it starts the cluster, writes how to reach
// it into the folder (owner-only: it holds the test cluster's random passwords) and stops the cluster,
// removing the folder, once the runner's process is gone. A cluster that fails to start writes why.
import { rmSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { PostgresCluster } from './postgres-cluster.js';

/** How often the daemon looks for the test runner. */
const RUNNER_CHECK_INTERVAL_MS = 1_000;

const [dir, runnerPid] = process.argv.slice(2);
if (dir === undefined || runnerPid === undefined || !/^[0-9]+$/.test(runnerPid)) {
  process.stderr.write('usage: postgres-cluster-daemon DIR RUNNER_PID\n');
  process.exit(2);
}

function writeAtomically(name: string, content: unknown): void {
  const file = path.join(dir!, name);
  writeFileSync(`${file}.tmp`, JSON.stringify(content), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

function runnerAlive(): boolean {
  try {
    process.kill(Number(runnerPid), 0);
    return true;
  } catch {
    return false;
  }
}

try {
  const cluster = await PostgresCluster.start();
  writeAtomically('cluster.json', {
    addresses: cluster.addresses(),
    superuser: cluster.superuser,
    app: cluster.app,
    startMs: cluster.startMs,
  });
  const timer = setInterval(() => {
    if (runnerAlive()) return;
    clearInterval(timer);
    void cluster.stop().finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  }, RUNNER_CHECK_INTERVAL_MS);
} catch (error) {
  writeAtomically('error.json', { message: error instanceof Error ? error.message : String(error) });
  setTimeout(() => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  }, 30_000);
}
