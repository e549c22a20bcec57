// When the kiosk finishes the withdrawals its journal holds unfinished (recovery.ts does the finishing):
// at start before the first customer, whenever the host connection comes back, and on the controller's
// timer, but only when there is something to finish, no customer's transaction is using the host or the
// dispenser, and what recovery needs is there. Until the journal is clean the kiosk is out of service, with
// the reason recovery last gave.
import type { Logger } from '../../protocol/log.js';
import { describe } from '../common/errors.js';
import type { WithdrawalJournal } from './journal.js';
import { recoverWithdrawals } from './recovery.js';
import type { WithdrawalDeps } from './withdrawal.js';

export interface RecoverySchedulerDeps {
  readonly journal: () => WithdrawalJournal | undefined;
  readonly hostConnected: () => boolean;
  readonly dispenserAvailable: () => boolean;
  /** False while a customer's transaction is running or the kiosk is stopping. */
  readonly mayRun: () => boolean;
  readonly withdrawalDeps: () => WithdrawalDeps;
  readonly log: Logger;
  /** A run ended: the service state may have changed. */
  readonly onChange: () => void;
}

export class RecoveryScheduler {
  private running: Promise<void> | undefined;
  /** Why the last attempt left a withdrawal unfinished. */
  private problem: string | undefined;

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

  /** 'recovery-pending: …' while the journal holds an unfinished withdrawal. */
  reasons(): string[] {
    const unfinished = this.deps.journal()?.unfinished().length ?? 0;
    if (unfinished === 0) return [];
    return [`recovery-pending: ${unfinished} unfinished withdrawal(s)${this.problem ? ` (${this.problem})` : ''}`];
  }

  private async runOnce(): Promise<void> {
    const { deps } = this;
    const journal = deps.journal();
    if (!journal || !deps.mayRun() || journal.unfinished().length === 0) return;
    // Only a withdrawal that may have reached the dispenser needs it; the rest need just the host.
    const needsDispenser = journal.unfinished().some((r) => r.step === 'dispensing');
    if (!deps.hostConnected() || (needsDispenser && !deps.dispenserAvailable())) return;
    try {
      const report = await recoverWithdrawals(deps.withdrawalDeps());
      this.problem = report.pending[0]?.reason;
    } catch (error) {
      this.problem = describe(error);
      deps.log.error('recovery failed', { error: this.problem });
    } finally {
      deps.onChange();
    }
  }
}
