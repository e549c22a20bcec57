// Amount rules, checked before any state is read: a request that fails here changes nothing.
import { ProtocolError } from '../../protocol/errors.js';
import type { HostConfig } from '../config.js';

/** Largest single deposit a kiosk may post: $10,000.00. A named bound rather than the message maximum,
 *  because an ATM deposit above this is an operator matter. */
export const DEPOSIT_MAX_CENTS = 1_000_000;
/** Largest single transfer between a customer's own accounts: $100,000.00. */
export const TRANSFER_MAX_CENTS = 10_000_000;

function requirePositiveCents(amountCents: number): void {
  if (!Number.isSafeInteger(amountCents) || amountCents <= 0) {
    throw new ProtocolError('BAD_AMOUNT', 'the amount must be a positive whole number of cents');
  }
}

export function validateDepositCents(amountCents: number): void {
  requirePositiveCents(amountCents);
  if (amountCents > DEPOSIT_MAX_CENTS) throw new ProtocolError('BAD_AMOUNT', `a deposit is at most ${DEPOSIT_MAX_CENTS} cents`);
}

export function validateTransferCents(amountCents: number): void {
  requirePositiveCents(amountCents);
  if (amountCents > TRANSFER_MAX_CENTS) throw new ProtocolError('BAD_AMOUNT', `a transfer is at most ${TRANSFER_MAX_CENTS} cents`);
}

export function validateWithdrawalCents(amountCents: number, config: HostConfig): void {
  requirePositiveCents(amountCents);
  if (amountCents > config.maxWithdrawalCents) throw new ProtocolError('LIMIT_EXCEEDED');
  if (amountCents % config.smallestNoteCents !== 0) throw new ProtocolError('NOT_DISPENSABLE');
}
