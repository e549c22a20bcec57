// The note acceptor driver against the simulator over a real pty pair made by socat: identity, bill
// table, enabling, and the note's way through escrow to the stacker or back to the customer.
import test, { type ExecutionContext } from 'ava';
import { isDeviceError } from '../../../kiosk/devices/serial/device-error.js';
import { openPtyPair } from '../../../kiosk/devices/serial/pty-pair.js';
import { SerialNoteAcceptor, type NoteAcceptorLimits, type SerialNoteAcceptorOptions } from '../../../kiosk/devices/note-acceptor/driver.js';
import { HEADER } from '../../../kiosk/devices/note-acceptor/headers.js';
import { NoteAcceptorSimulator } from '../../../kiosk/devices/note-acceptor/simulator.js';
import type { NoteAcceptorSimulatorOptions } from '../../../kiosk/devices/note-acceptor/simulator-types.js';
import type { AvailabilityChange, NoteAcceptorEvent } from '../../../kiosk/devices/note-acceptor/types.js';

/** Polls often so tests run quickly; every wait is a generous bound for a loaded 2-core machine. */
const TEST_LIMITS: Partial<NoteAcceptorLimits> = { replyTimeoutMs: 1_000, pollIntervalMs: 20, unavailablePollIntervalMs: 100 };
const BOUND_MS = 15_000;
const ALL_CAD = [500, 1000, 2000, 5000, 10000];

async function rig(t: ExecutionContext, options: { sim?: Partial<NoteAcceptorSimulatorOptions>; driver?: Partial<SerialNoteAcceptorOptions> } = {}) {
  const pair = await openPtyPair();
  const sim = await NoteAcceptorSimulator.start({ path: pair.devicePath, escrowTimeoutMs: 0, ...options.sim });
  const driver = new SerialNoteAcceptor({ path: pair.hostPath, ...options.driver, limits: { ...TEST_LIMITS, ...options.driver?.limits } });
  const events: NoteAcceptorEvent[] = [];
  const changes: AvailabilityChange[] = [];
  driver.onEvent((event) => events.push(event));
  driver.onAvailabilityChange((change) => changes.push(change));
  t.teardown(async () => {
    await driver.close();
    await sim.stop();
    await pair.close();
  });
  await driver.open();
  return { sim, driver, events, changes, pair };
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + BOUND_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${BOUND_MS} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Lets the poll loop read the buffer a few more times, so a duplicate would have shown by then. */
async function morePolls(driver: SerialNoteAcceptor, count = 5): Promise<void> {
  const target = driver.stats.eventReads + count;
  await waitFor(() => driver.stats.eventReads >= target, `${count} more event reads`);
}

function ofType<T extends NoteAcceptorEvent['type']>(events: NoteAcceptorEvent[], type: T): Extract<NoteAcceptorEvent, { type: T }>[] {
  return events.filter((e): e is Extract<NoteAcceptorEvent, { type: T }> => e.type === type);
}

test('identify reads the validator: category, manufacturer, product, serial number, revisions', async (t) => {
  const { driver } = await rig(t, { sim: { serialNumber: 0xabcdef } });
  t.deepEqual(await driver.identify(), {
    equipmentCategory: 'Bill Validator',
    manufacturer: 'SIM',
    productCode: 'NA-SIM',
    serialNumber: 0xabcdef,
    softwareRevision: 'sim-1.0',
    commsRevision: { release: 1, major: 4, minor: 6 },
  });
  t.is(driver.availability, 'available');
});

test('denominations values each bill type from its bill id and its country scaling factor', async (t) => {
  const { driver } = await rig(t, {
    sim: {
      billIds: ['CA0005A', 'CA0010A', 'CA0020A', 'CA0050A', 'CA0100A', 'US0020A', 'CA0020B'],
      countries: [{ countryCode: 'CA', scalingFactor: 100, decimalPlaces: 2 }, { countryCode: 'US', scalingFactor: 1, decimalPlaces: 0 }],
    },
  });
  t.deepEqual(await driver.denominations(), [
    { billType: 1, billId: 'CA0005A', countryCode: 'CA', valueCents: 500 },
    { billType: 2, billId: 'CA0010A', countryCode: 'CA', valueCents: 1000 },
    { billType: 3, billId: 'CA0020A', countryCode: 'CA', valueCents: 2000 },
    { billType: 4, billId: 'CA0050A', countryCode: 'CA', valueCents: 5000 },
    { billType: 5, billId: 'CA0100A', countryCode: 'CA', valueCents: 10000 },
    { billType: 6, billId: 'US0020A', countryCode: 'US', valueCents: 2000 },
    { billType: 7, billId: 'CA0020B', countryCode: 'CA', valueCents: 2000 },
  ]);
});

test('enable sets exactly the inhibits of those values (every issue, our country only), escrow on, master inhibit off', async (t) => {
  const { sim, driver } = await rig(t, {
    sim: {
      billIds: ['CA0005A', 'CA0010A', 'CA0020A', 'CA0050A', 'CA0100A', 'US0020A', 'CA0020B'],
      countries: [{ countryCode: 'CA', scalingFactor: 100, decimalPlaces: 2 }, { countryCode: 'US', scalingFactor: 1, decimalPlaces: 0 }],
    },
  });
  t.false(sim.masterEnabled);
  await driver.enable([2000, 5000]);
  t.deepEqual(sim.enabledBillTypes, [3, 4, 7]);
  t.true(sim.masterEnabled);
  t.deepEqual(sim.operatingMode, { useStacker: true, useEscrow: true });
  await driver.enable([500]);
  t.deepEqual(sim.enabledBillTypes, [1], 'a second enable replaces the first');
});

test('enable refuses a value the validator has no bill type for, and changes nothing', async (t) => {
  const { sim, driver } = await rig(t);
  for (const values of [[2500], [2000, 2500], [], [0], [20.5]]) {
    const error = await t.throwsAsync(driver.enable(values));
    t.true(isDeviceError(error, 'BAD_ARGUMENT'), `${JSON.stringify(values)}: ${String(error)}`);
  }
  t.deepEqual(sim.enabledBillTypes, []);
  t.false(sim.masterEnabled);
  t.is(sim.receivedCount(HEADER.MODIFY_INHIBIT_STATUS), 0);
});

test('a note goes to escrow, is stacked on command, and is reported stacked exactly once', async (t) => {
  const { sim, driver, events } = await rig(t);
  await driver.enable(ALL_CAD);
  t.is(sim.insertNote(2000), 'escrow');
  await waitFor(() => ofType(events, 'escrow').length === 1, 'escrow event');
  t.deepEqual(ofType(events, 'escrow')[0]?.note, { billType: 3, valueCents: 2000 });
  t.deepEqual(driver.noteInEscrow, { billType: 3, valueCents: 2000 });

  const outcome = await driver.stack();
  t.deepEqual(outcome, { outcome: 'stacked', note: { billType: 3, valueCents: 2000 } });
  await morePolls(driver);
  t.deepEqual(ofType(events, 'stacked').map((e) => e.note), [{ billType: 3, valueCents: 2000 }]);
  t.is(driver.noteInEscrow, undefined);
  t.deepEqual(sim.stackedNotes().map((n) => n.valueCents), [2000]);
  t.is(sim.receivedCount(HEADER.ROUTE_BILL), 1);
});

test('several notes in a row: each stacked event once, the stacker holds exactly those', async (t) => {
  const { sim, driver, events } = await rig(t);
  await driver.enable(ALL_CAD);
  for (const value of [500, 10000, 2000, 2000, 5000, 1000, 2000]) {
    t.is(sim.insertNote(value), 'escrow');
    await waitFor(() => driver.noteInEscrow?.valueCents === value, `escrow of ${value}`);
    t.is((await driver.stack()).outcome, 'stacked');
  }
  await morePolls(driver);
  const credited = ofType(events, 'stacked').map((e) => e.note.valueCents);
  t.deepEqual(credited, [500, 10000, 2000, 2000, 5000, 1000, 2000]);
  t.deepEqual(sim.stackedNotes().map((n) => n.valueCents), credited);
});

test('a note in escrow is returned on command and nothing is stacked', async (t) => {
  const { sim, driver, events } = await rig(t);
  await driver.enable(ALL_CAD);
  sim.insertNote(5000);
  await waitFor(() => driver.noteInEscrow !== undefined, 'escrow');
  t.deepEqual(await driver.return(), { outcome: 'returned', note: { billType: 4, valueCents: 5000 } });
  await morePolls(driver);
  t.deepEqual(ofType(events, 'returned').map((e) => e.note), [{ billType: 4, valueCents: 5000 }]);
  t.is(ofType(events, 'stacked').length, 0);
  t.deepEqual(sim.returnedNotes().map((n) => n.valueCents), [5000]);
  t.deepEqual(sim.stackedNotes(), []);
});

test('a note the kiosk never routes goes back to the customer at the escrow timeout', async (t) => {
  const { sim, driver, events } = await rig(t, { sim: { escrowTimeoutMs: 300 } });
  await driver.enable(ALL_CAD);
  sim.insertNote(1000);
  await waitFor(() => ofType(events, 'returned').length === 1, 'returned event');
  t.deepEqual(ofType(events, 'returned')[0]?.note, { billType: 2, valueCents: 1000 });
  t.is(driver.noteInEscrow, undefined);
  t.deepEqual(sim.stackedNotes(), []);
  const error = await t.throwsAsync(driver.stack());
  t.true(isDeviceError(error, 'NOTE_ESCROW_EMPTY'), String(error));
  t.is(sim.receivedCount(HEADER.ROUTE_BILL), 0, 'no route is sent for a note the events say is gone');
});

test('extendEscrow restarts the validator\'s escrow timeout', async (t) => {
  const { sim, driver, events } = await rig(t, { sim: { escrowTimeoutMs: 3_000 } });
  await driver.enable(ALL_CAD);
  sim.insertNote(2000);
  await waitFor(() => driver.noteInEscrow !== undefined, 'escrow');
  // Extending every 100 ms keeps the note held past the time it would have gone back; only a stall
  // of the whole 3 s timeout between two extensions could let it go.
  const heldUntil = Date.now() + 4_000;
  while (Date.now() < heldUntil) {
    await driver.extendEscrow();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.is(ofType(events, 'returned').length, 0);
  t.is((await driver.stack()).outcome, 'stacked');
});

test('counterfeit, unsupported and inhibited notes are rejected with their reasons and never stacked', async (t) => {
  const { sim, driver, events } = await rig(t);
  await driver.enable([2000]);
  t.is(sim.insertCounterfeit(), 'rejected');
  t.is(sim.insertUnsupported(2500), 'rejected');
  t.is(sim.insertNote(5000), 'rejected', '$50 is in the table but not enabled');
  await waitFor(() => ofType(events, 'rejected').length === 3, 'three rejections');
  t.deepEqual(ofType(events, 'rejected').map((e) => e.reason), ['invalid', 'invalid', 'inhibited']);
  t.is(ofType(events, 'escrow').length + ofType(events, 'stacked').length, 0);
  t.deepEqual(sim.stackedNotes(), []);
});

test('disable makes the validator refuse every note', async (t) => {
  const { sim, driver, events } = await rig(t);
  await driver.enable(ALL_CAD);
  await driver.disable();
  t.false(sim.masterEnabled);
  t.is(sim.insertNote(2000), 'rejected');
  await waitFor(() => ofType(events, 'rejected').length === 1, 'rejection');
  t.is(ofType(events, 'rejected')[0]?.reason, 'disabled');
  t.is(sim.noteInEscrow, undefined);
  t.deepEqual(sim.stackedNotes(), []);
});

test('a lost reply to ROUTE is never resent: the events say the note was stacked, once', async (t) => {
  const { sim, driver, events } = await rig(t, { driver: { limits: { replyTimeoutMs: 300 } } });
  await driver.enable(ALL_CAD);
  sim.insertNote(10000);
  await waitFor(() => driver.noteInEscrow !== undefined, 'escrow');
  sim.loseNextReplyTo(HEADER.ROUTE_BILL);
  t.deepEqual(await driver.stack(), { outcome: 'stacked', note: { billType: 5, valueCents: 10000 } });
  await morePolls(driver);
  t.is(sim.receivedCount(HEADER.ROUTE_BILL), 1);
  t.is(driver.stats.routeCommandsSent, 1);
  t.is(ofType(events, 'stacked').length, 1);
  t.is(sim.stackedNotes().length, 1);
});

test('a lost reply to a return is found out from the events the same way', async (t) => {
  const { sim, driver, events } = await rig(t, { driver: { limits: { replyTimeoutMs: 300 } } });
  await driver.enable(ALL_CAD);
  sim.insertNote(500);
  await waitFor(() => driver.noteInEscrow !== undefined, 'escrow');
  sim.loseNextReplyTo(HEADER.ROUTE_BILL);
  t.is((await driver.return()).outcome, 'returned');
  t.is(sim.receivedCount(HEADER.ROUTE_BILL), 1);
  t.is(ofType(events, 'returned').length, 1);
});

test('with no event after a lost route reply, the outcome is reported unknown, not guessed', async (t) => {
  const { sim, driver } = await rig(t, { driver: { limits: { replyTimeoutMs: 300, routeOutcomeTimeoutMs: 1_000 } } });
  await driver.enable(ALL_CAD);
  sim.insertNote(2000);
  await waitFor(() => driver.noteInEscrow !== undefined, 'escrow');
  // The command never arrives (a silent line): the note stays in escrow and no event comes.
  sim.setSilent(true);
  const error = await t.throwsAsync(driver.stack());
  t.true(isDeviceError(error, 'NOTE_ROUTE_OUTCOME_UNKNOWN'), String(error));
  sim.setSilent(false);
  t.is(sim.receivedCount(HEADER.ROUTE_BILL), 1, 'sent once, never again');
  t.deepEqual(sim.noteInEscrow?.valueCents, 2000);
  t.deepEqual(sim.stackedNotes(), []);
});

test('the driver works over a line that echoes every frame', async (t) => {
  const { sim, driver, events } = await rig(t, { sim: { lineEchoes: true }, driver: { lineEchoes: true } });
  await driver.enable(ALL_CAD);
  sim.insertNote(2000);
  await waitFor(() => driver.noteInEscrow !== undefined, 'escrow');
  t.is((await driver.stack()).outcome, 'stacked');
  await morePolls(driver);
  t.is(ofType(events, 'stacked').length, 1);
  const frames = driver.linkStats.frames;
  t.true((frames?.echoesDropped ?? 0) > 10, `echoes dropped: ${frames?.echoesDropped}`);
  t.is(frames?.echoesMissing, 0);
});

test('a new driver (a restarted kiosk) finding a note held in escrow reports it once and can return it', async (t) => {
  const { sim, driver, pair } = await rig(t);
  await driver.enable(ALL_CAD);
  sim.insertNote(2000);
  await waitFor(() => driver.noteInEscrow !== undefined, 'escrow');
  await driver.close();

  const restarted = new SerialNoteAcceptor({ path: pair.hostPath, limits: TEST_LIMITS });
  const events: NoteAcceptorEvent[] = [];
  restarted.onEvent((event) => events.push(event));
  t.teardown(() => restarted.close());
  await restarted.open();
  t.deepEqual(events.map((e) => e.type), ['escrow']);
  t.deepEqual(restarted.noteInEscrow, { billType: 3, valueCents: 2000 });
  t.is((await restarted.return()).outcome, 'returned');
  await morePolls(restarted);
  t.deepEqual(events.map((e) => e.type), ['escrow', 'returned']);
  t.deepEqual(sim.stackedNotes(), []);
});

test('a closed driver refuses commands and is closed', async (t) => {
  const { driver } = await rig(t);
  await driver.close();
  t.is(driver.availability, 'closed');
  const error = await t.throwsAsync(driver.identify());
  t.true(isDeviceError(error, 'NOT_OPEN'), String(error));
});
