// A unit of work: one request's transaction on one lane. It begins by taking transaction-scoped advisory
// locks on its lock keys (hashed to 64 bits, in one global order, so units of work of every host that need
// overlapping keys queue behind each other and never deadlock), reads through its own connection, and ends
// with one commit that writes its batch; PostgreSQL releases the locks with the commit or the rollback.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { BatchOp } from '../database.js';
import { PostgresStoreError, hasSqlState, storeErrorFrom } from './errors.js';
import type { Lane } from './lanes.js';
import { encodeBatch } from './rows.js';
import { sendWrite } from './queries.js';

/** Lock keys one unit of work may take: the host's requests take a handful. */
export const LOCKS_PER_UNIT_MAX = 64;

/** Keys a unit of work locks: exclusive ones (the default) serialize every unit of work naming the key; a
 *  shared one admits other shared holders and waits only for exclusive ones. A key named both ways is
 *  locked exclusively. */
export type LockRequest = readonly string[] | { readonly exclusive: readonly string[]; readonly shared?: readonly string[] };

/** A lock key's advisory lock id: the first 64 bits of a SHA-256 of the key. Two keys that collide only
 *  serialize units of work that need not be; never the reverse. */
export function lockId(key: string): bigint {
  return createHash('sha256').update('atm-kv-lock\u0000').update(key, 'utf8').digest().readBigInt64BE(0);
}

/** The one statement that takes a unit's locks, in ascending id order; undefined when there are none.
 *  PostgreSQL evaluates a select list from left to right, so the locks are taken in that order. */
export function lockStatement(request: LockRequest): string | undefined {
  const exclusive = Array.isArray(request) ? (request as readonly string[]) : (request as { exclusive: readonly string[] }).exclusive;
  const shared = Array.isArray(request) ? [] : ((request as { shared?: readonly string[] }).shared ?? []);
  const modes = new Map<bigint, 'shared' | 'exclusive'>();
  for (const key of shared) modes.set(lockId(key), 'shared');
  for (const key of exclusive) modes.set(lockId(key), 'exclusive');
  if (modes.size > LOCKS_PER_UNIT_MAX) throw new RangeError(`a unit of work takes at most ${LOCKS_PER_UNIT_MAX} locks, got ${modes.size}`);
  if (modes.size === 0) return undefined;
  const calls = [...modes.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    // The ids are numbers we made, not input: safe to write into the statement.
    .map(([id, mode]) => `pg_advisory_xact_lock${mode === 'shared' ? '_shared' : ''}(${id.toString()})`);
  return `SELECT ${calls.join(', ')}`;
}

export type UnitState = 'open' | 'committed' | 'rolled-back' | 'failed';

export class UnitOfWork {
  state: UnitState = 'open';
  /** The connection cannot be trusted after this unit (a failure left it in an unknown state). */
  broken = false;

  constructor(
    readonly lane: Lane,
    /** The lane's connection, in a transaction while the unit is open. */
    readonly client: pg.Client,
  ) {}

  /** The lane this unit runs on: `<hostId>/<index>`. One lane runs one transaction at a time, so a chain
   *  kept per lane (the audit log's) is written in sequence without a lock shared with other lanes. */
  get laneId(): string {
    return this.lane.id;
  }

  /** BEGIN and the locks in one round trip; resolves once every lock is held. */
  async begin(locks: LockRequest): Promise<void> {
    const statement = lockStatement(locks);
    const begin = this.client.query('BEGIN');
    const lock = statement === undefined ? undefined : this.client.query(statement);
    try {
      await Promise.all([begin, lock]);
    } catch (error) {
      // Both were sent: wait for the second to settle before the connection is reused or closed.
      await Promise.allSettled([begin, lock]);
      this.state = 'failed';
      throw storeErrorFrom(error, 'statement', `starting a unit of work on ${this.lane.id}`);
    }
  }

  /** Writes the batch and commits, in one round trip. Resolves only when PostgreSQL has acknowledged the
   *  COMMIT, which with synchronous_commit=on and a synchronous standby means the standby has it too. */
  async commit(ops: readonly BatchOp[]): Promise<void> {
    if (this.state !== 'open') throw new PostgresStoreError('STORE_REFUSED', `a unit of work commits once; this one is ${this.state}`);
    const batch = encodeBatch(ops);
    if (this.lane.client !== this.client) {
      // The connection failed or was dropped before anything of the commit was sent.
      this.state = 'failed';
      this.broken = true;
      throw new PostgresStoreError('STORE_UNAVAILABLE', `the connection of ${this.lane.id} was lost before the commit was sent; nothing was applied`);
    }
    this.lane.syncWaitCancelled = false;
    const write = batch.putKeys.length + batch.delKeys.length > 0 ? sendWrite(this.client, batch) : undefined;
    const commit = this.client.query('COMMIT');
    const [written, committed] = await Promise.allSettled([write, commit]);
    if (committed.status === 'rejected') {
      this.state = 'failed';
      this.broken = true;
      // An error answer to the write means nothing was applied, whatever became of the COMMIT.
      if (written.status === 'rejected' && hasSqlState(written.reason)) {
        throw storeErrorFrom(written.reason, 'statement', `writing the batch of ${this.lane.id}`);
      }
      throw storeErrorFrom(committed.reason, 'commit', `committing on ${this.lane.id}`);
    }
    if (written.status === 'rejected') {
      // PostgreSQL answered the COMMIT of the aborted transaction with a rollback.
      this.state = 'rolled-back';
      throw storeErrorFrom(written.reason, 'statement', `writing the batch of ${this.lane.id}`);
    }
    if (committed.value.command !== 'COMMIT') {
      // An earlier statement of this unit failed (and its error was caught by the work): PostgreSQL rolled
      // the transaction back instead.
      this.state = 'rolled-back';
      throw new PostgresStoreError('STORE_REFUSED', `the transaction of ${this.lane.id} had failed before its commit and was rolled back`);
    }
    if (this.lane.syncWaitCancelled) {
      // PostgreSQL stopped waiting for the synchronous standby: the commit is local only and would be lost
      // with the primary. Not acknowledged; the retry (same request id) finds it or applies it.
      this.state = 'failed';
      this.broken = true;
      throw new PostgresStoreError('STORE_OUTCOME_UNKNOWN', `the commit on ${this.lane.id} was not confirmed by the synchronous standby`);
    }
    this.state = 'committed';
  }

  /** Ends a unit that did not commit (read-only, or its work failed). */
  async rollback(): Promise<void> {
    if (this.state === 'committed' || this.state === 'rolled-back' || this.broken) return;
    if (this.state === 'open') this.state = 'rolled-back';
    try {
      await this.client.query('ROLLBACK');
    } catch {
      // The connection failed: PostgreSQL rolls the transaction back itself when the session ends.
      this.broken = true;
    }
  }
}
