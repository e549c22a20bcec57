// Two bank hosts at once on one PostgreSQL database (three-node Patroni cluster): every guarantee of one
// host holds across them. Each host is the real host (openHostState on the same keys and database, its own
// host id, lanes and audit chains) with the host's own dispatcher; kiosks of each host send real request
// envelopes. No overdraft under concurrent withdrawals on both hosts; a request id applied once whichever
// host sees it, a copy arriving at the other host while the first still runs included; a revocation on one
// host refused at the other at once; the daily limit shared; the audit log verifies across every lane.
import test from 'ava';
import type { ProtocolError } from '../../protocol/errors.js';
import { newRequestId } from '../../protocol/envelope.js';
import { verifyAuditChain } from '../../bank-host/audit/verify.js';
import { checkLedger } from '../../bank-host/ledger/check.js';
import { readAccount } from '../../bank-host/ledger/accounts.js';
import { createHarness, type Harness } from '../helpers/dispatcher-harness.js';
import { clusterStartMs, primaryClient, sharedCluster, stopSharedCluster } from '../helpers/store-backend.js';
import { CLUSTER_START_TIMEOUT_MS } from '../helpers/postgres-cluster.js';
import { testKioskStatus } from '../helpers/kiosk-cash.js';
import { eventually } from '../helpers/host.js';
import { accountKey } from '../../bank-host/ledger/records.js';
import pg from 'pg';

process.env.BANK_HOST_STORE = 'postgresql';
const PASSWORD = 'correct horse battery';
const LIMITS = { maxWithdrawalCents: 1_000_000, dailyWithdrawalLimitCents: 10_000_000, cardDailyWithdrawalLimitCents: 10_000_000 };

test.before(async (t) => {
  t.timeout(CLUSTER_START_TIMEOUT_MS + 30_000);
  await sharedCluster();
  t.log(`cluster started in ${clusterStartMs} ms`);
});
test.after.always(() => stopSharedCluster());

/** Host A and host B on one fresh database, closed after the test. */
async function twoHosts(t: { teardown: (fn: () => Promise<void>) => void }, config = {}): Promise<[Harness, Harness]> {
  const a = await createHarness({ config });
  t.teardown(() => a.close());
  const b = await createHarness({ config, sameStoreAs: { keysDir: a.keysDir, store: a.store, hostId: 'host-b' } });
  t.teardown(() => b.close());
  return [a, b];
}

const code = (answer: unknown) => (answer instanceof Error ? (answer as ProtocolError).code : 'ok');

/** Alice with `cents` deposited at host A's kiosk, signed in at kiosk-a (on A) and kiosk-b (on B). */
async function aliceOnBoth(a: Harness, b: Harness, cents: number) {
  const atA = await a.connect('kiosk-a');
  const info = await a.ok(atA, 'register', { username: 'alice', password: PASSWORD });
  const accountId = info.accounts[0]!.accountId;
  await a.deposit(atA, accountId, cents);
  const atB = await b.connect('kiosk-b');
  await b.ok(atB, 'signin.password', { username: 'alice', password: PASSWORD });
  return { accountId, atA, atB };
}

test('concurrent withdrawals on two hosts never overdraw: exactly the balance is authorized', async (t) => {
  const [a, b] = await twoHosts(t, LIMITS);
  const { accountId, atA, atB } = await aliceOnBoth(a, b, 100_000);
  const tries = Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? a.call(atA, 'withdraw.authorize', { accountId, amountCents: 20_000 }) : b.call(atB, 'withdraw.authorize', { accountId, amountCents: 20_000 })));
  const codes = (await Promise.all(tries)).map(code);
  t.is(codes.filter((c) => c === 'ok').length, 5, codes.join(' '));
  t.is(codes.filter((c) => c === 'INSUFFICIENT_FUNDS').length, 11, codes.join(' '));
  const account = await readAccount(a.services.db, accountId);
  t.is(account?.balanceCents, 100_000);
  t.is(account?.heldCents, 100_000);
  t.like(await checkLedger(b.services.db), { ok: true, totalBalanceCents: 0 });
  const keys = { enc: a.services.keys.auditEnc, mac: a.services.keys.auditMac, sign: a.services.keys.auditSign };
  const verified = await verifyAuditChain(b.services.db, keys);
  t.true(verified.ok, JSON.stringify(verified.problem));
  t.true((verified as { lanes?: number }).lanes! >= 2, 'both hosts wrote chains of their own');
});

test('a request id is applied once whichever host sees it, a copy at the other host while the first runs included', async (t) => {
  const [a, b] = await twoHosts(t, LIMITS);
  const { accountId } = await aliceOnBoth(a, b, 100_000);
  // One kiosk (kiosk-a) that lost its answer from host A sends the same request to host B.
  const atA = await a.connect('kiosk-a');
  const atB = await b.attach('kiosk-a');
  await a.ok(atA, 'signin.password', { username: 'alice', password: PASSWORD });
  await b.ok(atB, 'signin.password', { username: 'alice', password: PASSWORD });
  const requestId = newRequestId();
  const body = { accountId, amountCents: 30_000 };
  const copies = await Promise.all([a.call(atA, 'withdraw.authorize', body, { requestId }), b.call(atB, 'withdraw.authorize', body, { requestId }), b.call(atB, 'withdraw.authorize', body, { requestId })]);
  t.deepEqual(copies.map(code), ['ok', 'ok', 'ok']);
  const ids = new Set(copies.map((answer) => (answer as { authorizationId: string }).authorizationId));
  t.is(ids.size, 1, 'every copy answers the one authorization');
  t.is((await readAccount(b.services.db, accountId))?.heldCents, 30_000, 'held once');
  // Later retries, at either host, answer the same; a changed body is refused.
  t.is((await a.call(atA, 'withdraw.authorize', body, { requestId }) as { authorizationId: string }).authorizationId, [...ids][0]!);
  t.is(code(await b.call(atB, 'withdraw.authorize', { ...body, amountCents: 40_000 }, { requestId })), 'REQUEST_ID_REUSED');
  t.like(await checkLedger(a.services.db), { ok: true });
});

test('a device revoked on one host is refused at the other at once, before that host has refreshed its registry', async (t) => {
  const [a, b] = await twoHosts(t, LIMITS);
  const { accountId } = await aliceOnBoth(a, b, 50_000);
  const atB = await b.attach('kiosk-a');
  await b.ok(atB, 'signin.password', { username: 'alice', password: PASSWORD });
  t.is(code(await b.call(atB, 'withdraw.authorize', { accountId, amountCents: 10_000 })), 'ok');
  // Revoked at host A through its registry (what `bank-host device revoke` does on the host serving it).
  await a.revoke('kiosk-a');
  t.is(code(await b.call(atB, 'withdraw.authorize', { accountId, amountCents: 10_000 })), 'DISCONNECTED');
  t.is((await readAccount(a.services.db, accountId))?.heldCents, 10_000, 'nothing applied after the revocation');
});

/** Units of work of `database` on the cluster's primary waiting for an advisory lock another holds (the
 *  other tests of this file run at the same time, each on a database of its own). */
async function lockWaiters(database: string): Promise<number> {
  const shared = await sharedCluster();
  let client: pg.Client;
  try {
    client = await primaryClient(shared, shared.superuser, shared.superuser.database);
  } catch {
    return 0; // no node answers as the primary now
  }
  try {
    const { rows } = await client.query<{ waiting: number }>(`SELECT count(*)::int AS waiting FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = $1`, [database]);
    return rows[0]!.waiting;
  } catch {
    return 0;
  } finally {
    await client.end().catch(() => {});
  }
}

test("a PIN key rotated at one host just after the other revoked the device is refused, and the device stays revoked everywhere", async (t) => {
  const [a, b] = await twoHosts(t, LIMITS);
  await a.connect('kiosk-a');
  await b.attach('kiosk-a');
  // Revoked at A; B has not refreshed its registry, so it still holds the device as active in memory.
  await a.revoke('kiosk-a');
  await t.throwsAsync(b.rotatePinKey('kiosk-a'), { message: /revoked/ });
  const stored = await a.services.db.get<{ status: string }>('dev:kiosk-a');
  t.is(stored?.status, 'revoked', 'the rotation did not write back the record B had in memory');
  const atB = await b.attach('kiosk-a');
  t.is(code(await b.call(atB, 'balance', { accountId: 'acc_none' })), 'DISCONNECTED');
});

/** Host A, and host B on its store with bounds long enough for the waits of a revocation test on a loaded
 *  machine (the lock timeout is 2 s by default); `more` hosts of the same kind after B. */
async function hostsWaitingLong(t: { teardown: (fn: () => Promise<void>) => void }, more: string[] = []): Promise<[Harness, Harness, ...Harness[]]> {
  const a = await createHarness({ config: LIMITS });
  t.teardown(() => a.close());
  const store = a.store.backend === 'postgresql' ? { ...a.store, lockTimeoutMs: 30_000, queryTimeoutMs: 40_000 } : a.store;
  const another = async (hostId: string) => {
    const host = await createHarness({ config: LIMITS, sameStoreAs: { keysDir: a.keysDir, store, hostId } });
    t.teardown(() => host.close());
    return host;
  };
  const b = await another('host-b');
  const others: Harness[] = [];
  for (const hostId of more) others.push(await another(hostId));
  return [a, b, ...others];
}

/** `host` holds the account's lock until `release` is called; `holder` ends after that. */
async function holdAccount(host: Harness, accountId: string): Promise<{ release: () => void; holder: Promise<void> }> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let holding!: () => void;
  const held = new Promise<void>((resolve) => (holding = resolve));
  const holder = host.services.locks.withLocks([accountKey(accountId)], async () => {
    holding();
    await released;
  });
  await held;
  return { release, holder };
}

function databaseOf(t: { not: (a: unknown, b: unknown, message: string) => void }, host: Harness): string {
  const database = (host.store.backend === 'postgresql' && host.store.database) || '';
  t.not(database, '', 'the harness names its database');
  return database;
}

test('a device revoked on one host while the other host\'s request waits for its locks: the request is refused, and nothing is applied', async (t) => {
  const [a, b] = await hostsWaitingLong(t);
  const { accountId } = await aliceOnBoth(a, b, 50_000);
  const atB = await b.attach('kiosk-a');
  await b.ok(atB, 'signin.password', { username: 'alice', password: PASSWORD });
  // Host A holds the account's lock, so B's request (an authorization names its account) waits for it in its
  // BEGIN, before it takes the device record's lock (last)...
  const { release, holder } = await holdAccount(a, accountId);
  const database = databaseOf(t, a);
  const request = b.call(atB, 'withdraw.authorize', { accountId, amountCents: 10_000 });
  t.true(await eventually(async () => (await lockWaiters(database)) > 0, 20_000), "B's request waits for the account's lock");
  // ...so A's revocation does not wait for it.
  await a.revoke('kiosk-a');
  release();
  await holder;
  // B's request then reads the device's record under its lock: revoked, so nothing is written.
  t.is(code(await request), 'DISCONNECTED');
  t.is((await readAccount(a.services.db, accountId))?.heldCents, 0, 'nothing applied after the revocation');
});

test("a revocation waits for the device's request running at the other host: that request is applied before it, and the device's next one is refused", async (t) => {
  // The third host is the operator's, where the revocation is made.
  const [a, b, operator] = await hostsWaitingLong(t, ['host-op']);
  const { accountId, atA } = await aliceOnBoth(a, b, 50_000);
  const { authorizationId } = await a.ok(atA, 'withdraw.authorize', { accountId, amountCents: 10_000 });
  // The kiosk completes at host B, which did not see the hold: its request begins (the device's record
  // locked and read, still active), reads the hold, and then waits for the hold's account, which A holds.
  const atB = await b.attach('kiosk-a');
  await b.ok(atB, 'signin.password', { username: 'alice', password: PASSWORD });
  const { release, holder } = await holdAccount(a, accountId);
  const database = databaseOf(t, a);
  const completion = b.call(atB, 'withdraw.complete', { authorizationId, dispensedCents: 10_000 });
  t.true(await eventually(async () => (await lockWaiters(database)) === 1, 20_000), "B's request waits for the account's lock");
  let revoked = false;
  const revocation = operator!.revoke('kiosk-a').then(() => (revoked = true));
  t.true(await eventually(async () => (await lockWaiters(database)) === 2, 20_000), 'the revocation waits for the device record, which the running request holds');
  t.false(revoked, 'not revoked while the request runs');
  release();
  await holder;
  t.is(code(await completion), 'ok', 'the request that ran before the revocation is applied');
  await revocation;
  const account = await readAccount(a.services.db, accountId);
  t.like(account, { balanceCents: 40_000, heldCents: 0 });
  t.is(code(await b.call(atB, 'balance', { accountId })), 'DISCONNECTED', 'refused once the revocation returned');
  t.like(await checkLedger(a.services.db), { ok: true });
});

test('the daily withdrawal limit is one limit across hosts', async (t) => {
  const [a, b] = await twoHosts(t, { maxWithdrawalCents: 100_000, dailyWithdrawalLimitCents: 100_000, cardDailyWithdrawalLimitCents: 100_000 });
  const { accountId, atA, atB } = await aliceOnBoth(a, b, 500_000);
  const tries = Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a.call(atA, 'withdraw.authorize', { accountId, amountCents: 30_000 }) : b.call(atB, 'withdraw.authorize', { accountId, amountCents: 30_000 })));
  const codes = (await Promise.all(tries)).map(code);
  t.is(codes.filter((c) => c === 'ok').length, 3, codes.join(' '));
  t.is(codes.filter((c) => c === 'DAILY_LIMIT_EXCEEDED').length, 5, codes.join(' '));
  t.like(await checkLedger(a.services.db), { ok: true });
});

test("the fleet is one across hosts: a kiosk reporting to the other host is not offline here, and each alert is raised and cleared once whichever host evaluates", async (t) => {
  const [a, b] = await twoHosts(t, { kioskOfflineAfterMs: 60_000 });
  const setClock = (ms: number) => {
    a.clock.nowMs = ms;
    b.clock.nowMs = ms;
  };
  const startMs = a.clock.nowMs;
  await a.connect('kiosk-x');
  const atB = await b.attach('kiosk-x');
  await b.ok(atB, 'kiosk.status', testKioskStatus());
  const fleetA = a.services.fleet!;
  const fleetB = b.services.fleet!;
  await fleetA.checkNow();
  t.is(fleetA.stateOf('kiosk-x'), 'in-service', 'host A read the report host B stored');

  // Two minutes on, the kiosk still reports, to host B only, and its notes run low.
  setClock(startMs + 120_000);
  const low = testKioskStatus({ cassettes: [{ denominationCents: 2_000, count: 10 }, { denominationCents: 5_000, count: 2_000 }] });
  await b.ok(atB, 'kiosk.status', low);
  await fleetB.checkNow();
  t.deepEqual(fleetB.view('kiosk-x').alerts.map((alert) => alert.kind), ['low-cash']);
  await fleetA.checkNow();
  t.is(fleetA.stateOf('kiosk-x'), 'in-service', 'not offline: its reports reach the store through host B');
  t.deepEqual(fleetA.view('kiosk-x').alerts.map((alert) => alert.kind), ['low-cash'], "host A sees host B's alert, and raises no offline one");

  // Refilled: host A clears the alert; host B, evaluating next, finds it cleared.
  setClock(startMs + 150_000);
  await b.ok(atB, 'kiosk.status', testKioskStatus());
  await fleetA.checkNow();
  await fleetB.checkNow();
  t.deepEqual(fleetA.view('kiosk-x').alerts, []);
  t.deepEqual(fleetB.view('kiosk-x').alerts, []);
  const seen = [...a.events, ...b.events].filter((event) => event.action === 'alert.raise' || event.action === 'alert.clear');
  t.deepEqual(
    seen.map((event) => `${event.action} ${String(event.detail?.kind)}`).sort(),
    ['alert.clear low-cash', 'alert.raise low-cash'],
    'raised once and cleared once across both hosts',
  );
});

