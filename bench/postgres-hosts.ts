// The money load through real bank hosts on PostgreSQL, for bench/postgres.ts: 1, 2 and 4 bank-host
// processes (the real channel server, dispatcher, ledger and audit log; test/reliability's host process)
// share one database on the bench's Patroni cluster, and the kiosks (real ChannelClients over TLS 1.3-PSK,
// as many as the pgbench clients) are spread among them as a load balancer would. Measured the same way as
// `npm run bench`'s ledger load on LevelDB: durable money transactions per second, request latency, and
// the host processes' CPU per money transaction; afterwards the ledger check and the audit verify across
// every host's lanes.
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHostKeys } from '../bank-host/keys.js';
import { SETTING_CENTS_MAX, postgresStoreConfigSchema } from '../bank-host/config.js';
import type { ChannelClient } from '../protocol/client.js';
import type { PostgresCluster } from '../test/helpers/postgres-cluster.js';
import pg from 'pg';
import { BankHostChild } from '../test/reliability/bank-host-child.js';
import { connectKiosk, ledgerLoad, type LoadResult } from './ledger-load.js';
import { postgresCpuMicros, processesCpuMicros, profileNodeOptions } from './process-cpu.js';

/** Limits high enough that the load measures the ledger, not the daily limits; deposits available at once,
 *  so the withdrawals always have money to act on (as in `npm run bench`). */
const HOST_CONFIG = {
  dailyWithdrawalLimitCents: SETTING_CENTS_MAX,
  cardDailyWithdrawalLimitCents: SETTING_CENTS_MAX,
  maxWithdrawalCents: 100_000,
  depositDailyCapCents: SETTING_CENTS_MAX,
  depositHoldMs: 0,
} as const;
const PASSWORD_CREDENTIAL = 'postgres-password';

export interface HostsLoad extends LoadResult {
  processes: number;
  /** The host processes' CPU (user + system, all their threads) per money transaction. */
  hostCpuMicros: number;
  /** PostgreSQL's CPU (every process of the three nodes) per money transaction. */
  databaseCpuMicros: number;
  /** WAL the primary wrote per money transaction (what each standby receives and replays). */
  walBytes: number;
  /** The kiosks' CPU (this process: their TLS, JSON and timers) per money transaction: the load generator's
   *  share of the same two cores, as pgbench's own is for its transactions. */
  kioskCpuMicros: number;
}

export interface HostsBench {
  /** The load with all kiosks spread over the first `processes` hosts, after `warmUpS` unmeasured. */
  load(processes: number, seconds: number, warmUpS: number): Promise<HostsLoad>;
  /** Ledger check and audit verify (every host's lanes), run by the first host. */
  check(): Promise<{ ledgerOk: boolean; postingLegs: number; problems: string[]; auditOk: boolean; auditRecords: number; auditProblem?: string }>;
  stop(): Promise<void>;
}

/** Starts `maxProcesses` host processes on a new database of `cluster` and enrolls `kiosks` kiosks, each
 *  with a customer who signs in by password. */
export async function startHosts(cluster: PostgresCluster, maxProcesses: number, kiosks: number, poolSize: number): Promise<HostsBench> {
  const database = `hosts_bench_${process.pid}`;
  const credentials = await cluster.createDatabase(database);
  const root = await mkdtemp(path.join(os.tmpdir(), 'bench-hosts-'));
  const hosts: BankHostChild[] = [];
  const stop = async () => {
    await Promise.all(hosts.map((h) => h.stop()));
    await rm(root, { recursive: true, force: true });
  };
  try {
    const keys = path.join(root, 'keys');
    await createHostKeys(keys);
    await writeFile(path.join(keys, PASSWORD_CREDENTIAL), credentials.password + '\n', { mode: 0o600 });
    const store = (hostId: string) =>
      postgresStoreConfigSchema.parse({
        backend: 'postgresql',
        addresses: cluster.addresses(),
        database: credentials.database,
        user: credentials.user,
        passwordCredential: PASSWORD_CREDENTIAL,
        hostId,
        poolSize,
      });
    for (let i = 0; i < maxProcesses; i++) {
      const dir = path.join(root, `host-${i}`);
      await cp(keys, path.join(dir, 'keys'), { recursive: true });
      // BENCH_PROFILE=1: each host writes a CPU profile when it stops (as `npm run bench`'s LevelDB host does).
      hosts.push(await BankHostChild.start({ dir, fresh: false, config: { ...HOST_CONFIG, registrationEnabled: false, store: store(`bench-h${i}`) } }, profileNodeOptions()));
    }
    const deviceIds = Array.from({ length: kiosks }, (_, i) => `bench-kiosk-${i}`);
    const setup = await hosts[0]!.setup(
      deviceIds,
      deviceIds.map((_, i) => ({ username: `bench-user-${i}`, password: `bench password ${i}` })),
    );
    const ports = await Promise.all(hosts.map((h) => h.serve(0)));
    return {
      async load(processes, seconds, warmUpS) {
        // Kiosk i to host i mod processes: each host gets its share of the kiosks.
        const clients: ChannelClient[] = await Promise.all(setup.devices.map((device, i) => connectKiosk(ports[i % processes]!, device)));
        try {
          const sessions = await Promise.all(
            clients.map((client, i) => client.request('signin.password', { username: `bench-user-${i}`, password: `bench password ${i}` })),
          );
          const accountIds = sessions.map((session) => session.accounts[0]!.accountId);
          await ledgerLoad(clients, accountIds, warmUpS);
          const pids = hosts.slice(0, processes).map((h) => h.pid);
          const cpuBefore = processesCpuMicros(pids);
          const databaseBefore = postgresCpuMicros();
          const walBefore = await walPosition(cluster);
          const kiosksBefore = process.cpuUsage();
          const load = await ledgerLoad(clients, accountIds, seconds);
          const kiosksUsage = process.cpuUsage(kiosksBefore);
          const database = postgresCpuMicros() - databaseBefore;
          const cpu = processesCpuMicros(pids) - cpuBefore;
          const wal = (await walPosition(cluster)) - walBefore;
          const perTransaction = (n: number) => n / load.moneyTransactions;
          return {
            ...load,
            processes,
            hostCpuMicros: perTransaction(cpu),
            databaseCpuMicros: perTransaction(database),
            walBytes: perTransaction(wal),
            kioskCpuMicros: perTransaction(kiosksUsage.user + kiosksUsage.system),
          };
        } finally {
          for (const client of clients) client.close();
        }
      },
      async check() {
        const { ledger, audit } = await hosts[0]!.check();
        return {
          ledgerOk: ledger.ok,
          postingLegs: ledger.postingLegs,
          problems: ledger.problems.map((p) => p.message),
          auditOk: audit.ok,
          auditRecords: audit.records,
          ...(audit.problem && { auditProblem: audit.problem.message }),
        };
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The primary's WAL position, in bytes from the start. */
export async function walPosition(cluster: PostgresCluster): Promise<number> {
  const client = new pg.Client(await cluster.connectionConfig(cluster.superuser));
  await client.connect();
  try {
    const { rows } = await client.query<{ b: string }>(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS b`);
    return Number(rows[0]!.b);
  } finally {
    await client.end();
  }
}
