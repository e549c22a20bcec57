// The PostgreSQL primary killed under the load of two bank hosts: a three-node Patroni cluster of this
// test's own (it kills a node, so it does not share the run's cluster), two host processes on one database,
// two kiosks on each (real ChannelClients over TLS 1.3-PSK, resending unanswered or retryably refused
// requests with the same ids). The primary's Patroni and PostgreSQL are SIGKILLed mid-load; Patroni promotes
// the synchronous standby and the hosts find it. Counted: acknowledged transactions lost or duplicated,
// invariant violations (ledger check, audit verify across every lane, the kiosks' answers against the
// ledger), all 0, and the time from the kill until every kiosk was served again.
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
/** Generous bounds on behaviour on a shared machine (Patroni takes ~10 s to replace a dead primary). */
const PROGRESS_TIMEOUT_MS = 90_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('the primary killed under two hosts\' load: served again on the promoted standby, nothing acknowledged lost or applied twice', async (t) => {
  t.timeout(CLUSTER_START_TIMEOUT_MS + 300_000);
  const cluster = await PostgresCluster.start();
  t.log(`cluster started in ${cluster.startMs} ms`);
  const random = new SeededRandom(reliabilityParams().seed, 11);
  const [dirA, dirB] = [await mkdtemp(path.join(os.tmpdir(), 'reliability-primary-a-')), await mkdtemp(path.join(os.tmpdir(), 'reliability-primary-b-'))];
  await createHostKeys(path.join(dirA, 'keys'));
  const credentials = await cluster.createDatabase('primary_failover');
  await writeFile(path.join(dirA, 'keys', 'postgres-password'), credentials.password + '\n', { mode: 0o600 });
  await cp(path.join(dirA, 'keys'), path.join(dirB, 'keys'), { recursive: true });
  const store = (hostId: string) =>
    postgresStoreConfigSchema.parse({ backend: 'postgresql', addresses: cluster.addresses(), database: credentials.database, user: credentials.user, hostId, connectTimeoutMs: 5_000 });
  const loads: KioskLoad[] = [];
  const hostA = await BankHostChild.start({ dir: dirA, fresh: false, config: { ...HOST_CONFIG, store: store('host-a') } });
  let hostB: BankHostChild | undefined;
  t.teardown(async () => {
    for (const load of loads) load.client.close();
    await hostA.kill();
    await hostB?.kill();
    await cluster.stop();
    await rm(dirA, { recursive: true, force: true });
    await rm(dirB, { recursive: true, force: true });
  });
  const deviceIds = Array.from({ length: 2 * KIOSKS_PER_HOST }, (_, i) => `primary-kiosk-${i}`);
  const setup = await hostA.setup(deviceIds, deviceIds.map((_, i) => ({ username: `primary-user-${i}`, password: `primary password ${i}`, savings: true })));
  hostB = await BankHostChild.start({ dir: dirB, fresh: false, config: { ...HOST_CONFIG, store: store('host-b') } });
  const ports = [await hostA.serve(0), await hostB.serve(0)];
  for (let i = 0; i < deviceIds.length; i++) {
    const load = new KioskLoad(
      { deviceId: deviceIds[i]!, kShared: Buffer.from(setup.devices[i]!.kSharedHex, 'hex'), username: `primary-user-${i}`, password: `primary password ${i}`, accountIds: setup.customers[i]!.accountIds },
      { host: '127.0.0.1', port: ports[i % 2]!, random: random.fork(300 + i), requestTimeoutMs: 8_000 },
    );
    loads.push(load);
    load.start();
  }
  const transactions = () => loads.flatMap((l) => l.transactions);
  const answered = () => transactions().filter((tx) => tx.state !== 'pending').length;
  const violations = new Set<string>();
  const waitFor = async (condition: () => boolean, what: string) => {
    const deadline = Date.now() + PROGRESS_TIMEOUT_MS;
    while (!condition() && Date.now() < deadline) await sleep(10);
    if (!condition()) violations.add(`${what} within ${PROGRESS_TIMEOUT_MS} ms`);
  };

  await waitFor(() => answered() >= ANSWERS_BEFORE_KILL, `${ANSWERS_BEFORE_KILL} answers before the kill`);
  await sleep(random.int(50, 500));
  const pendingAtKill = transactions().filter((tx) => tx.state === 'pending').length;
  const killed = await cluster.killPrimary();
  // Served again: every kiosk has had an answer to a request it sent after the kill.
  const answeredBefore = loads.map((load) => load.transactions.filter((tx) => tx.state !== 'pending').length);
  await waitFor(() => loads.every((load, i) => load.transactions.filter((tx) => tx.state !== 'pending').length > answeredBefore[i]! + 1), 'every kiosk served again');
  const servedAgainMs = Date.now() - killed.killedAtMs;
  const leader = await cluster.waitForNewLeader(killed.node.name, PROGRESS_TIMEOUT_MS).catch(() => undefined);
  const afterServed = answered();
  await waitFor(() => answered() >= afterServed + ANSWERS_AFTER_SERVED_AGAIN, `${ANSWERS_AFTER_SERVED_AGAIN} answers after serving again`);
  await Promise.all(loads.map((load) => load.stop()));

  const final = compareWithLedger(transactions(), await hostB.inspect(true), { final: true, accounts: setup.customers.flatMap((c) => c.accountIds) });
  final.violations.forEach((v) => violations.add(`final: ${v}`));
  const check = await hostB.check();
  if (!check.ledger.ok) violations.add(`ledger check: ${check.ledger.problems.map((p) => p.message).join('; ')}`);
  if (!check.audit.ok) violations.add(`audit verify: ${check.audit.problem?.message}`);
  const resends = transactions().reduce((sum, tx) => sum + tx.resends, 0);
  const retries = loads.reduce<Record<string, number>>((all, load) => {
    for (const [code, n] of Object.entries(load.retriesByCode)) all[code] = (all[code] ?? 0) + n;
    return all;
  }, {});
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
      kiosks: deviceIds.length,
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
