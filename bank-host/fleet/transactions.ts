// A kiosk's transactions, as its cash accounts' ledger legs show them: withdrawals paid from its
// cassettes (`cash-<id>`) and deposits stacked into its cashbox (`cashbox-<id>`). Transfers move no cash
// and are not counted. No PAN ever: a withdrawal made with a card shows the card's last four digits, from
// its hold. Counts per hour are kept in memory and brought up to date from the legs written since the last
// look, so a chart refresh reads only what is new.
import type { KeyValueStore } from '../store/host-store.js';
import { type PostingLeg, cashAccountId, cashboxAccountId, postingKey, postingPrefix } from '../ledger/records.js';
import { readHold } from '../ledger/withdrawals.js';
import type { HourCount, TransactionView } from './views.js';

export const HOUR_MS = 3_600_000;
export const CHART_HOURS = 24;
/** Recent transactions shown for one kiosk. */
export const RECENT_TRANSACTIONS = 20;
/** Legs one account's count examines per look: a kiosk pays a few hundred a day, far fewer. */
const LEGS_EXAMINED_MAX = 5_000;

export const kioskCashAccounts = (deviceId: string): readonly string[] => [cashAccountId(deviceId), cashboxAccountId(deviceId)];

const seqOf = (key: string) => Number(key.slice(key.lastIndexOf(':') + 1));

/** The kiosk's latest transactions, newest first. */
export async function recentTransactions(db: KeyValueStore, deviceId: string, limit = RECENT_TRANSACTIONS): Promise<TransactionView[]> {
  const legs: PostingLeg[] = [];
  for (const accountId of kioskCashAccounts(deviceId)) {
    for await (const [, leg] of db.entries<PostingLeg>(postingPrefix(accountId), { reverse: true, limit })) legs.push(leg);
  }
  legs.sort((a, b) => b.timestampMs - a.timestampMs);
  const views: TransactionView[] = [];
  for (const leg of legs.slice(0, limit)) {
    const hold = leg.authorizationId !== undefined ? await readHold(db, leg.authorizationId) : undefined;
    views.push({
      postingId: leg.postingId,
      kind: leg.kind,
      amountCents: Math.abs(leg.amountCents),
      timestampMs: leg.timestampMs,
      ...(hold?.cardLast4 !== undefined && { cardLast4: hold.cardLast4 }),
    });
  }
  return views;
}

interface AccountCounts {
  /** The next leg to look at. */
  nextSeq: number;
  /** Withdrawals or deposits per hour start. */
  readonly hours: Map<number, number>;
}

/** Transactions per hour for kiosks, counted incrementally from their cash accounts' legs. */
export class HourlyTransactions {
  private readonly accounts = new Map<string, AccountCounts>();

  constructor(private readonly db: KeyValueStore) {}

  /** The last CHART_HOURS hours for `deviceIds` together, oldest first. */
  async perHour(deviceIds: readonly string[], nowMs: number): Promise<HourCount[]> {
    const firstHourMs = Math.floor(nowMs / HOUR_MS) * HOUR_MS - (CHART_HOURS - 1) * HOUR_MS;
    const withdrawals = new Map<number, number>();
    const deposits = new Map<number, number>();
    for (const deviceId of deviceIds) {
      const [cassettes, cashbox] = kioskCashAccounts(deviceId) as [string, string];
      for (const [accountId, into] of [[cassettes, withdrawals], [cashbox, deposits]] as const) {
        const counts = await this.bringUpToDate(accountId, firstHourMs);
        for (const [hourMs, n] of counts.hours) if (hourMs >= firstHourMs) into.set(hourMs, (into.get(hourMs) ?? 0) + n);
      }
    }
    return Array.from({ length: CHART_HOURS }, (_, i) => {
      const hourMs = firstHourMs + i * HOUR_MS;
      return { hourMs, withdrawals: withdrawals.get(hourMs) ?? 0, deposits: deposits.get(hourMs) ?? 0 };
    });
  }

  private async bringUpToDate(accountId: string, firstHourMs: number): Promise<AccountCounts> {
    let counts = this.accounts.get(accountId);
    if (counts === undefined) {
      // First look: from the newest leg back to the start of the chart.
      counts = { nextSeq: 1, hours: new Map() };
      let newest: number | undefined;
      for await (const [key, leg] of this.db.entries<PostingLeg>(postingPrefix(accountId), { reverse: true, limit: LEGS_EXAMINED_MAX })) {
        newest ??= seqOf(key);
        if (leg.timestampMs < firstHourMs) break;
        countLeg(counts, leg);
      }
      counts.nextSeq = (newest ?? 0) + 1;
      this.accounts.set(accountId, counts);
    } else {
      for await (const [key, leg] of this.db.entries<PostingLeg>(postingPrefix(accountId), { gte: postingKey(accountId, counts.nextSeq), limit: LEGS_EXAMINED_MAX })) {
        countLeg(counts, leg);
        counts.nextSeq = seqOf(key) + 1;
      }
    }
    for (const hourMs of counts.hours.keys()) if (hourMs < firstHourMs) counts.hours.delete(hourMs);
    return counts;
  }
}

function countLeg(counts: AccountCounts, leg: PostingLeg): void {
  const hourMs = Math.floor(leg.timestampMs / HOUR_MS) * HOUR_MS;
  counts.hours.set(hourMs, (counts.hours.get(hourMs) ?? 0) + 1);
}
