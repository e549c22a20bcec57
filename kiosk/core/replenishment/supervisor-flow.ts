// The kiosk's supervisor mode: a technician's card and PIN (the host answers the sign-in with the
// `supervisor` role) open it instead of the customer menu. The technician prints the counters, unloads and
// counts the cassettes and the cashbox, loads new cassettes with their counts, and closes, which prints the
// balancing receipt (docs/technician-guide.md). Each count goes through the Replenisher, journalled before
// it is sent. A supervisor session does nothing a customer does, and the host refuses it if it tried.
import { ProtocolError } from '../../../protocol/errors.js';
import type { SessionInfo } from '../../../protocol/messages.js';
import { describe } from '../../common/errors.js';
import { isDeviceError } from '../../devices/serial/device-error.js';
import { KioskCommandError, requireScreen } from '../command-checks.js';
import type { FlowContext } from '../flows/context.js';
import type { ContainerBalanceView, NoteCountView, SessionView, SupervisorCount, SupervisorCountRequest } from '../ui-contract.js';
import { composeBalancingReceipt, composeCountersReceipt } from './balancing-receipt.js';
import type { Replenisher } from './replenisher.js';
import { CONTAINER_NOTES_MAX, type ReplenishmentJournalRecord } from './replenishment-journal.js';

export interface SupervisorDeps {
  readonly replenisher: () => Replenisher | undefined;
  readonly printerReady: () => boolean;
  /** The kiosk's counts changed (a status report is due). */
  readonly statusChanged: () => void;
}

type SupervisorView = Extract<SessionView, { kind: 'supervisor' }>;

const viewOf = (record: ReplenishmentJournalRecord, counting?: SupervisorCount): SupervisorView => ({
  kind: 'supervisor',
  technician: record.technician,
  replenishmentId: record.replenishmentId,
  cassetteDenominationsCents: [...record.cassetteDenominationsCents],
  cashboxDenominationsCents: [...record.cashboxDenominationsCents],
  unloaded: record.unloaded.map((u): ContainerBalanceView => ({ container: u.container, countedCents: u.countedCents, ledgerCents: u.ledgerCents, differenceCents: u.differenceCents })),
  ...(record.loaded !== undefined && { loadedCents: record.loaded.loadedCents }),
  ...(counting !== undefined && { counting }),
});

const CONTAINER_OF: Readonly<Record<SupervisorCount, 'cassettes' | 'cashbox'>> = { 'unload-cassettes': 'cassettes', 'unload-cashbox': 'cashbox', 'load-cassettes': 'cassettes' };

export class SupervisorFlow {
  constructor(
    private readonly ctx: FlowContext,
    private readonly deps: SupervisorDeps,
  ) {}

  /** Called by the sign-in flow, inside its operation, when the host answered with the supervisor role. */
  async enter(info: SessionInfo): Promise<void> {
    const { session, visit } = this.ctx;
    session.customer = { username: info.username, accounts: [], ...(info.cardLast4 ? { cardLast4: info.cardLast4 } : {}) };
    const replenisher = this.requireReplenisher();
    try {
      // A step a power loss cut is finished before the technician goes on.
      await replenisher.finishPending();
      const state = await this.ctx.client().requestWithRetry('replenish.open', {}, { deadlineMs: this.ctx.now() + this.ctx.customerRequestDeadlineMs, timeoutMs: 5_000 });
      const record = await replenisher.opened(state, info.username);
      session.view = viewOf(record);
      session.go('supervisor');
    } catch (error) {
      this.ctx.log.warn('supervisor mode could not start', { error: describe(error) });
      await visit.end({ code: error instanceof ProtocolError ? (error.retryable ? 'HOST_UNAVAILABLE' : error.code) : 'INTERNAL' });
    }
  }

  /** Prints what the kiosk counts of its containers, before the technician touches them. */
  async printCounters(): Promise<void> {
    const { session, visit } = this.ctx;
    requireScreen(session, 'supervisor');
    const record = this.requireOpen();
    if (!this.deps.printerReady()) return session.setNotice({ code: 'RECEIPT_UNAVAILABLE' });
    await visit.operate(async (epoch) => {
      const devices = this.ctx.devices();
      let code = 'COUNTERS_PRINTED';
      try {
        const status = await devices.dispenser.status();
        const lifetime = await devices.dispenser.counters().then((c) => c.lifetimeDispensed, () => undefined);
        const cashbox = this.ctx.config.devices.noteAcceptor ? (this.ctx.journal()?.cashbox() ?? []) : undefined;
        await devices.printer.print(
          composeCountersReceipt({
            kioskId: this.ctx.config.deviceId,
            nowMs: this.ctx.now(),
            technician: record.technician,
            cassettes: status.cassettes.map((c) => ({ denominationCents: c.denominationCents, count: c.count })),
            ...(lifetime !== undefined && { lifetimeDispensed: lifetime }),
            ...(cashbox !== undefined && { cashbox }),
          }),
        );
      } catch (error) {
        this.ctx.log.warn('counters not printed', { error: describe(error) });
        code = isDeviceError(error) ? error.code : 'RECEIPT_UNAVAILABLE';
      }
      if (visit.isCurrent(epoch)) session.go('supervisor', { code });
    });
  }

  /** Opens the count screen for one step. The cassettes are unloaded before new ones are loaded, and each
   *  container is unloaded once per replenishment. */
  beginCount(step: SupervisorCount): void {
    const { session } = this.ctx;
    requireScreen(session, 'supervisor');
    const record = this.requireOpen();
    if (step !== 'load-cassettes' && record.unloaded.some((u) => u.container === CONTAINER_OF[step])) throw new KioskCommandError('WRONG_STATE', `the ${CONTAINER_OF[step]} were counted already`);
    if (step === 'load-cassettes' && !record.unloaded.some((u) => u.container === 'cassettes')) throw new KioskCommandError('WRONG_STATE', 'unload the cassettes first');
    if (step === 'load-cassettes' && record.loaded !== undefined) throw new KioskCommandError('WRONG_STATE', 'the new cassettes are loaded already');
    if (step === 'unload-cashbox' && !this.ctx.config.devices.noteAcceptor) throw new KioskCommandError('WRONG_STATE', 'this kiosk has no cashbox');
    session.view = viewOf(record, step);
    session.go('supervisor-count');
  }

  /** Back from the count screen without sending anything. */
  back(): void {
    const { session } = this.ctx;
    requireScreen(session, 'supervisor-count');
    session.view = viewOf(this.requireOpen());
    session.go('supervisor');
  }

  /** The technician's count for the step on screen: journalled, sent, carried into the kiosk's counts. */
  async submitCount(request: SupervisorCountRequest): Promise<void> {
    const { session, visit } = this.ctx;
    requireScreen(session, 'supervisor-count');
    const record = this.requireOpen();
    const view = session.view;
    if (view?.kind !== 'supervisor' || view.counting !== request.step) throw new KioskCommandError('WRONG_STATE', `the screen is not counting ${request.step}`);
    const notes = this.checkNotes(request.notes, request.step === 'unload-cashbox' ? record.cashboxDenominationsCents : record.cassetteDenominationsCents);
    await visit.operate(async (epoch) => {
      const replenisher = this.requireReplenisher();
      try {
        const answer = await replenisher.run(request.step, notes);
        if (!visit.isCurrent(epoch)) return;
        session.view = viewOf(this.requireOpen());
        if ('differenceCents' in answer) session.go('supervisor', { code: answer.differenceCents === 0 ? 'COUNT_BALANCED' : 'COUNT_DIFFERENCE', amountCents: answer.differenceCents });
        else session.go('supervisor', { code: 'CASSETTES_LOADED', amountCents: 'loadedCents' in answer ? answer.loadedCents : 0 });
      } catch (error) {
        await this.failed(epoch, error);
      } finally {
        this.deps.statusChanged();
      }
    });
  }

  /** Ends the replenishment: the host closes it, the balancing receipt is printed, the technician leaves. */
  async close(): Promise<void> {
    const { session, visit } = this.ctx;
    requireScreen(session, 'supervisor');
    this.requireOpen();
    await visit.operate(async (epoch) => {
      const replenisher = this.requireReplenisher();
      let code = 'REPLENISHMENT_CLOSED';
      try {
        const record = this.requireOpen();
        await replenisher.run('close', []);
        const closed = replenisher.latest ?? record;
        if (!this.deps.printerReady()) code = 'RECEIPT_UNAVAILABLE';
        else {
          try {
            await this.ctx.devices().printer.print(composeBalancingReceipt(this.ctx.config.deviceId, this.ctx.now(), closed));
          } catch (error) {
            this.ctx.log.warn('balancing receipt not printed', { error: describe(error) });
            code = isDeviceError(error) ? error.code : 'RECEIPT_UNAVAILABLE';
          }
        }
      } catch (error) {
        return this.failed(epoch, error);
      }
      if (visit.isCurrent(epoch)) await visit.end({ code });
    });
  }

  private async failed(epoch: number, error: unknown): Promise<void> {
    const { session, visit } = this.ctx;
    this.ctx.log.warn('replenishment step failed', { error: describe(error) });
    if (!visit.isCurrent(epoch)) return;
    if (error instanceof ProtocolError && !error.retryable && error.code !== 'NOT_SIGNED_IN') {
      session.view = viewOf(this.requireOpen());
      session.go('supervisor', { code: error.code });
      return;
    }
    // Unanswered: the step stays journalled and is finished when the host is back (recovery, or the next
    // sign-in of a technician).
    await visit.end({ code: error instanceof ProtocolError ? 'HOST_UNAVAILABLE' : 'INTERNAL' });
  }

  /** Each denomination one of the container's, once; each count a whole number 0..CONTAINER_NOTES_MAX. */
  private checkNotes(notes: readonly NoteCountView[], denominations: readonly number[]): NoteCountView[] {
    if (!Array.isArray(notes) || notes.length > denominations.length) throw new KioskCommandError('BAD_ARGUMENT', 'one count per denomination of the container');
    const seen = new Set<number>();
    for (const n of notes) {
      if (!denominations.includes(n.denominationCents) || seen.has(n.denominationCents)) throw new KioskCommandError('BAD_ARGUMENT', `${n.denominationCents} cents is not a note of this container, or is counted twice`);
      if (!Number.isSafeInteger(n.count) || n.count < 0 || n.count > CONTAINER_NOTES_MAX) throw new KioskCommandError('BAD_ARGUMENT', `a count is a whole number of notes, 0 to ${CONTAINER_NOTES_MAX}`);
      seen.add(n.denominationCents);
    }
    return notes.map((n) => ({ denominationCents: n.denominationCents, count: n.count }));
  }

  private requireReplenisher(): Replenisher {
    const replenisher = this.deps.replenisher();
    if (replenisher === undefined) throw new KioskCommandError('WRONG_STATE', 'the replenishment journal is not open');
    return replenisher;
  }

  private requireOpen(): ReplenishmentJournalRecord {
    const record = this.deps.replenisher()?.open;
    if (record === undefined) throw new KioskCommandError('WRONG_STATE', 'no replenishment is open');
    return record;
  }
}
