// The presence filter that lets the database answer most lookups of new request ids without a LevelDB read:
// it must never hide a key that exists — after a restart, while it is rebuilt, or while a batch holding the
// key is still being written — and it must actually spare the reads it is there to spare.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Database } from '../../bank-host/store/database.js';
import { PresenceFilter } from '../../bank-host/store/presence-filter.js';

const idemKey = () => `idem:kiosk-1:${randomBytes(16).toString('hex')}`;

async function tempDir(t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'presence-filter-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return path.join(dir, 'db');
}

/** Counts the LevelDB reads the database makes. */
function countReads(db: Database): { count: number } {
  const counter = { count: 0 };
  const level = db.level as unknown as { get: (...args: unknown[]) => Promise<unknown> };
  const realGet = level.get.bind(level);
  level.get = (...args) => {
    counter.count++;
    return realGet(...args);
  };
  return counter;
}

test('a filter says maybe for every key added, and certainly-absent for nearly every other key at capacity', (t) => {
  const filter = new PresenceFilter(20_000);
  const added = Array.from({ length: 20_000 }, idemKey);
  for (const key of added) filter.add(key);
  t.true(added.every((key) => filter.mightContain(key)));
  const falseMaybes = Array.from({ length: 20_000 }, idemKey).filter((key) => filter.mightContain(key)).length;
  t.true(falseMaybes < 20_000 * 0.03, `${falseMaybes} false "maybe" answers of 20,000`);
  t.false(filter.saturated);
  filter.add(idemKey());
  t.true(filter.saturated, 'one key past capacity');
});

test('idempotency keys written before a restart are found after it, and lookups of new ids skip LevelDB', async (t) => {
  const location = await tempDir(t);
  const first = await Database.open(location);
  const written = Array.from({ length: 200 }, idemKey);
  await first.writeDurably(written.map((key, i) => ({ type: 'put' as const, key, value: { n: i } })));
  await first.close();

  const db = await Database.open(location);
  t.teardown(() => db.close());
  t.true(await db.presenceFilterSettled(), 'the filter was built from the keys on disk');
  const reads = countReads(db);
  for (const [i, key] of written.entries()) t.deepEqual(await db.get(key), { n: i });
  t.is(reads.count, written.length, 'each existing key was read from disk');
  reads.count = 0;
  for (let i = 0; i < 1_000; i++) t.is(await db.get(idemKey()), undefined);
  t.true(reads.count < 30, `${reads.count} of 1,000 lookups of new ids read LevelDB`);
  // Other namespaces are not filtered.
  t.is(await db.get('post:acc_0000000000000000:000000000001'), undefined);
  t.is(reads.count >= 1, true);
});

test('a filter past its capacity is rebuilt from disk without ever hiding a key', async (t) => {
  const db = await Database.open(await tempDir(t), { presenceFilterMinCapacity: 16 });
  t.teardown(() => db.close());
  await db.presenceFilterSettled();
  const written: string[] = [];
  for (let batch = 0; batch < 40; batch++) {
    const keys = Array.from({ length: 10 }, idemKey);
    written.push(...keys);
    await db.writeDurably(keys.map((key) => ({ type: 'put' as const, key, value: 1 })));
    // Look every key up while rebuilds come and go.
    for (const key of written) if ((await db.get(key)) !== 1) t.fail(`${key} was hidden after batch ${batch}`);
  }
  await db.presenceFilterSettled();
  for (const key of written) t.is(await db.get(key), 1);
  const reads = countReads(db);
  for (let i = 0; i < 500; i++) await db.get(idemKey());
  t.true(reads.count < 50, `the rebuilt filter is sized for what it found: ${reads.count} of 500 new ids read LevelDB`);
});

test('a key whose batch is still being written when a rebuild starts is in the rebuilt filter', async (t) => {
  const db = await Database.open(await tempDir(t), { presenceFilterMinCapacity: 4 });
  t.teardown(() => db.close());
  await db.presenceFilterSettled();
  // Hold the first batch's write back (through LevelDB's public chained batch) until a rebuild has scanned
  // the disk without it.
  const level = db.level;
  const realBatch = level.batch.bind(level) as () => ReturnType<typeof level.batch>;
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let holdNext = true;
  level.batch = (() => {
    const batch = realBatch();
    if (holdNext) {
      holdNext = false;
      const write = batch.write.bind(batch) as (options?: { sync?: boolean }) => Promise<void>;
      batch.write = (async (options?: { sync?: boolean }) => {
        await held;
        return write(options);
      }) as typeof batch.write;
    }
    return batch;
  }) as typeof level.batch;
  const slowKey = idemKey();
  const slow = db.writeDurably([{ type: 'put', key: slowKey, value: 'slow' }]);
  // These saturate the filter, so a rebuild starts and scans while the slow batch is still unwritten.
  await db.writeDurably(Array.from({ length: 8 }, () => ({ type: 'put' as const, key: idemKey(), value: 1 })));
  await db.presenceFilterSettled();
  release();
  await slow;
  await db.presenceFilterSettled();
  t.is(await db.get(slowKey), 'slow');
});
