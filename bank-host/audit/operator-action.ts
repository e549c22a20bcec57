// What operator functions (admin CLI, admin socket) share, wherever they live (customers/admin.ts,
// ledger/operator.ts): the services they need, and the rule that every operator action leaves an audit
// record with actor `operator`, failed ones included.
import type { HostConfig } from '../config.js';
import { AdminError } from '../errors.js';
import type { HostKeys } from '../keys.js';
import type { BatchOp, KeyValueStore } from '../store/host-store.js';
import type { StoreLocks } from '../store/host-store.js';
import type { AuditedCommitter, AuditEvent } from './event.js';

/** What an operator function is given: the host's store, its settings and keys, and its clock. The host's
 *  services (operations/context.ts) are one; so is a stopped host's state that the CLI opens. */
export interface OperatorServices {
  readonly db: KeyValueStore;
  readonly committer: AuditedCommitter;
  readonly locks: StoreLocks;
  readonly config: HostConfig;
  readonly keys: HostKeys;
  readonly now: () => number;
}

/** Non-secret facts an operator action fills in as it learns them; they become its audit record. */
export interface OperatorFacts {
  customerId?: string;
  amountCents?: number;
  detail?: Record<string, string | number | boolean>;
}

export function operatorEvent(action: string, outcome: 'ok' | 'failed', facts: OperatorFacts, reason?: string): AuditEvent {
  return {
    action,
    outcome,
    actor: 'operator',
    ...(facts.customerId !== undefined && { customerId: facts.customerId }),
    ...(facts.amountCents !== undefined && { amountCents: facts.amountCents }),
    ...(reason !== undefined && { reason }),
    ...(facts.detail !== undefined && { detail: { ...facts.detail } }),
  };
}

export interface OperatorAction {
  readonly services: OperatorServices;
  readonly facts: OperatorFacts;
  /** Writes `ops` with the action's `ok` record in one synced batch. Call inside the action's locks. */
  commit(ops: readonly BatchOp[]): Promise<void>;
}

/** Runs an operator action; an AdminError it throws is recorded as a failed action, then rethrown. */
export async function runOperatorAction<T>(services: OperatorServices, action: string, work: (run: OperatorAction) => Promise<T>): Promise<T> {
  const facts: OperatorFacts = {};
  let committed = false;
  const run: OperatorAction = {
    services,
    facts,
    async commit(ops) {
      if (committed) throw new Error(`operator action ${action} committed twice`);
      committed = true;
      await services.committer.commit({ ops, events: [operatorEvent(action, 'ok', facts)] });
    },
  };
  try {
    return await work(run);
  } catch (error) {
    if (error instanceof AdminError && !committed) {
      await services.committer.commit({ ops: [], events: [operatorEvent(action, 'failed', facts, error.code)] });
    }
    throw error;
  }
}
