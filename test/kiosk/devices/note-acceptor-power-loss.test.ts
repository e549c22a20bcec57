// Power lost between ROUTE(stack) and the `stacked` event, over a real socat pty pair: the validator clears
// its event buffer at power-up, so the events cannot say where the note went; the accept counter
// (header 225), read before the stack and again after the restart, can. The simulator's holdEvents()
// keeps the driver from reading the stacked event before the power goes, and loseNextCommand() loses the
// ROUTE as it arrives, so neither case depends on timing.
import test, { type ExecutionContext } from 'ava';
import { isDeviceError } from '../../../kiosk/devices/serial/device-error.js';
import { openPtyPair } from '../../../kiosk/devices/serial/pty-pair.js';
import { SerialNoteAcceptor, type NoteAcceptorLimits } from '../../../kiosk/devices/note-acceptor/driver.js';
import { HEADER } from '../../../kiosk/devices/note-acceptor/headers.js';
import { resolveInterruptedStack } from '../../../kiosk/devices/note-acceptor/interrupted-stack.js';
import { NoteAcceptorSimulator } from '../../../kiosk/devices/note-acceptor/simulator.js';
import type { NoteAcceptorEvent } from '../../../kiosk/devices/note-acceptor/types.js';

/** Polls often so tests run quickly; every wait is a generous bound for a loaded 2-core machine. */
const TEST_LIMITS: Partial<NoteAcceptorLimits> = { replyTimeoutMs: 1_000, pollIntervalMs: 20, unavailablePollIntervalMs: 100 };
const BOUND_MS = 15_000;
const ALL_CAD = [500, 1000, 2000, 5000, 10000];
/** A validator that has been in service: its counter is well away from 0. */
const IN_SERVICE = 1234;

async function rig(t: ExecutionContext) {
  const pair = await openPtyPair();
  const simulator = await NoteAcceptorSimulator.start({ path: pair.devicePath, escrowTimeoutMs: 0, acceptCounter: IN_SERVICE });
  const drivers: SerialNoteAcceptor[] = [];
  /** A kiosk (re)starting: a new driver on the same port, with its own event log. */
  const startDriver = async () => {
    const driver = new SerialNoteAcceptor({ path: pair.hostPath, limits: TEST_LIMITS });
    const events: NoteAcceptorEvent[] = [];
    driver.onEvent((event) => events.push(event));
    drivers.push(driver);
    await driver.open();
    return { driver, events };
  };
  t.teardown(async () => {
    for (const driver of drivers) await driver.close();
    await simulator.stop();
    await pair.close();
  });
  return { sim: simulator, startDriver };
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

async function escrowNote(sim: NoteAcceptorSimulator, driver: SerialNoteAcceptor, valueCents: number): Promise<void> {
  if (sim.insertNote(valueCents) !== 'escrow') throw new Error(`${valueCents} was not taken into escrow`);
  await waitFor(() => driver.noteInEscrow?.valueCents === valueCents, `escrow of ${valueCents}`);
}

const stackedValues = (events: NoteAcceptorEvent[]) => events.flatMap((e) => (e.type === 'stacked' ? [e.note.valueCents] : []));

test('in normal operation the counter moves by one per stacked note and not for a returned one', async (t) => {
  const { sim, startDriver } = await rig(t);
  const { driver } = await startDriver();
  await driver.enable(ALL_CAD);
  await escrowNote(sim, driver, 2000);
  const beforeStack = await driver.acceptCounter();
  t.is((await driver.stack()).outcome, 'stacked');
  t.is(resolveInterruptedStack(beforeStack, await driver.acceptCounter()), 'stacked', 'the rule agrees with the events');

  await escrowNote(sim, driver, 500);
  const beforeReturn = await driver.acceptCounter();
  t.is((await driver.return()).outcome, 'returned');
  t.is(resolveInterruptedStack(beforeReturn, await driver.acceptCounter()), 'not-stacked');
  t.is(sim.acceptCounter, IN_SERVICE + 1);
});

test('power lost after the note was stacked, before its event was read: the counter says stacked', async (t) => {
  const { sim, startDriver } = await rig(t);
  const first = await startDriver();
  await first.driver.enable(ALL_CAD);
  await escrowNote(sim, first.driver, 2000);
  const before = await first.driver.acceptCounter();
  // The kiosk journals `before` here, then sends the ROUTE.
  sim.holdEvents();
  const stacking = first.driver.stack().catch((error: unknown) => error);
  await waitFor(() => sim.stackedNotes().length === 1, 'the note in the stacker');

  sim.powerCycle();
  await first.driver.close();
  t.true(isDeviceError(await stacking, 'NOT_OPEN'), 'the first kiosk never learnt where the note went');
  sim.releaseEvents();

  const restarted = await startDriver();
  const after = await restarted.driver.acceptCounter();
  t.is(after, before + 1);
  t.is(resolveInterruptedStack(before, after), 'stacked');
  await morePolls(restarted.driver);
  t.deepEqual(stackedValues([...first.events, ...restarted.events]), [], 'no stacked event was ever read: the counter alone tells');
  t.deepEqual(sim.stackedNotes().map((n) => n.valueCents), [2000]);
  t.deepEqual(sim.returnedNotes(), []);
});

test('power lost as the ROUTE arrived, before the validator acted on it: the note is returned and the counter says not stacked', async (t) => {
  const { sim, startDriver } = await rig(t);
  const first = await startDriver();
  await first.driver.enable(ALL_CAD);
  await escrowNote(sim, first.driver, 5000);
  const before = await first.driver.acceptCounter();
  sim.loseNextCommand(HEADER.ROUTE_BILL);
  const stacking = first.driver.stack().catch((error: unknown) => error);
  await waitFor(() => sim.receivedCount(HEADER.ROUTE_BILL) === 1, 'the ROUTE on the line');

  sim.powerCycle();
  await first.driver.close();
  t.true(isDeviceError(await stacking, 'NOT_OPEN'), String(await stacking));

  const restarted = await startDriver();
  const after = await restarted.driver.acceptCounter();
  t.is(after, before);
  t.is(resolveInterruptedStack(before, after), 'not-stacked');
  t.deepEqual(sim.stackedNotes(), []);
  t.deepEqual(sim.returnedNotes().map((n) => n.valueCents), [5000], 'given back at power-up');
  t.is(sim.receivedCount(HEADER.ROUTE_BILL), 1, 'the ROUTE was never resent');
});

test('the validator alone loses power: stack() reports the outcome unknown, and the counter settles it without a restart', async (t) => {
  const { sim, startDriver } = await rig(t);
  const { driver, events } = await startDriver();
  await driver.enable(ALL_CAD);
  await escrowNote(sim, driver, 10000);
  const before = await driver.acceptCounter();
  sim.holdEvents();
  const stacking = driver.stack().catch((error: unknown) => error);
  await waitFor(() => sim.stackedNotes().length === 1, 'the note in the stacker');
  sim.powerCycle();
  sim.releaseEvents();
  const error = await stacking;
  t.true(isDeviceError(error, 'NOTE_ROUTE_OUTCOME_UNKNOWN'), String(error));
  t.true(events.some((e) => e.type === 'fault' && e.code === 'device-reset'));
  t.is(resolveInterruptedStack(before, await driver.acceptCounter()), 'stacked');
  t.deepEqual(stackedValues(events), []);
});
