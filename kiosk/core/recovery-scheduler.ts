// When the kiosk finishes the withdrawals and deposits its journal holds unfinished (recovery.ts does the
// finishing): at start before the first customer, whenever the host connection comes back, and on the
// controller's timer, but only when there is something to finish, no customer's transaction is using the
// host, the dispenser or the note acceptor, and what recovery needs is there. Until no withdrawal is left
// the kiosk is out of service, with the reason recovery last gave; an unfinished deposit only stops
// deposits (the kiosk can still pay out), and one a technician must decide stays until they do.
import type { Logger } from '../../protocol/log.js';
import { describe } from '../common/errors.js';
import type { KioskJournal } from './journal.js';
import { recoverDeposits, recoverWithdrawals, type DepositRecoveryDeps } from './recovery.js';
import type { WithdrawalDeps } from './withdrawal.js';
import { presentationOpen } from './cash-presentation.js';

export interface RecoverySchedulerDeps {
  readonly journal: () => KioskJournal | undefined;
  readonly hostConnected: () => boolean;
  readonly dispenserAvailable: () => boolean;
  readonly acceptorAvailable: () => boolean;
  /** False while a customer's transaction is running or the kiosk is stopping. */
  readonly mayRun: () => boolean;
  /** A customer's withdrawal or deposit is in progress: its journal record is not for recovery yet. */
  readonly transactionLive: () => boolean;
  readonly withdrawalDeps: () => WithdrawalDeps;
  /** Undefined when the kiosk has no note acceptor configured (its journal then holds no deposit, or
   *  one from before the acceptor was removed, which needs no acceptor unless a note was being stacked). */
  readonly depositDeps: () => DepositRecoveryDeps;
  readonly log: Logger;
  /** A run ended: the service state may have changed. */
  readonly onChange: () => void;
}

export class RecoveryScheduler {
  private running: Promise<void> | undefined;
  /** Why the last attempt left a withdrawal unfinished. */
  private problem: string | undefined;
  /** Why the last attempt left a deposit unfinished. */
  private depositProblem: string | undefined;

  constructor(private readonly deps: RecoverySchedulerDeps) {}

  /** Runs recovery when there is something to recover and what it needs is there; a caller arriving
   *  while it runs waits for that run (start() must not return before it finishes). */
  runIfNeeded(): Promise<void> {
    this.running ??= this.runOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** A withdrawal in the customer's presence stopped half-way, for `reason`. */
  noteUnfinished(reason: string): void {
    this.problem = reason;
  }

  /** A deposit in the customer's presence stopped half-way, for `reason`. */
  noteDepositUnfinished(reason: string): void {
    this.depositProblem = reason;
  }

  /** 'recovery-pending: …' while the journal holds an unfinished withdrawal: out of service. */
  reasons(): string[] {
    const unfinished = this.deps.journal()?.unfinishedWithdrawals().length ?? 0;
    if (unfinished === 0 || this.deps.transactionLive()) return [];
    return [`recovery-pending: ${unfinished} unfinished withdrawal(s)${this.problem ? ` (${this.problem})` : ''}`];
  }

  /** 'deposit-pending: …' while the journal holds an unfinished deposit: no deposits until it is done.
   *  Not an out-of-service reason: the kiosk still serves every other transaction. */
  depositReasons(): string[] {
    const unfinished = this.deps.journal()?.unfinishedDeposits() ?? [];
    if (unfinished.length === 0 || this.deps.transactionLive()) return [];
    const technician = unfinished.find((r) => r.needsTechnician);
    if (technician) return [`deposit-needs-technician: ${technician.needsTechnician ?? ''} (deposit ${technician.depositId ?? technician.journalId})`];
    return [`deposit-pending: ${unfinished.length} unfinished deposit(s)${this.depositProblem ? ` (${this.depositProblem})` : ''}`];
  }

  private async runOnce(): Promise<void> {
    const { deps } = this;
    const journal = deps.journal();
    if (!journal || !deps.mayRun() || !deps.hostConnected()) return;
    const withdrawals = journal.unfinishedWithdrawals();
    // Only a deposit that is not waiting for a technician can be finished; it needs the acceptor only
    // when a note's stacking was interrupted.
    const deposits = journal.unfinishedDeposits().filter((r) => !r.needsTechnician);
    if (withdrawals.length === 0 && deposits.length === 0) return;
    try {
      // Only a withdrawal that may have reached the dispenser needs it; the rest need just the host.
      const needsDispenser = withdrawals.some((r) => r.step === 'dispensing' || presentationOpen(r));
      if (withdrawals.length > 0 && (!needsDispenser || deps.dispenserAvailable())) {
        const report = await recoverWithdrawals(deps.withdrawalDeps());
        this.problem = report.pending[0]?.reason;
      }
      const needsAcceptor = deposits.some((r) => r.stacking !== undefined);
      if (deposits.length > 0 && (!needsAcceptor || deps.acceptorAvailable())) {
        const report = await recoverDeposits(deps.depositDeps());
        this.depositProblem = report.pending[0]?.reason;
      } else if (needsAcceptor) {
        this.depositProblem = 'waiting for the note acceptor to say whether a note was stacked';
      }
    } catch (error) {
      this.problem = describe(error);
      deps.log.error('recovery failed', { error: this.problem });
    } finally {
      deps.onChange();
    }
  }
}
