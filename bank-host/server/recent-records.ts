// Records this host wrote lately, kept for lock hints only. A handler that learns its locks from a record
// (a withdrawal's completion from its hold, a deposit's commit from the deposit) can name them before it runs
// when this host wrote that record: a kiosk usually settles at the host that authorized. What a hint names
// from here is the record's identity (its account, its kiosk, its daily totals), which never changes; the
// handler still reads the record under its lock and locks anything the hint missed, so a record another host
// changed, or one this host never saw, costs a round trip, never a wrong answer.
import type { BatchOp } from '../store/database.js';

/** Records remembered at most; past it the oldest is forgotten (a settlement follows its authorization
 *  within minutes). */
export const RECENT_RECORDS_MAX = 10_000;

export class RecentRecords {
  private readonly records = new Map<string, unknown>();

  constructor(
    /** Key prefixes of the records worth remembering. */
    private readonly prefixes: readonly string[],
    private readonly max = RECENT_RECORDS_MAX,
  ) {}

  /** Takes in the records a durable change wrote (and forgets those it deleted). */
  remember(ops: readonly BatchOp[]): void {
    if (this.prefixes.length === 0) return;
    for (const op of ops) {
      if (!this.prefixes.some((prefix) => op.key.startsWith(prefix))) continue;
      this.records.delete(op.key);
      if (op.type === 'del') continue;
      this.records.set(op.key, op.value);
      if (this.records.size > this.max) this.records.delete(this.records.keys().next().value!);
    }
  }

  /** The record at `key` as this host last wrote it, if it did lately: for naming locks, never for reading. */
  recall<T>(key: string): T | undefined {
    return this.records.get(key) as T | undefined;
  }

  get size(): number {
    return this.records.size;
  }
}
