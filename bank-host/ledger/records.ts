// What the ledger stores, and under which LevelDB keys. Every value is a JSON document; every amount is an
// integer number of cents. The key layout is documented in docs/ledger.md.
import type { PostingKind } from '../../protocol/messages.js';

export type CustomerAccountKind = 'chequing' | 'savings';
/** `cash` accounts stand for notes in one kiosk's containers: its cassettes are the other side of every
 *  withdrawal, its cashbox of every deposit. A cash account's balance is minus the value of the notes the
 *  ledger says its container took in or paid out (money is conserved: a deposit credits the customer and
 *  debits the cashbox). */
export type AccountKind = CustomerAccountKind | 'cash';
/** Which container a cash account counts: a kiosk's cassettes or cashbox, or its branch's vault (where
 *  replenishment takes notes from and brings them back) and over/short account (where a container's counted
 *  difference goes). Records written before deposits were counted have no container: they are the
 *  cassettes' account. */
export type CashContainer = 'cassettes' | 'cashbox' | 'vault' | 'over-short';
/** A leg's kind: a customer's (the protocol's), or a movement of cash between a kiosk and its branch. */
export type LedgerPostingKind = PostingKind | 'cash-unload' | 'cash-load' | 'over-short';

export interface AccountRecord {
  readonly accountId: string;
  readonly kind: AccountKind;
  readonly currency: string;
  /** Owner of a customer account; absent on cash accounts. */
  readonly customerId?: string;
  /** The kiosk whose cash a cash account counts; absent on customer accounts and on a branch's. */
  readonly deviceId?: string;
  /** The branch whose vault or over/short account this is; only on those. */
  readonly branchId?: string;
  /** Cash accounts only: which container; absent means cassettes. */
  readonly container?: CashContainer;
  readonly balanceCents: number;
  /** Sum of the open withdrawal holds on this account. */
  readonly heldCents: number;
  /** Sum of the deposit holds not yet released (absent on records written before deposit holds existed).
   *  available = balance − held − depositHeld. */
  readonly depositHeldCents?: number;
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
  readonly kind: LedgerPostingKind;
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
  /** The daily-withdrawal counters the hold was charged to (the customer's, and the card's when a card was
   *  used), so a release credits the same days. Records written before limits were per customer carry
   *  `dailyKey` instead. */
  readonly dailyKeys?: readonly string[];
  readonly dailyKey?: string;
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

export type DepositStatus = 'open' | 'committed' | 'cancelled';

/** One deposit at a kiosk: opened while the customer is there, committed with the notes the acceptor
 *  stacked (possibly after the kiosk rebooted). */
export interface DepositRecord {
  readonly depositId: string;
  /** Only this kiosk may commit it: the notes are in its cashbox. */
  readonly deviceId: string;
  readonly accountId: string;
  readonly customerId: string;
  /** What the kiosk's acceptor took when the deposit was opened; commits may name only these. */
  readonly denominationsCents: readonly number[];
  readonly status: DepositStatus;
  readonly openedMs: number;
  readonly openRequestId?: string;
  readonly notes?: readonly { readonly denominationCents: number; readonly count: number }[];
  readonly creditedCents?: number;
  readonly availableNowCents?: number;
  readonly heldCents?: number;
  readonly releaseAtMs?: number;
  readonly postingId?: string;
  readonly holdId?: string;
  readonly committedMs?: number;
}

export type DepositHoldStatus = 'held' | 'released';

/** The part of a deposit the customer may not spend yet (funds availability). */
export interface DepositHoldRecord {
  readonly holdId: string;
  readonly depositId: string;
  readonly accountId: string;
  readonly customerId: string;
  readonly deviceId: string;
  readonly amountCents: number;
  readonly createdMs: number;
  readonly releaseAtMs: number;
  readonly status: DepositHoldStatus;
  readonly releasedMs?: number;
  /** `time` when the hold period ended, `operator` when someone verified the cashbox. */
  readonly releasedBy?: 'time' | 'operator';
}

export interface DailyDepositRecord {
  /** Credited by deposits this day. */
  readonly depositedCents: number;
  /** Of that, what was available at once (counts against the host's immediate allowance). */
  readonly availableNowCents: number;
}

export const ACCOUNT_PREFIX = 'acct:';
export const POSTING_PREFIX = 'post:';
export const HOLD_PREFIX = 'hold:';
/** Index of holds still `held`: put on authorize, deleted on settlement, so listing open holds never
 *  walks the settled ones. */
export const OPEN_HOLD_PREFIX = 'holdopen:';
export const DAILY_WITHDRAWAL_PREFIX = 'wdday:';
export const DEPOSIT_PREFIX = 'dep:';
/** Index of deposits still open, by device: a deposit a kiosk never committed is for an operator to see. */
export const OPEN_DEPOSIT_PREFIX = 'depopen:';
export const DEPOSIT_HOLD_PREFIX = 'dhold:';
/** Deposit holds still held, by release time (the sweep walks it in order). */
export const DEPOSIT_HOLD_DUE_PREFIX = 'dholddue:';
/** Deposit holds still held, by account (a withdrawal releases what is due on its account first). */
export const DEPOSIT_HOLD_ACCOUNT_PREFIX = 'dholdacct:';
export const DAILY_DEPOSIT_PREFIX = 'depday:';

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
 *  `acc_`, so the two can never collide; nor can `cash-X` and `cashbox-Y` (the fifth character differs). */
export const cashAccountId = (deviceId: string): string => `cash-${deviceId}`;
export const cashboxAccountId = (deviceId: string): string => `cashbox-${deviceId}`;
/** A branch's vault and over/short accounts. Branch ids are `[a-z0-9-]` like device ids; `vault-` and
 *  `overshort-` collide with neither `cash-` nor `cashbox-` nor `acc_`. */
export const vaultAccountId = (branchId: string): string => `vault-${branchId}`;
export const overShortAccountId = (branchId: string): string => `overshort-${branchId}`;

export type ReplenishmentStatus = 'open' | 'closed';

/** One container's unload: the notes counted, what the ledger said, and the postings made. */
export interface ContainerUnload {
  readonly container: 'cassettes' | 'cashbox';
  readonly notes: readonly { readonly denominationCents: number; readonly count: number }[];
  readonly countedCents: number;
  readonly ledgerCents: number;
  readonly differenceCents: number;
  readonly postingIds: readonly string[];
  readonly requestId?: string;
}

/** A technician's replenishment of one kiosk: opened with a supervisor card, each container unloaded and
 *  counted, new cassettes loaded, closed. */
export interface ReplenishmentRecord {
  readonly replenishmentId: string;
  readonly deviceId: string;
  readonly branchId: string;
  /** The technician whose card opened it. */
  readonly technicianId: string;
  readonly status: ReplenishmentStatus;
  readonly openedMs: number;
  /** The time its balancing report is filed under (`balance:<deviceId>:<balancedMs>`), unique per kiosk. */
  readonly balancedMs: number;
  readonly cassetteDenominationsCents: readonly number[];
  readonly cashboxDenominationsCents: readonly number[];
  readonly unloaded: readonly ContainerUnload[];
  readonly loaded?: { readonly notes: readonly { readonly denominationCents: number; readonly count: number }[]; readonly loadedCents: number; readonly postingId?: string; readonly requestId?: string };
  readonly closedMs?: number;
}

export const REPLENISHMENT_PREFIX = 'repl:';
/** The replenishment open at a kiosk (at most one). */
export const OPEN_REPLENISHMENT_PREFIX = 'replopen:';
export const replenishmentKey = (replenishmentId: string): string => `${REPLENISHMENT_PREFIX}${replenishmentId}`;
export const openReplenishmentKey = (deviceId: string): string => `${OPEN_REPLENISHMENT_PREFIX}${deviceId}`;

export const depositKey = (depositId: string): string => `${DEPOSIT_PREFIX}${depositId}`;
export const openDepositKey = (deviceId: string, depositId: string): string => `${OPEN_DEPOSIT_PREFIX}${deviceId}:${depositId}`;
export const depositHoldKey = (holdId: string): string => `${DEPOSIT_HOLD_PREFIX}${holdId}`;
const TIME_DIGITS = 15;
export const depositHoldDueKey = (releaseAtMs: number, holdId: string): string =>
  `${DEPOSIT_HOLD_DUE_PREFIX}${String(releaseAtMs).padStart(TIME_DIGITS, '0')}:${holdId}`;
export const depositHoldAccountPrefix = (accountId: string): string => `${DEPOSIT_HOLD_ACCOUNT_PREFIX}${accountId}:`;
export const depositHoldAccountKey = (accountId: string, holdId: string): string => `${depositHoldAccountPrefix(accountId)}${holdId}`;

/** The UTC calendar day of a timestamp, as limits count days. */
export const utcDay = (nowMs: number): string => new Date(nowMs).toISOString().slice(0, 10);

/** Daily withdrawal totals: one per customer (every credential counts against it) and one per card. */
export const customerDailyWithdrawalKey = (customerId: string, nowMs: number): string => `${DAILY_WITHDRAWAL_PREFIX}cust-${customerId}:${utcDay(nowMs)}`;
/** Per card, by its card id (a keyed hash of the PAN: no PAN in any key). */
export const cardDailyWithdrawalKey = (cardId: string, nowMs: number): string => `${DAILY_WITHDRAWAL_PREFIX}card-${cardId}:${utcDay(nowMs)}`;
export const dailyDepositKey = (customerId: string, nowMs: number): string => `${DAILY_DEPOSIT_PREFIX}${customerId}:${utcDay(nowMs)}`;

/** The daily counters a hold was charged to, whichever record format it was written in. */
export function holdDailyKeys(hold: Pick<HoldRecord, 'dailyKeys' | 'dailyKey'>): readonly string[] {
  return hold.dailyKeys ?? (hold.dailyKey !== undefined ? [hold.dailyKey] : []);
}
