// Whether the kiosk may serve customers, and why not. It gathers the out-of-service reasons (not started,
// the journal, a withdrawal fault, the host, the devices, recovery), moves an idle kiosk between welcome
// and out-of-service as they come and go, and sends the UI each new snapshot.
import type { WithdrawalJournal } from './journal.js';
import type { CustomerSession } from './session.js';
import type { KioskSnapshot } from './ui-contract.js';

export interface ServiceStateDeps {
  readonly session: CustomerSession;
  readonly hostConnected: () => boolean;
  readonly journal: () => WithdrawalJournal | undefined;
  readonly devices: { reasons(): string[]; readonly dispenserReady: boolean };
  readonly recovery: { reasons(): string[] };
  readonly snapshot: () => KioskSnapshot;
  readonly emit: (snapshot: KioskSnapshot) => void;
}

export class ServiceState {
  private startedNow = false;
  private stoppingNow = false;
  private journalProblem: string | undefined;
  /** Sticky until restart: a withdrawal failed in a way the kiosk cannot explain (see flows/withdraw.ts). */
  private withdrawalFault: string | undefined;

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
    return journal !== undefined && this.deps.devices.dispenserReady && this.withdrawalFault === undefined && journal.unfinished().length === 0;
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
