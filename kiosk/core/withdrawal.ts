// One withdrawal: authorize at the host → dispense → complete with what was actually dispensed (or
// reverse when nothing was). Every step is journalled and fdatasync'd BEFORE it is taken, so a power
// loss at any point leaves a journal from which recovery.ts finishes the withdrawal exactly once:
// the host requests reuse the journalled request ids (the host answers a repeat with its first answer)
// and the dispenser is asked what it did by its transaction id, never told to dispense again.
import { randomInt, randomUUID } from 'node:crypto';
import { newRequestId } from '../../protocol/envelope.js';
import type { ChannelClient } from '../../protocol/client.js';
import { ProtocolError, type ErrorCode } from '../../protocol/errors.js';
import type { Logger } from '../../protocol/log.js';
import { describe } from '../common/errors.js';
import { MAX_TRANSACTION_ID } from '../devices/dispenser/messages.js';
import { planNotes, type CassetteStock } from '../../protocol/note-plan.js';
import type { CashDispenser, DispenseErrorCode } from '../devices/dispenser/types.js';
import { CASH_TAKE_TIMEOUT_MS, chargedCents, presentationOpen, settlePresentation, type PresenterDeps } from './cash-presentation.js';
import type { KioskJournal, WithdrawalRecord } from './journal.js';

/** Authorization retries (same request id) until this long after the customer confirmed; past it the
 *  customer has waited long enough and recovery finishes whatever the host did. */
export const AUTHORIZE_DEADLINE_MS = 15_000;
/** Completion/reversal retries in the customer's presence; recovery keeps trying after this. */
export const SETTLE_DEADLINE_MS = 20_000;
/** One host request; the host answers in milliseconds, a slow scrypt-free operation in well under 1 s. */
export const WITHDRAWAL_REQUEST_TIMEOUT_MS = 5_000;
/** Rounds of LAST_DISPENSE while the device still reports a dispense in progress. */
export const DISPENSE_IN_PROGRESS_QUERIES_MAX = 30;
export const DISPENSE_IN_PROGRESS_QUERY_INTERVAL_MS = 1_000;

/** Named points between steps, for the power-loss tests: the hook runs right after the named event. */
export type WithdrawalCrashPoint =
  | 'journalled-authorizing' // before withdraw.authorize is sent
  | 'host-authorized' // the host placed the hold; the journal does not know its id yet
  | 'journalled-authorized'
  | 'journalled-dispensing' // before DISPENSE is sent
  | 'notes-dispensed' // notes moved; the journal does not know yet
  | 'journalled-dispensed' // the notes wait in the presenter
  | 'cash-taken' // the customer took them, journalled
  | 'journalled-retracting' // not taken in time: before RETRACT is sent
  | 'notes-retracted' // the dispenser answered RETRACT; the journal does not know yet
  | 'journalled-retracted'
  | 'host-settled'; // the host completed/reversed; the journal still says dispensed

export const WITHDRAWAL_CRASH_POINTS: readonly WithdrawalCrashPoint[] = [
  'journalled-authorizing',
  'host-authorized',
  'journalled-authorized',
  'journalled-dispensing',
  'notes-dispensed',
  'journalled-dispensed',
  'cash-taken',
  'journalled-retracting',
  'notes-retracted',
  'journalled-retracted',
  'host-settled',
];

export interface WithdrawalDeps {
  readonly client: ChannelClient;
  readonly dispenser: CashDispenser;
  readonly journal: KioskJournal;
  readonly log: Logger;
  readonly now: () => number;
  /** An operator settled this withdrawal's hold before the kiosk could (the host answered
   *  SETTLED_BY_OPERATOR): the journal record is closed, and the kiosk says so in its status. */
  readonly onSettledByOperator?: ((record: WithdrawalRecord) => void) | undefined;
  /** Test-only: called at each crash point (the power-loss tests SIGKILL the process there). */
  readonly onStep?: ((point: WithdrawalCrashPoint) => void) | undefined;
  /** The notes are in the presenter; the customer has until `deadlineMs` to take them (live only). */
  readonly onPresented?: ((record: WithdrawalRecord, deadlineMs: number) => void) | undefined;
  /** Overrides of the retry budgets (tests shorten them); the named constants above otherwise. */
  readonly deadlines?: Partial<WithdrawalDeadlines> | undefined;
  /** Asked as the notes are presented: a longer time to take them while the kiosk is in speech mode
   *  (undefined: `deadlines`' or CASH_TAKE_TIMEOUT_MS). Asked then, not when the withdrawal starts, so a
   *  headset plugged in while the notes are counted still gives the listener its time. */
  readonly speechCashTakeMs?: (() => number | undefined) | undefined;
}

export interface WithdrawalDeadlines {
  readonly authorizeDeadlineMs: number;
  readonly settleDeadlineMs: number;
  /** How long presented notes wait for the customer before they are retracted. */
  readonly cashTakeTimeoutMs: number;
}

export type WithdrawalOutcome =
  /** Notes were presented (all, or fewer after a short dispense) and the host posted what left. */
  | { readonly kind: 'dispensed'; readonly record: WithdrawalRecord; readonly short: boolean; readonly dispenseError?: DispenseErrorCode }
  /** The host refused; nothing was held or dispensed. */
  | { readonly kind: 'declined'; readonly code: ErrorCode }
  /** The amount cannot be paid from the cassettes as they are now; nothing was asked of the host. */
  | { readonly kind: 'not-payable' }
  /** The customer did not take the notes in time: the dispenser took them back and the customer was
   *  charged only for what left it (`record.presentation.retractedCents` not charged). */
  | { readonly kind: 'retracted'; readonly record: WithdrawalRecord }
  /** The dispenser moved no notes; the hold was released. */
  | { readonly kind: 'dispense-failed'; readonly record: WithdrawalRecord; readonly dispenseError?: DispenseErrorCode }
  /** The host or the dispenser stopped answering mid-way; the journal holds the withdrawal and recovery
   *  finishes it (the kiosk is out of service until then). `record.dispensedCents` says what the
   *  customer got, when known. */
  | { readonly kind: 'unfinished'; readonly record: WithdrawalRecord; readonly reason: string };

export function notesValueCents(notes: readonly number[], denominationsCents: readonly number[]): number {
  return notes.reduce((sum, n, i) => sum + n * (denominationsCents[i] ?? 0), 0);
}

/** Plans, journals and runs one withdrawal in the customer's presence. */
export async function runWithdrawal(
  deps: WithdrawalDeps,
  request: { accountId: string; amountCents: number; cassettes: readonly CassetteStock[] },
): Promise<WithdrawalOutcome> {
  const planned = planNotes(request.amountCents, request.cassettes);
  if (!planned) return { kind: 'not-payable' };
  const record: WithdrawalRecord = {
    withdrawalId: randomUUID(),
    step: 'authorizing',
    accountId: request.accountId,
    amountCents: request.amountCents,
    plannedNotes: planned,
    denominationsCents: request.cassettes.map((c) => c.denominationCents),
    transactionId: randomInt(1, MAX_TRANSACTION_ID),
    authorizeRequestId: newRequestId(),
    settleRequestId: newRequestId(),
    updatedMs: deps.now(),
  };
  await deps.journal.record(record);
  deps.onStep?.('journalled-authorizing');
  return advanceWithdrawal(deps, record, 'live');
}

/**
 * Drives a journalled withdrawal from its step to the end. `live`: the customer is at the kiosk, so an
 * authorized withdrawal is dispensed. `recovery`: the customer is gone, so nothing is dispensed any more;
 * a withdrawal is completed for what the dispenser says left it, or reversed.
 */
export async function advanceWithdrawal(deps: WithdrawalDeps, start: WithdrawalRecord, mode: 'live' | 'recovery'): Promise<WithdrawalOutcome> {
  let record = start;
  let dispenseError: DispenseErrorCode | undefined;
  const save = async (changes: Partial<WithdrawalRecord>): Promise<WithdrawalRecord> => {
    record = { ...record, ...changes, updatedMs: deps.now() };
    await deps.journal.record(record);
    return record;
  };

  if (record.step === 'authorizing') {
    let authorizationId: string;
    try {
      const result = await deps.client.requestWithRetry(
        'withdraw.authorize',
        { accountId: record.accountId, amountCents: record.amountCents },
        { requestId: record.authorizeRequestId, deadlineMs: deps.now() + (deps.deadlines?.authorizeDeadlineMs ?? AUTHORIZE_DEADLINE_MS), timeoutMs: WITHDRAWAL_REQUEST_TIMEOUT_MS },
      );
      authorizationId = result.authorizationId;
      if (result.amountCents !== record.amountCents) throw new Error(`host authorized ${result.amountCents} cents, asked ${record.amountCents}`);
    } catch (error) {
      if (error instanceof ProtocolError && !error.retryable) {
        await save({ step: 'declined', outcome: 'declined', declineCode: error.code });
        return { kind: 'declined', code: error.code };
      }
      return { kind: 'unfinished', record, reason: `authorization unanswered: ${describe(error)}` };
    }
    deps.onStep?.('host-authorized');
    await save({ step: 'authorized', authorizationId });
    deps.onStep?.('journalled-authorized');
  }

  if (record.step === 'authorized') {
    if (mode === 'recovery') {
      // The customer left (or the kiosk restarted) before any note moved.
      await save({ step: 'dispensed', dispensedNotes: record.plannedNotes.map(() => 0), dispensedCents: 0 });
    } else {
      await save({ step: 'dispensing' });
      deps.onStep?.('journalled-dispensing');
      const dispensed = await dispenseOnce(deps, record);
      if (dispensed.kind === 'unknown') return { kind: 'unfinished', record, reason: dispensed.reason };
      dispenseError = dispensed.error;
      deps.onStep?.('notes-dispensed');
      await save({ step: 'dispensed', dispensedNotes: dispensed.notes, dispensedCents: notesValueCents(dispensed.notes, record.denominationsCents) });
      deps.onStep?.('journalled-dispensed');
    }
  }

  if (record.step === 'dispensing') {
    // Only reached in recovery: DISPENSE may or may not have been sent. Ask, never resend.
    const asked = await askDispenser(deps, record.transactionId, record.plannedNotes.length);
    if (asked.kind === 'unknown') return { kind: 'unfinished', record, reason: asked.reason };
    await save({ step: 'dispensed', dispensedNotes: asked.notes, dispensedCents: notesValueCents(asked.notes, record.denominationsCents) });
  }

  if (presentationOpen(record)) {
    const presenter: PresenterDeps = {
      presenterState: async () => (await deps.dispenser.status()).state,
      retract: (transactionId) => deps.dispenser.retract(transactionId),
      save,
      onPresented: (deadlineMs) => deps.onPresented?.(record, deadlineMs),
      onStep: (point) => deps.onStep?.(point),
      now: deps.now,
      takeTimeoutMs: deps.speechCashTakeMs?.() ?? deps.deadlines?.cashTakeTimeoutMs ?? CASH_TAKE_TIMEOUT_MS,
      log: deps.log,
    };
    const presented = await settlePresentation(presenter, record, mode);
    if (presented.kind === 'unknown') return { kind: 'unfinished', record, reason: presented.reason };
    record = presented.record;
  }

  if (record.step === 'dispensed') {
    const settled = await settleWithdrawal(deps, record);
    if (settled.kind === 'unfinished') return { kind: 'unfinished', record, reason: settled.reason };
    deps.onStep?.('host-settled');
    await save({ step: 'settled', outcome: settled.outcome, postedCents: settled.postedCents });
  }

  if (record.step === 'declined') return { kind: 'declined', code: (record.declineCode ?? 'INTERNAL') as ErrorCode };
  if ((record.presentation?.retractedCents ?? 0) > 0) return { kind: 'retracted', record };
  const dispensedCents = record.dispensedCents ?? 0;
  if (dispensedCents === 0) return { kind: 'dispense-failed', record, ...(dispenseError ? { dispenseError } : {}) };
  return {
    kind: 'dispensed',
    record,
    short: dispensedCents < record.amountCents,
    ...(dispenseError ? { dispenseError } : {}),
  };
}

type DispenseAnswer = { kind: 'known'; notes: number[]; error?: DispenseErrorCode } | { kind: 'unknown'; reason: string };

async function dispenseOnce(deps: WithdrawalDeps, record: WithdrawalRecord): Promise<DispenseAnswer> {
  try {
    const result = await deps.dispenser.dispense({ transactionId: record.transactionId, notes: [...record.plannedNotes] });
    checkDispensed(result.dispensed, record.plannedNotes);
    return { kind: 'known', notes: result.dispensed, ...(result.error ? { error: result.error } : {}) };
  } catch (error) {
    deps.log.warn('dispense failed; asking the dispenser what it did', { transactionId: record.transactionId, error: describe(error) });
    // Whatever failed (driver not open, line lost), the device is the only witness of what moved.
    return askDispenser(deps, record.transactionId, record.plannedNotes.length);
  }
}

async function askDispenser(deps: WithdrawalDeps, transactionId: number, cassettes: number): Promise<DispenseAnswer> {
  for (let round = 1; round <= DISPENSE_IN_PROGRESS_QUERIES_MAX; round++) {
    let answer;
    try {
      answer = await deps.dispenser.queryDispense(transactionId);
    } catch (error) {
      return { kind: 'unknown', reason: `dispenser cannot say what transaction ${transactionId} did: ${describe(error)}` };
    }
    // The device records a transaction before its first note moves, so "not found" proves none did.
    if (!answer.found) return { kind: 'known', notes: new Array<number>(cassettes).fill(0) };
    if (!answer.inProgress) return { kind: 'known', notes: answer.dispensed, ...(answer.error ? { error: answer.error } : {}) };
    await new Promise((resolve) => setTimeout(resolve, DISPENSE_IN_PROGRESS_QUERY_INTERVAL_MS));
  }
  return { kind: 'unknown', reason: `transaction ${transactionId} still in progress after ${DISPENSE_IN_PROGRESS_QUERIES_MAX} queries` };
}

function checkDispensed(dispensed: readonly number[], planned: readonly number[]): void {
  // The device may pay less than asked (short pick, jam), never more: more would be money the host
  // cannot post, so it is a device fault to stop on, not a number to pass on.
  if (dispensed.length !== planned.length || dispensed.some((n, i) => !Number.isSafeInteger(n) || n < 0 || n > (planned[i] ?? 0))) {
    throw new Error(`dispenser reported ${JSON.stringify(dispensed)} for a plan of ${JSON.stringify(planned)}`);
  }
}

type Settlement = { kind: 'settled'; outcome: 'completed' | 'reversed' | 'settled-by-operator'; postedCents: number } | { kind: 'unfinished'; reason: string };

/** Completes for what the customer got (dispensed, less any notes retracted), or reverses when that is
 *  nothing; one request id. */
async function settleWithdrawal(deps: WithdrawalDeps, record: WithdrawalRecord): Promise<Settlement> {
  const authorizationId = record.authorizationId;
  const dispensedCents = chargedCents(record);
  if (authorizationId === undefined) throw new Error(`withdrawal ${record.withdrawalId} reached settlement without an authorization`);
  const options = { requestId: record.settleRequestId, deadlineMs: deps.now() + (deps.deadlines?.settleDeadlineMs ?? SETTLE_DEADLINE_MS), timeoutMs: WITHDRAWAL_REQUEST_TIMEOUT_MS };
  try {
    if (dispensedCents > 0) {
      const result = await deps.client.requestWithRetry('withdraw.complete', { authorizationId, dispensedCents }, options);
      if (result.postedCents !== dispensedCents) throw new Error(`host posted ${result.postedCents} cents for ${dispensedCents} dispensed`);
      return { kind: 'settled', outcome: 'completed', postedCents: result.postedCents };
    }
    await deps.client.requestWithRetry('withdraw.reverse', { authorizationId }, options);
    return { kind: 'settled', outcome: 'reversed', postedCents: 0 };
  } catch (error) {
    if (error instanceof ProtocolError && error.code === 'SETTLED_BY_OPERATOR') {
      // An operator settled the hold before the kiosk could. The host recorded what the kiosk dispensed as
      // an exception for the bank; the kiosk closes its record (keeping dispensedNotes) and says so.
      deps.log.warn('withdrawal settled by an operator before the kiosk; the host recorded the dispense as an exception', {
        withdrawalId: record.withdrawalId,
        authorizationId,
        dispensedCents,
      });
      deps.onSettledByOperator?.(record);
      return { kind: 'settled', outcome: 'settled-by-operator', postedCents: 0 };
    }
    if (error instanceof ProtocolError && (error.code === 'AUTHORIZATION_SETTLED' || error.code === 'UNKNOWN_AUTHORIZATION')) {
      // Settled elsewhere (or not ours): retrying can never succeed. The log line is the operator's cue
      // to compare with this kiosk's cash count.
      deps.log.error('withdrawal settled elsewhere; operator must reconcile', {
        withdrawalId: record.withdrawalId,
        authorizationId,
        dispensedCents,
        code: error.code,
      });
      return { kind: 'settled', outcome: dispensedCents > 0 ? 'completed' : 'reversed', postedCents: 0 };
    }
    return { kind: 'unfinished', reason: `settlement unanswered: ${describe(error)}` };
  }
}
