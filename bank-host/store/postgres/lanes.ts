// The store's bounded pool of connections to the primary. Each connection slot is a *lane* with a stable id
// (`<hostId>/<index>`): a lane runs one transaction at a time, so whatever a lane writes in sequence (one
// audit chain per lane) needs no lock shared with other lanes. A lane keeps its id when its connection is
// replaced (after a failover, say), so its chain continues on the new connection.
//
// A lane connects lazily, to the primary the PrimaryFinder names, and checks on connecting that the node
// still accepts writes. A lane whose connection failed is closed and connects again on its next use.
import pg from 'pg';
import { PostgresStoreError, isConnectionFailure, storeErrorFrom } from './errors.js';
import { PrimaryFinder, addressText, connectionProbe, type PostgresAddress } from './primary.js';

/** Connections per store (per host process), unless its options say otherwise. */
export const POOL_SIZE_DEFAULT = 16;
/** The most connections one store may open: several hosts share the primary's max_connections. */
export const POOL_SIZE_MAX = 128;
/** Callers waiting for a lane, unless the options say otherwise; one more fails at once with STORE_BUSY. */
export const POOL_WAITERS_MAX_DEFAULT = 4_096;
/** How long a caller waits for a free lane. */
export const ACQUIRE_TIMEOUT_MS_DEFAULT = 5_000;
/** TCP connect, authentication and the primary check, per node. */
export const CONNECT_TIMEOUT_MS_DEFAULT = 2_000;
/** The longest the store waits for any one answer from PostgreSQL before it gives the connection up (and
 *  with it the transaction). Above the lock timeout, so a lock wait ends with PostgreSQL's own error. */
export const QUERY_TIMEOUT_MS_DEFAULT = 5_000;
/** PostgreSQL's lock_timeout: the longest a unit of work waits for another's locks. */
export const LOCK_TIMEOUT_MS_DEFAULT = 2_000;
/** PostgreSQL's idle_in_transaction_session_timeout: a host that stops mid-transaction (its machine died,
 *  its network went) holds its locks at most this long before PostgreSQL ends its session, so the kiosks
 *  that move to another host wait at most this long for their accounts (a host process that dies frees
 *  them at once: its sockets close). A live host is never idle that long inside a unit of work: it sends
 *  the next statement as soon as its event loop gets to it. */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS_DEFAULT = 1_000;
/** How long close() waits for lanes in use before closing their connections under them. */
export const CLOSE_GRACE_MS = 5_000;

export interface LanePoolOptions {
  readonly addresses: readonly PostgresAddress[];
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** Names the host in lane ids and in PostgreSQL's application_name (pg_stat_activity shows it). */
  readonly hostId: string;
  readonly poolSize?: number;
  readonly waitersMax?: number;
  readonly acquireTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly queryTimeoutMs?: number;
  readonly lockTimeoutMs?: number;
  readonly idleInTransactionTimeoutMs?: number;
  /** Lanes callers that may join a group (units of work: `acquire(true)`) hold at once; more of them wait,
   *  to be handed a lane whose group they join (the store's group commit). Others may take any free lane.
   *  Default: the pool's size (no bound of its own). */
  readonly joinableLanes?: number;
}

export class Lane {
  client: pg.Client | undefined;
  /** The node `client` is connected to. */
  address: PostgresAddress | undefined;
  /** Set when PostgreSQL said it cancelled a commit's wait for the synchronous standby (the commit is then
   *  only local: it must not be acknowledged). Cleared when a commit starts. */
  syncWaitCancelled = false;
  /** Connections this lane has opened. */
  connects = 0;
  /** Held by a caller that may join a group (counted in the pool's joinable lanes). */
  joinable = false;

  constructor(
    readonly index: number,
    /** `<hostId>/<index>`: stable for the life of the host, whatever connection serves the lane. */
    readonly id: string,
  ) {}
}

interface Waiter {
  /** A unit of work, which may be given a lane whose transaction is open (its group's). */
  readonly joinable: boolean;
  readonly resolve: (lane: Lane) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

function bounded(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min || v > max) throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${v}`);
  return v;
}

export class LanePool {
  readonly size: number;
  readonly waitersMax: number;
  readonly acquireTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly queryTimeoutMs: number;
  readonly lockTimeoutMs: number;
  readonly idleInTransactionTimeoutMs: number;
  readonly joinableLanes: number;
  readonly finder: PrimaryFinder;
  private readonly lanes: Lane[];
  private readonly free: Lane[];
  private readonly waiters: Waiter[] = [];
  private closed = false;
  private idle: (() => void) | undefined;

  constructor(private readonly options: LanePoolOptions) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$/.test(options.hostId)) throw new TypeError(`a host id is 1-48 of A-Z a-z 0-9 . _ -, got ${JSON.stringify(options.hostId)}`);
    this.size = bounded('poolSize', options.poolSize, POOL_SIZE_DEFAULT, 1, POOL_SIZE_MAX);
    this.waitersMax = bounded('waitersMax', options.waitersMax, POOL_WAITERS_MAX_DEFAULT, 0, 1_000_000);
    this.acquireTimeoutMs = bounded('acquireTimeoutMs', options.acquireTimeoutMs, ACQUIRE_TIMEOUT_MS_DEFAULT, 1, 600_000);
    this.connectTimeoutMs = bounded('connectTimeoutMs', options.connectTimeoutMs, CONNECT_TIMEOUT_MS_DEFAULT, 1, 600_000);
    this.lockTimeoutMs = bounded('lockTimeoutMs', options.lockTimeoutMs, LOCK_TIMEOUT_MS_DEFAULT, 1, 600_000);
    this.queryTimeoutMs = bounded('queryTimeoutMs', options.queryTimeoutMs, QUERY_TIMEOUT_MS_DEFAULT, 1, 600_000);
    this.idleInTransactionTimeoutMs = bounded('idleInTransactionTimeoutMs', options.idleInTransactionTimeoutMs, IDLE_IN_TRANSACTION_TIMEOUT_MS_DEFAULT, 1, 600_000);
    this.joinableLanes = Math.min(bounded('joinableLanes', options.joinableLanes, this.size, 1, POOL_SIZE_MAX), this.size);
    if (this.queryTimeoutMs <= this.lockTimeoutMs) throw new RangeError(`queryTimeoutMs (${this.queryTimeoutMs}) must be above lockTimeoutMs (${this.lockTimeoutMs})`);
    this.lanes = Array.from({ length: this.size }, (_, i) => new Lane(i, `${options.hostId}/${i}`));
    this.free = [...this.lanes].reverse();
    this.finder = new PrimaryFinder(options.addresses, connectionProbe(this.baseConfig(), this.connectTimeoutMs), (stale) => this.dropConnectionsTo(stale));
  }

  /** Lanes in use now. */
  get busy(): number {
    return this.size - this.free.length;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Waiters that may join an open transaction. */
  get joinableWaiting(): number {
    return this.joinable;
  }
  private joinable = 0;
  /** Lanes held by callers that may join a group. */
  private joinableBusy = 0;

  private take(lane: Lane, joinable: boolean): Lane {
    lane.joinable = joinable;
    if (joinable) this.joinableBusy++;
    return lane;
  }

  /** Connections opened by all lanes since the pool was made. */
  get connects(): number {
    return this.lanes.reduce((n, lane) => n + lane.connects, 0);
  }

  private baseConfig(): pg.ClientConfig {
    const { user, password, database, hostId } = this.options;
    return { user, password, database, application_name: hostId, keepAlive: true };
  }

  /** A free lane, waiting (bounded) for one. The caller must `release` it. A `joinable` caller (a unit of
   *  work) may be handed a lane in use whose transaction stays open for it (handOff). */
  acquire(joinable = false): Promise<Lane> {
    if (this.closed) return Promise.reject(new PostgresStoreError('STORE_CLOSED', 'the store is closed'));
    if (!joinable || this.joinableBusy < this.joinableLanes) {
      const lane = this.free.pop();
      if (lane !== undefined) return Promise.resolve(this.take(lane, joinable));
    }
    if (this.waiters.length >= this.waitersMax) {
      return Promise.reject(new PostgresStoreError('STORE_BUSY', `all ${this.size} connections are in use and ${this.waiters.length} callers already wait (at most ${this.waitersMax})`));
    }
    return new Promise<Lane>((resolve, reject) => {
      const waiter: Waiter = {
        joinable,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          if (joinable) this.joinable--;
          reject(new PostgresStoreError('STORE_BUSY', `no connection was free within ${this.acquireTimeoutMs} ms (${this.size} in use)`));
        }, this.acquireTimeoutMs),
      };
      this.waiters.push(waiter);
      if (joinable) this.joinable++;
    });
  }

  /** Gives `lane`, still in use, to the first waiting unit of work (its transaction open, its group on it);
   *  false when none waits. */
  handOff(lane: Lane): boolean {
    if (this.joinable === 0 || this.closed) return false;
    const index = this.waiters.findIndex((waiter) => waiter.joinable);
    const waiter = this.waiters.splice(index, 1)[0]!;
    this.joinable--;
    clearTimeout(waiter.timer);
    waiter.resolve(lane);
    return true;
  }

  /** Gives a lane back; a lane whose connection can no longer be trusted is closed first. */
  release(lane: Lane, options: { broken: boolean }): void {
    if (options.broken) this.disconnect(lane);
    if (lane.joinable) {
      lane.joinable = false;
      this.joinableBusy--;
    }
    // The first waiter that may take it: one that may join a group only while fewer than joinableLanes
    // lanes are held by such callers (the others wait to be handed a group's lane).
    const index = this.waiters.findIndex((waiter) => !waiter.joinable || this.joinableBusy < this.joinableLanes);
    if (index >= 0) {
      const waiter = this.waiters.splice(index, 1)[0]!;
      if (waiter.joinable) this.joinable--;
      clearTimeout(waiter.timer);
      waiter.resolve(this.take(lane, waiter.joinable));
      return;
    }
    this.free.push(lane);
    if (this.idle !== undefined && this.free.length === this.size) this.idle();
  }

  /** The lane's connection to the primary, connecting (and finding the primary) when it has none. */
  async connected(lane: Lane): Promise<pg.Client> {
    if (lane.client !== undefined) return lane.client;
    const address = await this.finder.current();
    const client = new pg.Client({
      ...this.baseConfig(),
      host: address.host,
      port: address.port,
      application_name: lane.id,
      connectionTimeoutMillis: this.connectTimeoutMs,
      // Sent in the startup packet: no round trip. No statement_timeout: a cancelled COMMIT stops waiting for
      // the synchronous standby and is then acknowledged though only local (docs/scale-out.md, "Pitfalls");
      // the client-side query timeout ends a stuck statement by closing the connection instead.
      lock_timeout: this.lockTimeoutMs,
      idle_in_transaction_session_timeout: this.idleInTransactionTimeoutMs,
      // Explicit, so a server default cannot change what the store relies on (its written-in literals mean
      // the same either way, but nothing should depend on that alone).
      options: '-c synchronous_commit=on -c standard_conforming_strings=on',
      query_timeout: this.queryTimeoutMs,
      // Reads a unit of work sends at once (Promise.all) go out back to back instead of queueing in `pg`.
      pipeline: true,
    });
    // A connection that fails or ends: forget it at once (a unit of work holding it then knows that
    // nothing it sends from now on can arrive); the lane connects again on its next use.
    const forget = () => {
      if (lane.client === client) this.disconnect(lane);
    };
    client.on('error', forget);
    client.on('end', forget);
    client.on('notice', (notice) => {
      if (/synchronous replication/i.test(notice.message ?? '')) lane.syncWaitCancelled = true;
    });
    lane.connects++;
    try {
      await client.connect();
      const { rows } = await client.query<{ recovery: boolean }>('SELECT pg_is_in_recovery() AS recovery');
      if (rows[0]?.recovery !== false) throw new PostgresStoreError('STORE_UNAVAILABLE', `${addressText(address)} is no longer the primary (it is in recovery)`);
    } catch (error) {
      client.end().catch(() => {});
      this.finder.lost(address);
      throw storeErrorFrom(error, 'connect', `connecting ${lane.id} to ${addressText(address)}`);
    }
    lane.client = client;
    lane.address = address;
    return client;
  }

  /** After a failure on a lane: when the connection itself failed, the primary is in doubt. */
  failed(lane: Lane, error: unknown): void {
    if (isConnectionFailure(error) && lane.address !== undefined) this.finder.lost(lane.address);
  }

  /** Called whenever a lane's connection is closed or lost, before the lane connects again: what its
   *  transaction held is gone (the store's group commit learns it here). */
  onDisconnect: ((lane: Lane) => void) | undefined;

  private disconnect(lane: Lane): void {
    const client = lane.client;
    lane.client = undefined;
    lane.address = undefined;
    if (client === undefined) return;
    this.onDisconnect?.(lane);
    // end() waits for queries in flight; a failed connection has none worth waiting for.
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    client.end().catch(() => {});
  }

  /** A search found these nodes not primary: every connection to them is stale. Lanes in use fail now
   *  (retryably) instead of waiting for their timeouts; idle ones connect again on their next use. */
  private dropConnectionsTo(stale: readonly PostgresAddress[]): void {
    const names = new Set(stale.map(addressText));
    for (const lane of this.lanes) if (lane.address !== undefined && names.has(addressText(lane.address))) this.disconnect(lane);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.joinable = 0;
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new PostgresStoreError('STORE_CLOSED', 'the store closed while waiting for a connection'));
    }
    if (this.free.length < this.size) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, CLOSE_GRACE_MS);
        this.idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await Promise.all(
      this.lanes.map(async (lane) => {
        const client = lane.client;
        lane.client = undefined;
        lane.address = undefined;
        if (client !== undefined) await client.end().catch(() => {});
      }),
    );
  }
}
