// `BENCH_ONLY=postgres npm run bench`: the money load on PostgreSQL next to pgbench, on one real Patroni
// cluster (three PostgreSQL 15 nodes, strict synchronous mode, one etcd) on this machine, and the failover
// times. In one run, on the same cluster and with the same number of clients:
//   - pgbench's TPC-B (`pgbench -i`, then timed runs before and after the money load): the yardstick;
//   - the money load through PostgresStore (bench/postgres-worker.ts) from 1, 2 and 4 processes, as 1, 2
//     and 4 bank hosts would be, the clients shared among them: what the store itself can do;
//   - the money load through 1, 2 and 4 real bank-host processes (bench/postgres-hosts.ts): as many kiosks
//     as pgbench has clients, over TLS, through the channel, dispatcher, ledger and audit log;
//   - the primary lost under load from two hosts (killed; then killed with its network gone silent, as a
//     dead machine is): how long until units of work succeed again, and that none acknowledged was lost;
//   - a host lost while it holds a unit of work's locks (its process killed; its machine gone): how long
//     until another host gets those locks;
//   - `bank-host migrate` of a LevelDB host's folder after BENCH_PG_MIGRATE_SECONDS of the money load
//     (bench/postgres-migrate.ts): keys per second and the command's peak memory.
// Parameters: BENCH_PG_SECONDS (10) per timed phase, BENCH_PG_CLIENTS (16), BENCH_PG_SCALE (pgbench's scale
// factor, = clients unless said: TPC-B is meant to be run with no more clients than branches),
// BENCH_PG_MIGRATE_SECONDS (20; 0 leaves the migration out).
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { PostgresStore } from '../bank-host/store/postgres/index.js';
import { PostgresCluster, type ClusterNode } from '../test/helpers/postgres-cluster.js';
import { TcpProxy } from '../test/helpers/tcp-proxy.js';
import type { RunResult, WorkerCommand, WorkerConfig } from './postgres-worker.js';
import { startHosts, walPosition, type HostsLoad } from './postgres-hosts.js';
import { migrationBench } from './postgres-migrate.js';
import { endedChildrenCpuMicros, postgresCpuMicros } from './process-cpu.js';
import { percentile, benchSetting } from './stats.js';

const SECONDS = benchSetting('BENCH_PG_SECONDS', 10, 1, 3_600);
const CLIENTS = benchSetting('BENCH_PG_CLIENTS', 16, 1, 128);
const SCALE = benchSetting('BENCH_PG_SCALE', CLIENTS, 1, 10_000);
const MIGRATE_SECONDS = benchSetting('BENCH_PG_MIGRATE_SECONDS', 20, 0, 3_600);
const PROCESS_COUNTS = [1, 2, 4] as const;
/** Each host process runs the load unmeasured this long first. */
const WARM_UP_MS = 3_000;
/** The primary is killed this long into the failover phase, which ends FAILOVER_TAIL_MS after Patroni
 *  names a new leader (a host not serving again by then is reported as such). */
const FAILOVER_KILL_AFTER_MS = 3_000;
const FAILOVER_TAIL_MS = 10_000;
const FAILOVER_BOUND_MS = 60_000;
const TARGET_RATIO = 1;
const TARGET_PRIMARY_LOST_MS = 15_000;
const TARGET_HOST_LOST_MS = 2_000;
const PGBENCH_TIMEOUT_MS = 15 * 60_000;

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function progress(label: string): () => void {
  process.stderr.write(`  ${label}…`);
  const started = Date.now();
  return () => process.stderr.write(` done (${fmt((Date.now() - started) / 1000, 1)} s)\n`);
}

class Worker {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private constructor(readonly child: ChildProcess) {
    child.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.error) w.reject(new Error(m.error));
      else w.resolve(m.result);
    });
    child.on('exit', () => {
      for (const w of this.waiting.values()) w.reject(new Error('the worker exited'));
      this.waiting.clear();
    });
  }

  static async start(config: WorkerConfig): Promise<Worker> {
    const child = fork(new URL('./postgres-worker.ts', import.meta.url).pathname, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, BENCH_PG_WORKER: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`a bench worker exited with ${code}`)));
    });
    return new Worker(child);
  }

  call<T>(command: WorkerCommand): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, command });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await this.call({ type: 'stop' }).catch(() => {});
  }
}

function workerConfig(cluster: PostgresCluster, hostId: string, clients: number, addresses = cluster.addresses()): WorkerConfig {
  return { hostId, addresses, ...cluster.app, clients, poolSize: clients };
}

interface PgbenchRun {
  /** Transactions per second, without connection time. */
  tps: number;
  /** PostgreSQL's CPU (every process of the three nodes) per transaction, connections included. */
  databaseCpuMicros: number;
  /** pgbench's own CPU per transaction. */
  clientCpuMicros: number;
  /** WAL the primary wrote per transaction. */
  walBytes: number;
}

/** pgbench's TPC-B with CLIENTS clients for SECONDS. */
async function pgbench(cluster: PostgresCluster, primary: ClusterNode): Promise<PgbenchRun> {
  const walBefore = await walPosition(cluster);
  const databaseBefore = postgresCpuMicros();
  const clientBefore = endedChildrenCpuMicros();
  const run = cluster.runClientProgram('pgbench', ['-c', String(CLIENTS), '-j', String(Math.min(CLIENTS, os.availableParallelism())), '-T', String(SECONDS), 'pgbench'], { node: primary, timeoutMs: PGBENCH_TIMEOUT_MS });
  const client = endedChildrenCpuMicros() - clientBefore;
  const database = postgresCpuMicros() - databaseBefore;
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(run.stdout);
  const processed = /number of transactions actually processed: (\d+)/.exec(run.stdout);
  if (run.status !== 0 || !tps || !processed) throw new Error(`pgbench failed (${run.status}): ${run.stderr}\n${run.stdout}`);
  const transactions = Number(processed[1]);
  const wal = (await walPosition(cluster)) - walBefore;
  return { tps: Number(tps[1]), databaseCpuMicros: database / transactions, clientCpuMicros: client / transactions, walBytes: wal / transactions };
}

interface LoadSummary {
  tps: number;
  /** The host processes' CPU (user + system) per money transaction. */
  hostCpuMicros: number;
  /** PostgreSQL's CPU (every process of the three nodes) per money transaction. */
  databaseCpuMicros: number;
  p50: number;
  p99: number;
  failures: Record<string, number>;
}

/** The money load from `processes` processes sharing CLIENTS clients. */
async function moneyLoad(cluster: PostgresCluster, processes: number): Promise<LoadSummary> {
  const workers = await Promise.all(
    Array.from({ length: processes }, (_, i) => Worker.start(workerConfig(cluster, `p${processes}-h${i}`, Math.floor(CLIENTS / processes) + (i < CLIENTS % processes ? 1 : 0)))),
  );
  try {
    // Unmeasured: until V8 has compiled the hot path, a new process spends several times the CPU per
    // transaction (pgbench, in C, needs no such time).
    const warmUntilMs = Date.now() + WARM_UP_MS;
    await Promise.all(workers.map((w) => w.call<RunResult>({ type: 'run', phase: `warm-up-${processes}`, untilMs: warmUntilMs, keepSuccesses: false })));
    const untilMs = Date.now() + SECONDS * 1000;
    const databaseBefore = postgresCpuMicros();
    const results = await Promise.all(workers.map((w) => w.call<RunResult>({ type: 'run', phase: `load-${processes}`, untilMs, keepSuccesses: false })));
    const database = postgresCpuMicros() - databaseBefore;
    const latencies = results.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
    const failures: Record<string, number> = {};
    for (const r of results) for (const [code, n] of Object.entries(r.failures)) failures[code] = (failures[code] ?? 0) + n;
    const elapsedS = Math.max(...results.map((r) => r.elapsedMs)) / 1000;
    const transactions = results.reduce((n, r) => n + r.transactions, 0);
    const cpuMicros = results.reduce((n, r) => n + r.cpuMicros.user + r.cpuMicros.system, 0);
    return { tps: transactions / elapsedS, p50: percentile(latencies, 50), p99: percentile(latencies, 99), failures, hostCpuMicros: cpuMicros / transactions, databaseCpuMicros: database / transactions };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

interface FailoverResult {
  killed: string;
  leaderAfterMs: number;
  /** Per host: from the kill to the end of the first unit of work begun after it that succeeded. */
  servedAgainMs: number[];
  acknowledged: number;
  lost: number;
  failures: Record<string, number>;
}

/** Two hosts under the money load; the primary is killed (and with `machine`, its network falls silent).
 *  Units of work fail retryably until the store finds the promoted standby. */
async function primaryLost(cluster: PostgresCluster, machine: boolean): Promise<FailoverResult> {
  const addresses = machine ? cluster.proxiedAddresses() : cluster.addresses();
  const workers = await Promise.all([0, 1].map((i) => Worker.start(workerConfig(cluster, `fo${machine ? 'm' : 'k'}-h${i}`, CLIENTS / 2, addresses))));
  try {
    const startedMs = Date.now();
    // Runs until told to finish, once the cluster has a new leader.
    const untilMs = startedMs + FAILOVER_KILL_AFTER_MS + 2 * FAILOVER_BOUND_MS;
    const runs = workers.map((w) => w.call<RunResult>({ type: 'run', phase: 'failover', untilMs, keepSuccesses: true }));
    await new Promise((resolve) => setTimeout(resolve, FAILOVER_KILL_AFTER_MS));
    const killed = await cluster.killPrimary({ blackhole: machine });
    const leader = await cluster.waitForNewLeader(killed.node.name, FAILOVER_BOUND_MS);
    await Promise.all(workers.map((w) => w.call({ type: 'finish', atMs: Date.now() + FAILOVER_TAIL_MS })));
    const results = await Promise.all(runs);
    const servedAgainMs = results.map((r) => {
      const first = r.successes.filter(([start]) => start > killed.killedAtMs).map(([, end]) => end).sort((a, b) => a - b)[0];
      return first === undefined ? NaN : first - killed.killedAtMs;
    });
    const failures: Record<string, number> = {};
    for (const r of results) for (const [code, n] of Object.entries(r.failures)) failures[code] = (failures[code] ?? 0) + n;
    const keys = results.flatMap((r) => r.successes.map(([, , key]) => key));
    const lost = await countMissing(cluster, keys);
    return { killed: killed.node.name, leaderAfterMs: leader.atMs - killed.killedAtMs, servedAgainMs, acknowledged: keys.length, lost, failures };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

async function countMissing(cluster: PostgresCluster, keys: string[]): Promise<number> {
  const store = await PostgresStore.open({ addresses: cluster.addresses(), ...cluster.app, hostId: 'checker' });
  try {
    let missing = 0;
    for (let i = 0; i < keys.length; i += 5_000) {
      const values = await store.getMany(keys.slice(i, i + 5_000));
      missing += values.filter((v) => v === undefined).length;
    }
    return missing;
  } finally {
    await store.close();
  }
}

/** Host A holds a unit of work's lock and is lost; how long until host B's unit of work on the same key
 *  succeeds. `machine`: A's connection goes silent (through a proxy of its own); otherwise its process is
 *  killed (its sockets close). */
async function hostLost(cluster: PostgresCluster, machine: boolean): Promise<number> {
  const primary = await cluster.primary();
  const proxy = machine ? await TcpProxy.start({ host: primary.host, port: primary.port }) : undefined;
  const a = await Worker.start(workerConfig(cluster, `lost-a-${machine ? 'm' : 'k'}`, 1, proxy ? [{ host: '127.0.0.1', port: proxy.port }] : [primary]));
  const b = await Worker.start(workerConfig(cluster, `lost-b-${machine ? 'm' : 'k'}`, 1));
  try {
    const key = `acct:contended-${machine ? 'm' : 'k'}`;
    await a.call({ type: 'hold', key });
    const lostAtMs = Date.now();
    if (proxy) proxy.blackhole();
    else a.child.kill('SIGKILL');
    const taken = await b.call<{ atMs: number }>({ type: 'take', key, boundMs: FAILOVER_BOUND_MS });
    return taken.atMs - lostAtMs;
  } finally {
    if (machine) a.child.kill('SIGKILL');
    await b.stop();
    await proxy?.close();
  }
}

async function main(): Promise<void> {
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${fmt(os.totalmem() / 2 ** 30, 0)} GiB, ${os.type()} ${os.release()}`;
  console.log(`bench postgres: ${CLIENTS} clients, ${SECONDS} s per timed phase, pgbench scale ${SCALE}; ${machine}`);
  const rows: [string, string][] = [];
  let stop = progress('starting etcd and three Patroni nodes');
  const cluster = await PostgresCluster.start();
  stop();
  try {
    rows.push(['cluster start (etcd + 3 Patroni nodes, leader and synchronous standby)', `${fmt(cluster.startMs / 1000, 1)} s`]);
    let primary = await cluster.primary();
    stop = progress(`pgbench -i -s ${SCALE}`);
    cluster.runClientProgram('createdb', ['pgbench'], { node: primary, timeoutMs: 60_000 });
    const init = cluster.runClientProgram('pgbench', ['-i', '-q', '-s', String(SCALE), 'pgbench'], { node: primary, timeoutMs: PGBENCH_TIMEOUT_MS });
    if (init.status !== 0) throw new Error(`pgbench -i failed: ${init.stderr}`);
    stop();

    stop = progress(`pgbench TPC-B, ${CLIENTS} clients (before the money load)`);
    const before = await pgbench(cluster, primary);
    stop();
    const loads = new Map<number, LoadSummary>();
    for (const processes of PROCESS_COUNTS) {
      stop = progress(`money load, ${CLIENTS} clients from ${processes} process${processes > 1 ? 'es' : ''}`);
      loads.set(processes, await moneyLoad(cluster, processes));
      stop();
    }
    stop = progress(`starting ${PROCESS_COUNTS.at(-1)} bank-host processes on a new database, enrolling ${CLIENTS} kiosks`);
    const hosts = await startHosts(cluster, PROCESS_COUNTS.at(-1)!, CLIENTS, CLIENTS);
    stop();
    const hostLoads: HostsLoad[] = [];
    let hostsCheck: Awaited<ReturnType<typeof hosts.check>>;
    try {
      for (const processes of PROCESS_COUNTS) {
        stop = progress(`money load, ${CLIENTS} kiosks over TLS through ${processes} bank-host process${processes > 1 ? 'es' : ''}`);
        hostLoads.push(await hosts.load(processes, SECONDS, WARM_UP_MS / 1000));
        stop();
      }
      stop = progress('ledger check and audit verify across every host');
      hostsCheck = await hosts.check();
      stop();
    } finally {
      await hosts.stop();
    }
    stop = progress(`pgbench TPC-B, ${CLIENTS} clients (after the money load)`);
    const after = await pgbench(cluster, primary);
    stop();
    const yardstick = (before.tps + after.tps) / 2;
    rows.push([
      `pgbench TPC-B tps, ${CLIENTS} clients (before / after)`,
      `${fmt(before.tps)} / ${fmt(after.tps)} (yardstick: their mean, ${fmt(yardstick)}); PostgreSQL CPU ${fmt(before.databaseCpuMicros)} / ${fmt(after.databaseCpuMicros)} µs/transaction, pgbench's own ${fmt(before.clientCpuMicros)} / ${fmt(after.clientCpuMicros)}; WAL ${fmt(before.walBytes)} / ${fmt(after.walBytes)} bytes/transaction`,
    ]);
    for (const [processes, load] of loads) {
      const ratio = load.tps / yardstick;
      rows.push([
        `store only (PostgresStore, no channel), ${CLIENTS} clients from ${processes} process${processes > 1 ? 'es' : ''}: money transactions/s`,
        `${fmt(load.tps)} = ${fmt(ratio, 2)}× pgbench ${ratio >= TARGET_RATIO ? 'OK' : 'UNDER TARGET'} (p50 ${fmt(load.p50, 1)} ms, p99 ${fmt(load.p99, 1)} ms, host CPU ${fmt(load.hostCpuMicros)} µs/transaction, PostgreSQL CPU ${fmt(load.databaseCpuMicros)}${Object.keys(load.failures).length > 0 ? `, failures ${JSON.stringify(load.failures)}` : ''})`,
      ]);
    }
    for (const load of hostLoads) {
      const ratio = load.perSecond / yardstick;
      rows.push([
        `money transactions/s, ${CLIENTS} kiosks, ${load.processes} bank-host process${load.processes > 1 ? 'es' : ''}`,
        `${fmt(load.perSecond)} = ${fmt(ratio, 2)}× pgbench ${ratio >= TARGET_RATIO ? 'OK' : 'UNDER TARGET'} (p50 ${fmt(load.p50, 1)} ms, p99 ${fmt(load.p99, 1)} ms per request, ${fmt(load.requests / load.moneyTransactions, 2)} requests/transaction, host CPU ${fmt(load.hostCpuMicros)} µs/transaction, PostgreSQL CPU ${fmt(load.databaseCpuMicros)}, the kiosks' own ${fmt(load.kioskCpuMicros)}, WAL ${fmt(load.walBytes)} bytes/transaction${Object.keys(load.failures).length > 0 ? `, failures ${JSON.stringify(load.failures)}` : ''})`,
      ]);
    }
    rows.push([
      'bank hosts: ledger check and audit verify after their load',
      `${hostsCheck.ledgerOk ? 'OK' : `FAILED (${hostsCheck.problems.join('; ')})`}: ${fmt(hostsCheck.postingLegs)} posting legs; audit ${hostsCheck.auditOk ? 'OK' : `FAILED (${hostsCheck.auditProblem})`}: ${fmt(hostsCheck.auditRecords)} records`,
    ]);
    if (!hostsCheck.ledgerOk || !hostsCheck.auditOk) process.exitCode = 1;

    for (const machineLoss of [false, true]) {
      stop = progress(`primary ${machineLoss ? 'machine lost (killed, network silent)' : 'killed'} under load from 2 hosts`);
      const result = await primaryLost(cluster, machineLoss);
      stop();
      const worst = Math.max(...result.servedAgainMs);
      rows.push([
        `primary ${machineLoss ? 'machine lost' : 'killed'}: serving again after`,
        `${fmt(worst / 1000, 1)} s (hosts: ${result.servedAgainMs.map((ms) => fmt(ms / 1000, 1)).join(', ')} s; new leader after ${fmt(result.leaderAfterMs / 1000, 1)} s; target ≤ ${TARGET_PRIMARY_LOST_MS / 1000} s) ${worst <= TARGET_PRIMARY_LOST_MS ? 'OK' : 'OVER TARGET'}`,
      ]);
      rows.push([`  acknowledged units of work lost`, `${result.lost} of ${fmt(result.acknowledged)} (failures meanwhile: ${JSON.stringify(result.failures)})`]);
      stop = progress('the killed node rejoins');
      await cluster.restartNode(result.killed);
      stop();
    }
    primary = await cluster.primary();

    for (const machineLoss of [false, true]) {
      stop = progress(`a host ${machineLoss ? 'machine' : 'process'} lost while holding a lock`);
      const ms = await hostLost(cluster, machineLoss);
      stop();
      rows.push([`host ${machineLoss ? 'machine lost' : 'process killed'} holding a lock: another host has it after`, `${fmt(ms)} ms (the store's share of the ${TARGET_HOST_LOST_MS / 1000} s target)`]);
    }

    if (MIGRATE_SECONDS > 0) {
      stop = progress(`a LevelDB host under ${CLIENTS} kiosks' money load for ${MIGRATE_SECONDS} s, then bank-host migrate of its folder`);
      const migration = await migrationBench(cluster, CLIENTS, MIGRATE_SECONDS);
      stop();
      rows.push([
        'bank-host migrate (LevelDB folder → PostgreSQL, checked and verified, one transaction)',
        `${fmt(migration.keys)} keys (${fmt(migration.auditRecords)} audit records, from ${fmt(migration.sourceTransactions)} money transactions) in ${fmt(migration.elapsedS, 1)} s = ${fmt(migration.keysPerSecond)} keys/s; peak memory ${fmt(migration.peakRssBytes / 2 ** 20)} MiB; ${migration.progressLines} progress lines`,
      ]);
    }
  } finally {
    stop = progress('stopping the cluster');
    await cluster.stop();
    stop();
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log('');
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
}

await main();
