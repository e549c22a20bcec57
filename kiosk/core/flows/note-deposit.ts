// A deposit of notes in the customer's presence: choose the account → deposit.open → the acceptor enabled
// for the notes both the host and this kiosk take → each note the acceptor validates is stacked (or handed
// back when it would take the day's deposits over the limit) and counted on the screen → Done commits
// exactly the stacked notes, Cancel hands back the note in escrow (notes already stacked cannot be handed
// back, so they are credited), and then the receipt question. The money follows the acceptor's `stacked`
// events alone, each journalled before anything else hears of it (deposit.ts); the acceptor is enabled
// only while a deposit is open and disabled again at its end.
//
// Every acceptor event runs in one queue, in the order the acceptor reported them, so that a note's
// stacked event is journalled after its stacking line and before the next note is looked at, and Done
// waits for the note being stacked. Outside a deposit, a note found in escrow (a kiosk restarted with a
// note held) is handed back, and a note stacked (it should not be: the acceptor is disabled) is counted
// in the cashbox and logged.
import { describe } from '../../common/errors.js';
import { isDeviceError } from '../../devices/serial/device-error.js';
import type { NoteAcceptorEvent, NoteAcceptorFaultCode, NoteRef, RejectReason } from '../../devices/note-acceptor/types.js';
import { KioskCommandError, requireScreen } from '../command-checks.js';
import { commitDeposit, journalStacked, journalStacking, openDeposit, resolveStacking, saveDeposit, type CommitOutcome, type DepositDeps } from '../deposit.js';
import type { KioskDevices, KioskNoteAcceptor } from '../devices.js';
import { DEPOSIT_NOTES_MAX, notesCount, notesTotalCents, type DepositRecord } from '../journal.js';
import type { Notice, SessionView } from '../ui-contract.js';
import { accountOrDefault, updateAccounts } from './accounts.js';
import type { FlowContext } from './context.js';
import type { ReceiptChoice } from './receipt-choice.js';

export interface DepositFlowDeps {
  readonly receipts: ReceiptChoice;
  /** What the journalled steps need (deposit.ts), with the test hook. */
  depositDeps(): DepositDeps;
  /** The acceptor is ready and nothing is unfinished: a deposit may start. */
  depositAvailable(): boolean;
  /** A deposit stopped half-way; recovery will finish it and says why it could not yet. */
  noteUnfinished(reason: string): void;
  /** A journal write failed or a money invariant broke: no deposit until a technician has looked. */
  noteDepositFault(reason: string): void;
  /** A fault the acceptor does not latch ended a deposit: check its notes (and disable it) again first. */
  recheckAcceptor(reason: string): void;
  /** The cashbox counts changed: the status report follows. */
  statusChanged(): void;
}

import { FAULT_NOTICES, REJECT_NOTICES, tellOutcome, type FinishReason } from './deposit-outcome.js';

interface LiveDeposit {
  record: DepositRecord;
  readonly epoch: number;
  readonly enabledCents: readonly number[];
  readonly remainingTodayCents: number;
  /** No more notes: every note from now on is handed back. */
  finishing: boolean;
  /** A note is being checked or stacked. */
  counting: boolean;
  /** A stack resolved by the accept counter before its event came: that late event is not a second note. */
  absorbStacked: number | undefined;
}

export class DepositFlow {
  private live: LiveDeposit | undefined;
  /** Acceptor events and the deposit's end, one at a time, in order. */
  private queue: Promise<void> = Promise.resolve();
  /** A stacker fault was seen: its clearing means the cashbox was emptied (or swapped). */
  private stackerOpened = false;

  constructor(
    private readonly ctx: FlowContext,
    private readonly deps: DepositFlowDeps,
  ) {
    // Whatever ends the visit while a deposit is open (a path that does not ask this flow first), the
    // deposit is finished: the acceptor disabled, the escrow handed back, the stacked notes credited.
    ctx.visit.onEnd(() => {
      if (this.live && !this.live.finishing) this.finishSoon('visit-ended');
    });
  }

  /** A deposit is open: no device check, no recovery, and cancel, inactivity and host loss come here. */
  get active(): boolean {
    return this.live !== undefined;
  }

  /** Waits for every queued event and the deposit's end (tests, stop()). */
  idle(): Promise<void> {
    return this.queue;
  }

  watch(devices: KioskDevices): (() => void)[] {
    const acceptor = devices.noteAcceptor;
    if (!acceptor) return [];
    return [
      acceptor.onEvent((event) => this.onEvent(acceptor, event)),
      acceptor.onAvailabilityChange((change) => {
        if (change.availability !== 'available' && this.live && !this.live.finishing) {
          this.ctx.log.warn('note acceptor lost during a deposit', { reason: change.reason });
          this.finishSoon('fault', { code: 'DEPOSIT_STOPPED' });
        }
      }),
    ];
  }

  /** The customer chose the account: open the deposit at the host and start taking notes. */
  async begin(accountId?: string): Promise<void> {
    const { ctx } = this;
    const { session, visit, log } = ctx;
    requireScreen(session, 'deposit');
    if (this.live) throw new KioskCommandError('WRONG_STATE', 'a deposit is already open');
    const account = accountOrDefault(session, accountId);
    const acceptor = ctx.devices().noteAcceptor;
    if (!acceptor || !ctx.journal() || !this.deps.depositAvailable()) {
      session.setNotice({ code: 'DEPOSIT_UNAVAILABLE' });
      return;
    }
    if (session.customer?.depositRemainingTodayCents === 0) {
      session.setNotice({ code: 'DEPOSIT_LIMIT_EXCEEDED' });
      return;
    }
    const depositDeps = this.deps.depositDeps();
    await visit.operate(async (epoch) => {
      let opened;
      try {
        opened = await openDeposit(depositDeps, account);
      } catch (error) {
        this.fault(error);
        await visit.end({ code: 'DEPOSIT_UNAVAILABLE' });
        return;
      }
      if (opened.kind === 'unfinished') {
        // The open may have reached the host: recovery asks again with the same request id.
        this.deps.noteUnfinished(opened.reason);
        await visit.end({ code: 'HOST_UNAVAILABLE' });
        return;
      }
      if (opened.kind === 'declined') {
        if (opened.code === 'NOT_SIGNED_IN' || opened.code === 'SESSION_EXPIRED') await visit.end({ code: opened.code });
        else session.go('deposit', { code: opened.code });
        return;
      }
      const record = opened.record;
      const enabledCents = record.denominationsCents ?? [];
      const live: LiveDeposit = {
        record,
        epoch,
        enabledCents,
        remainingTodayCents: record.remainingTodayCents ?? 0,
        finishing: false,
        counting: false,
        absorbStacked: undefined,
      };
      this.live = live;
      try {
        if (enabledCents.length === 0) throw new Error('the host takes none of the notes this kiosk accepts');
        await acceptor.enable(enabledCents);
      } catch (error) {
        log.warn('note acceptor not enabled for a deposit', { error: describe(error) });
        this.deps.recheckAcceptor(`not enabled for a deposit: ${describe(error)}`);
        // Nothing was taken: the host's deposit is closed with no notes.
        live.finishing = true;
        await this.enqueue(() => this.settle(live, 'fault', { code: 'DEPOSIT_UNAVAILABLE' }), 'deposit end');
        return;
      }
      if (!visit.isCurrent(epoch)) {
        this.finishSoon('visit-ended');
        return;
      }
      // A fault or a cancel came while the acceptor was being enabled: the deposit is already ending, and
      // its end shows the next screen.
      if (live.finishing) return;
      session.view = this.countingView(live);
      session.go('deposit');
    });
  }

  /** The customer pressed Done: the acceptor stops, the note in escrow goes back, the stacked notes are
   *  committed, then the receipt question. */
  done(): Promise<void> {
    return this.stop('done', 'deposit');
  }

  /** The deposit screen's Cancel: the note in escrow goes back; notes already stacked are credited (the
   *  acceptor cannot give them back, and the screen says so); with none, back to the menu. */
  cancel(): Promise<void> {
    requireScreen(this.ctx.session, 'deposit');
    if (!this.live) {
      this.ctx.session.view = undefined;
      this.ctx.session.go('menu');
      return Promise.resolve();
    }
    return this.stop('cancel-deposit', 'deposit');
  }

  /** The visit is ending (the header's Cancel, inactivity, the host lost) while a deposit is open: credit
   *  what was stacked, hand back the escrow, then goodbye with `notice`. */
  endVisit(notice: Notice): Promise<void> {
    const live = this.live;
    if (!live || live.finishing) return this.queue;
    live.finishing = true;
    return this.enqueue(() => this.finish(live, 'end-visit', notice), 'deposit end');
  }

  private stop(reason: FinishReason, screen: 'deposit'): Promise<void> {
    requireScreen(this.ctx.session, screen);
    const live = this.live;
    if (!live) throw new KioskCommandError('WRONG_STATE', 'no deposit is open');
    if (live.finishing) return this.queue;
    // From now on every note is handed back, even one already queued behind this press.
    live.finishing = true;
    return this.enqueue(() => this.finish(live, reason), 'deposit end');
  }

  private finishSoon(reason: FinishReason, notice?: Notice): void {
    const live = this.live;
    if (!live || live.finishing) return;
    live.finishing = true;
    void this.enqueue(() => this.finish(live, reason, notice), 'deposit end');
  }

  private enqueue(work: () => Promise<void>, what: string): Promise<void> {
    const run = this.queue.then(work).catch((error: unknown) => {
      // A journal write failed or a money invariant broke: no more deposits until a technician looks.
      this.ctx.log.error(`${what} failed`, { error: describe(error) });
      this.fault(error);
    });
    this.queue = run;
    return run;
  }

  private fault(error: unknown): void {
    const reason = describe(error);
    this.deps.noteDepositFault(reason);
    this.ctx.log.error('deposit fault', { error: reason });
    const live = this.live;
    this.live = undefined;
    if (live) {
      const acceptor = this.ctx.devices().noteAcceptor;
      void acceptor?.disable().catch(() => undefined);
      if (this.ctx.visit.isCurrent(live.epoch)) this.ctx.background(this.ctx.visit.end({ code: 'DEPOSIT_INCOMPLETE', amountCents: notesTotalCents(live.record.stacked) }), 'end visit after a deposit fault');
    }
  }

  // --- the acceptor's events -----------------------------------------------------------------------

  private onEvent(acceptor: KioskNoteAcceptor, event: NoteAcceptorEvent): void {
    switch (event.type) {
      case 'escrow':
        this.enqueue(() => this.onEscrow(acceptor, event.note), 'note in escrow');
        return;
      case 'stacked':
        this.enqueue(() => this.onStacked(event.note), 'note stacked');
        return;
      case 'rejected': {
        const live = this.live;
        if (live && !live.finishing && this.present(live)) {
          this.ctx.session.touch();
          this.ctx.session.setNotice({ code: REJECT_NOTICES[event.reason] });
        }
        return;
      }
      case 'fault': {
        if (event.code === 'stacker-removed' || event.code === 'stacker-full') this.stackerOpened = true;
        const live = this.live;
        if (!live || live.finishing) return;
        this.ctx.log.warn('note acceptor fault during a deposit', { code: event.code, detail: event.detail, noteInEscrow: event.noteInEscrow?.valueCents ?? null });
        if (!['jam', 'stacker-full', 'stacker-removed', 'stacker-faulty', 'anti-string-faulty'].includes(event.code)) {
          this.deps.recheckAcceptor(`${event.code} during a deposit: ${event.detail}`);
        }
        this.finishSoon('fault', { code: FAULT_NOTICES[event.code] ?? 'DEPOSIT_STOPPED' });
        return;
      }
      case 'fault-cleared':
        if (this.stackerOpened && (event.codes.includes('stacker-removed') || event.codes.includes('stacker-full'))) {
          this.stackerOpened = false;
          this.enqueue(async () => {
            const journal = this.ctx.journal();
            if (!journal) return;
            await journal.recordCashboxEmptied(this.ctx.now());
            this.ctx.log.info('cashbox emptied: its count starts again from zero');
            this.deps.statusChanged();
          }, 'cashbox emptied');
        }
        return;
      case 'returned':
        return;
    }
  }

  private async onEscrow(acceptor: KioskNoteAcceptor, note: NoteRef): Promise<void> {
    const live = this.live;
    const depositDeps = this.deps.depositDeps();
    if (!live || live.finishing) {
      // Outside a deposit (a note held when the kiosk restarted) or after Done: it goes back.
      await this.handBack(acceptor, live && this.present(live) ? { code: 'NOTE_RETURNED' } : undefined);
      return;
    }
    depositDeps.onStep?.('note-in-escrow');
    const { session } = this.ctx;
    if (this.present(live)) session.touch();
    const totalCents = notesTotalCents(live.record.stacked);
    if (!live.enabledCents.includes(note.valueCents)) {
      await this.handBack(acceptor, { code: 'NOTE_REJECTED_NOT_TAKEN' });
      return;
    }
    if (totalCents + note.valueCents > live.remainingTodayCents) {
      await this.handBack(acceptor, { code: 'DEPOSIT_LIMIT_REACHED', amountCents: Math.max(0, live.remainingTodayCents - totalCents) });
      return;
    }
    if (notesCount(live.record.stacked) >= DEPOSIT_NOTES_MAX) {
      await this.handBack(acceptor, { code: 'DEPOSIT_NOTES_MAX' });
      return;
    }
    live.counting = true;
    this.showCounting(live);
    try {
      let counterBefore: number | undefined;
      if (acceptor.acceptCounter) {
        try {
          counterBefore = await acceptor.acceptCounter();
        } catch (error) {
          // Without the counter an interrupted stack could not be resolved: the note is not taken.
          this.ctx.log.warn('accept counter not read; note handed back', { error: describe(error) });
          await this.handBack(acceptor, { code: 'NOTE_RETURNED' });
          return;
        }
      }
      live.record = await journalStacking(depositDeps, live.record, note.valueCents, counterBefore);
      try {
        const routed = await acceptor.stack();
        if (routed.outcome === 'returned') {
          // The validator gave it back instead (its own checks): nothing was stacked.
          live.record = await saveDeposit(depositDeps, live.record, { stacking: undefined });
          if (this.present(live)) session.setNotice({ code: 'NOTE_RETURNED' });
        }
      } catch (error) {
        if (isDeviceError(error, 'NOTE_ESCROW_EMPTY')) {
          // The note went back before the ROUTE (the validator's escrow timeout): nothing was stacked.
          live.record = await saveDeposit(depositDeps, live.record, { stacking: undefined });
          if (this.present(live)) session.setNotice({ code: 'NOTE_RETURNED' });
          return;
        }
        // Where the note went is unknown: stop taking notes; the end of the deposit asks the counter.
        this.ctx.log.warn('stack outcome unknown; the deposit stops', { error: describe(error) });
        this.finishSoon('fault', { code: 'DEPOSIT_STOPPED' });
      }
    } finally {
      live.counting = false;
      this.showCounting(live);
    }
  }

  private async onStacked(note: NoteRef): Promise<void> {
    const live = this.live;
    const depositDeps = this.deps.depositDeps();
    if (!live || live.record.step !== 'open') {
      // The acceptor is disabled outside a deposit; a note stacked anyway is in the cashbox and counted.
      this.ctx.log.error('note stacked outside a deposit: counted in the cashbox, credited to no one', { valueCents: note.valueCents });
      await this.ctx.journal()?.recordStrayNote({ denominationCents: note.valueCents, count: 1 }, this.ctx.now());
      this.deps.statusChanged();
      return;
    }
    if (live.absorbStacked === note.valueCents) {
      live.absorbStacked = undefined;
      this.ctx.log.warn('late stacked event of a note the accept counter already counted', { valueCents: note.valueCents });
      return;
    }
    depositDeps.onStep?.('note-stacked');
    if (live.record.stacking?.valueCents !== note.valueCents) {
      this.ctx.log.warn('note stacked that was not being stacked; credited (it is in the cashbox)', { valueCents: note.valueCents, stacking: live.record.stacking?.valueCents ?? null });
    }
    // Journalled before the screen, the status or anything else hears of it.
    live.record = await journalStacked(depositDeps, live.record, { denominationCents: note.valueCents, count: 1 });
    if (this.present(live)) this.ctx.session.setNotice(undefined);
    this.showCounting(live);
    this.deps.statusChanged();
  }

  private async handBack(acceptor: KioskNoteAcceptor, notice: Notice | undefined): Promise<void> {
    try {
      await acceptor.return();
    } catch (error) {
      this.ctx.log.warn('note in escrow not handed back', { error: describe(error) });
    }
    if (notice && this.ctx.session.screen === 'deposit') this.ctx.session.setNotice(notice);
  }

  // --- the end of a deposit ------------------------------------------------------------------------

  private async finish(live: LiveDeposit, reason: FinishReason, faultNotice?: Notice): Promise<void> {
    const { ctx } = this;
    const present = reason !== 'visit-ended' && this.present(live);
    // The customer waits on the working screen; when the kiosk is already working for them (the deposit
    // is still opening), that operation holds the screen.
    if (!present || ctx.visit.busy) {
      await this.settle(live, reason, faultNotice);
      return;
    }
    await ctx.visit.operate(async () => {
      await this.settle(live, reason, faultNotice);
    });
  }

  /** Stops the acceptor, resolves a note whose stacking no event told, commits, and tells the customer. */
  private async settle(live: LiveDeposit, reason: FinishReason, faultNotice: Notice | undefined): Promise<void> {
    const { ctx } = this;
    const { session, visit, log } = ctx;
    const acceptor = ctx.devices().noteAcceptor;
    const depositDeps = this.deps.depositDeps();
    const present = reason !== 'visit-ended' && this.present(live);
    try {
      await acceptor?.disable();
    } catch (error) {
      log.warn('note acceptor not disabled at the end of a deposit', { error: describe(error) });
    }
    if (acceptor?.noteInEscrow) await this.handBack(acceptor, undefined);
    if (live.record.stacking) {
      let resolution;
      try {
        resolution = await resolveStacking(depositDeps, live.record, acceptor);
      } catch (error) {
        resolution = { kind: 'unreadable' as const, reason: describe(error) };
      }
      if (resolution.kind !== 'resolved') {
        // Never guessed: the deposit waits (out of service for deposits) for the counter or a technician.
        if (resolution.kind === 'ambiguous') live.record = resolution.record;
        this.live = undefined;
        this.deps.noteUnfinished(resolution.reason);
        if (present) await visit.end({ code: 'DEPOSIT_REVIEW', amountCents: notesTotalCents(live.record.stacked) });
        return;
      }
      if (resolution.record.stacked !== live.record.stacked) live.absorbStacked = live.record.stacking.valueCents;
      live.record = resolution.record;
    }
    let committed: CommitOutcome;
    try {
      committed = await commitDeposit(depositDeps, live.record, 'live');
    } finally {
      this.live = undefined;
      this.deps.statusChanged();
    }
    await tellOutcome(ctx, this.deps, committed, { accountId: live.record.accountId, reason, faultNotice, present });
  }

  // --- the screen ----------------------------------------------------------------------------------

  /** The customer is still at the kiosk for this deposit, on its screen. */
  private present(live: LiveDeposit): boolean {
    return this.ctx.visit.isCurrent(live.epoch) && this.ctx.session.inProgress;
  }

  private countingView(live: LiveDeposit): SessionView {
    const totalCents = notesTotalCents(live.record.stacked);
    return {
      kind: 'deposit-counting',
      accountId: live.record.accountId,
      denominationsCents: live.enabledCents,
      notes: live.record.stacked,
      totalCents,
      remainingTodayCents: Math.max(0, live.remainingTodayCents - totalCents),
      counting: live.counting,
    };
  }

  private showCounting(live: LiveDeposit): void {
    const { session } = this.ctx;
    if (!this.present(live) || session.screen !== 'deposit') return;
    session.view = this.countingView(live);
    this.ctx.emitState();
  }
}
