// The dispenser driver against the simulator over a real pty pair made by socat.
import test, { type ExecutionContext } from 'ava';
import { isDeviceError } from '../../../kiosk/devices/serial/device-error.js';
import { openPtyPair } from '../../../kiosk/devices/serial/pty-pair.js';
import { SerialCashDispenser, type DispenserLimits } from '../../../kiosk/devices/dispenser/driver.js';
import { COMMAND } from '../../../kiosk/devices/dispenser/messages.js';
import { DispenserSimulator, type SimulatedCassette } from '../../../kiosk/devices/dispenser/simulator.js';
import type { AvailabilityChange } from '../../../kiosk/devices/dispenser/types.js';

/**
 * Bounds shorter than a real device needs, yet generous enough that a loaded machine never turns an
 * answer into a timeout: the faults below are made by the simulator dropping frames or responses, not by
 * racing a clock. Tests that lose a dispense response shorten the wait for it themselves.
 */
const FAST_LIMITS: Partial<DispenserLimits> = {
  ackTimeoutMs: 500,
  commandResponseTimeoutMs: 3_000,
  dispenseResponseTimeoutMs: 5_000,
  maxTransmitAttempts: 3,
  interByteTimeoutMs: 500,
  outcomeQueryAttempts: 10,
  outcomeQueryIntervalMs: 100,
};
/** For tests whose dispense response is dropped: the driver gives up waiting for it sooner. */
const LOST_RESPONSE_LIMITS: Partial<DispenserLimits> = { dispenseResponseTimeoutMs: 500 };

const CASSETTES: SimulatedCassette[] = [
  { denominationCents: 2000, count: 100 },
  { denominationCents: 5000, count: 50 },
];

async function rig(t: ExecutionContext, limits: Partial<DispenserLimits> = {}) {
  const pair = await openPtyPair();
  const sim = await DispenserSimulator.start({ path: pair.devicePath, cassettes: CASSETTES, lowNoteThreshold: 5 });
  const driver = new SerialCashDispenser({ path: pair.hostPath, limits: { ...FAST_LIMITS, ...limits } });
  const changes: AvailabilityChange[] = [];
  driver.onAvailabilityChange((change) => changes.push(change));
  t.teardown(async () => {
    await driver.close();
    await sim.stop();
    await pair.close();
  });
  await driver.open();
  return { sim, driver, changes };
}

test('status reports state, denominations, counts and low flags', async (t) => {
  const { sim, driver } = await rig(t);
  sim.setCassetteCount(1, 3);
  const status = await driver.status();
  t.is(status.state, 'ready');
  t.is(status.error, undefined);
  t.deepEqual(status.cassettes, [
    { index: 0, denominationCents: 2000, count: 100, low: false },
    { index: 1, denominationCents: 5000, count: 3, low: true },
  ]);
  t.is(driver.availability, 'available');
});

test('a dispense moves the notes asked and the counters follow', async (t) => {
  const { sim, driver } = await rig(t);
  const result = await driver.dispense({ transactionId: 1001, notes: [3, 1] });
  t.deepEqual(result, { transactionId: 1001, requested: [3, 1], dispensed: [3, 1], complete: true, source: 'response' });
  t.deepEqual(sim.cassetteCounts, [97, 49]);
  t.deepEqual((await driver.counters()).lifetimeDispensed, [3, 1]);
  t.is(sim.receivedCount(COMMAND.DISPENSE), 1);
});

test('SET_COUNTS sets each cassette’s count (a technician’s load), answers the status, and refuses a count the wire cannot carry', async (t) => {
  const { sim, driver } = await rig(t);
  const status = await driver.setCassetteCounts([400, 0]);
  t.deepEqual(status.cassettes.map((c) => c.count), [400, 0]);
  t.deepEqual(sim.cassetteCounts, [400, 0]);
  // Setting again is the same: a kiosk that lost power before it journalled the load sets it once more.
  await driver.setCassetteCounts([400, 0]);
  t.deepEqual(sim.cassetteCounts, [400, 0]);
  await t.throwsAsync(driver.setCassetteCounts([-1, 3]), { code: 'BAD_ARGUMENT' } as never);
  await t.throwsAsync(driver.setCassetteCounts([70_000, 3]), { code: 'BAD_ARGUMENT' } as never);
  // A list for another number of cassettes changes nothing, and the driver says so.
  await t.throwsAsync(driver.setCassetteCounts([5]), { code: 'DISPENSER_REFUSED' } as never);
  t.deepEqual(sim.cassetteCounts, [400, 0]);
  t.is(sim.receivedCount(COMMAND.SET_COUNTS), 3);
});

test('a NAKed STATUS is retransmitted with the same SEQ and then answered', async (t) => {
  const { sim, driver } = await rig(t);
  const before = sim.received.length;
  sim.nakNextFrames(1);
  const status = await driver.status();
  t.is(status.state, 'ready');
  const sent = sim.received.slice(before);
  t.deepEqual(sent.map((r) => r.command), [COMMAND.STATUS, COMMAND.STATUS]);
  t.is(sent[0]?.seq, sent[1]?.seq);
  t.is(driver.stats.retransmissions, 1);
});

test('a STATUS whose ACK never comes is retransmitted within the budget', async (t) => {
  const { sim, driver } = await rig(t);
  sim.ignoreNextFrames(1);
  const status = await driver.status();
  t.is(status.state, 'ready');
  t.is(driver.stats.retransmissions, 1);
});

test('a device silent beyond the retransmit budget makes STATUS fail and the driver unavailable', async (t) => {
  const { sim, driver, changes } = await rig(t);
  sim.ignoreNextFrames(3);
  const error = await t.throwsAsync(driver.status());
  t.true(isDeviceError(error, 'DISPENSER_NO_ACK'), String(error));
  t.is(driver.availability, 'unavailable');
  t.is(changes.at(-1)?.availability, 'unavailable');
  t.is(sim.receivedCount(COMMAND.STATUS), 1 + 3, 'open, then three attempts');
});

test('a jam stops the dispense part way, reports it, and needs RESET', async (t) => {
  const { sim, driver } = await rig(t);
  sim.jamNextDispense(2);
  const jammed = await driver.dispense({ transactionId: 2001, notes: [3, 1] });
  t.deepEqual(jammed, { transactionId: 2001, requested: [3, 1], dispensed: [2, 0], complete: false, error: 'jam', source: 'response' });
  t.is(driver.availability, 'unavailable');
  t.is((await driver.status()).state, 'error');

  const refused = await driver.dispense({ transactionId: 2002, notes: [1, 0] });
  t.deepEqual(refused.dispensed, [0, 0]);
  t.is(refused.error, 'not-ready');

  await driver.reset();
  t.is((await driver.status()).state, 'ready');
  t.is(driver.availability, 'available');
  t.deepEqual(sim.lifetimeDispensed, [2, 0]);
});

test('a short pick reports what actually left the device', async (t) => {
  const { sim, driver } = await rig(t);
  sim.shortNextDispense([1, 0]);
  const result = await driver.dispense({ transactionId: 3001, notes: [3, 1] });
  t.deepEqual(result, { transactionId: 3001, requested: [3, 1], dispensed: [2, 1], complete: false, error: 'pick-failure', source: 'response' });
  t.deepEqual(sim.cassetteCounts, [98, 49]);
  t.is((await driver.status()).state, 'ready', 'a short pick does not stop the device');
});

test('a dispense asking for more notes than a cassette holds moves nothing', async (t) => {
  const { sim, driver } = await rig(t);
  sim.setCassetteCount(1, 2);
  const result = await driver.dispense({ transactionId: 3101, notes: [0, 3] });
  t.deepEqual(result.dispensed, [0, 0]);
  t.is(result.error, 'insufficient-notes');
  t.deepEqual(sim.cassetteCounts, [100, 2]);
});

test('a device silent after moving the notes: the driver asks LAST_DISPENSE and the notes moved exactly once', async (t) => {
  const { sim, driver } = await rig(t, LOST_RESPONSE_LIMITS);
  sim.goSilentDuringNextDispense(500);
  const result = await driver.dispense({ transactionId: 4001, notes: [2, 1] });
  t.deepEqual(result, { transactionId: 4001, requested: [2, 1], dispensed: [2, 1], complete: true, source: 'query' });
  t.is(sim.receivedCount(COMMAND.DISPENSE), 1, 'the dispense command was received once');
  t.is(driver.stats.dispenseFramesSent, 1);
  t.deepEqual(sim.lifetimeDispensed, [2, 1]);
  t.deepEqual(sim.cassetteCounts, [98, 49]);
  t.true(sim.receivedCount(COMMAND.LAST_DISPENSE) >= 1);
});

test('the wait for a lost dispense response grows with the notes asked for, up to its bound', async (t) => {
  const { sim, driver } = await rig(t, { dispenseResponseBaseMs: 200, dispenseResponsePerNoteMs: 100, dispenseResponseTimeoutMs: 1_500 });
  const lostAfter = async (transactionId: number, notes: number[]) => {
    sim.goSilentDuringNextDispense(50);
    const started = performance.now();
    const result = await driver.dispense({ transactionId, notes });
    t.is(result.source, 'query', 'the response was lost and the outcome asked for');
    return performance.now() - started;
  };
  const one = await lostAfter(4011, [1, 0]); // 200 + 100 ms
  const ten = await lostAfter(4012, [5, 5]); // 200 + 1,000 ms
  const fifty = await lostAfter(4013, [25, 25]); // 200 + 5,000 ms, bounded at 1,500 ms
  t.true(one >= 290, `1 note: ${one} ms`);
  t.true(ten >= 1_190, `10 notes: ${ten} ms`);
  t.true(ten > one + 600, `10 notes waited longer than 1: ${ten} vs ${one} ms`);
  // The upper bound is generous (the unbounded wait would be 5,200 ms), so a loaded machine still passes.
  t.true(fifty >= 1_490 && fifty < 4_500, `50 notes: ${fifty} ms, bounded by dispenseResponseTimeoutMs`);
  t.deepEqual(sim.lifetimeDispensed, [31, 30]);
});

test('a dispense lost before the device saw it is reported as not received, and never resent', async (t) => {
  const { sim, driver } = await rig(t);
  sim.ignoreNextFrames(1);
  const result = await driver.dispense({ transactionId: 4101, notes: [1, 1] });
  t.deepEqual(result, { transactionId: 4101, requested: [1, 1], dispensed: [0, 0], complete: false, error: 'not-received', source: 'query' });
  t.is(sim.receivedCount(COMMAND.DISPENSE), 1);
  t.deepEqual(sim.lifetimeDispensed, [0, 0]);
});

test('a NAKed dispense is not resent: the driver asks what happened', async (t) => {
  const { sim, driver } = await rig(t);
  sim.nakNextFrames(1);
  const result = await driver.dispense({ transactionId: 4201, notes: [1, 0] });
  t.is(result.error, 'not-received');
  t.deepEqual(result.dispensed, [0, 0]);
  t.is(sim.receivedCount(COMMAND.DISPENSE), 1);
  t.deepEqual(sim.lifetimeDispensed, [0, 0]);
});

test('when the device cannot be asked, the dispense outcome is unknown until queried later', async (t) => {
  const { sim, driver } = await rig(t, { ...LOST_RESPONSE_LIMITS, outcomeQueryAttempts: 2 });
  sim.goSilentDuringNextDispense(Number.POSITIVE_INFINITY);
  const error = await t.throwsAsync(driver.dispense({ transactionId: 4301, notes: [1, 1] }));
  t.true(isDeviceError(error, 'DISPENSE_OUTCOME_UNKNOWN'), String(error));
  t.is(driver.availability, 'unavailable');
  sim.endSilence();
  const query = await driver.queryDispense(4301);
  t.deepEqual(query, { transactionId: 4301, found: true, inProgress: false, requested: [1, 1], dispensed: [1, 1], complete: true });
  t.is(sim.receivedCount(COMMAND.DISPENSE), 1);
  t.is(driver.availability, 'available');
});

test('a transaction number the device has seen never moves notes again', async (t) => {
  const { sim, driver } = await rig(t);
  const first = await driver.dispense({ transactionId: 5001, notes: [1, 0] });
  const again = await driver.dispense({ transactionId: 5001, notes: [1, 0] });
  t.deepEqual(again, first);
  t.deepEqual(sim.lifetimeDispensed, [1, 0]);
  const different = await t.throwsAsync(driver.dispense({ transactionId: 5001, notes: [0, 1] }));
  t.true(isDeviceError(different, 'DISPENSER_REFUSED'), String(different));
  t.deepEqual(sim.lifetimeDispensed, [1, 0]);
});

test('queryDispense of an unknown transaction says not found', async (t) => {
  const { driver } = await rig(t);
  t.deepEqual(await driver.queryDispense(77), { transactionId: 77, found: false });
});

test('garbage and corrupted frames from the device are ignored and the link recovers', async (t) => {
  const { sim, driver } = await rig(t);
  await sim.injectBytes(Uint8Array.from([0x41, 0x42, 0xff, 0x00, 0x02, 0x09, 0x01, 0x90, 0x00, 0x00, 0x03, 0x77]));
  const status = await driver.status();
  t.is(status.state, 'ready');
  t.true(driver.stats.protocolErrors >= 1);
});

test('bad dispense arguments are refused before anything is sent', async (t) => {
  const { sim, driver } = await rig(t);
  for (const request of [
    { transactionId: 0, notes: [1, 0] },
    { transactionId: 1.5, notes: [1, 0] },
    { transactionId: 6001, notes: [0, 0] },
    { transactionId: 6001, notes: [-1, 2] },
    { transactionId: 6001, notes: [51, 0] },
    { transactionId: 6001, notes: [] },
  ]) {
    const error = await t.throwsAsync(driver.dispense(request));
    t.true(isDeviceError(error, 'BAD_ARGUMENT'), JSON.stringify(request));
  }
  t.is(sim.receivedCount(COMMAND.DISPENSE), 0);
});

test('a closed driver refuses commands', async (t) => {
  const { driver } = await rig(t);
  await driver.close();
  t.is(driver.availability, 'closed');
  const error = await t.throwsAsync(driver.status());
  t.true(isDeviceError(error, 'NOT_OPEN'));
});
