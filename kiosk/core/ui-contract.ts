// What the UI sees of the kiosk core and what it sends: the snapshot it renders and the arguments of its
// commands, written once. Types only, importing nothing but the channel's message types, so that the
// preload API (kiosk/preload/api.ts) and through it the renderer may import them without Node's types.
// Customer data lives only in `customer`/`view`; no secret is ever here: no PIN digit (only how many were
// entered), PIN block, password, PAN (only the last four digits) or key.
import type { AccountSummary, ActivityEntry, HistoryEntry, PostingKind } from '../../protocol/messages.js';

export type Language = 'en' | 'fr';

export type Screen =
  | 'out-of-service'
  | 'welcome'
  /** Choose how to identify: swipe a card, sign in with a username, or register. */
  | 'identify'
  | 'pin'
  | 'working'
  | 'menu'
  | 'balance'
  | 'withdraw'
  | 'deposit'
  | 'history'
  | 'transfer'
  | 'receipt'
  /** The cash waits in the dispenser's presenter for the customer (with a countdown). */
  | 'take-cash'
  /** A card session's PIN change: the current PIN, then the new one twice, on the PIN pad. */
  | 'pin-change'
  /** After each transaction: another one in the same session, or goodbye. */
  | 'another-transaction'
  | 'goodbye'
  /** A technician's supervisor mode (their card's PIN opened it): print the counters, unload, load, close. */
  | 'supervisor'
  /** The technician enters the notes counted in (or loaded into) a container, per denomination. */
  | 'supervisor-count';

/** The counts a technician enters in supervisor mode. */
export type SupervisorCount = 'unload-cassettes' | 'unload-cashbox' | 'load-cassettes';

/** One container's balancing, as the host answered the technician's count. */
export interface ContainerBalanceView {
  readonly container: 'cassettes' | 'cashbox';
  readonly countedCents: number;
  readonly ledgerCents: number;
  readonly differenceCents: number;
}

export type MenuChoice = 'balance' | 'withdraw' | 'deposit' | 'history' | 'transfer' | 'pin-change';
/** Which PIN the PIN change screen asks for. */
export type PinChangeStep = 'old' | 'new' | 'confirm';
export type IdentifyMethod = 'card' | 'password' | 'register';

/** What the customer is told; `code` is a stable key the UI translates (a ProtocolError or DeviceError
 *  code, or one of the kiosk's own: docs/kiosk-core.md lists them). Never holds a secret. */
export interface Notice {
  readonly code: string;
  /** The figure the sentence names: a limit ("at most $1,000.00 at once"), what is available, what was
   *  dispensed or credited. */
  readonly amountCents?: number;
  /** The amount the customer asked for, when the notice refuses it (the amount screen shows it again). */
  readonly requestedCents?: number;
  /** The notes the sentence names ("$20 and $50 notes"), smallest first. */
  readonly notesCents?: readonly number[];
}

/** Notes of one denomination. */
export interface NoteCountView {
  readonly denominationCents: number;
  readonly count: number;
}

export type SessionView =
  | { readonly kind: 'balance'; readonly account: AccountSummary }
  | { readonly kind: 'history'; readonly accountId: string; readonly entries: readonly HistoryEntry[]; readonly nextCursor?: string }
  /** The customer's own audit records (sign-ins, refused and failed operations too), on the history screen. */
  | { readonly kind: 'activity'; readonly entries: readonly ActivityEntry[]; readonly nextCursor?: string }
  | { readonly kind: 'withdrawal'; readonly amountCents: number; readonly dispensedCents: number; readonly short: boolean }
  /** The notes wait in the presenter: the customer has `secondsToTake` (as they were presented) before
   *  they are taken back into the machine. */
  | { readonly kind: 'take-cash'; readonly dispensedCents: number; readonly secondsToTake: number }
  /** A deposit in progress: the notes counted so far, by denomination, and what may still be deposited. */
  | {
      readonly kind: 'deposit-counting';
      readonly accountId: string;
      /** The notes the acceptor takes for this deposit, smallest first. */
      readonly denominationsCents: readonly number[];
      readonly notes: readonly NoteCountView[];
      readonly totalCents: number;
      /** What the customer may still deposit today, after the notes counted so far. */
      readonly remainingTodayCents: number;
      /** A note is being checked or stacked: the screen says "counting". */
      readonly counting: boolean;
    }
  /** A deposit credited: exactly the counted notes; what is available now and what is held until when. */
  | {
      readonly kind: 'deposit';
      readonly notes: readonly NoteCountView[];
      readonly creditedCents: number;
      readonly availableNowCents: number;
      readonly heldCents: number;
      readonly releaseAtMs?: number;
      readonly account: AccountSummary;
    }
  | { readonly kind: 'transfer'; readonly amountCents: number; readonly from: AccountSummary; readonly to: AccountSummary }
  /** Supervisor mode: the replenishment in progress and what is done of it. */
  | {
      readonly kind: 'supervisor';
      readonly technician: string;
      readonly replenishmentId: string;
      /** The notes each container may be counted in, smallest first. */
      readonly cassetteDenominationsCents: readonly number[];
      readonly cashboxDenominationsCents: readonly number[];
      readonly unloaded: readonly ContainerBalanceView[];
      readonly loadedCents?: number;
      /** On the count screen: which count is being entered. */
      readonly counting?: SupervisorCount;
    };

export interface CustomerView {
  readonly username: string;
  readonly cardLast4?: string;
  readonly accounts: readonly AccountSummary[];
  readonly dailyWithdrawalRemainingCents?: number;
  /** The most one withdrawal may be, whatever the balance. */
  readonly withdrawalMaxCents?: number;
  /** What the customer may still deposit today. */
  readonly depositRemainingTodayCents?: number;
}

/** What the amount screen checks a typed withdrawal against before anything is sent. */
export interface WithdrawalLimits {
  /** The notes in the cassettes now (an amount they cannot make is refused, naming the notes). */
  readonly cassettes: readonly NoteCountView[];
}

/** Speech mode: a headset is in the private jack and the kiosk speaks (docs/kiosk-ui.md). */
export interface SpeechView {
  readonly active: boolean;
  /** The customer asked for the screen to be blank for privacy; speech goes on. */
  readonly screenBlanked: boolean;
}

/** What the UI renders; see docs/kiosk-core.md. */
export interface KioskSnapshot {
  readonly screen: Screen;
  readonly language: Language;
  readonly languages: readonly Language[];
  /** Why the kiosk is out of service (empty when in service): 'host-unreachable', 'dispenser: …', … */
  readonly outOfServiceReasons: readonly string[];
  readonly identifyMethod?: IdentifyMethod;
  /** Digits entered on the PIN pad so far: the UI draws this many dots. */
  readonly pinDigits: number;
  /** On the PIN change screen: which PIN is being entered. */
  readonly pinChangeStep?: PinChangeStep;
  /** The PIN pad is on the screen (no hardware keypad): the UI shows digit buttons. */
  readonly onScreenPinPad: boolean;
  readonly idleWarning: boolean;
  /** While `idleWarning`: the seconds left before the session ends, as the warning began (the UI counts
   *  down from it). */
  readonly idleWarningSeconds?: number;
  readonly notice?: Notice;
  readonly customer?: CustomerView;
  /** Fast-cash buttons: only amounts the cassettes can pay now, within the customer's daily limit. */
  readonly fastCashCents: readonly number[];
  readonly receiptAvailable: boolean;
  /** The dispenser is answering and ready, so the menu may offer cash (a dispenser lost mid-session
   *  does not end the session: balance, deposit and transfer still work). */
  readonly withdrawalAvailable: boolean;
  /** The note acceptor is ready and nothing is unfinished, so the menu may offer a deposit. */
  readonly depositAvailable: boolean;
  /** While a customer is present: what a typed withdrawal is checked against (with `customer`'s limits
   *  and the account's available balance). */
  readonly withdrawalLimits?: WithdrawalLimits;
  readonly view?: SessionView;
  /** Present while speech mode is on (added by the speech guide beside the controller's snapshot). */
  readonly speech?: SpeechView;
}

/** A key of the on-screen PIN pad. */
export type PinPadKey = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 'enter' | 'backspace' | 'clear' | 'cancel';

export interface TransferRequest {
  readonly fromAccountId: string;
  readonly toAccountId: string;
  readonly amountCents: number;
}

/** A page of postings; every filter is optional (`accountId` defaults to the customer's first account). */
export interface HistoryRequest {
  readonly accountId?: string;
  readonly sinceMs?: number;
  readonly untilMs?: number;
  readonly kinds?: PostingKind[];
  readonly cursor?: string;
}

/** A technician's count: notes per denomination (0 allowed), for one step of the replenishment. */
export interface SupervisorCountRequest {
  readonly step: SupervisorCount;
  readonly notes: readonly NoteCountView[];
}

/** A page of the customer's own audit records, newest first. */
export interface ActivityRequest {
  readonly sinceMs?: number;
  readonly cursor?: string;
}
