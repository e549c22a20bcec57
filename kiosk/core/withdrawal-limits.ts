// The limits a withdrawal must be within, checked before anything is sent to the host, so that every
// amount the host would refuse for a limit is answered on the amount screen with the limit itself ("at
// most $1,000.00 at once", "$20 and $50 notes"). The renderer makes the same check as the customer types
// (kiosk/renderer/withdrawal-limits.ts; a test holds the two to the same answers); this one is the
// kiosk's own, whatever the UI sent. The host checks again: a refusal that still comes (a race with
// another kiosk) is answered the same way.
import { planNotes, type CassetteStock } from '../../protocol/note-plan.js';
import type { Notice } from './ui-contract.js';

export interface WithdrawalLimitFacts {
  readonly withdrawalMaxCents?: number | undefined;
  readonly dailyWithdrawalRemainingCents?: number | undefined;
  /** The chosen account's available balance. */
  readonly availableCents?: number | undefined;
  readonly cassettes: readonly CassetteStock[];
}

/** The notes the cassettes hold now, smallest first. */
export function payingNotesCents(cassettes: readonly CassetteStock[]): number[] {
  return [...new Set(cassettes.filter((c) => c.count > 0).map((c) => c.denominationCents))].sort((a, b) => a - b);
}

/** The first limit `amountCents` is outside of, as the notice that says it; undefined when within all. */
export function withdrawalLimitNotice(amountCents: number, facts: WithdrawalLimitFacts): Notice | undefined {
  const requested = { requestedCents: amountCents };
  if (facts.withdrawalMaxCents !== undefined && amountCents > facts.withdrawalMaxCents) return { code: 'LIMIT_EXCEEDED', amountCents: facts.withdrawalMaxCents, ...requested };
  if (facts.dailyWithdrawalRemainingCents !== undefined && amountCents > facts.dailyWithdrawalRemainingCents) {
    return { code: 'DAILY_LIMIT_EXCEEDED', amountCents: facts.dailyWithdrawalRemainingCents, ...requested };
  }
  if (facts.availableCents !== undefined && amountCents > facts.availableCents) return { code: 'INSUFFICIENT_FUNDS', amountCents: Math.max(0, facts.availableCents), ...requested };
  if (planNotes(amountCents, facts.cassettes) === null) return { code: 'NOT_PAYABLE', notesCents: payingNotesCents(facts.cassettes), ...requested };
  return undefined;
}
