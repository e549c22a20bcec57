// The invariants of the journal's records, checked before a record is written and after it is read:
// money moves on these fields, so a record that breaks one is never acted on (journal.ts).
import { validPresentation } from './cash-presentation.js';
import {
  DEPOSIT_NOTES_MAX,
  DEPOSIT_DENOMINATIONS_MAX,
  JOURNAL_UNFINISHED_MAX,
  notesTotalCents,
  type CashboxRecord,
  type DepositRecord,
  type DepositStep,
  type JournalRecord,
  type NoteTally,
  type WithdrawalRecord,
  type WithdrawalStep,
} from './journal-records.js';

const STEPS: readonly WithdrawalStep[] = ['authorizing', 'authorized', 'dispensing', 'dispensed', 'settled', 'declined'];

const DEPOSIT_STEPS: readonly DepositStep[] = ['opening', 'open', 'committing', 'done', 'declined'];

/** Checked before writing and after reading: money moves on these fields. */
export function checkRecord(record: JournalRecord): void {
  if (record.kind === 'deposit') return checkDeposit(record);
  if (record.kind === 'cashbox') return checkCashbox(record);
  checkWithdrawal(record);
}

function checkWithdrawal(record: WithdrawalRecord): void {
  const ok =
    (record.kind === undefined || record.kind === 'withdrawal') &&
    typeof record.withdrawalId === 'string' &&
    record.withdrawalId.length > 0 &&
    STEPS.includes(record.step) &&
    Number.isSafeInteger(record.amountCents) &&
    record.amountCents > 0 &&
    Array.isArray(record.plannedNotes) &&
    Array.isArray(record.denominationsCents) &&
    record.plannedNotes.length === record.denominationsCents.length &&
    record.plannedNotes.reduce((sum, n, i) => sum + n * (record.denominationsCents[i] ?? 0), 0) === record.amountCents &&
    Number.isSafeInteger(record.transactionId) &&
    record.transactionId > 0 &&
    (record.dispensedCents === undefined || (Number.isSafeInteger(record.dispensedCents) && record.dispensedCents >= 0 && record.dispensedCents <= record.amountCents)) &&
    ((record.step !== 'authorized' && record.step !== 'dispensing' && record.step !== 'dispensed') || typeof record.authorizationId === 'string') &&
    (record.step !== 'dispensed' || record.dispensedCents !== undefined) &&
    validPresentation(record);
  if (!ok) throw new Error(`journal: withdrawal record ${String(record.withdrawalId)} at step ${String(record.step)} breaks an invariant`);
}

/** Denominations ascending, each once, positive whole cents; counts whole and at least 1. */
function validTallies(notes: unknown, maxNotes: number): boolean {
  if (!Array.isArray(notes) || notes.length > DEPOSIT_DENOMINATIONS_MAX) return false;
  let last = 0;
  let total = 0;
  for (const n of notes as NoteTally[]) {
    if (!Number.isSafeInteger(n?.denominationCents) || n.denominationCents <= last || !Number.isSafeInteger(n.count) || n.count < 1) return false;
    last = n.denominationCents;
    total += n.count;
  }
  return total <= maxNotes;
}

function checkDeposit(record: DepositRecord): void {
  const opened = record.step !== 'opening' && record.step !== 'declined';
  const ok =
    typeof record.journalId === 'string' &&
    record.journalId.length > 0 &&
    DEPOSIT_STEPS.includes(record.step) &&
    typeof record.accountId === 'string' &&
    typeof record.openRequestId === 'string' &&
    typeof record.commitRequestId === 'string' &&
    record.openRequestId !== record.commitRequestId &&
    validTallies(record.stacked, DEPOSIT_NOTES_MAX) &&
    // No note is taken before the host opened the deposit, and every note is one the acceptor was enabled for.
    (opened ? typeof record.depositId === 'string' && Array.isArray(record.denominationsCents) : record.stacked.length === 0 && record.stacking === undefined) &&
    record.stacked.every((n) => record.denominationsCents?.includes(n.denominationCents)) &&
    (record.stacking === undefined ||
      (record.step === 'open' &&
        record.denominationsCents?.includes(record.stacking.valueCents) === true &&
        (record.stacking.acceptCounterBefore === undefined || (Number.isSafeInteger(record.stacking.acceptCounterBefore) && record.stacking.acceptCounterBefore >= 0)))) &&
    // A commit names the notes once and for all: nothing may be being stacked then.
    (record.step !== 'committing' || record.stacking === undefined) &&
    (record.step !== 'done' || record.stacking === undefined) &&
    // What the host credited is exactly the notes stacked.
    ((record.outcome !== 'credited' && record.outcome !== 'closed-empty') || record.creditedCents === notesTotalCents(record.stacked));
  if (!ok) throw new Error(`journal: deposit record ${String(record.journalId)} at step ${String(record.step)} breaks an invariant`);
}

function checkCashbox(record: CashboxRecord): void {
  const ok =
    validTallies(record.notes, Number.MAX_SAFE_INTEGER) &&
    Array.isArray(record.counted) &&
    record.counted.length <= JOURNAL_UNFINISHED_MAX * 2 &&
    record.counted.every((c) => typeof c.journalId === 'string' && validTallies(c.notes, DEPOSIT_NOTES_MAX));
  if (!ok) throw new Error('journal: the cashbox record breaks an invariant');
}

