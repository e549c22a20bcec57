// The seam between the fleet and the kiosk's supervisor mode (replenishment and balancing, built later):
// how the host reads a kiosk's balancing reports. The supervisor mode writes one record per count, and
// the fleet reads the latest one for the `unbalanced` alert and the console's "last balancing".
//
// The contract, for whoever writes them:
//   key    `balance:<deviceId>:<balancedMs as 15 digits>` (so a kiosk's reports sort by time, the latest last)
//   value  BalancingRecord below: one entry per container counted (`cassettes`, `cashbox`), each with the
//          value of the notes the technician counted, the value the container's ledger account says it
//          holds at that moment, and the difference counted − ledger, all in cents.
// A kiosk is unbalanced while its latest report has any container whose difference is not 0; a later
// report with every difference 0 (a recount, or the adjustment the supervisor mode records) clears it.
// No record is written by the host today, so no kiosk is unbalanced and the console says "no balancing
// report yet".
import type { KeyValueStore } from '../store/host-store.js';
import type { BalancingView } from './views.js';

export const BALANCING_PREFIX = 'balance:';
const TIME_DIGITS = 15;

export const balancingPrefix = (deviceId: string): string => `${BALANCING_PREFIX}${deviceId}:`;
export const balancingKey = (deviceId: string, balancedMs: number): string => `${balancingPrefix(deviceId)}${String(balancedMs).padStart(TIME_DIGITS, '0')}`;

export interface BalancingRecord {
  readonly deviceId: string;
  readonly balancedMs: number;
  readonly containers: readonly {
    readonly container: 'cassettes' | 'cashbox';
    readonly countedCents: number;
    readonly ledgerCents: number;
    readonly differenceCents: number;
  }[];
}

/** The kiosk's latest balancing report, or undefined when it has none. A record that does not have the
 *  contract's shape is reported as unbalanced rather than ignored: someone must look at it. */
export async function readLatestBalancing(db: Pick<KeyValueStore, 'entries'>, deviceId: string): Promise<BalancingView | undefined> {
  for await (const [, record] of db.entries<BalancingRecord>(balancingPrefix(deviceId), { reverse: true, limit: 1 })) {
    const containers = Array.isArray(record?.containers) ? record.containers : [];
    const wellFormed =
      containers.length > 0 &&
      containers.every((c) => Number.isSafeInteger(c.countedCents) && Number.isSafeInteger(c.ledgerCents) && c.differenceCents === c.countedCents - c.ledgerCents);
    return {
      deviceId,
      balancedMs: Number.isSafeInteger(record?.balancedMs) ? record.balancedMs : 0,
      containers: containers.map((c) => ({ container: c.container, countedCents: c.countedCents, ledgerCents: c.ledgerCents, differenceCents: c.differenceCents })),
      unbalanced: !wellFormed || containers.some((c) => c.differenceCents !== 0),
    };
  }
  return undefined;
}
