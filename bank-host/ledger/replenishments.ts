// Replenishment and balancing in the ledger. A technician unloads a kiosk's containers and counts them, then
// loads new cassettes; each physical movement of notes is one posting between the container's cash account
// and the branch's vault account, and what a count finds beyond (or short of) what the container's account
// says goes to the branch's over/short account, so that a container's account is 0 once it is emptied.
//
// Signs (docs/ledger.md): a cash account's balance is minus the value of the notes the ledger says are in
// its container. So the ledger says a container holds −balance; unloading C counted cents moves C from the
// vault to the container (the container's balance rises toward 0, the vault's falls: it holds more), the
// difference D = C − ledger is then the container's balance and is moved to over/short (D > 0: an overage;
// D < 0: a shortage), and loading L cents moves L from the container to the vault. Money is conserved:
// every step is a posting of two legs that sum to zero.
//
// Pure planning, no I/O: callers read the accounts under their locks and write the returned operations
// (each account put once, whatever the number of postings it takes part in) in their one batch.
import { randomBytes } from 'node:crypto';
import { ProtocolError } from '../../protocol/errors.js';
import type { BatchOp } from '../store/database.js';
import { assertSafeCents, invariant } from './invariants.js';
import { newPostingId, planMove, putAccount } from './journal.js';
import { type AccountRecord, type ContainerUnload, type LedgerPostingKind, accountKey, overShortAccountId, vaultAccountId } from './records.js';

const ID_RANDOM_BYTES = 12;
export const newReplenishmentId = (): string => `rpl_${randomBytes(ID_RANDOM_BYTES).toString('hex')}`;

export interface NoteCounts {
  readonly denominationCents: number;
  readonly count: number;
}

/** A branch's vault or over/short account, as it is before its first posting. */
export function newBranchAccount(branchId: string, container: 'vault' | 'over-short', currency: string, nowMs: number): AccountRecord {
  const accountId = container === 'vault' ? vaultAccountId(branchId) : overShortAccountId(branchId);
  return { accountId, kind: 'cash', currency, branchId, container, balanceCents: 0, heldCents: 0, nextSeq: 1, openedMs: nowMs };
}

/** What a container's account says it holds. */
export const ledgerHoldsCents = (account: AccountRecord): number => 0 - account.balanceCents;

/** The counted notes' value. BAD_NOTES when a denomination is not one of the container's or is listed
 *  twice; counts (0 and up, bounded by the protocol) are checked by the message's schema. Checked before
 *  anything is read. */
export function sumCountedNotes(notes: readonly NoteCounts[], denominationsCents: readonly number[], container: string): number {
  const seen = new Set<number>();
  let totalCents = 0;
  for (const { denominationCents, count } of notes) {
    if (!denominationsCents.includes(denominationCents)) throw new ProtocolError('BAD_NOTES', `${denominationCents} cents is not a note the kiosk's ${container} hold`);
    if (seen.has(denominationCents)) throw new ProtocolError('BAD_NOTES', `${denominationCents} cents is listed twice`);
    if (!Number.isSafeInteger(count) || count < 0) throw new ProtocolError('BAD_NOTES', 'a count is a whole number of notes, 0 or more');
    seen.add(denominationCents);
    totalCents += denominationCents * count;
  }
  assertSafeCents(totalCents, `${container} count`);
  return totalCents;
}

/** Two lists of counted notes name the same notes, whatever their order (a count of 0 is no notes). */
export function sameCounts(a: readonly NoteCounts[], b: readonly NoteCounts[]): boolean {
  const key = (notes: readonly NoteCounts[]) =>
    notes.filter((n) => n.count > 0).sort((x, y) => x.denominationCents - y.denominationCents).map((n) => `${n.denominationCents}x${n.count}`).join(',');
  return key(a) === key(b);
}

/** Accounts as a chain of postings leaves them, and the legs written; each account is put once at the end. */
class Postings {
  private readonly accounts = new Map<string, AccountRecord>();
  private readonly legOps: BatchOp[] = [];
  readonly postingIds: string[] = [];

  constructor(
    private readonly common: { readonly deviceId: string; readonly nowMs: number; readonly requestId?: string },
    ...accounts: AccountRecord[]
  ) {
    for (const account of accounts) this.accounts.set(account.accountId, account);
  }

  get(accountId: string): AccountRecord {
    const account = this.accounts.get(accountId);
    invariant(account !== undefined, `replenishment posting names unread account ${accountId}`);
    return account;
  }

  move(fromId: string, toId: string, amountCents: number, kind: LedgerPostingKind): void {
    const planned = planMove({
      from: this.get(fromId),
      to: this.get(toId),
      amountCents,
      fromKind: kind,
      toKind: kind,
      postingId: newPostingId(),
      timestampMs: this.common.nowMs,
      deviceId: this.common.deviceId,
      ...(this.common.requestId !== undefined && { requestId: this.common.requestId }),
    });
    this.accounts.set(fromId, planned.from);
    this.accounts.set(toId, planned.to);
    this.legOps.push(...planned.ops.filter((op) => !op.key.startsWith(accountKey(''))));
    this.postingIds.push(planned.legs[0].postingId);
  }

  ops(): BatchOp[] {
    const touched = new Set(this.legOps.map((op) => (op.type === 'put' ? (op.value as { accountId: string }).accountId : '')));
    return [...this.legOps, ...[...this.accounts.values()].filter((a) => touched.has(a.accountId)).map(putAccount)];
  }
}

export interface UnloadInput {
  readonly deviceId: string;
  readonly container: 'cassettes' | 'cashbox';
  readonly notes: readonly NoteCounts[];
  readonly countedCents: number;
  /** The container's account, the branch's vault and over/short accounts, read under their locks. */
  readonly containerAccount: AccountRecord;
  readonly vault: AccountRecord;
  readonly overShort: AccountRecord;
  readonly nowMs: number;
  readonly requestId?: string;
}

/** The unload of one container: the counted notes to the vault, the difference to over/short; the
 *  container's account ends at 0 (empty), whatever it said before. */
export function planUnload(input: UnloadInput): { readonly unload: ContainerUnload; readonly ops: readonly BatchOp[] } {
  const { containerAccount, vault, overShort, countedCents } = input;
  const ledgerCents = ledgerHoldsCents(containerAccount);
  const differenceCents = countedCents - ledgerCents;
  const postings = new Postings({ deviceId: input.deviceId, nowMs: input.nowMs, ...(input.requestId !== undefined && { requestId: input.requestId }) }, containerAccount, vault, overShort);
  const id = containerAccount.accountId;
  if (countedCents > 0) postings.move(vault.accountId, id, countedCents, 'cash-unload');
  if (differenceCents > 0) postings.move(id, overShort.accountId, differenceCents, 'over-short');
  if (differenceCents < 0) postings.move(overShort.accountId, id, -differenceCents, 'over-short');
  invariant(postings.get(id).balanceCents === 0, `${id} is not empty after its unload`);
  const before = containerAccount.balanceCents + vault.balanceCents + overShort.balanceCents;
  const after = postings.get(id).balanceCents + postings.get(vault.accountId).balanceCents + postings.get(overShort.accountId).balanceCents;
  invariant(before === after, 'an unload does not sum to zero');
  return {
    unload: {
      container: input.container,
      notes: input.notes.filter((n) => n.count > 0).map((n) => ({ denominationCents: n.denominationCents, count: n.count })).sort((a, b) => a.denominationCents - b.denominationCents),
      countedCents,
      ledgerCents,
      differenceCents,
      postingIds: postings.postingIds,
      ...(input.requestId !== undefined && { requestId: input.requestId }),
    },
    ops: postings.ops(),
  };
}

/** New cassettes loaded with `loadedCents` of notes from the vault. */
export function planLoad(input: {
  readonly deviceId: string;
  readonly loadedCents: number;
  readonly cassettes: AccountRecord;
  readonly vault: AccountRecord;
  readonly nowMs: number;
  readonly requestId?: string;
}): { readonly postingId?: string; readonly cassettes: AccountRecord; readonly ops: readonly BatchOp[] } {
  const postings = new Postings({ deviceId: input.deviceId, nowMs: input.nowMs, ...(input.requestId !== undefined && { requestId: input.requestId }) }, input.cassettes, input.vault);
  if (input.loadedCents > 0) postings.move(input.cassettes.accountId, input.vault.accountId, input.loadedCents, 'cash-load');
  const postingId = postings.postingIds[0];
  return { ...(postingId !== undefined && { postingId }), cassettes: postings.get(input.cassettes.accountId), ops: postings.ops() };
}
