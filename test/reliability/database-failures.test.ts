// The database failing under the load of two bank hosts: a three-node Patroni cluster of this file's own (it
// cuts and kills nodes, so it does not share the run's cluster), two host processes on one database each
// run, two kiosks on each host (real ChannelClients over TLS 1.3-PSK, resending unanswered or retryably
// refused requests with the same ids). First the network between host A and every database node is cut
// (host A reaches the nodes through per-node proxies) and restored; then the primary's Patroni and
// PostgreSQL are SIGKILLed and Patroni promotes the synchronous standby. Counted: acknowledged transactions
// lost or duplicated, invariant violations (ledger check, audit verify across every lane, the kiosks'
// answers against the ledger), all 0, and the time until the kiosks were served again.
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { postgresStoreConfigSchema } from '../../bank-host/config.js';
import { createHostKeys } from '../../bank-host/keys.js';
import { CLUSTER_START_TIMEOUT_MS, PostgresCluster } from '../helpers/postgres-cluster.js';
import { BankHostChild } from './bank-host-child.js';
import { compareWithLedger, KioskLoad } from './money-load.js';
import { recordScenarioResult } from './results.js';
import { reliabilityParams, SeededRandom } from './seeded-random.js';

const KIOSKS_PER_HOST = 2;
const ANSWERS_BEFORE_KILL = 40;
const ANSWERS_AFTER_SERVED_AGAIN = 20;
const HOST_CONFIG = { dailyWithdrawalLimitCents: 1_000_000_000_000, maxWithdrawalCents: 100_000, depositDailyCapCents: 1_000_000_000_000, depositHoldMs: 0 } as const;
/** How long host A's network to the database stays cut (then 2 s more while host B's kiosks are watched). */
const CUT_MS = 3_000;
/** Generous bounds on behaviour on a shared machine (Patroni takes ~10 s to replace a dead primary). */
const PROGRESS_TIMEOUT_MS = 90_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let cluster: PostgresCluster;
let runs = 0;

test.before(async (t) => {
  t.timeout(CLUSTER_START_TIMEOUT_MS + 30_000);
  cluster = await PostgresCluster.start();
  t.log(`cluster started in ${cluster.startMs} ms`);
});
test.after.always(() => cluster?.stop());

interface Pair {
  readonly loads: KioskLoad[];
  readonly hostB: BankHostChild;
  readonly setup: Awaited<ReturnType<BankHostChild['setup']>>;
  readonly random: SeededRandom;
}

/** Host A (through the per-node proxies when `proxiedA`) and host B on a fresh database, two kiosks on each
 *  under load; everything closed after the test. */
async function pairUnderLoad(t: { teardown: (fn: () => Promise<void>) => void }, proxiedA: boolean): Promise<Pair> {
  const run = ++runs;
  const random = new SeededRandom(reliabilityParams().seed, 10 + run);
  const [dirA, dirB] = [await mkdtemp(path.join(os.tmpdir(), 'reliability-db-a-')), await mkdtemp(path.join(os.tmpdir(), 'reliability-db-b-'))];
  await createHostKeys(path.join(dirA, 'keys'));
  const credentials = await cluster.createDatabase(`database_failures_${run}`);
  await writeFile(path.join(dirA, 'keys', 'postgres-password'), credentials.password + '\n', { mode: 0o600 });
  await cp(path.join(dirA, 'keys'), path.join(dirB, 'keys'), { recursive: true });
  const store = (hostId: string, addresses: { host: string; port: number }[]) =>
    postgresStoreConfigSchema.parse({ backend: 'postgresql', addresses, database: credentials.database, user: credentials.user, hostId, connectTimeoutMs: 5_000 });
  const loads: KioskLoad[] = [];
  const hostA = await BankHostChild.start({ dir: dirA, fresh: false, config: { ...HOST_CONFIG, store: store('host-a', proxiedA ? cluster.proxiedAddresses() : cluster.addresses()) } });
  let hostB: BankHostChild | undefined;
  t.teardown(async () => {
    for (const load of loads) load.client.close();
    await hostA.kill();
    await hostB?.kill();
    await rm(dirA, { recursive: true, force: true });
    await rm(dirB, { recursive: true, force: true });
  });
  const deviceIds = Array.from({ length: 2 * KIOSKS_PER_HOST }, (_, i) => `db-kiosk-${run}-${i}`);
  const setup = await hostA.setup(deviceIds, deviceIds.map((_, i) => ({ username: `db-user-${run}-${i}`, password: `db password ${i}`, savings: true })));
  hostB = await BankHostChild.start({ dir: dirB, fresh: false, config: { ...HOST_CONFIG, store: store('host-b', cluster.addresses()) } });
  const ports = [await hostA.serve(0), await hostB.serve(0)];
  for (let i = 0; i < deviceIds.length; i++) {
    const load = new KioskLoad(
      { deviceId: deviceIds[i]!, kShared: Buffer.from(setup.devices[i]!.kSharedHex, 'hex'), username: `db-user-${run}-${i}`, password: `db password ${i}`, accountIds: setup.customers[i]!.accountIds },
      { host: '127.0.0.1', port: ports[i % 2]!, random: random.fork(300 + i), requestTimeoutMs: 8_000 },
    );
    loads.push(load);
    load.start();
  }
  return { loads, hostB, setup, random };
}

/** Waits for `condition` (a generous bound); a miss is an invariant violation. */
async function waitFor(condition: () => boolean, what: string, violations: Set<string>): Promise<void> {
  const deadline = Date.now() + PROGRESS_TIMEOUT_MS;
  while (!condition() && Date.now() < deadline) await sleep(10);
  if (!condition()) violations.add(`${what} within ${PROGRESS_TIMEOUT_MS} ms`);
}

const answeredOf = (load: KioskLoad) => load.transactions.filter((tx) => tx.state !== 'pending').length;

/** Stops the kiosks and checks everything against host B's view of the ledger and log. */
async function finalCheck(pair: Pair, violations: Set<string>) {
  await Promise.all(pair.loads.map((load) => load.stop()));
  const transactions = pair.loads.flatMap((l) => l.transactions);
  const final = compareWithLedger(transactions, await pair.hostB.inspect(true), { final: true, accounts: pair.setup.customers.flatMap((c) => c.accountIds) });
  final.violations.forEach((v) => violations.add(`final: ${v}`));
  const check = await pair.hostB.check();
  if (!check.ledger.ok) violations.add(`ledger check: ${check.ledger.problems.map((p) => p.message).join('; ')}`);
  if (!check.audit.ok) violations.add(`audit verify: ${check.audit.problem?.message}`);
  const resends = transactions.reduce((sum, tx) => sum + tx.resends, 0);
  const retries: Record<string, number> = {};
  for (const load of pair.loads) for (const [code, n] of Object.entries(load.retriesByCode)) retries[code] = (retries[code] ?? 0) + n;
  return { final, resends, retries };
}

test.serial('the database network cut from one host under load: its kiosks are refused retryably, then served again, nothing acknowledged lost or applied twice', async (t) => {
  t.timeout(300_000);
  const pair = await pairUnderLoad(t, true);
  const violations = new Set<string>();
  const answered = () => pair.loads.reduce((sum, load) => sum + answeredOf(load), 0);
  await waitFor(() => answered() >= ANSWERS_BEFORE_KILL, `${ANSWERS_BEFORE_KILL} answers before the cut`, violations);
  for (const node of cluster.nodes) node.proxy.cut();
  await sleep(CUT_MS);
  // Host B's kiosks (the odd ones) were served during the cut: its network is whole.
  const duringCut = pair.loads.map(answeredOf);
  await sleep(2_000);
  if (!pair.loads.every((load, i) => i % 2 === 0 || answeredOf(load) > duringCut[i]!)) violations.add('host B\'s kiosks were not served while host A was cut off');
  const restoredAt = Date.now();
  for (const node of cluster.nodes) node.proxy.restore();
  const before = pair.loads.map(answeredOf);
  await waitFor(() => pair.loads.every((load, i) => answeredOf(load) > before[i]! + 1), 'every kiosk served again after the restore', violations);
  const servedAgainMs = Date.now() - restoredAt;
  const { final, resends, retries } = await finalCheck(pair, violations);
  await recordScenarioResult({
    scenario: 'database network cut from one of two hosts',
    part: 'database-cut',
    iterations: 1,
    faultsInjected: 1,
    acknowledged: final.acknowledged,
    lost: final.lost.length,
    duplicated: final.duplicated.length,
    invariantViolations: violations.size,
    measurements: { kiosks: pair.loads.length, 'cut, ms': CUT_MS + 2_000, 'requests resent with the same id': resends, 'restore to every kiosk served again, ms': servedAgainMs, 'retryable refusals by code': JSON.stringify(retries) },
  });
  t.log(`acknowledged ${final.acknowledged}, resends ${resends}, served again ${servedAgainMs} ms after the restore, retries ${JSON.stringify(retries)}`);
  t.deepEqual([...violations], []);
  t.deepEqual(final.details, [], 'lost or duplicated transactions');
  t.is(final.lost.length, 0);
  t.is(final.duplicated.length, 0);
});

test.serial('the primary killed under two hosts\' load: served again on the promoted standby, nothing acknowledged lost or applied twice', async (t) => {
  t.timeout(300_000);
  const pair = await pairUnderLoad(t, false);
  const { loads, random } = pair;
  const transactions = () => loads.flatMap((l) => l.transactions);
  const answered = () => transactions().filter((tx) => tx.state !== 'pending').length;
  const violations = new Set<string>();
  await waitFor(() => answered() >= ANSWERS_BEFORE_KILL, `${ANSWERS_BEFORE_KILL} answers before the kill`, violations);
  await sleep(random.int(50, 500));
  const pendingAtKill = transactions().filter((tx) => tx.state === 'pending').length;
  const killed = await cluster.killPrimary();
  // Served again: every kiosk has had an answer to a request it sent after the kill.
  const answeredBefore = loads.map(answeredOf);
  await waitFor(() => loads.every((load, i) => answeredOf(load) > answeredBefore[i]! + 1), 'every kiosk served again', violations);
  const servedAgainMs = Date.now() - killed.killedAtMs;
  const leader = await cluster.waitForNewLeader(killed.node.name, PROGRESS_TIMEOUT_MS).catch(() => undefined);
  const afterServed = answered();
  await waitFor(() => answered() >= afterServed + ANSWERS_AFTER_SERVED_AGAIN, `${ANSWERS_AFTER_SERVED_AGAIN} answers after serving again`, violations);
  const { final, resends, retries } = await finalCheck(pair, violations);
  await recordScenarioResult({
    scenario: 'PostgreSQL primary killed under two hosts\' load',
    part: 'primary-failover',
    iterations: 1,
    faultsInjected: 1,
    acknowledged: final.acknowledged,
    lost: final.lost.length,
    duplicated: final.duplicated.length,
    invariantViolations: violations.size,
    measurements: {
      kiosks: loads.length,
      'requests in flight at the kill': pendingAtKill,
      'requests resent with the same id': resends,
      'kill to every kiosk served again, ms': servedAgainMs,
      'kill to Patroni naming the new leader, ms': leader === undefined ? 'n/a' : leader.atMs - killed.killedAtMs,
      'retryable refusals by code': JSON.stringify(retries),
    },
  });
  t.log(`acknowledged ${final.acknowledged}, in flight at the kill ${pendingAtKill}, resends ${resends}, served again after ${servedAgainMs} ms (new leader after ${leader === undefined ? 'n/a' : leader.atMs - killed.killedAtMs} ms), retries ${JSON.stringify(retries)}`);
  t.deepEqual([...violations], []);
  t.deepEqual(final.details, [], 'lost or duplicated transactions');
  t.is(final.lost.length, 0);
  t.is(final.duplicated.length, 0);
  t.true(servedAgainMs <= 30_000, `served again after ${servedAgainMs} ms`);
});
