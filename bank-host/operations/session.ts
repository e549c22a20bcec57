// Customer sessions: what a signed-in customer may reach, and what a sign-in answers. A password sign-in
// reaches every account of the customer; a card sign-in reaches the accounts linked to the card, and only
// while the card stays usable (an operator blocking it ends what the session can do).
import { randomBytes } from 'node:crypto';
import { ProtocolError } from '../../protocol/errors.js';
import type { SessionInfo } from '../../protocol/messages.js';
import { readAccount, summarizeAccount } from '../ledger/accounts.js';
import { depositRemainingTodayCents, readDailyDeposits, readHeldDepositHolds } from '../ledger/deposits.js';
import { type AccountRecord, type DailyWithdrawalRecord, cardDailyWithdrawalKey, customerDailyWithdrawalKey } from '../ledger/records.js';
import type { DailyLimit } from '../ledger/withdrawals.js';
import { requireUsableCard } from '../customers/cards.js';
import { readCard, readCustomer } from '../customers/customers.js';
import { type CardRecord, type CustomerRecord, cardKey, customerKey } from '../customers/records.js';
import type { TechnicianRecord } from '../customers/technicians.js';
import type { CustomerSession, HostServices } from './context.js';

const SESSION_ID_RANDOM_BYTES = 16;

/** A technician's session, opened by their supervisor card. */
export function newSupervisorSession(technician: TechnicianRecord, card: CardRecord, nowMs: number): CustomerSession {
  return {
    sessionId: randomBytes(SESSION_ID_RANDOM_BYTES).toString('hex'),
    customerId: technician.technicianId,
    username: technician.name,
    cardId: card.cardId,
    cardLast4: card.panLast4,
    role: 'supervisor',
    lastActivityMs: nowMs,
  };
}

/** What a supervisor card's sign-in answers: no accounts, and the role that sends the kiosk to its
 *  supervisor mode. */
export function describeSupervisorSession(services: Pick<HostServices, 'config'>, technician: TechnicianRecord, card: CardRecord): SessionInfo {
  return {
    customerId: technician.technicianId,
    username: technician.name,
    accounts: [],
    cardLast4: card.panLast4,
    idleTimeoutMs: services.config.sessionIdleTimeoutMs,
    role: 'supervisor',
  };
}

export function newSession(customer: CustomerRecord, nowMs: number, card?: CardRecord): CustomerSession {
  return {
    sessionId: randomBytes(SESSION_ID_RANDOM_BYTES).toString('hex'),
    customerId: customer.customerId,
    username: customer.username,
    ...(card !== undefined && { cardId: card.cardId, cardLast4: card.panLast4 }),
    lastActivityMs: nowMs,
  };
}

/** The daily limits a withdrawal in this session counts against: always the customer's (whatever
 *  credential they used), and the card's as well when they signed in with a card. */
export function dailyWithdrawalLimitKeys(
  config: Pick<HostServices['config'], 'dailyWithdrawalLimitCents' | 'cardDailyWithdrawalLimitCents'>,
  who: Pick<CustomerSession, 'customerId' | 'cardId'>,
  nowMs: number,
): { readonly key: string; readonly limitCents: number }[] {
  const limits = [{ key: customerDailyWithdrawalKey(who.customerId, nowMs), limitCents: config.dailyWithdrawalLimitCents }];
  if (who.cardId !== undefined) limits.push({ key: cardDailyWithdrawalKey(who.cardId, nowMs), limitCents: config.cardDailyWithdrawalLimitCents });
  return limits;
}

/** Each limit with what has been used of it (read these under the limits' locks before changing them). */
export async function readDailyLimits(services: Pick<HostServices, 'db'>, limits: readonly { readonly key: string; readonly limitCents: number }[]): Promise<DailyLimit[]> {
  return Promise.all(limits.map(async (limit) => ({ ...limit, usedCents: (await services.db.get<DailyWithdrawalRecord>(limit.key))?.usedCents ?? 0 })));
}

export async function dailyWithdrawalLimits(
  services: Pick<HostServices, 'db' | 'config'>,
  who: Pick<CustomerSession, 'customerId' | 'cardId'>,
  nowMs: number,
): Promise<DailyLimit[]> {
  return readDailyLimits(services, dailyWithdrawalLimitKeys(services.config, who, nowMs));
}

/** What the customer may still withdraw today: the tightest of their limits. */
export function remainingTodayCents(limits: readonly DailyLimit[]): number {
  return Math.max(0, Math.min(...limits.map((limit) => limit.limitCents - limit.usedCents)));
}

/** The account as the customer sees it: deposit holds whose period has ended count as released even before
 *  the host's sweep (or a withdrawal) writes the release. */
export async function accountAsSeen(services: Pick<HostServices, 'db'>, account: AccountRecord, nowMs: number): Promise<AccountRecord> {
  if ((account.depositHeldCents ?? 0) === 0) return account;
  const due = (await readHeldDepositHolds(services.db, account.accountId)).filter((hold) => hold.releaseAtMs <= nowMs);
  return { ...account, depositHeldCents: (account.depositHeldCents ?? 0) - due.reduce((sum, hold) => sum + hold.amountCents, 0) };
}

/** The keys `reachableAccountIds` reads for this session (a ReadHint's part). */
export function sessionReads(session: CustomerSession | undefined): string[] {
  if (session === undefined) return [];
  return [session.cardId !== undefined ? cardKey(session.cardId) : customerKey(session.customerId)];
}

/** The account ids this session may use. Throws CARD_BLOCKED/CARD_EXPIRED when the session's card can no
 *  longer be used. */
export async function reachableAccountIds(services: Pick<HostServices, 'db'>, session: CustomerSession, nowMs: number): Promise<readonly string[]> {
  if (session.cardId !== undefined) {
    const card = requireUsableCard(await readCard(services.db, session.cardId), nowMs);
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
  const seen = await Promise.all(records.filter((account): account is AccountRecord => account !== undefined).map((account) => accountAsSeen(services, account, nowMs)));
  const limits = await dailyWithdrawalLimits(services, { customerId: customer.customerId, ...(card !== undefined && { cardId: card.cardId }) }, nowMs);
  const deposits = await readDailyDeposits(services.db, customer.customerId, nowMs);
  return {
    customerId: customer.customerId,
    username: customer.username,
    accounts: seen.map(summarizeAccount),
    ...(card !== undefined && { cardLast4: card.panLast4 }),
    dailyWithdrawalRemainingCents: remainingTodayCents(limits),
    withdrawalMaxCents: services.config.maxWithdrawalCents,
    depositRemainingTodayCents: depositRemainingTodayCents(deposits, services.config),
    idleTimeoutMs: services.config.sessionIdleTimeoutMs,
  };
}
