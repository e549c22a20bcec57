// The group commit on a lane (store/postgres/commit-group.ts), on the run's real Patroni cluster: units
// that wait for a lane share one COMMIT, and none is acknowledged before it; a unit of a group that fails
// rolls back only its own work; a joining unit whose lock is taken lets its group commit and then waits on
// its own; a connection lost under a group acknowledges nothing of it; the setting's bounds.
import '../helpers/use-postgres.js';
import test from 'ava';
import pg from 'pg';
import { CommitGuardError } from '../../bank-host/store/host-store.js';
import { PostgresStore, PostgresStoreError, type PostgresStoreOptions } from '../../bank-host/store/postgres/index.js';
import type { BatchOp } from '../../bank-host/store/database.js';
import { PostgresLocks } from '../../bank-host/store/postgres/host-units.js';
import { KV_TABLE } from '../../bank-host/store/postgres/schema.js';
import type { RequestScopeOptions } from '../../bank-host/store/host-store.js';
import { createHarness } from '../helpers/dispatcher-harness.js';
import { CLUSTER_START_TIMEOUT_MS } from '../helpers/postgres-cluster.js';
import { primaryClient, sharedCluster, stopSharedCluster, type SharedCluster } from '../helpers/store-backend.js';

let cluster: SharedCluster;
let databases = 0;

test.before(async (t) => {
  t.timeout(CLUSTER_START_TIMEOUT_MS + 30_000);
  cluster = await sharedCluster();
});

test.after.always(() => stopSharedCluster());

const put = (key: string, value: unknown): BatchOp => ({ type: 'put', key, value });

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Waits (bounded: a generous bound on behaviour, not a measurement) until `ready` holds. */
async function until(what: string, ready: () => boolean, boundMs = 30_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`not within ${boundMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function openStore(t: { teardown: (fn: () => Promise<void>) => void }, database: string, options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> {
  const store = await PostgresStore.open({
    addresses: cluster.addresses,
    user: cluster.app.user,
    password: cluster.app.password,
    database,
    hostId: 'group-host',
    // Bounds for a loaded machine; the tests' own waits are shorter than these.
    connectTimeoutMs: 10_000,
    lockTimeoutMs: 20_000,
    queryTimeoutMs: 40_000,
    acquireTimeoutMs: 40_000,
    ...options,
  });
  t.teardown(() => store.close());
  return store;
}

/** A connection of its own, outside the store: what any other session (another host) sees. */
async function outside(t: { teardown: (fn: () => Promise<void>) => void }, database: string, superuser = false): Promise<pg.Client> {
  const client = await primaryClient(cluster, superuser ? cluster.superuser : cluster.app, database);
  t.teardown(() => client.end());
  return client;
}

async function visible(client: pg.Client, keys: readonly string[]): Promise<string[]> {
  const { rows } = await client.query<{ k: string }>(`SELECT k FROM ${KV_TABLE} WHERE k = ANY($1::text[]) ORDER BY k`, [keys]);
  return rows.map((row) => row.k);
}

/** Starts `first` on the store's one lane and, once `others` wait for that lane, lets it go on. */
async function withQueue(store: PostgresStore, first: (go: Promise<void>) => Promise<unknown>, others: readonly (() => Promise<unknown>)[]): Promise<PromiseSettledResult<unknown>[]> {
  const go = deferred();
  const all = [first(go.promise)];
  await until('the first unit holds the lane', () => store.connections.busy === 1);
  for (const other of others) all.push(other());
  await until(`${others.length} units wait for the lane`, () => store.connections.waiting === others.length);
  go.resolve();
  return Promise.allSettled(all);
}

test.serial('units that wait for a lane share one COMMIT, and none is acknowledged before it', async (t) => {
  const database = (await cluster.createDatabase(`group_${++databases}`)).database;
  const store = await openStore(t, database, { poolSize: 1 });
  const other = await outside(t, database);
  const events: string[] = [];
  const seenByOthers: Record<string, string[]> = {};
  const unit = (key: string) => () =>
    store.unitOfWork([key], async () => {
      events.push(`${key} began`);
      // What another session sees while this unit runs: the units staged before it are not committed yet.
      seenByOthers[key] = await visible(other, ['a', 'b', 'c', 'd']);
      await store.commit([put(key, key)]);
      events.push(`${key} acknowledged`);
    });
  const results = await withQueue(
    store,
    (go) =>
      store.unitOfWork(['a'], async () => {
        await go;
        await store.commit([put('a', 'a')]);
        events.push('a acknowledged');
      }),
    [unit('b'), unit('c'), unit('d')],
  );
  t.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'],
  );
  t.deepEqual(seenByOthers, { b: [], c: [], d: [] }, 'no unit of the group was visible to others before its COMMIT');
  for (const key of ['a', 'b', 'c']) t.true(events.indexOf(`${key} acknowledged`) > events.indexOf('d began'), `${key} was acknowledged only after the last unit ran, with its COMMIT`);
  t.deepEqual(await visible(other, ['a', 'b', 'c', 'd']), ['a', 'b', 'c', 'd']);
  t.like(store.stats, { groupCommits: 1, unitsGrouped: 3, unitsCommitted: 4, groupLocksNotFree: 0 });

  // Off (one unit per transaction): the same queue commits one by one.
  const alone = await openStore(t, database, { poolSize: 1, groupCommitUnits: 1, hostId: 'group-off' });
  await withQueue(alone, async (go) => alone.unitOfWork(['e'], async () => (await go, alone.commit([put('e', 1)]))), [
    () => alone.unitOfWork(['f'], () => alone.commit([put('f', 1)])),
    () => alone.unitOfWork(['g'], () => alone.commit([put('g', 1)])),
  ]);
  t.like(alone.stats, { groupCommits: 0, unitsGrouped: 0, unitsCommitted: 3 });
  t.deepEqual(await visible(other, ['e', 'f', 'g']), ['e', 'f', 'g']);
});

test.serial('a unit of a group that fails, or whose guard fails, rolls back only its own work', async (t) => {
  const database = (await cluster.createDatabase(`group_${++databases}`)).database;
  const store = await openStore(t, database, { poolSize: 1 });
  const other = await outside(t, database);
  await store.commit([put('dev:k1', { keyVersion: 1 })]);
  const results = await withQueue(
    store,
    (go) => store.unitOfWork(['a'], async () => (await go, store.commit([put('a', 1)]))),
    [
      () =>
        store.unitOfWork(['b'], async (unit) => {
          await unit.write([put('b', 1)]);
          throw new Error('the work of b failed');
        }),
      () => store.unitOfWork(['c'], () => store.commit([put('c', 1)], { key: 'dev:k1', holds: { keyVersion: 2 } })),
      () => store.unitOfWork(['d'], () => store.commit([put('d', 1)])),
    ],
  );
  t.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'rejected', 'fulfilled'],
  );
  t.regex(String((results[1] as PromiseRejectedResult).reason), /the work of b failed/, 'the work’s own error passes through');
  t.true((results[2] as PromiseRejectedResult).reason instanceof CommitGuardError);
  t.deepEqual(await visible(other, ['a', 'b', 'c', 'd']), ['a', 'd'], 'b and c rolled back to their savepoints; a and d committed');
  t.is(store.stats.groupCommits, 1);
  // The lane is whole again: a unit on it commits on its own.
  await store.unitOfWork(['e'], () => store.commit([put('e', 1)]));
  t.deepEqual(await visible(other, ['e']), ['e']);
});

test.serial('a unit joining a group whose lock another transaction holds lets the group commit, then waits for its lock on its own', async (t) => {
  const database = (await cluster.createDatabase(`group_${++databases}`)).database;
  const store = await openStore(t, database, { poolSize: 1 });
  const elsewhere = await openStore(t, database, { hostId: 'other-host' });
  const other = await outside(t, database);
  const release = deferred();
  const held = deferred();
  const holder = elsewhere.unitOfWork(['x'], async () => {
    held.resolve();
    await release.promise;
    await elsewhere.commit([put('x', 'first')]);
  });
  await held.promise;
  let aAcknowledged = false;
  const settled = withQueue(
    store,
    (go) =>
      store.unitOfWork(['a'], async () => {
        await go;
        await store.commit([put('a', 1)]);
        aAcknowledged = true;
      }),
    [() => store.unitOfWork(['x'], async () => store.commit([put('x', `after ${String(await store.get('x'))}`)]))],
  );
  // The group did not wait for x: a is committed while x is still held elsewhere.
  await until('a acknowledged', () => aAcknowledged);
  t.deepEqual(await visible(other, ['a', 'x']), ['a']);
  t.is(store.stats.groupLocksNotFree, 1);
  release.resolve();
  await holder;
  t.deepEqual(
    (await settled).map((r) => r.status),
    ['fulfilled', 'fulfilled'],
  );
  t.is(await store.get('x'), 'after first', 'the unit waited for the lock and read under it what the holder wrote');
});

test.serial('a connection lost under a group acknowledges nothing of it, and the store serves again', async (t) => {
  const database = (await cluster.createDatabase(`group_${++databases}`)).database;
  const store = await openStore(t, database, { poolSize: 1, hostId: 'group-lost' });
  const other = await outside(t, database);
  const admin = await outside(t, database, true);
  let aError: unknown;
  const results = await withQueue(
    store,
    (go) =>
      store.unitOfWork(['a'], async () => {
        await go;
        await store.commit([put('a', 1)]).catch((error: unknown) => {
          aError = error;
          throw error;
        });
      }),
    [
      () =>
        store.unitOfWork(['b'], async () => {
          // The lane's backend ends while a's writes are staged in its transaction.
          await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'group-lost/0'`);
          await until('a learns its group is lost', () => aError !== undefined);
          await store.commit([put('b', 1)]);
        }),
    ],
  );
  t.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected'],
  );
  t.true(aError instanceof PostgresStoreError);
  t.is((aError as PostgresStoreError).code, 'STORE_UNAVAILABLE', 'no COMMIT was sent: nothing applied, retryable');
  t.true((aError as PostgresStoreError).retryable);
  t.deepEqual(await visible(other, ['a', 'b']), []);
  await store.unitOfWork(['a'], () => store.commit([put('a', 2)]));
  t.deepEqual(await visible(other, ['a']), ['a']);
});

test.serial('work that runs long inside its unit (a password’s scrypt) never joins a group, nor waits behind the lanes units of work are bounded to; the dispatcher marks it so, and locks the device’s record from the BEGIN only for the others', async (t) => {
  const database = (await cluster.createDatabase(`group_${++databases}`)).database;
  // Two connections; units of work that may join groups run on one of them at a time.
  const store = await openStore(t, database, { poolSize: 2, groupCommitLanes: 1 });
  const joined: Record<string, boolean> = {};
  const go = deferred();
  const first = store.unitOfWork(['a'], async () => (await go.promise, store.commit([put('a', 1)])));
  await until('a holds a lane', () => store.connections.busy === 1);
  const b = store.unitOfWork(['b'], async (u) => ((joined.b = u.joined), store.commit([put('b', 1)])));
  await until('b waits to join a group', () => store.connections.waiting === 1);
  // The slow unit takes the other lane at once, while a holds the one for joinable units and b waits.
  await store.unitOfWork(['slow'], async (u) => ((joined.slow = u.joined), store.commit([put('slow', 1)])), { joinsGroups: false });
  // So does work outside a request (an operator's command, a sweep): withLocks runs it in a unit that never joins.
  await new PostgresLocks(store).withLocks(['op'], async () => {
    joined.op = store.currentUnit()!.joined;
  });
  t.is(store.connections.waiting, 1, 'b still waits for a’s lane');
  go.resolve();
  await Promise.all([first, b]);
  t.deepEqual(joined, { slow: false, op: false, b: true }, 'b joined a’s group; the slow unit and the work outside a request ran on a lane of their own');
  t.like(store.stats, { groupCommits: 1, unitsGrouped: 1 });

  // The real dispatcher asks for that of a password's sign-in and registration, and of nothing else here;
  // the others hold their device's record (shared) from their BEGIN, so their commits check it without a
  // statement, while a slow one, which a revocation would wait for, does not (its commit checks it).
  const h = await createHarness();
  t.teardown(() => h.close());
  const asked: RequestScopeOptions[] = [];
  const requests = h.services.requests!;
  const run = requests.run.bind(requests);
  requests.run = (key, work, readKeys, lockKeys, options?: RequestScopeOptions) => (asked.push(options ?? {}), run(key, work, readKeys, lockKeys, options));
  const kiosk = await h.connect('kiosk-01');
  /** How the request `send` makes ran. */
  const scope = async (send: () => Promise<unknown>) => {
    const before = asked.length;
    await send();
    t.is(asked.length, before + 1, 'one request scope per request');
    return asked.at(-1);
  };
  const slowly = { alone: true };
  const guarded = { alone: false, guardKey: 'dev:kiosk-01' };
  let accountId = '';
  t.deepEqual(await scope(async () => (accountId = (await h.ok(kiosk, 'register', { username: 'alice', password: 'correct horse battery' })).accounts[0]!.accountId)), slowly);
  t.deepEqual(await scope(() => h.ok(kiosk, 'balance', { accountId })), guarded);
  t.deepEqual(await scope(() => h.ok(kiosk, 'signout', {})), guarded);
  t.deepEqual(await scope(() => h.ok(kiosk, 'signin.password', { username: 'alice', password: 'correct horse battery' })), slowly);
});

test('groupCommitUnits outside 1-32 is refused before anything connects', async (t) => {
  for (const groupCommitUnits of [0, 33, 1.5]) {
    await t.throwsAsync(PostgresStore.open({ addresses: [{ host: '127.0.0.1', port: 9 }], user: 'u', password: 'p', database: 'd', hostId: 'h', groupCommitUnits }), { instanceOf: RangeError, message: /groupCommitUnits/ });
  }
});
