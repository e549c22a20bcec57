// The kiosk's main-process logic, free of Electron, behind one object: KioskController. The Electron main
// process (and the browser kiosk, and the tests) bind the UI to `snapshot()`, the 'state' event and the
// command methods below; nothing else passes through. The controller assembles the parts and starts and
// stops them; each part has one job (docs/kiosk-core.md has the map):
//   session.ts / visit.ts      the customer's screen, and their visit from first touch to goodbye
//   flows/                     what the customer does: sign-in, the menu's views, withdraw, deposit, transfer, receipt
//   device-supervisor.ts       which devices can serve, and their health checks
//   recovery-scheduler.ts      when unfinished withdrawals and deposits are finished
//   service-state.ts           in or out of service, and why
//   status-reporter.ts         what the host hears of the kiosk (kiosk.status)
import { EventEmitter } from 'node:events';
import { ChannelClient } from '../../protocol/client.js';
import type { ClientLimits } from '../../protocol/limits.js';
import { silentLogger, type Logger } from '../../protocol/log.js';
import type { KioskStatus } from '../../protocol/messages.js';
import { describe } from '../common/errors.js';
import { PinEntry } from '../devices/pin-pad/pin-entry.js';
import { KioskCommandError } from './command-checks.js';
import { hostEndpoints, loadKioskConfig, loadKShared, SPEECH_CASH_TAKE_MS_DEFAULT, SPEECH_IDLE_MS_DEFAULT, SPEECH_IDLE_WARNING_MS_DEFAULT, type KioskConfig, type Language } from './config.js';
import { DeviceSupervisor } from './device-supervisor.js';
import { createKioskDevices, type CreatedDevices, type KioskDevices } from './devices.js';
import type { FlowContext } from './flows/context.js';
import { CUSTOMER_REQUEST_DEADLINE_MS } from './flows/customer-request.js';
import type { DepositCrashPoint, DepositDeadlines } from './deposit.js';
import { selectMenu, showActivity, showHistory } from './flows/menu.js';
import { DepositFlow } from './flows/note-deposit.js';
import { anotherTransaction } from './flows/another-transaction.js';
import { ReceiptChoice } from './flows/receipt-choice.js';
import { PinChangeFlow } from './flows/pin-change.js';
import { SignInFlow } from './flows/sign-in.js';
import { transfer } from './flows/transfer.js';
import { withdraw, type WithdrawDeps } from './flows/withdraw.js';
import { JournalCorruptError, KioskJournal } from './journal.js';
import { MoneyDeps } from './money-deps.js';
import { RecoveryScheduler } from './recovery-scheduler.js';
import { ServiceState } from './service-state.js';
import { PinKeyKeeper } from './pin-key-keeper.js';
import { composeKioskStatus } from './kiosk-status.js';
import { composeSnapshot } from './kiosk-snapshot.js';
import { openReplenisher } from './replenishment/open-replenisher.js';
import { SupervisorFlow } from './replenishment/supervisor-flow.js';
import { KIOSK_SOFTWARE_VERSION, StatusReporter } from './status-reporter.js';
import { CustomerSession, realClock, type SessionClock } from './session.js';
import { KioskTimings, type KioskTiming } from './timings.js';
import type { ActivityRequest, HistoryRequest, KioskSnapshot, MenuChoice, PinPadKey, TransferRequest } from './ui-contract.js';
import { CustomerVisit } from './visit.js';
import type { WithdrawalCrashPoint, WithdrawalDeadlines } from './withdrawal.js';
import type { Replenisher, ReplenisherDeps } from './replenishment/replenisher.js';

export { KioskCommandError, type KioskCommandErrorCode } from './command-checks.js';
export { PASSWORD_CHARS_MAX, USERNAME_CHARS_MAX } from './flows/sign-in.js';
export type { KioskTiming, PinPadKey, TransferRequest };

/** Health checks of the serial devices (and reopen attempts), and retries of unfinished withdrawals while
 *  the host or dispenser is away, while no customer is being served. */
export const DEVICE_CHECK_INTERVAL_MS = 2_000;
/** start() waits this long for the host so that recovery can run before the first customer. */
export const START_CONNECT_WAIT_MS = 5_000;

/** The kiosk's software version as its status report gives it. */
export { KIOSK_SOFTWARE_VERSION };

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
  /** Test-only: called at each deposit step (the power-loss tests SIGKILL the process there). */
  readonly onDepositStep?: (point: DepositCrashPoint) => void;
  /** Test-only: called at each replenishment step (the power-loss tests SIGKILL the process there). */
  readonly onReplenishmentStep?: ReplenisherDeps['onStep'];
  /** Shorter deposit retry budgets for tests; production uses the constants in deposit.ts. */
  readonly depositDeadlines?: Partial<DepositDeadlines>;
  readonly deviceCheckIntervalMs?: number;
  /** Shorter withdrawal retry budgets for tests; production uses the constants in withdrawal.ts. */
  readonly withdrawalDeadlines?: Partial<WithdrawalDeadlines>;
  /** Shorter retry budget for balance, history, deposit and transfer in tests (CUSTOMER_REQUEST_DEADLINE_MS). */
  readonly customerRequestDeadlineMs?: number;
}

export class KioskController extends EventEmitter<{ state: [KioskSnapshot]; timing: [KioskTiming] }> {
  private readonly config: KioskConfig;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly session: CustomerSession;
  private readonly visit: CustomerVisit;
  private readonly service: ServiceState;
  private readonly supervisor: DeviceSupervisor;
  private readonly recovery: RecoveryScheduler;
  private readonly money: MoneyDeps;
  /** Speech mode asked for longer times (extendTime). */
  private timeExtended = false;
  private readonly flows: FlowContext;
  private readonly signIn: SignInFlow;
  private readonly pinChange: PinChangeFlow;
  private readonly receipts: ReceiptChoice;
  private readonly deposits: DepositFlow;
  private readonly reporter: StatusReporter;
  /** The technician's supervisor mode (replenishment/): the UI's supervisor commands go to it. */
  readonly supervisorMode: SupervisorFlow;
  private replenisher: Replenisher | undefined;
  private readonly withdrawDeps: WithdrawDeps;
  private readonly recordedTimings: KioskTimings;
  private client: ChannelClient | undefined;
  private journal: KioskJournal | undefined;
  /** The status report and recovery that follow each connection, which start() waits for. */
  private afterConnect: Promise<void> | undefined;
  private created: CreatedDevices | undefined;
  private kioskDevices: KioskDevices | undefined;
  private checkTimer: NodeJS.Timeout | undefined;
  private readonly unsubscribes: (() => void)[] = [];

  constructor(private readonly options: KioskControllerOptions) {
    super();
    this.config = options.config;
    this.log = options.log ?? silentLogger;
    this.now = options.now ?? Date.now;
    const refresh = () => this.service.refresh();
    const background = (work: Promise<unknown>, what: string) => this.background(work, what);
    this.session = new CustomerSession(this.config.languages, this.config.timeouts, options.clock ?? realClock, {
      onIdleEnd: () =>
        this.background(this.deposits.active ? this.deposits.endVisit({ code: 'TIMEOUT' }) : this.visit.end({ code: 'TIMEOUT' }), 'end session after inactivity'),
      // The next customer is welcomed only once the last one is signed out at the host.
      onGoodbyeDone: () => this.background(this.visit.whenSignedOut().then(() => this.service.afterGoodbye()), 'goodbye'),
      onChange: () => this.service.emitState(),
    });
    this.visit = new CustomerVisit({ session: this.session, log: this.log, client: () => this.client, refresh, background });
    // No device check and no recovery while a customer's transaction uses the lines, including an open
    // deposit waiting for notes.
    const mayWork = () => !this.visit.busy && !this.service.stopping && !this.deposits.active;
    this.supervisor = new DeviceSupervisor({
      configuredCassettes: this.config.cassettes,
      configuredAcceptorCents: this.config.devices.noteAcceptor ? this.config.noteAcceptorCents : [],
      mayCheck: mayWork,
      onChange: refresh,
    });
    this.money = new MoneyDeps({
      client: () => this.requireClient(),
      devices: () => this.devices,
      openDevices: () => this.kioskDevices,
      journal: () => this.journal,
      service: () => this.service,
      log: this.log,
      now: this.now,
      noteAcceptorCents: this.config.noteAcceptorCents,
      withdrawalDeadlines: options.withdrawalDeadlines,
      depositDeadlines: options.depositDeadlines,
      speechCashTakeMs: () => (this.timeExtended ? (this.config.speech?.cashTakeMs ?? SPEECH_CASH_TAKE_MS_DEFAULT) : undefined),
      onWithdrawalStep: options.onWithdrawalStep,
      onDepositStep: options.onDepositStep,
    });
    this.recovery = new RecoveryScheduler({
      journal: () => this.journal,
      hostConnected: () => this.client?.connected === true,
      dispenserAvailable: () => this.kioskDevices?.dispenser.availability === 'available',
      acceptorAvailable: () => this.supervisor.acceptorAnswering,
      mayRun: mayWork,
      transactionLive: () => this.visit.busy || this.deposits.active,
      withdrawalDeps: () => this.money.withdrawal(),
      depositDeps: () => this.money.depositRecovery(),
      log: this.log,
      onChange: refresh,
    });
    this.service = new ServiceState({
      session: this.session,
      hostConnected: () => this.client?.connected === true,
      journal: () => this.journal,
      devices: this.supervisor,
      recovery: this.recovery,
      snapshot: () => this.snapshot(),
      emit: (snapshot) => {
        this.emit('state', snapshot);
        this.reporter.changed();
      },
    });
    const pinKeys = new PinKeyKeeper({ deviceId: this.config.deviceId, client: () => this.client, pinPad: () => this.kioskDevices?.pinPad, log: this.log.child({ component: 'pin-key' }) });
    this.reporter = new StatusReporter({ client: () => this.client, status: () => this.status(), log: this.log.child({ component: 'status' }), pinKeys });
    this.recordedTimings = new KioskTimings((timing) => this.emit('timing', timing));
    this.flows = {
      config: this.config,
      session: this.session,
      visit: this.visit,
      log: this.log,
      now: this.now,
      customerRequestDeadlineMs: options.customerRequestDeadlineMs ?? CUSTOMER_REQUEST_DEADLINE_MS,
      client: () => this.requireClient(),
      devices: () => this.devices,
      journal: () => this.journal,
      emitState: () => this.service.emitState(),
      recordTiming: (name, ms) => this.recordedTimings.record(name, ms),
      background,
    };
    this.supervisorMode = new SupervisorFlow(this.flows, { replenisher: () => this.replenisher, printerReady: () => this.supervisor.printerReady(), statusChanged: () => this.reporter.changed() });
    this.signIn = new SignInFlow(this.flows, (info) => this.supervisorMode.enter(info));
    this.pinChange = new PinChangeFlow(this.flows, this.signIn);
    this.receipts = new ReceiptChoice(this.flows, this.supervisor);
    this.deposits = new DepositFlow(this.flows, {
      receipts: this.receipts,
      depositDeps: () => this.money.deposit(),
      depositAvailable: () => this.service.depositAvailable(),
      noteUnfinished: (reason) => this.recovery.noteDepositUnfinished(reason),
      noteDepositFault: (fault) => this.service.noteDepositFault(fault),
      recheckAcceptor: (reason) => this.supervisor.recheckAcceptor(reason),
      statusChanged: () => this.reporter.changed(),
    });
    this.withdrawDeps = {
      receipts: this.receipts,
      withdrawalDeps: (onStep, onPresented) => ({ ...this.money.withdrawal(onStep), onPresented }),
      noteCassettes: (cassettes) => {
        this.supervisor.noteCassettes(cassettes);
        this.reporter.changed();
      },
      cassettes: () => this.supervisor.cassettes,
      noteUnfinished: (reason) => this.recovery.noteUnfinished(reason),
      noteWithdrawalFault: (fault) => this.service.noteWithdrawalFault(fault),
    };
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

  get simulators(): Pick<CreatedDevices, 'dispenserSimulator' | 'printerSimulator' | 'noteAcceptorSimulator'> {
    const created = this.created;
    return {
      ...(created?.dispenserSimulator ? { dispenserSimulator: created.dispenserSimulator } : {}),
      ...(created?.printerSimulator ? { printerSimulator: created.printerSimulator } : {}),
      ...(created?.noteAcceptorSimulator ? { noteAcceptorSimulator: created.noteAcceptorSimulator } : {}),
    };
  }

  /** The replenishment in the kiosk's journal (open, or the last closed), for tests and diagnostics. */
  get lastReplenishment() {
    return this.replenisher?.latest;
  }

  /** Status reports the host answered since start (tests). */
  get statusReportsSent(): number {
    return this.reporter.sentCount;
  }

  /** How long customers waited at the steps that matter, oldest first (the latest TIMINGS_KEPT_MAX). */
  get timings(): readonly KioskTiming[] {
    return this.recordedTimings.all;
  }

  // --- lifecycle -----------------------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.service.started) return;
    this.service.markStarted();
    try {
      this.journal = await KioskJournal.open(this.config.journalDir);
    } catch (error) {
      // Without the journal no withdrawal may start and none can be recovered: out of service for good.
      const problem = error instanceof JournalCorruptError ? error.message : `cannot open: ${describe(error)}`;
      this.service.noteJournalProblem(problem);
      this.log.error('journal unusable', { error: problem });
    }
    this.replenisher = await openReplenisher(this.config, { client: () => this.requireClient(), cashbox: () => this.journal, dispenser: () => this.devices.dispenser, log: this.log, now: this.now, onStep: this.options.onReplenishmentStep, countsChanged: (cassettes) => this.withdrawDeps.noteCassettes([...(cassettes ?? this.supervisor.cassettes)]) }, (problem) => this.service.noteJournalProblem(problem));
    if (this.options.devices) {
      this.kioskDevices = this.options.devices;
    } else {
      this.created = await createKioskDevices(this.config, this.log);
      this.kioskDevices = this.created;
    }
    // The supervisor listens first: a device lost mid-PIN is an out-of-service reason before the sign-in
    // flow ends the visit for it.
    this.unsubscribes.push(...this.supervisor.watch(this.kioskDevices), ...this.signIn.watch(this.kioskDevices), ...this.deposits.watch(this.kioskDevices));
    this.kioskDevices.cardReader.start();
    this.kioskDevices.pinPad.start();

    const client = new ChannelClient({
      addresses: hostEndpoints(this.config),
      deviceId: this.config.deviceId,
      kShared: this.options.kShared,
      log: this.log.child({ component: 'channel' }),
      ...(this.options.clientLimits ? { limits: this.options.clientLimits } : {}),
    });
    this.client = client;
    client.on('status', () => this.service.refresh());
    client.on('connected', () => {
      // The host hears the kiosk's whole status (its notes above all) before recovery and before any
      // customer's request on this connection.
      const work = this.reporter.connected().then(() => this.recovery.runIfNeeded()).then(() => this.replenisher?.finishPending());
      this.afterConnect = work;
      this.background(work, 'status report and recovery');
    });
    client.on('disconnected', () => {
      // An open deposit finishes itself (its commit waits for the host); any other visit ends.
      if (this.deposits.active) this.background(this.deposits.endVisit({ code: 'HOST_UNAVAILABLE' }), 'end a deposit on host loss');
      else this.visit.hostLost();
      this.service.refresh();
    });
    client.start();

    await this.supervisor.check();
    try {
      await client.waitConnected(START_CONNECT_WAIT_MS);
    } catch {
      // Out of service until the host answers; the client keeps reconnecting with backoff.
    }
    await this.afterConnect;
    await this.recovery.runIfNeeded();
    this.checkTimer = setInterval(() => {
      this.background(this.supervisor.check(), 'device check');
      this.background(this.recovery.runIfNeeded(), 'recovery');
    }, this.options.deviceCheckIntervalMs ?? DEVICE_CHECK_INTERVAL_MS);
    this.service.refresh();
  }

  async stop(): Promise<void> {
    if (this.service.stopping) return;
    this.service.markStopping();
    clearInterval(this.checkTimer);
    this.reporter.stop();
    this.session.stop();
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    this.client?.close();
    // A device check in flight ends before the devices close (it would open them again).
    await this.supervisor.stop();
    const devices = this.kioskDevices;
    if (devices) {
      await devices.cardReader.stop();
      await devices.pinPad.stop();
      await devices.dispenser.close().catch((error: unknown) => this.log.warn('dispenser close failed', { error: describe(error) }));
      await devices.printer.close().catch((error: unknown) => this.log.warn('printer close failed', { error: describe(error) }));
      await devices.noteAcceptor?.close().catch((error: unknown) => this.log.warn('note acceptor close failed', { error: describe(error) }));
    }
    await this.created?.disposeSimulators();
    await this.journal?.close();
    await this.replenisher?.close();
    this.removeAllListeners();
  }

  // --- what the UI renders -------------------------------------------------------------------------

  outOfServiceReasons(): string[] {
    return this.service.reasons();
  }

  snapshot(): KioskSnapshot {
    return composeSnapshot({ session: this.session, config: this.config, supervisor: this.supervisor, service: this.service, onScreenPinPad: this.kioskDevices?.pinPad instanceof PinEntry });
  }

  /** What the host hears of this kiosk (kiosk.status). */
  status(): KioskStatus {
    return composeKioskStatus({ config: this.config, service: this.service, supervisor: this.supervisor, journal: this.journal, replenishment: this.replenisher?.open });
  }

  // --- commands from the UI (docs/kiosk-core.md lists each with its screens) ------------------------

  chooseLanguage(language: Language): void {
    if (!this.config.languages.includes(language)) throw new KioskCommandError('BAD_ARGUMENT', `language ${String(language)} is not offered`);
    this.session.language = language;
    if (this.session.screen === 'welcome') this.session.go('identify');
    else this.session.touch();
    this.service.emitState();
  }

  beginCardSignIn(): void {
    this.signIn.beginCard();
  }

  beginPasswordSignIn(username: string, password: string): Promise<void> {
    return this.signIn.withPassword(username, password);
  }

  register(username: string, password: string): Promise<void> {
    return this.signIn.register(username, password);
  }

  pinPadPress(key: PinPadKey): void {
    this.signIn.pressPinPadKey(key);
  }

  async selectMenu(choice: MenuChoice | 'menu'): Promise<void> {
    if (choice === 'pin-change') return this.pinChange.begin();
    return selectMenu(this.flows, choice);
  }

  history(filters: HistoryRequest): Promise<void> {
    return showHistory(this.flows, filters);
  }

  activity(filters: ActivityRequest): Promise<void> {
    return showActivity(this.flows, filters);
  }

  withdraw(amountCents: number, accountId?: string, receipt?: boolean): Promise<void> {
    return withdraw(this.flows, this.withdrawDeps, amountCents, accountId, receipt);
  }

  /** On the deposit screen: open a deposit into the account (the customer's first by default) and take
   *  notes. */
  beginDeposit(accountId?: string): Promise<void> {
    return this.deposits.begin(accountId);
  }

  /** The customer has inserted all their notes: credit exactly the notes stacked. */
  depositDone(): Promise<void> {
    return this.deposits.done();
  }

  /** The deposit screen's Cancel: the note in escrow goes back; notes already stacked are credited. */
  depositCancel(): Promise<void> {
    return this.deposits.cancel();
  }

  transfer(request: TransferRequest): Promise<void> {
    return transfer(this.flows, this.receipts, request);
  }

  chooseReceipt(wanted: boolean): Promise<void> {
    return this.receipts.choose(wanted);
  }

  /** On the balance screen: a receipt of the balances shown. */
  printBalance(): Promise<void> {
    return this.receipts.printBalance();
  }

  /** "Another transaction?": yes goes back to the menu in the same session, no ends the visit. */
  anotherTransaction(wanted: boolean): Promise<void> {
    return anotherTransaction(this.flows, wanted);
  }

  cancel(): void {
    // During a deposit the notes already stacked are credited before the visit ends.
    if (this.deposits.active) this.background(this.deposits.endVisit({ code: 'CANCELLED' }), 'cancel during a deposit');
    else this.visit.cancel();
  }

  /** Customer activity (any touch): restarts the inactivity timer. */
  touch(): void {
    this.session.touch();
  }

  /** Speech mode's longer times while `on`, the screen's own again when not: the inactivity timeouts
   *  (kiosk.json's `speech.idleMs`, `speech.idleWarningMs`) and the time to take presented notes
   *  (`speech.cashTakeMs`), or their defaults. */
  extendTime(on: boolean): void {
    const speech = this.config.speech;
    this.timeExtended = on;
    this.session.extendTime(on ? { idleMs: speech?.idleMs ?? SPEECH_IDLE_MS_DEFAULT, idleWarningMs: speech?.idleWarningMs ?? SPEECH_IDLE_WARNING_MS_DEFAULT } : undefined);
  }

  /** The inactivity timeouts in force. */
  get idleTimeouts(): { readonly idleMs: number; readonly idleWarningMs: number } {
    return this.session.idleTimeouts;
  }

  // --- plumbing shared by the parts ----------------------------------------------------------------

  /** Work started from an event or timer has no caller to report to: its failure is a bug, logged. */
  private background(work: Promise<unknown>, what: string): void {
    work.catch((error: unknown) => this.log.error(`${what} failed`, { error: describe(error) }));
  }

  private requireClient(): ChannelClient {
    if (!this.client) throw new KioskCommandError('WRONG_STATE', 'the kiosk is not started');
    return this.client;
  }
}
