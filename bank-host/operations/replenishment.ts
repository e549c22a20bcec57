// Replenishment and balancing (docs/technician-guide.md). A technician signs in at the kiosk with their
// supervisor card; `replenish.open` starts a replenishment of that kiosk (or resumes the one open there);
// `replenish.unload` takes the technician's count of one container, moves the counted notes to the branch
// vault, posts any difference to over/short and writes the kiosk's balancing report; `replenish.load` moves
// the notes of the new cassettes from the vault; `replenish.close` ends it. Unload, load and close are
// sessionless, like deposit.commit: a kiosk that lost power mid-step finishes the step it journalled, with
// the same request id, whether or not the technician signed in again; they act only on a replenishment that
// this kiosk opened with a supervisor card. Every step is one synced batch with its audit record.
import { ProtocolError } from '../../protocol/errors.js';
import type { ContainerBalance, ReplenishmentState, ResultOf } from '../../protocol/messages.js';
import { readKioskStatus } from '../devices/kiosk-status.js';
import { type BalancingRecord, balancingOps, balancingPrefix } from '../fleet/balancing.js';
import { readAccount } from '../ledger/accounts.js';
import { invariant } from '../ledger/invariants.js';
import { newCashAccount } from '../ledger/journal.js';
import { ledgerHoldsCents, newBranchAccount, newReplenishmentId, planLoad, planUnload, sameCounts, sumCountedNotes } from '../ledger/replenishments.js';
import {
  type AccountRecord,
  type ContainerUnload,
  type ReplenishmentRecord,
  accountKey,
  cashAccountId,
  cashboxAccountId,
  openReplenishmentKey,
  overShortAccountId,
  replenishmentKey,
  vaultAccountId,
} from '../ledger/records.js';
import type { BatchOp, KeyValueStore } from '../store/host-store.js';
import type { HostServices, OperationTable } from './context.js';
import { type OperationRun, type Work, operation } from './run.js';

export async function readReplenishment(db: Pick<KeyValueStore, 'get'>, replenishmentId: string): Promise<ReplenishmentRecord | undefined> {
  const record = await db.get<ReplenishmentRecord>(replenishmentKey(replenishmentId));
  if (record !== undefined) invariant(record.replenishmentId === replenishmentId, `replenishment ${replenishmentId} is misfiled`);
  return record;
}

const balanceOf = (unload: ContainerUnload): ContainerBalance => ({
  container: unload.container,
  countedCents: unload.countedCents,
  ledgerCents: unload.ledgerCents,
  differenceCents: unload.differenceCents,
  postingIds: [...unload.postingIds],
});

function stateOf(record: ReplenishmentRecord): ReplenishmentState {
  return {
    replenishmentId: record.replenishmentId,
    cassetteDenominationsCents: [...record.cassetteDenominationsCents],
    cashboxDenominationsCents: [...record.cashboxDenominationsCents],
    unloaded: record.unloaded.map(balanceOf),
    ...(record.loaded !== undefined && { loadedCents: record.loaded.loadedCents }),
    openedMs: record.openedMs,
  };
}

/** The kiosk's last balancing time, so a new replenishment's report never shares its key. */
async function lastBalancedMs(db: KeyValueStore, deviceId: string): Promise<number> {
  for await (const [, record] of db.entries<BalancingRecord>(balancingPrefix(deviceId), { reverse: true, limit: 1 })) return record.balancedMs;
  return 0;
}

const openReplenishment: Work<'replenish.open'> = async (run) => {
  run.requireSupervisor();
  const { db, locks, config } = run.services;
  const { nowMs, connection } = run.ctx;
  const deviceId = connection.deviceId;
  return locks.withLocks([openReplenishmentKey(deviceId)], async () => {
    const open = await db.get<{ replenishmentId: string }>(openReplenishmentKey(deviceId));
    if (open !== undefined) {
      // A kiosk that restarted, or a second technician: the replenishment already open goes on.
      const record = await readReplenishment(db, open.replenishmentId);
      invariant(record !== undefined && record.status === 'open', `open replenishment index of ${deviceId} names no open replenishment`);
      run.detail.replenishmentId = record.replenishmentId;
      run.detail.resumed = true;
      return run.succeed(stateOf(record));
    }
    const status = (await readKioskStatus(db, deviceId))?.status;
    const record: ReplenishmentRecord = {
      replenishmentId: newReplenishmentId(),
      deviceId,
      branchId: config.branchId,
      technicianId: run.requireSupervisor().customerId,
      status: 'open',
      openedMs: nowMs,
      balancedMs: Math.max(nowMs, (await lastBalancedMs(db, deviceId)) + 1),
      cassetteDenominationsCents: [...new Set((status?.cassettes ?? []).map((c) => c.denominationCents))].sort((a, b) => a - b),
      cashboxDenominationsCents: [...(status?.noteAcceptor?.denominationsCents ?? [])].sort((a, b) => a - b),
      unloaded: [],
    };
    run.detail.replenishmentId = record.replenishmentId;
    return run.succeed(stateOf(record), [
      { type: 'put', key: replenishmentKey(record.replenishmentId), value: record },
      { type: 'put', key: openReplenishmentKey(deviceId), value: { replenishmentId: record.replenishmentId } },
    ]);
  });
};

/** The replenishment, when this kiosk opened it; UNKNOWN_REPLENISHMENT otherwise (another kiosk's is
 *  unknown too: a kiosk learns nothing of other kiosks). */
async function requireOwnReplenishment<T extends 'replenish.unload' | 'replenish.load' | 'replenish.close'>(run: OperationRun<T>, replenishmentId: string): Promise<ReplenishmentRecord> {
  run.detail.replenishmentId = replenishmentId;
  const record = await readReplenishment(run.services.db, replenishmentId);
  if (record === undefined || record.deviceId !== run.ctx.connection.deviceId) throw new ProtocolError('UNKNOWN_REPLENISHMENT');
  run.customerId = record.technicianId;
  return record;
}

async function readOrNew(db: KeyValueStore, accountId: string, fresh: () => AccountRecord): Promise<AccountRecord> {
  return (await readAccount(db, accountId)) ?? fresh();
}

function containerAccountOf(services: HostServices, record: ReplenishmentRecord, container: 'cassettes' | 'cashbox', nowMs: number): { id: string; fresh: () => AccountRecord } {
  const { currency } = services.config;
  if (container === 'cassettes') return { id: cashAccountId(record.deviceId), fresh: () => newCashAccount(record.deviceId, cashAccountId(record.deviceId), currency, nowMs) };
  return { id: cashboxAccountId(record.deviceId), fresh: () => ({ ...newCashAccount(record.deviceId, cashboxAccountId(record.deviceId), currency, nowMs), container: 'cashbox' }) };
}

const unload: Work<'replenish.unload'> = async (run, { replenishmentId, container, notes }) => {
  const { db, locks, config } = run.services;
  const { nowMs } = run.ctx;
  const first = await requireOwnReplenishment(run, replenishmentId);
  run.detail.container = container;
  // Checked before any lock: a bad count changes nothing.
  const countedCents = sumCountedNotes(notes, container === 'cassettes' ? first.cassetteDenominationsCents : first.cashboxDenominationsCents, container);
  run.amountCents = countedCents;
  const target = containerAccountOf(run.services, first, container, nowMs);
  const vaultId = vaultAccountId(first.branchId);
  const overShortId = overShortAccountId(first.branchId);
  return locks.withLocks([replenishmentKey(replenishmentId), accountKey(target.id), accountKey(vaultId), accountKey(overShortId)], async () => {
    const record = await readReplenishment(db, replenishmentId);
    invariant(record !== undefined, `replenishment ${replenishmentId} disappeared`);
    const done = record.unloaded.find((u) => u.container === container);
    if (done !== undefined) {
      // The same count again (a kiosk that did not hear the answer) gets the first answer; another count
      // is refused: a container is balanced once per replenishment.
      if (!sameCounts(done.notes, notes)) throw new ProtocolError('REPLENISHMENT_STEP_DONE');
      run.detail.repeated = true;
      return run.succeed(balanceOf(done));
    }
    if (record.status !== 'open') throw new ProtocolError('UNKNOWN_REPLENISHMENT');
    if (container === 'cassettes' && record.loaded !== undefined) throw new ProtocolError('REPLENISHMENT_ORDER', 'new cassettes are loaded already; their count is the next replenishment’s');
    const plan = planUnload({
      deviceId: record.deviceId,
      container,
      notes,
      countedCents,
      containerAccount: await readOrNew(db, target.id, target.fresh),
      vault: await readOrNew(db, vaultId, () => newBranchAccount(record.branchId, 'vault', config.currency, nowMs)),
      overShort: await readOrNew(db, overShortId, () => newBranchAccount(record.branchId, 'over-short', config.currency, nowMs)),
      nowMs,
      requestId: run.ctx.requestId,
    });
    const updated: ReplenishmentRecord = { ...record, unloaded: [...record.unloaded, plan.unload] };
    const report: BalancingRecord = {
      deviceId: record.deviceId,
      balancedMs: record.balancedMs,
      replenishmentId,
      containers: updated.unloaded.map((u) => ({ container: u.container, countedCents: u.countedCents, ledgerCents: u.ledgerCents, differenceCents: u.differenceCents })),
    };
    Object.assign(run.detail, { countedCents, ledgerCents: plan.unload.ledgerCents, differenceCents: plan.unload.differenceCents });
    const result = await run.succeed(balanceOf(plan.unload), [...plan.ops, { type: 'put', key: replenishmentKey(replenishmentId), value: updated }, ...balancingOps(report)]);
    // Once durable: the fleet decides the kiosk's `unbalanced` alert now.
    run.services.fleet?.balancingChanged();
    return result;
  });
};

const load: Work<'replenish.load'> = async (run, { replenishmentId, notes }) => {
  const { db, locks, config } = run.services;
  const { nowMs } = run.ctx;
  const first = await requireOwnReplenishment(run, replenishmentId);
  const loadedCents = sumCountedNotes(notes, first.cassetteDenominationsCents, 'cassettes');
  run.amountCents = loadedCents;
  const target = containerAccountOf(run.services, first, 'cassettes', nowMs);
  const vaultId = vaultAccountId(first.branchId);
  return locks.withLocks([replenishmentKey(replenishmentId), accountKey(target.id), accountKey(vaultId)], async () => {
    const record = await readReplenishment(db, replenishmentId);
    invariant(record !== undefined, `replenishment ${replenishmentId} disappeared`);
    if (record.loaded !== undefined) {
      if (!sameCounts(record.loaded.notes, notes)) throw new ProtocolError('REPLENISHMENT_STEP_DONE');
      run.detail.repeated = true;
      const cassettes = await readOrNew(db, target.id, target.fresh);
      return run.succeed({ loadedCents: record.loaded.loadedCents, ...(record.loaded.postingId !== undefined && { postingId: record.loaded.postingId }), ledgerCents: ledgerHoldsCents(cassettes) });
    }
    if (record.status !== 'open') throw new ProtocolError('UNKNOWN_REPLENISHMENT');
    if (!record.unloaded.some((u) => u.container === 'cassettes')) throw new ProtocolError('REPLENISHMENT_ORDER');
    const plan = planLoad({
      deviceId: record.deviceId,
      loadedCents,
      cassettes: await readOrNew(db, target.id, target.fresh),
      vault: await readOrNew(db, vaultId, () => newBranchAccount(record.branchId, 'vault', config.currency, nowMs)),
      nowMs,
      requestId: run.ctx.requestId,
    });
    const loaded = {
      notes: notes.filter((n) => n.count > 0).map((n) => ({ denominationCents: n.denominationCents, count: n.count })),
      loadedCents,
      ...(plan.postingId !== undefined && { postingId: plan.postingId }),
      requestId: run.ctx.requestId,
    };
    run.detail.loadedCents = loadedCents;
    return run.succeed(
      { loadedCents, ...(plan.postingId !== undefined && { postingId: plan.postingId }), ledgerCents: ledgerHoldsCents(plan.cassettes) },
      [...plan.ops, { type: 'put', key: replenishmentKey(replenishmentId), value: { ...record, loaded } satisfies ReplenishmentRecord }],
    );
  });
};

function closedResult(record: ReplenishmentRecord): ResultOf<'replenish.close'> {
  invariant(record.closedMs !== undefined, `replenishment ${record.replenishmentId} is not closed`);
  return {
    replenishmentId: record.replenishmentId,
    unloaded: record.unloaded.map(balanceOf),
    loadedCents: record.loaded?.loadedCents ?? 0,
    closedMs: record.closedMs,
    balanced: record.unloaded.every((u) => u.differenceCents === 0),
  };
}

const close: Work<'replenish.close'> = async (run, { replenishmentId }) => {
  const { db, locks } = run.services;
  const first = await requireOwnReplenishment(run, replenishmentId);
  return locks.withLocks([replenishmentKey(replenishmentId), openReplenishmentKey(first.deviceId)], async () => {
    const record = await readReplenishment(db, replenishmentId);
    invariant(record !== undefined, `replenishment ${replenishmentId} disappeared`);
    if (record.status === 'closed') {
      run.detail.repeated = true;
      return run.succeed(closedResult(record));
    }
    const closed: ReplenishmentRecord = { ...record, status: 'closed', closedMs: run.ctx.nowMs };
    const result = closedResult(closed);
    run.detail.balanced = result.balanced;
    const ops: BatchOp[] = [
      { type: 'put', key: replenishmentKey(replenishmentId), value: closed },
      { type: 'del', key: openReplenishmentKey(record.deviceId) },
    ];
    return run.succeed(result, ops);
  });
};

export const replenishmentOperations: OperationTable = {
  'replenish.open': operation(openReplenishment),
  'replenish.unload': operation(unload),
  'replenish.load': operation(load),
  'replenish.close': operation(close),
};
