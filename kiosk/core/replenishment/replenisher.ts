// The durable steps of a replenishment at the kiosk (docs/technician-guide.md). Each count the technician
// enters is journalled with a fresh request id before it is sent; the host's answer is then carried into
// the kiosk's own counts (unloaded cassettes: the dispenser's counts set to 0; an emptied cashbox: the
// journal's cashbox count starts from 0; new cassettes: the dispenser's counts set to what was loaded), and
// only then is the step journalled as done. A kiosk that lost power at any point finishes the step it
// journalled with `finishPending` (the same request id: the host posts once; setting counts twice sets them
// once), so the ledger and the kiosk's counts never part.
import type { ChannelClient } from '../../../protocol/client.js';
import { ProtocolError } from '../../../protocol/errors.js';
import { newRequestId } from '../../../protocol/envelope.js';
import type { Logger } from '../../../protocol/log.js';
import type { ContainerBalance, ReplenishmentState, ResultOf } from '../../../protocol/messages.js';
import type { CashDispenser } from '../../devices/dispenser/types.js';
import type { KioskJournal, NoteTally } from '../journal.js';
import type { ReplenishmentJournal, ReplenishmentJournalRecord, ReplenishmentStep } from './replenishment-journal.js';

/** Each host request of a replenishment step retries (same request id) for this long. */
export const REPLENISHMENT_REQUEST_DEADLINE_MS = 15_000;
export const REPLENISHMENT_REQUEST_TIMEOUT_MS = 5_000;

/** Where a step can be cut (the power-loss tests kill the kiosk there). */
export type ReplenishmentCrashPoint = 'step-journalled' | 'host-answered' | 'counts-set' | 'step-done';

export interface ReplenisherDeps {
  readonly client: () => ChannelClient;
  readonly journal: ReplenishmentJournal;
  readonly cashbox: () => KioskJournal | undefined;
  readonly dispenser: () => CashDispenser;
  /** The configured cassettes, cassette 0 first: how loaded notes map to the dispenser's cassettes. */
  readonly cassetteDenominationsCents: readonly number[];
  readonly log: Logger;
  readonly now: () => number;
  readonly requestDeadlineMs?: number;
  readonly onStep?: (point: ReplenishmentCrashPoint, step: ReplenishmentStep) => void;
  /** The kiosk's counts changed (a status report is due); `cassettes` when the dispenser's were set. */
  readonly countsChanged: (cassettes?: readonly NoteTally[]) => void;
}

const noteTallies = (notes: readonly NoteTally[]): NoteTally[] => notes.filter((n) => n.count > 0).map((n) => ({ denominationCents: n.denominationCents, count: n.count })).sort((a, b) => a.denominationCents - b.denominationCents);

const balanceRecord = (b: ContainerBalance) => ({ container: b.container, countedCents: b.countedCents, ledgerCents: b.ledgerCents, differenceCents: b.differenceCents });

export type StepAnswer = ContainerBalance | ResultOf<'replenish.load'> | ResultOf<'replenish.close'>;

export class Replenisher {
  /** The step being run or finished: recovery never starts the same step a second time. */
  private current: Promise<unknown> | undefined;

  constructor(private readonly deps: ReplenisherDeps) {}

  get open(): ReplenishmentJournalRecord | undefined {
    return this.deps.journal.open;
  }

  /** The last replenishment, closed or not (the balancing receipt's facts). */
  get latest(): ReplenishmentJournalRecord | undefined {
    return this.deps.journal.latest;
  }

  /** The host opened (or resumed) `state` for `technician`: journalled before anything is counted. */
  async opened(state: ReplenishmentState, technician: string): Promise<ReplenishmentJournalRecord> {
    const known = this.deps.journal.open;
    // The kiosk's journal is the truth of what it did; the host's state fills in a replenishment the kiosk
    // had not journalled yet (power lost right after the open).
    if (known?.replenishmentId === state.replenishmentId) return known;
    const record: ReplenishmentJournalRecord = {
      kind: 'replenishment',
      replenishmentId: state.replenishmentId,
      technician,
      openedMs: state.openedMs,
      cassetteDenominationsCents: [...state.cassetteDenominationsCents],
      cashboxDenominationsCents: [...state.cashboxDenominationsCents],
      unloaded: state.unloaded.map(balanceRecord),
      updatedMs: this.deps.now(),
    };
    await this.deps.journal.record(record);
    return record;
  }

  /** One step, from the journal line to the kiosk's counts. A recovery in flight (a step a power loss cut,
   *  being finished after a reconnect) ends first. */
  async run(step: ReplenishmentStep, notes: readonly NoteTally[]): Promise<StepAnswer> {
    await this.current?.catch(() => undefined);
    const record = this.deps.journal.open;
    if (record === undefined) throw new Error('no replenishment is open');
    if (record.pending !== undefined) throw new Error(`step ${record.pending.step} is unfinished`);
    if (this.current !== undefined) throw new Error('a replenishment step is running');
    const pending = { step, notes: noteTallies(notes), requestId: newRequestId() };
    return this.exclusively(async () => {
      await this.deps.journal.record({ ...record, pending, updatedMs: this.deps.now() });
      this.deps.onStep?.('step-journalled', step);
      return this.finishOrForget({ ...record, pending });
    });
  }

  /** Finishes the step a power loss interrupted (no session needed: the host's steps are sessionless). A step
   *  already running (the technician's own, or another recovery) is waited for, never started twice. */
  async finishPending(): Promise<void> {
    if (this.current !== undefined) {
      await this.current.catch(() => undefined);
      return;
    }
    const record = this.deps.journal.open;
    if (record?.pending === undefined) return;
    const pending = record.pending;
    this.deps.log.info('finishing an interrupted replenishment step', { replenishmentId: record.replenishmentId, step: pending.step });
    await this.exclusively(() => this.finishOrForget({ ...record, pending }));
  }

  private async exclusively<T>(work: () => Promise<T>): Promise<T> {
    const running = work();
    this.current = running;
    try {
      return await running;
    } finally {
      if (this.current === running) this.current = undefined;
    }
  }

  /** A step the host refused (not a lost answer: a refusal changed nothing there) is taken off the
   *  journal, so it is not sent again; the refusal goes to the caller. */
  private async finishOrForget(record: ReplenishmentJournalRecord & { pending: NonNullable<ReplenishmentJournalRecord['pending']> }): Promise<StepAnswer> {
    try {
      return await this.finish(record);
    } catch (error) {
      if (error instanceof ProtocolError && !error.retryable) {
        const { pending: _refused, ...rest } = record;
        await this.deps.journal.record({ ...rest, updatedMs: this.deps.now() });
      }
      throw error;
    }
  }

  private async finish(record: ReplenishmentJournalRecord & { pending: NonNullable<ReplenishmentJournalRecord['pending']> }): Promise<StepAnswer> {
    const { step, notes, requestId } = record.pending;
    const options = { requestId, deadlineMs: this.deps.now() + (this.deps.requestDeadlineMs ?? REPLENISHMENT_REQUEST_DEADLINE_MS), timeoutMs: REPLENISHMENT_REQUEST_TIMEOUT_MS };
    const client = this.deps.client();
    const { replenishmentId } = record;
    const { pending: _done, ...rest } = record;
    let next: ReplenishmentJournalRecord;
    let answer: StepAnswer;
    if (step === 'close') {
      const closed = await client.requestWithRetry('replenish.close', { replenishmentId }, options);
      this.deps.onStep?.('host-answered', step);
      answer = closed;
      next = { ...rest, closed: { closedMs: closed.closedMs, balanced: closed.balanced, loadedCents: closed.loadedCents } };
    } else if (step === 'load-cassettes') {
      const loaded = await client.requestWithRetry('replenish.load', { replenishmentId, notes: [...notes] }, options);
      this.deps.onStep?.('host-answered', step);
      await this.setCassettes(notes);
      answer = loaded;
      next = { ...rest, loaded: { notes, loadedCents: loaded.loadedCents } };
    } else {
      const container = step === 'unload-cassettes' ? 'cassettes' : 'cashbox';
      const balance = await client.requestWithRetry('replenish.unload', { replenishmentId, container, notes: [...notes] }, options);
      this.deps.onStep?.('host-answered', step);
      if (container === 'cassettes') await this.setCassettes([]);
      else await this.emptyCashbox();
      answer = balance;
      next = { ...rest, unloaded: [...rest.unloaded.filter((u) => u.container !== container), balanceRecord(balance)] };
    }
    this.deps.onStep?.('counts-set', step);
    await this.deps.journal.record({ ...next, updatedMs: this.deps.now() });
    this.deps.onStep?.('step-done', step);
    this.deps.countsChanged();
    return answer;
  }

  /** The dispenser's counts: the notes loaded per cassette (all of a denomination in its first cassette). */
  private async setCassettes(notes: readonly NoteTally[]): Promise<void> {
    const left = new Map(notes.map((n) => [n.denominationCents, n.count]));
    const counts = this.deps.cassetteDenominationsCents.map((denominationCents) => {
      const count = left.get(denominationCents) ?? 0;
      left.delete(denominationCents);
      return count;
    });
    const status = await this.deps.dispenser().setCassetteCounts(counts);
    this.deps.countsChanged(status.cassettes.map((c) => ({ denominationCents: c.denominationCents, count: c.count })));
  }

  close(): Promise<void> {
    return this.deps.journal.close();
  }

  private async emptyCashbox(): Promise<void> {
    const journal = this.deps.cashbox();
    if (journal === undefined) throw new Error('the kiosk journal is not open: the cashbox count cannot be reset');
    // Emptying twice (a step finished again after a power loss) counts from zero twice: no deposit runs in
    // between, since recovery finishes this step before any customer.
    await journal.recordCashboxEmptied(this.deps.now());
  }
}
