// Operator functions on the ledger: the holds no kiosk settled, and settling them by hand. A hold is
// never settled by a timer; a person decides, after counting the kiosk's cash or reading its journal.
import { ProtocolError } from '../../protocol/errors.js';
import type { KeyValueStore } from '../store/host-store.js';
import { AdminError } from '../errors.js';
import { type OperatorServices, runOperatorAction } from '../audit/operator-action.js';
import { OPEN_HOLD_PREFIX, type HoldRecord } from './records.js';
import { type Settlement, type SettlementResult, readHold, settleAuthorization } from './withdrawals.js';

/** Open holds listed at most per call. */
export const HOLDS_LISTED_MAX = 1_000;

export interface OpenHold {
  readonly authorizationId: string;
  readonly accountId: string;
  readonly customerId: string;
  readonly deviceId: string;
  readonly amountCents: number;
  readonly createdMs: number;
  readonly ageMs: number;
  readonly cardLast4?: string;
}

/** Holds still `held`, oldest first; with `olderThanMs`, only those at least that old. */
export async function listHolds(
  services: { readonly db: KeyValueStore; readonly now: () => number },
  options: { readonly olderThanMs?: number; readonly limit?: number } = {},
): Promise<OpenHold[]> {
  const nowMs = services.now();
  const limit = Math.min(options.limit ?? HOLDS_LISTED_MAX, HOLDS_LISTED_MAX);
  const holds: OpenHold[] = [];
  for await (const [key] of services.db.entries<unknown>(OPEN_HOLD_PREFIX)) {
    const hold = await readHold(services.db, key.slice(OPEN_HOLD_PREFIX.length));
    // The index and the records are written in one batch; a missing or settled hold here is a fault
    // `checkLedger` reports, not something to list.
    if (hold === undefined || hold.status !== 'held') continue;
    const ageMs = nowMs - hold.createdMs;
    if (options.olderThanMs !== undefined && ageMs < options.olderThanMs) continue;
    holds.push(openHoldView(hold, ageMs));
  }
  holds.sort((a, b) => a.createdMs - b.createdMs);
  return holds.slice(0, limit);
}

/** How many holds are open, however young; bounded by the open-hold index, which only open holds are in. */
export async function countOpenHolds(db: KeyValueStore): Promise<number> {
  let count = 0;
  for await (const _ of db.entries<unknown>(OPEN_HOLD_PREFIX)) count++;
  return count;
}

function openHoldView(hold: HoldRecord, ageMs: number): OpenHold {
  return {
    authorizationId: hold.authorizationId,
    accountId: hold.accountId,
    customerId: hold.customerId,
    deviceId: hold.deviceId,
    amountCents: hold.amountCents,
    createdMs: hold.createdMs,
    ageMs,
    ...(hold.cardLast4 !== undefined && { cardLast4: hold.cardLast4 }),
  };
}

/** Settles a hold as an operator: `complete` posts `dispensedCents` (default: the whole hold) and releases
 *  the rest; `reverse` releases it all. Repeating the same resolution answers the same result. */
export async function resolveHold(
  services: OperatorServices,
  authorizationId: string,
  resolution: 'complete' | 'reverse',
  dispensedCents?: number,
): Promise<SettlementResult> {
  return runOperatorAction(services, 'hold.resolve', async (run) => {
    run.facts.detail = { authorizationId, resolution };
    let settlement: Settlement = { kind: 'reverse' };
    if (resolution === 'complete') {
      // A hold's amount never changes, so reading it outside the locks to default the amount is safe.
      const hold = await readHold(services.db, authorizationId);
      if (hold === undefined) throw new AdminError('UNKNOWN_AUTHORIZATION', `no authorization ${authorizationId}`);
      settlement = { kind: 'complete', dispensedCents: dispensedCents ?? hold.amountCents };
    }
    try {
      return await settleAuthorization(
        services,
        authorizationId,
        settlement,
        { nowMs: services.now(), settledBy: 'operator', currency: services.config.currency },
        async (plan) => {
          run.facts.customerId = plan.hold.customerId;
          run.facts.amountCents = plan.result.postedCents;
          run.facts.detail = {
            authorizationId,
            resolution,
            accountId: plan.hold.accountId,
            deviceId: plan.hold.deviceId,
            releasedCents: plan.result.releasedCents,
            repeated: plan.repeated,
          };
          await run.commit(plan.ops);
          return plan.result;
        },
      );
    } catch (error) {
      if (
        error instanceof ProtocolError &&
        (error.code === 'UNKNOWN_AUTHORIZATION' || error.code === 'AUTHORIZATION_SETTLED' || error.code === 'BAD_AMOUNT')
      ) {
        throw new AdminError(error.code, error.message);
      }
      throw error;
    }
  });
}
