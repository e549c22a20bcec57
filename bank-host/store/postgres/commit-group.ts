// A group commit on a lane. When units of work wait for a lane, a unit that commits may instead *stage* its
// writes (they run in the lane's transaction, which stays open), hand the lane to a waiting unit, and wait
// for one COMMIT that covers the units after it too: several requests then cost PostgreSQL one commit,
// one WAL flush and one wait for the synchronous standby. A unit that joins the open transaction begins with
// a SAVEPOINT (so its own failure rolls back only its own work) and takes its opening locks only if they are
// free at once (pg_try_advisory_xact_lock): it never waits for them with the locks of the units before it
// held. When one is taken, the group commits and the unit begins anew on the lane, waiting for its locks as
// any unit does. Nothing is acknowledged before the group's COMMIT is: a staged unit's commit resolves with
// it, or fails with it (the connection lost before it: nothing applied; during it: outcome unknown, and the
// retry with the same request id is safe as for any unit).
import type pg from 'pg';
import type { BatchOp } from '../database.js';
import type { CommitGuard } from '../host-store.js';
import { PostgresStoreError, hasSqlState, storeErrorFrom } from './errors.js';
import type { Lane, LanePool } from './lanes.js';
import { lastResult } from './queries.js';
import { MEMBER_SAVEPOINT, type UnitOfWork } from './unit-of-work.js';

/** Units of work one transaction may carry, unless the store's options say otherwise (each joined unit is
 *  one subtransaction; PostgreSQL keeps 64 per transaction in shared memory before it spills). */
export const GROUP_COMMIT_UNITS_DEFAULT = 8;
export const GROUP_COMMIT_UNITS_MAX = 32;
/** Lanes units of work run on at once while the group commit is on (the rest of the pool serves reads and
 *  work that never joins a group): on the 2-core bench, 4 lanes with groups carried 23-30 % more money
 *  transactions per second than 16 lanes without (docs/scale-out.md). */
export const GROUP_COMMIT_LANES_DEFAULT = 4;

export function checkGroupCommitUnits(units: number): void {
  if (!Number.isSafeInteger(units) || units < 1 || units > GROUP_COMMIT_UNITS_MAX) throw new RangeError(`groupCommitUnits must be an integer from 1 to ${GROUP_COMMIT_UNITS_MAX}, got ${units}`);
}

/** The staged units of one lane's open transaction. */
class CommitGroup {
  private readonly staged: { unit: UnitOfWork; resolve: () => void; reject: (error: Error) => void }[] = [];
  /** Units that began in this transaction (staged, running, or ended without a change). */
  units = 1;
  /** A message holding the group's COMMIT was sent and not yet answered. */
  commitInFlight = false;

  add(unit: UnitOfWork): Promise<void> {
    return new Promise<void>((resolve, reject) => this.staged.push({ unit, resolve, reject }));
  }

  get waiting(): number {
    return this.staged.length;
  }

  /** The group's COMMIT was acknowledged (`error` undefined) or the transaction ended without one. */
  settle(error?: PostgresStoreError): void {
    for (const { unit, resolve, reject } of this.staged.splice(0)) {
      unit.state = error === undefined ? 'committed' : 'failed';
      if (error === undefined) resolve();
      else reject(error);
    }
  }

  /** What the staged units learn when the transaction ended with its connection. */
  lost(laneId: string): PostgresStoreError {
    return this.commitInFlight
      ? new PostgresStoreError('STORE_OUTCOME_UNKNOWN', `the connection of ${laneId} was lost while its group commit was in flight: the change may or may not be applied; retry with the same request id`)
      : new PostgresStoreError('STORE_UNAVAILABLE', `the transaction of ${laneId} ended before its group commit; nothing was applied`);
  }
}

export interface GroupCommitStats {
  /** Units whose writes were staged and committed by a later unit's COMMIT. */
  unitsGrouped: number;
  /** COMMITs that carried staged units. */
  groupCommits: number;
  /** Units that joined a group's transaction but found a lock taken, and began again on their own. */
  groupLocksNotFree: number;
}

/** The store's group commits, one group at most per lane. */
export class GroupCommits {
  private readonly groups = new Map<Lane, CommitGroup>();

  constructor(
    private readonly pool: LanePool,
    /** Units per transaction at most (1: no group commit), as checked when the store opened. */
    readonly maxUnits: number,
    private readonly stats: GroupCommitStats,
    /** Counts a failure in the store's stats. */
    private readonly count: (error: PostgresStoreError) => PostgresStoreError,
  ) {
    // A connection closed or lost takes its open transaction with it: its staged units learn it at once.
    pool.onDisconnect = (lane) => {
      const group = this.groups.get(lane);
      if (group === undefined) return;
      this.groups.delete(lane);
      group.settle(this.count(group.lost(lane.id)));
    };
  }

  /** A unit given this lane joins the group staged in its open transaction. */
  joins(lane: Lane): boolean {
    return this.groups.has(lane);
  }

  /** Whether a unit that commits now may stage instead: it runs on a lane of units that may join groups,
   *  such units wait for a lane, and the group has room. */
  mayStage(lane: Lane): boolean {
    return this.maxUnits > 1 && lane.joinable && this.pool.joinableWaiting > 0 && (this.groups.get(lane)?.units ?? 1) < this.maxUnits;
  }

  /** Stages the unit's writes, hands its lane on to a waiting unit, and resolves with the group's COMMIT.
   *  Fails as a commit would (the guard, the write), or with the group. */
  async stage(unit: UnitOfWork, ops: readonly BatchOp[], guard: CommitGuard | undefined): Promise<void> {
    const lane = unit.lane;
    await unit.stage(ops, guard);
    let group = this.groups.get(lane);
    if (group === undefined) this.groups.set(lane, (group = new CommitGroup()));
    const committed = group.add(unit);
    group.units++;
    if (this.pool.handOff(lane)) {
      unit.handedOn = true;
      unit.released = true;
    } else {
      // The waiter went meanwhile (its wait timed out): the group commits now, this unit last.
      group.units--;
      const failure = await this.commit(lane, unit.client, 'COMMIT');
      if (failure !== undefined && failure.code !== 'STORE_CONFLICT') unit.broken = true;
    }
    return committed;
  }

  /** Commits the unit with the units staged before it (its own message ends with the COMMIT). */
  async commitLast(unit: UnitOfWork, ops: readonly BatchOp[], guard: CommitGuard | undefined): Promise<void> {
    const lane = unit.lane;
    const group = this.groups.get(lane);
    if (group !== undefined) group.commitInFlight = true;
    try {
      await unit.commit(ops, guard);
    } finally {
      // A failure of the unit's own statements (its guard, its write) stopped the message before the COMMIT
      // and left the group's transaction open: settled when the unit ends (passOn). Otherwise the staged
      // units learn the COMMIT's outcome with it.
      if (group !== undefined && this.groups.get(lane) === group) {
        group.commitInFlight = unit.commitInDoubt;
        const state = unit.state as UnitOfWork['state'];
        if (state === 'committed') {
          this.groups.delete(lane);
          this.committed(group);
        } else if (unit.commitInDoubt || state === 'rolled-back') {
          this.groups.delete(lane);
          group.settle(this.count(state === 'rolled-back' ? rolledBack(lane) : group.lost(lane.id)));
        }
      }
    }
  }

  /** A unit ended on a lane that may carry staged units (its own work failed, it was read-only, or it
   *  joined and then found a lock taken). True when the lane went on to a waiting unit (it is that unit's
   *  now); otherwise the group is committed here and the caller releases the lane. */
  async passOn(lane: Lane, unit: UnitOfWork | undefined): Promise<boolean> {
    const group = this.groups.get(lane);
    if (group === undefined) return false;
    if (unit === undefined || unit.broken || lane.client === undefined || lane.client !== unit.client) {
      this.groups.delete(lane);
      group.settle(this.count(group.lost(lane.id)));
      return false;
    }
    if (this.mayStage(lane)) {
      group.units++;
      if (this.pool.handOff(lane)) return true;
      group.units--;
    }
    const failure = await this.commit(lane, unit.client, 'COMMIT');
    if (failure !== undefined && failure.code !== 'STORE_CONFLICT') unit.broken = true;
    return false;
  }

  /** A unit that joined found a lock taken: its savepoint rolled back, the group committed, so the unit can
   *  begin again on its own. The failure the group met, if it did. */
  async endForLock(unit: UnitOfWork): Promise<PostgresStoreError | undefined> {
    this.stats.groupLocksNotFree++;
    // Its savepoint is rolled back in the message below: nothing of it is left to end.
    unit.state = 'rolled-back';
    const failure = await this.commit(unit.lane, unit.client, `ROLLBACK TO SAVEPOINT ${MEMBER_SAVEPOINT}; RELEASE SAVEPOINT ${MEMBER_SAVEPOINT}; COMMIT`);
    if (failure !== undefined && failure.code !== 'STORE_CONFLICT') unit.broken = true;
    return failure;
  }

  /** Sends the group's COMMIT (`text` ends with it) and settles its staged units; the failure they were
   *  given when it was not committed. */
  private async commit(lane: Lane, client: pg.Client, text: string): Promise<PostgresStoreError | undefined> {
    const group = this.groups.get(lane);
    if (group === undefined) return undefined;
    this.groups.delete(lane);
    group.commitInFlight = true;
    lane.syncWaitCancelled = false;
    let failure: PostgresStoreError | undefined;
    try {
      const results = (await client.query(text)) as unknown as pg.QueryResult | pg.QueryResult[];
      if (lastResult(results).command !== 'COMMIT') failure = rolledBack(lane);
      else if (lane.syncWaitCancelled) failure = new PostgresStoreError('STORE_OUTCOME_UNKNOWN', `the group commit on ${lane.id} was not confirmed by the synchronous standby`);
    } catch (error) {
      failure = hasSqlState(error) ? storeErrorFrom(error, 'statement', `committing the group on ${lane.id}`) : storeErrorFrom(error, 'commit', `committing the group on ${lane.id}`);
    }
    if (failure === undefined) {
      this.committed(group);
      return undefined;
    }
    this.pool.failed(lane, failure);
    group.settle(this.count(failure));
    return failure;
  }

  private committed(group: CommitGroup): void {
    this.stats.groupCommits++;
    this.stats.unitsGrouped += group.waiting;
    group.settle();
  }
}

/** PostgreSQL answered a group's COMMIT with a rollback: a statement of a unit failed unseen (its error was
 *  caught by its work), and none of the group was applied. */
function rolledBack(lane: Lane): PostgresStoreError {
  return new PostgresStoreError('STORE_CONFLICT', `the transaction of ${lane.id} was rolled back at its commit (a statement in it had failed); nothing of it was applied`);
}
