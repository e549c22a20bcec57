// The note acceptor driver against the simulator over a real pty pair: every fault, power loss and
// resets, lost events, a silent or noisy line, refused commands.
import test, { type ExecutionContext } from 'ava';
import { isDeviceError } from '../../../kiosk/devices/serial/device-error.js';
import { openPtyPair } from '../../../kiosk/devices/serial/pty-pair.js';
import { SerialNoteAcceptor, type NoteAcceptorLimits, type SerialNoteAcceptorOptions } from '../../../kiosk/devices/note-acceptor/driver.js';
import { HEADER } from '../../../kiosk/devices/note-acceptor/headers.js';
import { NoteAcceptorSimulator } from '../../../kiosk/devices/note-acceptor/simulator.js';
import type { NoteAcceptorSimulatorOptions } from '../../../kiosk/devices/note-acceptor/simulator-types.js';
import type { SimulatorFault } from '../../../kiosk/devices/note-acceptor/simulator-faults.js';
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
  return { sim, driver, events, changes };
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + BOUND_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${BOUND_MS} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function morePolls(driver: SerialNoteAcceptor, count = 5): Promise<void> {
  const target = driver.stats.eventReads + count;
  await waitFor(() => driver.stats.eventReads >= target, `${count} more event reads`);
}

function ofType<T extends NoteAcceptorEvent['type']>(events: NoteAcceptorEvent[], type: T): Extract<NoteAcceptorEvent, { type: T }>[] {
  return events.filter((e): e is Extract<NoteAcceptorEvent, { type: T }> => e.type === type);
}

async function escrowNote(sim: NoteAcceptorSimulator, driver: SerialNoteAcceptor, valueCents: number): Promise<void> {
  if (sim.insertNote(valueCents) !== 'escrow') throw new Error(`${valueCents} was not taken into escrow`);
  await waitFor(() => driver.noteInEscrow?.valueCents === valueCents, `escrow of ${valueCents}`);
}

test('every one-shot fault and odd event is reported with its code or reason, and latches nothing', async (t) => {
  const { sim, driver, events } = await rig(t);
  const expected: [SimulatorFault, string][] = [
    ['fraud', 'fault:fraud'],
    ['string-fraud', 'fault:fraud'],
    ['pulled-back', 'fault:fraud'],
    ['tamper', 'fault:fraud'],
    ['transport-reject', 'rejected:transport'],
    ['inhibited-by-switch', 'rejected:inhibited-by-switch'],
    ['barcode', 'rejected:barcode'],
    ['unknown-bill-stacked', 'fault:unknown-bill'],
  ];
  for (const [fault, meaning] of expected) {
    const before = events.length;
    sim.injectFault(fault);
    await waitFor(() => events.length > before, `the event for ${fault}`);
    const event = events[before];
    const what = event?.type === 'fault' ? `fault:${event.code}` : event?.type === 'rejected' ? `rejected:${event.reason}` : event?.type;
    t.is(what, meaning, fault);
  }
  t.deepEqual([...driver.activeFaults], []);
  t.is(driver.availability, 'available');
});

for (const [fault, code, clearedBy] of [
  ['stacker-full', 'stacker-full', 'stacker OK'],
  ['stacker-removed', 'stacker-removed', 'stacker inserted'],
  ['stacker-faulty', 'stacker-faulty', 'stacker OK'],
] as const) {
  test(`${fault}: reported, latched, unavailable until the validator reports "${clearedBy}"`, async (t) => {
    const { sim, driver, events, changes } = await rig(t);
    await driver.enable(ALL_CAD);
    sim.injectFault(fault);
    await waitFor(() => driver.availability === 'unavailable', 'unavailable');
    t.is(ofType(events, 'fault')[0]?.code, code);
    t.deepEqual([...driver.activeFaults], [code]);
    t.regex(changes.at(-1)?.reason ?? '', new RegExp(code));
    t.is(sim.insertNote(2000), 'not-taken', 'the validator takes no note meanwhile');

    sim.clearFault(fault);
    await waitFor(() => driver.availability === 'available', 'available again');
    t.deepEqual(ofType(events, 'fault-cleared').map((e) => [e.codes, e.detail]), [[[code], clearedBy]]);
    t.deepEqual([...driver.activeFaults], []);
    t.is(sim.insertNote(2000), 'escrow');
  });
}

test('the stacker fills up by stacking: full is reported, notes are refused until it is emptied', async (t) => {
  const { sim, driver, events } = await rig(t, { sim: { stackerCapacity: 2 } });
  await driver.enable(ALL_CAD);
  for (const value of [2000, 5000]) {
    await escrowNote(sim, driver, value);
    t.is((await driver.stack()).outcome, 'stacked');
  }
  await waitFor(() => driver.activeFaults.has('stacker-full'), 'stacker full');
  t.is(sim.insertNote(1000), 'not-taken');
  t.deepEqual(sim.emptyStacker().map((n) => n.valueCents), [2000, 5000]);
  await waitFor(() => driver.availability === 'available', 'available after emptying');
  t.deepEqual(ofType(events, 'stacked').map((e) => e.note.valueCents), [2000, 5000]);
  await escrowNote(sim, driver, 1000);
});

test('a jam with a note in escrow: reported with the note, unroutable, cleared by reset after the path is cleared', async (t) => {
  const { sim, driver, events } = await rig(t);
  await driver.enable(ALL_CAD);
  await escrowNote(sim, driver, 2000);
  sim.injectFault('jam');
  await waitFor(() => driver.activeFaults.has('jam'), 'jam latched');
  const jam = ofType(events, 'fault').find((e) => e.code === 'jam');
  t.deepEqual(jam?.noteInEscrow, { billType: 3, valueCents: 2000 }, 'the deposit flow learns which note is stuck');
  t.is(driver.availability, 'unavailable');
  t.is(driver.noteInEscrow, undefined);
  const stackError = await t.throwsAsync(driver.stack());
  t.true(isDeviceError(stackError, 'NOTE_ESCROW_EMPTY'), String(stackError));
  t.is(sim.receivedCount(HEADER.ROUTE_BILL), 0);

  // Still jammed: the validator reports it again after the reset, and the driver stays unavailable.
  await driver.reset();
  await waitFor(() => driver.activeFaults.has('jam'), 'jam reported again');
  t.is(driver.availability, 'unavailable');

  sim.clearFault('jam');
  await driver.reset();
  await morePolls(driver);
  t.deepEqual([...driver.activeFaults], []);
  t.is(driver.availability, 'available');
  t.false(ofType(events, 'fault').some((e) => e.code === 'device-reset'), 'resets the kiosk asked for are not faults');
  t.false(sim.masterEnabled, 'a reset leaves the validator disabled');
  await driver.enable(ALL_CAD);
  await escrowNote(sim, driver, 500);
  t.deepEqual(ofType(events, 'stacked'), []);
  t.deepEqual(sim.stackedNotes(), []);
});

test('power lost with a note in escrow: the reset is reported with the note, which is returned, and nothing is stacked twice', async (t) => {
  const { sim, driver, events } = await rig(t);
  await driver.enable(ALL_CAD);
  await escrowNote(sim, driver, 5000);
  t.is((await driver.stack()).outcome, 'stacked');
  await escrowNote(sim, driver, 2000);
  sim.powerCycle();
  await waitFor(() => ofType(events, 'fault').some((e) => e.code === 'device-reset'), 'device-reset fault');
  const reset = ofType(events, 'fault').find((e) => e.code === 'device-reset');
  t.deepEqual(reset?.noteInEscrow, { billType: 3, valueCents: 2000 });
  t.is(driver.noteInEscrow, undefined);
  t.deepEqual(sim.returnedNotes().map((n) => n.valueCents), [2000]);
  const error = await t.throwsAsync(driver.stack());
  t.true(isDeviceError(error, 'NOTE_ESCROW_EMPTY'), String(error));

  t.false(sim.masterEnabled, 'the validator comes back disabled');
  await driver.enable(ALL_CAD);
  await escrowNote(sim, driver, 1000);
  t.is((await driver.stack()).outcome, 'stacked');
  await morePolls(driver);
  t.deepEqual(ofType(events, 'stacked').map((e) => e.note.valueCents), [5000, 1000]);
  t.deepEqual(sim.stackedNotes().map((n) => n.valueCents), [5000, 1000]);
});

test('power lost with nothing in escrow is still reported: the events since the last read are unknown', async (t) => {
  const { sim, driver, events } = await rig(t);
  await driver.enable(ALL_CAD);
  sim.insertCounterfeit();
  await waitFor(() => ofType(events, 'rejected').length === 1, 'rejection');
  sim.powerCycle();
  await waitFor(() => ofType(events, 'fault').length === 1, 'fault');
  t.is(ofType(events, 'fault')[0]?.code, 'device-reset');
  t.is(ofType(events, 'fault')[0]?.noteInEscrow, undefined);
});

test('more than five events between two reads: the loss is reported, then the five the buffer kept', async (t) => {
  const { sim, driver, events } = await rig(t);
  await driver.enable(ALL_CAD);
  sim.holdEvents();
  for (let i = 0; i < 7; i++) t.is(sim.insertCounterfeit(), 'rejected');
  await morePolls(driver, 3);
  t.deepEqual(events, [], 'held: the reads see none of them yet');
  sim.releaseEvents();
  await waitFor(() => events.length === 6, 'the loss and five rejections');
  t.like(events[0], { type: 'fault', code: 'events-lost', lostEvents: 2 });
  t.deepEqual(events.slice(1).map((e) => e.type), ['rejected', 'rejected', 'rejected', 'rejected', 'rejected']);
  await morePolls(driver);
  t.is(events.length, 6, 'nothing is reported twice afterwards');
});

test('a stacked note pushed out of the buffer is never guessed: the loss is flagged and the route outcome unknown', async (t) => {
  const { sim, driver, events } = await rig(t);
  await driver.enable(ALL_CAD);
  await escrowNote(sim, driver, 2000);
  sim.holdEvents();
  // The note is stacked while the host's reads are held, then five more events push it out.
  const stacking = driver.stack();
  await waitFor(() => sim.stackedNotes().length === 1, 'the note in the stacker');
  for (let i = 0; i < 5; i++) sim.insertCounterfeit();
  await morePolls(driver, 2);
  sim.releaseEvents();
  const error = await t.throwsAsync(stacking);
  t.true(isDeviceError(error, 'NOTE_ROUTE_OUTCOME_UNKNOWN'), String(error));
  t.like(ofType(events, 'fault')[0], { code: 'events-lost', lostEvents: 1 });
  t.deepEqual(ofType(events, 'stacked'), [], 'the stacked event fell out of the buffer: the deposit must go to an operator');
  t.deepEqual(sim.stackedNotes().map((n) => n.valueCents), [2000]);
});

test('no reply: each query is sent three times, then the driver turns unavailable, and recovers', async (t) => {
  const { sim, driver, changes } = await rig(t);
  let unansweredAtUnavailable = -1;
  driver.onAvailabilityChange((change) => {
    if (change.availability === 'unavailable') unansweredAtUnavailable = sim.received.filter((r) => !r.answered).length;
  });
  sim.setSilent(true);
  await waitFor(() => driver.availability === 'unavailable', 'unavailable');
  t.is(unansweredAtUnavailable, 3, 'one event read, sent 3 times');
  t.regex(changes.at(-1)?.reason ?? '', /no reply/);
  sim.setSilent(false);
  await waitFor(() => driver.availability === 'available', 'available again');
});

test('garbage and corrupted frames on the line are dropped and the driver carries on', async (t) => {
  const { sim, driver, events } = await rig(t);
  await driver.enable(ALL_CAD);
  await sim.injectBytes(Uint8Array.of(0x41, 0x03, 0x42, 0xff, 0x00, 0x01, 0x00, 0x28, 0x00, 0xd6));
  await escrowNote(sim, driver, 2000);
  t.is((await driver.stack()).outcome, 'stacked');
  await morePolls(driver);
  t.is(ofType(events, 'stacked').length, 1);
  t.true((driver.linkStats.frames?.rejected['bad-checksum'] ?? 0) >= 1);
});

test('a refused (NAK) command fails enable with NOTE_ACCEPTOR_NAK and leaves the acceptor disabled', async (t) => {
  const { sim, driver } = await rig(t);
  sim.nakHeader(HEADER.MODIFY_BILL_OPERATING_MODE);
  const error = await t.throwsAsync(driver.enable(ALL_CAD));
  t.true(isDeviceError(error, 'NOTE_ACCEPTOR_NAK'), String(error));
  t.false(sim.masterEnabled);
  t.is(driver.availability, 'available', 'a NAK is an answer: the link is fine');
});

test('events while the driver is closed are reported when it opens again', async (t) => {
  const { sim, driver, events } = await rig(t);
  await morePolls(driver, 2);
  await driver.close();
  sim.injectFault('stacker-removed');
  await driver.open();
  await waitFor(() => ofType(events, 'fault').length === 1, 'the fault from while closed');
  t.is(ofType(events, 'fault')[0]?.code, 'stacker-removed');
  t.is(driver.availability, 'unavailable');
});

test('a device answering another category is refused at open', async (t) => {
  const pair = await openPtyPair();
  const sim = await NoteAcceptorSimulator.start({ path: pair.devicePath, equipmentCategory: 'Coin Acceptor' });
  const driver = new SerialNoteAcceptor({ path: pair.hostPath, limits: TEST_LIMITS });
  t.teardown(async () => {
    await driver.close();
    await sim.stop();
    await pair.close();
  });
  const error = await t.throwsAsync(driver.open());
  t.true(isDeviceError(error, 'NOTE_ACCEPTOR_WRONG_DEVICE'), String(error));
  t.is(driver.availability, 'closed');
});
