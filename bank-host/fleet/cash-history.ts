// Cash levels over time, for the console's chart: a bounded history of samples per kiosk, taken from its
// status reports. A sample is written when the counts changed and the last sample is at least
// CASH_SAMPLE_MIN_INTERVAL_MS old, or when the last one is CASH_SAMPLE_MAX_INTERVAL_MS old; samples older
// than CASH_HISTORY_RETENTION_MS are deleted as new ones are written. So a kiosk has at most
// retention / min interval samples (2,016: a week at one per 5 minutes).
import type { KioskStatus } from '../../protocol/messages.js';
import type { BatchOp, KeyValueStore } from '../store/host-store.js';
import { cashboxOf, cassettesValueCents } from './alert-rules.js';
import type { CashPointView } from './views.js';

export const CASH_SAMPLE_MIN_INTERVAL_MS = 5 * 60_000;
export const CASH_SAMPLE_MAX_INTERVAL_MS = 30 * 60_000;
export const CASH_HISTORY_RETENTION_MS = 7 * 24 * 3_600_000;
/** Old samples deleted per new one: more than are ever due at once, so the history never grows. */
const PRUNE_PER_SAMPLE = 64;
/** Samples one chart reads at most (a week at the densest rate). */
export const CASH_HISTORY_READ_MAX = 2_016;

export const CASH_POINT_PREFIX = 'cashpt:';
const TIME_DIGITS = 15;
export const cashPointPrefix = (deviceId: string): string => `${CASH_POINT_PREFIX}${deviceId}:`;
export const cashPointKey = (deviceId: string, timestampMs: number): string => `${cashPointPrefix(deviceId)}${String(timestampMs).padStart(TIME_DIGITS, '0')}`;

export function cashPointOf(status: KioskStatus, timestampMs: number): CashPointView {
  return {
    timestampMs,
    cashCents: cassettesValueCents(status),
    cassetteNotes: status.cassettes.map((c) => c.count),
    cashboxNotes: cashboxOf(status)?.notes ?? null,
  };
}

const sameCounts = (a: CashPointView, b: CashPointView) =>
  a.cashboxNotes === b.cashboxNotes && a.cassetteNotes.length === b.cassetteNotes.length && a.cassetteNotes.every((n, i) => n === b.cassetteNotes[i]);

/** Whether `next` is worth a sample after `last`. */
export function sampleDue(last: CashPointView | undefined, next: CashPointView): boolean {
  if (last === undefined) return true;
  const ageMs = next.timestampMs - last.timestampMs;
  if (ageMs >= CASH_SAMPLE_MAX_INTERVAL_MS) return true;
  return ageMs >= CASH_SAMPLE_MIN_INTERVAL_MS && !sameCounts(last, next);
}

export async function readLatestCashPoint(db: Pick<KeyValueStore, 'entries'>, deviceId: string): Promise<CashPointView | undefined> {
  for await (const [, point] of db.entries<CashPointView>(cashPointPrefix(deviceId), { reverse: true, limit: 1 })) return point;
  return undefined;
}

/** The operations that store `point` and delete the kiosk's samples past the retention. */
export async function cashPointOps(db: Pick<KeyValueStore, 'entries'>, deviceId: string, point: CashPointView): Promise<BatchOp[]> {
  const ops: BatchOp[] = [{ type: 'put', key: cashPointKey(deviceId, point.timestampMs), value: point }];
  const cutoff = cashPointKey(deviceId, Math.max(0, point.timestampMs - CASH_HISTORY_RETENTION_MS));
  for await (const [key] of db.entries<unknown>(cashPointPrefix(deviceId), { lte: cutoff, limit: PRUNE_PER_SAMPLE })) ops.push({ type: 'del', key });
  return ops;
}

/** The kiosk's samples since `sinceMs`, oldest first. */
export async function readCashHistory(db: Pick<KeyValueStore, 'entries'>, deviceId: string, sinceMs: number): Promise<CashPointView[]> {
  const points: CashPointView[] = [];
  for await (const [, point] of db.entries<CashPointView>(cashPointPrefix(deviceId), { gte: cashPointKey(deviceId, Math.max(0, sinceMs)), limit: CASH_HISTORY_READ_MAX })) points.push(point);
  return points;
}
