// Group commit: every state change is one LevelDB batch written with `sync: true` before its caller is
// answered. While one batch is being synced, new changes queue; when it lands, everything queued is written
// together as the next batch. Throughput comes from sharing an fsync, never from skipping it.
//
// A change may carry events (type E) besides its operations. The committer hands every batch's events to
// its sink at the moment the batch is formed, and writes the operations the sink returns in the same
// batch. In the host the sink is the audit chain and E its AuditEvent, so a record exists exactly when its
// effect does; the store knows neither.
import type { Database } from './database.js';
import type { BatchOp, Change, GroupCommitStats, StoreCommitter } from './host-store.js';
export type { Change, GroupCommitStats };

/** Turns the events of one batch into batch operations at the moment a group commit is formed, so they
 *  are numbered in exactly the order their batches reach the disk. */
export interface CommitSink<E> {
  /** Returns the operations that store `events`. Called once per batch, in commit order; the sink may
   *  advance its in-memory state provisionally. */
  prepare(events: readonly E[], timestampMs: number): BatchOp[];
  /** The batch from the last `prepare` is durable. */
  committed(): void;
  /** The batch from the last `prepare` failed; roll the in-memory state back. */
  failed(): void;
}

interface Pending<E> {
  readonly change: Change<E>;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** A bound on one batch, so one fsync never carries an unbounded amount of work. */
export const MAX_CHANGES_PER_BATCH = 1024;

export class GroupCommitter<E> implements StoreCommitter<E> {
  private queue: Pending<E>[] = [];
  private writing = false;
  private closed = false;
  readonly stats: GroupCommitStats = { batches: 0, changes: 0, maxChangesInBatch: 0 };
  private idleWaiters: (() => void)[] = [];
  private readonly listeners: ((events: readonly E[]) => void)[] = [];

  constructor(
    private readonly db: Database,
    /** Without a sink, events are dropped and only operations are written. */
    private sink: CommitSink<E> | undefined = undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** Replaces the sink, between batches (the benchmark turns the audit log on and off this way). */
  setSink(sink: CommitSink<E>): void {
    this.sink = sink;
  }

  observe(listener: (events: readonly E[]) => void): void {
    this.listeners.push(listener);
  }

  /** Resolves once `change` is durable on disk, together with what its events became. */
  commit(change: Change<E>): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the database is closing; the change was not applied'));
    if (change.guard !== undefined) return Promise.reject(new TypeError('a guarded commit needs a store shared by several hosts (PostgreSQL); one LevelDB process needs none'));
    if (change.ops.length === 0 && (change.events?.length ?? 0) === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ change, resolve, reject });
      if (!this.writing) void this.writeQueued();
    });
  }

  /** Stops accepting changes and waits for the ones already queued to land. */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.writing && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private async writeQueued(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0) {
      const group = this.queue.splice(0, MAX_CHANGES_PER_BATCH);
      const ops: BatchOp[] = [];
      const events: E[] = [];
      for (const { change } of group) {
        ops.push(...change.ops);
        if (change.events) events.push(...change.events);
      }
      let sinkPrepared: CommitSink<E> | undefined;
      try {
        if (events.length > 0 && this.sink) {
          ops.push(...this.sink.prepare(events, this.now()));
          sinkPrepared = this.sink;
        }
        await this.db.writeDurably(ops);
        sinkPrepared?.committed();
        if (events.length > 0) for (const listener of this.listeners) listener(events);
        this.stats.batches++;
        this.stats.changes += group.length;
        this.stats.maxChangesInBatch = Math.max(this.stats.maxChangesInBatch, group.length);
        for (const pending of group) pending.resolve();
      } catch (error) {
        sinkPrepared?.failed();
        const failure = error instanceof Error ? error : new Error(String(error));
        for (const pending of group) pending.reject(failure);
      }
    }
    this.writing = false;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
