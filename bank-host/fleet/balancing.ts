// A kiosk's balancing reports: written by the host's replenishment operations (operations/replenishment.ts)
// as a technician unloads and counts each container, read by the fleet for the `unbalanced` alert and the
// console's "last balancing", and resolved by an operator (`bank-host fleet resolve`).
//
// The contract:
//   key    `balance:<deviceId>:<balancedMs as 15 digits>` (so a kiosk's reports sort by time, the latest last;
//          one report per replenishment, rewritten as each of its containers is counted)
//   value  BalancingRecord below: one entry per container counted (`cassettes`, `cashbox`), each with the
//          value of the notes the technician counted, the value the container's ledger account said it
//          held at that moment, and the difference counted − ledger, all in cents.
//   index  `balopen:<deviceId>:<balancedMs>` while a report has a difference no operator has resolved.
// A kiosk is unbalanced while any of its reports has an unresolved difference: a later replenishment that
// balances exactly does not make an earlier difference go away; only `bank-host fleet resolve` does (it
// writes who-knows-why into the report, audited as `fleet.resolve`, and the alert clears).
import type { BatchOp, KeyValueStore } from '../store/host-store.js';
import type { BalancingView } from './views.js';

export const BALANCING_PREFIX = 'balance:';
export const UNRESOLVED_BALANCING_PREFIX = 'balopen:';
const TIME_DIGITS = 15;
/** Unresolved reports one kiosk's scan reads: a kiosk is replenished a few times a week. */
export const UNRESOLVED_PER_KIOSK_MAX = 1_000;
/** The operator's note on a resolution. */
export const RESOLUTION_CHARS_MAX = 500;

const stamp = (balancedMs: number) => String(balancedMs).padStart(TIME_DIGITS, '0');
export const balancingPrefix = (deviceId: string): string => `${BALANCING_PREFIX}${deviceId}:`;
export const balancingKey = (deviceId: string, balancedMs: number): string => `${balancingPrefix(deviceId)}${stamp(balancedMs)}`;
export const unresolvedBalancingPrefix = (deviceId: string): string => `${UNRESOLVED_BALANCING_PREFIX}${deviceId}:`;
export const unresolvedBalancingKey = (deviceId: string, balancedMs: number): string => `${unresolvedBalancingPrefix(deviceId)}${stamp(balancedMs)}`;

export interface ContainerBalancing {
  readonly container: 'cassettes' | 'cashbox';
  readonly countedCents: number;
  readonly ledgerCents: number;
  readonly differenceCents: number;
}

export interface BalancingRecord {
  readonly deviceId: string;
  readonly balancedMs: number;
  /** The replenishment that counted (absent on records written by hand before replenishment existed). */
  readonly replenishmentId?: string;
  readonly containers: readonly ContainerBalancing[];
  /** An operator looked at the difference: when, and what they wrote. */
  readonly resolvedMs?: number;
  readonly resolution?: string;
}

const hasDifference = (record: Pick<BalancingRecord, 'containers'>) => record.containers.some((c) => c.differenceCents !== 0);

/** The report's operations: the report, and its index while it has a difference nobody resolved. */
export function balancingOps(record: BalancingRecord): BatchOp[] {
  const ops: BatchOp[] = [{ type: 'put', key: balancingKey(record.deviceId, record.balancedMs), value: record }];
  if (hasDifference(record) && record.resolvedMs === undefined) ops.push({ type: 'put', key: unresolvedBalancingKey(record.deviceId, record.balancedMs), value: { balancedMs: record.balancedMs } });
  return ops;
}

function toView(deviceId: string, record: BalancingRecord): BalancingView {
  const containers = Array.isArray(record?.containers) ? record.containers : [];
  const wellFormed =
    containers.length > 0 &&
    containers.every((c) => Number.isSafeInteger(c.countedCents) && Number.isSafeInteger(c.ledgerCents) && c.differenceCents === c.countedCents - c.ledgerCents);
  const resolved = Number.isSafeInteger(record?.resolvedMs);
  return {
    deviceId,
    balancedMs: Number.isSafeInteger(record?.balancedMs) ? record.balancedMs : 0,
    containers: containers.map((c) => ({ container: c.container, countedCents: c.countedCents, ledgerCents: c.ledgerCents, differenceCents: c.differenceCents })),
    // A record without the contract's shape is unbalanced rather than ignored: someone must look at it.
    unbalanced: !resolved && (!wellFormed || containers.some((c) => c.differenceCents !== 0)),
    ...(resolved && { resolvedMs: record.resolvedMs, resolution: typeof record.resolution === 'string' ? record.resolution : '' }),
  };
}

export async function readBalancing(db: Pick<KeyValueStore, 'get'>, deviceId: string, balancedMs: number): Promise<BalancingRecord | undefined> {
  return db.get<BalancingRecord>(balancingKey(deviceId, balancedMs));
}

/** The kiosk's latest balancing report, or undefined when it has none. */
export async function readLatestBalancing(db: Pick<KeyValueStore, 'entries'>, deviceId: string): Promise<BalancingView | undefined> {
  for await (const [, record] of db.entries<BalancingRecord>(balancingPrefix(deviceId), { reverse: true, limit: 1 })) return toView(deviceId, record);
  return undefined;
}

/** The kiosk's reports with a difference no operator resolved, oldest first. */
export async function readUnresolvedBalancings(db: Pick<KeyValueStore, 'entries' | 'get'>, deviceId: string): Promise<BalancingView[]> {
  const views: BalancingView[] = [];
  for await (const [, index] of db.entries<{ balancedMs: number }>(unresolvedBalancingPrefix(deviceId), { limit: UNRESOLVED_PER_KIOSK_MAX })) {
    const record = await readBalancing(db, deviceId, index.balancedMs);
    // An index naming no report is itself something to look at.
    views.push(record === undefined ? { deviceId, balancedMs: index.balancedMs, containers: [], unbalanced: true } : toView(deviceId, record));
  }
  return views;
}

/** The operations that resolve `record`: the note written into it, the index removed. */
export function resolvedBalancingOps(record: BalancingRecord, resolution: string, nowMs: number): BatchOp[] {
  return [
    { type: 'put', key: balancingKey(record.deviceId, record.balancedMs), value: { ...record, resolvedMs: nowMs, resolution } satisfies BalancingRecord },
    { type: 'del', key: unresolvedBalancingKey(record.deviceId, record.balancedMs) },
  ];
}
