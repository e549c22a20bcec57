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

/** Counts the LevelDB reads the database makes from now on; `reads()` gives the count since the last call,
 *  so each check counts only the lookups it makes. */
function countReads(db: Database): { reads(): number } {
  let count = 0;
  const level = db.level as unknown as { get: (...args: unknown[]) => Promise<unknown> };
  const realGet = level.get.bind(level);
  level.get = (...args) => {
    count++;
    return realGet(...args);
  };
  return {
    reads() {
      const since = count;
      count = 0;
      return since;
    },
  };
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
  t.like(db.presenceFilterStats, { builds: 1, keys: written.length });
  const counter = countReads(db);
  for (const [i, key] of written.entries()) t.deepEqual(await db.get(key), { n: i });
  t.is(counter.reads(), written.length, 'each existing key was read from disk');
  for (let i = 0; i < 1_000; i++) t.is(await db.get(idemKey()), undefined);
  const newIdReads = counter.reads();
  t.true(newIdReads < 30, `${newIdReads} of 1,000 lookups of new ids read LevelDB`);
  // Other namespaces are not filtered: a lookup of an absent posting reads LevelDB.
  t.is(await db.get('post:acc_0000000000000000:000000000001'), undefined);
  t.is(counter.reads(), 1);
});

test('a filter past its capacity is rebuilt from disk without ever hiding a key', async (t) => {
  const db = await Database.open(await tempDir(t), { presenceFilterMinCapacity: 16 });
  t.teardown(() => db.close());
  await db.presenceFilterSettled();
  t.like(db.presenceFilterStats, { builds: 1, capacity: 16, keys: 0 });
  const written: string[] = [];
  for (let batch = 0; batch < 40; batch++) {
    const keys = Array.from({ length: 10 }, idemKey);
    written.push(...keys);
    await db.writeDurably(keys.map((key) => ({ type: 'put' as const, key, value: 1 })));
    // Look every key up while rebuilds come and go.
    for (const key of written) if ((await db.get(key)) !== 1) t.fail(`${key} was hidden after batch ${batch}`);
  }
  await db.presenceFilterSettled();
  // 400 keys through a filter made for 16: rebuilt, each time with room for twice the keys it found.
  const { builds, capacity, keys } = db.presenceFilterStats;
  t.true(builds > 1, `the filter was rebuilt (${builds} filters since open)`);
  t.is(keys, written.length, 'the filter in use holds every key written');
  t.true(capacity >= written.length, `the rebuilt filter has room for ${capacity} keys`);
  for (const key of written) t.is(await db.get(key), 1);
  const counter = countReads(db);
  for (let i = 0; i < 500; i++) await db.get(idemKey());
  const newIdReads = counter.reads();
  t.true(newIdReads < 50, `the rebuilt filter is sized for what it found: ${newIdReads} of 500 new ids read LevelDB`);
});

test('a key whose batch is still being written when a rebuild starts is in the rebuilt filter', async (t) => {
  const db = await Database.open(await tempDir(t), { presenceFilterMinCapacity: 4 });
  t.teardown(() => db.close());
  await db.presenceFilterSettled();
  t.is(db.presenceFilterStats.builds, 1);
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
  t.is(db.presenceFilterStats.builds, 2, 'a rebuild ran while the slow batch was held');
  t.is(await level.get(slowKey), undefined, 'the slow batch was not on disk when the rebuild scanned it');
  release();
  await slow;
  await db.presenceFilterSettled();
  t.is(db.presenceFilterStats.builds, 2, 'the filter in use is the one rebuilt while the batch was held');
  const counter = countReads(db);
  t.is(await db.get(slowKey), 'slow');
  t.is(counter.reads(), 1, 'the rebuilt filter said "maybe" for the key, so it was read');
});
