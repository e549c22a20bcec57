// What the host hears of the kiosk (kiosk.status): the whole status when the channel connects, before any
// customer; every change that matters (a dispense's cassette counts, a deposit's cashbox counts, a device
// lost); the heartbeat the host asks for; a report that fails is sent again later without holding up a
// customer. The cashbox counts survive a restart.
import { readFile } from 'node:fs/promises';
import test from 'ava';
import { readKioskStatus } from '../../../bank-host/devices/kiosk-status.js';
import { createHostOperations } from '../../../bank-host/operations/table.js';
import { KIOSK_SOFTWARE_VERSION } from '../../../kiosk/core/kiosk.js';
import type { KioskStatus } from '../../../protocol/messages.js';
import { eventually } from '../../helpers/host.js';
import { CASSETTES, FAST_SCRYPT, KIOSK_ID, PASSWORD, startKioskRig, type KioskRig } from './kiosk-rig.js';

async function storedStatus(rig: KioskRig): Promise<KioskStatus | undefined> {
  return (await readKioskStatus(rig.host.host.state.services.db, KIOSK_ID))?.status;
}

test('the host hears the whole status when the kiosk connects, before any customer', async (t) => {
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  // start() resolved: the report was answered before the kiosk took its first customer.
  const status = await storedStatus(rig);
  if (!status) return t.fail('no status stored');
  t.is(status.softwareVersion, KIOSK_SOFTWARE_VERSION);
  t.is(KIOSK_SOFTWARE_VERSION, (JSON.parse(await readFile('package.json', 'utf8')) as { version: string }).version, 'the version reported is the package version');
  t.deepEqual(status.cassettes, CASSETTES);
  t.deepEqual(status.noteAcceptor, { denominationsCents: [500, 1_000, 2_000, 5_000, 10_000], cashbox: [], cashboxCapacityNotes: 1_000 });
  t.is(status.pendingTransactions, 0);
  await rig.waitFor((s) => s.screen === 'welcome');
  // Every device checked (on a loaded machine a device may take a check or two to answer): the host
  // hears a kiosk in service with nothing to report.
  t.true(await eventually(async () => (await storedStatus(rig))?.inService === true && (await storedStatus(rig))?.reasons.length === 0, 10_000), JSON.stringify(await storedStatus(rig)));
  const settled = (await storedStatus(rig))!;
  t.deepEqual(settled.reasons, []);
  t.deepEqual(
    settled.devices.map((d) => `${d.device}:${d.state}`),
    ['card-reader:ok', 'pin-pad:ok', 'dispenser:ok', 'printer:ok', 'note-acceptor:ok'],
  );
  t.is(settled.receiptPaper, 'ok');
});

test('a dispense and a deposit change the counts the host knows; the cashbox counts survive a restart', async (t) => {
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  await rig.customer('sam', 20_000);
  await rig.waitFor((s) => s.screen === 'welcome');
  await rig.kiosk.beginPasswordSignIn('sam', PASSWORD);
  await rig.kiosk.selectMenu('withdraw');
  await rig.kiosk.withdraw(9_000); // $50 + 2 × $20
  t.true(await eventually(async () => JSON.stringify((await storedStatus(rig))?.cassettes) === JSON.stringify([{ denominationCents: 2_000, count: 98 }, { denominationCents: 5_000, count: 39 }])));
  await rig.kiosk.anotherTransaction(false);
  await rig.waitFor((s) => s.screen === 'welcome');
  await rig.kiosk.beginPasswordSignIn('sam', PASSWORD);
  await rig.depositNotes([2_000, 2_000, 5_000]);
  const cashbox = [
    { denominationCents: 2_000, count: 2 },
    { denominationCents: 5_000, count: 1 },
  ];
  t.true(await eventually(async () => JSON.stringify((await storedStatus(rig))?.noteAcceptor?.cashbox) === JSON.stringify(cashbox)), JSON.stringify(await storedStatus(rig)));
  await rig.kiosk.chooseReceipt(false);
  const restarted = await rig.restartKiosk();
  t.deepEqual(restarted.status().noteAcceptor?.cashbox, cashbox, 'the count is the journal\'s, on disk');
});

test('the heartbeat the host asks for is kept, and a report that fails is sent again without holding up a customer', async (t) => {
  const operations = createHostOperations({ scryptCost: FAST_SCRYPT });
  let reports = 0;
  let failing = false;
  const rig = await startKioskRig({
    operations: {
      ...operations,
      'kiosk.status': async (ctx, body) => {
        reports++;
        if (failing) throw new Error('the host cannot store the report now');
        const answer = await operations['kiosk.status']!(ctx, body);
        return { ...answer, heartbeatMs: 300 };
      },
    },
  });
  t.teardown(() => rig.close());
  await rig.customer('tess', 10_000);
  await rig.waitFor((s) => s.screen === 'welcome');
  const before = reports;
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  t.true(reports - before >= 3, `heartbeats every 300 ms: ${reports - before} in 1.5 s`);
  failing = true;
  const failedFrom = reports;
  // The customer is served while reports fail.
  await rig.kiosk.beginPasswordSignIn('tess', PASSWORD);
  await rig.kiosk.selectMenu('balance');
  t.is(rig.kiosk.snapshot().screen, 'balance');
  t.true(await eventually(() => reports > failedFrom + 1, 10_000), 'sent again after a failure');
  failing = false;
  const sent = rig.kiosk.statusReportsSent;
  t.true(await eventually(() => rig.kiosk.statusReportsSent > sent, 10_000), 'answered once the host takes it again');
});
