// The alert conditions that need the ledger, found by one pass over its indexes of open things: withdrawal
// holds no kiosk settled within `holdAttentionAfterMs`, deposits opened and not committed within
// `openDepositAttentionAfterMs`, open money exceptions, and the latest balancing report of each kiosk. The
// same pass counts what the metrics show of holds. Each index holds only open items, so the pass is
// bounded by what is open, never by the ledger's history.
import type { HostConfig } from '../config.js';
import { OPEN_EXCEPTION_PREFIX, readException } from '../ledger/exceptions.js';
import { DEPOSIT_HOLD_DUE_PREFIX, OPEN_DEPOSIT_PREFIX, OPEN_HOLD_PREFIX, depositHoldKey, type DepositHoldRecord } from '../ledger/records.js';
import { readHold } from '../ledger/withdrawals.js';
import type { KeyValueStore } from '../store/host-store.js';
import type { AlertCondition } from './alert-rules.js';
import { readLatestBalancing } from './balancing.js';

/** Open items one pass looks at per index; past it the pass stops and says so in the log. */
export const SCAN_ITEMS_MAX = 100_000;

export interface HoldTotals {
  readonly withdrawalHolds: number;
  readonly withdrawalHeldCents: number;
  readonly withdrawalHoldsNeedingAttention: number;
  readonly depositHolds: number;
  readonly depositHeldCents: number;
}

export interface StoreScan {
  readonly scannedMs: number;
  readonly conditions: ReadonlyMap<string, readonly AlertCondition[]>;
  readonly totals: HoldTotals;
  /** An index had more open items than SCAN_ITEMS_MAX. */
  readonly truncated: boolean;
}

const minutes = (ms: number) => `${Math.floor(ms / 60_000)} min`;

interface Tally {
  count: number;
  oldestMs: number;
}

function tally(map: Map<string, Tally>, deviceId: string, sinceMs: number): void {
  const entry = map.get(deviceId);
  if (entry === undefined) map.set(deviceId, { count: 1, oldestMs: sinceMs });
  else {
    entry.count++;
    entry.oldestMs = Math.min(entry.oldestMs, sinceMs);
  }
}

export async function scanStore(db: KeyValueStore, config: HostConfig, deviceIds: readonly string[], nowMs: number): Promise<StoreScan> {
  let truncated = false;
  const staleHolds = new Map<string, Tally>();
  let withdrawalHolds = 0;
  let withdrawalHeldCents = 0;
  let withdrawalHoldsNeedingAttention = 0;
  for await (const [key] of db.entries<unknown>(OPEN_HOLD_PREFIX, { limit: SCAN_ITEMS_MAX + 1 })) {
    if (withdrawalHolds === SCAN_ITEMS_MAX) {
      truncated = true;
      break;
    }
    const hold = await readHold(db, key.slice(OPEN_HOLD_PREFIX.length));
    if (hold === undefined || hold.status !== 'held') continue;
    withdrawalHolds++;
    withdrawalHeldCents += hold.amountCents;
    if (nowMs - hold.createdMs >= config.holdAttentionAfterMs) {
      withdrawalHoldsNeedingAttention++;
      tally(staleHolds, hold.deviceId, hold.createdMs);
    }
  }

  const openDeposits = new Map<string, Tally>();
  let depositsSeen = 0;
  for await (const [key, value] of db.entries<{ openedMs?: number }>(OPEN_DEPOSIT_PREFIX, { limit: SCAN_ITEMS_MAX + 1 })) {
    if (++depositsSeen > SCAN_ITEMS_MAX) {
      truncated = true;
      break;
    }
    // depopen:<deviceId>:<depositId>
    const deviceId = key.slice(OPEN_DEPOSIT_PREFIX.length, key.lastIndexOf(':'));
    const openedMs = typeof value?.openedMs === 'number' ? value.openedMs : 0;
    if (nowMs - openedMs >= config.openDepositAttentionAfterMs) tally(openDeposits, deviceId, openedMs);
  }

  let depositHolds = 0;
  let depositHeldCents = 0;
  for await (const [key] of db.entries<unknown>(DEPOSIT_HOLD_DUE_PREFIX, { limit: SCAN_ITEMS_MAX + 1 })) {
    if (depositHolds === SCAN_ITEMS_MAX) {
      truncated = true;
      break;
    }
    const hold = await db.get<DepositHoldRecord>(depositHoldKey(key.slice(key.lastIndexOf(':') + 1)));
    if (hold === undefined || hold.status !== 'held') continue;
    depositHolds++;
    depositHeldCents += hold.amountCents;
  }

  const exceptions = new Map<string, Tally>();
  let exceptionsSeen = 0;
  for await (const [key] of db.entries<unknown>(OPEN_EXCEPTION_PREFIX, { limit: SCAN_ITEMS_MAX + 1 })) {
    if (++exceptionsSeen > SCAN_ITEMS_MAX) {
      truncated = true;
      break;
    }
    const exception = await readException(db, key.slice(OPEN_EXCEPTION_PREFIX.length));
    if (exception !== undefined && exception.status === 'open') tally(exceptions, exception.deviceId, exception.createdMs);
  }

  const conditions = new Map<string, AlertCondition[]>();
  const add = (deviceId: string, condition: AlertCondition) => {
    const list = conditions.get(deviceId);
    if (list === undefined) conditions.set(deviceId, [condition]);
    else list.push(condition);
  };
  for (const [deviceId, t] of staleHolds) add(deviceId, { kind: 'stale-holds', detail: `${t.count} withdrawal hold(s) unsettled, the oldest for ${minutes(nowMs - t.oldestMs)}` });
  for (const [deviceId, t] of openDeposits) add(deviceId, { kind: 'open-deposits', detail: `${t.count} deposit(s) opened and not committed, the oldest for ${minutes(nowMs - t.oldestMs)}` });
  for (const [deviceId, t] of exceptions) add(deviceId, { kind: 'money-exceptions', detail: `${t.count} open money exception(s): bank-host exceptions list` });
  for (const deviceId of deviceIds) {
    const balancing = await readLatestBalancing(db, deviceId);
    if (balancing?.unbalanced) {
      const differences = balancing.containers.filter((c) => c.differenceCents !== 0).map((c) => `${c.container} ${c.differenceCents > 0 ? '+' : ''}${c.differenceCents} cents`);
      add(deviceId, { kind: 'unbalanced', detail: `balancing of ${new Date(balancing.balancedMs).toISOString()}: ${differences.join(', ') || 'unreadable report'}` });
    }
  }
  return {
    scannedMs: nowMs,
    conditions,
    totals: { withdrawalHolds, withdrawalHeldCents, withdrawalHoldsNeedingAttention, depositHolds, depositHeldCents },
    truncated,
  };
}
