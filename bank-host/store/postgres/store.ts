// The bank host's key-value store on PostgreSQL: the same keys, values and order as the LevelDB `Database`,
// in one table on a Patroni cluster, shared by several host processes.
//
// Reads have Database's surface (get, getMany, entries). Changes run as *units of work*: `unitOfWork(locks,
// work)` takes a lane (a pooled connection), begins a transaction, takes advisory locks on the lock keys,
// and runs `work` with the unit as the current one (AsyncLocalStorage), so `get`/`getMany`/`entries` called
// anywhere inside it read through the unit's own connection; `commit(ops)` inside it writes the batch and
// commits (releasing the locks). `commit(ops)` outside any unit writes the batch as its own transaction.
//
// Durability is PostgreSQL's: a COMMIT is acknowledged once the synchronous standby has its WAL. When units
// wait for a lane, several of them share one transaction and its COMMIT (commit-group.ts): a unit's commit
// resolves only with that COMMIT.
import { AsyncLocalStorage } from 'node:async_hooks';
import type pg from 'pg';
import type { BatchOp } from '../database.js';
import type { CommitGuard, KeyValueStore } from '../host-store.js';
import { GROUP_COMMIT_LANES_DEFAULT, GROUP_COMMIT_UNITS_DEFAULT, GroupCommits, checkGroupCommitUnits, type GroupCommitStats } from './commit-group.js';
import { PostgresStoreError, hasSqlState, storeErrorFrom, type PostgresStoreErrorCode } from './errors.js';
import { LanePool, type Lane, type LanePoolOptions } from './lanes.js';
import { addressText } from './primary.js';
import { SCAN_PAGE_ROWS, selectMany, selectOne, selectPage, writeText, type ScanRange } from './queries.js';
import { checkKey, encodeBatch } from './rows.js';
import { ensureSchema, type SchemaFacts } from './schema.js';
import { LockNotFree, UnitOfWork, lockKeys, openingStatement, type LockRequest } from './unit-of-work.js';

/** Keys one getMany reads in one statement. */
export const GET_MANY_KEYS_MAX = 10_000;
/** How long a scan that spans pages outside a unit of work may keep its snapshot open between two pages
 *  (it holds one lane and one PostgreSQL snapshot meanwhile). */
export const SCAN_IDLE_TIMEOUT_MS = 60_000;

export interface PostgresStoreOptions extends LanePoolOptions {
  /** Refuse to open unless the primary waits for a synchronous standby (true unless said otherwise: only a
   *  test of the store itself on a lone PostgreSQL may turn it off). */
  readonly requireSynchronousStandby?: boolean;
  /** A key every unit of work on a lane locks (exclusively) and prefetches, named from the lane's id: the
   *  head of what the lane writes in sequence (the host's audit chain of that lane). Lanes of one host never
   *  contend for it; two processes given the same host id take turns on it instead of forking a chain. */
  readonly laneKey?: (laneId: string) => string;
  /** The most units of work one transaction carries when units wait for lanes (commit-group.ts); 1 turns
   *  the group commit off. */
  readonly groupCommitUnits?: number;
  /** Lanes units of work run on at once while the group commit is on; more units wait to join a group there
   *  (reads, lone commits and work marked `joinsGroups: false` may use the pool's other lanes). */
  readonly groupCommitLanes?: number;
}

export interface EntriesOptions {
  readonly reverse?: boolean;
  readonly limit?: number;
  readonly gte?: string;
  readonly lte?: string;
}

export interface UnitOfWorkOptions {
  /** Keys the work will read, read with the unit's BEGIN and locks in the same round trip (after the locks
   *  are held); `get` and `getMany` inside the unit answer them without asking PostgreSQL again. */
  readonly prefetch?: readonly string[];
  /** Numbers `unit.numbers` will draw, drawn with the BEGIN in the same round trip (a request's audit
   *  record's position); more are drawn when asked for, and ones not used leave a gap, as a rollback does. */
  readonly reserveNumbers?: number;
  /** May be handed a lane whose transaction a group of staged units keeps open (commit-group.ts); false for
   *  work that runs long inside its unit, which the group's units would wait for. Default true. */
  readonly joinsGroups?: boolean;
}

export interface PostgresStoreStats extends GroupCommitStats {
  unitsCommitted: number;
  unitsRolledBack: number;
  unitsFailed: number;
  commitsAlone: number;
  /** Lock statements units of work sent after their BEGIN: a request whose locks its handler could not name
   *  beforehand (a settlement at a host that did not authorize it, say). */
  lockSteps: number;
  /** Failures by store error code (units of work, lone commits and reads). */
  failures: Partial<Record<PostgresStoreErrorCode, number>>;
}

export class PostgresStore implements KeyValueStore {
  readonly stats: PostgresStoreStats = { unitsCommitted: 0, unitsRolledBack: 0, unitsFailed: 0, commitsAlone: 0, lockSteps: 0, failures: {}, unitsGrouped: 0, groupCommits: 0, groupLocksNotFree: 0 };
  private readonly current = new AsyncLocalStorage<UnitOfWork>();

  private constructor(
    private readonly pool: LanePool,
    /** What the store found when it opened. */
    readonly schema: SchemaFacts,
    private readonly laneKey: ((laneId: string) => string) | undefined,
    groupCommitUnits: number,
  ) {
    this.groups = new GroupCommits(pool, groupCommitUnits, this.stats, (error) => this.count(error));
  }

  private readonly groups: GroupCommits;

  /** Units of work one transaction carries at most (commit-group.ts). */
  get groupCommitUnits(): number {
    return this.groups.maxUnits;
  }

  /** Connects to the primary among `options.addresses`, creates the schema if needed and checks it. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const groupCommitUnits = options.groupCommitUnits ?? GROUP_COMMIT_UNITS_DEFAULT;
    checkGroupCommitUnits(groupCommitUnits);
    const pool = new LanePool({ ...options, ...(groupCommitUnits > 1 && { joinableLanes: options.groupCommitLanes ?? GROUP_COMMIT_LANES_DEFAULT }) });
    try {
      const schema = await withLane(pool, (client) => ensureSchema(client), 'creating the schema');
      const synchronous = schema.synchronousStandbyNames.trim() !== '' && ['on', 'remote_apply'].includes(schema.synchronousCommit);
      if ((options.requireSynchronousStandby ?? true) && !synchronous) {
        throw new PostgresStoreError(
          'STORE_SCHEMA',
          `the primary does not wait for a synchronous standby (synchronous_standby_names '${schema.synchronousStandbyNames}', synchronous_commit ${schema.synchronousCommit}): ` +
            'an acknowledged transaction could be lost with it; turn on Patroni\'s synchronous_mode',
        );
      }
      return new PostgresStore(pool, schema, options.laneKey, groupCommitUnits);
    } catch (error) {
      await pool.close();
      throw error;
    }
  }

  /** The unit of work the caller runs in, if any. */
  currentUnit(): UnitOfWork | undefined {
    const unit = this.current.getStore();
    return unit !== undefined && unit.state === 'open' ? unit : undefined;
  }

  /** The unit whose work the caller runs in, open or not, while it still holds its lane: after its commit,
   *  reads of the same work go through its connection (outside a transaction) instead of taking a second
   *  lane, which under load could wait for lanes held by units that each wait for another. */
  private heldUnit(): UnitOfWork | undefined {
    const unit = this.current.getStore();
    return unit !== undefined && !unit.released && !unit.broken && unit.state !== 'failed' ? unit : undefined;
  }

  /** The pool's state and the primary as last found, for logs and metrics. */
  get connections(): { size: number; busy: number; waiting: number; connects: number; primary: string | undefined; searches: number; primaryChanges: number } {
    const known = this.pool.finder.known;
    return {
      size: this.pool.size,
      busy: this.pool.busy,
      waiting: this.pool.waiting,
      connects: this.pool.connects,
      primary: known === undefined ? undefined : addressText(known),
      searches: this.pool.finder.stats.searches,
      primaryChanges: this.pool.finder.stats.changes,
    };
  }

  async get<T>(key: string): Promise<T | undefined> {
    checkKey(key);
    const known = this.currentUnit()?.known;
    if (known !== undefined && known.has(key)) return known.get(key) as T | undefined;
    return this.read((client) => selectOne<T>(client, key), `reading ${key}`);
  }

  async getMany<T>(keys: readonly string[]): Promise<(T | undefined)[]> {
    if (keys.length === 0) return [];
    if (keys.length > GET_MANY_KEYS_MAX) throw new RangeError(`getMany reads at most ${GET_MANY_KEYS_MAX} keys, got ${keys.length}`);
    for (const key of keys) checkKey(key);
    const known = this.currentUnit()?.known;
    if (known !== undefined && known.size > 0 && keys.every((key) => known.has(key))) return keys.map((key) => known.get(key) as T | undefined);
    return this.read((client) => selectMany<T>(client, keys), `reading ${keys.length} keys`);
  }

  /** Every entry whose key starts with `prefix` (or within gte/lte, which replace the prefix's bounds, as in
   *  Database.entries), in key order or reverse, bounded by `limit`. Inside a unit of work it reads through
   *  the unit's connection; outside, a scan of more than one page reads from one snapshot. */
  async *entries<T>(prefix: string, options: EntriesOptions = {}): AsyncGenerator<[string, T]> {
    const range: ScanRange = {
      gte: options.gte ?? prefix,
      lte: options.lte ?? prefix + '\xff',
      reverse: options.reverse ?? false,
      limit: options.limit === undefined || options.limit < 0 ? undefined : options.limit,
    };
    if (range.limit === 0) return;
    const unit = this.heldUnit();
    if (unit !== undefined) {
      yield* this.pages<T>(unit.client, range, unit.lane);
      return;
    }
    if (range.limit !== undefined && range.limit <= SCAN_PAGE_ROWS) {
      const entries = await this.read((client) => selectPage<T>(client, range, undefined, range.limit!), `scanning ${prefix}`);
      yield* entries;
      return;
    }
    yield* this.snapshotScan<T>(range, prefix);
  }

  /** Runs `work` as one unit of work holding `locks` (see LockRequest). Resolves with what `work` returns,
   *  after its commit if it made one (a unit that does not commit is rolled back: it changed nothing).
   *  Errors from `work` pass through unchanged; the store's own are PostgresStoreErrors, `retryable` when
   *  nothing was applied (or, for STORE_OUTCOME_UNKNOWN, when a retry with the same request id is safe). */
  async unitOfWork<T>(locks: LockRequest, work: (unit: UnitOfWork) => Promise<T>, options: UnitOfWorkOptions = {}): Promise<T> {
    if (this.currentUnit() !== undefined) throw new PostgresStoreError('STORE_REFUSED', 'a unit of work cannot start another: it would wait on its own locks or lanes');
    // Made (and checked) before a lane is taken when it does not depend on the lane.
    const plain = this.laneKey === undefined ? openingStatement(locks, options.prefetch, options.reserveNumbers) : undefined;
    const opening = (laneId: string, joins: boolean) => {
      if (plain !== undefined && !joins) return plain;
      if (this.laneKey === undefined) return openingStatement(locks, options.prefetch, options.reserveNumbers, joins);
      const laneKey = this.laneKey(laneId);
      const { exclusive, shared, sharedLast } = lockKeys(locks);
      return openingStatement({ exclusive: [...exclusive, laneKey], shared, sharedLast }, [...(options.prefetch ?? []), laneKey], options.reserveNumbers, joins);
    };
    const lane = await this.counted(this.pool.acquire(this.groupCommitUnits > 1 && options.joinsGroups !== false));
    let unit: UnitOfWork | undefined;
    try {
      const client = await this.counted(this.pool.connected(lane));
      // A lane handed on with its transaction open: this unit joins the group staged there.
      unit = new UnitOfWork(lane, client, this.groups.joins(lane));
      try {
        await this.counted(unit.begin(opening(lane.id, unit.joined)));
      } catch (error) {
        if (!(error instanceof LockNotFree)) throw error;
        // Taken by another transaction (or another host): the group commits what it staged, and this unit
        // begins on its own, waiting for its locks as any unit does.
        const failure = await this.groups.endForLock(unit);
        if (failure !== undefined) throw failure;
        unit = new UnitOfWork(lane, client, false);
        await this.counted(unit.begin(opening(lane.id, false)));
      }
      const keepAlive = keepUnitAlive(unit, this.pool.idleInTransactionTimeoutMs);
      let result: T;
      try {
        result = await this.current.run(unit, () => work(unit!));
      } finally {
        clearInterval(keepAlive);
      }
      if (unit.state === 'open') await unit.rollback();
      if (unit.state === 'committed') this.stats.unitsCommitted++;
      else this.stats.unitsRolledBack++;
      return result;
    } catch (error) {
      if (unit !== undefined) await unit.rollback();
      this.stats.unitsFailed++;
      if (error instanceof PostgresStoreError) this.pool.failed(lane, error);
      throw error;
    } finally {
      if (unit !== undefined) {
        unit.released = true;
        this.stats.lockSteps += unit.lockSteps;
      }
      // A unit whose lane went on to the next one of its group gives nothing back: that unit will.
      if (unit?.handedOn !== true && !(await this.groups.passOn(lane, unit))) this.pool.release(lane, { broken: unit?.broken ?? false });
    }
  }

  /** Runs `work` so that every read in it sees one snapshot of the whole store (a REPEATABLE READ, READ
   *  ONLY transaction on one lane, kept alive like a unit of work's), as a LevelDB snapshot does: a walk of
   *  the audit log's lanes on a serving host then sees each lane's head and records as one commit left
   *  them. Inside a unit of work, `work` simply runs in it (its transaction is already one view). */
  async readSnapshot<T>(work: () => Promise<T>): Promise<T> {
    if (this.currentUnit() !== undefined) return work();
    const lane = await this.counted(this.pool.acquire());
    let unit: UnitOfWork | undefined;
    try {
      const client = await this.counted(this.pool.connected(lane));
      unit = new UnitOfWork(lane, client);
      await this.counted(unit.begin({ text: 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', prefetch: [], locked: [], exclusive: [], reserve: 0, joins: false, locks: false }));
      const keepAlive = keepUnitAlive(unit, this.pool.idleInTransactionTimeoutMs);
      try {
        return await this.current.run(unit, work);
      } finally {
        clearInterval(keepAlive);
        await unit.rollback();
      }
    } catch (error) {
      if (unit !== undefined) await unit.rollback();
      if (error instanceof PostgresStoreError) this.pool.failed(lane, error);
      throw error;
    } finally {
      if (unit !== undefined) unit.released = true;
      this.pool.release(lane, { broken: unit?.broken ?? false });
    }
  }

  /** Inside a unit of work: writes the batch and commits the unit. Outside: writes the batch atomically as
   *  one statement (its own transaction). Either way it resolves once the change is durable on the primary
   *  and its synchronous standby. */
  async commit(ops: readonly BatchOp[], guard?: CommitGuard): Promise<void> {
    const unit = this.current.getStore();
    if (unit !== undefined) {
      if (unit.state !== 'open') throw new PostgresStoreError('STORE_REFUSED', `commit inside a unit of work that is ${unit.state}`);
      // Units wait for lanes: this one's writes may wait in the open transaction for the COMMIT of a unit
      // after it, its lane going on to that unit (commit-group.ts).
      if (this.groups.mayStage(unit.lane)) await this.counted(this.groups.stage(unit, ops, guard));
      else await this.counted(this.groups.commitLast(unit, ops, guard));
      return;
    }
    if (guard !== undefined) throw new PostgresStoreError('STORE_REFUSED', 'a guarded commit runs inside a unit of work (its lock is the unit\'s)');
    const write = writeText(encodeBatch(ops));
    if (write === undefined) return;
    const lane = await this.counted(this.pool.acquire());
    let broken = false;
    try {
      const client = await this.pool.connected(lane);
      lane.syncWaitCancelled = false;
      try {
        // One message: its statements run as one implicit transaction (all or nothing).
        await client.query(write);
      } catch (error) {
        broken = !hasSqlState(error);
        throw storeErrorFrom(error, 'commit', `writing a batch on ${lane.id}`);
      }
      if (lane.syncWaitCancelled) {
        broken = true;
        throw new PostgresStoreError('STORE_OUTCOME_UNKNOWN', `the batch written on ${lane.id} was not confirmed by the synchronous standby`);
      }
      this.stats.commitsAlone++;
    } catch (error) {
      this.count(error);
      this.pool.failed(lane, error);
      throw error;
    } finally {
      this.pool.release(lane, { broken });
    }
  }

  async getBuffers(keys: readonly string[]): Promise<(Buffer | undefined)[]> {
    return (await this.getMany<unknown>(keys)).map((value) => (Buffer.isBuffer(value) ? value : undefined));
  }

  async *bufferEntries(prefix: string, options: EntriesOptions = {}): AsyncGenerator<[string, Buffer]> {
    for await (const [key, value] of this.entries<unknown>(prefix, options)) if (Buffer.isBuffer(value)) yield [key, value];
  }

  /** The boundary's raw write (store-format migrations, tests): `commit` outside any unit of work. */
  writeDurably(ops: readonly BatchOp[]): Promise<void> {
    if (this.current.getStore() !== undefined) throw new PostgresStoreError('STORE_REFUSED', 'writeDurably inside a unit of work would commit the unit');
    return this.commit(ops);
  }

  /** PostgreSQL's autovacuum frees deleted rows' space; nothing to do here. */
  async compactAll(): Promise<void> {}

  /** Closes every connection (waiting a bounded time for units of work in flight). */
  close(): Promise<void> {
    return this.pool.close();
  }

  /** A read through the current unit's connection, or through a lane of the pool. */
  private async read<R>(query: (client: pg.Client) => Promise<R>, what: string): Promise<R> {
    const unit = this.heldUnit();
    if (unit !== undefined) {
      try {
        return await query(unit.client);
      } catch (error) {
        throw this.count(storeErrorFrom(error, 'statement', `${what} on ${unit.lane.id}`));
      }
    }
    try {
      return await withLane(this.pool, query, what);
    } catch (error) {
      throw this.count(error);
    }
  }

  private async *pages<T>(client: pg.Client, range: ScanRange, lane: Lane): AsyncGenerator<[string, T]> {
    let after: string | undefined;
    let left = range.limit;
    for (;;) {
      const rows = left === undefined ? SCAN_PAGE_ROWS : Math.min(left, SCAN_PAGE_ROWS);
      let page: [string, T][];
      try {
        page = await selectPage<T>(client, range, after, rows);
      } catch (error) {
        throw this.count(storeErrorFrom(error, 'statement', `scanning on ${lane.id}`));
      }
      yield* page;
      if (left !== undefined) left -= page.length;
      if (page.length < rows || left === 0) return;
      after = page[page.length - 1]![0];
    }
  }

  /** A scan that may span pages: one lane, one REPEATABLE READ snapshot, like a LevelDB iterator's. */
  private async *snapshotScan<T>(range: ScanRange, prefix: string): AsyncGenerator<[string, T]> {
    const lane = await this.counted(this.pool.acquire());
    let broken = true;
    try {
      const client = await this.counted(this.pool.connected(lane));
      try {
        // The consumer may work between pages; the session's short idle-in-transaction bound is for units of work.
        await client.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL idle_in_transaction_session_timeout = ${SCAN_IDLE_TIMEOUT_MS}`);
      } catch (error) {
        throw this.count(storeErrorFrom(error, 'statement', `starting a scan of ${prefix} on ${lane.id}`));
      }
      yield* this.pages<T>(client, range, lane);
      await client.query('COMMIT');
      broken = false;
    } finally {
      // A scan abandoned midway (the consumer broke out of its loop) still has its transaction open.
      if (broken && lane.client !== undefined) {
        try {
          await lane.client.query('ROLLBACK');
          broken = false;
        } catch {
          // The connection failed; it is closed below.
        }
      }
      this.pool.release(lane, { broken });
    }
  }

  private count<E>(error: E): E {
    if (error instanceof PostgresStoreError) this.stats.failures[error.code] = (this.stats.failures[error.code] ?? 0) + 1;
    return error;
  }

  private async counted<R>(promise: Promise<R>): Promise<R> {
    try {
      return await promise;
    } catch (error) {
      throw this.count(error);
    }
  }
}

/** While a unit's work runs (a password check at the production scrypt cost can take seconds on a loaded
 *  machine), a statement every third of PostgreSQL's idle-in-transaction bound keeps the live host's unit
 *  from being ended as idle; a lost machine sends none, so its locks still free within the bound. */
function keepUnitAlive(unit: UnitOfWork, idleMs: number): NodeJS.Timeout {
  const timer = setInterval(() => {
    if (unit.state !== 'open' || unit.broken) return;
    // pg queues it behind the unit's own statement, if one is in flight; it cannot fail but with the connection.
    unit.client.query('SELECT 1').catch(() => {});
  }, Math.max(100, Math.floor(idleMs / 3)));
  timer.unref();
  return timer;
}

/** Runs `query` on a lane of its own and gives the lane back. */
async function withLane<R>(pool: LanePool, query: (client: pg.Client) => Promise<R>, what: string): Promise<R> {
  const lane = await pool.acquire();
  let broken = false;
  try {
    const client = await pool.connected(lane);
    try {
      return await query(client);
    } catch (error) {
      const failure = storeErrorFrom(error, 'statement', `${what} on ${lane.id}`);
      broken = failure.code !== 'STORE_REFUSED';
      pool.failed(lane, failure);
      throw failure;
    }
  } finally {
    pool.release(lane, { broken });
  }
}
