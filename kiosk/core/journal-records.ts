// The journal's records and their constants: what the kiosk knows of each withdrawal and deposit and of
// the note acceptor's cashbox (journal.ts writes and reads them; journal-checks.ts holds their invariants).

export const JOURNAL_FILE = 'kiosk.journal';
/** The name of the file before it held deposits too; renamed to JOURNAL_FILE when found. */
export const LEGACY_JOURNAL_FILE = 'withdrawals.journal';
/** Rewrite the file with only unfinished records (and the cashbox) once it grows past this. */
export const JOURNAL_COMPACT_AT_BYTES = 256 * 1_024;
/** A kiosk runs one withdrawal or deposit at a time; more unfinished ones of a kind than this means
 *  something loops. */
export const JOURNAL_UNFINISHED_MAX = 16;
/** Denominations one deposit may hold (the protocol's bound). */
export const DEPOSIT_DENOMINATIONS_MAX = 16;
/** Notes one deposit may hold (the protocol's NOTES_PER_DEPOSIT_MAX). */
export const DEPOSIT_NOTES_MAX = 500;

/**
 * Steps, in order. Each is written BEFORE the action that follows it:
 *  - `authorizing`: about to send withdraw.authorize with `authorizeRequestId`.
 *  - `authorized`:  the host placed a hold (`authorizationId`); nothing dispensed yet.
 *  - `dispensing`:  about to send DISPENSE with `transactionId`; notes may move from here on.
 *  - `dispensed`:   the dispenser reported `dispensedNotes`, presented to the customer; once `presentation`
 *                   says they were taken or retracted (cash-presentation.ts), settled for the difference.
 *  - `settled`:     the host answered the completion or reversal; nothing left to do.
 *  - `declined`:    the host refused the authorization (or never received it); nothing held.
 */
export type WithdrawalStep = 'authorizing' | 'authorized' | 'dispensing' | 'dispensed' | 'settled' | 'declined';
export const FINAL_STEPS: ReadonlySet<WithdrawalStep> = new Set(['settled', 'declined']);

export interface WithdrawalRecord {
  /** Absent in lines written before the journal held deposits. */
  readonly kind?: 'withdrawal';
  readonly withdrawalId: string;
  readonly step: WithdrawalStep;
  readonly accountId: string;
  readonly amountCents: number;
  /** Notes per cassette planned for this amount, and the denominations they were planned from. */
  readonly plannedNotes: readonly number[];
  readonly denominationsCents: readonly number[];
  /** The dispenser's transaction id: how the kiosk asks the device what it did after a crash. */
  readonly transactionId: number;
  readonly authorizeRequestId: string;
  /** Used for the one completion OR reversal, so a retry after a crash cannot settle twice. */
  readonly settleRequestId: string;
  readonly authorizationId?: string;
  readonly dispensedNotes?: readonly number[];
  readonly dispensedCents?: number;
  readonly presentation?: CashPresentation;
  readonly postedCents?: number;
  /** `settled-by-operator`: an operator settled the hold before the kiosk could; the host recorded the
   *  kiosk's figure as an exception and this record keeps what the kiosk dispensed. */
  readonly outcome?: 'completed' | 'reversed' | 'declined' | 'settled-by-operator';
  readonly declineCode?: string;
  readonly updatedMs: number;
}

/** Notes of one denomination. */
export interface NoteTally {
  readonly denominationCents: number;
  readonly count: number;
}

/**
 * Deposit steps. Each is written BEFORE the action that follows it:
 *  - `opening`:    about to send deposit.open with `openRequestId`; no note is taken before `open`.
 *  - `open`:       the host opened `depositId`; the acceptor takes notes. Every stacked note is in
 *                  `stacked`, written before the screen or anything else hears of it; `stacking` names
 *                  the note a ROUTE(stack) is about to be, or was, sent for, with the acceptor's accept
 *                  counter read just before.
 *  - `committing`: no more notes; about to send deposit.commit with `commitRequestId` and `stacked`.
 *  - `done`:       the host answered the commit (a credit, or a closed deposit with no notes).
 *  - `declined`:   the host refused the open (or never received it); nothing was taken.
 */
export type DepositStep = 'opening' | 'open' | 'committing' | 'done' | 'declined';
export const FINAL_DEPOSIT_STEPS: ReadonlySet<DepositStep> = new Set(['done', 'declined']);

export interface StackingNote {
  readonly valueCents: number;
  /** The acceptor's non-volatile count of notes stacked, read before ROUTE(stack); absent when the
   *  driver cannot read one (then an interrupted stack cannot be resolved and goes to a technician). */
  readonly acceptCounterBefore?: number;
}

export interface DepositRecord {
  readonly kind: 'deposit';
  /** The kiosk's own id for the deposit, known before the host's `depositId`. */
  readonly journalId: string;
  readonly step: DepositStep;
  readonly accountId: string;
  readonly openRequestId: string;
  /** Chosen with the first line, so every commit, live or in recovery, is the same request. */
  readonly commitRequestId: string;
  readonly depositId?: string;
  /** The notes the acceptor was enabled for: the host's list and the kiosk's, both. */
  readonly denominationsCents?: readonly number[];
  readonly remainingTodayCents?: number;
  /** The notes stacked so far, by denomination (ascending), each count at least 1. */
  readonly stacked: readonly NoteTally[];
  readonly stacking?: StackingNote;
  /** Recovery could not tell whether `stacking` reached the stacker: a technician decides; the kiosk
   *  takes no deposit until then. */
  readonly needsTechnician?: string;
  readonly outcome?: 'credited' | 'closed-empty' | 'declined' | 'refused';
  readonly declineCode?: string;
  readonly creditedCents?: number;
  readonly availableNowCents?: number;
  readonly heldCents?: number;
  readonly releaseAtMs?: number;
  readonly postingId?: string;
  readonly updatedMs: number;
}

/** The note acceptor's cashbox: notes stacked since it was last emptied. Its count is `notes` plus the
 *  `stacked` notes of every deposit record still in the journal, less what `counted` says of that deposit
 *  (compaction folds finished deposits into `notes`; emptying the cashbox records every deposit's notes so
 *  far as `counted`, so that only notes stacked after it count). */
export interface CashboxRecord {
  readonly kind: 'cashbox';
  readonly notes: readonly NoteTally[];
  readonly counted: readonly { readonly journalId: string; readonly notes: readonly NoteTally[] }[];
  readonly emptiedMs?: number;
  readonly updatedMs: number;
}

export type JournalRecord = WithdrawalRecord | DepositRecord | CashboxRecord;

/** `notes` plus `more`, by denomination ascending. */
export function addNotes(notes: readonly NoteTally[], more: readonly NoteTally[]): NoteTally[] {
  const byValue = new Map<number, number>();
  for (const n of [...notes, ...more]) byValue.set(n.denominationCents, (byValue.get(n.denominationCents) ?? 0) + n.count);
  return [...byValue].filter(([, count]) => count > 0).sort(([a], [b]) => a - b).map(([denominationCents, count]) => ({ denominationCents, count }));
}

/** `notes` less `less`, by denomination (never below zero). */
export function subtractNotes(notes: readonly NoteTally[], less: readonly NoteTally[]): NoteTally[] {
  return addNotes(
    notes.map((n) => ({ denominationCents: n.denominationCents, count: Math.max(0, n.count - (less.find((l) => l.denominationCents === n.denominationCents)?.count ?? 0)) })),
    [],
  );
}

export function notesTotalCents(notes: readonly NoteTally[]): number {
  return notes.reduce((sum, n) => sum + n.denominationCents * n.count, 0);
}

export function notesCount(notes: readonly NoteTally[]): number {
  return notes.reduce((sum, n) => sum + n.count, 0);
}

/** What became of a withdrawal's presented notes (cash-presentation.ts takes each step). */
export interface CashPresentation {
  /** `taken`: the customer took the notes; `retracting`: RETRACT is about to be sent; `retracted`: the
   *  dispenser took back `retractedNotes` (per cassette), worth `retractedCents`. */
  readonly state: 'taken' | 'retracting' | 'retracted';
  readonly retractedNotes?: readonly number[];
  readonly retractedCents?: number;
}
