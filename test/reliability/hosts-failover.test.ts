// One of two bank hosts SIGKILLed under load (PostgreSQL, a three-node Patroni cluster): both host
// processes serve one database; kiosks (real ChannelClients over TLS 1.3-PSK, resending unanswered requests
// with the same ids) reach host A through a switch that stands for the bank's load balancer; host A is
// SIGKILLed mid-load and the switch sends the kiosks to host B, as a balancer's health check would (the
// kiosks' own list of host addresses is the kiosk side's). Counted: acknowledged transactions lost or
// duplicated, invariant violations (ledger check, audit verify across every lane, the kiosks' answers
// against the ledger), all 0, and the time from the kill until a kiosk was served again.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { createHostKeys } from '../../bank-host/keys.js';
import { CLUSTER_START_TIMEOUT_MS } from '../helpers/postgres-cluster.js';
import { clusterStartMs, sharedCluster, testStoreConfig } from '../helpers/store-backend.js';
import { BankHostChild } from './bank-host-child.js';
import { compareWithLedger, KioskLoad } from './money-load.js';
import { recordScenarioResult } from './results.js';
import { reliabilityParams, SeededRandom } from './seeded-random.js';

const KIOSKS = 4;
/** Answers the kiosks get from host A before it is killed, and from host B after. */
const ANSWERS_BEFORE_KILL = 40;
const ANSWERS_AFTER_KILL = 40;
const HOST_CONFIG = { dailyWithdrawalLimitCents: 1_000_000_000_000, maxWithdrawalCents: 100_000, depositDailyCapCents: 1_000_000_000_000, depositHoldMs: 0 } as const;
/** Generous bounds on behaviour (the machine is shared), never measurements. */
const PROGRESS_TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The bank's load balancer, reduced to what the test needs: every new connection goes to the current
 *  target; connections to a dead target close when it does. */
async function startSwitch(): Promise<{ port: number; target: { port: number }; close(): Promise<void> }> {
  const state = { port: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((downstream) => {
    const upstream = net.connect({ host: '127.0.0.1', port: state.port });
    sockets.add(downstream).add(upstream);
    const end = () => {
      downstream.destroy();
      upstream.destroy();
      sockets.delete(downstream);
      sockets.delete(upstream);
    };
    downstream.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    downstream.pipe(upstream);
    upstream.pipe(downstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    target: state,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

test('one of two hosts SIGKILLed under load: the other serves its kiosks, nothing acknowledged lost or applied twice', async (t) => {
  t.timeout(CLUSTER_START_TIMEOUT_MS + 240_000);
  await sharedCluster();
  t.log(`cluster started in ${clusterStartMs} ms`);
  const params = reliabilityParams();
  const random = new SeededRandom(params.seed, 7);
  const [dirA, dirB] = [await mkdtemp(path.join(os.tmpdir(), 'reliability-host-a-')), await mkdtemp(path.join(os.tmpdir(), 'reliability-host-b-'))];
  await createHostKeys(path.join(dirA, 'keys'));
  const store = await testStoreConfig(path.join(dirA, 'keys'), 'postgresql', 'host-a');
  await cp(path.join(dirA, 'keys'), path.join(dirB, 'keys'), { recursive: true });
  const loads: KioskLoad[] = [];
  const balancer = await startSwitch();
  let hostB: BankHostChild | undefined;
  const hostA = await BankHostChild.start({ dir: dirA, fresh: false, config: { ...HOST_CONFIG, store } });
  t.teardown(async () => {
    for (const load of loads) load.client.close();
    await balancer.close();
    await hostA.kill();
    await hostB?.kill();
    await rm(dirA, { recursive: true, force: true });
    await rm(dirB, { recursive: true, force: true });
  });
  const deviceIds = Array.from({ length: KIOSKS }, (_, i) => `pair-kiosk-${i}`);
  const setup = await hostA.setup(deviceIds, deviceIds.map((_, i) => ({ username: `pair-user-${i}`, password: `pair password ${i}`, savings: true })));
  hostB = await BankHostChild.start({ dir: dirB, fresh: false, config: { ...HOST_CONFIG, store: store.backend === 'postgresql' ? { ...store, hostId: 'host-b' } : store } });
  balancer.target.port = await hostA.serve(0);
  const portB = await hostB.serve(0);
  for (let i = 0; i < KIOSKS; i++) {
    const load = new KioskLoad(
      { deviceId: deviceIds[i]!, kShared: Buffer.from(setup.devices[i]!.kSharedHex, 'hex'), username: `pair-user-${i}`, password: `pair password ${i}`, accountIds: setup.customers[i]!.accountIds },
      { host: '127.0.0.1', port: balancer.port, random: random.fork(200 + i), requestTimeoutMs: 5_000 },
    );
    loads.push(load);
    load.start();
  }
  const transactions = () => loads.flatMap((l) => l.transactions);
  const answered = () => transactions().filter((tx) => tx.state !== 'pending').length;
  const violations = new Set<string>();
  const waitForAnswers = async (count: number, what: string) => {
    const deadline = Date.now() + PROGRESS_TIMEOUT_MS;
    while (answered() < count && Date.now() < deadline) await sleep(10);
    if (answered() < count) violations.add(`${what}: ${answered()} answers of ${count} within ${PROGRESS_TIMEOUT_MS} ms`);
  };

  await waitForAnswers(ANSWERS_BEFORE_KILL, 'before the kill');
  await sleep(random.int(50, 500));
  const pendingAtKill = transactions().filter((tx) => tx.state === 'pending').length;
  const killedAt = Date.now();
  const exit = await hostA.kill();
  balancer.target.port = portB;
  const answeredAtKill = answered();
  while (answered() === answeredAtKill && Date.now() - killedAt < PROGRESS_TIMEOUT_MS) await sleep(5);
  const servedAgainMs = Date.now() - killedAt;
  await waitForAnswers(answeredAtKill + ANSWERS_AFTER_KILL, 'after the kill');
  await Promise.all(loads.map((load) => load.stop()));

  const final = compareWithLedger(transactions(), await hostB.inspect(true), { final: true, accounts: setup.customers.flatMap((c) => c.accountIds) });
  final.violations.forEach((v) => violations.add(`final: ${v}`));
  const check = await hostB.check();
  if (!check.ledger.ok) violations.add(`ledger check: ${check.ledger.problems.map((p) => p.message).join('; ')}`);
  if (!check.audit.ok) violations.add(`audit verify: ${check.audit.problem?.message}`);
  const resends = transactions().reduce((sum, tx) => sum + tx.resends, 0);
  await recordScenarioResult({
    scenario: 'one of two hosts SIGKILLed under load (PostgreSQL)',
    part: 'hosts-failover',
    iterations: 1,
    faultsInjected: exit.signal === 'SIGKILL' ? 1 : 0,
    acknowledged: final.acknowledged,
    lost: final.lost.length,
    duplicated: final.duplicated.length,
    invariantViolations: violations.size,
    measurements: {
      kiosks: KIOSKS,
      'requests in flight at the kill': pendingAtKill,
      'requests resent with the same id': resends,
      'kill to a kiosk served again by the other host, ms': servedAgainMs,
    },
  });
  t.log(`acknowledged ${final.acknowledged}, in flight at the kill ${pendingAtKill}, resends ${resends}, served again after ${servedAgainMs} ms`);
  t.is(exit.signal, 'SIGKILL');
  t.deepEqual([...violations], []);
  t.deepEqual(final.details, [], 'lost or duplicated transactions');
  t.is(final.lost.length, 0);
  t.is(final.duplicated.length, 0);
});
