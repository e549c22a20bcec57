// `npm run bench`: the channel and the ledger under load, over real TLS 1.3-PSK on loopback, with the host
// in its own process, then what the audit log costs that ledger load (bench/audit.ts adds its verify speed).
// Parameters: BENCH_SECONDS (default 5) per phase, BENCH_KIOSKS (64), BENCH_AUDIT_ROUNDS (8 pairs of
// ledger load phases without and with the audit log: single pairs on the 2-core VM scatter by ±8 points),
// BENCH_ONLY=ledger (only the ledger load), audit (only the audit measurements), kiosk (only
// bench/kiosk.ts: the customer's waits at the kiosk, and the UI's size and time to first screen) or fleet
// (only bench/fleet-heartbeats.ts: the host's cost of BENCH_FLEET_KIOSKS kiosks heartbeating, which the full
// run measures after the money load, for BENCH_HEARTBEAT_SECONDS).
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { clientTlsOptions } from '../protocol/channel.js';
import { ChannelClient } from '../protocol/client.js';
import { FLEET_KIOSKS, HEARTBEAT_SECONDS, heartbeatCost } from './fleet-heartbeats.js';
import { connectKiosk, ledgerLoad as ledgerLoadFor, signInWithCards, type CardKiosk as Kiosk, type LoadResult } from './ledger-load.js';
import { median, percentile, benchSetting } from './stats.js';
import { profileNodeOptions } from './process-cpu.js';

const SECONDS = benchSetting('BENCH_SECONDS', 5, 1, 3_600);
const KIOSKS = benchSetting('BENCH_KIOSKS', 64, 1, 4_096);
/** `ledger` runs only the ledger load (for profiling it). */
const ONLY = process.env.BENCH_ONLY || undefined;
const ONLY_CHOICES = ['ledger', 'audit', 'kiosk', 'fleet', 'postgres'];
if (ONLY !== undefined && !ONLY_CHOICES.includes(ONLY)) {
  console.error(`bench: BENCH_ONLY must be one of ${ONLY_CHOICES.join(', ')}, got ${JSON.stringify(ONLY)}`);
  process.exit(2);
}
const AUDIT_ROUNDS = benchSetting('BENCH_AUDIT_ROUNDS', 8, 1, 1_000);
const AUDIT_COST_TARGET_PERCENT = 15;


class HostProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.error) w.reject(new Error(m.error));
      else w.resolve(m.result);
    });
  }
  static async start(): Promise<HostProcess> {
    const child = fork(new URL('./host-process.ts', import.meta.url).pathname, [], { execArgv: ['--import', 'tsx', ...profileNodeOptions()], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`bench host exited with ${code}`)));
    });
    return new HostProcess(child);
  }
  call<T>(command: object): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, command });
    });
  }
}

/** The ledger load for this run's SECONDS. */
const ledgerLoad = (clients: ChannelClient[], accountIds: string[]) => ledgerLoadFor(clients, accountIds, SECONDS);

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function progress(label: string, seconds: number): () => void {
  process.stderr.write(`  ${label} (${seconds} s)…`);
  return () => process.stderr.write(' done\n');
}

async function handshakes(port: number, kiosk: Kiosk, parallel: number): Promise<number> {
  const key = Buffer.from(kiosk.kSharedHex, 'hex');
  const deadline = Date.now() + SECONDS * 1000;
  let count = 0;
  const worker = async () => {
    while (Date.now() < deadline) {
      await new Promise<void>((resolve, reject) => {
        const socket = tls.connect(clientTlsOptions('127.0.0.1', port, kiosk.deviceId, key));
        socket.once('secureConnect', () => {
          count++;
          socket.destroy();
          resolve();
        });
        socket.once('error', reject);
      });
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: parallel }, worker));
  return count / ((Date.now() - started) / 1000);
}

async function roundTrips(clients: ChannelClient[]): Promise<{ perSecond: number; p50: number; p99: number }> {
  const deadline = Date.now() + SECONDS * 1000;
  const latencies: number[] = [];
  const started = Date.now();
  await Promise.all(
    clients.map(async (client) => {
      while (Date.now() < deadline) {
        const t0 = performance.now();
        await client.request('ping', {});
        latencies.push(performance.now() - t0);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { perSecond: latencies.length / ((Date.now() - started) / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function main(): Promise<void> {
  if (ONLY === 'postgres') return runScript('./postgres.ts');
  if (ONLY === 'kiosk') {
    await runScript('./kiosk.ts');
    return;
  }
  if (ONLY === 'fleet') {
    console.log(`bench: ${FLEET_KIOSKS} kiosks heartbeating for ${HEARTBEAT_SECONDS} s, host in its own process, TLS 1.3-PSK on loopback`);
    const host = await HostProcess.start();
    const rows = await heartbeatCost(host.call.bind(host), progress);
    await host.call({ type: 'stop' });
    const width = Math.max(...rows.map(([k]) => k.length));
    console.log('');
    for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
    return;
  }
  console.log(`bench: ${KIOSKS} kiosks, ${SECONDS} s per phase, host in its own process, TLS 1.3-PSK on loopback`);
  const host = await HostProcess.start();
  const done = progress(`enrolling ${KIOSKS} kiosks and customers`, 0);
  const { port, kiosks } = await host.call<{ port: number; kiosks: Kiosk[] }>({ type: 'setup', kiosks: KIOSKS });
  done();
  const rows: [string, string][] = [];

  let stop: () => void;
  const clients = await Promise.all(kiosks.map((k) => connectKiosk(port, k)));
  if (ONLY === undefined) {
    stop = progress('full PSK handshakes, 1 at a time', SECONDS);
    rows.push(['full TLS 1.3-PSK handshakes/s (sequential)', fmt(await handshakes(port, kiosks[0]!, 1))]);
    stop();
    stop = progress('full PSK handshakes, 16 in parallel', SECONDS);
    rows.push(['full TLS 1.3-PSK handshakes/s (16 parallel)', fmt(await handshakes(port, kiosks[1]!, 16))]);
    stop();
    stop = progress('ping round trips on 1 connection', SECONDS);
    const one = await roundTrips(clients.slice(0, 1));
    stop();
    rows.push(['request round trips/s, 1 connection', `${fmt(one.perSecond)} (p50 ${fmt(one.p50, 2)} ms, p99 ${fmt(one.p99, 2)} ms)`]);
    stop = progress(`ping round trips on ${clients.length} connections`, SECONDS);
    const many = await roundTrips(clients);
    stop();
    rows.push([`request round trips/s, ${clients.length} connections`, `${fmt(many.perSecond)} (p50 ${fmt(many.p50, 2)} ms, p99 ${fmt(many.p99, 2)} ms)`]);
  }

  const accountIds = await signInWithCards(clients, kiosks);
  if (ONLY !== 'audit') {
    stop = progress(`ledger load: ${clients.length} kiosks, deposits of notes + two-phase withdrawals + balances`, SECONDS);
    const before = await host.call<HostStats>({ type: 'stats' });
    const load = await ledgerLoad(clients, accountIds);
    const after = await host.call<HostStats>({ type: 'stats' });
    stop();
    // Deposits are notes now: deposit.open + deposit.commit, counted as one money transaction (the commit).
    // Figures before issue 12 (docs/ledger.md) had one request per deposit.
    rows.push([`durable money transactions/s, ${clients.length} kiosks`, `${fmt(load.perSecond)} (deposits of notes: open + commit)`]);
    rows.push(['ledger load requests/s', `${fmt(load.requests / load.elapsedS)} (balances and the deposits' opens included)`]);
    rows.push(['ledger load latency per request', `p50 ${fmt(load.p50, 2)} ms, p99 ${fmt(load.p99, 2)} ms over ${fmt(load.requests)} requests`]);
    if (Object.keys(load.failures).length > 0) rows.push(['ledger load failures', JSON.stringify(load.failures)]);
    const changes = after.commits.changes - before.commits.changes;
    const batches = after.commits.batches - before.commits.batches;
    rows.push(['group commit', `${fmt(changes)} changes in ${fmt(batches)} synced batches (avg ${fmt(changes / batches, 1)}, max ${after.commits.maxChangesInBatch})`]);
    rows.push([
      'host per money transaction',
      `${fmt((after.cpuMicros - before.cpuMicros) / load.moneyTransactions)} µs CPU (all threads), event loop busy ${fmt(((after.eventLoopActiveMs - before.eventLoopActiveMs) * 1000) / load.moneyTransactions)} µs`,
    ]);
  }
  // What the fleet's reports cost the host, beside the money load.
  if (ONLY === undefined) rows.push(...(await heartbeatCost(host.call.bind(host), progress)));
  if (ONLY === 'audit') {
    // Without the ledger load above, the first phase of the pairs would run on an empty database and a cold
    // JIT, 10-15 % faster than any later phase; one unmeasured phase puts every measured one on equal terms.
    stop = progress('warm-up: the ledger load, not measured', SECONDS);
    await ledgerLoad(clients, accountIds);
    stop();
  }
  if (ONLY !== 'ledger') rows.push(...(await auditCost(host, clients, accountIds)));

  for (const client of clients) client.close();
  stop = progress('ledger check and audit verify', 0);
  const report = await host.call<{ ok: boolean; totalBalanceCents: number; postingLegs: number; problems: unknown[] }>({ type: 'check' });
  const audit = await host.call<{ ok: boolean; records: number; problem?: { message: string } }>({ type: 'verify' });
  stop();
  rows.push(['ledger check after load', `${report.ok ? 'OK' : 'FAILED'}: ${fmt(report.postingLegs)} posting legs, sum of balances ${report.totalBalanceCents} cents, ${report.problems.length} problems`]);
  rows.push(['audit verify after load', `${audit.ok ? 'OK' : `FAILED: ${audit.problem?.message}`}: ${fmt(audit.records)} records`]);
  await host.call({ type: 'stop' });

  const width = Math.max(...rows.map(([k]) => k.length));
  console.log('');
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
  if (!report.ok || !audit.ok) process.exitCode = 1;
  if (ONLY !== 'ledger') {
    console.log('');
    await runScript('./audit.ts');
  }
  if (ONLY === undefined) {
    console.log('');
    await runScript('./kiosk.ts');
  }
}

interface HostStats {
  commits: { batches: number; changes: number; maxChangesInBatch: number };
  auditHeadSeq: number;
  cpuMicros: number;
  eventLoopActiveMs: number;
}

/** The machine's CPU time so far (all cores, from /proc/stat), idle and total, in clock ticks; undefined
 *  where there is no /proc. Shows whether a load phase used every core or waited on something else. */
function machineCpu(): { idle: number; total: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...: idle and iowait are the time no one could use.
    return { idle: fields[3]! + (fields[4] ?? 0), total: fields.slice(0, 8).reduce((a, b) => a + b, 0) };
  } catch {
    return undefined;
  }
}

/** The ledger load in back-to-back pairs, the host's audit log switched off for one phase of each pair and
 *  on for the other, in alternating order so that drift in a shared machine's load falls on both sides.
 *  The cost is the median of the pairs' costs. */
async function auditCost(host: HostProcess, clients: ChannelClient[], accountIds: string[]): Promise<[string, string][]> {
  const without: LoadResult[] = [];
  const withAudit: LoadResult[] = [];
  const appendRates: number[] = [];
  const pairCostsPercent: number[] = [];
  // Per money transaction: the host process's CPU time (LevelDB's threads included), and the time its event
  // loop was busy (wall time, so it grows when other threads take the CPU from it). Steadier than throughput
  // when other work shares the machine, and together they show where the audit's cost falls.
  const hostCpu: Record<'on' | 'off', number[]> = { on: [], off: [] };
  const hostLoop: Record<'on' | 'off', number[]> = { on: [], off: [] };
  const machineIdle: Record<'on' | 'off', number[]> = { on: [], off: [] };
  for (let round = 0; round < AUDIT_ROUNDS; round++) {
    const order = round % 2 === 0 ? [false, true] : [true, false];
    const stop = progress(`audit cost, pair ${round + 1}/${AUDIT_ROUNDS}: ledger load ${order.map((on) => (on ? 'with' : 'without')).join(', then ')} the audit log`, 2 * SECONDS);
    const pair: Partial<Record<'on' | 'off', LoadResult>> = {};
    for (const enabled of order) {
      // Switched between phases only, when every request of the last phase has been answered (so is durable).
      await host.call({ type: 'audit', enabled });
      const before = await host.call<HostStats>({ type: 'stats' });
      const cpuBefore = machineCpu();
      const load = await ledgerLoad(clients, accountIds);
      const cpuAfter = machineCpu();
      const after = await host.call<HostStats>({ type: 'stats' });
      if (cpuBefore && cpuAfter) machineIdle[enabled ? 'on' : 'off'].push((100 * (cpuAfter.idle - cpuBefore.idle)) / (cpuAfter.total - cpuBefore.total));
      hostCpu[enabled ? 'on' : 'off'].push((after.cpuMicros - before.cpuMicros) / load.moneyTransactions);
      hostLoop[enabled ? 'on' : 'off'].push(((after.eventLoopActiveMs - before.eventLoopActiveMs) * 1000) / load.moneyTransactions);
      if (enabled) {
        withAudit.push(load);
        appendRates.push((after.auditHeadSeq - before.auditHeadSeq) / load.elapsedS);
        pair.on = load;
      } else {
        if (after.auditHeadSeq !== before.auditHeadSeq) throw new Error('records were appended while the audit log was switched off');
        without.push(load);
        pair.off = load;
      }
    }
    pairCostsPercent.push(((pair.off!.perSecond - pair.on!.perSecond) / pair.off!.perSecond) * 100);
    stop();
  }
  await host.call({ type: 'audit', enabled: true });
  const cost = median(pairCostsPercent);
  const runs = (loads: LoadResult[]) => loads.map((l) => fmt(l.perSecond)).join(', ');
  const failures = [...without, ...withAudit].reduce((n, l) => n + Object.values(l.failures).reduce((a, b) => a + b, 0), 0);
  return [
    ['money transactions/s without audit log', `${fmt(median(without.map((l) => l.perSecond)))} (runs: ${runs(without)})`],
    ['money transactions/s with audit log', `${fmt(median(withAudit.map((l) => l.perSecond)))} (runs: ${runs(withAudit)})`],
    [
      'audit cost to the ledger load',
      `${fmt(cost, 1)} % (median of ${AUDIT_ROUNDS} back-to-back pairs: ${pairCostsPercent.map((c) => fmt(c, 1)).join(', ')}; target < ${AUDIT_COST_TARGET_PERCENT} %) ${cost < AUDIT_COST_TARGET_PERCENT ? 'OK' : 'OVER TARGET'}`,
    ],
    ['audit records appended under load', `${fmt(median(appendRates))} records/s (durable, in the ledger's own batches)`],
    ['host CPU per money transaction', compareMicros(hostCpu)],
    ['  host event loop busy per money transaction', compareMicros(hostLoop)],
    ...(machineIdle.on.length > 0
      ? [['machine CPU idle during the phases', `${fmt(median(machineIdle.off), 0)} % without audit log, ${fmt(median(machineIdle.on), 0)} % with (all cores)`] as [string, string]]
      : []),
    ...(failures > 0 ? [['audit cost phases: failed requests', fmt(failures)] as [string, string]] : []),
  ];
}

function compareMicros(byAudit: Record<'on' | 'off', number[]>): string {
  const [off, on] = [median(byAudit.off), median(byAudit.on)];
  return `${fmt(off)} µs without audit log, ${fmt(on)} µs with (+${fmt(((on - off) / off) * 100, 1)} %)`;
}

/** Runs another bench script in its own process, its output inline. */
function runScript(relativePath: string): Promise<void> {
  const child = fork(new URL(relativePath, import.meta.url).pathname, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) process.exitCode = 1;
      resolve();
    });
  });
}

await main();
