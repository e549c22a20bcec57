// On start (and whenever a withdrawal or deposit was left unfinished), finish every withdrawal and deposit
// the journal holds before serving customers: ask the dispenser what left it, or the note acceptor what it
// stacked, then settle at the host with the journalled request ids, so a repeat of a request the host
// already applied changes nothing.
import { describe } from '../common/errors.js';
import { commitDeposit, resolveStacking, sendOpen, type AcceptCounterSource, type DepositDeps } from './deposit.js';
import { notesTotalCents } from './journal.js';
import { advanceWithdrawal, type WithdrawalDeps } from './withdrawal.js';

export interface RecoveryReport {
  readonly finished: number;
  /** Withdrawals still unfinished (host or dispenser not answering); try again later. */
  readonly pending: readonly { withdrawalId: string; step: string; reason: string }[];
}

export async function recoverWithdrawals(deps: WithdrawalDeps): Promise<RecoveryReport> {
  let finished = 0;
  const pending: { withdrawalId: string; step: string; reason: string }[] = [];
  for (const record of deps.journal.unfinishedWithdrawals()) {
    deps.log.info('recovering withdrawal', { withdrawalId: record.withdrawalId, step: record.step, amountCents: record.amountCents });
    const outcome = await advanceWithdrawal(deps, record, 'recovery');
    if (outcome.kind === 'unfinished') {
      pending.push({ withdrawalId: record.withdrawalId, step: outcome.record.step, reason: outcome.reason });
      deps.log.warn('withdrawal still unfinished', { withdrawalId: record.withdrawalId, step: outcome.record.step, reason: outcome.reason });
      continue;
    }
    finished++;
    const final = deps.journal.withdrawal(record.withdrawalId);
    deps.log.info('withdrawal recovered', {
      withdrawalId: record.withdrawalId,
      outcome: final?.outcome ?? outcome.kind,
      dispensedCents: final?.dispensedCents ?? 0,
    });
  }
  if (pending.length === 0 && finished > 0) await deps.journal.compact();
  return { finished, pending };
}

export interface DepositRecoveryDeps extends DepositDeps {
  /** The note acceptor, when it can answer now: only a deposit with a note whose stacking was
   *  interrupted needs it. */
  readonly acceptor: AcceptCounterSource | undefined;
}

export interface DepositRecoveryReport {
  readonly finished: number;
  /** Deposits still unfinished: the host or the acceptor not answering (try again later), or one a
   *  technician must decide (`needsTechnician`). */
  readonly pending: readonly { journalId: string; step: string; reason: string; needsTechnician: boolean }[];
}

/**
 * Finishes every deposit the journal holds unfinished, by its last journalled step:
 *  - `opening`: send deposit.open again with the journalled request id; the host's first answer opens it
 *    (then it is committed with no notes: none was taken before `open` was journalled); a refusal
 *    (NOT_SIGNED_IN: the host never got it) means nothing was opened.
 *  - `open`: a note journalled as `stacking` is resolved with the acceptor's accept counter (never
 *    guessed: an ambiguous one stays for a technician); then commit the stacked notes.
 *  - `committing`: commit again with the journalled request id (the host answers a repeat with its first
 *    answer, so nothing is credited twice).
 */
export async function recoverDeposits(deps: DepositRecoveryDeps): Promise<DepositRecoveryReport> {
  let finished = 0;
  const pending: { journalId: string; step: string; reason: string; needsTechnician: boolean }[] = [];
  for (const start of deps.journal.unfinishedDeposits()) {
    let record = start;
    const leave = (reason: string, needsTechnician = false) => {
      pending.push({ journalId: record.journalId, step: record.step, reason, needsTechnician });
      deps.log.warn('deposit still unfinished', { journalId: record.journalId, depositId: record.depositId, step: record.step, reason });
    };
    if (record.needsTechnician) {
      leave(record.needsTechnician, true);
      continue;
    }
    deps.log.info('recovering deposit', { journalId: record.journalId, depositId: record.depositId, step: record.step, stackedCents: notesTotalCents(record.stacked) });
    if (record.step === 'opening') {
      const opened = await sendOpen(deps, record, 'recovery');
      if (opened.kind === 'unfinished') {
        leave(opened.reason);
        continue;
      }
      record = opened.record;
      if (opened.kind === 'declined') {
        finished++;
        deps.log.info('deposit recovered: never opened', { journalId: record.journalId, code: opened.code });
        continue;
      }
    }
    if (record.step === 'open' && record.stacking) {
      let resolution;
      try {
        resolution = await resolveStacking(deps, record, deps.acceptor);
      } catch (error) {
        leave(describe(error));
        continue;
      }
      record = resolution.record;
      if (resolution.kind === 'ambiguous') {
        leave(resolution.reason, true);
        continue;
      }
    }
    const committed = await commitDeposit(deps, record, 'recovery');
    if (committed.kind === 'unfinished') {
      leave(committed.reason);
      continue;
    }
    finished++;
    deps.log.info('deposit recovered', {
      journalId: record.journalId,
      depositId: record.depositId,
      outcome: committed.record.outcome,
      creditedCents: committed.record.creditedCents ?? 0,
    });
  }
  if (pending.length === 0 && finished > 0) await deps.journal.compact();
  return { finished, pending };
}
