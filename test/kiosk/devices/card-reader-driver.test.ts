import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { HidCardReader, type CardReaderEvent } from '../../../kiosk/devices/card-reader/card-reader.js';
import { cardSwipeReports, SimulatedCardReader } from '../../../kiosk/devices/card-reader/card-reader-simulator.js';
import type { HidDeviceSource, HidReportListener, OpenHidDevice } from '../../../kiosk/devices/hid/hid-device-source.js';

const NOW_MS = Date.parse('2026-05-10T12:00:00Z');
const CARD = { pan: '4111111111111111', name: 'DOE/JANE', expiry: { year: 2028, month: 12 } };
const FAST_REOPEN = { reopenDelayMinMs: 5, reopenDelayMaxMs: 20 };

function record(reader: { onAny(listener: (event: CardReaderEvent) => void): unknown }): CardReaderEvent[] {
  const events: CardReaderEvent[] = [];
  reader.onAny((event) => events.push(event));
  return events;
}

async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(2);
  }
}

/** A source written for this test: it fails to open `failuresBeforeOpen` times, then opens; `fail`
 *  makes the open device report an error, as node-hid does when the reader is unplugged. */
class FlakySource implements HidDeviceSource {
  readonly description = 'flaky test reader';
  openAttempts = 0;
  listener: HidReportListener | undefined;
  closed = 0;
  constructor(public failuresBeforeOpen: number) {}
  async open(listener: HidReportListener): Promise<OpenHidDevice> {
    this.openAttempts++;
    if (this.failuresBeforeOpen > 0) {
      this.failuresBeforeOpen--;
      throw new Error('ENOENT: no such device');
    }
    this.listener = listener;
    return {
      close: async () => {
        this.closed++;
        this.listener = undefined;
      },
    };
  }
  fail(): void {
    const listener = this.listener;
    this.listener = undefined;
    listener?.onError(new Error('could not read from HID device'));
  }
}

test('the driver reports available, then a card swiped as real report bytes', async (t) => {
  const source = new FlakySource(0);
  const reader = new HidCardReader({ source, nowMs: () => NOW_MS, reopenLimits: FAST_REOPEN });
  const events = record(reader);
  reader.start();
  await until(() => reader.isAvailable);
  for (const report of cardSwipeReports(CARD)) source.listener!.onReport(report);
  t.deepEqual(events, [{ type: 'available' }, { type: 'card', ...CARD }]);
  await reader.stop();
  t.is(source.closed, 1);
});

test('a device that errors is unavailable once, then available again after it reopens', async (t) => {
  const source = new FlakySource(0);
  const reader = new HidCardReader({ source, nowMs: () => NOW_MS, reopenLimits: FAST_REOPEN });
  const events = record(reader);
  reader.start();
  await until(() => reader.isAvailable);
  // Half a swipe, then the cable is pulled: the half must not join the next swipe.
  const swipe = cardSwipeReports(CARD);
  for (const report of swipe.slice(0, 30)) source.listener!.onReport(report);
  source.failuresBeforeOpen = 3;
  source.fail();
  t.false(reader.isAvailable);
  await until(() => reader.isAvailable);
  t.true(source.openAttempts >= 5, 'three failed reopen attempts, then one that succeeds');
  for (const report of swipe) source.listener!.onReport(report);
  t.deepEqual(
    events.map((e) => e.type),
    ['available', 'unavailable', 'available', 'card'],
  );
  const unavailable = events[1] as { type: 'unavailable'; reason: string };
  t.regex(unavailable.reason, /flaky test reader failed: could not read/);
  await reader.stop();
});

test('a reader absent at start is unavailable, and available when plugged in', async (t) => {
  const reader = new SimulatedCardReader({ nowMs: () => NOW_MS, reopenLimits: FAST_REOPEN });
  reader.device.unplug();
  const events = record(reader);
  reader.start();
  await until(() => events.length > 0);
  await sleep(50); // several retries fail meanwhile, silently
  t.deepEqual(events.map((e) => e.type), ['unavailable']);
  reader.device.plugIn();
  await until(() => reader.isAvailable);
  reader.swipe(CARD);
  t.deepEqual(events.map((e) => e.type), ['unavailable', 'available', 'card']);
  await reader.stop();
});

test('the driver reports a swipe cut off mid-way once the inter-character timeout passes', async (t) => {
  const reader = new SimulatedCardReader({ nowMs: Date.now, swipeLimits: { interCharTimeoutMs: 30 }, reopenLimits: FAST_REOPEN });
  const events = record(reader);
  reader.start();
  await until(() => reader.isAvailable);
  reader.device.sendReports(cardSwipeReports(CARD).slice(0, 25));
  await until(() => events.length === 2);
  t.deepEqual(events, [{ type: 'available' }, { type: 'bad-swipe', reason: 'timeout' }]);
  await reader.stop();
});

test('a swipe timer that fires before the clock shows the timeout is armed again, and the cut-off swipe is still reported', async (t) => {
  // The decoder's clock lags the timer (as the wall clock and Node's timers can under load).
  let clockMs = NOW_MS;
  const reader = new SimulatedCardReader({ nowMs: () => clockMs, swipeLimits: { interCharTimeoutMs: 30 }, reopenLimits: FAST_REOPEN });
  const events = record(reader);
  reader.start();
  await until(() => reader.isAvailable);
  reader.device.sendReports(cardSwipeReports(CARD).slice(0, 25));
  await sleep(100); // the timer has fired at least once, but the decoder's clock has not moved
  t.deepEqual(events, [{ type: 'available' }]);
  clockMs += 31;
  await until(() => events.length === 2);
  t.deepEqual(events, [{ type: 'available' }, { type: 'bad-swipe', reason: 'timeout' }]);
  await reader.stop();
});

test('stop closes the device and no events follow', async (t) => {
  const reader = new SimulatedCardReader({ nowMs: () => NOW_MS, reopenLimits: FAST_REOPEN });
  const events = record(reader);
  reader.start();
  await until(() => reader.isAvailable);
  await reader.stop();
  t.false(reader.device.isOpen);
  t.throws(() => reader.swipe(CARD), { message: /not open/ });
  t.deepEqual(events.map((e) => e.type), ['available']);
});
