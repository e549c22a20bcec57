// The bank host's one LevelDB database. Keys are strings in named namespaces (see `keys.ts`); values are
// JSON documents. LevelDB admits one process per database, so everything that changes state goes through
// the running host (or, when it is stopped, through a CLI that opens the database itself).
import { Level } from 'level';
import { mkdir } from 'node:fs/promises';
import { DatabaseLockedError } from '../errors.js';
import type { EntriesOptions, KeyValueStore } from './host-store.js';
import { PresenceFilter } from './presence-filter.js';

import type { BatchOp } from './host-store.js';
export type { BatchOp };

/** The one options object of every raw-bytes put: the other puts take the database's JSON encoding and no
 *  options at all, which keeps abstract-level's per-operation work small (docs/ledger.md, "Performance"). */
const BUFFER_VALUE = { valueEncoding: 'buffer' } as const;

/** Refuses a value the database would store wrongly or not at all, naming the key. */
function checkValue(op: BatchOp): void {
  if (op.type === 'del') return;
  if (op.valueEncoding === 'buffer') {
    if (!Buffer.isBuffer(op.value)) throw new TypeError(`the value of ${op.key} must be a Buffer`);
  } else if (op.value === undefined || op.value === null) {
    throw new TypeError(`the value of ${op.key} cannot be ${String(op.value)}`);
  }
}

/** Small, hot records that every money operation reads: kept in a write-through cache. Large or
 *  append-only namespaces (postings, idempotency records, audit records) are always read from disk. */
const CACHED_PREFIXES = ['acct:', 'cust:', 'card:', 'user:', 'dev:', 'devstat:', 'hold:', 'wdday:', 'dep:', 'depday:', 'dhold:'] as const;
/** Bound on cached records; past it the oldest tenth is dropped. */
export const READ_CACHE_MAX_ENTRIES = 200_000;

function isCached(key: string): boolean {
  for (const prefix of CACHED_PREFIXES) if (key.startsWith(prefix)) return true;
  return false;
}

/** Namespaces looked up on every request that almost never hold the key asked for: each request's
 *  idempotency record is looked up before it runs, and nearly every request is new. A presence filter
 *  (a Bloom filter of the namespace's keys, built from disk at open and fed every write) answers those
 *  lookups without a LevelDB read; a read costs the event loop tens of microseconds under load. */
const PRESENCE_FILTERED_PREFIXES = ['idem:'] as const;
/** The filter's smallest capacity in keys (2.5 MiB of bits). A filter is rebuilt from disk with room for
 *  twice the keys it finds once more keys than its capacity have been added to it. */
export const PRESENCE_FILTER_MIN_CAPACITY = 1 << 21;
/** Keys read per step while building a filter. */
const PRESENCE_SCAN_STEP = 1_000;

function isPresenceFiltered(key: string): boolean {
  for (const prefix of PRESENCE_FILTERED_PREFIXES) if (key.startsWith(prefix)) return true;
  return false;
}

export interface DatabaseOptions {
  /** Tests use a small capacity to exercise rebuilding. */
  readonly presenceFilterMinCapacity?: number;
}

export class Database implements KeyValueStore {
  // The host is the only process with the database open, and every write goes through `writeDurably`,
  // so a cache updated after each durable write is exact. Values are frozen: a caller that tried to
  // change a record in place (instead of writing a new one) would corrupt the cache, so it throws.
  private readonly cache = new Map<string, unknown>();
  // Counts writes; a read that raced a write does not fill the cache, so it can never hold a stale value.
  private writeGeneration = 0;

  // The presence filter of PRESENCE_FILTERED_PREFIXES. Until the first one is built, lookups read the disk.
  // Correctness rests on one rule: every key written is added to the filter in use and to the one being
  // built (if any) before its batch is written, and a filter being built starts from the keys of batches
  // still in flight, so no key that exists can be missing from the filter that replaces it.
  private presence: PresenceFilter | undefined;
  private presenceBuilding: PresenceFilter | undefined;
  private presenceBuild: Promise<void> | undefined;
  /** Filtered keys of batches being written, with how many such batches carry each. */
  private readonly presenceInFlight = new Map<string, number>();
  /** Filters put in use since the database opened. */
  private presenceBuilds = 0;

  private constructor(
    readonly location: string,
    readonly level: Level<string, unknown>,
    private readonly presenceMinCapacity: number,
  ) {}

  static async open(location: string, options: DatabaseOptions = {}): Promise<Database> {
    await mkdir(location, { recursive: true, mode: 0o700 });
    const level = new Level<string, unknown>(location, { keyEncoding: 'utf8', valueEncoding: 'json' });
    try {
      await level.open({ createIfMissing: true, errorIfExists: false });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      if (cause?.code === 'LEVEL_LOCKED' || /lock/i.test(cause?.message ?? '')) throw new DatabaseLockedError(location);
      throw error;
    }
    const db = new Database(location, level, options.presenceFilterMinCapacity ?? PRESENCE_FILTER_MIN_CAPACITY);
    db.buildPresenceFilter();
    return db;
  }

  /** Resolves when no presence filter is being built (tests wait for the first one). */
  async presenceFilterSettled(): Promise<boolean> {
    await this.presenceBuild;
    return this.presence !== undefined;
  }

  /** The presence filter in use: how many filters have been put in use since the database opened (the
   *  first is built at open, each later one is a rebuild), and the capacity and keys of the current one
   *  (0 and 0 while there is none). */
  get presenceFilterStats(): { readonly builds: number; readonly capacity: number; readonly keys: number } {
    return { builds: this.presenceBuilds, capacity: this.presence?.capacity ?? 0, keys: this.presence?.added ?? 0 };
  }

  async get<T>(key: string): Promise<T | undefined> {
    if (this.presence !== undefined && isPresenceFiltered(key) && !this.presence.mightContain(key)) return undefined;
    const cacheable = isCached(key);
    if (cacheable && this.cache.has(key)) return this.cache.get(key) as T | undefined;
    const generation = this.writeGeneration;
    const value = await this.level.get(key);
    if (cacheable && generation === this.writeGeneration) this.remember(key, value);
    return value === undefined ? undefined : (value as T);
  }

  async getMany<T>(keys: readonly string[]): Promise<(T | undefined)[]> {
    if (keys.length === 0) return [];
    return Promise.all(keys.map((key) => this.get<T>(key)));
  }

  private remember(key: string, value: unknown): void {
    if (this.cache.size >= READ_CACHE_MAX_ENTRIES) {
      let drop = Math.ceil(READ_CACHE_MAX_ENTRIES / 10);
      for (const oldest of this.cache.keys()) {
        this.cache.delete(oldest);
        if (--drop === 0) break;
      }
    }
    this.cache.set(key, value !== null && typeof value === 'object' ? Object.freeze(value) : value);
  }

  /** Every entry whose key starts with `prefix`, in key order (or reverse), bounded by `limit`. */
  async *entries<T>(
    prefix: string,
    options: { reverse?: boolean; limit?: number; gte?: string; lte?: string } = {},
  ): AsyncGenerator<[string, T]> {
    const iterator = this.level.iterator({
      gte: options.gte ?? prefix,
      lte: options.lte ?? prefix + '\xff',
      reverse: options.reverse ?? false,
      limit: options.limit ?? -1,
    });
    try {
      for await (const [key, value] of iterator) yield [key, value as T];
    } finally {
      await iterator.close();
    }
  }

  async getBuffers(keys: readonly string[]): Promise<(Buffer | undefined)[]> {
    if (keys.length === 0) return [];
    return this.level.getMany<string, Buffer>([...keys], { valueEncoding: 'buffer' });
  }

  async *bufferEntries(prefix: string, options: EntriesOptions = {}): AsyncGenerator<[string, Buffer]> {
    const iterator = this.level.iterator<string, Buffer>({
      gte: options.gte ?? prefix,
      lte: options.lte ?? prefix + '\xff',
      reverse: options.reverse ?? false,
      limit: options.limit ?? -1,
      keyEncoding: 'utf8',
      valueEncoding: 'buffer',
    });
    try {
      for await (const entry of iterator) yield entry;
    } finally {
      await iterator.close();
    }
  }

  /** Writes the batch atomically and waits until it is on disk. The only way state changes. */
  async writeDurably(ops: readonly BatchOp[]): Promise<void> {
    if (ops.length === 0) return;
    for (const op of ops) checkValue(op);
    if (this.level.status !== 'open') throw new Error(`the database at ${this.location} is ${this.level.status}`);
    const filteredKeys: string[] = [];
    for (const op of ops) {
      if (op.type !== 'put' || !isPresenceFiltered(op.key)) continue;
      filteredKeys.push(op.key);
      this.presence?.add(op.key);
      this.presenceBuilding?.add(op.key);
      this.presenceInFlight.set(op.key, (this.presenceInFlight.get(op.key) ?? 0) + 1);
    }
    // `sync: true` is the durability promise: the batch is on disk before we answer anyone.
    this.writeGeneration++;
    try {
      // A chained batch: one atomic LevelDB write, as fast as handing pre-encoded operations to the private
      // batch API (the array form of `batch()` copies every operation and costs the event loop three times
      // as much; measured side by side in docs/ledger.md, "Performance").
      const batch = this.level.batch();
      try {
        for (const op of ops) {
          if (op.type === 'del') batch.del(op.key);
          else if (op.valueEncoding === 'buffer') batch.put(op.key, op.value, BUFFER_VALUE);
          else batch.put(op.key, op.value);
        }
      } catch (error) {
        await batch.close();
        throw error;
      }
      await batch.write({ sync: true });
    } catch (error) {
      // The batch may or may not have reached the disk; forget what the cache knows of its keys. (Its keys
      // stay in the presence filter: a "maybe" for a key that is not there costs only a read.)
      for (const op of ops) this.cache.delete(op.key);
      throw error;
    } finally {
      this.writeGeneration++;
      for (const key of filteredKeys) {
        const left = this.presenceInFlight.get(key)! - 1;
        if (left === 0) this.presenceInFlight.delete(key);
        else this.presenceInFlight.set(key, left);
      }
    }
    if (this.presence?.saturated) this.buildPresenceFilter();
    for (const op of ops) {
      if (!isCached(op.key)) continue;
      if (op.type === 'put') this.remember(op.key, op.value);
      else this.remember(op.key, undefined);
    }
  }

  /** Builds a presence filter from the keys on disk, in the background, and puts it in use when done
   *  (keys written meanwhile are added to it as well). A filter that turns out too small for what it found
   *  is built again with room for twice as many keys. */
  private buildPresenceFilter(): void {
    if (this.presenceBuild !== undefined) return;
    this.presenceBuild = this.scanPresence()
      .catch(() => {
        // The database closed under the scan (or a read failed): the filter in use, or none (every lookup
        // reads the disk), stays correct; the next saturated write tries again.
      })
      .finally(() => {
        this.presenceBuild = undefined;
      });
  }

  private async scanPresence(): Promise<void> {
    let capacity = Math.max(this.presenceMinCapacity, 2 * (this.presence?.added ?? 0));
    for (;;) {
      const next = new PresenceFilter(capacity);
      // Batches in flight may land after the scan's snapshot: their keys are in `next` from the start.
      for (const key of this.presenceInFlight.keys()) next.add(key);
      this.presenceBuilding = next;
      try {
        for (const prefix of PRESENCE_FILTERED_PREFIXES) {
          const iterator = this.level.keys({ gte: prefix, lte: prefix + '\xff' });
          try {
            for (;;) {
              const keys = await iterator.nextv(PRESENCE_SCAN_STEP);
              if (keys.length === 0) break;
              for (const key of keys) next.add(key);
            }
          } finally {
            await iterator.close();
          }
        }
      } finally {
        this.presenceBuilding = undefined;
      }
      if (!next.saturated) {
        this.presence = next;
        this.presenceBuilds++;
        return;
      }
      capacity = 2 * next.added;
    }
  }

  /** Compacts every key: LevelDB rewrites its files without the values deleted or overwritten since (a
   *  migration that removed data from the store calls it so the data leaves the disk too). */
  async compactAll(): Promise<void> {
    // `level` is classic-level in Node, whose compactRange its browser-neutral type does not declare.
    const level = this.level as unknown as { compactRange(start: string, end: string): Promise<void> };
    // Every key of the host is ASCII, so the range from NUL to U+FFFF holds them all.
    await level.compactRange('\x00', '\uffff');
  }

  async close(): Promise<void> {
    await this.level.close();
    await this.presenceBuild;
  }
}
