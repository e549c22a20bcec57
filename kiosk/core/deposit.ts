// One deposit of counted notes, as journalled steps: open at the host → stack notes (each journalled as
// stacking, with the acceptor's accept counter, before ROUTE, and as stacked before anything else hears
// of it) → commit exactly the stacked notes. Every step is fdatasync'd BEFORE it is taken, and both host
// requests reuse request ids chosen with the first line, so a power loss at any point leaves a journal
// from which recovery (recovery.ts) finishes the deposit with the customer credited exactly for the notes
// in the stacker: never a note in escrow, never a stacked note twice, never one missed. What the customer
// sees and does (the screen, the buttons, the acceptor's events) is flows/note-deposit.ts.
import { randomUUID } from 'node:crypto';
import type { ChannelClient } from '../../protocol/client.js';
import { newRequestId } from '../../protocol/envelope.js';
import { ProtocolError, type ErrorCode } from '../../protocol/errors.js';
import type { Logger } from '../../protocol/log.js';
import type { ResultOf } from '../../protocol/messages.js';
import { describe } from '../common/errors.js';
import { resolveInterruptedStack } from '../devices/note-acceptor/interrupted-stack.js';
import { addNotes, notesTotalCents, type DepositRecord, type KioskJournal, type NoteTally } from './journal.js';

/** deposit.open retries (same request id) in the customer's presence. */
export const DEPOSIT_OPEN_DEADLINE_MS = 15_000;
/** deposit.commit retries in the customer's presence; recovery keeps trying after this. */
export const DEPOSIT_COMMIT_DEADLINE_MS = 20_000;
/** One host request. */
export const DEPOSIT_REQUEST_TIMEOUT_MS = 5_000;

/** Named points between steps, for the power-loss tests: the hook runs right after the named event. */
export type DepositCrashPoint =
  | 'journalled-opening' // before deposit.open is sent
  | 'host-opened' // the host opened the deposit; the journal does not know its id yet
  | 'note-in-escrow' // a note is held in escrow; nothing journalled for it
  | 'journalled-stacking' // the note is journalled as stacking (with the accept counter); ROUTE not sent yet
  | 'note-stacked' // the acceptor reported the note stacked; the journal does not know yet
  | 'journalled-stacked'
  | 'journalled-committing' // before deposit.commit is sent
  | 'host-committed'; // the host credited the notes; the journal still says committing

export const DEPOSIT_CRASH_POINTS: readonly DepositCrashPoint[] = [
  'journalled-opening',
  'host-opened',
  'note-in-escrow',
  'journalled-stacking',
  'note-stacked',
  'journalled-stacked',
  'journalled-committing',
  'host-committed',
];

/** What a deposit needs of the note acceptor: the count of notes it ever stacked, when it keeps one. */
export interface AcceptCounterSource {
  acceptCounter?(): Promise<number>;
}

export interface DepositDeps {
  readonly client: ChannelClient;
  readonly journal: KioskJournal;
  readonly log: Logger;
  readonly now: () => number;
  /** The notes this kiosk's acceptor is configured (and found) to take. */
  readonly acceptedCents: readonly number[];
  /** Test-only: called at each crash point (the power-loss tests SIGKILL the process there). */
  readonly onStep?: ((point: DepositCrashPoint) => void) | undefined;
  readonly deadlines?: Partial<DepositDeadlines> | undefined;
}

export interface DepositDeadlines {
  readonly openDeadlineMs: number;
  readonly commitDeadlineMs: number;
}

export type OpenOutcome =
  | { readonly kind: 'open'; readonly record: DepositRecord }
  /** The host refused (or, in recovery, never received) the open: nothing is open, nothing was taken. */
  | { readonly kind: 'declined'; readonly record: DepositRecord; readonly code: ErrorCode }
  /** No answer in time: the journal holds the open and recovery asks again with the same request id. */
  | { readonly kind: 'unfinished'; readonly record: DepositRecord; readonly reason: string };

export type CommitOutcome =
  | { readonly kind: 'committed'; readonly record: DepositRecord; readonly result: ResultOf<'deposit.commit'> }
  /** The host refused the notes (a deposit it committed otherwise, or does not know): for an operator. */
  | { readonly kind: 'refused'; readonly record: DepositRecord; readonly code: ErrorCode }
  | { readonly kind: 'unfinished'; readonly record: DepositRecord; readonly reason: string };

/** The journal's next line for `record`: the same record with `changes`, written and fdatasync'd. */
export async function saveDeposit(deps: Pick<DepositDeps, 'journal' | 'now'>, record: DepositRecord, changes: Partial<DepositRecord>): Promise<DepositRecord> {
  const next: DepositRecord = { ...record, ...changes, updatedMs: deps.now() };
  await deps.journal.record(next);
  return next;
}

/** Journals a new deposit into `accountId` and opens it at the host. */
export async function openDeposit(deps: DepositDeps, accountId: string): Promise<OpenOutcome> {
  const record: DepositRecord = {
    kind: 'deposit',
    journalId: randomUUID(),
    step: 'opening',
    accountId,
    openRequestId: newRequestId(),
    commitRequestId: newRequestId(),
    stacked: [],
    updatedMs: deps.now(),
  };
  await deps.journal.record(record);
  deps.onStep?.('journalled-opening');
  return sendOpen(deps, record, 'live');
}

/** Sends (or, in recovery, sends again with the same request id) the journalled open. The host answers a
 *  repeat with its first answer, session or not; an open it never received is refused (NOT_SIGNED_IN on
 *  a connection without a customer), which proves nothing is open. */
export async function sendOpen(deps: DepositDeps, record: DepositRecord, mode: 'live' | 'recovery'): Promise<OpenOutcome> {
  if (record.step !== 'opening') throw new Error(`deposit ${record.journalId} is ${record.step}, not opening`);
  let opened: ResultOf<'deposit.open'>;
  try {
    opened = await deps.client.requestWithRetry(
      'deposit.open',
      { accountId: record.accountId },
      {
        requestId: record.openRequestId,
        deadlineMs: deps.now() + (mode === 'live' ? (deps.deadlines?.openDeadlineMs ?? DEPOSIT_OPEN_DEADLINE_MS) : DEPOSIT_REQUEST_TIMEOUT_MS),
        timeoutMs: DEPOSIT_REQUEST_TIMEOUT_MS,
      },
    );
  } catch (error) {
    if (error instanceof ProtocolError && !error.retryable) {
      const declined = await saveDeposit(deps, record, { step: 'declined', outcome: 'declined', declineCode: error.code });
      return { kind: 'declined', record: declined, code: error.code };
    }
    return { kind: 'unfinished', record, reason: `deposit.open unanswered: ${describe(error)}` };
  }
  deps.onStep?.('host-opened');
  // The acceptor takes only notes both ends agree on: the host commits no other.
  const denominationsCents = deps.acceptedCents.filter((cents) => opened.denominationsCents.includes(cents)).sort((a, b) => a - b);
  const open = await saveDeposit(deps, record, {
    step: 'open',
    depositId: opened.depositId,
    denominationsCents,
    remainingTodayCents: opened.remainingTodayCents,
  });
  return { kind: 'open', record: open };
}

/** Journals that the note the acceptor holds is about to be stacked, with the accept counter read just
 *  before (when the acceptor keeps one). */
export async function journalStacking(deps: DepositDeps, record: DepositRecord, valueCents: number, acceptCounterBefore: number | undefined): Promise<DepositRecord> {
  const next = await saveDeposit(deps, record, { stacking: { valueCents, ...(acceptCounterBefore !== undefined ? { acceptCounterBefore } : {}) } });
  deps.onStep?.('journalled-stacking');
  return next;
}

/** Journals one stacked note; it ends the stacking of a note of that value, if one was journalled. */
export async function journalStacked(deps: DepositDeps, record: DepositRecord, note: NoteTally): Promise<DepositRecord> {
  const next = await saveDeposit(deps, record, { stacked: addNotes(record.stacked, [note]), stacking: undefined });
  deps.onStep?.('journalled-stacked');
  return next;
}

export type StackingResolution = { readonly kind: 'resolved'; readonly record: DepositRecord } | { readonly kind: 'ambiguous'; readonly record: DepositRecord; readonly reason: string };

/** A note journalled as stacking whose outcome no event told: the acceptor's accept counter says whether
 *  it reached the stacker. When it cannot say (no counter, or a difference other than 0 or 1), the deposit
 *  is kept unfinished for a technician: the kiosk never guesses. */
export async function resolveStacking(deps: DepositDeps, record: DepositRecord, acceptor: AcceptCounterSource | undefined): Promise<StackingResolution> {
  const stacking = record.stacking;
  if (!stacking) return { kind: 'resolved', record };
  const before = stacking.acceptCounterBefore;
  let after: number | undefined;
  let why = '';
  if (before === undefined) why = 'no accept counter was read before the note was stacked';
  else if (!acceptor?.acceptCounter) why = 'the note acceptor keeps no accept counter';
  else {
    try {
      after = await acceptor.acceptCounter();
    } catch (error) {
      // The acceptor cannot answer now: not ambiguous, just not yet known. The caller tries again later.
      throw new Error(`the note acceptor's accept counter cannot be read: ${describe(error)}`);
    }
  }
  const verdict = before !== undefined && after !== undefined ? resolveInterruptedStack(before, after) : 'ambiguous';
  deps.log.info('interrupted stack resolved', { journalId: record.journalId, valueCents: stacking.valueCents, before, after, verdict });
  if (verdict === 'stacked') {
    return { kind: 'resolved', record: await saveDeposit(deps, record, { stacked: addNotes(record.stacked, [{ denominationCents: stacking.valueCents, count: 1 }]), stacking: undefined }) };
  }
  if (verdict === 'not-stacked') return { kind: 'resolved', record: await saveDeposit(deps, record, { stacking: undefined }) };
  const reason = `a ${stacking.valueCents}-cent note may or may not have been stacked (${why || `accept counter ${before} before, ${after} after`})`;
  deps.log.error('deposit needs a technician: an interrupted stack cannot be resolved', { journalId: record.journalId, depositId: record.depositId, reason });
  return { kind: 'ambiguous', record: await saveDeposit(deps, record, { needsTechnician: reason }), reason };
}

/** Journals `committing` (if not already) and commits exactly the stacked notes with the journalled
 *  request id. No notes closes the deposit at the host without a credit. */
export async function commitDeposit(deps: DepositDeps, start: DepositRecord, mode: 'live' | 'recovery'): Promise<CommitOutcome> {
  let record = start;
  if (record.stacking) throw new Error(`deposit ${record.journalId} cannot be committed while a note's stacking is unresolved`);
  const depositId = record.depositId;
  if (depositId === undefined) throw new Error(`deposit ${record.journalId} has no host deposit id`);
  if (record.step === 'open') {
    record = await saveDeposit(deps, record, { step: 'committing' });
    deps.onStep?.('journalled-committing');
  }
  if (record.step !== 'committing') throw new Error(`deposit ${record.journalId} is ${record.step}, not committing`);
  const expectedCents = notesTotalCents(record.stacked);
  let result: ResultOf<'deposit.commit'>;
  try {
    result = await deps.client.requestWithRetry(
      'deposit.commit',
      { depositId, notes: record.stacked.map((n) => ({ denominationCents: n.denominationCents, count: n.count })) },
      {
        requestId: record.commitRequestId,
        deadlineMs: deps.now() + (mode === 'live' ? (deps.deadlines?.commitDeadlineMs ?? DEPOSIT_COMMIT_DEADLINE_MS) : DEPOSIT_REQUEST_TIMEOUT_MS),
        timeoutMs: DEPOSIT_REQUEST_TIMEOUT_MS,
      },
    );
  } catch (error) {
    if (error instanceof ProtocolError && !error.retryable) {
      // DEPOSIT_SETTLED, UNKNOWN_DEPOSIT, BAD_NOTES: the host will never take these notes for this
      // deposit. The notes are in the cashbox; the bank's operator reconciles from this log line.
      deps.log.error('deposit commit refused; operator must reconcile the cashbox', {
        journalId: record.journalId,
        depositId: record.depositId,
        stackedCents: expectedCents,
        code: error.code,
      });
      const refused = await saveDeposit(deps, record, { step: 'done', outcome: 'refused', declineCode: error.code });
      return { kind: 'refused', record: refused, code: error.code };
    }
    return { kind: 'unfinished', record, reason: `deposit.commit unanswered: ${describe(error)}` };
  }
  deps.onStep?.('host-committed');
  // Money moved on the host's sum of the notes: it must be the kiosk's sum, to the cent.
  if (result.creditedCents !== expectedCents || result.availableNowCents + result.heldCents !== result.creditedCents) {
    throw new Error(`host credited ${result.creditedCents} cents (${result.availableNowCents} now, ${result.heldCents} held) for ${expectedCents} cents of notes`);
  }
  const done = await saveDeposit(deps, record, {
    step: 'done',
    outcome: expectedCents > 0 ? 'credited' : 'closed-empty',
    creditedCents: result.creditedCents,
    availableNowCents: result.availableNowCents,
    heldCents: result.heldCents,
    ...(result.releaseAtMs !== undefined ? { releaseAtMs: result.releaseAtMs } : {}),
    ...(result.postingId !== undefined ? { postingId: result.postingId } : {}),
  });
  return { kind: 'committed', record: done, result };
}
