// Customers, usernames, cards and sign-in counters as stored. Secrets are stored only in verifier form:
// a scrypt hash for the password, a keyed PIN verification value for the PIN; a card's number only sealed,
// the card filed under a keyed hash of it (card-protection.ts).
import type { PasswordHash } from './passwords.js';

export interface CustomerRecord {
  readonly customerId: string;
  readonly username: string;
  readonly password: PasswordHash;
  /** In the order they were opened; the first is the default. */
  readonly accountIds: readonly string[];
  /** The customer's cards, in the order they were issued. */
  readonly cards: readonly CardRef[];
  readonly createdMs: number;
}

/** A card as its customer's record names it: never the PAN. */
export interface CardRef {
  readonly cardId: string;
  readonly last4: string;
}

/** `user:<username>` → the customer: the index sign-in looks names up in. */
export interface UsernameRecord {
  readonly customerId: string;
}

export type CardStatus = 'active' | 'blocked';

export interface CardRecord {
  /** `crd_` and 32 hex digits: a keyed hash of the PAN (card-protection.ts), and the record's key. */
  readonly cardId: string;
  readonly panLast4: string;
  /** The PAN, sealed under a key derived from the master key and bound to `cardId`. */
  readonly panSealed: string;
  /** The card's holder: a customer, or for a supervisor card the technician (`tch_…`, technicians.ts). */
  readonly customerId: string;
  /** `supervisor`: a technician's card, whose PIN opens the kiosk's supervisor mode (replenishment and
   *  balancing) and nothing a customer does. Absent: a customer's card. */
  readonly role?: 'supervisor';
  /** The accounts a card sign-in may use. */
  readonly accountIds: readonly string[];
  /** Valid through the last day of this month (UTC), `YYYY-MM`. */
  readonly expiresYm: string;
  readonly status: CardStatus;
  /** Hex HMAC-SHA256 under the host's pin-verify key; see pins.ts. */
  readonly pinVerificationValue: string;
  readonly pinTriesFailed: number;
  readonly issuedMs: number;
  readonly blockedReason?: 'pin-tries' | 'operator';
  /** Marks of the last PIN blocks this card's sign-ins presented (pins.ts `pinBlockMark`), newest last. */
  readonly recentPinBlocks?: readonly string[];
}

/** `pwfail:<username>`: consecutive failed password sign-ins and the lockout they caused. */
export interface PasswordFailureRecord {
  readonly failures: number;
  readonly lockedUntilMs: number;
}

export const CUSTOMER_PREFIX = 'cust:';
export const USERNAME_PREFIX = 'user:';
export const CARD_PREFIX = 'card:';
export const PASSWORD_FAILURE_PREFIX = 'pwfail:';

export const customerKey = (customerId: string): string => `${CUSTOMER_PREFIX}${customerId}`;
export const usernameKey = (username: string): string => `${USERNAME_PREFIX}${username}`;
export const cardKey = (cardId: string): string => `${CARD_PREFIX}${cardId}`;
export const passwordFailureKey = (username: string): string => `${PASSWORD_FAILURE_PREFIX}${username}`;

export { panLast4 } from '../../protocol/pan.js';
