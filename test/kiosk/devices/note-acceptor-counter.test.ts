// The accept counter (header 225) over a real socat pty pair: the driver's query, and the simulator's
// count of the notes that reach its stacker, kept across power cycles.
import test, { type ExecutionContext } from 'ava';
import { openPtyPair } from '../../../kiosk/devices/serial/pty-pair.js';
import { SerialNoteAcceptor, type NoteAcceptorLimits } from '../../../kiosk/devices/note-acceptor/driver.js';
import { HEADER } from '../../../kiosk/devices/note-acceptor/headers.js';
import { NoteAcceptorSimulator } from '../../../kiosk/devices/note-acceptor/simulator.js';
import type { NoteAcceptorSimulatorOptions } from '../../../kiosk/devices/note-acceptor/simulator-types.js';

/** Polls often so tests run quickly; every wait is a generous bound for a loaded 2-core machine. */
const TEST_LIMITS: Partial<NoteAcceptorLimits> = { replyTimeoutMs: 1_000, pollIntervalMs: 20, unavailablePollIntervalMs: 100 };
const BOUND_MS = 15_000;
const ALL_CAD = [500, 1000, 2000, 5000, 10000];
/** A validator that has been in service: its counter is well away from 0. */
const IN_SERVICE = 1234;

async function rig(t: ExecutionContext, sim: Partial<NoteAcceptorSimulatorOptions> = {}) {
  const pair = await openPtyPair();
  const simulator = await NoteAcceptorSimulator.start({ path: pair.devicePath, escrowTimeoutMs: 0, acceptCounter: IN_SERVICE, ...sim });
  const driver = new SerialNoteAcceptor({ path: pair.hostPath, limits: TEST_LIMITS });
  t.teardown(async () => {
    await driver.close();
    await simulator.stop();
    await pair.close();
  });
  await driver.open();
  return { sim: simulator, driver };
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + BOUND_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${BOUND_MS} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function escrowNote(sim: NoteAcceptorSimulator, driver: SerialNoteAcceptor, valueCents: number): Promise<void> {
  if (sim.insertNote(valueCents) !== 'escrow') throw new Error(`${valueCents} was not taken into escrow`);
  await waitFor(() => driver.noteInEscrow?.valueCents === valueCents, `escrow of ${valueCents}`);
}

test('acceptCounter reads header 225 and is retried like every query', async (t) => {
  const { sim, driver } = await rig(t);
  t.is(await driver.acceptCounter(), IN_SERVICE);
  sim.loseNextReplyTo(HEADER.REQUEST_ACCEPT_COUNTER);
  t.is(await driver.acceptCounter(), IN_SERVICE, 'the lost reply is asked for again');
  t.is(sim.receivedCount(HEADER.REQUEST_ACCEPT_COUNTER), 3);
});

test('the simulator counts every note that reaches the stacker, keeps the count across power cycles and emptying, and wraps at 2^24', async (t) => {
  const { sim, driver } = await rig(t, { acceptCounter: 0xffffff });
  await driver.enable(ALL_CAD);
  t.is(sim.insertCounterfeit(), 'rejected');
  await escrowNote(sim, driver, 2000);
  await driver.return();
  t.is(sim.acceptCounter, 0xffffff, 'rejected and returned notes are not accepted');

  await escrowNote(sim, driver, 2000);
  await driver.stack();
  t.is(sim.acceptCounter, 0, 'wrapped');
  t.is(await driver.acceptCounter(), 0);

  // A note stacked as an unknown bill type is in the cashbox all the same.
  await escrowNote(sim, driver, 1000);
  sim.injectFault('unknown-bill-stacked');
  t.is(sim.acceptCounter, 1);

  sim.powerCycle();
  sim.emptyStacker();
  t.is(sim.acceptCounter, 1, 'non-volatile, and a lifetime count');
  t.is(await driver.acceptCounter(), 1);
});
