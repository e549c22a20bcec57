// Network faults between kiosks and the host: every byte goes through a proxy that delays, duplicates,
// cuts and blackholes traffic (fault-proxy.ts). Every transaction must end exactly once or not at all,
// and what the kiosk was told must be what the ledger says:
//  - kiosks on the channel client under a money load resend unanswered requests with the same id; each
//    answer is held against the ledger (money-load.ts), and the final balances against the answers;
//  - whole kiosks (KioskController with the dispenser and printer on pty pairs) withdraw cash through the
//    proxy; whatever the customer was shown (cash and a receipt, "transaction incomplete", a refusal) must
//    match what the dispenser counted out and what the ledger charged, once recovery has run.
import test from 'ava';
import { checkLedger } from '../../bank-host/ledger/check.js';
import { listHolds } from '../../bank-host/ledger/operator.js';
import { addCustomer, openAccount } from '../../bank-host/customers/admin.js';
import { verifyAuditChain } from '../../bank-host/audit/verify.js';
import { createBankingOperations } from '../../bank-host/operations/banking.js';
import type { KioskSnapshot } from '../../kiosk/core/session.js';
import { startTestHost } from '../helpers/host.js';
import { CASSETTES, FAST_SCRYPT, PASSWORD, startKioskRig } from '../kiosk/core/kiosk-rig.js';
import { FaultProxy, NO_FAULTS, totalFaults, type FaultRates } from './fault-proxy.js';
import { inspectLedger } from './ledger-inspection.js';
import { compareWithLedger, KioskLoad } from './money-load.js';
import { recordScenarioResult } from './results.js';
import { reliabilityParams, scaled, SeededRandom } from './seeded-random.js';

const KIOSKS = 4;
/** Money transactions answered in the default run; RELIABILITY_SCALE multiplies it. */
const TRANSACTIONS_AT_SCALE_1 = 500;
/** Per chunk. Cuts and blackholes end a connection, so they are rarer than delays and duplicates. */
const LOAD_FAULTS: FaultRates = { delay: 0.08, duplicate: 0.01, cut: 0.01, blackhole: 0.005 };
/** A customer's limits out of the way (the load is about the network), and deposits available at once so
 *  the withdrawals have money to act on. */
const HOST_CONFIG = { dailyWithdrawalLimitCents: 1_000_000_000_000, maxWithdrawalCents: 100_000, depositDailyCapCents: 1_000_000_000_000, depositHoldMs: 0 } as const;
/** The host's production limits: a blackholed connection is left open at the host until its idle timeout
 *  (60 s), but once a kiosk has four of them the silent ones give way to its new connection. */
const HOST_LIMITS = {} as const;
const KEEP_ALIVE_MS = 3_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('through delays, duplicates, cuts and blackholes every transaction ends exactly once or not at all, as the kiosk was told', async (t) => {
  const params = reliabilityParams();
  const target = scaled(TRANSACTIONS_AT_SCALE_1, params);
  t.timeout(90_000 + target * 100);
  const random = new SeededRandom(params.seed, 2);
  const host = await startTestHost({ operations: createBankingOperations({ scryptCost: FAST_SCRYPT }), config: HOST_CONFIG, limits: HOST_LIMITS });
  const proxy = await FaultProxy.start({ upstreamPort: host.port, random: random.fork(1), rates: LOAD_FAULTS });
  const loads: KioskLoad[] = [];
  t.teardown(async () => {
    for (const load of loads) load.client.close();
    await proxy.close();
    await host.close();
  });
  const services = host.host.state.services;
  const accounts: string[] = [];
  for (let i = 0; i < KIOSKS; i++) {
    const deviceId = `net-kiosk-${i}`;
    const username = `net-user-${i}`;
    const added = await addCustomer(services, username, PASSWORD, { scryptCost: FAST_SCRYPT });
    const savings = await openAccount(services, username, 'savings');
    accounts.push(added.accountId, savings.accountId);
    const load = new KioskLoad(
      { deviceId, kShared: await host.addDevice(deviceId), username, password: PASSWORD, accountIds: [added.accountId, savings.accountId] },
      // A short timeout so a blackholed connection is given up on quickly and the request resent.
      { host: '127.0.0.1', port: proxy.port, random: random.fork(10 + i), requestTimeoutMs: 1_000, clientLimits: { requestTimeoutMs: 1_000, livenessProbeTimeoutMs: 1_000, connectTimeoutMs: 1_000, keepAliveIntervalMs: KEEP_ALIVE_MS } },
    );
    loads.push(load);
    load.start();
  }
  const transactions = () => loads.flatMap((l) => l.transactions);
  const started = Date.now();
  const capMs = 60_000 * Math.max(1, params.scale);
  while (transactions().filter((tx) => tx.state !== 'pending').length < target && Date.now() - started < capMs) await sleep(50);
  await Promise.all(loads.map((load) => load.stop()));

  const final = compareWithLedger(transactions(), await inspectLedger(services.db, services.keys.auditEnc), { final: true, accounts });
  const ledger = await checkLedger(services.db);
  const audit = await verifyAuditChain(services.db, { enc: services.keys.auditEnc, mac: services.keys.auditMac, sign: services.keys.auditSign });
  const violations = [...final.violations];
  if (!ledger.ok) violations.push(`ledger check: ${ledger.problems.map((p) => p.message).join('; ')}`);
  if (!audit.ok) violations.push(`audit verify: ${audit.problem?.message}`);
  const retries = loads.reduce<Record<string, number>>((sum, l) => {
    for (const [code, n] of Object.entries(l.retriesByCode)) sum[code] = (sum[code] ?? 0) + n;
    return sum;
  }, {});
  const elapsedS = (Date.now() - started) / 1000;
  const stats = host.host.channel.stats;
  await recordScenarioResult({
    scenario: 'network faults (delay, blackhole, cut, duplicate)',
    part: 'channel-clients',
    iterations: transactions().length,
    faultsInjected: totalFaults(proxy.counts),
    acknowledged: final.acknowledged,
    lost: final.lost.length,
    duplicated: final.duplicated.length,
    invariantViolations: violations.length,
    measurements: {
      'connections through the proxy': proxy.counts.connections,
      'delayed / duplicated / cut / blackholed chunks': `${proxy.counts.delayed} / ${proxy.counts.duplicated} / ${proxy.counts.cut} / ${proxy.counts.blackholed}`,
      'resends by cause': Object.entries(retries).map(([code, n]) => `${code} ${n}`).join(', '),
      'answered transactions per second': Math.round(final.acknowledged / elapsedS),
      'host: handshakes completed / refused connections / failed handshakes / refused TLS records': `${stats.handshakesCompleted} / ${stats.connectionsRefused} / ${Object.values(stats.handshakeFailures).reduce((a, b) => a + b, 0)} / ${Object.values(stats.recordFailures).reduce((a, b) => a + b, 0)}`,
    },
  });
  t.log(`${final.acknowledged} answered in ${elapsedS.toFixed(1)} s; faults ${JSON.stringify(proxy.counts)}; resends ${JSON.stringify(retries)}; host ${JSON.stringify(stats)}`);
  t.deepEqual(violations, []);
  t.deepEqual(final.details, [], 'lost or duplicated transactions');
  t.true(final.acknowledged >= target, `only ${final.acknowledged} of ${target} transactions were answered in ${capMs} ms`);
  for (const kind of ['delayed', 'duplicated', 'cut', 'blackholed'] as const) t.true(proxy.counts[kind] > 0, `no ${kind} fault was injected`);
});

/** Withdrawals by whole kiosks in the default run; RELIABILITY_SCALE multiplies it. */
const KIOSK_WITHDRAWALS_AT_SCALE_1 = 4;
/** Heavier than the load's: a withdrawal is only a handful of chunks, and each should meet trouble. */
const WITHDRAWAL_FAULTS: FaultRates = { delay: 0.25, duplicate: 0.05, cut: 0.06, blackhole: 0.04 };
const WITHDRAWAL_CENTS = [4_000, 6_000, 10_000, 14_000] as const;

type ShownOutcome = { kind: 'cash'; dispensedCents: number } | { kind: 'incomplete'; dispensedCents?: number } | { kind: 'no-cash'; code: string };

function shownOutcome(snapshot: KioskSnapshot): ShownOutcome {
  if (snapshot.screen === 'another-transaction' && snapshot.view?.kind === 'withdrawal') return { kind: 'cash', dispensedCents: snapshot.view.dispensedCents };
  const code = snapshot.notice?.code ?? `screen ${snapshot.screen} without a notice`;
  if (code === 'TRANSACTION_INCOMPLETE') return snapshot.notice?.amountCents !== undefined ? { kind: 'incomplete', dispensedCents: snapshot.notice.amountCents } : { kind: 'incomplete' };
  return { kind: 'no-cash', code };
}

test('a kiosk withdrawing through the faulty network shows the customer what the dispenser and the ledger agree on', async (t) => {
  const params = reliabilityParams();
  const withdrawals = scaled(KIOSK_WITHDRAWALS_AT_SCALE_1, params);
  t.timeout(60_000 + withdrawals * 45_000);
  const random = new SeededRandom(params.seed, 3);
  const host = await startTestHost({ operations: createBankingOperations({ scryptCost: FAST_SCRYPT }), config: HOST_CONFIG, limits: HOST_LIMITS });
  const proxy = await FaultProxy.start({ upstreamPort: host.port, random: random.fork(1), rates: NO_FAULTS });
  const rig = await startKioskRig({
    host,
    config: { port: proxy.port },
    kioskOptions: {
      clientLimits: { reconnectDelayMinMs: 20, reconnectDelayMaxMs: 200, connectTimeoutMs: 1_000, livenessProbeTimeoutMs: 1_000, keepAliveIntervalMs: KEEP_ALIVE_MS },
      withdrawalDeadlines: { authorizeDeadlineMs: 8_000, settleDeadlineMs: 8_000 },
    },
  });
  t.teardown(async () => {
    await rig.close();
    await proxy.close();
    await host.close();
  });
  const customer = await rig.customer('netcash', 1_000_000);
  const teller = await host.connectedClient('teller-netcash-check', { keepAliveIntervalMs: KEEP_ALIVE_MS });
  await teller.request('signin.password', { username: 'netcash', password: PASSWORD });
  const balanceCents = async () => (await teller.request('balance', { accountId: customer.accountId })).balanceCents;
  const dispensedCents = () => rig.dispenser.lifetimeDispensed.reduce((sum, n, i) => sum + n * CASSETTES[i]!.denominationCents, 0);
  const inService = (s: KioskSnapshot) => s.screen === 'welcome' && s.outOfServiceReasons.length === 0;

  const violations: string[] = [];
  const shownCounts: Record<string, number> = {};
  let lost = 0;
  let duplicated = 0;
  let faults = 0;
  for (let i = 0; i < withdrawals; i++) {
    await rig.waitFor(inService, 60_000);
    const balanceBefore = await balanceCents();
    const dispensedBefore = dispensedCents();
    await rig.kiosk.beginPasswordSignIn('netcash', PASSWORD);
    await rig.kiosk.selectMenu('withdraw');
    const amountCents = random.pick(WITHDRAWAL_CENTS);

    const faultsBefore = totalFaults(proxy.counts);
    let sawWorking = false;
    let outcome: KioskSnapshot | undefined;
    const watch = (s: KioskSnapshot) => {
      if (s.screen === 'working') sawWorking = true;
      else if (sawWorking && outcome === undefined && s.screen !== 'take-cash') outcome = s;
    };
    rig.kiosk.on('state', watch);
    proxy.setRates(WITHDRAWAL_FAULTS);
    await rig.kiosk.withdraw(amountCents);
    proxy.setRates(NO_FAULTS);
    rig.kiosk.off('state', watch);
    faults += totalFaults(proxy.counts) - faultsBefore;
    const shown = shownOutcome(outcome ?? rig.kiosk.snapshot());
    shownCounts[shown.kind === 'no-cash' ? shown.code : shown.kind] = (shownCounts[shown.kind === 'no-cash' ? shown.code : shown.kind] ?? 0) + 1;
    if (rig.kiosk.snapshot().screen === 'receipt') await rig.kiosk.chooseReceipt(false);
    if (rig.kiosk.snapshot().screen === 'another-transaction') await rig.kiosk.anotherTransaction(false);

    // Whatever was left open, the kiosk's recovery settles it once the network is clean again: back in
    // service means no 'recovery-pending' reason, so nothing unfinished in its journal.
    await rig.waitFor(inService, 60_000);
    const chargedCents = balanceBefore - (await balanceCents());
    const outCents = dispensedCents() - dispensedBefore;
    const openHolds = (await listHolds(host.host.state.services)).length;
    const where = `withdrawal ${i + 1} ($${amountCents / 100}, shown ${JSON.stringify(shown)})`;
    if (chargedCents < outCents || openHolds > 0) {
      lost++;
      violations.push(`${where}: charged ${chargedCents}, dispensed ${outCents}, open holds ${openHolds}`);
    }
    if (chargedCents > outCents || outCents > amountCents) {
      duplicated++;
      violations.push(`${where}: charged ${chargedCents}, dispensed ${outCents}`);
    }
    if ((shown.kind === 'cash' || shown.kind === 'incomplete') && shown.dispensedCents !== undefined && shown.dispensedCents !== outCents) {
      violations.push(`${where}: the customer was shown ${shown.dispensedCents} cents but ${outCents} left the dispenser`);
    }
    if (shown.kind === 'no-cash' && outCents !== 0) violations.push(`${where}: the customer was told no cash (${shown.code}) but ${outCents} cents left the dispenser`);
  }
  const ledger = await checkLedger(host.host.state.services.db);
  if (!ledger.ok) violations.push(`ledger check: ${ledger.problems.map((p) => p.message).join('; ')}`);
  teller.close();
  await recordScenarioResult({
    scenario: 'kiosk withdrawals through network faults',
    part: 'kiosk-controller',
    iterations: withdrawals,
    faultsInjected: faults,
    acknowledged: withdrawals,
    lost,
    duplicated,
    invariantViolations: violations.length - lost - duplicated,
    measurements: { 'what the customer was shown': Object.entries(shownCounts).map(([k, n]) => `${k} ${n}`).join(', ') },
  });
  t.log(`shown: ${JSON.stringify(shownCounts)}; faults ${faults}`);
  t.deepEqual(violations, []);
  t.true(faults > 0, 'the withdrawals met faults');
});
