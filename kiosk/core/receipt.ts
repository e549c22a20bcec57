// The lines of a customer receipt: the bank's name, the local time in the kiosk's time zone, the masked
// card, the transaction and the balance and available amount after it. Never the full PAN (last four
// digits only), never a balance of an account other than the ones used, amounts as $x.xx from integer
// cents.
import { formatCents } from '../../protocol/money.js';

export interface ReceiptFacts {
  readonly kioskId: string;
  /** The bank's name, the receipt's first line. */
  readonly bankName?: string;
  readonly nowMs: number;
  /** The kiosk's IANA time zone: the time is printed as the customer's clock shows it (UTC if absent). */
  readonly timeZone?: string;
  readonly transaction: 'withdrawal' | 'deposit' | 'transfer' | 'balance';
  /** For a balance inquiry: the accounts shown. */
  readonly accounts?: readonly { readonly accountId: string; readonly balanceCents: number; readonly availableCents: number }[];
  readonly amountCents: number;
  /** For withdrawals: what actually left the dispenser (less than asked after a short dispense). */
  readonly dispensedCents?: number;
  readonly cardLast4?: string;
  readonly username?: string;
  readonly authorizationId?: string;
  readonly postingId?: string;
  readonly accountId?: string;
  readonly balanceAfterCents?: number;
  /** What the customer may spend now, after this transaction. */
  readonly availableAfterCents?: number;
  /** For deposits: the notes counted, by denomination, and how much of the credit is available now. */
  readonly notes?: readonly { readonly denominationCents: number; readonly count: number }[];
  readonly availableNowCents?: number;
  readonly heldCents?: number;
  readonly releaseAtMs?: number;
}

export function composeReceipt(facts: ReceiptFacts): string[] {
  const lines = [...(facts.bankName ? [facts.bankName] : []), 'ATM RECEIPT', localTime(facts.nowMs, facts.timeZone ?? 'UTC'), `Kiosk: ${facts.kioskId}`];
  if (facts.cardLast4 !== undefined) {
    if (!/^[0-9]{4}$/.test(facts.cardLast4)) throw new RangeError('a receipt shows exactly the last four digits of a card');
    lines.push(`Card: ************${facts.cardLast4}`);
  } else if (facts.username !== undefined) {
    lines.push(`Customer: ${facts.username}`);
  }
  if (facts.accountId !== undefined) lines.push(`Account: ...${facts.accountId.slice(-4)}`);
  lines.push('');
  switch (facts.transaction) {
    case 'withdrawal': {
      const dispensed = facts.dispensedCents ?? facts.amountCents;
      lines.push(`WITHDRAWAL ${formatCents(dispensed)}`);
      if (dispensed !== facts.amountCents) lines.push(`Requested ${formatCents(facts.amountCents)}; only ${formatCents(dispensed)} was dispensed and charged`);
      break;
    }
    case 'deposit':
      lines.push(`DEPOSIT ${formatCents(facts.amountCents)}`);
      for (const n of facts.notes ?? []) lines.push(`  ${n.count} x ${formatCents(n.denominationCents)} = ${formatCents(n.count * n.denominationCents)}`);
      if (facts.availableNowCents !== undefined) lines.push(`Available now: ${formatCents(facts.availableNowCents)}`);
      if (facts.heldCents !== undefined && facts.heldCents > 0) {
        const until = facts.releaseAtMs !== undefined ? new Date(facts.releaseAtMs).toISOString() : undefined;
        lines.push(`On hold: ${formatCents(facts.heldCents)}${until ? ` until ${until.slice(0, 10)} ${until.slice(11, 16)} UTC` : ''}`);
      }
      break;
    case 'transfer':
      lines.push(`TRANSFER ${formatCents(facts.amountCents)}`);
      break;
    case 'balance':
      lines.push('BALANCE INQUIRY');
      for (const a of facts.accounts ?? []) lines.push(`Account ...${a.accountId.slice(-4)}`, `  Balance: ${formatCents(a.balanceCents)}`, `  Available: ${formatCents(a.availableCents)}`);
      break;
  }
  if (facts.authorizationId !== undefined) lines.push(`Auth: ${facts.authorizationId}`);
  if (facts.postingId !== undefined) lines.push(`Reference: ${facts.postingId}`);
  if (facts.balanceAfterCents !== undefined) lines.push(`Balance: ${formatCents(facts.balanceAfterCents)}`);
  if (facts.availableAfterCents !== undefined) lines.push(`Available: ${formatCents(facts.availableAfterCents)}`);
  lines.push('', 'Thank you');
  return lines;
}

/** "Date: 2026-12-05  Time: 09:42:07 EST": the kiosk's local time, with the zone's short name. */
function localTime(nowMs: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).formatToParts(new Date(nowMs));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `Date: ${part('year')}-${part('month')}-${part('day')}  Time: ${part('hour')}:${part('minute')}:${part('second')} ${part('timeZoneName')}`;
}
