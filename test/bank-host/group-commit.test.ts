// Group commit on a real LevelDB: changes that arrive together share one synced batch, nobody is answered
// before the batch holding their change is on disk, and a failed batch fails every change in it.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Database } from '../../bank-host/store/database.js';
import { GroupCommitter, MAX_CHANGES_PER_BATCH } from '../../bank-host/store/group-commit.js';
import { eventually } from '../helpers/host.js';

interface BatchCall {
  readonly ops: number;
  readonly sync: unknown;
  finish(): void;
  fail(error: Error): void;
}

/** A database whose LevelDB batches wait for the test to let them finish (the disk write itself is real). */
async function controlledDatabase(t: { teardown: (fn: () => Promise<void>) => void }): Promise<{ db: Database; calls: BatchCall[] }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'group-commit-'));
  const db = await Database.open(path.join(dir, 'db'));
  t.teardown(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });
  const calls: BatchCall[] = [];
  // The database writes each batch through LevelDB's public chained batch: its write() waits here.
  const level = db.level;
  const realBatch = level.batch.bind(level) as () => ReturnType<typeof level.batch>;
  level.batch = (() => {
    const batch = realBatch();
    const write = batch.write.bind(batch) as (options?: { sync?: boolean }) => Promise<void>;
    batch.write = ((options?: { sync?: boolean }) =>
      new Promise<void>((resolve, reject) => {
        calls.push({
          ops: batch.length,
          sync: options?.sync,
          finish: () => void write(options).then(resolve, reject),
          fail: (error) => {
            void batch.close();
            reject(error);
          },
        });
      })) as typeof batch.write;
    return batch;
  }) as typeof level.batch;
  return { db, calls };
}

const put = (key: string, value: unknown) => ({ ops: [{ type: 'put' as const, key, value }] });
const settled = async (promise: Promise<unknown>) => {
  let state = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return state;
};

test('changes that arrive while a batch is syncing share the next synced batch', async (t) => {
  const { db, calls } = await controlledDatabase(t);
  const committer = new GroupCommitter(db);
  const first = committer.commit(put('acct:first', 1));
  const rest = Array.from({ length: 50 }, (_, i) => committer.commit(put(`acct:k${i}`, i)));
  t.is(calls.length, 1, 'one batch is being written');
  calls[0]!.finish();
  await first;
  t.is(calls.length, 2, 'everything that queued meanwhile went into one batch');
  t.is(calls[1]!.ops, 50);
  calls[1]!.finish();
  await Promise.all(rest);
  t.deepEqual(calls.map((c) => c.sync), [true, true], 'every batch is written with sync: true');
  t.like(committer.stats, { batches: 2, changes: 51, maxChangesInBatch: 50 });
  t.is(await db.get('acct:k49'), 49);
});

test('no change is acknowledged before its batch is durable', async (t) => {
  const { db, calls } = await controlledDatabase(t);
  const committer = new GroupCommitter(db);
  const change = committer.commit(put('acct:a', 'value'));
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(await settled(change), 'pending', 'still waiting for the disk');
  calls[0]!.finish();
  await change;
  // A fresh handle on the same folder would see it: read around the write-through cache.
  t.is(await db.level.get('acct:a'), 'value');
});

test('a failed batch fails every change in it, forgets them, and the next batch still works', async (t) => {
  const { db, calls } = await controlledDatabase(t);
  const committer = new GroupCommitter(db);
  const blocker = committer.commit(put('acct:blocker', 0));
  const doomed = [committer.commit(put('acct:x', 1)), committer.commit(put('acct:y', 2))];
  calls[0]!.finish();
  await blocker;
  t.is(calls.length, 2);
  calls[1]!.fail(new Error('No space left on device'));
  for (const change of doomed) await t.throwsAsync(change, { message: /No space left/ });
  t.is(await db.get('acct:x'), undefined, 'nothing of the failed batch is visible');
  const after = committer.commit(put('acct:z', 3));
  t.true(await eventually(() => calls.length === 3));
  calls[2]!.finish();
  await after;
  t.is(await db.get('acct:z'), 3);
});

test('one synced batch carries at most MAX_CHANGES_PER_BATCH changes', async (t) => {
  const { db, calls } = await controlledDatabase(t);
  const committer = new GroupCommitter(db);
  const first = committer.commit(put('acct:first', 0));
  const many = Array.from({ length: MAX_CHANGES_PER_BATCH + 10 }, (_, i) => committer.commit(put(`acct:m${i}`, i)));
  calls[0]!.finish();
  await first;
  t.is(calls[1]!.ops, MAX_CHANGES_PER_BATCH);
  calls[1]!.finish();
  t.true(await eventually(() => calls.length === 3));
  calls[2]!.finish();
  await Promise.all(many);
  t.is(calls[2]!.ops, 10);
});

test('a committer that is closing refuses new changes and lands the queued ones', async (t) => {
  const { db, calls } = await controlledDatabase(t);
  const committer = new GroupCommitter(db);
  const queued = committer.commit(put('acct:queued', 1));
  const closing = committer.close();
  await t.throwsAsync(committer.commit(put('acct:late', 2)), { message: /closing/ });
  calls[0]!.finish();
  await queued;
  await closing;
  t.is(await db.get('acct:queued'), 1);
});

test('a guarded change is refused on LevelDB, and nothing of it is written', async (t) => {
  const { db, calls } = await controlledDatabase(t);
  const committer = new GroupCommitter(db);
  await t.throwsAsync(committer.commit({ ...put('acct:guarded', 1), guard: { key: 'dev:kiosk-1', holds: { status: 'active' } } }), { instanceOf: TypeError, message: /shared by several hosts/ });
  t.is(calls.length, 0);
  t.is(await db.get('acct:guarded'), undefined);
});
