// The notes of a withdrawal wait in the dispenser's presenter until the customer takes them. A customer
// who does not take them in time has them retracted into the dispenser's bin, and is charged only for the
// notes that left the machine: the withdrawal is settled for what was dispensed less what was retracted
// (a reversal when that is nothing). Each step is journalled BEFORE it is taken, like the rest of the
// withdrawal (withdrawal.ts): `retracting` before RETRACT is sent, so that after a power loss recovery
// asks the dispenser (RETRACT is idempotent by transaction id: a repeat answers what was done), and
// recovery of a withdrawal whose notes were presented asks the same question, the customer being gone.
import { describe } from '../common/errors.js';
import type { RetractResult } from '../devices/dispenser/types.js';
import type { WithdrawalRecord } from './journal-records.js';

export type { CashPresentation } from './journal-records.js';

/** How long the customer has to take the notes before they are retracted (real ATMs give 20-45 s). */
export const CASH_TAKE_TIMEOUT_MS = 30_000;
/** The presenter is watched this often while notes wait in it. */
export const PRESENTER_POLL_MS = 500;

/** The journal's check of a record's presentation: retracted notes never more than were dispensed. */
export function validPresentation(record: WithdrawalRecord): boolean {
  const p = record.presentation;
  if (p === undefined) return true;
  if (p.state !== 'taken' && p.state !== 'retracting' && p.state !== 'retracted') return false;
  if (p.state !== 'retracted') return p.retractedNotes === undefined && p.retractedCents === undefined;
  const dispensed = record.dispensedNotes ?? [];
  return (
    Array.isArray(p.retractedNotes) &&
    p.retractedNotes.length === dispensed.length &&
    p.retractedNotes.every((n, i) => Number.isSafeInteger(n) && n >= 0 && n <= (dispensed[i] ?? 0)) &&
    p.retractedCents === p.retractedNotes.reduce((sum, n, i) => sum + n * (record.denominationsCents[i] ?? 0), 0)
  );
}

/** What the customer is charged: the notes dispensed less those retracted. */
export function chargedCents(record: WithdrawalRecord): number {
  return (record.dispensedCents ?? 0) - (record.presentation?.retractedCents ?? 0);
}

/** The presented notes' fate is still to be learned (taken, or retracted). */
export function presentationOpen(record: WithdrawalRecord): boolean {
  return record.step === 'dispensed' && (record.dispensedCents ?? 0) > 0 && record.presentation?.state !== 'taken' && record.presentation?.state !== 'retracted';
}

export interface PresenterDeps {
  /** The dispenser's state now ('presenting' while notes wait in the presenter). */
  presenterState(): Promise<string>;
  retract(transactionId: number): Promise<RetractResult>;
  save(changes: Partial<WithdrawalRecord>): Promise<WithdrawalRecord>;
  /** The notes are presented and the customer has until `deadlineMs` (live only). */
  onPresented?: ((deadlineMs: number) => void) | undefined;
  onStep?: ((point: 'cash-taken' | 'journalled-retracting' | 'notes-retracted' | 'journalled-retracted') => void) | undefined;
  now(): number;
  takeTimeoutMs: number;
  log: { warn(message: string, facts?: Record<string, unknown>): void };
}

export type PresentationResult = { kind: 'known'; record: WithdrawalRecord } | { kind: 'unknown'; reason: string };

/**
 * Learns what became of the presented notes. `live`: waits for the customer to take them, up to the
 * take timeout, then retracts them. `recovery`: the customer is gone; asks the dispenser with RETRACT
 * (which takes back notes still waiting, and says `taken` of notes that were taken).
 */
export async function settlePresentation(deps: PresenterDeps, start: WithdrawalRecord, mode: 'live' | 'recovery'): Promise<PresentationResult> {
  let record = start;
  if (record.presentation === undefined && mode === 'live') {
    const deadlineMs = deps.now() + deps.takeTimeoutMs;
    deps.onPresented?.(deadlineMs);
    for (;;) {
      let state: string | undefined;
      try {
        state = await deps.presenterState();
      } catch (error) {
        // Not knowing is not taken: at the deadline the retract asks the device what became of them.
        deps.log.warn('presenter state unknown while the notes wait', { error: describe(error) });
      }
      if (state !== undefined && state !== 'presenting') {
        record = await deps.save({ presentation: { state: 'taken' } });
        deps.onStep?.('cash-taken');
        return { kind: 'known', record };
      }
      if (deps.now() >= deadlineMs) break;
      await new Promise((resolve) => setTimeout(resolve, Math.min(PRESENTER_POLL_MS, Math.max(0, deadlineMs - deps.now()))));
    }
  }
  if (record.presentation === undefined) {
    record = await deps.save({ presentation: { state: 'retracting' } });
    deps.onStep?.('journalled-retracting');
  }
  let retracted: RetractResult;
  try {
    retracted = await deps.retract(record.transactionId);
  } catch (error) {
    return { kind: 'unknown', reason: `dispenser cannot say what became of transaction ${record.transactionId}'s notes: ${describe(error)}` };
  }
  deps.onStep?.('notes-retracted');
  const dispensed = record.dispensedNotes ?? [];
  if (retracted.outcome !== 'retracted') {
    // Taken by the customer (or forgotten by the device, which then never took them back): they left it.
    if (retracted.outcome === 'unknown') deps.log.warn('the dispenser does not know the transaction whose notes it presented; charging what it dispensed', { transactionId: record.transactionId });
    record = await deps.save({ presentation: { state: 'taken' } });
    return { kind: 'known', record };
  }
  if (retracted.retracted.length !== dispensed.length || retracted.retracted.some((n, i) => n > (dispensed[i] ?? 0))) {
    // More back than went out would be money nobody can account for: a device fault to stop on.
    throw new Error(`dispenser retracted ${JSON.stringify(retracted.retracted)} of ${JSON.stringify(dispensed)} dispensed`);
  }
  const retractedCents = retracted.retracted.reduce((sum, n, i) => sum + n * (record.denominationsCents[i] ?? 0), 0);
  record = await deps.save({ presentation: { state: 'retracted', retractedNotes: retracted.retracted, retractedCents } });
  deps.onStep?.('journalled-retracted');
  return { kind: 'known', record };
}
