// Whether the kiosk may serve customers, and why not. It gathers the out-of-service reasons (not started,
// the journal, a withdrawal fault, the host, the devices, recovery), moves an idle kiosk between welcome
// and out-of-service as they come and go, and sends the UI each new snapshot. It also keeps what the
// operator should know but that does not stop the kiosk: withdrawals an operator settled before the kiosk
// did (until restart), and why deposits are not offered.
import type { KioskJournal } from './journal.js';
import type { CustomerSession } from './session.js';
import type { KioskSnapshot } from './ui-contract.js';

export interface ServiceStateDeps {
  readonly session: CustomerSession;
  readonly hostConnected: () => boolean;
  readonly journal: () => KioskJournal | undefined;
  readonly devices: { reasons(): string[]; optionalReasons(): string[]; readonly dispenserReady: boolean; readonly acceptorReady: boolean };
  readonly recovery: { reasons(): string[]; depositReasons(): string[] };
  readonly snapshot: () => KioskSnapshot;
  readonly emit: (snapshot: KioskSnapshot) => void;
}

/** Settled-by-operator lines kept for the status report (it holds 16 reasons in all). */
export const SETTLED_BY_OPERATOR_KEPT_MAX = 4;

export class ServiceState {
  private startedNow = false;
  private stoppingNow = false;
  private journalProblem: string | undefined;
  /** Sticky until restart: a withdrawal failed in a way the kiosk cannot explain (see flows/withdraw.ts). */
  private withdrawalFault: string | undefined;
  /** Sticky until restart: a deposit failed in a way the kiosk cannot explain (a journal write, a credit
   *  that is not the notes' sum). No deposit until a technician has looked. */
  private depositFault: string | undefined;
  /** Withdrawals an operator settled before the kiosk could, for the status report until restart. */
  private readonly operatorSettled: string[] = [];

  constructor(private readonly deps: ServiceStateDeps) {}

  get started(): boolean {
    return this.startedNow;
  }

  get stopping(): boolean {
    return this.stoppingNow;
  }

  markStarted(): void {
    this.startedNow = true;
  }

  /** From here on nothing is checked, recovered or sent to the UI. */
  markStopping(): void {
    this.stoppingNow = true;
  }

  /** Without the journal no withdrawal may start and none can be recovered: out of service for good. */
  noteJournalProblem(problem: string): void {
    this.journalProblem = problem;
  }

  noteWithdrawalFault(fault: string): void {
    this.withdrawalFault = fault;
  }

  noteDepositFault(fault: string): void {
    this.depositFault = fault;
  }

  /** An operator settled a withdrawal's hold before the kiosk did (SETTLED_BY_OPERATOR): not a reason to
   *  stop, but the kiosk says so in its status until it restarts. */
  noteSettledByOperator(line: string): void {
    this.operatorSettled.push(line);
    // The status report holds 16 reasons; the oldest go first (the log keeps them all).
    if (this.operatorSettled.length > SETTLED_BY_OPERATOR_KEPT_MAX) this.operatorSettled.shift();
  }

  /** The out-of-service reasons, then what the operator should know without the kiosk stopping: the
   *  status report's reasons. */
  statusReasons(): string[] {
    return [
      ...this.reasons(),
      ...(this.depositFault ? [`deposit-fault: ${this.depositFault}`] : []),
      ...this.deps.recovery.depositReasons(),
      ...this.deps.devices.optionalReasons(),
      ...this.operatorSettled,
    ];
  }
  reasons(): string[] {
    const reasons: string[] = [];
    if (!this.startedNow) reasons.push('starting');
    if (this.journalProblem) reasons.push(`journal: ${this.journalProblem}`);
    if (this.withdrawalFault) reasons.push(`withdrawal-fault: ${this.withdrawalFault}`);
    if (!this.deps.hostConnected()) reasons.push('host-unreachable');
    reasons.push(...this.deps.devices.reasons(), ...this.deps.recovery.reasons());
    return reasons;
  }

  /** The menu may offer cash: the journal is open and clean, the dispenser ready, no fault outstanding. */
  withdrawalAvailable(): boolean {
    const journal = this.deps.journal();
    return journal !== undefined && this.deps.devices.dispenserReady && this.withdrawalFault === undefined && journal.unfinishedWithdrawals().length === 0;
  }

  /** The menu may offer a deposit: the journal is open, the acceptor ready, and no deposit unfinished. */
  depositAvailable(): boolean {
    const journal = this.deps.journal();
    return journal !== undefined && this.deps.devices.acceptorReady && this.depositFault === undefined && journal.unfinishedDeposits().length === 0;
  }

  /** Re-evaluates service state: idle kiosk ↔ out of service. */
  refresh(): void {
    if (this.stoppingNow) return;
    const reasons = this.reasons();
    const { session } = this.deps;
    if (reasons.length > 0 && session.screen === 'welcome') session.go('out-of-service');
    else if (reasons.length === 0 && session.screen === 'out-of-service' && this.startedNow) session.go('welcome');
    else this.emitState();
  }

  emitState(): void {
    if (this.stoppingNow) return;
    this.deps.emit(this.deps.snapshot());
  }

  /** The goodbye screen has been shown long enough: the next customer is welcome, if the kiosk can serve. */
  afterGoodbye(): void {
    const { session } = this.deps;
    if (session.screen !== 'goodbye') return;
    session.go(this.reasons().length > 0 ? 'out-of-service' : 'welcome');
    this.refresh();
  }
}
