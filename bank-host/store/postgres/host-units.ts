// The storage boundary's PostgreSQL side (store/host-store.ts): locks, commits and request scopes as units
// of work of a PostgresStore. A request runs as one unit (its idempotency key locked and read with the
// unit's BEGIN); the handler's `withLocks` adds its keys' locks to that unit; its one commit writes the
// change with the records its events become, chained on the unit's lane, in the unit's own transaction.
// Outside a request, `withLocks` and `commit` run units of their own.
import type { BatchOp } from '../database.js';
import type { Change, GroupCommitStats } from '../group-commit.js';
import type { RequestScope, RequestScopeOptions, StoreCommitter, StoreLocks } from '../host-store.js';
import { PostgresStoreError } from './errors.js';
import type { PostgresStore } from './store.js';
import { PREFETCH_KEYS_MAX, isStorableKey, type UnitOfWork } from './unit-of-work.js';

/** What turns a unit's events into operations written in the unit's commit: the host's audit log, one
 *  chain per lane. The store knows neither the events nor the chain. */
export interface LaneCommitSink<E> {
  /** The lane's head key: the store's `laneKey` (locked and prefetched by every unit on the lane). */
  laneKey(laneId: string): string;
  /** The operations that store `events` after `head` (the lane key's value as the unit read it, under its
   *  lock), drawing whatever numbers it needs from the unit. */
  prepare(unit: UnitOfWork, head: unknown, events: readonly E[], timestampMs: number): Promise<BatchOp[]>;
}

export class PostgresCommitter<E> implements StoreCommitter<E> {
  readonly stats: GroupCommitStats = { batches: 0, changes: 0, maxChangesInBatch: 1 };
  private readonly listeners: ((events: readonly E[]) => void)[] = [];
  private closed = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly store: PostgresStore,
    private readonly sink: LaneCommitSink<E>,
    private readonly now: () => number = Date.now,
  ) {}

  observe(listener: (events: readonly E[]) => void): void {
    this.listeners.push(listener);
  }

  /** Inside an open unit of work: writes the change in that unit's commit (and so ends the unit). Outside
   *  one (or after the unit it runs in has committed): a unit of its own, holding no lock but its lane's. */
  commit(change: Change<E>): Promise<void> {
    if (this.closed) return Promise.reject(new PostgresStoreError('STORE_CLOSED', 'the store is closing; the change was not applied'));
    if (change.ops.length === 0 && (change.events?.length ?? 0) === 0) return Promise.resolve();
    const unit = this.store.currentUnit();
    // A unit of its own draws its audit record's number with its BEGIN, as a request's does.
    const done = unit !== undefined ? this.commitIn(unit, change) : this.store.unitOfWork([], (own) => this.commitIn(own, change), { reserveNumbers: AUDIT_RECORDS_EXPECTED });
    this.inFlight.add(done);
    const forget = () => this.inFlight.delete(done);
    done.then(forget, forget);
    return done;
  }

  private async commitIn(unit: UnitOfWork, change: Change<E>): Promise<void> {
    const events = change.events ?? [];
    let ops: readonly BatchOp[] = change.ops;
    if (events.length > 0) {
      const head = unit.known.get(this.sink.laneKey(unit.laneId));
      ops = [...change.ops, ...(await this.sink.prepare(unit, head, events, this.now()))];
    }
    await this.store.commit(ops, change.guard);
    this.stats.batches++;
    this.stats.changes++;
    if (events.length > 0) for (const listener of this.listeners) listener(events);
  }

  /** Refuses new changes and waits for the ones in flight. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
  }
}

/** `withLocks` as units of work: inside an open unit (a request's), the keys' locks join that unit;
 *  otherwise a unit of its own holds them while `work` runs. */
export class PostgresLocks implements StoreLocks {
  constructor(private readonly store: PostgresStore) {}

  async withLocks<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    const unit = this.store.currentUnit();
    if (unit !== undefined) {
      await unit.lock(keys);
      return work();
    }
    // The keys are read with the BEGIN, under their locks (work that locks a key reads it next), and the
    // number of the audit record its commit most likely writes is drawn there too: one round trip. Work
    // outside a request (an operator's command, a sweep, the fleet's alert book) may read much under its
    // locks: it never joins requests' group commits, which would wait for it (commit-group.ts).
    return this.store.unitOfWork(keys, () => work(), { prefetch: prefetchable(keys), reserveNumbers: AUDIT_RECORDS_EXPECTED, joinsGroups: false });
  }
}

/** Audit records a unit of work's commit usually writes (one per request, one per change outside one). */
const AUDIT_RECORDS_EXPECTED = 1;

/** The keys of `keys` a unit may read with its BEGIN: the store's own keys, at most as many as it reads
 *  there (less room for the request's own key, its device's and its lane's head). A read is only a hint:
 *  a key left out is read when asked for. */
function prefetchable(keys: readonly string[]): string[] {
  return [...new Set(keys)].filter(isStorableKey).slice(0, PREFETCH_KEYS_MAX - 4);
}

/** Keys a request's lock hint may name; a longer hint is not taken (its handler locks them itself). */
const LOCK_HINT_KEYS_MAX = 16;

/** A request as one unit of work holding its idempotency key, read with the unit's BEGIN, the keys its
 *  handler says it will lock, and (shared, last) the record its change commits under. */
export class PostgresRequests implements RequestScope {
  constructor(private readonly store: PostgresStore) {}

  run<T>(key: string, work: () => Promise<T>, readKeys: readonly string[] = [], lockKeys: readonly string[] = [], options: RequestScopeOptions = {}): Promise<T> {
    const locked = lockKeys.length <= LOCK_HINT_KEYS_MAX ? lockKeys : [];
    const guarded = options.guardKey === undefined ? [] : [options.guardKey];
    return this.store.unitOfWork({ exclusive: [key, ...locked], sharedLast: guarded }, () => work(), {
      prefetch: prefetchable([key, ...locked, ...guarded, ...readKeys]),
      reserveNumbers: AUDIT_RECORDS_EXPECTED,
      joinsGroups: options.alone !== true,
    });
  }
}
