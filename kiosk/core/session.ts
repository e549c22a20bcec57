// The customer session as explicit states and the one snapshot type the UI renders. It holds no device
// or network code: kiosk.ts drives it. Customer data lives only in `customer`/`view`, which every end of a
// session clears. PIN digits never appear here, only how many were entered.
import type { AccountSummary, ActivityEntry, HistoryEntry } from '../../protocol/messages.js';
import type { Language } from './config.js';

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
  | 'goodbye';

export type MenuChoice = 'balance' | 'withdraw' | 'deposit' | 'history' | 'transfer';
export type IdentifyMethod = 'card' | 'password' | 'register';

/** What the customer is told; `code` is a stable key the UI translates (a ProtocolError or DeviceError
 *  code, or one of the kiosk's own below). Never holds a secret. */
export interface Notice {
  readonly code: string;
  readonly amountCents?: number;
}

export type SessionView =
  | { readonly kind: 'balance'; readonly account: AccountSummary }
  | { readonly kind: 'history'; readonly accountId: string; readonly entries: readonly HistoryEntry[]; readonly nextCursor?: string }
  /** The customer's own audit records (sign-ins, refused and failed operations too), on the history screen. */
  | { readonly kind: 'activity'; readonly entries: readonly ActivityEntry[]; readonly nextCursor?: string }
  | { readonly kind: 'withdrawal'; readonly amountCents: number; readonly dispensedCents: number; readonly short: boolean }
  | { readonly kind: 'deposit'; readonly amountCents: number; readonly account: AccountSummary }
  | { readonly kind: 'transfer'; readonly amountCents: number; readonly from: AccountSummary; readonly to: AccountSummary };

export interface CustomerView {
  readonly username: string;
  readonly cardLast4?: string;
  readonly accounts: readonly AccountSummary[];
  readonly dailyWithdrawalRemainingCents?: number;
}

export interface KioskSnapshot {
  readonly screen: Screen;
  readonly language: Language;
  readonly languages: readonly Language[];
  /** Why the kiosk is out of service (empty when in service): 'host-unreachable', 'dispenser: …', … */
  readonly outOfServiceReasons: readonly string[];
  readonly identifyMethod?: IdentifyMethod;
  /** Digits entered on the PIN pad so far: the UI draws this many dots. */
  readonly pinDigits: number;
  /** The PIN pad is on the screen (no hardware keypad): the UI shows digit buttons. */
  readonly onScreenPinPad: boolean;
  readonly idleWarning: boolean;
  readonly notice?: Notice;
  readonly customer?: CustomerView;
  /** Fast-cash buttons: only amounts the cassettes can pay now, within the customer's daily limit. */
  readonly fastCashCents: readonly number[];
  readonly receiptAvailable: boolean;
  /** The dispenser is answering and ready, so the menu may offer cash (a dispenser lost mid-session
   *  does not end the session: balance, deposit and transfer still work). */
  readonly withdrawalAvailable: boolean;
  readonly view?: SessionView;
}

/** Which screen may follow which; anything else is a bug in the controller, so it throws. Every screen
 *  may go to 'goodbye' (cancel, timeout) and to 'out-of-service' when no customer is present. */
const NEXT: Readonly<Record<Screen, readonly Screen[]>> = {
  'out-of-service': ['welcome'],
  welcome: ['identify', 'pin', 'working'],
  identify: ['pin', 'working', 'welcome'],
  pin: ['working', 'pin', 'welcome'],
  working: ['pin', 'identify', 'menu', 'withdraw', 'deposit', 'transfer', 'balance', 'history', 'receipt', 'welcome'],
  menu: ['balance', 'withdraw', 'deposit', 'history', 'transfer', 'working'],
  balance: ['menu', 'working'],
  withdraw: ['working', 'menu'],
  deposit: ['working', 'menu'],
  history: ['menu', 'working'],
  transfer: ['working', 'menu'],
  receipt: ['working', 'menu'],
  goodbye: ['welcome', 'out-of-service'],
};

/** Timers the session uses, injectable so tests drive inactivity without waiting. */
export interface SessionClock {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: SessionClock = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface SessionTimeouts {
  readonly idleMs: number;
  readonly idleWarningMs: number;
  readonly goodbyeMs: number;
}

export interface SessionEvents {
  /** Inactivity ran out: the controller ends the session. */
  onIdleEnd(): void;
  /** The goodbye screen has been shown long enough. */
  onGoodbyeDone(): void;
  onChange(): void;
}

/** Screens on which the inactivity timer runs: a customer is present and the kiosk is waiting for them. */
const IDLE_TIMED: ReadonlySet<Screen> = new Set(['identify', 'pin', 'menu', 'balance', 'withdraw', 'deposit', 'history', 'transfer', 'receipt']);

export class CustomerSession {
  screen: Screen = 'out-of-service';
  language: Language;
  identifyMethod: IdentifyMethod | undefined;
  pinDigits = 0;
  idleWarning = false;
  notice: Notice | undefined;
  customer: CustomerView | undefined;
  view: SessionView | undefined;
  private warnTimer: unknown;
  private endTimer: unknown;
  private goodbyeTimer: unknown;

  constructor(
    readonly languages: readonly Language[],
    private readonly timeouts: SessionTimeouts,
    private readonly clock: SessionClock,
    private readonly events: SessionEvents,
  ) {
    this.language = languages[0] ?? 'en';
  }

  /** A customer is at the kiosk (anything but welcome, goodbye and out-of-service). */
  get inProgress(): boolean {
    return this.screen !== 'welcome' && this.screen !== 'goodbye' && this.screen !== 'out-of-service';
  }

  go(next: Screen, notice?: Notice): void {
    if (next !== 'goodbye' && !(this.screen === 'goodbye' && next === 'out-of-service') && !(next === 'out-of-service' && !this.inProgress)) {
      if (!NEXT[this.screen].includes(next)) throw new Error(`session: no transition from ${this.screen} to ${next}`);
    }
    // The next customer starts in the kiosk's first language, whatever the last one chose.
    if (this.screen === 'goodbye' && next !== 'goodbye') this.language = this.languages[0] ?? 'en';
    this.screen = next;
    this.notice = notice;
    if (next !== 'pin') this.pinDigits = 0;
    this.touch();
    this.events.onChange();
  }

  setNotice(notice: Notice | undefined): void {
    this.notice = notice;
    this.events.onChange();
  }

  /** Customer activity: restarts the inactivity timer and clears a warning. */
  touch(): void {
    this.clock.clearTimeout(this.warnTimer);
    this.clock.clearTimeout(this.endTimer);
    this.warnTimer = this.endTimer = undefined;
    const wasWarned = this.idleWarning;
    this.idleWarning = false;
    if (IDLE_TIMED.has(this.screen)) {
      this.warnTimer = this.clock.setTimeout(() => {
        this.idleWarning = true;
        this.events.onChange();
      }, this.timeouts.idleMs - this.timeouts.idleWarningMs);
      this.endTimer = this.clock.setTimeout(() => this.events.onIdleEnd(), this.timeouts.idleMs);
    }
    if (wasWarned) this.events.onChange();
  }

  /** Ends the customer's session: every customer datum is dropped, then goodbye for a moment. */
  end(notice?: Notice): void {
    this.clearCustomer();
    this.go('goodbye', notice);
    this.clock.clearTimeout(this.goodbyeTimer);
    this.goodbyeTimer = this.clock.setTimeout(() => this.events.onGoodbyeDone(), this.timeouts.goodbyeMs);
  }

  clearCustomer(): void {
    this.customer = undefined;
    this.view = undefined;
    this.identifyMethod = undefined;
    this.pinDigits = 0;
  }

  stop(): void {
    for (const timer of [this.warnTimer, this.endTimer, this.goodbyeTimer]) this.clock.clearTimeout(timer);
  }
}
