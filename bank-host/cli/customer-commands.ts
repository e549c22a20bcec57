// `bank-host customer|account|card ...`: the operator's customer administration. A new customer's password
// is read from stdin or a silent prompt; a new card's PIN is shown once.
import { formatCents } from '../../protocol/money.js';
import { UsageError } from '../errors.js';
import type { AdminCliCommand } from './admin-command.js';

const CARD_CHOICE_OPTIONS = { customer: { type: 'string' }, last4: { type: 'string' } } as const;
const CARD_CHOICE_HELP = [
  '  PAN                the card number',
  '  --customer NAME    with --last4: the customer whose card it is (a lost card: the customer knows',
  '  --last4 DIGITS     its last four digits); refused when two of their cards end in them',
].join('\n');

/** A card by its PAN, or by its customer and last four digits: one or the other. */
function cardChoice([pan]: string[], values: Record<string, unknown>): Record<string, unknown> {
  const { customer, last4 } = values as { customer?: string; last4?: string };
  if (pan !== undefined) {
    if (customer !== undefined || last4 !== undefined) throw new UsageError('name the card by its PAN or by --customer and --last4, not both');
    return { pan };
  }
  if (customer === undefined || last4 === undefined) throw new UsageError('name the card by its PAN, or by --customer USERNAME and --last4 DIGITS');
  if (!/^[0-9]{4}$/.test(last4)) throw new UsageError('--last4 takes the last four digits of the card');
  return { username: customer, last4 };
}

export const CUSTOMER_CLI: readonly AdminCliCommand[] = [
  {
    words: ['customer', 'add'],
    usage: 'bank-host customer add USERNAME',
    summary: 'create a customer with a chequing account; the password is read from stdin or a prompt',
    positionals: ['USERNAME'],
    admin: 'customer.add',
    secret: { name: 'password', prompt: 'Password for the new customer: ' },
    args: ([username]) => ({ username }),
    print: (r) => {
      const c = r as { username: string; customerId: string; accountId: string };
      return `added customer ${c.username} (${c.customerId}) with account ${c.accountId}`;
    },
  },
  {
    words: ['customer', 'show'],
    usage: 'bank-host customer show USERNAME',
    summary: "show a customer's accounts, balances and cards (last four digits only)",
    positionals: ['USERNAME'],
    admin: 'customer.show',
    args: ([username]) => ({ username }),
    print: (r) => {
      const c = r as { username: string; customerId: string; accounts: { accountId: string; kind: string; balanceCents: number; availableCents: number }[]; cards: { cardLast4: string; status: string; expiresYm: string; pinTriesFailed: number }[]; lockedUntilMs: number };
      return [
        `${c.username} (${c.customerId})${c.lockedUntilMs > Date.now() ? ` locked until ${new Date(c.lockedUntilMs).toISOString()}` : ''}`,
        ...c.accounts.map((a) => `  account ${a.accountId}\t${a.kind}\tbalance ${formatCents(a.balanceCents)}\tavailable ${formatCents(a.availableCents)}`),
        ...c.cards.map((k) => `  card •••• ${k.cardLast4}\t${k.status}\texpires ${k.expiresYm}\tfailed PIN tries ${k.pinTriesFailed}`),
      ].join('\n');
    },
  },
  {
    words: ['account', 'open'],
    usage: 'bank-host account open USERNAME [--kind chequing|savings]',
    summary: 'open another account for a customer',
    positionals: ['USERNAME'],
    options: { kind: { type: 'string' } },
    optionsHelp: '  --kind KIND  chequing (default) or savings',
    admin: 'account.open',
    args: ([username], values) => {
      if (values.kind !== undefined && values.kind !== 'chequing' && values.kind !== 'savings') throw new UsageError('--kind must be chequing or savings');
      return { username, ...(values.kind ? { kind: values.kind } : {}) };
    },
    print: (r) => `opened account ${(r as { accountId: string }).accountId}`,
  },
  {
    words: ['card', 'issue'],
    usage: 'bank-host card issue USERNAME [--account ID]',
    summary: 'issue a card; prints its PAN and a random PIN once (hand them to the customer)',
    positionals: ['USERNAME'],
    options: { account: { type: 'string' } },
    optionsHelp: "  --account ID  link the card to this account (default: the customer's first account)",
    admin: 'card.issue',
    args: ([username], values) => ({ username, ...(values.account ? { accountId: values.account } : {}) }),
    print: (r) => {
      const c = r as { pan: string; pin: string; expiresYm: string };
      return `issued card ${c.pan} expiring ${c.expiresYm}\nPIN ${c.pin}\n(shown once; it is not stored in clear anywhere)`;
    },
  },
  {
    words: ['technician', 'add'],
    usage: 'bank-host technician add NAME',
    summary: "issue a technician's card (supervisor role: its PIN opens the kiosk's supervisor mode for replenishment, never a customer's menu); prints its PAN and a random PIN once",
    positionals: ['NAME'],
    admin: 'technician.add',
    args: ([name]) => ({ name }),
    print: (r) => {
      const c = r as { name: string; technicianId: string; pan: string; pin: string; expiresYm: string };
      return `technician ${c.name} (${c.technicianId}): supervisor card ${c.pan} expiring ${c.expiresYm}\nPIN ${c.pin}\n(shown once; it is not stored in clear anywhere; bank-host card block PAN if it is lost)`;
    },
  },
  {
    words: ['card', 'block'],
    usage: 'bank-host card block PAN | --customer USERNAME --last4 DIGITS',
    summary: 'block a card, named by its number or (a lost card) by its customer and last four digits',
    positionals: ['PAN'],
    positionalsRequired: 0,
    options: CARD_CHOICE_OPTIONS,
    optionsHelp: CARD_CHOICE_HELP,
    admin: 'card.block',
    args: cardChoice,
    print: (r) => `card •••• ${(r as { cardLast4: string }).cardLast4} is blocked`,
  },
  {
    words: ['card', 'unblock'],
    usage: 'bank-host card unblock PAN | --customer USERNAME --last4 DIGITS',
    summary: 'unblock a card and reset its failed PIN tries',
    positionals: ['PAN'],
    positionalsRequired: 0,
    options: CARD_CHOICE_OPTIONS,
    optionsHelp: CARD_CHOICE_HELP,
    admin: 'card.unblock',
    args: cardChoice,
    print: (r) => `card •••• ${(r as { cardLast4: string }).cardLast4} is active`,
  },
];
