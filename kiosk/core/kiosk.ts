// The kiosk's main-process logic, free of Electron: configuration + devices + host client + customer
// session + withdrawal journal. The Electron main process (and the Chromium test harness) binds the UI to
// `snapshot()`, the 'state' event and the command methods below; it passes nothing else through.
import { EventEmitter } from 'node:events';
import { ChannelClient } from '../../protocol/client.js';
import { ProtocolError } from '../../protocol/errors.js';
import type { ClientLimits } from '../../protocol/limits.js';
import { silentLogger, type Logger } from '../../protocol/log.js';
import type { AccountSummary, SessionInfo } from '../../protocol/messages.js';
import { derivePinKey } from '../../protocol/pin-block.js';
import { describe, KioskError } from '../common/errors.js';
import { payableAmounts, type CassetteStock } from '../devices/dispenser/note-plan.js';
import { PinEntry } from '../devices/pin-pad/pin-entry.js';
import type { PrinterStatus } from '../devices/printer/types.js';
import { isDeviceError } from '../devices/serial/device-error.js';
import { loadKioskConfig, loadKShared, type KioskConfig, type Language } from './config.js';
import { createKioskDevices, type CreatedDevices, type KioskDevices } from './devices.js';
import { JournalCorruptError, WithdrawalJournal } from './journal.js';
import { composeReceipt, type ReceiptFacts } from './receipt.js';
import { recoverWithdrawals } from './recovery.js';
import { CustomerSession, realClock, type SessionClock } from './session.js';
import type { ActivityRequest, HistoryRequest, KioskSnapshot, MenuChoice, Notice, PinPadKey, TransferRequest } from './ui-contract.js';
import { runWithdrawal, type WithdrawalCrashPoint, type WithdrawalDeadlines, type WithdrawalDeps, type WithdrawalOutcome } from './withdrawal.js';

/** Health checks of the serial devices while no customer is being served (and reopen attempts). */
export const DEVICE_CHECK_INTERVAL_MS = 2_000;
/** How often unfinished withdrawals are retried while the host or dispenser is away. */
export const RECOVERY_RETRY_INTERVAL_MS = 2_000;
/** start() waits this long for the host so that recovery can run before the first customer. */
export const START_CONNECT_WAIT_MS = 5_000;
/** Sign-in includes scrypt at the host (~100 ms at production cost) and may need one reconnect. */
export const SIGNIN_DEADLINE_MS = 15_000;
/** Balance, history, deposit, transfer: retries (same request id) until this long has passed. */
export const CUSTOMER_REQUEST_DEADLINE_MS = 10_000;
export const CUSTOMER_REQUEST_TIMEOUT_MS = 5_000;
/** Sign-out is a courtesy (the host also ends a session on disconnect or inactivity). */
export const SIGNOUT_TIMEOUT_MS = 2_000;
export const USERNAME_CHARS_MAX = 64;
export const PASSWORD_CHARS_MAX = 128;

export type { PinPadKey, TransferRequest };

export type KioskCommandErrorCode = 'WRONG_STATE' | 'BAD_ARGUMENT' | 'NOT_ON_SCREEN';

/** A command the UI may not give now, or gave with a bad argument: a UI bug, never a customer error. */
export class KioskCommandError extends KioskError<KioskCommandErrorCode> {
  constructor(code: KioskCommandErrorCode, message: string) {
    super(code, message);
    this.name = 'KioskCommandError';
  }
}

export interface KioskTiming {
  readonly name: 'pin-enter-to-menu' | 'withdraw-confirm-to-cash' | 'password-submit-to-menu';
  readonly ms: number;
}

export interface KioskControllerOptions {
  readonly config: KioskConfig;
  readonly kShared: Buffer;
  readonly log?: Logger;
  readonly now?: () => number;
  readonly clock?: SessionClock;
  /** Devices made by the caller; otherwise made from the configuration. */
  readonly devices?: KioskDevices;
  readonly clientLimits?: Partial<ClientLimits>;
  /** Test-only: called at each withdrawal step (the power-loss tests SIGKILL the process there). */
  readonly onWithdrawalStep?: (point: WithdrawalCrashPoint) => void;
  readonly deviceCheckIntervalMs?: number;
  /** Shorter withdrawal retry budgets for tests; production uses the constants in withdrawal.ts. */
  readonly withdrawalDeadlines?: Partial<WithdrawalDeadlines>;
  /** Shorter retry budget for balance, history, deposit and transfer in tests (CUSTOMER_REQUEST_DEADLINE_MS). */
  readonly customerRequestDeadlineMs?: number;
}

/** Rows on one page of history or activity: what fits the 800×480 screen without scrolling. */
export const HISTORY_ROWS_PER_PAGE = 6;


type DeviceName = 'card-reader' | 'pin-pad' | 'dispenser' | 'printer';

export class KioskController extends EventEmitter<{ state: [KioskSnapshot]; timing: [KioskTiming] }> {
  private readonly config: KioskConfig;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly session: CustomerSession;
  private readonly pinKey: Buffer;
  private client: ChannelClient | undefined;
  private journal: WithdrawalJournal | undefined;
  private created: CreatedDevices | undefined;
  private kioskDevices: KioskDevices | undefined;
  private readonly deviceProblems = new Map<DeviceName, string>();
  private journalProblem: string | undefined;
  private recoveryProblem: string | undefined;
  /** Sticky until restart: a withdrawal failed in a way the kiosk cannot explain (see withdraw()). */
  private withdrawalFault: string | undefined;
  private cassettes: CassetteStock[];
  private printerStatus: PrinterStatus | undefined;
  private started = false;
  private stopping = false;
  private busy = false;
  private checking = false;
  private recovery: Promise<void> | undefined;
  private cancelRequested = false;
  /** Bumped at every session end, so a host answer for an ended session is dropped. */
  private epoch = 0;
  private cardPan: string | undefined;
  private hostSignedIn = false;
  private pinEnteredAtMs: number | undefined;
  private lastReceipt: ReceiptFacts | undefined;
  private checkTimer: NodeJS.Timeout | undefined;
  private readonly unsubscribes: (() => void)[] = [];
  readonly timings: KioskTiming[] = [];

  constructor(private readonly options: KioskControllerOptions) {
    super();
    this.config = options.config;
    this.log = options.log ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.pinKey = derivePinKey(options.kShared);
    this.cassettes = this.config.cassettes.map((c) => ({ ...c }));
    this.session = new CustomerSession(this.config.languages, this.config.timeouts, options.clock ?? realClock, {
      onIdleEnd: () => this.background(this.endSession({ code: 'TIMEOUT' }), 'end session after inactivity'),
      onGoodbyeDone: () => this.afterGoodbye(),
      onChange: () => this.emitState(),
    });
  }

  /** The kiosk as provisioning left it: `kiosk.json` and the K_SHARED file it names. Throws
   *  KioskConfigError naming the file and field when either is wrong. */
  static async fromConfigFile(file: string, options: Omit<KioskControllerOptions, 'config' | 'kShared'> = {}): Promise<KioskController> {
    const config = await loadKioskConfig(file);
    const kShared = await loadKShared(config.kSharedFile);
    return new KioskController({ ...options, config, kShared });
  }

  /** The devices in use (tests drive the simulators through these). */
  get devices(): KioskDevices {
    if (!this.kioskDevices) throw new KioskCommandError('WRONG_STATE', 'the kiosk is not started');
    return this.kioskDevices;
  }

  get simulators(): Pick<CreatedDevices, 'dispenserSimulator' | 'printerSimulator'> {
    return { ...(this.created?.dispenserSimulator ? { dispenserSimulator: this.created.dispenserSimulator } : {}), ...(this.created?.printerSimulator ? { printerSimulator: this.created.printerSimulator } : {}) };
  }

  // --- lifecycle -----------------------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    try {
      this.journal = await WithdrawalJournal.open(this.config.journalDir);
    } catch (error) {
      // Without the journal no withdrawal may start and none can be recovered: out of service for good.
      this.journalProblem = error instanceof JournalCorruptError ? error.message : `cannot open: ${describe(error)}`;
      this.log.error('withdrawal journal unusable', { error: this.journalProblem });
    }
    if (this.options.devices) {
      this.kioskDevices = this.options.devices;
    } else {
      this.created = await createKioskDevices(this.config, this.log);
      this.kioskDevices = this.created;
    }
    this.subscribeDevices(this.kioskDevices);
    this.kioskDevices.cardReader.start();
    this.kioskDevices.pinPad.start();

    const client = new ChannelClient({
      host: this.config.host,
      port: this.config.port,
      deviceId: this.config.deviceId,
      kShared: this.options.kShared,
      log: this.log.child({ component: 'channel' }),
      ...(this.options.clientLimits ? { limits: this.options.clientLimits } : {}),
    });
    this.client = client;
    client.on('status', () => this.refresh());
    client.on('connected', () => this.background(this.recoverIfNeeded(), 'recovery'));
    client.on('disconnected', () => this.onHostLost());
    client.start();

    await this.checkDevices();
    try {
      await client.waitConnected(START_CONNECT_WAIT_MS);
    } catch {
      // Out of service until the host answers; the client keeps reconnecting with backoff.
    }
    await this.recoverIfNeeded();
    this.checkTimer = setInterval(() => {
      this.background(this.checkDevices(), 'device check');
      this.background(this.recoverIfNeeded(), 'recovery');
    }, this.options.deviceCheckIntervalMs ?? DEVICE_CHECK_INTERVAL_MS);
    this.refresh();
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.checkTimer);
    this.session.stop();
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    this.client?.close();
    const devices = this.kioskDevices;
    if (devices) {
      await devices.cardReader.stop();
      await devices.pinPad.stop();
      await devices.dispenser.close().catch((error: unknown) => this.log.warn('dispenser close failed', { error: describe(error) }));
      await devices.printer.close().catch((error: unknown) => this.log.warn('printer close failed', { error: describe(error) }));
    }
    await this.created?.disposeSimulators();
    await this.journal?.close();
    this.removeAllListeners();
  }

  // --- what the UI renders -------------------------------------------------------------------------

  outOfServiceReasons(): string[] {
    const reasons: string[] = [];
    if (!this.started) reasons.push('starting');
    if (this.journalProblem) reasons.push(`journal: ${this.journalProblem}`);
    if (this.withdrawalFault) reasons.push(`withdrawal-fault: ${this.withdrawalFault}`);
    if (!this.client?.connected) reasons.push('host-unreachable');
    for (const [device, problem] of this.deviceProblems) if (device !== 'printer') reasons.push(`${device}: ${problem}`);
    const unfinished = this.journal?.unfinished().length ?? 0;
    if (unfinished > 0) reasons.push(`recovery-pending: ${unfinished} unfinished withdrawal(s)${this.recoveryProblem ? ` (${this.recoveryProblem})` : ''}`);
    return reasons;
  }

  snapshot(): KioskSnapshot {
    const s = this.session;
    const remaining = s.customer?.dailyWithdrawalRemainingCents;
    const fastCashCents = s.customer
      ? payableAmounts(this.config.fastCashCents, this.cassettes).filter((cents) => remaining === undefined || cents <= remaining)
      : [];
    return {
      screen: s.screen,
      language: s.language,
      languages: s.languages,
      outOfServiceReasons: this.outOfServiceReasons(),
      ...(s.identifyMethod ? { identifyMethod: s.identifyMethod } : {}),
      pinDigits: s.pinDigits,
      onScreenPinPad: this.kioskDevices?.pinPad instanceof PinEntry,
      idleWarning: s.idleWarning,
      ...(s.notice ? { notice: s.notice } : {}),
      ...(s.customer ? { customer: s.customer } : {}),
      fastCashCents,
      receiptAvailable: this.printerReady(),
      withdrawalAvailable:
        this.journal !== undefined && !this.deviceProblems.has('dispenser') && this.withdrawalFault === undefined && (this.journal.unfinished().length === 0),
      ...(s.view ? { view: s.view } : {}),
    };
  }

  // --- commands from the UI ------------------------------------------------------------------------

  chooseLanguage(language: Language): void {
    if (!this.config.languages.includes(language)) throw new KioskCommandError('BAD_ARGUMENT', `language ${String(language)} is not offered`);
    this.session.language = language;
    if (this.session.screen === 'welcome') this.session.go('identify');
    else this.session.touch();
    this.emitState();
  }

  /** The customer chose to use a card: the UI asks for a swipe; the swipe itself moves on to the PIN. */
  beginCardSignIn(): void {
    this.requireScreen('welcome', 'identify');
    if (this.session.screen === 'welcome') this.session.go('identify');
    this.session.identifyMethod = 'card';
    this.session.touch();
    this.emitState();
  }

  async beginPasswordSignIn(username: string, password: string): Promise<void> {
    this.requireScreen('welcome', 'identify');
    checkText(username, USERNAME_CHARS_MAX, 'username');
    checkText(password, PASSWORD_CHARS_MAX, 'password');
    this.session.identifyMethod = 'password';
    await this.signIn('password', () => this.requireClient().requestWithRetry('signin.password', { username, password }, this.signInOptions()));
  }

  async register(username: string, password: string): Promise<void> {
    this.requireScreen('welcome', 'identify');
    checkText(username, USERNAME_CHARS_MAX, 'username');
    checkText(password, PASSWORD_CHARS_MAX, 'password');
    this.session.identifyMethod = 'register';
    await this.signIn('register', () => this.requireClient().requestWithRetry('register', { username, password }, this.signInOptions()));
  }

  /** A key of the on-screen PIN pad. Refused when a hardware keypad is configured: then digits must
   *  come from the keypad, which the renderer never sees. */
  pinPadPress(key: PinPadKey): void {
    const pad = this.kioskDevices?.pinPad;
    if (!(pad instanceof PinEntry)) throw new KioskCommandError('NOT_ON_SCREEN', 'this kiosk has a hardware PIN pad');
    this.requireScreen('pin');
    if (typeof key === 'number') {
      if (!Number.isInteger(key) || key < 0 || key > 9) throw new KioskCommandError('BAD_ARGUMENT', 'a PIN digit is 0..9');
      pad.pressDigit(key);
      return;
    }
    switch (key) {
      case 'enter':
        return pad.pressEnter();
      case 'backspace':
        return pad.pressBackspace();
      case 'clear':
        return pad.pressClear();
      case 'cancel':
        return pad.pressCancel();
      default:
        throw new KioskCommandError('BAD_ARGUMENT', 'unknown PIN pad key');
    }
  }

  async selectMenu(choice: MenuChoice | 'menu'): Promise<void> {
    const s = this.session;
    if (choice === 'menu') {
      this.requireScreen('balance', 'history', 'withdraw', 'deposit', 'transfer');
      s.view = undefined;
      s.go('menu');
      return;
    }
    this.requireScreen('menu');
    switch (choice) {
      case 'withdraw':
      case 'deposit':
      case 'transfer':
        s.go(choice);
        return;
      case 'balance':
        await this.customerRequest(async (epoch) => {
          const accounts = await Promise.all(this.customerAccounts().map((a) => this.requireClient().requestWithRetry('balance', { accountId: a.accountId }, this.requestOptions())));
          if (epoch !== this.epoch) return;
          this.updateAccounts(accounts);
          s.view = { kind: 'balance', account: accounts[0]! };
          s.go('balance');
        });
        return;
      case 'history':
        await this.customerRequest(async (epoch) => {
          const accountId = this.customerAccounts()[0]!.accountId;
          const page = await this.requireClient().requestWithRetry('history', { accountId, limit: HISTORY_ROWS_PER_PAGE }, this.requestOptions());
          if (epoch !== this.epoch) return;
          s.view = { kind: 'history', accountId, entries: page.entries, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
          s.go('history');
        });
        return;
      default:
        throw new KioskCommandError('BAD_ARGUMENT', 'unknown menu choice');
    }
  }

  async history(filters: HistoryRequest): Promise<void> {
    this.requireScreen('history');
    const accountId = this.accountOrDefault(filters.accountId);
    await this.customerRequest(async (epoch) => {
      const body = {
        accountId,
        limit: HISTORY_ROWS_PER_PAGE,
        ...(filters.sinceMs !== undefined ? { sinceMs: filters.sinceMs } : {}),
        ...(filters.untilMs !== undefined ? { untilMs: filters.untilMs } : {}),
        ...(filters.kinds ? { kinds: filters.kinds } : {}),
        ...(filters.cursor ? { cursor: filters.cursor } : {}),
      };
      const page = await this.requireClient().requestWithRetry('history', body, this.requestOptions());
      if (epoch !== this.epoch) return;
      this.session.view = { kind: 'history', accountId, entries: page.entries, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
      this.session.go('history');
    });
  }

  /** The customer's own activity from the host's audit log: what they did at any kiosk, including what
   *  failed ("withdraw $100.00 failed - insufficient funds"), newest first. */
  async activity(filters: ActivityRequest): Promise<void> {
    this.requireScreen('history');
    await this.customerRequest(async (epoch) => {
      const body = {
        limit: HISTORY_ROWS_PER_PAGE,
        ...(filters.sinceMs !== undefined ? { sinceMs: filters.sinceMs } : {}),
        ...(filters.cursor ? { cursor: filters.cursor } : {}),
      };
      const page = await this.requireClient().requestWithRetry('activity', body, this.requestOptions());
      if (epoch !== this.epoch) return;
      this.session.view = { kind: 'activity', entries: page.entries, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
      this.session.go('history');
    });
  }

  async withdraw(amountCents: number, accountId?: string): Promise<void> {
    this.requireScreen('withdraw');
    checkCents(amountCents);
    const account = this.accountOrDefault(accountId);
    const journal = this.journal;
    const devices = this.devices;
    if (!journal) {
      this.session.setNotice({ code: 'WITHDRAWAL_UNAVAILABLE' });
      return;
    }
    const epoch = this.epoch;
    const confirmedAtMs = this.now();
    this.busy = true;
    this.session.go('working');
    try {
      let cassettes: CassetteStock[];
      let cassettesReady: boolean;
      try {
        const status = await devices.dispenser.status();
        cassettes = status.cassettes.map((c) => ({ denominationCents: c.denominationCents, count: c.count }));
        this.cassettes = cassettes;
        cassettesReady = status.state === 'ready';
      } catch (error) {
        this.log.warn('dispenser status failed before a withdrawal', { error: describe(error) });
        await this.endSession({ code: 'DISPENSER_UNAVAILABLE' });
        return;
      }
      if (!cassettesReady) {
        await this.endSession({ code: 'DISPENSER_UNAVAILABLE' });
        return;
      }
      let outcome: WithdrawalOutcome;
      try {
        outcome = await runWithdrawal(this.withdrawalDeps((point) => {
          if (point === 'notes-dispensed') this.recordTiming('withdraw-confirm-to-cash', this.now() - confirmedAtMs);
        }), { accountId: account, amountCents, cassettes });
      } catch (error) {
        // A journal write failed (disk full, failing card) or a money invariant broke: the kiosk must
        // not take another withdrawal until a technician has looked; the journal shows what is open.
        this.withdrawalFault = describe(error);
        this.log.error('withdrawal fault', { error: this.withdrawalFault });
        await this.endSession({ code: 'TRANSACTION_INCOMPLETE' });
        return;
      }
      if (epoch !== this.epoch) return;
      switch (outcome.kind) {
        case 'not-payable':
          this.session.go('withdraw', { code: 'NOT_PAYABLE', amountCents });
          return;
        case 'declined':
          if (outcome.code === 'NOT_SIGNED_IN' || outcome.code === 'SESSION_EXPIRED') {
            await this.endSession({ code: outcome.code });
          } else {
            this.session.go('withdraw', { code: outcome.code, amountCents });
          }
          return;
        case 'dispense-failed':
          // The hold was released; the customer's money is untouched.
          await this.endSession({ code: outcome.dispenseError === 'jam' ? 'DISPENSER_JAM' : 'DISPENSE_FAILED' });
          return;
        case 'unfinished': {
          this.recoveryProblem = outcome.reason;
          const dispensedCents = outcome.record.dispensedCents;
          await this.endSession({ code: outcome.record.step === 'authorizing' ? 'HOST_UNAVAILABLE' : 'TRANSACTION_INCOMPLETE', ...(dispensedCents !== undefined ? { amountCents: dispensedCents } : {}) });
          return;
        }
        case 'dispensed': {
          const { record } = outcome;
          const dispensedCents = record.dispensedCents ?? 0;
          const customer = this.session.customer;
          if (customer?.dailyWithdrawalRemainingCents !== undefined) {
            this.session.customer = { ...customer, dailyWithdrawalRemainingCents: Math.max(0, customer.dailyWithdrawalRemainingCents - dispensedCents) };
          }
          this.session.view = { kind: 'withdrawal', amountCents, dispensedCents, short: outcome.short };
          this.lastReceipt = {
            ...this.receiptBase('withdrawal', amountCents),
            dispensedCents,
            accountId: account,
            ...(record.authorizationId ? { authorizationId: record.authorizationId } : {}),
          };
          this.session.go('receipt', outcome.short ? { code: 'SHORT_DISPENSE', amountCents: dispensedCents } : undefined);
          return;
        }
      }
    } finally {
      this.busy = false;
      this.afterCustomerOperation();
    }
  }

  async deposit(amountCents: number, accountId?: string): Promise<void> {
    this.requireScreen('deposit');
    checkCents(amountCents);
    const account = this.accountOrDefault(accountId);
    await this.customerRequest(async (epoch) => {
      const result = await this.requireClient().requestWithRetry('deposit', { accountId: account, amountCents }, this.requestOptions());
      if (epoch !== this.epoch) return;
      this.updateAccounts([result.account]);
      this.session.view = { kind: 'deposit', amountCents, account: result.account };
      this.lastReceipt = { ...this.receiptBase('deposit', amountCents), accountId: account, postingId: result.postingId, balanceAfterCents: result.account.balanceCents };
      this.session.go('receipt');
    }, 'deposit');
  }

  async transfer(request: TransferRequest): Promise<void> {
    this.requireScreen('transfer');
    checkCents(request.amountCents);
    const from = this.accountOrDefault(request.fromAccountId);
    const to = this.accountOrDefault(request.toAccountId);
    await this.customerRequest(async (epoch) => {
      const result = await this.requireClient().requestWithRetry('transfer', { fromAccountId: from, toAccountId: to, amountCents: request.amountCents }, this.requestOptions());
      if (epoch !== this.epoch) return;
      this.updateAccounts([result.from, result.to]);
      this.session.view = { kind: 'transfer', amountCents: request.amountCents, from: result.from, to: result.to };
      this.lastReceipt = { ...this.receiptBase('transfer', request.amountCents), accountId: from, postingId: result.postingId, balanceAfterCents: result.from.balanceCents };
      this.session.go('receipt');
    }, 'transfer');
  }

  async chooseReceipt(wanted: boolean): Promise<void> {
    this.requireScreen('receipt');
    const facts = this.lastReceipt;
    this.lastReceipt = undefined;
    if (!wanted || !facts) {
      await this.endSession();
      return;
    }
    if (!this.printerReady()) {
      await this.endSession({ code: 'RECEIPT_UNAVAILABLE' });
      return;
    }
    this.busy = true;
    this.session.go('working');
    try {
      const status = await this.devices.printer.print(composeReceipt({ ...facts, nowMs: this.now() }));
      this.printerStatus = status;
      // The printer's paper running low is for the technician (device status), not the customer.
      await this.endSession({ code: 'RECEIPT_PRINTED' });
    } catch (error) {
      this.log.warn('receipt not printed', { error: describe(error) });
      const code = isDeviceError(error) ? error.code : 'RECEIPT_UNAVAILABLE';
      if (code === 'PRINTER_OUT_OF_PAPER') this.printerStatus = { online: false, paper: 'out' };
      await this.endSession({ code });
    } finally {
      this.busy = false;
    }
  }

  /** Cancel from any step. During a host request or a dispense it takes effect when that returns (notes
   *  being moved cannot be stopped, and the hold must be settled first). */
  cancel(): void {
    if (!this.session.inProgress) return;
    if (this.busy || this.session.screen === 'working') {
      this.cancelRequested = true;
      return;
    }
    this.background(this.endSession({ code: 'CANCELLED' }), 'cancel');
  }

  /** Customer activity (any touch): restarts the inactivity timer. */
  touch(): void {
    this.session.touch();
  }

  // --- sign-in -------------------------------------------------------------------------------------

  private async signIn(kind: 'password' | 'register' | 'card', send: () => Promise<SessionInfo>): Promise<void> {
    const epoch = this.epoch;
    const startedMs = this.now();
    this.busy = true;
    this.session.go('working');
    try {
      let info: SessionInfo;
      try {
        info = await send();
      } catch (error) {
        if (epoch !== this.epoch) return;
        const code = error instanceof ProtocolError ? error.code : 'INTERNAL';
        if (error instanceof ProtocolError && error.retryable) {
          await this.endSession({ code: 'HOST_UNAVAILABLE' });
        } else if (kind === 'card' && code === 'WRONG_PIN') {
          this.session.go('pin', { code });
          this.armPinPad();
        } else if (kind === 'card') {
          // Blocked, unknown or expired card: nothing the customer can do here.
          await this.endSession({ code });
        } else {
          this.session.go('identify', { code });
        }
        return;
      }
      if (epoch !== this.epoch) return;
      this.hostSignedIn = true;
      this.session.customer = {
        username: info.username,
        accounts: info.accounts,
        ...(info.cardLast4 ? { cardLast4: info.cardLast4 } : {}),
        ...(info.dailyWithdrawalRemainingCents !== undefined ? { dailyWithdrawalRemainingCents: info.dailyWithdrawalRemainingCents } : {}),
      };
      this.session.go('menu');
      if (kind === 'card' && this.pinEnteredAtMs !== undefined) this.recordTiming('pin-enter-to-menu', this.now() - this.pinEnteredAtMs);
      if (kind === 'password') this.recordTiming('password-submit-to-menu', this.now() - startedMs);
    } finally {
      this.busy = false;
      this.afterCustomerOperation();
    }
  }

  private onCardSwiped(pan: string): void {
    if (this.session.screen !== 'welcome' && this.session.screen !== 'identify') {
      this.log.info('card swipe ignored', { screen: this.session.screen });
      return;
    }
    this.cardPan = pan;
    this.session.identifyMethod = 'card';
    this.session.go('pin');
    this.armPinPad();
  }

  private armPinPad(): void {
    if (!this.cardPan) return;
    this.devices.pinPad.begin({ pan: this.cardPan, pinKey: this.pinKey });
  }

  private onPinBlock(block: Buffer): void {
    const pan = this.cardPan;
    if (!pan || this.session.screen !== 'pin') {
      block.fill(0);
      return;
    }
    const pinBlock = block.toString('hex');
    block.fill(0);
    this.background(this.signIn('card', () => this.requireClient().requestWithRetry('signin.card', { pan, pinBlock }, this.signInOptions())), 'card sign-in');
  }

  // --- sessions ------------------------------------------------------------------------------------

  /** Ends the customer's session: PIN entry disarmed, host session signed out, every customer datum
   *  dropped, goodbye screen. */
  private async endSession(notice?: Notice): Promise<void> {
    if (!this.session.inProgress) return;
    this.epoch++;
    this.cancelRequested = false;
    this.cardPan = undefined;
    this.pinEnteredAtMs = undefined;
    this.lastReceipt = undefined;
    this.kioskDevices?.pinPad.abort();
    const signedIn = this.hostSignedIn;
    this.hostSignedIn = false;
    this.session.end(notice);
    if (signedIn && this.client?.connected) {
      try {
        await this.client.request('signout', {}, { timeoutMs: SIGNOUT_TIMEOUT_MS });
      } catch (error) {
        this.log.info('sign-out not confirmed', { error: describe(error) });
      }
    }
  }

  private afterGoodbye(): void {
    if (this.session.screen !== 'goodbye') return;
    this.session.go(this.outOfServiceReasons().length > 0 ? 'out-of-service' : 'welcome');
    this.refresh();
  }

  private afterCustomerOperation(): void {
    if (this.cancelRequested && this.session.inProgress) this.background(this.endSession({ code: 'CANCELLED' }), 'cancel');
    this.cancelRequested = false;
    this.refresh();
  }

  private onHostLost(): void {
    // The host's session was bound to that connection; the customer cannot go on. A withdrawal in
    // progress keeps retrying with its request ids and ends the session itself.
    if (this.session.inProgress && !this.busy) this.background(this.endSession({ code: 'HOST_UNAVAILABLE' }), 'end session on host loss');
    this.refresh();
  }

  private async customerRequest(work: (epoch: number) => Promise<void>, screenOnError?: 'deposit' | 'transfer'): Promise<void> {
    const epoch = this.epoch;
    const back = screenOnError ?? 'menu';
    this.busy = true;
    this.session.go('working');
    try {
      await work(epoch);
    } catch (error) {
      if (epoch !== this.epoch) return;
      if (error instanceof ProtocolError && (error.retryable || error.code === 'NOT_SIGNED_IN' || error.code === 'SESSION_EXPIRED')) {
        // A deposit or transfer the host never answered may have been applied: say so rather than imply it
        // failed. Its request id makes any later retry harmless, and the customer's history shows the truth.
        await this.endSession({ code: error.retryable ? (screenOnError ? 'UNCONFIRMED' : 'HOST_UNAVAILABLE') : error.code });
      } else {
        this.session.go(back, { code: error instanceof ProtocolError ? error.code : 'INTERNAL' });
        if (!(error instanceof ProtocolError)) this.log.error('customer request failed', { error: describe(error) });
      }
    } finally {
      this.busy = false;
      this.afterCustomerOperation();
    }
  }

  // --- devices, host and recovery ------------------------------------------------------------------

  private subscribeDevices(devices: KioskDevices): void {
    const { cardReader, pinPad, dispenser, printer } = devices;
    const problem = (device: DeviceName, reason: string | undefined): void => {
      if (reason === undefined) this.deviceProblems.delete(device);
      else this.deviceProblems.set(device, reason);
      this.refresh();
    };
    problem('card-reader', cardReader.isAvailable ? undefined : 'not connected');
    problem('pin-pad', pinPad.isAvailable ? undefined : 'not connected');
    problem('dispenser', 'not open');
    this.unsubscribes.push(
      cardReader.on('available', () => problem('card-reader', undefined)),
      cardReader.on('unavailable', (event) => problem('card-reader', event.reason)),
      cardReader.on('card', (event) => this.onCardSwiped(event.pan)),
      cardReader.on('bad-swipe', (event) => {
        if (this.session.screen === 'welcome' || this.session.screen === 'identify') this.session.setNotice({ code: `BAD_SWIPE` });
        this.log.info('bad card swipe', { reason: event.reason });
      }),
      pinPad.on('available', () => problem('pin-pad', undefined)),
      pinPad.on('unavailable', (event) => {
        problem('pin-pad', event.reason);
        if (this.session.screen === 'pin') this.background(this.endSession({ code: 'PIN_PAD_UNAVAILABLE' }), 'end session on PIN pad loss');
      }),
      pinPad.on('digit-entered', (event) => this.setPinDigits(event.count)),
      pinPad.on('digit-removed', (event) => this.setPinDigits(event.count)),
      pinPad.on('digit-ignored', () => this.session.touch()),
      pinPad.on('cleared', () => this.setPinDigits(0)),
      pinPad.on('cancel', () => this.cancel()),
      pinPad.on('too-short', () => this.session.setNotice({ code: 'PIN_TOO_SHORT' })),
      pinPad.on('submit', () => {
        this.pinEnteredAtMs = this.now();
      }),
      pinPad.on('pin-block', (event) => this.onPinBlock(event.block)),
      dispenser.onAvailabilityChange((change) => problem('dispenser', change.availability === 'available' ? undefined : change.reason)),
      printer.onAvailabilityChange((availability, reason) => {
        if (availability !== 'available') this.printerStatus = undefined;
        problem('printer', availability === 'available' ? undefined : reason);
      }),
    );
  }

  private setPinDigits(count: number): void {
    if (this.session.screen !== 'pin') return;
    this.session.pinDigits = count;
    this.session.notice = undefined;
    this.session.touch();
    this.emitState();
  }

  /** Opens what is closed and asks each serial device for its status; never while a customer's
   *  transaction is using the line. */
  private async checkDevices(): Promise<void> {
    if (this.checking || this.busy || this.stopping || !this.kioskDevices) return;
    this.checking = true;
    const { dispenser, printer } = this.kioskDevices;
    try {
      try {
        if (dispenser.availability === 'closed') await dispenser.open();
        const status = await dispenser.status();
        const configured = this.config.cassettes.map((c) => c.denominationCents).join(',');
        const reported = status.cassettes.map((c) => c.denominationCents).join(',');
        if (configured !== reported) {
          this.deviceProblems.set('dispenser', `cassette denominations ${reported} differ from the configuration (${configured})`);
        } else if (status.state === 'error') {
          this.deviceProblems.set('dispenser', `in error state (${status.error ?? 'unspecified'}); a technician must clear it`);
        } else {
          this.deviceProblems.delete('dispenser');
          this.cassettes = status.cassettes.map((c) => ({ denominationCents: c.denominationCents, count: c.count }));
        }
      } catch (error) {
        this.deviceProblems.set('dispenser', describe(error));
      }
      try {
        if (printer.availability === 'closed') await printer.open();
        this.printerStatus = await printer.status();
        this.deviceProblems.delete('printer');
      } catch (error) {
        this.printerStatus = undefined;
        this.deviceProblems.set('printer', describe(error));
      }
    } finally {
      this.checking = false;
      this.refresh();
    }
  }

  /** Runs recovery when there is something to recover and what it needs is there; a caller arriving
   *  while it runs waits for that run (start() must not return before it finishes). */
  private recoverIfNeeded(): Promise<void> {
    this.recovery ??= this.recoverOnce().finally(() => {
      this.recovery = undefined;
    });
    return this.recovery;
  }

  private async recoverOnce(): Promise<void> {
    const journal = this.journal;
    if (!journal || this.busy || this.stopping || journal.unfinished().length === 0) return;
    // Only a withdrawal that may have reached the dispenser needs it; the rest need just the host.
    const needsDispenser = journal.unfinished().some((r) => r.step === 'dispensing');
    if (!this.client?.connected || (needsDispenser && this.kioskDevices?.dispenser.availability !== 'available')) return;
    try {
      const report = await recoverWithdrawals(this.withdrawalDeps());
      this.recoveryProblem = report.pending[0]?.reason;
    } catch (error) {
      this.recoveryProblem = describe(error);
      this.log.error('recovery failed', { error: this.recoveryProblem });
    } finally {
      this.refresh();
    }
  }

  private withdrawalDeps(onStep?: (point: WithdrawalCrashPoint) => void): WithdrawalDeps {
    const testHook = this.options.onWithdrawalStep;
    return {
      client: this.requireClient(),
      dispenser: this.devices.dispenser,
      journal: this.journal!,
      log: this.log.child({ component: 'withdrawal' }),
      now: this.now,
      deadlines: this.options.withdrawalDeadlines,
      onStep: (point) => {
        onStep?.(point);
        testHook?.(point);
      },
    };
  }

  /** Re-evaluates service state: idle kiosk ↔ out of service. */
  private refresh(): void {
    if (this.stopping) return;
    const reasons = this.outOfServiceReasons();
    const screen = this.session.screen;
    if (reasons.length > 0 && screen === 'welcome') this.session.go('out-of-service');
    else if (reasons.length === 0 && screen === 'out-of-service' && this.started) this.session.go('welcome');
    else this.emitState();
  }

  private emitState(): void {
    if (this.stopping) return;
    this.emit('state', this.snapshot());
  }

  // --- small pieces --------------------------------------------------------------------------------

  /** Work started from an event or timer has no caller to report to: its failure is a bug, logged. */
  private background(work: Promise<unknown>, what: string): void {
    work.catch((error: unknown) => this.log.error(`${what} failed`, { error: describe(error) }));
  }

  private printerReady(): boolean {
    return this.kioskDevices?.printer.availability === 'available' && this.printerStatus !== undefined && this.printerStatus.online && this.printerStatus.paper !== 'out';
  }

  private recordTiming(name: KioskTiming['name'], ms: number): void {
    const timing = { name, ms };
    this.timings.push(timing);
    this.emit('timing', timing);
  }

  private receiptBase(transaction: ReceiptFacts['transaction'], amountCents: number): ReceiptFacts {
    const customer = this.session.customer;
    return {
      kioskId: this.config.deviceId,
      nowMs: this.now(),
      transaction,
      amountCents,
      ...(customer?.cardLast4 ? { cardLast4: customer.cardLast4 } : customer ? { username: customer.username } : {}),
    };
  }

  private customerAccounts(): readonly AccountSummary[] {
    const accounts = this.session.customer?.accounts ?? [];
    if (accounts.length === 0) throw new KioskCommandError('WRONG_STATE', 'no signed-in customer with an account');
    return accounts;
  }

  private accountOrDefault(accountId: string | undefined): string {
    const accounts = this.customerAccounts();
    if (accountId === undefined) return accounts[0]!.accountId;
    if (!accounts.some((a) => a.accountId === accountId)) throw new KioskCommandError('BAD_ARGUMENT', 'not one of the customer\'s accounts');
    return accountId;
  }

  private updateAccounts(updated: readonly AccountSummary[]): void {
    const customer = this.session.customer;
    if (!customer) return;
    const byId = new Map(updated.map((a) => [a.accountId, a]));
    this.session.customer = { ...customer, accounts: customer.accounts.map((a) => byId.get(a.accountId) ?? a) };
  }

  private requireScreen(...screens: KioskSnapshot['screen'][]): void {
    if (!screens.includes(this.session.screen)) {
      throw new KioskCommandError('WRONG_STATE', `not possible on the ${this.session.screen} screen`);
    }
    this.session.touch();
  }

  private requireClient(): ChannelClient {
    if (!this.client) throw new KioskCommandError('WRONG_STATE', 'the kiosk is not started');
    return this.client;
  }

  private signInOptions() {
    return { deadlineMs: this.now() + SIGNIN_DEADLINE_MS, timeoutMs: CUSTOMER_REQUEST_TIMEOUT_MS };
  }

  private requestOptions() {
    const budgetMs = this.options.customerRequestDeadlineMs ?? CUSTOMER_REQUEST_DEADLINE_MS;
    return { deadlineMs: this.now() + budgetMs, timeoutMs: Math.min(CUSTOMER_REQUEST_TIMEOUT_MS, budgetMs) };
  }
}

function checkCents(amountCents: number): void {
  if (!Number.isSafeInteger(amountCents) || amountCents <= 0) throw new KioskCommandError('BAD_ARGUMENT', 'an amount is a positive whole number of cents');
}

function checkText(value: string, maxChars: number, name: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxChars) throw new KioskCommandError('BAD_ARGUMENT', `${name}: 1..${maxChars} characters`);
}
