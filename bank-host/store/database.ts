// The bank host's one LevelDB database. Keys are strings in named namespaces (see `keys.ts`); values are
// JSON documents. LevelDB admits one process per database, so everything that changes state goes through
// the running host (or, when it is stopped, through a CLI that opens the database itself).
import { Level } from 'level';
import { mkdir } from 'node:fs/promises';

export type BatchOp =
  | { readonly type: 'put'; readonly key: string; readonly value: unknown }
  | { readonly type: 'del'; readonly key: string };

type AbstractBatch = Array<{ type: 'put'; key: string; value: unknown } | { type: 'del'; key: string }>;

export class DatabaseLockedError extends Error {
  readonly code = 'DATABASE_LOCKED';
  constructor(readonly location: string) {
    super(
      `the database at ${location} is in use by another process (is \`bank-host serve\` running? ` +
        'then pass --admin-socket so the command goes through it)',
    );
  }
}

export class Database {
  private constructor(
    readonly location: string,
    readonly level: Level<string, unknown>,
  ) {}

  static async open(location: string): Promise<Database> {
    await mkdir(location, { recursive: true, mode: 0o700 });
    const level = new Level<string, unknown>(location, { keyEncoding: 'utf8', valueEncoding: 'json' });
    try {
      await level.open({ createIfMissing: true, errorIfExists: false });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      if (cause?.code === 'LEVEL_LOCKED' || /lock/i.test(cause?.message ?? '')) throw new DatabaseLockedError(location);
      throw error;
    }
    return new Database(location, level);
  }

  async get<T>(key: string): Promise<T | undefined> {
    const value = await this.level.get(key);
    return value === undefined ? undefined : (value as T);
  }

  async getMany<T>(keys: readonly string[]): Promise<(T | undefined)[]> {
    if (keys.length === 0) return [];
    return (await this.level.getMany(keys as string[])) as (T | undefined)[];
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

  /** Writes the batch atomically and waits until it is on disk. The only way state changes. */
  async writeDurably(ops: readonly BatchOp[]): Promise<void> {
    if (ops.length === 0) return;
    // `sync: true` is the durability promise: the batch is on disk before we answer anyone.
    await this.level.batch(ops as unknown as AbstractBatch, { sync: true });
  }

  async close(): Promise<void> {
    await this.level.close();
  }
}
