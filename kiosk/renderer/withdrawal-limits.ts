// The amount screen's check of a typed withdrawal, before anything is sent: the same limits, in the same
// order, as the kiosk core's own check (kiosk/core/withdrawal-limits.ts, which a test holds to the same
// answers), so that an amount outside a limit is answered here, at once, with the limit itself. Payable
// amounts come from the one planner the kiosk and the bank host share (protocol/note-plan.ts).
import { planNotes } from '../../protocol/note-plan.js';
import type { KioskSnapshot, Notice } from '../preload/api.js';

/** The first limit `amountCents` is outside of, as the kiosk core would say it; undefined when within all. */
export function withdrawalRefusal(amountCents: number, snap: KioskSnapshot, accountId: string | undefined): Notice | undefined {
  const customer = snap.customer;
  const account = customer?.accounts.find((a) => a.accountId === accountId) ?? customer?.accounts[0];
  const cassettes = snap.withdrawalLimits?.cassettes ?? [];
  const requested = { requestedCents: amountCents };
  if (customer?.withdrawalMaxCents !== undefined && amountCents > customer.withdrawalMaxCents) return { code: 'LIMIT_EXCEEDED', amountCents: customer.withdrawalMaxCents, ...requested };
  if (customer?.dailyWithdrawalRemainingCents !== undefined && amountCents > customer.dailyWithdrawalRemainingCents) {
    return { code: 'DAILY_LIMIT_EXCEEDED', amountCents: customer.dailyWithdrawalRemainingCents, ...requested };
  }
  if (account !== undefined && amountCents > account.availableCents) return { code: 'INSUFFICIENT_FUNDS', amountCents: Math.max(0, account.availableCents), ...requested };
  if (planNotes(amountCents, cassettes) === null) return { code: 'NOT_PAYABLE', notesCents: payingNotesCents(snap), ...requested };
  return undefined;
}

/** The notes the cassettes hold now, each denomination once, smallest first. */
export function payingNotesCents(snap: KioskSnapshot): number[] {
  const cassettes = snap.withdrawalLimits?.cassettes ?? [];
  return [...new Set(cassettes.filter((c) => c.count > 0).map((c) => c.denominationCents))].sort((a, b) => a - b);
}

/** What the customer may still take today from this account: the smaller of the daily limit left and the
 *  available balance (undefined when neither is known). */
export function withdrawableTodayCents(snap: KioskSnapshot, accountId: string | undefined): number | undefined {
  const customer = snap.customer;
  const account = customer?.accounts.find((a) => a.accountId === accountId) ?? customer?.accounts[0];
  const figures = [customer?.dailyWithdrawalRemainingCents, account?.availableCents].filter((n): n is number => n !== undefined);
  return figures.length === 0 ? undefined : Math.max(0, Math.min(...figures));
}

/** The codes the amount screen answers with the limit, and a host refusal of which brings the customer
 *  back to the amount they typed. */
export const LIMIT_NOTICE_CODES: ReadonlySet<string> = new Set(['LIMIT_EXCEEDED', 'DAILY_LIMIT_EXCEEDED', 'INSUFFICIENT_FUNDS', 'NOT_PAYABLE']);
