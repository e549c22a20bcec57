// A real PostgreSQL cluster for tests and the benchmark: one etcd node and three PostgreSQL 15 nodes kept
// by Patroni, all from Debian's packages, on loopback ports that were free, in a temporary folder that is
// removed afterwards. Synchronous mode (strict) is on, so a COMMIT returns only once the synchronous
// standby has the WAL, and only that standby may be promoted when the primary is lost.
//
// PostgreSQL refuses to run as root and the tests run as root, so etcd, Patroni and PostgreSQL run as the
// `postgres` user the Debian package creates (setpriv, which execs and so keeps the process id ours), and
// the folder is theirs. Run as another user, they simply run as that user.
//
// Clients can reach each node directly or through a TcpProxy per node (`proxiedAddresses`), which lets a
// test cut the network between a client and the database, and lets `killPrimary({ blackhole: true })` make
// the lost primary fall silent the way a dead machine does, instead of refusing connections.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { TcpProxy } from './tcp-proxy.js';

export const POSTGRES_BIN_DIR = '/usr/lib/postgresql/15/bin';
const ETCD = '/usr/bin/etcd';
const PATRONI = '/usr/bin/patroni';
/** The one line that installs everything the cluster needs. */
export const CLUSTER_PACKAGES_INSTALL = 'apt-get install -y postgresql patroni etcd-server';

/** Bounds, each a generous limit on behaviour (the machine may be shared and loaded). */
export const CLUSTER_START_TIMEOUT_MS = 180_000;
export const ETCD_START_TIMEOUT_MS = 30_000;
/** A killed node back as a streaming replica (pg_rewind, or a fresh copy when rewinding is not possible). */
export const NODE_REJOIN_TIMEOUT_MS = 120_000;
/** How long `stop` lets Patroni shut PostgreSQL down before killing what is left. */
export const CLUSTER_STOP_GRACE_MS = 20_000;
/** Between two looks at the cluster's state while waiting. */
const POLL_INTERVAL_MS = 100;
/** One request to Patroni's REST API or one probing connection. */
const PROBE_TIMEOUT_MS = 2_000;
/** Connecting a test's own client (an admin query, a database to create): a bound for a loaded machine,
 *  where TCP, SCRAM and a busy postmaster took seconds; probes that are retried keep the short one. */
const CLIENT_CONNECT_TIMEOUT_MS = 20_000;

/** Patroni's failure detection: the leader key's time to live, the HA loop's period and the DCS/PostgreSQL
 *  retry budget (Patroni wants loop_wait + 2 × retry_timeout ≤ ttl). These detect a dead primary within
 *  about 10 s; Patroni's defaults (30/10/10) take about 30 s. docs/scale-out.md explains the choice. */
export interface PatroniTiming {
  readonly ttlSeconds: number;
  readonly loopWaitSeconds: number;
  readonly retryTimeoutSeconds: number;
}
export const PATRONI_TIMING_DEFAULT: PatroniTiming = { ttlSeconds: 10, loopWaitSeconds: 2, retryTimeoutSeconds: 4 };

export interface PostgresClusterOptions {
  readonly timing?: PatroniTiming;
  /** Extra PostgreSQL settings (Patroni's `postgresql.parameters`), e.g. for the benchmark. */
  readonly parameters?: Readonly<Record<string, string | number>>;
  readonly startTimeoutMs?: number;
}

export interface ClusterNode {
  readonly name: string;
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly restApiPort: number;
  /** A TcpProxy in front of the node's PostgreSQL port (clients that must see partitions use it). */
  readonly proxy: TcpProxy;
}

export interface ClusterMember {
  readonly name: string;
  readonly role: 'leader' | 'sync_standby' | 'replica' | string;
  readonly state: string;
  readonly timeline?: number;
}

export interface Credentials {
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export interface KilledNode {
  readonly node: ClusterNode;
  readonly killedAtMs: number;
}

const SUPERUSER: Credentials = { user: 'postgres', password: randomBytes(12).toString('hex'), database: 'postgres' };
const REPLICATION = { username: 'replicator', password: randomBytes(12).toString('hex') };
const REWIND = { username: 'rewinder', password: randomBytes(12).toString('hex') };
/** The application's role: no superuser, owner of its database (Patroni's advice: applications should not
 *  use superusers). */
const APP: Credentials = { user: 'atm_app', password: randomBytes(12).toString('hex'), database: 'atm' };

export function checkClusterTools(): void {
  const missing = [ETCD, PATRONI, path.join(POSTGRES_BIN_DIR, 'postgres'), path.join(POSTGRES_BIN_DIR, 'pgbench')].filter((file) => !existsSync(file));
  if (missing.length > 0) throw new Error(`the PostgreSQL cluster needs ${missing.join(', ')}; install them with: ${CLUSTER_PACKAGES_INSTALL}`);
}

/** A free loopback port for a daemon of the cluster to listen on. Chosen below the kernel's ephemeral range:
 *  a port from that range (what listen(0) gives) is free only until the next outgoing connection, of this
 *  or any process, takes it as its source port, and the daemon binds it a while later (Patroni then failed
 *  with "Address already in use"). Below the range only another listener can take it; a random pick makes
 *  two clusters starting at once unlikely to choose the same one. */
async function freePort(): Promise<number> {
  const [ephemeralStart] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  const high = Math.min(ephemeralStart ?? 32_768, 65_536);
  const low = Math.min(10_000, high - 1_000);
  for (let attempt = 0; attempt < FREE_PORT_TRIES; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    // Not one this process gave out already (its daemon may not listen on it yet).
    if (portsGiven.has(port)) continue;
    const server = net.createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!bound) continue;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    portsGiven.add(port);
    return port;
  }
  throw new Error(`no free loopback port below ${high} after ${FREE_PORT_TRIES} tries`);
}
const FREE_PORT_TRIES = 100;
const portsGiven = new Set<number>();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The postgres user's ids when running as root; undefined otherwise (the services run as ourselves). */
function serviceUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (line === undefined) throw new Error(`there is no postgres user (the postgresql package creates it); install it with: ${CLUSTER_PACKAGES_INSTALL}`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** The process ids of `pid`'s children (from /proc). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: the fields after it start past the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // The process went away while we looked.
    }
  }
  return children;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killHard(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

interface NodeState {
  readonly node: ClusterNode;
  readonly dir: string;
  readonly dataDir: string;
  readonly configFile: string;
  patroni: ChildProcess | undefined;
}

export class PostgresCluster {
  /** When the cluster was ready, how long starting it took. */
  startMs = 0;
  private etcd: ChildProcess | undefined;
  private stopped = false;
  /** When the process ends without stop() (a test run that died, or was told to stop): nothing of the
   *  cluster outlives it. Synchronous, as an 'exit' listener must be. */
  private readonly exitHook = () => {
    this.killEverythingNow();
    rmSync(this.dir, { recursive: true, force: true });
  };
  /** A SIGINT or SIGTERM would end the process without 'exit' listeners: clean up, then end as the signal
   *  would have (the listener is removed first, so the signal's default action applies). */
  private readonly signalHook = (signal: NodeJS.Signals) => {
    this.exitHook();
    process.removeListener('SIGINT', this.signalHook);
    process.removeListener('SIGTERM', this.signalHook);
    process.kill(process.pid, signal);
  };

  private constructor(
    readonly dir: string,
    private readonly states: NodeState[],
    readonly etcdPort: number,
    private readonly user: { uid: number; gid: number } | undefined,
  ) {}

  get nodes(): readonly ClusterNode[] {
    return this.states.map((s) => s.node);
  }

  get superuser(): Credentials {
    return SUPERUSER;
  }

  get app(): Credentials {
    return APP;
  }

  /** Every node's PostgreSQL address. */
  addresses(): { host: string; port: number }[] {
    return this.nodes.map((n) => ({ host: n.host, port: n.port }));
  }

  /** Every node's address through its proxy. */
  proxiedAddresses(): { host: string; port: number }[] {
    return this.nodes.map((n) => ({ host: '127.0.0.1', port: n.proxy.port }));
  }

  /** A `pg` connection configuration for one node (the primary by default). */
  async connectionConfig(credentials: Credentials = APP, node?: ClusterNode): Promise<pg.ClientConfig> {
    const target = node ?? (await this.primary());
    return { host: target.host, port: target.port, user: credentials.user, password: credentials.password, database: credentials.database, connectionTimeoutMillis: CLIENT_CONNECT_TIMEOUT_MS };
  }

  static async start(options: PostgresClusterOptions = {}): Promise<PostgresCluster> {
    checkClusterTools();
    const started = Date.now();
    const user = serviceUser();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'atm-pg-'));
    const own = (file: string) => user && chownSync(file, user.uid, user.gid);
    own(dir);
    const etcdPort = await freePort();
    const etcdPeerPort = await freePort();
    const scope = `atm-${randomBytes(4).toString('hex')}`;
    const timing = options.timing ?? PATRONI_TIMING_DEFAULT;
    const states: NodeState[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const restApiPort = await freePort();
      const proxy = await TcpProxy.start({ host: '127.0.0.1', port });
      const nodeDir = path.join(dir, `node${i}`);
      mkdirSync(nodeDir, { mode: 0o700 });
      own(nodeDir);
      const node: ClusterNode = { name: `node${i}`, host: '127.0.0.1', port, restApiPort, proxy };
      const dataDir = path.join(nodeDir, 'data');
      const configFile = path.join(nodeDir, 'patroni.yml');
      // YAML is a superset of JSON: Patroni reads this as it is.
      writeFileSync(configFile, JSON.stringify(patroniConfig({ scope, node, nodeDir, dataDir, etcdPort, timing, parameters: options.parameters ?? {} }), null, 2), { mode: 0o600 });
      own(configFile);
      states.push({ node, dir: nodeDir, dataDir, configFile, patroni: undefined });
    }
    const cluster = new PostgresCluster(dir, states, etcdPort, user);
    process.once('exit', cluster.exitHook);
    process.once('SIGINT', cluster.signalHook);
    process.once('SIGTERM', cluster.signalHook);
    try {
      await cluster.startEtcd(etcdPeerPort);
      for (const state of states) cluster.startPatroni(state);
      const deadline = started + (options.startTimeoutMs ?? CLUSTER_START_TIMEOUT_MS);
      await cluster.waitHealthy(deadline - Date.now());
      await cluster.createAppDatabase();
      cluster.startMs = Date.now() - started;
      return cluster;
    } catch (error) {
      const logs = cluster.logTails();
      await cluster.stop();
      throw new Error(`the PostgreSQL cluster did not start: ${(error as Error).message}\n${logs}`, { cause: error });
    }
  }

  private spawnAsService(command: string, args: string[], logFile: string): ChildProcess {
    const log = openSync(logFile, 'a', 0o600);
    const env = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: this.dir };
    const child = this.user
      ? spawn('setpriv', [`--reuid=${this.user.uid}`, `--regid=${this.user.gid}`, '--init-groups', '--', command, ...args], { stdio: ['ignore', log, log], env, cwd: this.dir })
      : spawn(command, args, { stdio: ['ignore', log, log], env, cwd: this.dir });
    closeSync(log);
    child.on('error', () => {});
    return child;
  }

  private async startEtcd(peerPort: number): Promise<void> {
    const dataDir = path.join(this.dir, 'etcd');
    const client = `http://127.0.0.1:${this.etcdPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    this.etcd = this.spawnAsService(
      ETCD,
      [
        '--name=etcd0',
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=etcd0=${peer}`,
        '--initial-cluster-state=new',
        `--initial-cluster-token=${path.basename(this.dir)}`,
      ],
      path.join(this.dir, 'etcd.log'),
    );
    const deadline = Date.now() + ETCD_START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.etcd.exitCode !== null) throw new Error(`etcd exited with ${this.etcd.exitCode}`);
      const health = await httpJson<{ health?: string }>(`${client}/health`);
      if (health?.health === 'true') return;
      await sleep(POLL_INTERVAL_MS);
    }
    throw new Error(`etcd was not healthy within ${ETCD_START_TIMEOUT_MS} ms`);
  }

  private startPatroni(state: NodeState): void {
    state.patroni = this.spawnAsService(PATRONI, [state.configFile], path.join(state.dir, 'patroni.log'));
  }

  /** The cluster as Patroni's REST API shows it, asked of the first node that answers. */
  async members(): Promise<ClusterMember[] | undefined> {
    for (const { node } of this.states) {
      const cluster = await httpJson<{ members?: ClusterMember[] }>(`http://127.0.0.1:${node.restApiPort}/cluster`);
      if (cluster?.members) return cluster.members;
    }
    return undefined;
  }

  /** The node Patroni names leader, once its PostgreSQL runs. */
  async primary(): Promise<ClusterNode> {
    const members = await this.members();
    const leader = members?.find((m) => m.role === 'leader' && m.state === 'running');
    if (leader === undefined) throw new Error(`the cluster has no running leader: ${JSON.stringify(members)}`);
    return this.node(leader.name);
  }

  node(name: string): ClusterNode {
    const state = this.states.find((s) => s.node.name === name);
    if (state === undefined) throw new Error(`no node named ${name}`);
    return state.node;
  }

  /** Waits until a leader accepts writes and every other live node runs as a replica, one of them the
   *  synchronous standby. */
  async waitHealthy(timeoutMs: number): Promise<ClusterMember[]> {
    const deadline = Date.now() + timeoutMs;
    let last: ClusterMember[] | undefined;
    while (Date.now() < deadline) {
      last = await this.members();
      const expected = this.states.filter((s) => s.patroni !== undefined).length;
      if (
        last !== undefined &&
        last.filter((m) => m.state === 'running').length === expected &&
        last.some((m) => m.role === 'leader' && m.state === 'running') &&
        last.some((m) => m.role === 'sync_standby' && m.state === 'running')
      ) {
        const leader = this.node(last.find((m) => m.role === 'leader')!.name);
        if ((await this.inRecovery(leader)) === false) return last;
      }
      await sleep(POLL_INTERVAL_MS);
    }
    throw new Error(`the cluster was not healthy within ${timeoutMs} ms: ${JSON.stringify(last)}`);
  }

  /** Whether the node's PostgreSQL is a standby; undefined when it does not answer. */
  async inRecovery(node: ClusterNode): Promise<boolean | undefined> {
    const client = new pg.Client({ host: node.host, port: node.port, ...SUPERUSER, connectionTimeoutMillis: PROBE_TIMEOUT_MS, query_timeout: PROBE_TIMEOUT_MS });
    client.on('error', () => {});
    try {
      await client.connect();
      const { rows } = await client.query<{ recovery: boolean }>('SELECT pg_is_in_recovery() AS recovery');
      return rows[0]!.recovery;
    } catch {
      return undefined;
    } finally {
      await client.end().catch(() => {});
    }
  }

  private async createAppDatabase(): Promise<void> {
    const client = new pg.Client(await this.connectionConfig(SUPERUSER));
    await client.connect();
    try {
      await client.query(`CREATE ROLE ${APP.user} LOGIN PASSWORD '${APP.password}'`);
      await client.query(`CREATE DATABASE ${APP.database} OWNER ${APP.user} ENCODING 'UTF8' TEMPLATE template0`);
    } finally {
      await client.end();
    }
  }

  /** A fresh database owned by the application's role, so tests do not see each other's keys. */
  async createDatabase(name: string): Promise<Credentials> {
    if (!/^[a-z][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${name}`);
    const client = new pg.Client(await this.connectionConfig(SUPERUSER));
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${name} OWNER ${APP.user} ENCODING 'UTF8' TEMPLATE template0`);
    } finally {
      await client.end();
    }
    return { ...APP, database: name };
  }

  /** Kills the primary as a machine loss would: its Patroni, its postmaster and every PostgreSQL process,
   *  all with SIGKILL, nothing shut down cleanly. With `blackhole`, its proxy falls silent as well, so
   *  clients going through proxies see a dead machine (no reset) rather than a refused connection. */
  async killPrimary(options: { blackhole?: boolean } = {}): Promise<KilledNode> {
    const node = await this.primary();
    this.killNode(node.name, options);
    return { node, killedAtMs: Date.now() };
  }

  killNode(name: string, options: { blackhole?: boolean } = {}): void {
    const state = this.states.find((s) => s.node.name === name)!;
    if (options.blackhole) state.node.proxy.blackhole();
    const postmaster = this.postmasterPid(state);
    const victims = [state.patroni?.pid, postmaster, ...(postmaster === undefined ? [] : childrenOf(postmaster))];
    for (const pid of victims) killHard(pid);
    state.patroni = undefined;
  }

  private postmasterPid(state: NodeState): number | undefined {
    try {
      const pid = Number(readFileSync(path.join(state.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isSafeInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** Waits until a node other than `previous` leads and accepts writes; returns it and when it did. */
  async waitForNewLeader(previous: string, timeoutMs: number): Promise<{ node: ClusterNode; atMs: number }> {
    const deadline = Date.now() + timeoutMs;
    let last: ClusterMember[] | undefined;
    while (Date.now() < deadline) {
      last = await this.members();
      const leader = last?.find((m) => m.role === 'leader' && m.state === 'running' && m.name !== previous);
      if (leader !== undefined && (await this.inRecovery(this.node(leader.name))) === false) return { node: this.node(leader.name), atMs: Date.now() };
      await sleep(POLL_INTERVAL_MS);
    }
    throw new Error(`no new leader within ${timeoutMs} ms: ${JSON.stringify(last)}`);
  }

  /** Starts a killed node's Patroni again (a new proxy in front of it if its old one was blackholed) and
   *  waits until it streams as a replica: Patroni rewinds a former primary with pg_rewind. */
  async restartNode(name: string): Promise<void> {
    const state = this.states.find((s) => s.node.name === name)!;
    if (state.patroni !== undefined) throw new Error(`${name} is running`);
    if (state.node.proxy.isCut) {
      const port = state.node.proxy.port;
      await state.node.proxy.close();
      (state.node as { proxy: TcpProxy }).proxy = await TcpProxy.start({ host: '127.0.0.1', port: state.node.port }, port);
    }
    this.startPatroni(state);
    await this.waitHealthy(NODE_REJOIN_TIMEOUT_MS);
  }

  /** The last lines of every log, for a failure message. */
  logTails(lines = 30): string {
    const files = [path.join(this.dir, 'etcd.log'), ...this.states.map((s) => path.join(s.dir, 'patroni.log'))];
    return files
      .filter((f) => existsSync(f))
      .map((f) => `--- ${path.relative(this.dir, f)}\n${readFileSync(f, 'utf8').split('\n').slice(-lines).join('\n')}`)
      .join('\n');
  }

  /** Stops Patroni (which stops PostgreSQL), then etcd, kills whatever is left, and removes the folder. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const state of this.states) state.patroni?.kill('SIGTERM');
    const deadline = Date.now() + CLUSTER_STOP_GRACE_MS;
    while (Date.now() < deadline && this.states.some((s) => (s.patroni?.exitCode ?? 0) === null && s.patroni?.signalCode === null)) await sleep(POLL_INTERVAL_MS);
    this.etcd?.kill('SIGTERM');
    await sleep(POLL_INTERVAL_MS);
    this.killEverythingNow();
    for (const state of this.states) await state.node.proxy.close();
    process.removeListener('exit', this.exitHook);
    process.removeListener('SIGINT', this.signalHook);
    process.removeListener('SIGTERM', this.signalHook);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Synchronous, so it also runs from a process 'exit' hook when a test run dies. */
  private killEverythingNow(): void {
    for (const state of this.states) {
      const postmaster = this.postmasterPid(state);
      killHard(state.patroni?.pid);
      if (postmaster !== undefined) for (const pid of [postmaster, ...childrenOf(postmaster)]) killHard(pid);
    }
    killHard(this.etcd?.pid);
  }

  /** Runs a PostgreSQL client program (pgbench, psql, pg_basebackup) against a node as the superuser. */
  runClientProgram(program: string, args: string[], options: { node: ClusterNode; timeoutMs: number }): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync(path.join(POSTGRES_BIN_DIR, program), ['-h', options.node.host, '-p', String(options.node.port), '-U', SUPERUSER.user, ...args], {
      encoding: 'utf8',
      env: { ...process.env, PGPASSWORD: SUPERUSER.password },
      timeout: options.timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
  }
}

async function httpJson<T>(url: string): Promise<T | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    // Patroni answers /cluster with 200; etcd answers /health with 200 when healthy.
    return (await response.json()) as T;
  } catch {
    return undefined;
  }
}

function patroniConfig(input: {
  scope: string;
  node: ClusterNode;
  nodeDir: string;
  dataDir: string;
  etcdPort: number;
  timing: PatroniTiming;
  parameters: Readonly<Record<string, string | number>>;
}): object {
  const { node, timing } = input;
  return {
    scope: input.scope,
    namespace: '/atm-test/',
    name: node.name,
    restapi: { listen: `127.0.0.1:${node.restApiPort}`, connect_address: `127.0.0.1:${node.restApiPort}` },
    // The v3 API (etcd 3.4 serves it; its v2 API is off by default).
    etcd3: { hosts: [`127.0.0.1:${input.etcdPort}`] },
    bootstrap: {
      dcs: {
        ttl: timing.ttlSeconds,
        loop_wait: timing.loopWaitSeconds,
        retry_timeout: timing.retryTimeoutSeconds,
        maximum_lag_on_failover: 1_048_576,
        // A COMMIT waits for the synchronous standby, only that standby may be promoted, and with no standby
        // left writes wait rather than be acknowledged by one machine alone.
        synchronous_mode: true,
        synchronous_mode_strict: true,
        synchronous_node_count: 1,
        check_timeline: true,
        postgresql: {
          use_pg_rewind: true,
          use_slots: true,
          parameters: {
            synchronous_commit: 'on',
            wal_level: 'replica',
            hot_standby: 'on',
            wal_log_hints: 'on',
            max_connections: 200,
            max_wal_senders: 10,
            max_replication_slots: 10,
            wal_keep_size: '256MB',
            // A standby whose primary went away retries streaming after this long (5 s by default). In strict
            // synchronous mode the promoted primary's commits wait until the remaining standby streams from
            // it, so this wait is part of the time the cluster takes to serve again.
            wal_retrieve_retry_interval: '500ms',
            ...input.parameters,
          },
        },
      },
      initdb: [{ encoding: 'UTF8' }, { locale: 'C.UTF-8' }, 'data-checksums'],
    },
    postgresql: {
      listen: `127.0.0.1:${node.port}`,
      connect_address: `127.0.0.1:${node.port}`,
      data_dir: input.dataDir,
      bin_dir: POSTGRES_BIN_DIR,
      pgpass: path.join(input.nodeDir, 'pgpass'),
      authentication: {
        superuser: { username: SUPERUSER.user, password: SUPERUSER.password },
        replication: REPLICATION,
        rewind: REWIND,
      },
      parameters: { unix_socket_directories: input.nodeDir, logging_collector: 'off' },
      pg_hba: [
        'local all all trust',
        'host replication replicator 127.0.0.1/32 scram-sha-256',
        'host all all 127.0.0.1/32 scram-sha-256',
      ],
    },
    tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
  };
}
