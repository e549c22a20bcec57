// Operator functions on customers, accounts and cards. The admin CLI and the admin socket call these;
// each is one synced batch with an audit record (actor `operator`), taken under the same locks kiosk
// requests use, so they are safe while the host serves kiosks.
import { ProtocolError } from '../../protocol/errors.js';
import { readAccount, summarizeAccount } from '../ledger/accounts.js';
import { putAccount } from '../ledger/journal.js';
import { AdminError } from '../errors.js';
import { type OperatorFacts, type OperatorServices, runOperatorAction } from '../audit/operator-action.js';
import type { AccountSummary } from '../../protocol/messages.js';
import { type CustomerAccountKind, accountKey } from '../ledger/records.js';
import { cardIdOf, sealPan } from './card-protection.js';
import { expiryFor, generatePan } from './cards.js';
import {
  ACCOUNTS_PER_CUSTOMER_MAX,
  CARDS_PER_CUSTOMER_MAX,
  isValidUsername,
  newCustomerAccount,
  planNewCustomer,
  readCard,
  readCustomer,
  readCustomerByUsername,
  readPasswordFailures,
} from './customers.js';
import { type ScryptCost, SCRYPT_COST_PRODUCTION, checkPasswordPolicy, hashPassword } from './passwords.js';
import { generatePin, pinVerificationValue } from './pins.js';
import { type CardRecord, type CardStatus, type CustomerRecord, cardKey, customerKey, panLast4, usernameKey } from './records.js';

/** Random PANs that collide with an issued card are drawn again, this many times at most. */
const PAN_DRAWS_MAX = 8;

export interface CustomerAdminOptions {
  /** Tests pass a cheap cost; production uses SCRYPT_COST_PRODUCTION. */
  readonly scryptCost?: ScryptCost;
}

async function requireCustomer(services: OperatorServices, username: string): Promise<CustomerRecord> {
  const customer = await readCustomerByUsername(services.db, username);
  if (customer === undefined) throw new AdminError('UNKNOWN_CUSTOMER', `no customer is named ${username}`);
  return customer;
}

export interface AddedCustomer {
  readonly customerId: string;
  readonly username: string;
  readonly accountId: string;
}

/** Creates a customer with one chequing account. */
export async function addCustomer(
  services: OperatorServices,
  username: string,
  password: string,
  options: CustomerAdminOptions = {},
): Promise<AddedCustomer> {
  return runOperatorAction(services, 'customer.add', async (run) => {
    run.facts.detail = { username };
    if (!isValidUsername(username)) throw new AdminError('BAD_USERNAME', 'a username is 3-32 of a-z 0-9 . _ -, starting with a letter or digit');
    let normalized: string;
    try {
      normalized = checkPasswordPolicy(password, username);
    } catch (error) {
      if (error instanceof ProtocolError) throw new AdminError('WEAK_PASSWORD', error.message);
      throw error;
    }
    // scrypt runs before any lock is taken: it is slow, and a lock held across it would stall others.
    const hash = await hashPassword(normalized, options.scryptCost ?? SCRYPT_COST_PRODUCTION);
    return services.locks.withLocks([usernameKey(username)], async () => {
      if ((await services.db.get(usernameKey(username))) !== undefined) throw new AdminError('USERNAME_TAKEN', `${username} is taken`);
      const planned = planNewCustomer(username, hash, services.config.currency, services.now());
      run.facts.customerId = planned.customer.customerId;
      run.facts.detail = { username, accountId: planned.account.accountId };
      await run.commit(planned.ops);
      return { customerId: planned.customer.customerId, username, accountId: planned.account.accountId };
    });
  });
}

export interface OpenedAccount {
  readonly customerId: string;
  readonly accountId: string;
  readonly kind: CustomerAccountKind;
}

export async function openAccount(services: OperatorServices, username: string, kind: CustomerAccountKind = 'chequing'): Promise<OpenedAccount> {
  return runOperatorAction(services, 'account.open', async (run) => {
    const found = await requireCustomer(services, username);
    run.facts.customerId = found.customerId;
    return services.locks.withLocks([customerKey(found.customerId)], async () => {
      const customer = await readCustomer(services.db, found.customerId);
      if (customer === undefined) throw new AdminError('UNKNOWN_CUSTOMER', `no customer is named ${username}`);
      if (customer.accountIds.length >= ACCOUNTS_PER_CUSTOMER_MAX) {
        throw new AdminError('TOO_MANY_ACCOUNTS', `a customer has at most ${ACCOUNTS_PER_CUSTOMER_MAX} accounts`);
      }
      const account = newCustomerAccount(customer.customerId, kind, services.config.currency, services.now());
      const updated: CustomerRecord = { ...customer, accountIds: [...customer.accountIds, account.accountId] };
      run.facts.detail = { accountId: account.accountId, kind };
      await run.commit([putAccount(account), { type: 'put', key: customerKey(customer.customerId), value: updated }]);
      return { customerId: customer.customerId, accountId: account.accountId, kind };
    });
  });
}

export interface IssuedCard {
  readonly customerId: string;
  /** Shown once to the operator to hand to the customer; the host keeps only a verification value. */
  readonly pan: string;
  readonly pin: string;
  readonly expiresYm: string;
  readonly accountIds: readonly string[];
}

/** Issues a card linked to `accountId`, or to every account the customer has now when none is given. */
export async function issueCard(services: OperatorServices, username: string, accountId?: string): Promise<IssuedCard> {
  return runOperatorAction(services, 'card.issue', async (run) => {
    const found = await requireCustomer(services, username);
    run.facts.customerId = found.customerId;
    for (let draw = 0; draw < PAN_DRAWS_MAX; draw++) {
      const pan = generatePan();
      const cardId = cardIdOf(services.keys.master, pan);
      const issued = await services.locks.withLocks([customerKey(found.customerId), cardKey(cardId)], async () => {
        const customer = await readCustomer(services.db, found.customerId);
        if (customer === undefined) throw new AdminError('UNKNOWN_CUSTOMER', `no customer is named ${username}`);
        if (accountId !== undefined && !customer.accountIds.includes(accountId)) {
          throw new AdminError('UNKNOWN_ACCOUNT', `${username} has no account ${accountId}`);
        }
        if (customer.cards.length >= CARDS_PER_CUSTOMER_MAX) {
          throw new AdminError('TOO_MANY_CARDS', `a customer has at most ${CARDS_PER_CUSTOMER_MAX} cards`);
        }
        if ((await readCard(services.db, cardId)) !== undefined) return undefined;
        const nowMs = services.now();
        const pin = generatePin();
        const card: CardRecord = {
          cardId,
          panLast4: panLast4(pan),
          panSealed: sealPan(services.keys.master, cardId, pan),
          customerId: customer.customerId,
          accountIds: accountId !== undefined ? [accountId] : [...customer.accountIds],
          expiresYm: expiryFor(nowMs),
          status: 'active',
          pinVerificationValue: pinVerificationValue(services.keys.pinVerify, pan, pin),
          pinTriesFailed: 0,
          issuedMs: nowMs,
        };
        const updated: CustomerRecord = { ...customer, cards: [...customer.cards, { cardId, last4: card.panLast4 }] };
        run.facts.detail = { cardLast4: card.panLast4, accountIds: card.accountIds.join(',') };
        await run.commit([
          { type: 'put', key: cardKey(cardId), value: card },
          { type: 'put', key: customerKey(customer.customerId), value: updated },
        ]);
        return { customerId: customer.customerId, pan, pin, expiresYm: card.expiresYm, accountIds: card.accountIds };
      });
      if (issued !== undefined) return issued;
    }
    throw new Error(`no free card number after ${PAN_DRAWS_MAX} draws; the demo number range is exhausted`);
  });
}

export interface CardState {
  readonly customerId: string;
  readonly cardLast4: string;
  readonly status: CardStatus;
  readonly pinTriesFailed: number;
}

/** How an operator names a card: by its PAN (the card in hand, or the number on file at the bank), or by
 *  its customer and last four digits (a customer on the phone who lost it). */
export type CardChoice = { readonly pan: string } | { readonly username: string; readonly last4: string };

/** The card id the operator means. By customer and last four digits, exactly one of the customer's cards
 *  must end so: with two, the PAN is needed (CARD_AMBIGUOUS). */
async function chooseCard(services: OperatorServices, choice: CardChoice, facts: OperatorFacts): Promise<string> {
  if ('pan' in choice) {
    facts.detail = { cardLast4: panLast4(choice.pan) };
    return cardIdOf(services.keys.master, choice.pan);
  }
  facts.detail = { cardLast4: choice.last4, username: choice.username };
  const customer = await requireCustomer(services, choice.username);
  facts.customerId = customer.customerId;
  const matching = customer.cards.filter((card) => card.last4 === choice.last4);
  if (matching.length === 0) throw new AdminError('CARD_UNKNOWN', `${choice.username} has no card ending in ${choice.last4}`);
  if (matching.length > 1) {
    throw new AdminError('CARD_AMBIGUOUS', `${choice.username} has ${matching.length} cards ending in ${choice.last4}; name the card by its PAN`);
  }
  return matching[0]!.cardId;
}

async function setCardStatus(services: OperatorServices, choice: CardChoice, status: CardStatus): Promise<CardState> {
  return runOperatorAction(services, status === 'blocked' ? 'card.block' : 'card.unblock', async (run) => {
    const cardId = await chooseCard(services, choice, run.facts);
    const last4 = 'pan' in choice ? panLast4(choice.pan) : choice.last4;
    return services.locks.withLocks([cardKey(cardId)], async () => {
      const card = await readCard(services.db, cardId);
      if (card === undefined) throw new AdminError('CARD_UNKNOWN', `no card ends in ${last4}`);
      run.facts.customerId = card.customerId;
      // Unblocking also forgets failed PIN tries: the customer proved who they are to the operator.
      const { blockedReason: _previousReason, ...rest } = card;
      const updated: CardRecord =
        status === 'blocked' ? { ...card, status, blockedReason: 'operator' } : { ...rest, status, pinTriesFailed: 0 };
      await run.commit([{ type: 'put', key: cardKey(cardId), value: updated }]);
      return { customerId: card.customerId, cardLast4: card.panLast4, status, pinTriesFailed: updated.pinTriesFailed };
    });
  });
}

/** Blocks a card, named by its PAN or by its customer and last four digits. */
export const blockCard = (services: OperatorServices, card: string | CardChoice): Promise<CardState> =>
  setCardStatus(services, typeof card === 'string' ? { pan: card } : card, 'blocked');
export const unblockCard = (services: OperatorServices, card: string | CardChoice): Promise<CardState> =>
  setCardStatus(services, typeof card === 'string' ? { pan: card } : card, 'active');

export interface CustomerView {
  readonly customerId: string;
  readonly username: string;
  readonly createdMs: number;
  readonly accounts: readonly (AccountSummary & { readonly heldCents: number })[];
  readonly cards: readonly {
    readonly cardLast4: string;
    readonly status: CardStatus;
    readonly expiresYm: string;
    readonly accountIds: readonly string[];
    readonly pinTriesFailed: number;
  }[];
  readonly passwordFailures: number;
  readonly lockedUntilMs: number;
}

/** A customer as an operator may see them: balances and card states, never a secret or a full PAN. */
export async function showCustomer(services: Pick<OperatorServices, 'db'>, username: string): Promise<CustomerView> {
  const customer = await readCustomerByUsername(services.db, username);
  if (customer === undefined) throw new AdminError('UNKNOWN_CUSTOMER', `no customer is named ${username}`);
  const accounts = await Promise.all(customer.accountIds.map((id) => readAccount(services.db, id)));
  const cards = await Promise.all(customer.cards.map((ref) => readCard(services.db, ref.cardId)));
  const failures = await readPasswordFailures(services.db, username);
  return {
    customerId: customer.customerId,
    username: customer.username,
    createdMs: customer.createdMs,
    accounts: accounts.map((account, i) => {
      if (account === undefined) throw new Error(`account ${customer.accountIds[i]} of ${username} is missing (${accountKey(customer.accountIds[i]!)})`);
      return { ...summarizeAccount(account), heldCents: account.heldCents };
    }),
    cards: cards.map((card) => {
      if (card === undefined) throw new Error(`a card of ${username} is missing`);
      return {
        cardLast4: card.panLast4,
        status: card.status,
        expiresYm: card.expiresYm,
        accountIds: card.accountIds,
        pinTriesFailed: card.pinTriesFailed,
      };
    }),
    passwordFailures: failures?.failures ?? 0,
    lockedUntilMs: failures?.lockedUntilMs ?? 0,
  };
}
