import test from 'ava';
import fc from 'fast-check';
import { MAX_NOTES_PER_DISPENSE } from '../../kiosk/devices/dispenser/messages.js';
import { payableAmounts, planNotes, type CassetteStock } from '../../protocol/note-plan.js';

const TWENTIES_AND_FIFTIES: CassetteStock[] = [
  { denominationCents: 2000, count: 100 },
  { denominationCents: 5000, count: 100 },
];

test('an amount is paid with the fewest notes', (t) => {
  t.deepEqual(planNotes(10_000, TWENTIES_AND_FIFTIES), [0, 2]);
  t.deepEqual(planNotes(4_000, TWENTIES_AND_FIFTIES), [2, 0]);
});

test('amounts greedy gets wrong are still paid (60 $ from 20s and 50s)', (t) => {
  t.deepEqual(planNotes(6_000, TWENTIES_AND_FIFTIES), [3, 0]);
  t.deepEqual(planNotes(11_000, TWENTIES_AND_FIFTIES), [3, 1]);
});

test('unpayable amounts return null', (t) => {
  t.is(planNotes(1_000, TWENTIES_AND_FIFTIES), null, 'below the smallest note');
  t.is(planNotes(3_000, TWENTIES_AND_FIFTIES), null, 'no combination');
  t.is(planNotes(2_001, TWENTIES_AND_FIFTIES), null, 'not a multiple of any note');
  t.is(planNotes(6_000, [{ denominationCents: 2000, count: 2 }, { denominationCents: 5000, count: 5 }]), null, 'not enough twenties');
  t.is(planNotes(2_000, [{ denominationCents: 2000, count: 0 }]), null, 'empty cassette');
  t.is(planNotes(2_000 * (MAX_NOTES_PER_DISPENSE + 1), [{ denominationCents: 2000, count: 500 }]), null, 'more notes than a bundle');
});

test('counts limit the plan and empty cassettes are skipped', (t) => {
  const stock = [
    { denominationCents: 2000, count: 10 },
    { denominationCents: 5000, count: 1 },
    { denominationCents: 10_000, count: 0 },
  ];
  // 200 $ cannot use the single 50 (150 $ is not a multiple of 20 $), nor the empty 100s.
  t.deepEqual(planNotes(20_000, stock), [10, 0, 0]);
  t.deepEqual(planNotes(25_000, stock), [10, 1, 0]);
  t.deepEqual(planNotes(26_000, stock), null, "would need 13 twenties");
  t.deepEqual(planNotes(23_000, stock), [9, 1, 0]);
});

test('non-integer or non-positive amounts are rejected, not rounded', (t) => {
  t.throws(() => planNotes(20.5, TWENTIES_AND_FIFTIES), { instanceOf: RangeError });
  t.throws(() => planNotes(0, TWENTIES_AND_FIFTIES), { instanceOf: RangeError });
  t.throws(() => planNotes(-2000, TWENTIES_AND_FIFTIES), { instanceOf: RangeError });
});

test('payableAmounts keeps the fast-cash amounts the cassettes can pay', (t) => {
  const stock = [{ denominationCents: 2000, count: 3 }, { denominationCents: 5000, count: 1 }];
  t.deepEqual(payableAmounts([2_000, 3_000, 4_000, 6_000, 10_000, 11_000], stock), [2_000, 4_000, 6_000, 11_000]);
});

test('property: a plan sums to the amount, respects counts and the bundle limit; null means no plan exists', (t) => {
  const cassette = fc.record({
    denominationCents: fc.constantFrom(500, 1000, 2000, 5000, 10_000),
    count: fc.integer({ min: 0, max: 30 }),
  });
  fc.assert(
    fc.property(fc.array(cassette, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 400 }), (stock, units) => {
      const amountCents = units * 500;
      const plan = planNotes(amountCents, stock);
      if (plan === null) {
        t.false(existsPlan(amountCents, stock), `a plan exists for ${amountCents} from ${JSON.stringify(stock)}`);
        return;
      }
      t.is(plan.length, stock.length);
      t.is(plan.reduce((sum, k, i) => sum + k * (stock[i]?.denominationCents ?? 0), 0), amountCents);
      t.true(plan.every((k, i) => Number.isInteger(k) && k >= 0 && k <= (stock[i]?.count ?? 0)));
      t.true(plan.reduce((a, b) => a + b, 0) <= MAX_NOTES_PER_DISPENSE);
    }),
    { numRuns: 300 },
  );
});

/** Brute force over all count vectors: the reference planNotes must agree with. */
function existsPlan(amountCents: number, stock: CassetteStock[], index = 0, notes = 0): boolean {
  if (amountCents === 0) return true;
  const cassette = stock[index];
  if (!cassette || amountCents < 0) return false;
  for (let k = 0; k <= cassette.count && notes + k <= MAX_NOTES_PER_DISPENSE && k * cassette.denominationCents <= amountCents; k++) {
    if (existsPlan(amountCents - k * cassette.denominationCents, stock, index + 1, notes + k)) return true;
  }
  return false;
}
