// The customer session as explicit states: which screen, in which language, what the customer is told and
// shown, and the inactivity timers. It holds no device or network code: the controller's parts drive it.
// Customer data lives only in `customer`/`view`, which every end of a session clears. PIN digits never
// appear here, only how many were entered. The types are the UI's (ui-contract.ts).
import type { CustomerView, IdentifyMethod, Language, Notice, PinChangeStep, Screen, SessionView } from './ui-contract.js';

/** Also here for the importers that knew it from this file (the reliability tests). */
export type { KioskSnapshot } from './ui-contract.js';

/** Which screen may follow which; anything else is a bug in the controller, so it throws. Every screen
 *  may go to 'goodbye' (cancel, timeout) and to 'out-of-service' when no customer is present. */
const NEXT: Readonly<Record<Screen, readonly Screen[]>> = {
  'out-of-service': ['welcome'],
  welcome: ['identify', 'pin', 'working'],
  identify: ['pin', 'working', 'welcome'],
  pin: ['working', 'pin', 'welcome'],
  working: ['pin', 'identify', 'menu', 'withdraw', 'deposit', 'transfer', 'balance', 'history', 'receipt', 'take-cash', 'another-transaction', 'pin-change', 'welcome', 'supervisor', 'supervisor-count'],
  menu: ['balance', 'withdraw', 'deposit', 'history', 'transfer', 'working', 'pin-change'],
  'pin-change': ['working', 'pin-change', 'menu'],
  balance: ['menu', 'working'],
  withdraw: ['working', 'menu'],
  deposit: ['working', 'menu'],
  history: ['menu', 'working'],
  transfer: ['working', 'menu'],
  receipt: ['working', 'menu', 'another-transaction'],
  'another-transaction': ['menu', 'working'],
  'take-cash': ['working', 'another-transaction', 'withdraw', 'receipt'],
  goodbye: ['welcome', 'out-of-service'],
  supervisor: ['supervisor-count', 'working'],
  'supervisor-count': ['supervisor', 'working'],
};

/** Every screen, from the transition table (which the Screen type forces to name them all): the list
 *  the speech coverage test walks. */
export const SCREENS = Object.keys(NEXT) as Screen[];

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
const IDLE_TIMED: ReadonlySet<Screen> = new Set(['identify', 'pin', 'menu', 'balance', 'withdraw', 'deposit', 'history', 'transfer', 'receipt', 'another-transaction', 'pin-change', 'supervisor', 'supervisor-count']);

export class CustomerSession {
  screen: Screen = 'out-of-service';
  language: Language;
  identifyMethod: IdentifyMethod | undefined;
  pinDigits = 0;
  pinChangeStep: PinChangeStep | undefined;
  idleWarning = false;
  notice: Notice | undefined;
  customer: CustomerView | undefined;
  view: SessionView | undefined;
  private warnTimer: unknown;
  private endTimer: unknown;
  /** Longer inactivity timeouts while they are asked for (speech mode: a listener needs more time). */
  private extendedTimeouts: Pick<SessionTimeouts, 'idleMs' | 'idleWarningMs'> | undefined;
  private goodbyeTimer: unknown;

  constructor(
    readonly languages: readonly Language[],
    private readonly timeouts: SessionTimeouts,
    private readonly clock: SessionClock,
    private readonly events: SessionEvents,
  ) {
    this.language = languages[0] ?? 'en';
  }

  /** The seconds between the inactivity warning and the end of the session (the warning's countdown). */
  get idleWarningSeconds(): number {
    return Math.ceil(this.idleTimeouts.idleWarningMs / 1_000);
  }

  /** The inactivity timeouts in force: the extended ones while asked for, else the kiosk's. */
  get idleTimeouts(): Pick<SessionTimeouts, 'idleMs' | 'idleWarningMs'> {
    const { idleMs, idleWarningMs } = this.extendedTimeouts ?? this.timeouts;
    return { idleMs, idleWarningMs };
  }

  /** Uses `timeouts` for inactivity from now on (undefined: the kiosk's own again); on a timed screen the
   *  timers start again with them, as if the customer had just acted. */
  extendTime(timeouts: Pick<SessionTimeouts, 'idleMs' | 'idleWarningMs'> | undefined): void {
    this.extendedTimeouts = timeouts;
    this.touch();
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
    if (next !== 'pin-change' && next !== 'working') this.pinChangeStep = undefined;
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
      const { idleMs, idleWarningMs } = this.idleTimeouts;
      this.warnTimer = this.clock.setTimeout(() => {
        this.idleWarning = true;
        this.events.onChange();
      }, idleMs - idleWarningMs);
      this.endTimer = this.clock.setTimeout(() => this.events.onIdleEnd(), idleMs);
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
    this.pinChangeStep = undefined;
  }

  stop(): void {
    for (const timer of [this.warnTimer, this.endTimer, this.goodbyeTimer]) this.clock.clearTimeout(timer);
  }
}
