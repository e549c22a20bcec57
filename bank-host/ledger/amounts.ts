// Amount rules, checked before any state is read: a request that fails here changes nothing.
import { ProtocolError } from '../../protocol/errors.js';
import { planNotes, type CassetteStock } from '../../protocol/note-plan.js';
import type { HostConfig } from '../config.js';

/** Largest single transfer between a customer's own accounts: $100,000.00. */
export const TRANSFER_MAX_CENTS = 10_000_000;

function requirePositiveCents(amountCents: number): void {
  if (!Number.isSafeInteger(amountCents) || amountCents <= 0) {
    throw new ProtocolError('BAD_AMOUNT', 'the amount must be a positive whole number of cents');
  }
}

export function validateTransferCents(amountCents: number): void {
  requirePositiveCents(amountCents);
  if (amountCents > TRANSFER_MAX_CENTS) throw new ProtocolError('BAD_AMOUNT', `a transfer is at most ${TRANSFER_MAX_CENTS} cents`);
}

/** The amount rules of a withdrawal that need no state. Whether the kiosk's notes can pay it is checked
 *  against what the kiosk last reported (`requirePayable`). */
export function validateWithdrawalCents(amountCents: number, config: Pick<HostConfig, 'maxWithdrawalCents'>): void {
  requirePositiveCents(amountCents);
  if (amountCents > config.maxWithdrawalCents) throw new ProtocolError('LIMIT_EXCEEDED', `a withdrawal is at most ${config.maxWithdrawalCents} cents`);
}

/** NOT_DISPENSABLE unless the cassettes (as the kiosk last reported them) can pay the amount exactly: the
 *  same planning the kiosk dispenses with (protocol/note-plan.ts). */
export function requirePayable(amountCents: number, cassettes: readonly CassetteStock[] | undefined): void {
  if (cassettes === undefined) throw new ProtocolError('NOT_DISPENSABLE', 'this kiosk has not reported the notes it holds');
  if (planNotes(amountCents, cassettes) === null) {
    const notes = [...new Set(cassettes.filter((c) => c.count > 0).map((c) => c.denominationCents))].sort((a, b) => a - b);
    throw new ProtocolError('NOT_DISPENSABLE', `this kiosk cannot pay ${amountCents} cents in its notes (${notes.join(', ') || 'none'} cents)`);
  }
}
