// Assertions at the points where money moves. A failure here is a bug, never a customer error: the change
// is abandoned before it reaches the disk and the request fails as INTERNAL with nothing applied.
import { LedgerInvariantError } from '../errors.js';
import type { AccountRecord } from './records.js';

export function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new LedgerInvariantError(message);
}

export function assertSafeCents(value: number, what: string): void {
  invariant(Number.isSafeInteger(value), `${what} is not a whole number of cents (${value})`);
}

export function assertPositiveCents(value: number, what: string): void {
  assertSafeCents(value, what);
  invariant(value > 0, `${what} must be positive (${value})`);
}

/** A customer account never goes below zero, and never holds more than it has. A cash account may be
 *  negative (it has paid out more deposits than it took in notes) but never carries holds. */
export function assertAccountSound(account: AccountRecord): void {
  assertSafeCents(account.balanceCents, `balance of ${account.accountId}`);
  assertSafeCents(account.heldCents, `held amount of ${account.accountId}`);
  invariant(account.heldCents >= 0, `held amount of ${account.accountId} is negative`);
  const depositHeldCents = account.depositHeldCents ?? 0;
  assertSafeCents(depositHeldCents, `deposit-held amount of ${account.accountId}`);
  invariant(depositHeldCents >= 0, `deposit-held amount of ${account.accountId} is negative`);
  invariant(Number.isSafeInteger(account.nextSeq) && account.nextSeq >= 1, `next sequence of ${account.accountId}`);
  if (account.kind === 'cash') {
    invariant(account.heldCents === 0 && depositHeldCents === 0, `cash account ${account.accountId} carries a hold`);
    // A kiosk's container, or a branch's vault or over/short account: one owner, never a customer.
    invariant((account.deviceId !== undefined) !== (account.branchId !== undefined) && account.customerId === undefined, `cash account ${account.accountId} owner`);
  } else {
    invariant(account.balanceCents >= 0, `customer account ${account.accountId} is overdrawn`);
    invariant(account.heldCents + depositHeldCents <= account.balanceCents, `customer account ${account.accountId} holds more than its balance`);
    invariant(account.customerId !== undefined && account.deviceId === undefined, `customer account ${account.accountId} owner`);
  }
}

export function availableCents(account: AccountRecord): number {
  return account.balanceCents - account.heldCents - (account.depositHeldCents ?? 0);
}
