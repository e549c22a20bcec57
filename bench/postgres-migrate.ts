// `bank-host migrate` at a bank's scale, for bench/postgres.ts: a LevelDB host (test/reliability's host
// process) takes the kiosks' money load for a while, stops, and the real `bank-host migrate` command copies
// its folder into a new database of the bench's cluster, with its checks: the source's ledger check and
// audit verify, the copy, the copy's ledger check, audit verify and key counts, and the commit. Measured:
// keys copied per second end to end, the command's peak resident memory, and what its progress said.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SETTING_CENTS_MAX } from '../bank-host/config.js';
import type { PostgresCluster } from '../test/helpers/postgres-cluster.js';
import { BankHostChild } from '../test/reliability/bank-host-child.js';
import { connectKiosk, ledgerLoad } from './ledger-load.js';

const CLI = path.resolve('bank-host/cli/main.ts');
/** The longest a migration of the bench's size may take before the bench gives up on it. */
const MIGRATE_TIMEOUT_MS = 30 * 60_000;
/** How often the command's resident memory is read. */
const RSS_SAMPLE_MS = 100;

export interface MigrationRun {
  /** The money load that made the source: money transactions, and seconds it ran. */
  readonly sourceTransactions: number;
  readonly sourceSeconds: number;
  readonly keys: number;
  readonly auditRecords: number;
  /** The command's wall time, from its start to its exit (opening both stores, the checks, the copy). */
  readonly elapsedS: number;
  readonly keysPerSecond: number;
  /** The command's largest resident set, sampled from /proc. */
  readonly peakRssBytes: number;
  /** Its progress lines on stderr. */
  readonly progressLines: number;
}

/** A LevelDB host's folder after `seconds` of the money load from `kiosks` kiosks, migrated into a new
 *  database of `cluster`. */
export async function migrationBench(cluster: PostgresCluster, kiosks: number, seconds: number): Promise<MigrationRun> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-migrate-'));
  try {
    const load = await makeSource(dir, kiosks, seconds);
    const target = await cluster.createDatabase(`migrate_bench_${process.pid}`);
    await writeFile(path.join(dir, 'keys', 'postgres-password'), target.password + '\n', { mode: 0o600 });
    const url = `postgresql://${target.user}@${cluster.addresses().map((a) => `${a.host}:${a.port}`).join(',')}/${target.database}`;
    const run = await runMigrate(['migrate', '--data', path.join(dir, 'data'), '--keys', path.join(dir, 'keys'), '--to', url]);
    const summary = JSON.parse(run.stdout) as { ok: boolean; keys: number; auditRecords: number };
    if (!summary.ok) throw new Error(`bank-host migrate did not say ok: ${run.stdout}`);
    return {
      sourceTransactions: load.moneyTransactions,
      sourceSeconds: load.elapsedS,
      keys: summary.keys,
      auditRecords: summary.auditRecords,
      elapsedS: run.elapsedS,
      keysPerSecond: summary.keys / run.elapsedS,
      peakRssBytes: run.peakRssBytes,
      progressLines: run.stderr.split('\n').filter((line) => line.startsWith('migrate: ')).length,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The money load through a LevelDB host on `dir`, stopped afterwards (a migration copies a stopped host). */
async function makeSource(dir: string, kiosks: number, seconds: number) {
  const host = await BankHostChild.start({
    dir,
    fresh: true,
    config: { dailyWithdrawalLimitCents: SETTING_CENTS_MAX, cardDailyWithdrawalLimitCents: SETTING_CENTS_MAX, maxWithdrawalCents: 100_000, depositDailyCapCents: SETTING_CENTS_MAX, depositHoldMs: 0 },
  });
  try {
    const deviceIds = Array.from({ length: kiosks }, (_, i) => `bench-kiosk-${i}`);
    const setup = await host.setup(
      deviceIds,
      deviceIds.map((_, i) => ({ username: `bench-user-${i}`, password: `bench password ${i}` })),
    );
    const port = await host.serve(0);
    const clients = await Promise.all(setup.devices.map((device) => connectKiosk(port, device)));
    try {
      const sessions = await Promise.all(clients.map((client, i) => client.request('signin.password', { username: `bench-user-${i}`, password: `bench password ${i}` })));
      return await ledgerLoad(
        clients,
        sessions.map((session) => session.accounts[0]!.accountId),
        seconds,
      );
    } finally {
      for (const client of clients) client.close();
    }
  } finally {
    await host.stop();
  }
}

/** Runs the bank-host command in a process of its own, sampling its resident memory. */
async function runMigrate(argv: readonly string[]): Promise<{ stdout: string; stderr: string; elapsedS: number; peakRssBytes: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  let peakRssBytes = 0;
  const sample = setInterval(() => {
    readFile(`/proc/${child.pid}/status`, 'utf8').then(
      (status) => {
        // VmHWM: the largest resident set the process has had, so a peak between samples is not missed.
        const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
        if (match) peakRssBytes = Math.max(peakRssBytes, Number(match[1]) * 1024);
      },
      () => {},
    );
  }, RSS_SAMPLE_MS);
  const timer = setTimeout(() => child.kill('SIGKILL'), MIGRATE_TIMEOUT_MS);
  try {
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (c, s) => resolve({ code: c, signal: s })));
    if (code !== 0) throw new Error(`bank-host migrate exited ${signal ?? code}:\n${stderr.slice(-4_000)}`);
  } finally {
    clearInterval(sample);
    clearTimeout(timer);
  }
  return { stdout, stderr, elapsedS: (performance.now() - started) / 1000, peakRssBytes };
}
