// On start (and whenever a withdrawal was left unfinished), finish every withdrawal the journal holds
// before serving customers: ask the dispenser what left it, then complete or reverse at the host with
// the journalled request ids, so a repeat of a request the host already applied changes nothing.
import { advanceWithdrawal, type WithdrawalDeps } from './withdrawal.js';

export interface RecoveryReport {
  readonly finished: number;
  /** Withdrawals still unfinished (host or dispenser not answering); try again later. */
  readonly pending: readonly { withdrawalId: string; step: string; reason: string }[];
}

export async function recoverWithdrawals(deps: WithdrawalDeps): Promise<RecoveryReport> {
  let finished = 0;
  const pending: { withdrawalId: string; step: string; reason: string }[] = [];
  for (const record of deps.journal.unfinished()) {
    deps.log.info('recovering withdrawal', { withdrawalId: record.withdrawalId, step: record.step, amountCents: record.amountCents });
    const outcome = await advanceWithdrawal(deps, record, 'recovery');
    if (outcome.kind === 'unfinished') {
      pending.push({ withdrawalId: record.withdrawalId, step: outcome.record.step, reason: outcome.reason });
      deps.log.warn('withdrawal still unfinished', { withdrawalId: record.withdrawalId, step: outcome.record.step, reason: outcome.reason });
      continue;
    }
    finished++;
    const final = deps.journal.get(record.withdrawalId);
    deps.log.info('withdrawal recovered', {
      withdrawalId: record.withdrawalId,
      outcome: final?.outcome ?? outcome.kind,
      dispensedCents: final?.dispensedCents ?? 0,
    });
  }
  if (pending.length === 0 && finished > 0) await deps.journal.compact();
  return { finished, pending };
}
