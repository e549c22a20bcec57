// Customer sessions: what a signed-in customer may reach, and what a sign-in answers. A password sign-in
// reaches every account of the customer; a card sign-in reaches the accounts linked to the card, and only
// while the card stays usable (an operator blocking it ends what the session can do).
import { randomBytes } from 'node:crypto';
import { ProtocolError } from '../../protocol/errors.js';
import type { SessionInfo } from '../../protocol/messages.js';
import { readAccount, summarizeAccount } from '../ledger/accounts.js';
import { type AccountRecord, type DailyWithdrawalRecord, type WithdrawalScope, dailyWithdrawalKey } from '../ledger/records.js';
import { requireUsableCard } from '../customers/cards.js';
import { readCard, readCustomer } from '../customers/customers.js';
import { type CardRecord, type CustomerRecord, panLast4 } from '../customers/records.js';
import type { CustomerSession, HostServices } from './context.js';

const SESSION_ID_RANDOM_BYTES = 16;

export function newSession(customer: CustomerRecord, nowMs: number, card?: CardRecord): CustomerSession {
  return {
    sessionId: randomBytes(SESSION_ID_RANDOM_BYTES).toString('hex'),
    customerId: customer.customerId,
    username: customer.username,
    ...(card !== undefined && { cardPan: card.pan }),
    lastActivityMs: nowMs,
  };
}

export function withdrawalScope(session: Pick<CustomerSession, 'customerId' | 'cardPan'>): WithdrawalScope {
  return session.cardPan !== undefined ? { cardPan: session.cardPan } : { customerId: session.customerId };
}

/** The account ids this session may use. Throws CARD_BLOCKED/CARD_EXPIRED when the session's card can no
 *  longer be used. */
export async function reachableAccountIds(services: Pick<HostServices, 'db'>, session: CustomerSession, nowMs: number): Promise<readonly string[]> {
  if (session.cardPan !== undefined) {
    const card = requireUsableCard(await readCard(services.db, session.cardPan), nowMs);
    return card.customerId === session.customerId ? card.accountIds : [];
  }
  const customer = await readCustomer(services.db, session.customerId);
  return customer?.accountIds ?? [];
}

/** The account, when this session may use it; UNKNOWN_ACCOUNT otherwise, whether the account belongs to
 *  someone else or does not exist, so a customer learns nothing about other customers' accounts. */
export async function requireReachableAccount(
  services: Pick<HostServices, 'db'>,
  session: CustomerSession,
  accountId: string,
  nowMs: number,
): Promise<AccountRecord> {
  const reachable = await reachableAccountIds(services, session, nowMs);
  const account = reachable.includes(accountId) ? await readAccount(services.db, accountId) : undefined;
  if (account === undefined || account.kind === 'cash' || account.customerId !== session.customerId) {
    throw new ProtocolError('UNKNOWN_ACCOUNT');
  }
  return account;
}

export async function dailyWithdrawalUsedCents(services: Pick<HostServices, 'db'>, dailyKey: string): Promise<number> {
  return (await services.db.get<DailyWithdrawalRecord>(dailyKey))?.usedCents ?? 0;
}

/** What a successful sign-in (or registration) answers. `accounts` may be given when the caller has just
 *  created them and they are not on disk yet. */
export async function describeSession(
  services: Pick<HostServices, 'db' | 'config'>,
  customer: CustomerRecord,
  nowMs: number,
  card?: CardRecord,
  accounts?: readonly AccountRecord[],
): Promise<SessionInfo> {
  const ids = card !== undefined ? card.accountIds : customer.accountIds;
  const records = accounts ?? (await Promise.all(ids.map((id) => readAccount(services.db, id))));
  const scope = withdrawalScope({ customerId: customer.customerId, ...(card !== undefined && { cardPan: card.pan }) });
  const usedCents = await dailyWithdrawalUsedCents(services, dailyWithdrawalKey(scope, nowMs));
  return {
    customerId: customer.customerId,
    username: customer.username,
    accounts: records.filter((account): account is AccountRecord => account !== undefined).map(summarizeAccount),
    ...(card !== undefined && { cardLast4: panLast4(card.pan) }),
    dailyWithdrawalRemainingCents: Math.max(0, services.config.dailyWithdrawalLimitCents - usedCents),
    idleTimeoutMs: services.config.sessionIdleTimeoutMs,
  };
}
