// What the printer prints in supervisor mode: the counters (before anything is touched) and the balancing
// receipt (when the replenishment closes). For the technician and the branch, in English like the other
// receipts: no customer data, no ledger secret; amounts as $x.xx from integer cents.
import { formatCents } from '../../../protocol/money.js';
import type { NoteTally } from '../journal.js';
import type { ReplenishmentJournalRecord } from './replenishment-journal.js';

function header(title: string, kioskId: string, nowMs: number, technician: string): string[] {
  const when = new Date(nowMs).toISOString();
  return [title, `Date: ${when.slice(0, 10)}  Time: ${when.slice(11, 19)} UTC`, `Kiosk: ${kioskId}`, `Technician: ${technician}`, ''];
}

const signed = (cents: number) => (cents > 0 ? `+${formatCents(cents)}` : formatCents(cents));
const noteLine = (n: NoteTally) => `  ${n.count} x ${formatCents(n.denominationCents)} = ${formatCents(n.count * n.denominationCents)}`;

export interface CountersFacts {
  readonly kioskId: string;
  readonly nowMs: number;
  readonly technician: string;
  /** The dispenser's cassettes as it reports them, cassette 0 first. */
  readonly cassettes: readonly NoteTally[];
  /** Notes that ever left each cassette, by the dispenser's own count (absent when it did not answer). */
  readonly lifetimeDispensed?: readonly number[];
  /** The cashbox's notes as the kiosk's journal counts them (absent without a note acceptor). */
  readonly cashbox?: readonly NoteTally[];
}

export function composeCountersReceipt(facts: CountersFacts): string[] {
  const lines = header('KIOSK COUNTERS', facts.kioskId, facts.nowMs, facts.technician);
  lines.push('CASSETTES');
  facts.cassettes.forEach((c, i) => lines.push(`  #${i + 1} ${formatCents(c.denominationCents)}: ${c.count} notes${facts.lifetimeDispensed?.[i] !== undefined ? `, ${facts.lifetimeDispensed[i]} dispensed ever` : ''}`));
  lines.push(`  Total: ${formatCents(facts.cassettes.reduce((s, c) => s + c.denominationCents * c.count, 0))}`);
  if (facts.cashbox !== undefined) {
    lines.push('CASHBOX');
    for (const n of facts.cashbox) lines.push(noteLine(n));
    lines.push(`  Total: ${formatCents(facts.cashbox.reduce((s, n) => s + n.denominationCents * n.count, 0))}`);
  }
  lines.push('', 'Count each container before you compare.');
  return lines;
}

/** The balancing receipt: each container counted against its ledger account, what was loaded, the result. */
export function composeBalancingReceipt(kioskId: string, nowMs: number, record: ReplenishmentJournalRecord): string[] {
  const lines = header('BALANCING RECEIPT', kioskId, nowMs, record.technician);
  lines.push(`Replenishment: ${record.replenishmentId}`, '');
  for (const u of record.unloaded) {
    lines.push(u.container === 'cassettes' ? 'CASSETTES UNLOADED' : 'CASHBOX EMPTIED');
    lines.push(`  Counted: ${formatCents(u.countedCents)}`, `  Ledger:  ${formatCents(u.ledgerCents)}`, `  Difference: ${signed(u.differenceCents)}`);
  }
  if (record.loaded !== undefined) {
    lines.push('CASSETTES LOADED');
    for (const n of record.loaded.notes) lines.push(noteLine(n));
    lines.push(`  Total: ${formatCents(record.loaded.loadedCents)}`);
  }
  const differences = record.unloaded.filter((u) => u.differenceCents !== 0);
  lines.push('');
  lines.push(differences.length === 0 ? 'BALANCED' : `NOT BALANCED: ${signed(differences.reduce((s, u) => s + u.differenceCents, 0))} to over/short; the bank will follow up`);
  return lines;
}
