// Creating and reading customers. Shared by kiosk registration and the operator's `customer add`.
import { randomBytes } from 'node:crypto';
import { MESSAGES } from '../../protocol/messages.js';
import { invariant } from '../ledger/invariants.js';
import { newCustomerAccountId, putAccount } from '../ledger/journal.js';
import type { AccountRecord, CustomerAccountKind } from '../ledger/records.js';
import type { BatchOp, KeyValueStore } from '../store/host-store.js';
import type { PasswordHash } from './passwords.js';
import {
  type CardRecord,
  type CustomerRecord,
  type PasswordFailureRecord,
  type UsernameRecord,
  cardKey,
  customerKey,
  passwordFailureKey,
  usernameKey,
} from './records.js';

const CUSTOMER_ID_RANDOM_BYTES = 8;
/** A customer's accounts and cards are listed in every session reply; keep that list short. */
export const ACCOUNTS_PER_CUSTOMER_MAX = 8;
export const CARDS_PER_CUSTOMER_MAX = 8;

/** The one definition of a valid username: the registration message's. */
export function isValidUsername(username: string): boolean {
  return MESSAGES.register.body.shape.username.safeParse(username).success;
}

export const newCustomerId = (): string => `cus_${randomBytes(CUSTOMER_ID_RANDOM_BYTES).toString('hex')}`;

export function newCustomerAccount(customerId: string, kind: CustomerAccountKind, currency: string, nowMs: number): AccountRecord {
  return { accountId: newCustomerAccountId(), kind, currency, customerId, balanceCents: 0, heldCents: 0, nextSeq: 1, openedMs: nowMs };
}

export interface PlannedCustomer {
  readonly customer: CustomerRecord;
  readonly account: AccountRecord;
  readonly ops: readonly BatchOp[];
}

/** A customer with one chequing account. The caller holds the username's lock and has checked that the
 *  name is free. */
export function planNewCustomer(username: string, password: PasswordHash, currency: string, nowMs: number): PlannedCustomer {
  invariant(isValidUsername(username), 'username was not validated');
  const customerId = newCustomerId();
  const account = newCustomerAccount(customerId, 'chequing', currency, nowMs);
  const customer: CustomerRecord = { customerId, username, password, accountIds: [account.accountId], cards: [], createdMs: nowMs };
  const index: UsernameRecord = { customerId };
  return {
    customer,
    account,
    ops: [
      { type: 'put', key: customerKey(customerId), value: customer },
      { type: 'put', key: usernameKey(username), value: index },
      putAccount(account),
    ],
  };
}

export async function readCustomer(db: KeyValueStore, customerId: string): Promise<CustomerRecord | undefined> {
  const customer = await db.get<CustomerRecord>(customerKey(customerId));
  if (customer !== undefined) invariant(customer.customerId === customerId, `customer record ${customerId} is misfiled`);
  return customer;
}

export async function readCustomerByUsername(db: KeyValueStore, username: string): Promise<CustomerRecord | undefined> {
  const index = await db.get<UsernameRecord>(usernameKey(username));
  if (index === undefined) return undefined;
  const customer = await readCustomer(db, index.customerId);
  invariant(customer !== undefined && customer.username === username, `username index for ${username} is broken`);
  return customer;
}

/** The card filed under `cardId` (card-protection.ts: `cardIdOf` turns a PAN into it). */
export async function readCard(db: KeyValueStore, cardId: string): Promise<CardRecord | undefined> {
  const card = await db.get<CardRecord>(cardKey(cardId));
  if (card !== undefined) invariant(card.cardId === cardId, 'card record is misfiled');
  return card;
}

export async function readPasswordFailures(db: KeyValueStore, username: string): Promise<PasswordFailureRecord | undefined> {
  return db.get<PasswordFailureRecord>(passwordFailureKey(username));
}
