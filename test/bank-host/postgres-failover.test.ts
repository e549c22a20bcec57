// The PostgreSQL store across the loss of the primary, on a real three-node Patroni cluster in strict
// synchronous mode: every acknowledged commit is on the promoted standby; a unit of work cut off by the
// primary's death is not applied and fails with an error the caller can retry; the store finds the new
// primary by itself. The tests run one after another: each kills the primary and brings the node back.
import test from 'ava';
import type { BatchOp } from '../../bank-host/store/database.js';
import { PostgresStore, PostgresStoreError, isRetryableStoreError } from '../../bank-host/store/postgres/index.js';
import { CLUSTER_START_TIMEOUT_MS, NODE_REJOIN_TIMEOUT_MS, PostgresCluster } from '../helpers/postgres-cluster.js';

/** A generous bound on Patroni's promotion (ttl 10 s + loop 2 s + promotion) on a loaded machine. */
const FAILOVER_BOUND_MS = 60_000;

let cluster: PostgresCluster;

test.before(async (t) => {
  t.timeout(CLUSTER_START_TIMEOUT_MS + 30_000);
  cluster = await PostgresCluster.start();
  t.log(`cluster started in ${cluster.startMs} ms`);
});

test.after.always(async () => {
  await cluster?.stop();
});

const put = (key: string, value: unknown): BatchOp => ({ type: 'put', key, value });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function openStore(t: { teardown: (fn: () => Promise<void>) => void }, database: string, hostId = 'host-a'): Promise<PostgresStore> {
  const store = await PostgresStore.open({ addresses: cluster.addresses(), ...cluster.app, database, hostId, connectTimeoutMs: 10_000, queryTimeoutMs: 5_000 });
  t.teardown(() => store.close());
  return store;
}

/** Runs `attempt` until it succeeds; every failure on the way must be retryable. */
async function untilServed<T>(t: { true: (v: boolean, m?: string) => void }, attempt: () => Promise<T>, boundMs: number): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      t.true(isRetryableStoreError(error), `only retryable errors while the primary is replaced: ${String(error)}`);
      if (Date.now() - started > boundMs) throw error;
      await sleep(100);
    }
  }
}

test.serial('a committed batch survives killing the primary: the promoted standby has it, and the store finds it there', async (t) => {
  t.timeout(FAILOVER_BOUND_MS + NODE_REJOIN_TIMEOUT_MS + 30_000);
  const { database } = await cluster.createDatabase('failover_kept');
  const store = await openStore(t, database);
  const ops = Array.from({ length: 200 }, (_, i) => put(`post:acct-1:${String(i).padStart(12, '0')}`, { amountCents: i }));
  await store.commit(ops);
  await store.unitOfWork(['acct:1'], () => store.commit([put('acct:1', { balanceCents: 19_900 })]));
  const before = store.connections.primary;

  const killed = await cluster.killPrimary();
  t.is(`${killed.node.host}:${killed.node.port}`, before ?? "");
  const leader = await cluster.waitForNewLeader(killed.node.name, FAILOVER_BOUND_MS);
  t.log(`new leader ${leader.node.name} ${leader.atMs - killed.killedAtMs} ms after the kill`);

  const legs = await untilServed(t, async () => {
    const out: string[] = [];
    for await (const [key] of store.entries('post:acct-1:')) out.push(key);
    return out;
  }, FAILOVER_BOUND_MS);
  t.is(legs.length, 200);
  t.deepEqual(await store.get('acct:1'), { balanceCents: 19_900 });
  t.is(store.connections.primary, `${leader.node.host}:${leader.node.port}`, 'the store moved to the new primary');
  await untilServed(t, () => store.unitOfWork(['acct:1'], () => store.commit([put('acct:1', { balanceCents: 0 })])), FAILOVER_BOUND_MS);

  await cluster.restartNode(killed.node.name);
});

test.serial('a unit of work cut off by the primary\'s death is not applied, and its error is retryable', async (t) => {
  t.timeout(FAILOVER_BOUND_MS + NODE_REJOIN_TIMEOUT_MS + 30_000);
  const { database } = await cluster.createDatabase('failover_unit');
  const store = await openStore(t, database);
  await store.commit([put('acct:1', { balanceCents: 100 })]);
  let release!: () => void;
  const killedWhileHeld = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const hasLocks = new Promise<void>((resolve) => (locked = resolve));
  const unit = store.unitOfWork(['acct:1'], async () => {
    const account = (await store.get<{ balanceCents: number }>('acct:1'))!;
    locked();
    await killedWhileHeld;
    await store.commit([put('acct:1', { balanceCents: account.balanceCents - 60 }), put('hold:auth-1', { amountCents: 60 })]);
  });
  const outcome = unit.then(() => undefined, (error: unknown) => error);
  await hasLocks;
  const killed = await cluster.killPrimary();
  // Let the killed backend's connection close under the unit before it commits.
  await sleep(200);
  release();
  const error = await outcome;
  t.true(error instanceof PostgresStoreError, String(error));
  t.true((error as PostgresStoreError).retryable);
  t.is((error as PostgresStoreError).code, 'STORE_UNAVAILABLE', 'the connection was gone before the commit was sent: certainly not applied');

  await cluster.waitForNewLeader(killed.node.name, FAILOVER_BOUND_MS);
  t.deepEqual(await untilServed(t, () => store.getMany(['acct:1', 'hold:auth-1']), FAILOVER_BOUND_MS), [{ balanceCents: 100 }, undefined]);
  // The retry (what the kiosk's repeated request becomes) applies it once, on the new primary.
  await untilServed(t, () => store.unitOfWork(['acct:1'], async () => {
    const account = (await store.get<{ balanceCents: number }>('acct:1'))!;
    await store.commit([put('acct:1', { balanceCents: account.balanceCents - 60 }), put('hold:auth-1', { amountCents: 60 })]);
  }), FAILOVER_BOUND_MS);
  t.deepEqual(await store.get('acct:1'), { balanceCents: 40 });

  await cluster.restartNode(killed.node.name);
});

test.serial('under load from two hosts, no acknowledged unit of work is lost when the primary dies, and both serve again', async (t) => {
  t.timeout(2 * FAILOVER_BOUND_MS + NODE_REJOIN_TIMEOUT_MS + 30_000);
  const { database } = await cluster.createDatabase('failover_load');
  const hosts = [await openStore(t, database, 'host-a'), await openStore(t, database, 'host-b')];
  const acknowledged: string[] = [];
  const failures = new Map<string, number>();
  let stop = false;
  let killedAtMs = 0;
  let servedAgainMs: number | undefined;
  const writer = async (store: PostgresStore, name: string) => {
    for (let i = 0; !stop; i++) {
      const key = `idem:${name}:${i}`;
      const startedMs = Date.now();
      try {
        await store.unitOfWork([`acct:${name}`], async () => {
          await store.get(`acct:${name}`);
          await store.commit([put(key, { i }), put(`acct:${name}`, { last: i })]);
        });
        acknowledged.push(key);
        // The first unit begun after the kill that was acknowledged: the store serves again.
        if (killedAtMs > 0 && startedMs > killedAtMs) servedAgainMs ??= Date.now() - killedAtMs;
      } catch (error) {
        t.true(isRetryableStoreError(error), String(error));
        const code = (error as PostgresStoreError).code;
        failures.set(code, (failures.get(code) ?? 0) + 1);
        await sleep(50);
      }
    }
  };
  const writers = hosts.flatMap((store, h) => Array.from({ length: 4 }, (_, w) => writer(store, `h${h}w${w}`)));
  await sleep(1_000);
  const before = acknowledged.length;
  const killed = await cluster.killPrimary();
  killedAtMs = killed.killedAtMs;
  await cluster.waitForNewLeader(killed.node.name, FAILOVER_BOUND_MS);
  const deadline = Date.now() + FAILOVER_BOUND_MS;
  while (servedAgainMs === undefined && Date.now() < deadline) await sleep(100);
  await sleep(1_000);
  stop = true;
  await Promise.all(writers);
  t.true(before > 0, 'units of work were acknowledged before the kill');
  t.not(servedAgainMs, undefined, 'units of work were acknowledged after the failover');
  t.log(`${acknowledged.length} acknowledged (${before} before the kill); served again ${servedAgainMs} ms after the kill; failures ${JSON.stringify(Object.fromEntries(failures))}`);

  const found = await untilServed(t, () => hosts[1]!.getMany(acknowledged), FAILOVER_BOUND_MS);
  const lost = acknowledged.filter((_, i) => found[i] === undefined);
  t.deepEqual(lost, [], 'every acknowledged unit of work is on the new primary');

  await cluster.restartNode(killed.node.name);
});
