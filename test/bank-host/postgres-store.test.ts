// The PostgreSQL store against a real three-node Patroni cluster (synchronous mode, etcd): keys sort and
// scan exactly as LevelDB's do, values round-trip, a batch is atomic, units of work on overlapping keys
// serialize within one store and across two (two hosts), the bounds fail with retryable errors, and a cut
// network fails units of work retryably until it returns. Failover is in postgres-failover.test.ts.
// The tests run one at a time: fourteen stores creating their databases and schemas at once, with the short
// bounds some tests set, timed out on a loaded 2-core machine (a test of bounds must not race its neighbours).
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Database, type BatchOp } from '../../bank-host/store/database.js';
import { PostgresStore, PostgresStoreError, SCAN_PAGE_ROWS, type PostgresStoreOptions } from '../../bank-host/store/postgres/index.js';
import { lockId } from '../../bank-host/store/postgres/unit-of-work.js';
import { CommitGuardError } from '../../bank-host/store/host-store.js';
import { CLUSTER_START_TIMEOUT_MS, PostgresCluster } from '../helpers/postgres-cluster.js';

let cluster: PostgresCluster;
let databases = 0;

test.before(async (t) => {
  t.timeout(CLUSTER_START_TIMEOUT_MS + 30_000);
  cluster = await PostgresCluster.start();
  t.log(`cluster started in ${cluster.startMs} ms`);
});

test.after.always(async () => {
  await cluster?.stop();
});

/** A fresh database of the application's own, so tests do not see each other's keys. */
async function newDatabase(): Promise<string> {
  return (await cluster.createDatabase(`store_${++databases}`)).database;
}

/** A store on `options.database` (a fresh one by default); closed after the test. */
async function openStore(
  t: { teardown: (fn: () => Promise<void>) => void },
  options: Partial<PostgresStoreOptions> = {},
): Promise<PostgresStore> {
  const database = options.database ?? (await newDatabase());
  // Connect bound for a loaded machine (the store's default is 2 s); tests of the bounds set their own.
  const store = await PostgresStore.open({ addresses: cluster.addresses(), ...cluster.app, hostId: 'host-a', connectTimeoutMs: 10_000, ...options, database });
  t.teardown(() => store.close());
  return store;
}

/** A superuser's connection to one database, for what the application's role may not do. */
async function adminQuery(database: string, sql: string): Promise<void> {
  const admin = new pg.Client({ ...(await cluster.connectionConfig(cluster.superuser)), database });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

const put = (key: string, value: unknown): BatchOp => ({ type: 'put', key, value });
const del = (key: string): BatchOp => ({ type: 'del', key });

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Records the texts a unit sends on its connection from now on; `stop` gives the connection back its own
 *  `query` (the connection goes on to later units of the test). */
function recordSent(unit: { client: pg.Client }): { sent: string[]; stop: () => void } {
  const sent: string[] = [];
  const query = unit.client.query;
  (unit.client as { query: unknown }).query = (text: unknown, ...rest: unknown[]) => {
    sent.push(String(text));
    return (query as (...a: unknown[]) => unknown).call(unit.client, text, ...rest);
  };
  return { sent, stop: () => delete (unit.client as { query?: unknown }).query };
}

async function collect<T>(entries: AsyncGenerator<[string, T]>): Promise<[string, T][]> {
  const out: [string, T][] = [];
  for await (const entry of entries) out.push(entry);
  return out;
}

// Keys whose order differs between naive string comparison and byte order, prefixes of each other, the
// '\xff' that entries() uses as its upper bound (U+00FF: two bytes in UTF-8), and characters above it.
const AWKWARD_KEYS = [
  'a', 'a:', 'a:b', 'a:1', 'a:10', 'a:2', 'a;', 'a b', 'ab', 'aB', 'A', 'B', 'b', '0', '9', '~', 'a\x7f', 'a\x80',
  'a\xfe', 'a\xff', 'a\xffz', 'a\xff\xff', 'a\u0100', 'aé', 'aè', 'a中', 'a😀', 'a\uE000', 'a\uFFFD', 'a\uFFFF',
  '\xff', '\xff\xff', '\xff\u0100', 'é', '中', '😀', 'post:acct-1:000000000001', 'post:acct-1:000000000002',
  'post:acct-10:000000000001', 'post:acct-1', 'post:acct-', 'audit:rec:000000000000001',
  // Written into SQL text by the store's writes and prefetches: quotes and backslashes must stay data.
  "user:it's", "user:''", 'user:back\\slash', "user:x'); DROP TABLE kv; --", "user:E'\\x00'", 'user:$1', 'user:"q"',
];

const SCANS: [string, { reverse?: boolean; limit?: number; gte?: string; lte?: string }][] = [
  ['', {}],
  ['', { reverse: true }],
  ['a', {}],
  ['a', { reverse: true }],
  ['a', { limit: 3 }],
  ['a', { reverse: true, limit: 4 }],
  ['a:', {}],
  ['a\xff', {}],
  ['\xff', {}],
  ['post:acct-1', {}],
  ['post:acct-1:', { reverse: true, limit: 1 }],
  ['', { gte: 'a:', lte: 'a;' }],
  ['', { gte: 'a:1', lte: 'a:2', reverse: true }],
  ['', { gte: 'a\xff', lte: 'a\uFFFF' }],
  ['', { gte: 'b' }],
  ['a', { lte: 'a:2' }],
  ['a', { limit: 0 }],
  ['a', { limit: -1 }],
  ['zzz', {}],
];

test.serial('keys sort and scan exactly as LevelDB sorts and scans them, awkward keys included', async (t) => {
  const store = await openStore(t);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pg-order-'));
  const level = await Database.open(path.join(dir, 'db'));
  t.teardown(async () => {
    await level.close();
    await rm(dir, { recursive: true, force: true });
  });
  const ops = AWKWARD_KEYS.map((key, i) => put(key, { i }));
  await level.writeDurably(ops);
  await store.commit(ops);
  for (const [prefix, options] of SCANS) {
    const expected = await collect(level.entries(prefix, options));
    const actual = await collect(store.entries(prefix, options));
    t.deepEqual(actual.map(([k]) => k), expected.map(([k]) => k), `entries(${JSON.stringify(prefix)}, ${JSON.stringify(options)})`);
    t.deepEqual(actual, expected);
  }
  // The same inside a unit of work, through its own connection.
  await store.unitOfWork([], async () => {
    for (const [prefix, options] of SCANS) t.deepEqual(await collect(store.entries(prefix, options)), await collect(level.entries(prefix, options)));
  });
  for (const key of AWKWARD_KEYS) t.deepEqual(await store.get(key), await level.get(key), key);
});

test.serial('scans longer than a page read on across pages, in order, honouring limit and reverse', async (t) => {
  const store = await openStore(t);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pg-pages-'));
  const level = await Database.open(path.join(dir, 'db'));
  t.teardown(async () => {
    await level.close();
    await rm(dir, { recursive: true, force: true });
  });
  const count = 2 * SCAN_PAGE_ROWS + 345;
  const ops = Array.from({ length: count }, (_, i) => put(`leg:${String(i * 7919 % count).padStart(6, '0')}`, i));
  ops.push(put('legs', 'after the prefix'), put('lef', 'before it'));
  await level.writeDurably(ops);
  await store.commit(ops);
  for (const options of [{}, { reverse: true }, { limit: SCAN_PAGE_ROWS + 1 }, { reverse: true, limit: 2 * SCAN_PAGE_ROWS }, { gte: 'leg:000500', lte: 'leg:002100' }]) {
    const expected = await collect(level.entries('leg:', options));
    t.deepEqual(await collect(store.entries('leg:', options)), expected, JSON.stringify(options));
    await store.unitOfWork([], async () => t.deepEqual(await collect(store.entries('leg:', options)), expected));
  }
  // A consumer that stops early gives its connection back.
  for await (const [key] of store.entries('leg:')) if (key >= 'leg:000010') break;
  t.is(store.connections.busy, 0);
});

test.serial('JSON documents and raw bytes come back as they were written', async (t) => {
  const store = await openStore(t);
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const values: [string, unknown][] = [
    ['acct:1', { kind: 'chequing', balanceCents: 123_456, heldCents: 0, owner: 'cus_1', tags: ['a', 'é', '😀'], nested: { deep: [1, { x: null }] } }],
    ['n:zero', 0],
    ['n:big', Number.MAX_SAFE_INTEGER],
    ['s:empty', ''],
    ['s:text', 'line\nwith "quotes" and \\ and \u0000 inside'],
    ['b:false', false],
    ['arr', [1, 'two', { three: 3 }]],
  ];
  await store.commit([
    ...values.map(([key, value]) => put(key, value)),
    { type: 'put', key: 'audit:rec:1', value: bytes, valueEncoding: 'buffer' },
    { type: 'put', key: 'audit:rec:2', value: Buffer.alloc(0), valueEncoding: 'buffer' },
  ]);
  for (const [key, value] of values) t.deepEqual(await store.get(key), value, key);
  const raw = await store.get<Buffer>('audit:rec:1');
  t.true(Buffer.isBuffer(raw));
  t.true(raw!.equals(bytes));
  t.deepEqual(await store.get<Buffer>('audit:rec:2'), Buffer.alloc(0));
  t.deepEqual(await store.getMany(['n:zero', 'missing', 's:empty', 'audit:rec:1']), [0, undefined, '', bytes]);
  t.deepEqual(await collect(store.entries('audit:rec:')), [['audit:rec:1', bytes], ['audit:rec:2', Buffer.alloc(0)]]);
  t.is(await store.get('missing'), undefined);
});

test.serial('a batch is applied whole or not at all, and its last operation on a key wins', async (t) => {
  const database = await newDatabase();
  const store = await openStore(t, { database });
  await store.commit([put('keep', 1), put('gone', 1)]);
  await store.commit([put('x', 1), del('x'), del('y'), put('y', 2), put('z', 1), put('z', 2), del('gone')]);
  t.deepEqual(await store.getMany(['x', 'y', 'z', 'gone', 'keep']), [undefined, 2, 2, undefined, 1]);

  // PostgreSQL itself refuses one row of the next batch (a constraint the superuser adds to this database):
  // nothing of the batch may be left behind, alone or in a unit of work.
  await adminQuery(database, `ALTER TABLE kv ADD CONSTRAINT no_poison CHECK (k <> 'poison')`);
  const poisoned = [put('a', 1), del('keep'), put('b', { two: 2 }), put('poison', 0)];
  const alone = await t.throwsAsync(store.commit(poisoned), { instanceOf: PostgresStoreError });
  t.is(alone?.code, 'STORE_REFUSED');
  t.false(alone?.retryable);
  const inUnit = await t.throwsAsync(store.unitOfWork(['a'], () => store.commit(poisoned)), { instanceOf: PostgresStoreError });
  t.is(inUnit?.code, 'STORE_REFUSED');
  t.deepEqual(await store.getMany(['a', 'b', 'keep', 'poison']), [undefined, undefined, 1, undefined]);
  t.is(store.connections.busy, 0);
});

test.serial('two units of work on overlapping keys serialize: the second starts after the first commits and sees its write', async (t) => {
  // The first unit stays idle in its transaction while the test looks: on a loaded machine for longer than
  // the default idle-in-transaction bound, which would end it and free its locks.
  const store = await openStore(t, { idleInTransactionTimeoutMs: 60_000 });
  await store.commit([put('acct:1', { balanceCents: 100 }), put('acct:2', { balanceCents: 0 })]);
  const holdFirst = deferred();
  const firstHasLocks = deferred();
  const events: string[] = [];
  const first = store.unitOfWork(['acct:1', 'acct:2'], async () => {
    firstHasLocks.resolve();
    const a = (await store.get<{ balanceCents: number }>('acct:1'))!;
    await holdFirst.promise;
    events.push('first commits');
    await store.commit([put('acct:1', { balanceCents: a.balanceCents - 40 }), put('acct:2', { balanceCents: 40 })]);
  });
  await firstHasLocks.promise;
  let secondSaw: number | undefined;
  let secondPrefetched: unknown;
  const second = store.unitOfWork(
    ['acct:2', 'acct:3'],
    async (unit) => {
      events.push('second runs');
      secondPrefetched = unit.known.get('acct:2');
      secondSaw = (await store.get<{ balanceCents: number }>('acct:2'))!.balanceCents;
      await store.commit([put('acct:2', { balanceCents: secondSaw + 1 })]);
    },
    // Read with its BEGIN, in the same message as the lock statement: PostgreSQL reads it once the lock is held.
    { prefetch: ['acct:2'] },
  );
  // A unit on other keys is not held up meanwhile.
  await store.unitOfWork(['acct:9'], async () => events.push('disjoint unit runs'));
  await sleep(300);
  t.deepEqual(events, ['disjoint unit runs'], 'the second unit waits for the first one\'s lock');
  holdFirst.resolve();
  await Promise.all([first, second]);
  t.deepEqual(events, ['disjoint unit runs', 'first commits', 'second runs']);
  t.is(secondSaw, 40, 'the second unit read what the first one committed');
  t.deepEqual(secondPrefetched, { balanceCents: 40 }, 'its prefetch was read after the lock');
  t.deepEqual(await store.get('acct:2'), { balanceCents: 41 });
});

test.serial('units of work of two stores (two hosts) serialize on the same keys: no increment is lost', async (t) => {
  const database = await newDatabase();
  // Fifty increments queue on one lock: the last waits for all the others, which on a loaded machine can
  // exceed the default lock timeout. What is tested here is that they serialize, so the bound is generous.
  const bounds = { lockTimeoutMs: 60_000, queryTimeoutMs: 90_000 };
  const hostA = await openStore(t, { hostId: 'host-a', database, ...bounds });
  const hostB = await openStore(t, { hostId: 'host-b', database, ...bounds });
  await hostA.commit([put('counter', 0)]);
  const increment = (store: PostgresStore) =>
    store.unitOfWork(['counter'], async (unit) => {
      const value = (await store.get<number>('counter'))!;
      // Yield between the read and the write, so an unserialized pair would interleave here.
      await sleep(1);
      await store.commit([put('counter', value + 1), put(`by:${unit.laneId}:${value}`, true)]);
    });
  const perHost = 25;
  await Promise.all(Array.from({ length: perHost }, () => [increment(hostA), increment(hostB)]).flat());
  t.is(await hostA.get('counter'), 2 * perHost);
  const writers = await collect(hostB.entries('by:'));
  t.is(writers.length, 2 * perHost, 'every increment saw a different value');
  t.true(writers.some(([k]) => k.startsWith('by:host-a/')) && writers.some(([k]) => k.startsWith('by:host-b/')), 'both hosts incremented');

  // The held-lock picture across hosts: B's unit waits while A's holds the key.
  const hold = deferred();
  const aHolds = deferred();
  const a = hostA.unitOfWork(['acct:shared'], async () => {
    aHolds.resolve();
    await hold.promise;
    await hostA.commit([put('acct:shared', 'written by A')]);
  });
  await aHolds.promise;
  let bSaw: unknown = 'not yet';
  const b = hostB.unitOfWork(['acct:shared'], async () => {
    bSaw = await hostB.get('acct:shared');
  });
  await sleep(300);
  t.is(bSaw, 'not yet');
  hold.resolve();
  await Promise.all([a, b]);
  t.is(bSaw, 'written by A');
});

test.serial('shared locks admit each other and keep exclusive holders out', async (t) => {
  const store = await openStore(t);
  const release = deferred();
  let inside = 0;
  let maxInside = 0;
  const reader = () =>
    store.unitOfWork({ exclusive: [], shared: ['dev:kiosk-1'] }, async () => {
      maxInside = Math.max(maxInside, ++inside);
      await release.promise;
      inside--;
    });
  const readers = [reader(), reader(), reader()];
  while (maxInside < 3) await sleep(10);
  let writerRan = false;
  const writer = store.unitOfWork(['dev:kiosk-1'], async () => {
    writerRan = true;
    t.is(inside, 0, 'no shared holder is inside while the exclusive one is');
  });
  await sleep(300);
  t.false(writerRan);
  release.resolve();
  await Promise.all([...readers, writer]);
  t.true(writerRan);
  t.is(maxInside, 3, 'the shared holders were inside at once');
});

test.serial('a lock asked for last is not held while the unit waits for its others; a guard on it is checked on the record read under it, with no statement of its own', async (t) => {
  const store = await openStore(t, { lockTimeoutMs: 30_000, queryTimeoutMs: 40_000 });
  // The guard's key sorts before the other key in the global order: taken in that order, a unit waiting for
  // the other key would hold the guard's lock while it waits.
  const guardKey = 'dev:kiosk-g';
  let otherKey = '';
  for (let i = 0; otherKey === '' || lockId(otherKey) <= lockId(guardKey); i++) otherKey = `acct:other-${i}`;
  await store.commit([put(guardKey, { status: 'active', keyVersion: 1 })]);
  const guard = { key: guardKey, holds: { status: 'active', keyVersion: 1 } };

  // Held: a unit holds the write's lock, so the guarded unit below waits for it in its BEGIN.
  const release = deferred();
  const held = deferred();
  const holder = store.unitOfWork([otherKey], async () => {
    held.resolve();
    await release.promise;
  });
  await held.promise;
  let sent: string[] = [];
  /** What the unit sends while `work` runs. */
  const spying = async (unit: { client: pg.Client }, work: () => Promise<void>) => {
    const recording = recordSent(unit);
    sent = recording.sent;
    try {
      await work();
    } finally {
      recording.stop();
    }
  };
  const guarded = store.unitOfWork(
    { exclusive: [otherKey], sharedLast: [guardKey] },
    async (unit) => {
      t.deepEqual(unit.known.get(guardKey), { status: 'revoked', keyVersion: 1 }, 'read under the lock, after the change below');
      await spying(unit, () => store.commit([put(otherKey, 'written')], guard));
    },
    { prefetch: [guardKey] },
  );
  await sleep(300);
  // The record's writer (a revocation) takes the guard's lock exclusively: not held by the waiting unit.
  await store.unitOfWork([guardKey], () => store.commit([put(guardKey, { status: 'revoked', keyVersion: 1 })]));
  release.resolve();
  await holder;
  await t.throwsAsync(guarded, { instanceOf: CommitGuardError });
  t.deepEqual(sent, [], 'nothing sent for the commit: refused on what was read');
  t.is(await store.get(otherKey), undefined, 'nothing written');

  // Holding: the record cannot change under the unit, and its commit sends the write and COMMIT alone.
  await store.commit([put(guardKey, { status: 'active', keyVersion: 1 })]);
  await store.unitOfWork(
    { exclusive: [otherKey], sharedLast: [guardKey] },
    async (unit) => {
      await spying(unit, () => store.commit([put(otherKey, 'written')], guard));
    },
    { prefetch: [guardKey] },
  );
  t.is(sent.length, 1, sent.join(' | '));
  t.false(/advisory|guard/.test(sent[0]!), sent[0]);
  t.is(await store.get(otherKey), 'written');
  t.is(store.connections.busy, 0);
});

test.serial('prefetched keys are answered inside the unit from its BEGIN, absent ones too, frozen like cached records', async (t) => {
  const store = await openStore(t);
  const quoted = "acct:it's \\ 'quoted'";
  await store.commit([put('acct:1', { balanceCents: 1 }), put(quoted, 2)]);
  await store.unitOfWork(
    ['acct:1'],
    async (unit) => {
      t.deepEqual([...unit.known.entries()], [['acct:1', { balanceCents: 1 }], ['idem:none', undefined], [quoted, 2]]);
      t.deepEqual(await store.getMany(['acct:1', 'idem:none', quoted]), [{ balanceCents: 1 }, undefined, 2]);
      const account = await store.get<{ balanceCents: number }>('acct:1');
      t.true(Object.isFrozen(account));
      // A key not prefetched is read through the unit's connection as usual.
      t.is(await store.get('acct:2'), undefined);
      await store.commit([put('acct:1', { balanceCents: account!.balanceCents + 1 })]);
    },
    { prefetch: ['acct:1', 'idem:none', quoted] },
  );
  t.deepEqual(await store.get('acct:1'), { balanceCents: 2 });
  await t.throwsAsync(store.unitOfWork([], async () => 1, { prefetch: ['bad\u0000key'] }), { instanceOf: TypeError });
  t.is(store.connections.busy, 0);
});

test.serial('locks taken inside a unit read their keys in the same message: later reads are answered from what was read under the lock', async (t) => {
  const database = await newDatabase();
  const store = await openStore(t, { database });
  const otherHost = await openStore(t, { database, hostId: 'host-b' });
  await store.commit([put('acct:5', { balanceCents: 5 }), put('dev:k', { keyVersion: 1 })]);
  await store.unitOfWork(
    ['idem:x'],
    async (unit) => {
      t.deepEqual(unit.known.get('dev:k'), { keyVersion: 1 }, 'read with the BEGIN, unlocked');
      // Another host changes the device record before this unit locks it.
      await otherHost.unitOfWork(['dev:k'], () => otherHost.commit([put('dev:k', { keyVersion: 2 })]));
      await unit.lock(['acct:5', 'dev:k', 'acct:none']);
      t.deepEqual(unit.known.get('acct:5'), { balanceCents: 5 });
      t.true(unit.known.has('acct:none'));
      t.deepEqual(await store.get('dev:k'), { keyVersion: 2 }, 'read again under its lock, not the BEGIN-time value');
      t.deepEqual(await store.getMany(['acct:5', 'acct:none']), [{ balanceCents: 5 }, undefined]);
    },
    { prefetch: ['idem:x', 'dev:k'] },
  );
  t.is(store.connections.busy, 0);
});

test.serial('a key read unlocked with the BEGIN is read again with each lock the unit takes: after the lock it is never older than the lock', async (t) => {
  const database = await newDatabase();
  const store = await openStore(t, { database });
  const otherHost = await openStore(t, { database, hostId: 'host-b' });
  await store.commit([put('cust:c', { version: 1 }), put('acct:7', { balanceCents: 7 })]);
  await store.unitOfWork(
    ['idem:y'],
    async (unit) => {
      t.deepEqual(await store.get('cust:c'), { version: 1 }, 'answered from the BEGIN');
      // Another host changes it under a lock of another key (acct:7 guards it, say) before this unit takes that lock.
      await otherHost.unitOfWork(['acct:7'], () => otherHost.commit([put('cust:c', { version: 2 })]));
      t.deepEqual(await store.get('cust:c'), { version: 1 }, 'still the BEGIN-time value: no lock taken since');
      await unit.lock(['acct:7']);
      t.deepEqual(await store.get('cust:c'), { version: 2 }, 'read again with the lock');
    },
    { prefetch: ['idem:y', 'cust:c'] },
  );
  t.is(store.connections.busy, 0);
});

test.serial('numbers reserved with the BEGIN are handed out first, in no round trip of their own, and are below any drawn later', async (t) => {
  const store = await openStore(t);
  let reserved: number[] = [];
  await store.unitOfWork(
    [],
    async (unit) => {
      const { sent, stop } = recordSent(unit);
      reserved = await unit.numbers(2);
      t.is(sent.length, 0, 'the reserved numbers came with the BEGIN');
      t.is(reserved.length, 2);
      t.true(reserved[0]! < reserved[1]!);
      const more = await unit.numbers(2);
      t.is(sent.length, 1, 'beyond the reserve, numbers are drawn');
      t.true(more[0]! > reserved[1]! && more[0]! < more[1]!);
      stop();
      await store.commit([put('k:1', 1)]);
    },
    { reserveNumbers: 2 },
  );
  // A unit that does not use its reserve leaves a gap, as a rollback does.
  await store.unitOfWork([], async () => {}, { reserveNumbers: 3 });
  const next = await store.unitOfWork([], (unit) => unit.numbers(1));
  t.true(next[0]! > reserved[1]! + 3);
  await t.throwsAsync(store.unitOfWork([], async () => 1, { reserveNumbers: 17 }), { instanceOf: RangeError });
  t.is(store.connections.busy, 0);
});

test.serial('a lock the unit already holds costs no round trip and keeps what it read under it; a key held shared and asked exclusively is locked again, exclusively', async (t) => {
  const database = await newDatabase();
  const store = await openStore(t, { database });
  const otherHost = await openStore(t, { database, hostId: 'host-b', lockTimeoutMs: 200, queryTimeoutMs: 10_000 });
  await store.commit([put('acct:1', { balanceCents: 1 }), put('dev:d', { keyVersion: 1 })]);
  await store.unitOfWork(
    { exclusive: ['idem:z', 'acct:1'], shared: ['dev:d'] },
    async (unit) => {
      const { sent, stop } = recordSent(unit);
      await unit.lock(['acct:1', 'idem:z']);
      await unit.lock({ exclusive: [], shared: ['dev:d', 'acct:1'] });
      t.deepEqual(sent, [], 'held with the BEGIN: nothing sent');
      t.deepEqual(await store.get('acct:1'), { balanceCents: 1 }, 'read under its lock with the BEGIN');
      t.deepEqual(sent, []);
      await unit.lock(['dev:d', 'acct:1']);
      t.is(sent.length, 1);
      t.true(sent[0]!.includes(`pg_advisory_xact_lock(${lockId('dev:d').toString()})`), 'dev:d locked exclusively now');
      t.false(sent[0]!.includes(lockId('acct:1').toString()), 'acct:1 not locked again');
      // Exclusive now: even a shared lock of another host waits for this unit (and gives up at its bound).
      const waited = await t.throwsAsync(otherHost.unitOfWork({ exclusive: [], shared: ['dev:d'] }, async () => {}), { instanceOf: PostgresStoreError });
      t.is(waited?.code, 'STORE_BUSY');
      stop();
    },
    { prefetch: ['acct:1'] },
  );
  t.is(store.connections.busy, 0);
});

test.serial('a unit of work that throws changes nothing, passes its error on, and releases its locks', async (t) => {
  const store = await openStore(t);
  class InsufficientFunds extends Error {}
  await t.throwsAsync(
    store.unitOfWork(['acct:1'], async () => {
      await store.get('acct:1');
      throw new InsufficientFunds('no');
    }),
    { instanceOf: InsufficientFunds },
  );
  // The lock is free (a held one would end this unit with lock_timeout's STORE_BUSY), and the lane went back.
  await store.unitOfWork(['acct:1'], () => store.commit([put('acct:1', 'ok')]));
  t.is(await store.get('acct:1'), 'ok');
  t.is(store.connections.busy, 0);
  t.like(store.stats, { unitsCommitted: 1, unitsFailed: 1 });
});

test.serial('inside a unit of work the store knows it and its lane; lanes in use at once are distinct', async (t) => {
  const store = await openStore(t, { hostId: 'host-7', poolSize: 4 });
  t.is(store.currentUnit(), undefined);
  const lanes = await Promise.all(
    Array.from({ length: 4 }, (_, i) =>
      store.unitOfWork([`k${i}`], async (unit) => {
        t.is(store.currentUnit(), unit);
        await sleep(100);
        // Still the unit after awaits elsewhere (AsyncLocalStorage carries it).
        t.is(store.currentUnit(), unit);
        return unit.laneId;
      }),
    ),
  );
  t.deepEqual([...lanes].sort(), ['host-7/0', 'host-7/1', 'host-7/2', 'host-7/3']);
  await t.throwsAsync(store.unitOfWork([], () => store.unitOfWork([], async () => 1)), { instanceOf: PostgresStoreError, message: /cannot start another/ });
  await store.unitOfWork(['k'], async () => {
    await store.commit([put('k', 1)]);
    await t.throwsAsync(store.commit([put('k', 2)]), { message: /committed/ });
  });
  t.is(await store.get('k'), 1);
});

test.serial('the bounds: a full pool makes callers wait, then fail with STORE_BUSY; a held lock fails a waiter with STORE_BUSY', async (t) => {
  const database = await newDatabase();
  const store = await openStore(t, { database, poolSize: 1, acquireTimeoutMs: 200, lockTimeoutMs: 200, queryTimeoutMs: 2_000 });
  const hold = deferred();
  const holding = store.unitOfWork(['acct:1'], () => hold.promise);
  const busy = await t.throwsAsync(store.get('anything'), { instanceOf: PostgresStoreError });
  t.is(busy?.code, 'STORE_BUSY');
  t.true(busy?.retryable);
  hold.resolve();
  await holding;

  const other = await openStore(t, { lockTimeoutMs: 200, queryTimeoutMs: 10_000, database });
  const hold2 = deferred();
  const held = deferred();
  const holding2 = store.unitOfWork(['acct:1'], async () => {
    held.resolve();
    await hold2.promise;
  });
  await held.promise;
  const locked = await t.throwsAsync(other.unitOfWork(['acct:1'], async () => t.fail('ran without the lock')), { instanceOf: PostgresStoreError });
  t.is(locked?.code, 'STORE_BUSY');
  t.true(locked?.retryable);
  t.regex(locked!.message, /lock timeout/, 'PostgreSQL ended the wait (lock_timeout), well before the query timeout');
  hold2.resolve();
  await holding2;

  const noWaiters = await openStore(t, { poolSize: 1, waitersMax: 0, database });
  const hold3 = deferred();
  const holding3 = noWaiters.unitOfWork([], () => hold3.promise);
  t.is((await t.throwsAsync(noWaiters.get('x'), { instanceOf: PostgresStoreError }))?.code, 'STORE_BUSY');
  hold3.resolve();
  await holding3;
});

test.serial('keys PostgreSQL cannot store as LevelDB does are refused before anything is sent', async (t) => {
  const store = await openStore(t);
  for (const key of ['nul\u0000inside', 'lone\uD800surrogate', 'x'.repeat(1_025), '']) {
    await t.throwsAsync(store.commit([put(key, 1)]), { instanceOf: TypeError });
    await t.throwsAsync(store.get(key), { instanceOf: TypeError });
  }
  await t.throwsAsync(store.commit([{ type: 'put', key: 'b', value: 'not a buffer', valueEncoding: 'buffer' }]), { instanceOf: TypeError });
  await t.throwsAsync(store.commit([put('u', undefined)]), { instanceOf: TypeError });
});

test.serial('the schema is created once, a newer one is refused, and the primary is found among standbys', async (t) => {
  const database = await newDatabase();
  const store = await openStore(t, { database });
  t.is(store.schema.version, 1);
  t.is(store.schema.synchronousCommit, 'on');
  t.not(store.schema.synchronousStandbyNames, '', 'Patroni named a synchronous standby');
  await store.commit([put('kept', 1)]);
  // Primary last in the list: the store still connects only to it.
  const primary = await cluster.primary();
  const addresses = [...cluster.addresses().filter((a) => a.port !== primary.port), { host: primary.host, port: primary.port }];
  const again = await openStore(t, { database, addresses });
  t.is(await again.get('kept'), 1, 'opening again kept the data');
  t.is(again.connections.primary, `${primary.host}:${primary.port}`);

  await adminQuery(database, 'UPDATE kv_schema SET version = 99');
  const newer = await t.throwsAsync(openStore(t, { database }), { instanceOf: PostgresStoreError });
  t.is(newer?.code, 'STORE_SCHEMA');
  t.regex(newer!.message, /version 99/);

  const nowhere = await t.throwsAsync(openStore(t, { addresses: [{ host: '127.0.0.1', port: 1 }], database: 'atm' }), { instanceOf: PostgresStoreError });
  t.is(nowhere?.code, 'STORE_UNAVAILABLE');
  t.true(nowhere?.retryable);
  t.regex(nowhere!.message, /no PostgreSQL primary among 1 nodes: 127\.0\.0\.1:1 unreachable/);
});

test.serial('a cut network fails units of work retryably within the bounds; a commit cut in flight is all or nothing; the store serves again when it returns', async (t) => {
  const database = await newDatabase();
  // Connecting (TCP, SCRAM, the primary check) took seconds on a loaded 2-core machine: a generous connect bound.
  // A long idle bound: the store keeps a live unit alive with a statement every third of it, and on a loaded
  // machine one sent while the unit below waits would go before its commit (the commit, queued behind it,
  // would then fail unsent: STORE_UNAVAILABLE); this test is about a commit in flight when the network goes.
  const bounds = { connectTimeoutMs: 10_000, lockTimeoutMs: 500, queryTimeoutMs: 1_500, idleInTransactionTimeoutMs: 30_000 };
  const store = await openStore(t, { database, addresses: cluster.proxiedAddresses(), ...bounds });
  await store.commit([put('before', 1)]);
  const proxies = cluster.nodes.map((n) => n.proxy);

  // A unit whose commit is on its way when the network goes: it has begun, locked and read; the cut comes
  // between its read and its commit.
  const cutNow = deferred();
  const readDone = deferred();
  const inFlight = store.unitOfWork(['acct:1'], async () => {
    await store.get('acct:1');
    readDone.resolve();
    await cutNow.promise;
    await store.commit([put('flight:1', 1), put('flight:2', 2)]);
  });
  const inFlightDone = inFlight.then(() => undefined, (error: unknown) => error);
  await readDone.promise;
  for (const proxy of proxies) proxy.cut();
  cutNow.resolve();
  const started = Date.now();
  const unknown = await inFlightDone;
  t.true(unknown instanceof PostgresStoreError && unknown.retryable, String(unknown));
  t.is((unknown as PostgresStoreError).code, 'STORE_OUTCOME_UNKNOWN');
  // Bounded by the query timeout; the slack is for a loaded machine, the figure is in the log.
  t.log(`the commit in flight failed after ${Date.now() - started} ms`);
  t.true(Date.now() - started < bounds.queryTimeoutMs + 20_000, `failed after ${Date.now() - started} ms`);

  // While cut, every unit of work fails, retryably and within the bounds.
  for (let i = 0; i < 3; i++) {
    const t0 = Date.now();
    const error = await t.throwsAsync(store.unitOfWork(['acct:2'], () => store.commit([put(`cut:${i}`, i)])), { instanceOf: PostgresStoreError });
    t.true(error?.retryable, error?.message);
    t.true(Date.now() - t0 < bounds.queryTimeoutMs + bounds.connectTimeoutMs + 20_000, `failed after ${Date.now() - t0} ms`);
  }

  for (const proxy of proxies) proxy.restore();
  const restored = Date.now();
  for (;;) {
    try {
      await store.unitOfWork(['acct:2'], () => store.commit([put('after', 1)]));
      break;
    } catch (error) {
      t.true(error instanceof PostgresStoreError && error.retryable, String(error));
      if (Date.now() - restored > 60_000) throw error;
      await sleep(100);
    }
  }
  t.log(`served again ${Date.now() - restored} ms after the network returned`);
  const flight = await store.getMany(['flight:1', 'flight:2']);
  t.true(flight[0] === undefined ? flight[1] === undefined : flight[1] === 2, `the batch in flight is all or nothing: ${JSON.stringify(flight)}`);
  t.deepEqual(await store.getMany(['before', 'after', 'cut:0']), [1, 1, undefined]);
});

test('a live unit whose work outlasts idle_in_transaction_session_timeout is kept alive and commits', async (t) => {
  const store = await openStore(t, { idleInTransactionTimeoutMs: 1_000 });
  // Work of 2.5 s inside the unit (a password check at the production scrypt cost, say): PostgreSQL would end
  // an idle session after 1 s; the store's keep-alive statements show it the host is there.
  await store.unitOfWork(['slow'], async () => {
    await sleep(2_500);
    await store.commit([put('kept', 1)]);
  });
  t.is(await store.get('kept'), 1);
});
