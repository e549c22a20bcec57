// CPU time of processes on this machine, from /proc, for the bench's per-transaction figures: where the
// two cores go when the bank hosts, PostgreSQL and the load share them.
import { readFileSync, readdirSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100;

/** Node options for a bench host process: with BENCH_PROFILE=1 it writes a CPU profile to /tmp/bench-prof
 *  when it stops. */
export function profileNodeOptions(): string[] {
  return process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=/tmp/bench-prof'] : [];
}

interface ProcStat {
  command: string;
  parent: number;
  /** utime + stime, in clock ticks. */
  own: number;
  /** cutime + cstime: the children it has waited for. */
  children: number;
}

function readStat(pid: number | 'self'): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // it ended meanwhile
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its end.
  const command = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { command, parent: Number(fields[1]), own: Number(fields[11]) + Number(fields[12]), children: Number(fields[13]) + Number(fields[14]) };
}

const micros = (ticks: number) => (ticks / CLOCK_TICKS_PER_SECOND) * 1e6;

/** User + system CPU of these processes so far (all their threads), in µs. */
export function processesCpuMicros(pids: readonly number[]): number {
  return micros(pids.reduce((sum, pid) => sum + (readStat(pid)?.own ?? 0), 0));
}

/** CPU of this process's children that have ended (waited for), in µs: a client program's, once it exits. */
export function endedChildrenCpuMicros(): number {
  return micros(readStat('self')?.children ?? 0);
}

/** CPU of every PostgreSQL process on the machine so far, in µs: each live process's own, and each
 *  postmaster's children that have ended (backends of clients that disconnected). Differences of two
 *  readings are what the servers spent between them (a backend that ends between them moves its time
 *  into its postmaster's children, so it is still counted once). */
export function postgresCpuMicros(): number {
  const stats = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat?.command === 'postgres') stats.set(Number(entry), stat);
  }
  let ticks = 0;
  for (const stat of stats.values()) {
    ticks += stat.own;
    // A postmaster: its parent is not PostgreSQL (Patroni started it).
    if (!stats.has(stat.parent)) ticks += stat.children;
  }
  return micros(ticks);
}
