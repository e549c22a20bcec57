// A cash withdrawal in the customer's presence: the limits checked before anything is sent (an amount
// outside one is answered on the amount screen with the limit), the dispenser's current cassettes, then the
// journalled two-phase withdrawal (withdrawal.ts: authorize, dispense, complete or reverse), then what the
// customer is told about its outcome. Whatever the withdrawal leaves unfinished, recovery finishes later.
import { describe } from '../../common/errors.js';
import type { ErrorCode } from '../../../protocol/errors.js';
import type { CassetteStock } from '../../../protocol/note-plan.js';
import { checkCents, requireScreen } from '../command-checks.js';
import type { Notice } from '../ui-contract.js';
import { runWithdrawal, type WithdrawalCrashPoint, type WithdrawalDeps, type WithdrawalOutcome } from '../withdrawal.js';
import { payingNotesCents, withdrawalLimitNotice } from '../withdrawal-limits.js';
import { accountOrDefault, updateAccounts } from './accounts.js';
import type { FlowContext } from './context.js';
import { customerRequestOptions } from './customer-request.js';
import type { ReceiptChoice } from './receipt-choice.js';

export interface WithdrawDeps {
  readonly receipts: ReceiptChoice;
  /** What runWithdrawal needs, with `onStep` called at each step as well as the test hook, and
   *  `onPresented` when the notes wait for the customer. */
  withdrawalDeps(onStep?: (point: WithdrawalCrashPoint) => void, onPresented?: WithdrawalDeps['onPresented']): WithdrawalDeps;
  /** The dispenser reported its cassettes (the fast-cash offers follow them). */
  noteCassettes(cassettes: CassetteStock[]): void;
  /** What the dispenser last reported it holds. */
  cassettes(): readonly CassetteStock[];
  /** The withdrawal stopped half-way; recovery will finish it and says why it could not yet. */
  noteUnfinished(reason: string): void;
  /** A journal write failed or a money invariant broke: no withdrawal until a technician has looked. */
  noteWithdrawalFault(reason: string): void;
}

/** `receipt`: the customer asked for a receipt on the confirmation, before any cash moved; it is printed
 *  once the cash is taken. */
export async function withdraw(ctx: FlowContext, deps: WithdrawDeps, amountCents: number, accountId?: string, receipt = false): Promise<void> {
  const { session, visit, log } = ctx;
  requireScreen(session, 'withdraw');
  checkCents(amountCents);
  const account = accountOrDefault(session, accountId);
  const journal = ctx.journal();
  const devices = ctx.devices();
  if (!journal) {
    session.setNotice({ code: 'WITHDRAWAL_UNAVAILABLE' });
    return;
  }
  // Nothing is sent for an amount outside a limit: the amount screen says which, in the customer's words.
  const refusal = withdrawalLimitNotice(amountCents, limitFacts(ctx, deps, account));
  if (refusal) {
    log.info('withdrawal refused at the kiosk for a limit', { code: refusal.code, amountCents, limitCents: refusal.amountCents ?? null });
    session.setNotice(refusal);
    return;
  }
  const confirmedAtMs = ctx.now();
  await visit.operate(async (epoch) => {
    let cassettes: CassetteStock[];
    let cassettesReady: boolean;
    try {
      const status = await devices.dispenser.status();
      cassettes = status.cassettes.map((c) => ({ denominationCents: c.denominationCents, count: c.count }));
      deps.noteCassettes(cassettes);
      cassettesReady = status.state === 'ready';
    } catch (error) {
      log.warn('dispenser status failed before a withdrawal', { error: describe(error) });
      await visit.end({ code: 'DISPENSER_UNAVAILABLE' });
      return;
    }
    if (!cassettesReady) {
      await visit.end({ code: 'DISPENSER_UNAVAILABLE' });
      return;
    }
    let outcome: WithdrawalOutcome;
    try {
      const withdrawalDeps = deps.withdrawalDeps(
        (point) => {
          if (point === 'notes-dispensed') ctx.recordTiming('withdraw-confirm-to-cash', ctx.now() - confirmedAtMs);
        },
        (record, deadlineMs) => {
          if (!visit.isCurrent(epoch)) return;
          // "Take your cash", with the seconds left before the notes are taken back.
          session.view = { kind: 'take-cash', dispensedCents: record.dispensedCents ?? 0, secondsToTake: Math.max(1, Math.ceil((deadlineMs - ctx.now()) / 1_000)) };
          session.go('take-cash');
        },
      );
      outcome = await runWithdrawal(withdrawalDeps, { accountId: account, amountCents, cassettes });
    } catch (error) {
      // A journal write failed (disk full, failing card) or a money invariant broke: the kiosk must not
      // take another withdrawal until a technician has looked; the journal shows what is open.
      const fault = describe(error);
      deps.noteWithdrawalFault(fault);
      log.error('withdrawal fault', { error: fault });
      await visit.end({ code: 'TRANSACTION_INCOMPLETE' });
      return;
    }
    if (!visit.isCurrent(epoch)) return;
    await tellOutcome(ctx, deps, outcome, account, amountCents, receipt);
  });
}

async function tellOutcome(ctx: FlowContext, deps: WithdrawDeps, outcome: WithdrawalOutcome, account: string, amountCents: number, receipt: boolean): Promise<void> {
  const { session, visit } = ctx;
  switch (outcome.kind) {
    case 'not-payable':
      session.go('withdraw', { code: 'NOT_PAYABLE', notesCents: payingNotesCents(deps.cassettes()), requestedCents: amountCents });
      return;
    case 'declined':
      if (outcome.code === 'NOT_SIGNED_IN' || outcome.code === 'SESSION_EXPIRED') {
        await visit.end({ code: outcome.code });
      } else {
        session.go('withdraw', await refusalNotice(ctx, deps, outcome.code, account, amountCents));
      }
      return;
    case 'dispense-failed':
      // The hold was released; the customer's money is untouched.
      await visit.end({ code: outcome.dispenseError === 'jam' ? 'DISPENSER_JAM' : 'DISPENSE_FAILED' });
      return;
    case 'unfinished': {
      deps.noteUnfinished(outcome.reason);
      const dispensedCents = outcome.record.dispensedCents;
      await visit.end({ code: outcome.record.step === 'authorizing' ? 'HOST_UNAVAILABLE' : 'TRANSACTION_INCOMPLETE', ...(dispensedCents !== undefined ? { amountCents: dispensedCents } : {}) });
      return;
    }
    case 'retracted': {
      // The notes went back into the machine and were not charged; a real ATM ends the session here.
      const retractedCents = outcome.record.presentation?.retractedCents ?? 0;
      await visit.end({ code: 'CASH_RETRACTED', amountCents: retractedCents });
      return;
    }
    case 'dispensed': {
      const { record } = outcome;
      const dispensedCents = record.dispensedCents ?? 0;
      const customer = session.customer;
      if (customer?.dailyWithdrawalRemainingCents !== undefined) {
        session.customer = { ...customer, dailyWithdrawalRemainingCents: Math.max(0, customer.dailyWithdrawalRemainingCents - dispensedCents) };
      }
      // The balance as it now is: for the receipt, and for the limits of another transaction.
      const after = await balanceAfter(ctx, account);
      session.view = { kind: 'withdrawal', amountCents, dispensedCents, short: outcome.short };
      let notice: Notice | undefined = outcome.short ? { code: 'SHORT_DISPENSE', amountCents: dispensedCents } : undefined;
      if (receipt) {
        const printed = await deps.receipts.printNow('withdrawal', amountCents, {
          dispensedCents,
          accountId: account,
          ...(record.authorizationId ? { authorizationId: record.authorizationId } : {}),
          ...(after ? { balanceAfterCents: after.balanceCents, availableAfterCents: after.availableCents } : {}),
        });
        // A short dispense matters more than the receipt, which the customer holds anyway.
        notice ??= printed;
      }
      session.go('another-transaction', notice);
      return;
    }
  }
}

/** The account after a withdrawal, from the host; undefined when it does not answer (the receipt then
 *  goes without a balance). */
async function balanceAfter(ctx: FlowContext, accountId: string) {
  try {
    const account = await ctx.client().requestWithRetry('balance', { accountId }, customerRequestOptions(ctx));
    updateAccounts(ctx.session, [account]);
    return account;
  } catch (error) {
    ctx.log.info('balance after a withdrawal not fetched', { error: describe(error) });
    return undefined;
  }
}

function limitFacts(ctx: FlowContext, deps: WithdrawDeps, accountId: string) {
  const customer = ctx.session.customer;
  return {
    withdrawalMaxCents: customer?.withdrawalMaxCents,
    dailyWithdrawalRemainingCents: customer?.dailyWithdrawalRemainingCents,
    availableCents: customer?.accounts.find((a) => a.accountId === accountId)?.availableCents,
    cassettes: deps.cassettes(),
  };
}

/** A refusal from the host (a race the kiosk's own check could not see: another kiosk spent the money, the
 *  daily total moved) in the same words as the kiosk's own check, with the limit as the kiosk now knows it. */
async function refusalNotice(ctx: FlowContext, deps: WithdrawDeps, code: ErrorCode, accountId: string, amountCents: number): Promise<Notice> {
  const requested = { requestedCents: amountCents };
  const customer = ctx.session.customer;
  switch (code) {
    case 'LIMIT_EXCEEDED':
      return { code, ...(customer?.withdrawalMaxCents !== undefined ? { amountCents: customer.withdrawalMaxCents } : {}), ...requested };
    case 'DAILY_LIMIT_EXCEEDED':
      return { code, ...(customer?.dailyWithdrawalRemainingCents !== undefined ? { amountCents: customer.dailyWithdrawalRemainingCents } : {}), ...requested };
    case 'NOT_DISPENSABLE':
      return { code: 'NOT_PAYABLE', notesCents: payingNotesCents(deps.cassettes()), ...requested };
    case 'INSUFFICIENT_FUNDS': {
      // The balance the customer saw is out of date: ask, so the notice names what is available now.
      try {
        const account = await ctx.client().requestWithRetry('balance', { accountId }, customerRequestOptions(ctx));
        updateAccounts(ctx.session, [account]);
        return { code, amountCents: Math.max(0, account.availableCents), ...requested };
      } catch (error) {
        ctx.log.info('balance after a refusal not fetched', { error: describe(error) });
        return { code, ...requested };
      }
    }
    default:
      return { code, ...requested };
  }
}
