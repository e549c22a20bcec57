import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { decodePinBlockFormat4 } from '../../../protocol/pin-block.js';
import { EppSecureModule } from '../../../kiosk/devices/pin-pad/epp/secure-module.js';
import { loadedSecureModule, testEppIdentity } from '../../helpers/epp-vendor.js';
import { PinEntry, type PinPadEvent } from '../../../kiosk/devices/pin-pad/pin-entry.js';
import { HidPinPad } from '../../../kiosk/devices/pin-pad/pin-pad.js';
import { pinPadReports, SimulatedPinPad } from '../../../kiosk/devices/pin-pad/pin-pad-simulator.js';

const PAN = '4111111111111111';
// The demo setting's software secure module, holding a PIN key delivered the real way.
const PIN_KEY = randomBytes(32);
const SECURE = await loadedSecureModule(PIN_KEY);
const reports = (...hex: string[]): Buffer[] => hex.map((h) => Buffer.from(h, 'hex'));
const UP = '0000000000000000';
const FAST_REOPEN = { reopenDelayMinMs: 5, reopenDelayMaxMs: 20 };

function record(pad: { onAny(listener: (event: PinPadEvent) => void): unknown }): PinPadEvent[] {
  const events: PinPadEvent[] = [];
  pad.onAny((event) => events.push(event));
  return events;
}

async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(2);
  }
}

async function startedPad(): Promise<{ pad: SimulatedPinPad; events: PinPadEvent[] }> {
  const pad = new SimulatedPinPad({ secure: SECURE, reopenLimits: FAST_REOPEN });
  const events = record(pad);
  pad.start();
  await until(() => pad.isAvailable);
  events.length = 0;
  return { pad, events };
}

function blockOf(events: PinPadEvent[]): Buffer {
  const found = events.find((e): e is Extract<PinPadEvent, { type: 'pin-block' }> => e.type === 'pin-block');
  if (!found) throw new Error('no pin-block event');
  return found.block;
}

test('keypad report bytes for 2-4-6-8 Enter become a PIN block that deciphers to 2468 with the PAN and key', async (t) => {
  const { pad, events } = await startedPad();
  pad.begin({ pan: PAN });
  pad.device.sendReports(
    reports(
      '00005a0000000000', // keypad 2
      UP,
      '00005c0000000000', // keypad 4
      '00005c5e00000000', // 4 held, keypad 6 down (rollover)
      '00005e0000000000',
      UP,
      '0000600000000000', // keypad 8
      '0000600000000000', // repeated report: still one 8
      UP,
      '0000580000000000', // keypad Enter
      UP,
    ),
  );
  t.deepEqual(events.slice(0, -1), [
    { type: 'digit-entered', count: 1 },
    { type: 'digit-entered', count: 2 },
    { type: 'digit-entered', count: 3 },
    { type: 'digit-entered', count: 4 },
    { type: 'submit' },
  ]);
  const block = blockOf(events);
  t.is(block.length, 16);
  t.is(decodePinBlockFormat4(block, PAN, PIN_KEY), '2468');
  t.false(pad.isArmed, 'one Enter ends the entry');
  await pad.stop();
});

test('the simulator sends the keypad usages: 0x59..0x62 for digits, 0x58 Enter, 0x53 Num Lock, 0x29 Escape', (t) => {
  const hex = pinPadReports(['1', '9', '0', 'enter', 'clear', 'cancel', 'backspace']).map((b) => b.toString('hex'));
  t.deepEqual(hex, [
    '0000590000000000', UP,
    '0000610000000000', UP,
    '0000620000000000', UP,
    '0000580000000000', UP,
    '0000530000000000', UP,
    '0000290000000000', UP,
    '00002a0000000000', UP,
  ]);
});

test('Backspace removes the last digit', async (t) => {
  const { pad, events } = await startedPad();
  pad.begin({ pan: PAN });
  pad.press('1', '2', '3', '9', 'backspace', '4', '5', 'enter');
  t.deepEqual(
    events.filter((e) => e.type.startsWith('digit')),
    [
      { type: 'digit-entered', count: 1 },
      { type: 'digit-entered', count: 2 },
      { type: 'digit-entered', count: 3 },
      { type: 'digit-entered', count: 4 },
      { type: 'digit-removed', count: 3 },
      { type: 'digit-entered', count: 4 },
      { type: 'digit-entered', count: 5 },
    ],
  );
  t.is(decodePinBlockFormat4(blockOf(events), PAN, PIN_KEY), '12345');
  await pad.stop();
});

test('Delete also removes the last digit, and Backspace on no digits does nothing', async (t) => {
  const { pad, events } = await startedPad();
  pad.begin({ pan: PAN });
  pad.press('backspace');
  pad.press('7');
  pad.device.sendReports(reports('00004c0000000000', UP)); // Delete
  t.deepEqual(events, [
    { type: 'digit-entered', count: 1 },
    { type: 'digit-removed', count: 0 },
  ]);
  await pad.stop();
});

test('Enter with too few digits gives no block and says too short; the digits stay', async (t) => {
  const { pad, events } = await startedPad();
  pad.begin({ pan: PAN });
  pad.press('1', '2', '3', 'enter');
  t.deepEqual(events.at(-1), { type: 'too-short', count: 3, minDigits: 4 });
  t.false(events.some((e) => e.type === 'pin-block' || e.type === 'submit'));
  t.true(pad.isArmed);
  pad.press('4', 'enter');
  t.is(decodePinBlockFormat4(blockOf(events), PAN, PIN_KEY), '1234');
  await pad.stop();
});

test('Clear (Num Lock by default) forgets the digits and entry goes on', async (t) => {
  const { pad, events } = await startedPad();
  pad.begin({ pan: PAN });
  pad.press('9', '9', 'clear', '5', '6', '7', '8', 'enter');
  t.true(events.some((e) => e.type === 'cleared'));
  t.is(decodePinBlockFormat4(blockOf(events), PAN, PIN_KEY), '5678');
  await pad.stop();
});

test('Cancel (Escape) ends entry with a cancel event and no block; later keys are ignored', async (t) => {
  const { pad, events } = await startedPad();
  pad.begin({ pan: PAN });
  pad.press('1', '2', 'cancel', '3', '4', '5', '6', 'enter');
  t.deepEqual(events, [{ type: 'digit-entered', count: 1 }, { type: 'digit-entered', count: 2 }, { type: 'cancel' }]);
  t.false(pad.isArmed);
  await pad.stop();
});

test('keys are ignored until begin, and after abort', async (t) => {
  const { pad, events } = await startedPad();
  pad.press('1', '2', '3', '4', 'enter');
  t.deepEqual(events, []);
  pad.begin({ pan: PAN });
  pad.press('1');
  pad.abort();
  pad.press('2', '3', '4', '5', 'enter');
  t.deepEqual(events, [{ type: 'digit-entered', count: 1 }]);
  await pad.stop();
});

test('digits beyond maxDigits are not stored', async (t) => {
  const { pad, events } = await startedPad();
  pad.begin({ pan: PAN, minDigits: 4, maxDigits: 6 });
  pad.press('1', '2', '3', '4', '5', '6', '7', 'enter');
  t.true(events.some((e) => e.type === 'digit-ignored' && e.count === 6));
  t.is(decodePinBlockFormat4(blockOf(events), PAN, PIN_KEY), '123456');
  await pad.stop();
});

test('listeners never receive the digits: no event holds the PIN, in any form', async (t) => {
  const { pad, events } = await startedPad();
  const pin = ['8', '6', '4', '2', '9', '7'] as const;
  pad.begin({ pan: PAN });
  pad.press(...pin, 'backspace', '7', 'enter');
  const pinText = '864297';
  const serialized = JSON.stringify(events);
  t.false(serialized.includes(pinText));
  t.false(serialized.includes(pinText.slice(0, 4)), 'not even the first four digits');
  for (const event of events) {
    // Only these fields exist; none can carry a digit value except counts.
    t.true(Object.keys(event).every((k) => ['type', 'count', 'minDigits', 'reason', 'block'].includes(k)), JSON.stringify(Object.keys(event)));
  }
  // The counts are 1..6, never a digit sequence; the block is opaque ciphertext.
  t.deepEqual(
    events.filter((e) => e.type === 'digit-entered').map((e) => (e as { count: number }).count),
    [1, 2, 3, 4, 5, 6, 6],
  );
  t.is(decodePinBlockFormat4(blockOf(events), PAN, PIN_KEY), pinText);
  await pad.stop();
});

test('the collector zeroes its digit storage when the entry ends', (t) => {
  const entry = new PinEntry(SECURE);
  const storage = (entry as unknown as { digits: Uint8Array }).digits;
  entry.begin({ pan: PAN });
  for (const d of [9, 8, 7, 6]) entry.pressDigit(d);
  t.true(storage.some((v) => v !== 0));
  entry.pressEnter();
  t.true(storage.every((v) => v === 0));
  entry.begin({ pan: PAN });
  for (const d of [9, 8]) entry.pressDigit(d);
  entry.pressCancel();
  t.true(storage.every((v) => v === 0));
});

test('the on-screen pad feeds the same collector: pressDigit/pressEnter make the same block', (t) => {
  const entry = new PinEntry(SECURE);
  const events = record(entry);
  entry.begin({ pan: PAN });
  for (const d of [0, 0, 0, 1]) entry.pressDigit(d);
  entry.pressEnter();
  t.is(decodePinBlockFormat4(blockOf(events), PAN, PIN_KEY), '0001');
  t.throws(() => entry.pressDigit(10), { instanceOf: RangeError });
  t.throws(() => entry.pressDigit(1.5), { instanceOf: RangeError });
});

test('begin validates the PAN and the digit bounds before anything is typed', (t) => {
  const entry = new PinEntry(SECURE);
  t.throws(() => entry.begin({ pan: '41111x' }), { instanceOf: RangeError });
  t.throws(() => entry.begin({ pan: PAN, minDigits: 3 }), { instanceOf: RangeError });
  t.throws(() => entry.begin({ pan: PAN, minDigits: 6, maxDigits: 5 }), { instanceOf: RangeError });
  t.false(entry.isArmed);
});

test('Clear and Cancel can be remapped; the same key cannot be both', async (t) => {
  const keyMap = { clear: 'backspace', cancel: 'num-lock' } as const;
  const pad = new SimulatedPinPad({ secure: SECURE, keyMap, reopenLimits: FAST_REOPEN });
  const events = record(pad);
  pad.start();
  await until(() => pad.isAvailable);
  pad.begin({ pan: PAN });
  pad.press('1', 'clear', '2', 'cancel');
  t.deepEqual(events.slice(1).map((e) => e.type), ['digit-entered', 'cleared', 'digit-entered', 'cancel']);
  await pad.stop();
  t.throws(() => new HidPinPad({ source: pad.device, secure: SECURE, keyMap: { clear: 'escape', cancel: 'escape' } }), { instanceOf: RangeError });
});

test('a report of the wrong length is a bad-report event and the entry goes on', async (t) => {
  const { pad, events } = await startedPad();
  pad.begin({ pan: PAN });
  pad.press('1');
  pad.device.sendReports([Buffer.from('01000059000000000000', 'hex')]);
  t.is(events.at(-1)?.type, 'bad-report');
  t.true(pad.isArmed);
  await pad.stop();
});

test('a keypad that errors is unavailable (entry aborted), then available again after it reopens', async (t) => {
  const { pad, events } = await startedPad();
  pad.begin({ pan: PAN });
  pad.press('1', '2');
  pad.device.unplug();
  t.false(pad.isArmed, 'a half-typed PIN does not survive an unplug');
  await sleep(30);
  pad.device.plugIn();
  await until(() => pad.isAvailable);
  t.deepEqual(events.map((e) => e.type), ['digit-entered', 'digit-entered', 'unavailable', 'available']);
  await pad.stop();
});

test('a demo pad without a PIN key is unavailable and says so when asked to begin; loading a key makes it available', async (t) => {
  const secure = new EppSecureModule(testEppIdentity());
  const entry = new PinEntry(secure);
  const events = record(entry);
  entry.start();
  t.false(entry.isAvailable);
  entry.begin({ pan: PAN });
  t.false(entry.isArmed);
  t.deepEqual(events.map((e) => e.type), ['unavailable', 'unavailable']);
  const loaded = await loadedSecureModule(randomBytes(32), 'kiosk-demo', secure);
  t.true(entry.isAvailable);
  t.truthy(loaded.pinKey);
});
