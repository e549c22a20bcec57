// The fleet at the host: each kiosk's derived state from its reports (and their absence), and its alerts,
// each raised once and cleared once with its audit record, for every kind: what a report shows (out of
// service, a faulty device, low cash by the host's and by the kiosk's own threshold, a nearly full cashbox,
// paper), offline after the host's bound, and what the ledger shows (stale holds, open deposits, money
// exceptions, an unbalanced count from the supervisor mode's seam).
import test from 'ava';
import type { ChannelClient } from '../../protocol/client.js';
import type { KioskStatus } from '../../protocol/messages.js';
import { readAuditPage } from '../../bank-host/audit/show.js';
import type { AuditEntry } from '../../bank-host/audit/record.js';
import { balancingOps } from '../../bank-host/fleet/balancing.js';
import type { Fleet } from '../../bank-host/fleet/fleet.js';
import { resolveHold } from '../../bank-host/ledger/operator.js';
import { listMoneyExceptions, resolveMoneyException } from '../../bank-host/ledger/deposit-operator.js';
import { clientDeposit, startTestHost, type TestHost } from '../helpers/host.js';
import { testKioskStatus } from '../helpers/kiosk-cash.js';

const OFFLINE_AFTER_MS = 60_000;

interface Rig {
  readonly h: TestHost;
  readonly fleet: Fleet;
  readonly clock: { offsetMs: number };
  /** Stores the report, then waits for what the fleet does with it. */
  report(client: ChannelClient, status: KioskStatus): Promise<void>;
  alertKinds(deviceId: string): string[];
  audit(action: string): Promise<AuditEntry[]>;
}

async function rig(config: Record<string, unknown> = {}): Promise<Rig> {
  const clock = { offsetMs: 0 };
  const h = await startTestHost({ config: { kioskOfflineAfterMs: OFFLINE_AFTER_MS, ...config }, now: () => Date.now() + clock.offsetMs });
  const fleet = h.host.state.services.fleet!;
  return {
    h,
    fleet,
    clock,
    async report(client, status) {
      await client.request('kiosk.status', status);
      await fleet.settled();
    },
    alertKinds: (deviceId) => fleet.view(deviceId).alerts.map((a) => (a.subject ? `${a.kind}:${a.subject}` : a.kind)).sort(),
    async audit(action) {
      const { services } = h.host.state;
      const page = await readAuditPage(services.db, services.keys.auditEnc, { action, order: 'asc', limit: 1_000, scanLimit: 1_000_000 });
      return page.entries;
    },
  };
}

test('a kiosk is never-reported, then in service, then out of service and back, and its alerts follow its reports once each', async (t) => {
  const r = await rig();
  t.teardown(() => r.h.close());
  const kShared = await r.h.addDevice('kiosk-fl1');
  t.is(r.fleet.stateOf('kiosk-fl1'), 'never-reported');
  t.deepEqual(r.alertKinds('kiosk-fl1'), [], 'a kiosk that never reported is not offline: it may not be installed yet');
  const client = r.h.client('kiosk-fl1', kShared);
  client.start();
  await client.waitConnected(5_000);
  await r.report(client, testKioskStatus());
  t.is(r.fleet.stateOf('kiosk-fl1'), 'in-service');
  t.true(r.fleet.view('kiosk-fl1').connected);
  t.deepEqual(r.alertKinds('kiosk-fl1'), []);

  const broken = testKioskStatus({
    inService: false,
    reasons: ['dispenser: jammed'],
    devices: [{ device: 'dispenser', state: 'fault', detail: 'note jam at the exit' }, { device: 'printer', state: 'ok' }],
    cassettes: [{ denominationCents: 2_000, count: 40 }, { denominationCents: 5_000, count: 500 }],
    noteAcceptor: { denominationsCents: [2_000], cashbox: [{ denominationCents: 2_000, count: 950 }], cashboxCapacityNotes: 1_000 },
    receiptPaper: 'low',
  });
  // The same report twice (a heartbeat): each alert is raised once.
  await r.report(client, broken);
  await r.report(client, broken);
  t.is(r.fleet.stateOf('kiosk-fl1'), 'out-of-service');
  t.deepEqual(r.alertKinds('kiosk-fl1'), ['cashbox-nearly-full', 'device-fault:dispenser', 'low-cash', 'out-of-service', 'paper-low']);
  const lowCash = r.fleet.view('kiosk-fl1').alerts.find((a) => a.kind === 'low-cash')!;
  t.regex(lowCash.detail, /\$20\.00 cassette: 40 notes \(below 100\)/);
  t.is(lowCash.severity, 'warning');
  t.is(r.fleet.view('kiosk-fl1').alerts[0]!.severity, 'critical', 'critical alerts come first');

  // Paper runs out: paper-low is cleared as paper-out is raised.
  await r.report(client, { ...broken, receiptPaper: 'out' });
  t.true(r.alertKinds('kiosk-fl1').includes('paper-out'));
  t.false(r.alertKinds('kiosk-fl1').includes('paper-low'));

  await r.report(client, testKioskStatus());
  t.is(r.fleet.stateOf('kiosk-fl1'), 'in-service');
  t.deepEqual(r.alertKinds('kiosk-fl1'), []);

  const raised = await r.audit('alert.raise');
  const cleared = await r.audit('alert.clear');
  const kinds = (entries: AuditEntry[]) => entries.map((e) => `${e.detail?.kind}${e.detail?.subject ? `:${e.detail.subject}` : ''}`).sort();
  t.deepEqual(kinds(raised), ['cashbox-nearly-full', 'device-fault:dispenser', 'low-cash', 'out-of-service', 'paper-low', 'paper-out']);
  t.deepEqual(kinds(cleared), kinds(raised), 'each alert raised is cleared once');
  t.true([...raised, ...cleared].every((e) => e.deviceId === 'kiosk-fl1' && e.outcome === 'ok'));
  t.false(JSON.stringify([...raised, ...cleared]).includes('jam'), "the kiosk's free text stays out of the audit log");
  client.close();
});

test('a kiosk that stops reporting is offline after the host bound, and back when it reports', async (t) => {
  const r = await rig();
  t.teardown(() => r.h.close());
  const kShared = await r.h.addDevice('kiosk-fl2');
  const client = r.h.client('kiosk-fl2', kShared);
  client.start();
  await client.waitConnected(5_000);
  await r.report(client, testKioskStatus());
  client.close();
  r.clock.offsetMs = OFFLINE_AFTER_MS - 5_000;
  await r.fleet.checkNow();
  t.is(r.fleet.stateOf('kiosk-fl2'), 'in-service', 'not yet: the bound is not passed');
  r.clock.offsetMs = OFFLINE_AFTER_MS + 1_000;
  await r.fleet.checkNow();
  t.is(r.fleet.stateOf('kiosk-fl2'), 'offline');
  t.deepEqual(r.alertKinds('kiosk-fl2'), ['offline']);
  t.false(r.fleet.view('kiosk-fl2').connected);
  await r.fleet.checkNow();
  t.is((await r.audit('alert.raise')).length, 1, 'raised once however often the host looks');

  // The kiosk comes back (its clock 61 s behind the host's, within the channel's window) and reports.
  const again = r.h.client('kiosk-fl2', kShared);
  again.start();
  await again.waitConnected(5_000);
  await r.report(again, testKioskStatus());
  t.is(r.fleet.stateOf('kiosk-fl2'), 'in-service');
  t.deepEqual(r.alertKinds('kiosk-fl2'), []);
  t.deepEqual((await r.audit('alert.clear')).map((e) => e.detail?.kind), ['offline']);
  again.close();
});

test("low cash follows the host's threshold, or the kiosk's own set by an operator", async (t) => {
  const r = await rig({ lowCashNotesPerCassette: 50 });
  t.teardown(() => r.h.close());
  const client = await r.h.connectedClient('kiosk-fl3');
  const status = testKioskStatus({ cassettes: [{ denominationCents: 2_000, count: 80 }, { denominationCents: 5_000, count: 80 }] });
  await r.report(client, status);
  t.deepEqual(r.alertKinds('kiosk-fl3'), [], '80 notes a cassette is above the host default of 50');
  await r.fleet.setThreshold('kiosk-fl3', { lowCashNotesPerCassette: 100 });
  t.deepEqual(r.alertKinds('kiosk-fl3'), ['low-cash']);
  t.like(r.fleet.view('kiosk-fl3').threshold, { lowCashNotesPerCassette: 100, source: 'kiosk' });
  // By value: $5,600 in the cassettes, below $6,000.
  await r.fleet.setThreshold('kiosk-fl3', { lowCashNotesPerCassette: 0, lowCashCents: 600_000 });
  t.regex(r.fleet.view('kiosk-fl3').alerts[0]!.detail, /\$5,600\.00 in the cassettes \(below \$6,000\.00\)/);
  await r.fleet.setThreshold('kiosk-fl3', { reset: true });
  t.deepEqual(r.alertKinds('kiosk-fl3'), []);
  t.like(r.fleet.view('kiosk-fl3').threshold, { lowCashNotesPerCassette: 50, lowCashCents: 0, source: 'host' });
  const records = await r.audit('fleet.threshold');
  t.is(records.length, 3);
  t.true(records.every((e) => e.actor === 'operator' && e.detail?.deviceId === 'kiosk-fl3'));
  t.is((await r.fleet.setThreshold('kiosk-none', { lowCashNotesPerCassette: 5 }).catch((error: { code: string }) => error.code)), 'DEVICE_UNKNOWN');
  t.is((await r.audit('fleet.threshold')).filter((e) => e.outcome === 'failed').length, 1);
  client.close();
});

test('stale withdrawal holds, open deposits and money exceptions of a kiosk are alerts until they are settled', async (t) => {
  // Every hold is stale at once; a deposit after the host's minimum of a minute.
  const r = await rig({ holdAttentionAfterMs: 1, openDepositAttentionAfterMs: 60_000, kioskOfflineAfterMs: 600_000 });
  t.teardown(() => r.h.close());
  const client = await r.h.connectedClient('kiosk-fl4');
  const { accounts } = await client.request('register', { username: 'fleet-holder', password: 'a long enough password' });
  const accountId = accounts[0]!.accountId;
  await clientDeposit(client, accountId, 50_000);
  const { authorizationId } = await client.request('withdraw.authorize', { accountId, amountCents: 4_000 });
  const { depositId } = await client.request('deposit.open', { accountId });
  await r.fleet.checkNow();
  t.deepEqual(r.alertKinds('kiosk-fl4'), ['stale-holds']);
  t.regex(r.fleet.view('kiosk-fl4').alerts[0]!.detail, /^1 withdrawal hold\(s\) unsettled/);
  t.like(r.fleet.holdTotals(), { withdrawalHolds: 1, withdrawalHeldCents: 4_000, withdrawalHoldsNeedingAttention: 1 });

  // An operator reverses the hold; the kiosk then says it paid: a money exception names the kiosk.
  await resolveHold(r.h.host.state.services, authorizationId, 'reverse');
  t.is(await client.request('withdraw.complete', { authorizationId, dispensedCents: 4_000 }).catch((error: { code: string }) => error.code), 'SETTLED_BY_OPERATOR');
  r.clock.offsetMs = 61_000;
  await r.fleet.checkNow();
  t.deepEqual(r.alertKinds('kiosk-fl4'), ['money-exceptions', 'open-deposits']);

  await client.request('deposit.commit', { depositId, notes: [] });
  const [exception] = await listMoneyExceptions(r.h.host.state.services, false);
  await resolveMoneyException(r.h.host.state.services, exception!.exceptionId, 'counted the kiosk');
  await r.fleet.checkNow();
  t.deepEqual(r.alertKinds('kiosk-fl4'), []);
  t.deepEqual((await r.audit('alert.clear')).map((e) => e.detail?.kind).sort(), ['money-exceptions', 'open-deposits', 'stale-holds']);
  client.close();
});

test("a kiosk with a balancing difference is unbalanced until an operator resolves it, even after a later report balances", async (t) => {
  const r = await rig();
  t.teardown(() => r.h.close());
  const client = await r.h.connectedClient('kiosk-fl5');
  const { services } = r.h.host.state;
  const nowMs = services.now();
  const report = (balancedMs: number, differenceCents: number) =>
    balancingOps({
      deviceId: 'kiosk-fl5',
      balancedMs,
      containers: [
        { container: 'cassettes', countedCents: 100_000 + differenceCents, ledgerCents: 100_000, differenceCents },
        { container: 'cashbox', countedCents: 4_000, ledgerCents: 4_000, differenceCents: 0 },
      ],
    });
  await r.fleet.checkNow();
  t.is((await r.fleet.detail('kiosk-fl5')).lastBalancing, null, 'no balancing report yet');
  // What a replenishment writes: a count $20 short.
  await services.committer.commit({ ops: report(nowMs - 1_000, -2_000) });
  await r.fleet.checkNow();
  t.deepEqual(r.alertKinds('kiosk-fl5'), ['unbalanced']);
  t.regex(r.fleet.view('kiosk-fl5').alerts[0]!.detail, /cassettes -2000 cents/);
  t.like((await r.fleet.detail('kiosk-fl5')).lastBalancing, { unbalanced: true });
  await services.committer.commit({ ops: report(nowMs, 0) });
  await r.fleet.checkNow();
  t.like((await r.fleet.detail('kiosk-fl5')).lastBalancing, { unbalanced: false, balancedMs: nowMs });
  t.deepEqual(r.alertKinds('kiosk-fl5'), ['unbalanced'], 'the earlier difference is not explained by a later count');
  await r.fleet.resolveBalancing('kiosk-fl5', 'recounted: the $20 was in the reject bin');
  await r.fleet.checkNow();
  t.deepEqual(r.alertKinds('kiosk-fl5'), []);
  client.close();
});

test("a revoked kiosk leaves the fleet, and its alerts are cleared", async (t) => {
  const r = await rig();
  t.teardown(() => r.h.close());
  const client = await r.h.connectedClient('kiosk-fl6');
  await r.report(client, testKioskStatus({ receiptPaper: 'out' }));
  t.deepEqual(r.alertKinds('kiosk-fl6'), ['paper-out']);
  await r.h.host.state.registry.revoke('kiosk-fl6');
  await r.fleet.checkNow();
  t.deepEqual(r.fleet.alerts.of('kiosk-fl6'), []);
  t.false(r.fleet.overview().kiosks.some((k) => k.deviceId === 'kiosk-fl6'));
  await t.throwsAsync(r.fleet.detail('kiosk-fl6'), { message: /no active kiosk/ });
  client.close();
});

test('the fleet, its alerts and thresholds outlive a restart of the host', async (t) => {
  const r = await rig();
  const client = await r.h.connectedClient('kiosk-fl7');
  await r.report(client, testKioskStatus({ inService: false, reasons: ['maintenance'] }));
  await r.fleet.setThreshold('kiosk-fl7', { lowCashNotesPerCassette: 7 });
  client.close();
  const h2 = await r.h.restart();
  t.teardown(() => h2.close());
  const fleet = h2.host.state.services.fleet!;
  await fleet.settled();
  t.is(fleet.stateOf('kiosk-fl7'), 'out-of-service');
  t.deepEqual(fleet.view('kiosk-fl7').alerts.map((a) => a.kind), ['out-of-service']);
  t.like(fleet.view('kiosk-fl7').threshold, { lowCashNotesPerCassette: 7, source: 'kiosk' });
  t.is((await readAuditPage(h2.host.state.services.db, h2.host.state.services.keys.auditEnc, { action: 'alert.raise', order: 'asc', limit: 100, scanLimit: 1_000_000 })).entries.length, 1, 'not raised again after the restart');
});
