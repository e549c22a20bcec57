// The presenter and RETRACT, the driver against the simulator over a real pty pair made by socat: notes
// wait in the presenter until taken; RETRACT takes back what still waits into the bin, once per
// transaction (a repeat answers the same), and says "taken" of notes the customer took.
import test, { type ExecutionContext } from 'ava';
import { SerialCashDispenser } from '../../../kiosk/devices/dispenser/driver.js';
import { COMMAND, decodeRetractRecord, encodeRetractRecord, MessageFormatError } from '../../../kiosk/devices/dispenser/messages.js';
import { DispenserSimulator } from '../../../kiosk/devices/dispenser/simulator.js';
import { isDeviceError } from '../../../kiosk/devices/serial/device-error.js';
import { openPtyPair } from '../../../kiosk/devices/serial/pty-pair.js';

const CASSETTES = [
  { denominationCents: 2_000, count: 100 },
  { denominationCents: 5_000, count: 50 },
];

async function rig(t: ExecutionContext) {
  const pair = await openPtyPair();
  const sim = await DispenserSimulator.start({ path: pair.devicePath, cassettes: CASSETTES, takeNotesAfterMs: null });
  const driver = new SerialCashDispenser({ path: pair.hostPath });
  t.teardown(async () => {
    await driver.close();
    await sim.stop();
    await pair.close();
  });
  await driver.open();
  return { sim, driver };
}

test('presented notes wait in the presenter; RETRACT takes them into the bin once, and a repeat answers the same', async (t) => {
  const { sim, driver } = await rig(t);
  await driver.dispense({ transactionId: 501, notes: [2, 1] });
  t.is((await driver.status()).state, 'presenting');
  t.is(sim.presentedNotes, 3);
  const refused = await driver.dispense({ transactionId: 502, notes: [1, 0] });
  t.is(refused.error, 'not-ready', 'no new dispense while notes wait in the presenter');

  const first = await driver.retract(501);
  t.deepEqual(first, { transactionId: 501, outcome: 'retracted', retracted: [2, 1], retractBinCount: 3 });
  t.is((await driver.status()).state, 'ready');
  t.is(sim.presentedNotes, 0);
  t.deepEqual(await driver.retract(501), first, 'asked again (recovery after a power loss): the same answer, nothing more in the bin');
  t.is(sim.retractBinCount, 3);
  t.is(sim.receivedCount(COMMAND.RETRACT), 2);
});

test('notes the customer took are not retracted; an unknown transaction has nothing to retract', async (t) => {
  const { sim, driver } = await rig(t);
  await driver.dispense({ transactionId: 601, notes: [1, 0] });
  t.true(sim.takeNotes());
  t.is((await driver.status()).state, 'ready');
  t.deepEqual(await driver.retract(601), { transactionId: 601, outcome: 'taken', retracted: [0, 0], retractBinCount: 0 });
  t.deepEqual(await driver.retract(999), { transactionId: 999, outcome: 'unknown', retracted: [0, 0], retractBinCount: 0 });
  const bad = await driver.retract(0).catch((error: unknown) => error);
  t.true(isDeviceError(bad, 'BAD_ARGUMENT'), String(bad));
});

test('a RETRACT answer that breaks the format is refused at the edge', (t) => {
  const good = { transactionId: 7, outcome: 'retracted' as const, retracted: [1, 0], binCount: 4 };
  t.deepEqual(decodeRetractRecord(encodeRetractRecord(good)), good);
  const bad = [
    { ...good, outcome: 'taken' as const }, // notes with "taken"
    { ...good, retracted: [0, 0] }, // "retracted" with no notes
    { ...good, retracted: [3, 0], binCount: 2 }, // a bin smaller than what was just put in it
  ];
  for (const record of bad) t.throws(() => decodeRetractRecord(encodeRetractRecord(record)), { instanceOf: MessageFormatError });
  const bytes = encodeRetractRecord(good);
  t.throws(() => decodeRetractRecord(bytes.subarray(0, bytes.length - 1)), { instanceOf: MessageFormatError }, 'cut short');
  t.throws(() => decodeRetractRecord(Uint8Array.from([...bytes, 0])), { instanceOf: MessageFormatError }, 'a byte too many');
  const unknownOutcome = Uint8Array.from(bytes);
  unknownOutcome[4] = 9;
  t.throws(() => decodeRetractRecord(unknownOutcome), { instanceOf: MessageFormatError });
});
