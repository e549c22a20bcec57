// Reading accounts back from the store, checked after they are read as well as before they are written.
import type { AccountSummary } from '../../protocol/messages.js';
import type { KeyValueStore } from '../store/host-store.js';
import { assertAccountSound, availableCents, invariant } from './invariants.js';
import { newCashAccount } from './journal.js';
import { type AccountRecord, accountKey, cashAccountId } from './records.js';

export async function readAccount(db: KeyValueStore, accountId: string): Promise<AccountRecord | undefined> {
  const account = await db.get<AccountRecord>(accountKey(accountId));
  if (account !== undefined) {
    invariant(account.accountId === accountId, `account record under ${accountKey(accountId)} names ${account.accountId}`);
    assertAccountSound(account);
  }
  return account;
}

/** The kiosk's cash account; when it has never been used, a fresh one the caller writes in its own batch
 *  (so the account exists exactly when its first posting does). */
export async function readCashAccount(db: KeyValueStore, deviceId: string, currency: string, nowMs: number): Promise<AccountRecord> {
  const accountId = cashAccountId(deviceId);
  return (await readAccount(db, accountId)) ?? newCashAccount(deviceId, accountId, currency, nowMs);
}

export function summarizeAccount(account: AccountRecord): AccountSummary {
  invariant(account.kind !== 'cash', 'a cash account is never shown to a customer');
  return {
    accountId: account.accountId,
    kind: account.kind,
    currency: account.currency,
    balanceCents: account.balanceCents,
    availableCents: availableCents(account),
  };
}
