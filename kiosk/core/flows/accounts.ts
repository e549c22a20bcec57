// The signed-in customer's accounts as the flows use them: which account a command names (the first one
// when it names none), and the fresh balances a host answer brings back.
import type { AccountSummary } from '../../../protocol/messages.js';
import { KioskCommandError } from '../command-checks.js';
import type { CustomerSession } from '../session.js';

export function customerAccounts(session: CustomerSession): readonly AccountSummary[] {
  const accounts = session.customer?.accounts ?? [];
  if (accounts.length === 0) throw new KioskCommandError('WRONG_STATE', 'no signed-in customer with an account');
  return accounts;
}

/** `accountId` when it is one of the customer's accounts, the first account when it is undefined. */
export function accountOrDefault(session: CustomerSession, accountId: string | undefined): string {
  const accounts = customerAccounts(session);
  if (accountId === undefined) return accounts[0]!.accountId;
  if (!accounts.some((a) => a.accountId === accountId)) throw new KioskCommandError('BAD_ARGUMENT', "not one of the customer's accounts");
  return accountId;
}

export function updateAccounts(session: CustomerSession, updated: readonly AccountSummary[]): void {
  const customer = session.customer;
  if (!customer) return;
  const byId = new Map(updated.map((a) => [a.accountId, a]));
  session.customer = { ...customer, accounts: customer.accounts.map((a) => byId.get(a.accountId) ?? a) };
}
