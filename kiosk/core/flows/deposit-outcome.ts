// What the customer is told once a deposit is committed (or could not be): the credit on the screen and
// the receipt question, or the goodbye with the amount, or the menu with why nothing was credited; and the
// notice codes a deposit may show.
import type { NoteAcceptorFaultCode, RejectReason } from '../../devices/note-acceptor/types.js';
import type { CommitOutcome } from '../deposit.js';
import { notesTotalCents } from '../journal.js';
import type { Notice } from '../ui-contract.js';
import { updateAccounts } from './accounts.js';
import type { FlowContext } from './context.js';
import type { ReceiptChoice } from './receipt-choice.js';

/** Why a deposit stops taking notes. */
export type FinishReason =
  /** The customer pressed Done. */
  | 'done'
  /** The deposit screen's Cancel: back to the menu, or to the receipt if notes were stacked. */
  | 'cancel-deposit'
  /** The visit ends (the header's Cancel, inactivity, the host lost): credit what was stacked, then goodbye. */
  | 'end-visit'
  /** The acceptor reported a fault or stopped answering. */
  | 'fault'
  /** The visit already ended some other way: finish without the customer. */
  | 'visit-ended';

export const FAULT_NOTICES: Partial<Record<NoteAcceptorFaultCode, string>> = {
  jam: 'NOTE_ACCEPTOR_JAM',
  'stacker-full': 'NOTE_ACCEPTOR_FULL',
};

export const REJECT_NOTICES: Record<RejectReason, string> = {
  invalid: 'NOTE_REJECTED_INVALID',
  transport: 'NOTE_REJECTED_TRANSPORT',
  inhibited: 'NOTE_REJECTED_NOT_TAKEN',
  'inhibited-by-switch': 'NOTE_REJECTED_NOT_TAKEN',
  disabled: 'NOTE_REJECTED_NOT_TAKEN',
  barcode: 'NOTE_REJECTED_BARCODE',
};

export interface OutcomeDeps {
  readonly receipts: ReceiptChoice;
  noteUnfinished(reason: string): void;
}

export interface OutcomeContext {
  readonly accountId: string;
  readonly reason: FinishReason;
  readonly faultNotice: Notice | undefined;
  /** The customer is still at the kiosk, on the deposit's screen. */
  readonly present: boolean;
}

/** Tells the customer how a committed (or refused, or unfinished) deposit ended. */
export async function tellOutcome(ctx: FlowContext, deps: OutcomeDeps, committed: CommitOutcome, { accountId, reason, faultNotice, present }: OutcomeContext): Promise<void> {
  const { session, visit, log } = ctx;
  const countedCents = notesTotalCents(committed.record.stacked);
  if (committed.kind === 'unfinished') {
    deps.noteUnfinished(committed.reason);
    if (present) await visit.end({ code: 'DEPOSIT_UNCONFIRMED', amountCents: countedCents });
    return;
  }
  if (committed.kind === 'refused') {
    if (present) await visit.end({ code: 'DEPOSIT_REVIEW', amountCents: countedCents });
    return;
  }
  const { result } = committed;
  log.info('deposit committed', { depositId: committed.record.depositId, creditedCents: result.creditedCents, heldCents: result.heldCents });
  if (!present) return;
  updateAccounts(session, [result.account]);
  const customer = session.customer;
  if (customer?.depositRemainingTodayCents !== undefined) {
    session.customer = { ...customer, depositRemainingTodayCents: Math.max(0, customer.depositRemainingTodayCents - result.creditedCents) };
  }
  if (result.creditedCents === 0) {
    if (reason === 'end-visit') await visit.end(faultNotice);
    else if (reason === 'fault') await visit.end(faultNotice ?? { code: 'DEPOSIT_STOPPED' });
    else {
      session.view = undefined;
      session.go('menu', { code: reason === 'cancel-deposit' ? 'DEPOSIT_CANCELLED' : 'DEPOSIT_NO_NOTES' });
    }
    return;
  }
  session.view = {
    kind: 'deposit',
    notes: committed.record.stacked,
    creditedCents: result.creditedCents,
    availableNowCents: result.availableNowCents,
    heldCents: result.heldCents,
    ...(result.releaseAtMs !== undefined ? { releaseAtMs: result.releaseAtMs } : {}),
    account: result.account,
  };
  deps.receipts.offer('deposit', result.creditedCents, {
    accountId: accountId,
    notes: committed.record.stacked,
    availableNowCents: result.availableNowCents,
    heldCents: result.heldCents,
    ...(result.releaseAtMs !== undefined ? { releaseAtMs: result.releaseAtMs } : {}),
    ...(result.postingId !== undefined ? { postingId: result.postingId } : {}),
    balanceAfterCents: result.account.balanceCents,
  });
  if (reason === 'end-visit') {
    // The customer is gone (or leaving): the goodbye says what was credited.
    await visit.end({ code: faultNotice?.code === 'TIMEOUT' ? 'DEPOSIT_CREDITED_TIMEOUT' : 'DEPOSIT_CREDITED', amountCents: result.creditedCents });
    return;
  }
  const notice: Notice | undefined =
    reason === 'cancel-deposit' ? { code: 'DEPOSIT_CANCELLED_CREDITED', amountCents: result.creditedCents } : reason === 'fault' ? { ...(faultNotice ?? { code: 'DEPOSIT_STOPPED' }), amountCents: result.creditedCents } : undefined;
  session.go('receipt', notice);
}

/** For the docs and tests: the notice codes this flow may show. */
export const DEPOSIT_NOTICE_CODES: readonly string[] = [
  'DEPOSIT_UNAVAILABLE',
  'DEPOSIT_LIMIT_EXCEEDED',
  'DEPOSIT_LIMIT_REACHED',
  'DEPOSIT_NOTES_MAX',
  'DEPOSIT_STOPPED',
  'DEPOSIT_REVIEW',
  'DEPOSIT_UNCONFIRMED',
  'DEPOSIT_INCOMPLETE',
  'DEPOSIT_CANCELLED',
  'DEPOSIT_CANCELLED_CREDITED',
  'DEPOSIT_NO_NOTES',
  'DEPOSIT_CREDITED',
  'DEPOSIT_CREDITED_TIMEOUT',
  'NOTE_RETURNED',
  'NOTE_ACCEPTOR_JAM',
  'NOTE_ACCEPTOR_FULL',
  ...new Set(Object.values(REJECT_NOTICES)),
];

