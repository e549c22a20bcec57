// The meaning of ccTalk bill events and the counter arithmetic that reports each one exactly once.
import test from 'ava';
import { BillEventTracker, classifyEvent, counterBefore, eventsBetween } from '../../../kiosk/devices/note-acceptor/bill-events.js';
import type { EventBuffer, RawBillEvent } from '../../../kiosk/devices/note-acceptor/headers.js';

const E = (resultA: number, resultB: number): RawBillEvent => ({ resultA, resultB });
const ZERO = E(0, 0);

/** A buffer as the device holds it: newest first, padded with zeros. */
function buffer(eventCounter: number, ...newestFirst: RawBillEvent[]): EventBuffer {
  const events = [...newestFirst, ZERO, ZERO, ZERO, ZERO, ZERO].slice(0, 5);
  return { eventCounter, events };
}

test('bill events: A 1..16 with B 0 is stacked, B 1 is escrow', (t) => {
  t.deepEqual(classifyEvent(E(3, 0)), { kind: 'stacked', billType: 3 });
  t.deepEqual(classifyEvent(E(16, 1)), { kind: 'escrow', billType: 16 });
  t.is(classifyEvent(E(3, 2)).kind, 'fault', 'an unknown B for a bill type is not guessed at');
  t.is(classifyEvent(E(17, 0)).kind, 'fault', 'bill type 17 does not exist');
});

test('status events: every B 0..21 has its meaning, anything else is an unknown event', (t) => {
  const expected: [number, string][] = [
    [0, 'rejected:disabled'], [1, 'returned'], [2, 'rejected:invalid'], [3, 'rejected:transport'], [4, 'rejected:inhibited'],
    [5, 'rejected:inhibited-by-switch'], [6, 'fault:jam'], [7, 'fault:jam'], [8, 'fault:fraud'], [9, 'fault:fraud'],
    [10, 'fault-cleared:stacker-full,stacker-removed,stacker-faulty'], [11, 'fault:stacker-removed'],
    [12, 'fault-cleared:stacker-removed'], [13, 'fault:stacker-faulty'], [14, 'fault:stacker-full'], [15, 'fault:jam'],
    [16, 'fault:jam'], [17, 'fault:fraud'], [18, 'fault:fraud'], [19, 'fault:anti-string-faulty'], [20, 'rejected:barcode'],
    [21, 'fault:unknown-bill'], [22, 'fault:unknown-event'], [255, 'fault:unknown-event'],
  ];
  for (const [resultB, meaning] of expected) {
    const event = classifyEvent(E(0, resultB));
    const detail = event.kind === 'rejected' ? `:${event.reason}` : event.kind === 'fault' ? `:${event.code}` : event.kind === 'fault-cleared' ? `:${event.codes.join(',')}` : '';
    t.is(`${event.kind}${detail}`, meaning, `B ${resultB}`);
  }
});

test('the counter runs 1..255 and wraps to 1, never to 0', (t) => {
  t.is(eventsBetween(254, 255), 1);
  t.is(eventsBetween(255, 1), 1);
  t.is(eventsBetween(250, 3), 8);
  t.is(eventsBetween(0, 3), 3);
  t.is(counterBefore(1, 1), 255);
  t.is(counterBefore(3, 4), 254);
});

test('the first read is a baseline: events from before it are not reported', (t) => {
  const tracker = new BillEventTracker();
  const reading = tracker.read(buffer(7, E(1, 0), E(1, 1)));
  t.true(reading.baseline);
  t.deepEqual(reading.newEvents, []);
});

test('new events come oldest first with their counters, and a re-read yields nothing', (t) => {
  const tracker = new BillEventTracker();
  tracker.read(buffer(0));
  const first = tracker.read(buffer(2, E(3, 0), E(3, 1)));
  t.deepEqual(first.newEvents, [{ event: E(3, 1), eventCounter: 1 }, { event: E(3, 0), eventCounter: 2 }]);
  const again = tracker.read(buffer(2, E(3, 0), E(3, 1)));
  t.deepEqual(again.newEvents, [], 'the same counter twice: the stacked note is not reported twice');
  t.is(again.reset, 'none');
});

test('new events across the wrap from 255 to 1 are all reported once', (t) => {
  const tracker = new BillEventTracker();
  tracker.read(buffer(254, E(2, 1), E(0, 2)));
  const reading = tracker.read(buffer(2, E(5, 0), E(5, 1), E(2, 0), E(2, 1), E(0, 2)));
  t.deepEqual(reading.newEvents.map((e) => e.eventCounter), [255, 1, 2]);
  t.deepEqual(reading.newEvents.map((e) => e.event), [E(2, 0), E(5, 1), E(5, 0)]);
  t.is(reading.lostEvents, 0);
});

test('more than five new events: the five are reported and the rest counted as lost', (t) => {
  const tracker = new BillEventTracker();
  tracker.read(buffer(10, E(1, 0)));
  const reading = tracker.read(buffer(17, E(0, 2), E(0, 2), E(0, 2), E(0, 2), E(0, 2)));
  t.is(reading.newEvents.length, 5);
  t.is(reading.lostEvents, 2);
  t.deepEqual(reading.newEvents.map((e) => e.eventCounter), [13, 14, 15, 16, 17]);
});

test('exactly five new events lose nothing', (t) => {
  const tracker = new BillEventTracker();
  tracker.read(buffer(10, E(1, 0)));
  const reading = tracker.read(buffer(15, E(0, 2), E(0, 2), E(0, 2), E(0, 2), E(0, 2)));
  t.is(reading.newEvents.length, 5);
  t.is(reading.lostEvents, 0);
  t.is(reading.reset, 'none');
});

test('a counter back at 0 that the kiosk did not ask for is an unexpected reset', (t) => {
  const tracker = new BillEventTracker();
  tracker.read(buffer(5, E(2, 1)));
  const reading = tracker.read(buffer(0));
  t.is(reading.reset, 'unexpected');
  t.deepEqual(reading.newEvents, []);
  t.is(tracker.read(buffer(0)).reset, 'none', 'still 0: the same reset, not another');
});

test('a reset the kiosk asked for is expected, once', (t) => {
  const tracker = new BillEventTracker();
  tracker.read(buffer(5, E(2, 1)));
  tracker.expectReset();
  t.is(tracker.read(buffer(0)).reset, 'expected');
  tracker.read(buffer(1, E(0, 2)));
  t.is(tracker.read(buffer(0)).reset, 'unexpected', 'the next reset is not explained by the old request');
});

test('a reset between two reads shows as a buffer that does not continue, and its new events are reported', (t) => {
  const tracker = new BillEventTracker();
  tracker.read(buffer(6, E(2, 0), E(2, 1), E(1, 0), E(1, 1)));
  // The device reset unseen (counter 0, buffer cleared) and then recorded 8 events. Counter 8 alone
  // would read as 2 new events, but the entries behind them are not the ones read at counter 6.
  const reading = tracker.read(buffer(8, E(0, 12), E(0, 2), E(0, 2), E(0, 2), E(0, 2)));
  t.is(reading.reset, 'unexpected');
  t.deepEqual(reading.newEvents.map((e) => e.eventCounter), [4, 5, 6, 7, 8]);
  t.deepEqual(reading.newEvents.at(-1)?.event, E(0, 12));
  t.is(reading.lostEvents, 3, 'events 1..3 after the reset fell out of the buffer');
});

test('a re-read with the same counter but other events is a reset, not silence', (t) => {
  const tracker = new BillEventTracker();
  tracker.read(buffer(2, E(3, 0), E(3, 1)));
  const reading = tracker.read(buffer(2, E(0, 2), E(0, 2)));
  t.is(reading.reset, 'unexpected');
  t.is(reading.newEvents.length, 2);
});

test('a counter that went back after a reset is a reset, and only the entries after it are new', (t) => {
  const tracker = new BillEventTracker();
  tracker.read(buffer(9, E(3, 0), E(3, 1), E(2, 0), E(2, 1), E(1, 0)));
  // A validator that keeps its old entries over a reset, then records one event: counter 1.
  const reading = tracker.read(buffer(1, E(0, 11), E(3, 0), E(3, 1), E(2, 0), E(2, 1)));
  t.is(reading.reset, 'unexpected');
  t.deepEqual(reading.newEvents, [{ event: E(0, 11), eventCounter: 1 }], 'the old stacked entries are not reported again');
  t.is(reading.lostEvents, 0);
});

test('an expected reset whose first event came before the read is still the expected reset', (t) => {
  const tracker = new BillEventTracker();
  tracker.read(buffer(40, E(0, 6)));
  tracker.expectReset();
  t.is(tracker.read(buffer(40, E(0, 6))).reset, 'none', 'not reset yet: keep expecting');
  const reading = tracker.read(buffer(1, E(0, 6)));
  t.is(reading.reset, 'expected');
  t.deepEqual(reading.newEvents, [{ event: E(0, 6), eventCounter: 1 }]);
});

test('a normal wrap that continues the buffer is not a reset', (t) => {
  const tracker = new BillEventTracker();
  tracker.read(buffer(254, E(0, 2), E(0, 2)));
  const reading = tracker.read(buffer(1, E(0, 4), E(0, 3), E(0, 2), E(0, 2)));
  t.is(reading.reset, 'none');
  t.deepEqual(reading.newEvents.map((e) => e.eventCounter), [255, 1]);
});
