// What the ledger stores, and under which LevelDB keys. Every value is a JSON document; every amount is an
// integer number of cents. The key layout is documented in docs/ledger.md.
import type { PostingKind } from '../../protocol/messages.js';

export type CustomerAccountKind = 'chequing' | 'savings';
/** `cash` accounts stand for the notes inside one kiosk: the other side of every deposit and withdrawal. */
export type AccountKind = CustomerAccountKind | 'cash';

export interface AccountRecord {
  readonly accountId: string;
  readonly kind: AccountKind;
  readonly currency: string;
  /** Owner of a customer account; absent on cash accounts. */
  readonly customerId?: string;
  /** The kiosk whose cash a cash account counts; absent on customer accounts. */
  readonly deviceId?: string;
  readonly balanceCents: number;
  /** Sum of the open holds on this account; available = balance − held. */
  readonly heldCents: number;
  /** Sequence number the next posting leg on this account gets (legs are numbered 1, 2, ...). */
  readonly nextSeq: number;
  readonly openedMs: number;
}

/** One side of a double-entry posting. A posting is exactly two legs with the same `postingId` whose
 *  amounts sum to zero; each leg names the other, so a check can pair them without holding the journal
 *  in memory. */
export interface PostingLeg {
  readonly postingId: string;
  readonly accountId: string;
  readonly seq: number;
  readonly kind: PostingKind;
  /** Signed: positive adds to this account. */
  readonly amountCents: number;
  readonly balanceAfterCents: number;
  readonly timestampMs: number;
  readonly deviceId?: string;
  readonly counterpartAccountId: string;
  readonly counterpartSeq: number;
  readonly authorizationId?: string;
  readonly requestId?: string;
}

export type HoldStatus = 'held' | 'completed' | 'reversed';

export interface HoldRecord {
  readonly authorizationId: string;
  readonly accountId: string;
  readonly customerId: string;
  /** Only this kiosk may complete or reverse the hold: it is the one holding (or not) the notes. */
  readonly deviceId: string;
  readonly amountCents: number;
  /** The daily-withdrawal counter the hold was charged to, so a release credits the same day. */
  readonly dailyKey: string;
  /** Last four digits of the card used, for operators; never the full PAN. */
  readonly cardLast4?: string;
  readonly status: HoldStatus;
  readonly createdMs: number;
  readonly requestId?: string;
  readonly settledMs?: number;
  readonly postedCents?: number;
  readonly releasedCents?: number;
  readonly postingId?: string;
  /** Who settled it: the kiosk (`device`) or an operator. */
  readonly settledBy?: 'device' | 'operator';
}

export interface DailyWithdrawalRecord {
  /** Completed withdrawals plus open holds charged to this day. */
  readonly usedCents: number;
}

export const ACCOUNT_PREFIX = 'acct:';
export const POSTING_PREFIX = 'post:';
export const HOLD_PREFIX = 'hold:';
/** Index of holds still `held`: put on authorize, deleted on settlement, so listing open holds never
 *  walks the settled ones. */
export const OPEN_HOLD_PREFIX = 'holdopen:';
export const DAILY_WITHDRAWAL_PREFIX = 'wdday:';

/** Posting sequence numbers are zero-padded so that key order is numeric order. */
const SEQ_DIGITS = 12;
export const SEQ_MAX = 10 ** SEQ_DIGITS - 1;

export const accountKey = (accountId: string): string => `${ACCOUNT_PREFIX}${accountId}`;
export const postingPrefix = (accountId: string): string => `${POSTING_PREFIX}${accountId}:`;
export const postingKey = (accountId: string, seq: number): string =>
  `${postingPrefix(accountId)}${String(seq).padStart(SEQ_DIGITS, '0')}`;
export const holdKey = (authorizationId: string): string => `${HOLD_PREFIX}${authorizationId}`;
export const openHoldKey = (authorizationId: string): string => `${OPEN_HOLD_PREFIX}${authorizationId}`;

/** Cash accounts are keyed by device id. Device ids are `[a-z0-9-]`, customer account ids start with
 *  `acc_`, so the two can never collide. */
export const cashAccountId = (deviceId: string): string => `cash-${deviceId}`;

/** Daily withdrawal totals are per card for card sign-ins and per customer for password sign-ins, per UTC
 *  calendar day. */
export type WithdrawalScope = { readonly cardPan: string } | { readonly customerId: string };

export function dailyWithdrawalKey(scope: WithdrawalScope, nowMs: number): string {
  const day = new Date(nowMs).toISOString().slice(0, 10);
  const who = 'cardPan' in scope ? `card-${scope.cardPan}` : `cust-${scope.customerId}`;
  return `${DAILY_WITHDRAWAL_PREFIX}${who}:${day}`;
}
