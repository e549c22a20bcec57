// Every message type of the channel: the body a request carries and the result a success returns.
// Bodies are validated at the edge with these schemas; inside, code trusts the parsed types.
// Money is always an integer number of cents.
import { z } from 'zod';
import { EPP_CERTIFICATE_MAX_CHARS, PEK_KEY_BLOCK_MAX_CHARS } from './limits.js';

/** Largest amount any single message may carry: $1,000,000.00. Host limits are far lower. */
export const MAX_MESSAGE_AMOUNT_CENTS = 100_000_000;
export const HISTORY_PAGE_SIZE_MAX = 50;
export const ACTIVITY_PAGE_SIZE_MAX = 50;
/** Denominations one kiosk may name (cassettes, or notes its acceptor takes). */
export const DENOMINATIONS_MAX = 16;
/** The most notes one deposit may hold: more than any escrow-and-stack session takes before the
 *  customer confirms, far below what would overflow an amount. */
export const NOTES_PER_DEPOSIT_MAX = 500;
/** The largest note any kiosk handles: $1,000.00. */
export const DENOMINATION_MAX_CENTS = 100_000;

const amountCents = z.number().int().positive().max(MAX_MESSAGE_AMOUNT_CENTS);
const nonNegativeCents = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const signedCents = z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const username = z.string().regex(/^[a-z0-9][a-z0-9._-]{2,31}$/, 'username: 3-32 of a-z 0-9 . _ -, starting with a letter or digit');
// Length bounds keep a huge password from tying up scrypt; the policy itself is checked by the host.
const password = z.string().min(1).max(128);
const pan = z.string().regex(/^[0-9]{12,19}$/);
const timestampMs = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
/** An AES-CMAC key check value: 10 hex digits (protocol/key-block.ts). */
const kcv = z.string().regex(/^[0-9A-F]{10}$/);

export const accountSummary = z.object({
  accountId: id,
  kind: z.enum(['chequing', 'savings']),
  currency: z.string().length(3),
  balanceCents: signedCents,
  availableCents: signedCents,
});
export type AccountSummary = z.infer<typeof accountSummary>;

export const sessionInfo = z.object({
  customerId: id,
  username,
  accounts: z.array(accountSummary),
  /** Set for card sign-ins: last four digits only. */
  cardLast4: z.string().regex(/^[0-9]{4}$/).optional(),
  dailyWithdrawalRemainingCents: nonNegativeCents.optional(),
  /** The most one withdrawal may be, whatever the balance. */
  withdrawalMaxCents: nonNegativeCents.optional(),
  /** What this customer may still deposit today. */
  depositRemainingTodayCents: nonNegativeCents.optional(),
  idleTimeoutMs: z.number().int().positive(),
  /** What the card opens: the customer menu (absent means customer), or a technician's supervisor mode
   *  (no accounts; replenishment and balancing only). */
  role: z.enum(['customer', 'supervisor']).optional(),
});
export type SessionInfo = z.infer<typeof sessionInfo>;

export const postingKind = z.enum(['deposit', 'withdrawal', 'transfer-in', 'transfer-out']);

const denominationCents = z.number().int().positive().max(DENOMINATION_MAX_CENTS);
/** Notes of one denomination: what an acceptor stacked, or what a cassette holds. */
export const noteCount = z.object({ denominationCents, count: z.number().int().min(0).max(NOTES_PER_DEPOSIT_MAX) }).strict();
export type NoteCount = z.infer<typeof noteCount>;
const deviceName = z.enum(['card-reader', 'pin-pad', 'dispenser', 'printer', 'note-acceptor']);
export type KioskDeviceName = z.infer<typeof deviceName>;
/** The most notes a technician may count in one container of one denomination (a cassette holds a few
 *  thousand; the kiosk's status report has the same bound). */
export const NOTES_PER_CONTAINER_MAX = 100_000;
/** Notes of one denomination counted in (or loaded into) a kiosk's container by a technician. */
export const containerNoteCount = z.object({ denominationCents, count: z.number().int().min(0).max(NOTES_PER_CONTAINER_MAX) }).strict();
export const replenishmentContainer = z.enum(['cassettes', 'cashbox']);
export type ReplenishmentContainer = z.infer<typeof replenishmentContainer>;
/** One container's balancing: what the technician counted, what its ledger account said it held, and the
 *  difference (counted − ledger), all in cents. */
export const containerBalance = z
  .object({ container: replenishmentContainer, countedCents: nonNegativeCents, ledgerCents: signedCents, differenceCents: signedCents, postingIds: z.array(id).max(2) })
  .strict();
export type ContainerBalance = z.infer<typeof containerBalance>;
const replenishmentState = z
  .object({
    replenishmentId: id,
    /** The notes each container may be counted in: the cassettes' and the acceptor's, as the kiosk last reported. */
    cassetteDenominationsCents: z.array(denominationCents).max(DENOMINATIONS_MAX),
    cashboxDenominationsCents: z.array(denominationCents).max(DENOMINATIONS_MAX),
    /** Containers already unloaded in this replenishment, with their balancing. */
    unloaded: z.array(containerBalance).max(2),
    loadedCents: nonNegativeCents.optional(),
    openedMs: timestampMs,
  })
  .strict();
export type ReplenishmentState = z.infer<typeof replenishmentState>;

/** What a kiosk reports of itself: on connect, on every change and on a heartbeat. Nothing in it is
 *  secret; reasons are the kiosk's own out-of-service lines for technicians. */
export const kioskStatus = z
  .object({
    softwareVersion: z.string().regex(/^[0-9A-Za-z.+-]{1,32}$/),
    inService: z.boolean(),
    reasons: z.array(z.string().min(1).max(200)).max(16),
    devices: z.array(z.object({ device: deviceName, state: z.enum(['ok', 'fault', 'absent']), detail: z.string().max(200).optional() }).strict()).max(8),
    /** Each cassette's denomination and the notes it holds, cassette 0 first. */
    cassettes: z.array(z.object({ denominationCents, count: z.number().int().min(0).max(100_000) }).strict()).max(8),
    /** The notes the acceptor takes; absent when the kiosk has no note acceptor. */
    noteAcceptor: z
      .object({
        denominationsCents: z.array(denominationCents).min(1).max(DENOMINATIONS_MAX),
        cashbox: z.array(z.object({ denominationCents, count: z.number().int().min(0).max(100_000) }).strict()).max(DENOMINATIONS_MAX),
        cashboxCapacityNotes: z.number().int().positive().max(100_000),
      })
      .strict()
      .optional(),
    receiptPaper: z.enum(['ok', 'low', 'out', 'unknown']),
    /** Withdrawals and deposits the kiosk's journal has not finished with the host. */
    pendingTransactions: z.number().int().min(0).max(10_000),
  })
  .strict();
export type KioskStatus = z.infer<typeof kioskStatus>;
export type PostingKind = z.infer<typeof postingKind>;

export const historyEntry = z.object({
  postingId: id,
  kind: postingKind,
  /** Signed: positive adds to the account. */
  amountCents: signedCents,
  balanceAfterCents: signedCents,
  timestampMs,
  deviceId: z.string().optional(),
});
export type HistoryEntry = z.infer<typeof historyEntry>;

/** An activity page's cursor: the audit sequence number the next page starts below. */
export const activityCursor = z.string().regex(/^[0-9]{1,16}$/);

/** One of the customer's own audit records, as the activity view shows it. */
export const activityEntry = z.object({
  seq: z.number().int().positive(),
  timestampMs,
  action: z.string().max(64),
  outcome: z.enum(['ok', 'failed', 'refused']),
  amountCents: nonNegativeCents.optional(),
  deviceId: z.string().max(64).optional(),
  reason: z.string().max(64).optional(),
  /** `CustomerID | Action | Timestamp`, the seeds' audit line. */
  line: z.string().max(512),
});
export type ActivityEntry = z.infer<typeof activityEntry>;

const empty = z.object({}).strict();
/** An ISO 9564 format-4 PIN block, hex. */
const pinBlockHex = z.string().regex(/^[0-9a-f]{32}$/);

export const MESSAGES = {
  ping: { body: empty, result: z.object({ hostTimeMs: timestampMs }) },
  /** The kiosk's state as it sees it (sessionless; the host keeps the latest). */
  'kiosk.status': {
    body: kioskStatus,
    result: z.object({
      heartbeatMs: z.number().int().positive(),
      /** The check value of the device's current PIN encryption key: a kiosk whose EPP holds another fetches
       *  the new one (`pinkey.fetch`). Absent when the device has none. */
      pinKeyKcv: kcv.optional(),
    }),
  },
  /** The kiosk's EPP asks for the device's current PIN encryption key: the host checks the EPP's
   *  certificate under a trusted vendor CA (and that it is the EPP enrolled for the device, enrolling it the
   *  first time) and answers the PEK as a TR-31 key block only that EPP can open (protocol/pin-key-delivery.ts). */
  'pinkey.fetch': {
    body: z.object({ eppCertificate: z.string().min(1).max(EPP_CERTIFICATE_MAX_CHARS) }).strict(),
    result: z
      .object({
        ephemeralPublicKey: z.string().regex(/^[0-9a-f]{64}$/),
        keyBlock: z.string().min(1).max(PEK_KEY_BLOCK_MAX_CHARS).regex(/^[\x20-\x7e]+$/),
        pinKeyVersion: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
        kcv,
      })
      .strict(),
  },

  register: { body: z.object({ username, password }).strict(), result: sessionInfo },
  'signin.password': { body: z.object({ username: z.string().min(1).max(64), password }).strict(), result: sessionInfo },
  'signin.card': {
    body: z.object({ pan, pinBlock: pinBlockHex }).strict(),
    result: sessionInfo,
  },
  signout: { body: empty, result: empty },
  /** Changes the PIN of the card the session signed in with: the current PIN, the new one and the new one
   *  again, each a format-4 PIN block from the PIN pad (the kiosk never sees a PIN, so the host compares). */
  'pin.change': {
    body: z.object({ pan, oldPinBlock: pinBlockHex, newPinBlock: pinBlockHex, confirmPinBlock: pinBlockHex }).strict(),
    result: empty,
  },

  balance: { body: z.object({ accountId: id }).strict(), result: accountSummary },
  /** Starts a deposit into one account: the kiosk then takes notes until the customer confirms. */
  'deposit.open': {
    body: z.object({ accountId: id }).strict(),
    result: z.object({ depositId: id, denominationsCents: z.array(denominationCents).max(DENOMINATIONS_MAX), remainingTodayCents: nonNegativeCents }),
  },
  /** Credits exactly the notes the acceptor stacked (sessionless: a rebooted kiosk finishes it). No notes
   *  closes the deposit without a credit. */
  'deposit.commit': {
    body: z.object({ depositId: id, notes: z.array(noteCount).max(DENOMINATIONS_MAX) }).strict(),
    result: z.object({
      depositId: id,
      creditedCents: nonNegativeCents,
      /** Of the credit, what the customer may spend at once; the rest is held until `releaseAtMs`. */
      availableNowCents: nonNegativeCents,
      heldCents: nonNegativeCents,
      releaseAtMs: timestampMs.optional(),
      postingId: id.optional(),
      account: accountSummary,
    }),
  },
  'withdraw.authorize': {
    body: z.object({ accountId: id, amountCents }).strict(),
    result: z.object({ authorizationId: id, amountCents, account: accountSummary }),
  },
  'withdraw.complete': {
    // The amount actually dispensed; may be less than authorized (short dispense), never more.
    body: z.object({ authorizationId: id, dispensedCents: nonNegativeCents }).strict(),
    result: z.object({ authorizationId: id, postedCents: nonNegativeCents, releasedCents: nonNegativeCents }),
  },
  'withdraw.reverse': {
    body: z.object({ authorizationId: id }).strict(),
    result: z.object({ authorizationId: id, releasedCents: nonNegativeCents }),
  },
  history: {
    body: z
      .object({
        accountId: id,
        limit: z.number().int().min(1).max(HISTORY_PAGE_SIZE_MAX).optional(),
        /** Opaque cursor from the previous page's `nextCursor`. */
        cursor: z.string().max(128).optional(),
        sinceMs: timestampMs.optional(),
        untilMs: timestampMs.optional(),
        kinds: z.array(postingKind).max(4).optional(),
      })
      .strict(),
    result: z.object({ entries: z.array(historyEntry), nextCursor: z.string().optional() }),
  },
  /** The signed-in customer's own audit records, newest first. */
  activity: {
    body: z
      .object({
        limit: z.number().int().min(1).max(ACTIVITY_PAGE_SIZE_MAX).optional(),
        /** Opaque cursor from the previous page's `nextCursor`. */
        cursor: activityCursor.optional(),
        sinceMs: timestampMs.optional(),
        untilMs: timestampMs.optional(),
        actions: z.array(z.string().regex(/^[a-z][a-z0-9.]{0,63}$/)).max(16).optional(),
      })
      .strict(),
    result: z.object({ entries: z.array(activityEntry), nextCursor: z.string().optional() }),
  },
  /** A technician (supervisor session) starts a replenishment of this kiosk, or resumes the one open. */
  'replenish.open': { body: empty, result: replenishmentState },
  /** The technician counted what one container held: the host moves the counted notes to the branch vault,
   *  posts any difference to over/short and writes the balancing report (sessionless, like deposit.commit:
   *  a rebooted kiosk finishes it; only for a replenishment this kiosk opened). */
  'replenish.unload': {
    body: z.object({ replenishmentId: id, container: replenishmentContainer, notes: z.array(containerNoteCount).max(DENOMINATIONS_MAX) }).strict(),
    result: containerBalance,
  },
  /** New cassettes loaded with these notes, from the branch vault (after the cassettes were unloaded). */
  'replenish.load': {
    body: z.object({ replenishmentId: id, notes: z.array(containerNoteCount).max(DENOMINATIONS_MAX) }).strict(),
    result: z.object({ loadedCents: nonNegativeCents, postingId: id.optional(), ledgerCents: signedCents }).strict(),
  },
  /** The replenishment is over: what was unloaded, balanced and loaded. */
  'replenish.close': {
    body: z.object({ replenishmentId: id }).strict(),
    result: z.object({ replenishmentId: id, unloaded: z.array(containerBalance).max(2), loadedCents: nonNegativeCents, closedMs: timestampMs, balanced: z.boolean() }).strict(),
  },
  transfer: {
    body: z.object({ fromAccountId: id, toAccountId: id, amountCents }).strict(),
    result: z.object({ postingId: id, from: accountSummary, to: accountSummary }),
  },
} as const;

export type MessageType = keyof typeof MESSAGES;
export type RequestBody<T extends MessageType> = z.infer<(typeof MESSAGES)[T]['body']>;
export type ResultOf<T extends MessageType> = z.infer<(typeof MESSAGES)[T]['result']>;

export function isMessageType(type: string): type is MessageType {
  return Object.hasOwn(MESSAGES, type);
}

/** Types whose effect needs no session: they either create one or finish work a rebooted kiosk started. */
export const SESSIONLESS_TYPES: ReadonlySet<MessageType> = new Set([
  'ping',
  'kiosk.status',
  'pinkey.fetch',
  'deposit.commit',
  'register',
  'signin.password',
  'signin.card',
  'withdraw.complete',
  'withdraw.reverse',
  'replenish.unload',
  'replenish.load',
  'replenish.close',
]);
