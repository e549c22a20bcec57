// Group commit: every state change is one LevelDB batch written with `sync: true` before its caller is
// answered. While one batch is being synced, new changes queue; when it lands, everything queued is written
// together as the next batch. Throughput comes from sharing an fsync, never from skipping it.
import type { AuditEvent, AuditSink } from '../audit/event.js';
import type { BatchOp, Database } from './database.js';

export interface Change {
  readonly ops: readonly BatchOp[];
  readonly events?: readonly AuditEvent[];
}

interface Pending {
  readonly change: Change;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export interface GroupCommitStats {
  batches: number;
  changes: number;
  maxChangesInBatch: number;
}

/** A bound on one batch, so one fsync never carries an unbounded amount of work. */
export const MAX_CHANGES_PER_BATCH = 1024;

export class GroupCommitter {
  private queue: Pending[] = [];
  private writing = false;
  private closed = false;
  readonly stats: GroupCommitStats = { batches: 0, changes: 0, maxChangesInBatch: 0 };
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly db: Database,
    private auditSink: AuditSink | undefined = undefined,
    private readonly now: () => number = Date.now,
  ) {}

  setAuditSink(sink: AuditSink): void {
    this.auditSink = sink;
  }

  /** Resolves once `change` is durable on disk, together with its audit records. */
  commit(change: Change): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the database is closing; the change was not applied'));
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
      const events: AuditEvent[] = [];
      for (const { change } of group) {
        ops.push(...change.ops);
        if (change.events) events.push(...change.events);
      }
      let auditPrepared = false;
      try {
        if (events.length > 0 && this.auditSink) {
          ops.push(...this.auditSink.prepare(events, this.now()));
          auditPrepared = true;
        }
        await this.db.writeDurably(ops);
        if (auditPrepared) this.auditSink!.committed();
        this.stats.batches++;
        this.stats.changes += group.length;
        this.stats.maxChangesInBatch = Math.max(this.stats.maxChangesInBatch, group.length);
        for (const pending of group) pending.resolve();
      } catch (error) {
        if (auditPrepared) this.auditSink!.failed();
        const failure = error instanceof Error ? error : new Error(String(error));
        for (const pending of group) pending.reject(failure);
      }
    }
    this.writing = false;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
