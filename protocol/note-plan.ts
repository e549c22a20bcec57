// Which notes pay an amount. Pure and exact: a bounded-knapsack search for the fewest notes, so
// "no plan" really means the cassettes cannot pay it (greedy fails on e.g. 60 $ from 20s and 50s).
// Shared: the kiosk plans each dispense with it, and the bank host refuses an amount the kiosk's
// cassettes (as it last reported them) cannot pay, so both ends agree on what is payable.

import { MAX_NOTES_PER_WITHDRAWAL } from './limits.js';

export interface CassetteStock {
  denominationCents: number;
  count: number;
}

/** The search table has one entry per multiple of the denominations' gcd up to the amount. */
export const MAX_PLAN_TABLE_ENTRIES = 1_000_000;
/** Note counts in the search table are u16; no presenter holds anywhere near this many. */
export const MAX_PLAN_NOTES = 10_000;

/**
 * Notes per cassette (same order as `cassettes`) that sum exactly to `amountCents`, using the fewest
 * notes and never more than a cassette holds or `maxNotes` in all; `null` when no such plan exists.
 */
export function planNotes(
  amountCents: number,
  cassettes: readonly CassetteStock[],
  maxNotes: number = MAX_NOTES_PER_WITHDRAWAL,
): number[] | null {
  if (!Number.isSafeInteger(amountCents) || amountCents <= 0) throw new RangeError(`amount ${amountCents} is not a positive integer of cents`);
  if (!Number.isSafeInteger(maxNotes) || maxNotes < 1 || maxNotes > MAX_PLAN_NOTES) {
    throw new RangeError(`maxNotes ${maxNotes} is not an integer in 1..${MAX_PLAN_NOTES}`);
  }
  for (const c of cassettes) {
    if (!Number.isSafeInteger(c.denominationCents) || c.denominationCents <= 0) throw new RangeError(`denomination ${c.denominationCents} is not positive cents`);
    if (!Number.isSafeInteger(c.count) || c.count < 0) throw new RangeError(`note count ${c.count} is not a non-negative integer`);
  }
  const usable = cassettes.filter((c) => c.count > 0);
  if (usable.length === 0) return null;
  const unit = usable.reduce((g, c) => gcd(g, c.denominationCents), 0);
  if (amountCents % unit !== 0) return null;
  const largest = Math.max(...usable.map((c) => c.denominationCents));
  if (amountCents > largest * maxNotes) return null;
  const target = amountCents / unit;
  if (target + 1 > MAX_PLAN_TABLE_ENTRIES) return null;

  const UNREACHABLE = maxNotes + 1;
  // fewest[a]: fewest notes making a units from the cassettes seen so far.
  let fewest = new Uint16Array(target + 1).fill(UNREACHABLE);
  fewest[0] = 0;
  const choices: Uint16Array[] = [];
  for (const cassette of cassettes) {
    const step = cassette.denominationCents / unit;
    const limit = Math.min(cassette.count, maxNotes);
    const next = new Uint16Array(target + 1).fill(UNREACHABLE);
    const choice = new Uint16Array(target + 1);
    // Integer units only: a denomination not a multiple of `unit` cannot happen (unit is their gcd),
    // except for empty cassettes, which take no notes.
    const usableStep = cassette.count > 0 && Number.isInteger(step);
    for (let a = 0; a <= target; a++) {
      let best = fewest[a] ?? UNREACHABLE;
      let bestK = 0;
      if (usableStep) {
        for (let k = 1; k <= limit && k * step <= a; k++) {
          const notes = (fewest[a - k * step] ?? UNREACHABLE) + k;
          if (notes < best) {
            best = notes;
            bestK = k;
          }
        }
      }
      next[a] = Math.min(best, UNREACHABLE);
      choice[a] = bestK;
    }
    choices.push(choice);
    fewest = next;
  }
  if ((fewest[target] ?? UNREACHABLE) > maxNotes) return null;

  const plan = cassettes.map(() => 0);
  let remaining = target;
  for (let i = cassettes.length - 1; i >= 0; i--) {
    const k = choices[i]?.[remaining] ?? 0;
    plan[i] = k;
    remaining -= k * ((cassettes[i]?.denominationCents ?? 0) / unit);
  }
  // The plan is what moves money: check it before anyone dispenses it.
  const total = plan.reduce((sum, k, i) => sum + k * (cassettes[i]?.denominationCents ?? 0), 0);
  const notes = plan.reduce((sum, k) => sum + k, 0);
  if (remaining !== 0 || total !== amountCents || notes > maxNotes || plan.some((k, i) => k > (cassettes[i]?.count ?? 0))) {
    throw new Error(`planNotes invariant broken for ${amountCents} cents`);
  }
  return plan;
}

/** The candidates (e.g. fast-cash buttons) the cassettes can pay now, in the order given. */
export function payableAmounts(candidateAmountsCents: readonly number[], cassettes: readonly CassetteStock[]): number[] {
  return candidateAmountsCents.filter((amountCents) => planNotes(amountCents, cassettes) !== null);
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
