import test from 'ava';
import { CardSwipeDecoder, type CardSwipeEvent } from '../../../kiosk/devices/card-reader/card-swipe-decoder.js';
import { cardSwipeReports, swipeText, type SimulatedCard } from '../../../kiosk/devices/card-reader/card-reader-simulator.js';
import { isLuhnValid, maskPan } from '../../../kiosk/devices/card-reader/primary-account-number.js';
import { BAD_SWIPE_REASONS } from '../../../kiosk/devices/card-reader/magstripe-tracks.js';
import { reportsForText } from '../../../kiosk/devices/hid/keyboard-report-writer.js';

/** Reports written as 16 hex digits each: modifiers, reserved, six key slots. */
const reports = (...hex: string[]): Buffer[] => hex.map((h) => Buffer.from(h, 'hex'));

const NOW_MS = Date.parse('2026-05-10T12:00:00Z');

function clock(startMs = NOW_MS): { nowMs: () => number; advance(ms: number): void } {
  let nowMs = startMs;
  return {
    nowMs: () => nowMs,
    advance: (ms) => {
      nowMs += ms;
    },
  };
}

function feed(decoder: CardSwipeDecoder, input: Buffer[]): CardSwipeEvent[] {
  return input.flatMap((report) => decoder.pushReport(report));
}

const CARD: SimulatedCard = { pan: '4111111111111111', name: 'DOE/JANE', expiry: { year: 2028, month: 12 } };

// `;4111111111111111=28121010000?` then Enter, as a reader that rolls keys over sends it: some keys go
// down before the previous one is up, some reports repeat, releases are all zeros, '?' is Shift + '/'.
const UP = '0000000000000000';
const ONE_PRESS_RELEASE = ['00001e0000000000', UP];
const TRACK2_ONLY_SWIPE = reports(
  '0000330000000000', // ;
  '0000332100000000', // ; held, 4 down (rollover)
  '0000210000000000', // ; up
  '0000210000000000', // repeated identical report
  UP,
  ...Array<string[]>(15).fill(ONE_PRESS_RELEASE).flat(), // 1 ×15
  '00002e0000000000', // =
  '00002e1f00000000', // = held, 2 down
  '00001f0000000000',
  '00001f2500000000', // 2 held, 8 down
  UP,
  '00001e0000000000', // 1
  '00001f0000000000', // 1 up and 2 down in one report
  UP,
  '00001e0000000000', // 1
  '00001e2700000000', // 1 held, 0 down
  UP,
  '00001e0000000000', // 1
  UP,
  ...Array<string[]>(4).fill(['0000270000000000', UP]).flat(), // 0 ×4
  '0200000000000000', // Shift alone
  '0200380000000000', // Shift + / → ?
  '0200000000000000',
  UP,
  '0000280000000000', // Enter
  UP,
);

test('a track-2-only swipe in real report bytes (rollover, repeats, shift) is a card', (t) => {
  const { nowMs } = clock();
  t.deepEqual(feed(new CardSwipeDecoder({ nowMs }), TRACK2_ONLY_SWIPE), [
    { type: 'card', pan: '4111111111111111', expiry: { year: 2028, month: 12 } },
  ]);
});

test('the simulator types track 2 with exactly the bytes a press-and-release reader sends', (t) => {
  const simulated = cardSwipeReports({ ...CARD, tracks: 'track2' });
  t.is(simulated[0]!.toString('hex'), '0000330000000000');
  t.is(simulated[1]!.toString('hex'), UP);
  t.is(simulated.at(-4)!.toString('hex'), '0200380000000000'); // '?' = Shift + '/'
  t.is(simulated.at(-2)!.toString('hex'), '0000280000000000'); // Enter
  t.is(simulated.length, 2 * swipeText({ ...CARD, tracks: 'track2' }).length);
});

test('track 1 starts %B: Shift+5 then Shift+b, and the name separator is Shift+6', (t) => {
  const { nowMs } = clock();
  const decoder = new CardSwipeDecoder({ nowMs });
  const head = reports('0200220000000000', '0200000000000000', '0200050000000000', UP); // % B
  t.deepEqual(feed(decoder, head), []);
  const body = reportsForText('4111111111111111');
  const caret = reports('0200230000000000', UP); // ^
  const rest = reportsForText('DOE/JANE^28121010000000000?\n');
  t.deepEqual(feed(decoder, [...body, ...caret, ...rest]), [
    { type: 'card', pan: '4111111111111111', name: 'DOE/JANE', expiry: { year: 2028, month: 12 } },
  ]);
});

test('a good track 1 + track 2 swipe gives the PAN, the name and the expiry', (t) => {
  const { nowMs } = clock();
  t.deepEqual(feed(new CardSwipeDecoder({ nowMs }), cardSwipeReports(CARD)), [
    { type: 'card', pan: '4111111111111111', name: 'DOE/JANE', expiry: { year: 2028, month: 12 } },
  ]);
});

test('swipes follow one another: each Enter ends one swipe', (t) => {
  const { nowMs } = clock();
  const decoder = new CardSwipeDecoder({ nowMs });
  const second: SimulatedCard = { pan: '5500000000000004', name: 'ROE/RICHARD', expiry: { year: 2027, month: 1 } };
  const events = feed(decoder, [...cardSwipeReports(CARD), ...cardSwipeReports(second)]);
  t.deepEqual(
    events.map((e) => (e.type === 'card' ? e.pan : e.reason)),
    ['4111111111111111', '5500000000000004'],
  );
});

test('a track the reader could not read (%E?) is ignored when the other track is good', (t) => {
  const { nowMs } = clock();
  const events = feed(new CardSwipeDecoder({ nowMs }), reportsForText('%E?;4111111111111111=28121010000?\n'));
  t.deepEqual(events, [{ type: 'card', pan: '4111111111111111', expiry: { year: 2028, month: 12 } }]);
  t.deepEqual(feed(new CardSwipeDecoder({ nowMs }), reportsForText('%E?;E?\n')), [{ type: 'bad-swipe', reason: 'no-track-data' }]);
});

function reasonFor(text: string, nowMs = () => NOW_MS): string {
  const events = feed(new CardSwipeDecoder({ nowMs }), reportsForText(text));
  return events.map((e) => (e.type === 'card' ? `card ${e.pan}` : e.reason)).join(',');
}

test('a PAN that fails the Luhn check is a bad swipe', (t) => {
  t.is(reasonFor(swipeText({ ...CARD, pan: '4111111111111112' })), 'bad-luhn');
});

test('different PANs on track 1 and track 2 are a bad swipe, as are different expiries', (t) => {
  t.is(reasonFor('%B4111111111111111^DOE/JANE^28121010000?;5500000000000004=28121010000?\n'), 'pan-mismatch');
  t.is(reasonFor('%B4111111111111111^DOE/JANE^28121010000?;4111111111111111=28111010000?\n'), 'track-mismatch');
});

test('a card is valid through its expiry month and expired the month after', (t) => {
  const lastDay = clock(Date.parse('2028-12-31T23:59:59Z')).nowMs;
  const nextMonth = clock(Date.parse('2029-01-01T00:00:00Z')).nowMs;
  t.is(reasonFor(swipeText(CARD), lastDay), 'card 4111111111111111');
  t.is(reasonFor(swipeText(CARD), nextMonth), 'expired');
  t.is(reasonFor(swipeText({ ...CARD, expiry: { year: 2026, month: 4 } })), 'expired');
  t.is(reasonFor(swipeText({ ...CARD, expiry: { year: 2028, month: 13 } })), 'bad-expiry');
});

test('garbled and truncated swipes are bad swipes', (t) => {
  t.is(reasonFor('%B4111111111111111^DOE/JANE^28\n'), 'garbled'); // cut before the end sentinel
  t.is(reasonFor(';4111111111111111=2812\n'), 'garbled');
  t.is(reasonFor(';4111111111111111=28?\n'), 'garbled'); // no service code
  t.is(reasonFor('%B4111111111111111^doe/jane^28121010000?\n'), 'garbled'); // lowercase cannot be on track 1
  t.is(reasonFor('%B4111111111111111^DOE/JANE^28121010000?;41111x1111111111=28121010000?\n'), 'garbled');
  t.is(reasonFor('4111111111111111\n'), 'garbled'); // no sentinel at all
  t.is(reasonFor(';41111111111=28121010000?\n'), 'garbled'); // 11-digit PAN
  t.is(reasonFor(';41111111111111111111=28121010000?\n'), 'garbled'); // 20-digit PAN
  t.is(reasonFor('\n'), 'no-track-data');
});

test('input longer than any swipe is one too-long event, and the next swipe reads normally', (t) => {
  const { nowMs } = clock();
  const decoder = new CardSwipeDecoder({ nowMs });
  const overlong = reportsForText(`;${'1'.repeat(400)}?\n`);
  t.deepEqual(feed(decoder, overlong), [{ type: 'bad-swipe', reason: 'too-long' }]);
  t.is(feed(decoder, cardSwipeReports(CARD))[0]?.type, 'card');
});

test('a pause longer than the inter-character timeout drops the partial swipe', (t) => {
  const time = clock();
  const decoder = new CardSwipeDecoder({ nowMs: time.nowMs, limits: { interCharTimeoutMs: 500 } });
  const swipe = cardSwipeReports(CARD);
  t.deepEqual(feed(decoder, swipe.slice(0, 40)), []);
  t.true(decoder.hasPartialSwipe);
  time.advance(400);
  t.deepEqual(decoder.expirePartialSwipe(), [], 'within the timeout nothing happens');
  time.advance(101);
  // The next swipe starts: the stale half is reported once and not glued to it.
  t.deepEqual(
    feed(decoder, swipe).map((e) => e.type),
    ['bad-swipe', 'card'],
  );
  t.false(decoder.hasPartialSwipe);
});

test('the timeout is also reported when the reader simply goes quiet', (t) => {
  const time = clock();
  const decoder = new CardSwipeDecoder({ nowMs: time.nowMs, limits: { interCharTimeoutMs: 500 } });
  feed(decoder, cardSwipeReports(CARD).slice(0, 20));
  time.advance(501);
  t.deepEqual(decoder.expirePartialSwipe(), [{ type: 'bad-swipe', reason: 'timeout' }]);
  t.deepEqual(decoder.expirePartialSwipe(), []);
});

test('a report of the wrong length is reported once per swipe, and the rest of that swipe is dropped', (t) => {
  const { nowMs } = clock();
  const decoder = new CardSwipeDecoder({ nowMs });
  const swipe = cardSwipeReports(CARD);
  const events = feed(decoder, [...swipe.slice(0, 10), Buffer.from('000022', 'hex'), ...swipe.slice(10)]);
  t.deepEqual(events, [{ type: 'bad-swipe', reason: 'bad-report' }]);
  t.is(feed(decoder, swipe)[0]?.type, 'card');
});

test('a reader that prefixes a report id is read when the id is configured', (t) => {
  const { nowMs } = clock();
  const withId = cardSwipeReports(CARD, { reportId: 1 });
  t.is(withId[0]!.length, 9);
  t.is(feed(new CardSwipeDecoder({ nowMs, reportId: 1 }), withId)[0]?.type, 'card');
  t.deepEqual(feed(new CardSwipeDecoder({ nowMs }), withId), [{ type: 'bad-swipe', reason: 'bad-report' }]);
});

test('bad-swipe events carry only a stable reason code, never card data', (t) => {
  const { nowMs } = clock();
  const events = feed(new CardSwipeDecoder({ nowMs }), reportsForText(swipeText({ ...CARD, pan: '4111111111111112' })));
  t.deepEqual(Object.keys(events[0]!).sort(), ['reason', 'type']);
  t.false(JSON.stringify(events).includes('411111'));
  t.true(BAD_SWIPE_REASONS.every((reason) => /^[a-z-]+$/.test(reason)));
});

test('Luhn check and PAN masking', (t) => {
  t.true(isLuhnValid('4111111111111111'));
  t.true(isLuhnValid('79927398713'));
  t.false(isLuhnValid('79927398710'));
  t.false(isLuhnValid('4111a11111111111'));
  t.is(maskPan('4111111111111111'), '…1111');
});
