// Crash and restart: the bank host runs in its own process on a real LevelDB folder while several kiosks
// (real ChannelClients over TLS 1.3-PSK) move money; it is SIGKILLed at random moments and started again on
// the same folder and port. Kiosks resend unanswered requests with the same ids. After every restart,
// before the host serves again: the ledger check and audit verify pass, every transaction a kiosk was told
// about is in the ledger exactly once, nothing refused was applied, and no acknowledged hold is gone. At
// the end, with every request answered, balances equal what the answers add up to, each acknowledged
// transaction has exactly one audit record, and `bank-host ledger check` / `audit verify` (the CLI, on the
// stopped host's folder) exit 0.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { BankHostChild } from './bank-host-child.js';
import { compareWithLedger, KioskLoad } from './money-load.js';
import { recordScenarioResult } from './results.js';
import { reliabilityParams, scaled, SeededRandom } from './seeded-random.js';

const KIOSKS = 4;
/** Kills in the default run; RELIABILITY_SCALE multiplies it. */
const KILLS_AT_SCALE_1 = 6;
/** The host is killed this long after it served again (drawn uniformly), so kills land in every phase of
 *  a request: parsing, waiting for the lock, in the synced batch, after the batch but before the answer. */
const KILL_AFTER_MS = { min: 150, max: 1_200 } as const;
/** Each kill waits for at least this many new answers first, so it lands under load, not in a reconnect. */
const ANSWERS_BEFORE_KILL = 10;
/** A customer's limits out of the way (the load is about crashes, not limits), and deposits available at
 *  once so the withdrawals have money to act on. */
const HOST_CONFIG = { dailyWithdrawalLimitCents: 1_000_000_000_000, maxWithdrawalCents: 100_000, depositDailyCapCents: 1_000_000_000_000, depositHoldMs: 0 } as const;
const CLI = path.resolve('bank-host/cli/main.ts');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function runCli(args: string[]): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

test('SIGKILLed under load, the bank host restarts with every acknowledged transaction exactly once and no hold lost', async (t) => {
  const params = reliabilityParams();
  const kills = scaled(KILLS_AT_SCALE_1, params);
  t.timeout(60_000 + kills * 20_000);
  const random = new SeededRandom(params.seed, 1);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'reliability-crash-'));
  let host = await BankHostChild.start({ dir, fresh: true, config: HOST_CONFIG });
  const loads: KioskLoad[] = [];
  t.teardown(async () => {
    for (const load of loads) load.client.close();
    await host.kill();
    await rm(dir, { recursive: true, force: true });
  });

  const deviceIds = Array.from({ length: KIOSKS }, (_, i) => `crash-kiosk-${i}`);
  const setup = await host.setup(deviceIds, deviceIds.map((_, i) => ({ username: `crash-user-${i}`, password: `crash password ${i}`, savings: true })));
  const port = await host.serve(0);
  for (let i = 0; i < KIOSKS; i++) {
    const load = new KioskLoad(
      { deviceId: deviceIds[i]!, kShared: Buffer.from(setup.devices[i]!.kSharedHex, 'hex'), username: `crash-user-${i}`, password: `crash password ${i}`, accountIds: setup.customers[i]!.accountIds },
      { host: '127.0.0.1', port, random: random.fork(100 + i), requestTimeoutMs: 3_000 },
    );
    loads.push(load);
    load.start();
  }
  const transactions = () => loads.flatMap((l) => l.transactions);
  const answered = () => transactions().filter((tx) => tx.state !== 'pending').length;

  let killsDelivered = 0;
  const lost = new Set<string>();
  const duplicated = new Set<string>();
  const violations = new Set<string>();
  const details = new Set<string>();
  const restartMs: number[] = [];
  let pendingAtKills = 0;
  let durableButUnanswered = 0;
  for (let i = 0; i < kills; i++) {
    const before = answered();
    const progressDeadline = Date.now() + 20_000;
    while (answered() < before + ANSWERS_BEFORE_KILL && Date.now() < progressDeadline) await sleep(10);
    if (answered() < before + ANSWERS_BEFORE_KILL) violations.add(`no progress before kill ${i + 1}: ${answered() - before} answers in 20 s`);
    await sleep(random.int(KILL_AFTER_MS.min, KILL_AFTER_MS.max));
    const inFlight = transactions().filter((tx) => tx.state === 'pending');
    pendingAtKills += inFlight.length;
    const exit = await host.kill();
    if (exit.signal === 'SIGKILL') killsDelivered++;
    else violations.add(`kill ${i + 1}: the host exited with ${exit.signal ?? exit.code}, not SIGKILL`);

    const restartStarted = Date.now();
    host = await BankHostChild.start({ dir, fresh: false, config: HOST_CONFIG });
    const check = await host.check();
    if (!check.ledger.ok) violations.add(`after kill ${i + 1}: ledger check: ${check.ledger.problems.map((p) => p.message).join('; ')}`);
    if (!check.audit.ok) violations.add(`after kill ${i + 1}: audit verify: ${check.audit.problem?.message}`);
    const inspection = await host.inspect();
    const comparison = compareWithLedger(transactions(), inspection, { final: false });
    // In flight at the kill and already durable: the answer was lost with the process, so the resend
    // must be answered from the idempotency record, not applied again.
    const holdRequests = new Set(Object.values(inspection.holds).map((h) => h.requestId));
    const openRequests = new Set(Object.values(inspection.deposits).map((d) => d.openRequestId));
    durableButUnanswered += inFlight.filter((tx) => inspection.postingsByRequest[tx.requestId] !== undefined || holdRequests.has(tx.requestId) || openRequests.has(tx.requestId)).length;
    comparison.lost.forEach((id) => lost.add(id));
    comparison.duplicated.forEach((id) => duplicated.add(id));
    comparison.violations.forEach((v) => violations.add(`after kill ${i + 1}: ${v}`));
    comparison.details.forEach((d) => details.add(`after kill ${i + 1}: ${d}`));
    await host.serve(port);
    restartMs.push(Date.now() - restartStarted);
  }

  // Let the kiosks finish what they started (every request answered, every authorization settled).
  await sleep(500);
  await Promise.all(loads.map((load) => load.stop()));
  const final = compareWithLedger(transactions(), await host.inspect(true), { final: true, accounts: setup.customers.flatMap((c) => c.accountIds) });
  final.lost.forEach((id) => lost.add(id));
  final.duplicated.forEach((id) => duplicated.add(id));
  final.violations.forEach((v) => violations.add(`final: ${v}`));
  final.details.forEach((d) => details.add(`final: ${d}`));
  const finalCheck = await host.check();
  if (!finalCheck.ledger.ok) violations.add(`final ledger check: ${finalCheck.ledger.problems.map((p) => p.message).join('; ')}`);
  if (!finalCheck.audit.ok) violations.add(`final audit verify: ${finalCheck.audit.problem?.message}`);
  await host.stop();
  // The operator's tools on the stopped host's folder, as a person would run them.
  const where = ['--data', path.join(dir, 'data'), '--keys', path.join(dir, 'keys')];
  const ledgerCli = runCli(['ledger', 'check', ...where]);
  if (ledgerCli.status !== 0 || !/ledger OK/.test(ledgerCli.output)) violations.add(`bank-host ledger check exited ${ledgerCli.status}: ${ledgerCli.output}`);
  const auditCli = runCli(['audit', 'verify', ...where]);
  if (auditCli.status !== 0 || !/audit log OK/.test(auditCli.output)) violations.add(`bank-host audit verify exited ${auditCli.status}: ${auditCli.output}`);

  const resends = transactions().reduce((sum, tx) => sum + tx.resends, 0);
  await recordScenarioResult({
    scenario: 'bank host SIGKILL under load',
    part: 'host-crash',
    iterations: kills,
    faultsInjected: killsDelivered,
    acknowledged: final.acknowledged,
    lost: lost.size,
    duplicated: duplicated.size,
    invariantViolations: violations.size,
    measurements: {
      'kiosks': KIOSKS,
      'requests resent with the same id': resends,
      'requests in flight at the kills': pendingAtKills,
      'of those, durable before the kill (answer lost, resend replayed)': durableButUnanswered,
      'acknowledged ok / refused': `${final.acknowledgedOk} / ${final.acknowledged - final.acknowledgedOk}`,
      'restart to serving again, max ms': Math.max(...restartMs),
    },
  });
  t.log(`kills ${killsDelivered}, acknowledged ${final.acknowledged}, resends ${resends}, in flight at kills ${pendingAtKills} (durable ${durableButUnanswered}), restart max ${Math.max(...restartMs)} ms`);
  t.is(killsDelivered, kills);
  t.deepEqual([...violations], []);
  t.deepEqual([...details], [], 'lost or duplicated transactions');
  t.is(lost.size, 0);
  t.is(duplicated.size, 0);
  t.true(final.acknowledged > kills * ANSWERS_BEFORE_KILL, 'the kiosks did real work between the kills');
  t.true(resends > 0, 'some requests were in flight at a kill and were resent');
});
