// Turns new buffered events into the driver's typed events, and keeps what they imply: the note in
// escrow, the latched faults, and the outcome a route command is waiting for. No I/O.

import { DeviceError } from '../serial/device-error.js';
import { createDeferred, type Deferred } from '../serial/deferred.js';
import { LATCHED_FAULTS, classifyEvent, type BufferReading, type ClassifiedEvent } from './bill-events.js';
import type { RawBillEvent } from './headers.js';
import type { LatchedFaultCode, NoteAcceptorEvent, NoteDenomination, NoteRef, RouteOutcome } from './types.js';

interface Escrow {
  billType: number;
  /** Undefined for a bill type outside the accepted table: it can only be returned. */
  note: NoteRef | undefined;
}

export class NoteEventInterpreter {
  private escrow: Escrow | undefined;
  private readonly latched = new Set<LatchedFaultCode>();
  private routeWaiter: Deferred<RouteOutcome | DeviceError> | undefined;
  private resetWaiter: Deferred<DeviceError | undefined> | undefined;
  /** The accepted country's bill types; events of any other type are notes of unknown value. */
  billTable: ReadonlyMap<number, NoteDenomination> | undefined;

  constructor(private readonly emit: (event: NoteAcceptorEvent) => void) {}

  get noteInEscrow(): NoteRef | undefined {
    return this.escrow?.note;
  }

  get escrowBillType(): number | undefined {
    return this.escrow?.billType;
  }

  get activeFaults(): ReadonlySet<LatchedFaultCode> {
    return this.latched;
  }

  /** Resolves with the next stacked or returned note, or a DeviceError when the events can no longer
   *  say (a reset, lost events, a jam). One route at a time. */
  awaitRouteOutcome(): Deferred<RouteOutcome | DeviceError> {
    if (this.routeWaiter && !this.routeWaiter.settled) throw new DeviceError('BUSY', 'a route command is already waiting for its outcome');
    this.routeWaiter = createDeferred();
    return this.routeWaiter;
  }

  /** Resolves (with no error) when a reset the kiosk asked for shows in the events. */
  awaitExpectedReset(): Deferred<DeviceError | undefined> {
    this.resetWaiter = createDeferred();
    return this.resetWaiter;
  }

  /** The driver is closing: nobody waits for events any more. */
  abandonWaiters(error: DeviceError): void {
    this.routeWaiter?.resolve(error);
    this.resetWaiter?.resolve(error);
  }

  /** At the first read nothing is reported, except a note still held in escrow (the newest event is
   *  its escrow event): that note is the kiosk's to return, and not routable unless reported. */
  adoptBaseline(newest: RawBillEvent | undefined, eventCounter: number): void {
    if (!newest || eventCounter === 0) return;
    const event = classifyEvent(newest);
    if (event.kind === 'escrow') this.apply(event, eventCounter);
  }

  process(reading: BufferReading): void {
    if (reading.reset !== 'none') this.onReset(reading.reset);
    if (reading.lostEvents > 0) {
      this.failRoute(`${reading.lostEvents} events were lost`);
      this.emit({
        type: 'fault',
        code: 'events-lost',
        detail: `${reading.lostEvents} events happened between two reads of the 5-event buffer and were never seen`,
        lostEvents: reading.lostEvents,
      });
    }
    for (const { event, eventCounter } of reading.newEvents) this.apply(classifyEvent(event), eventCounter);
  }

  private onReset(kind: 'expected' | 'unexpected'): void {
    const escrow = this.escrow;
    this.escrow = undefined;
    if (kind === 'expected') {
      // Latched faults the device still has are reported again after its reset.
      this.latched.clear();
      this.resetWaiter?.resolve(undefined);
    }
    this.failRoute('the device reset');
    if (kind === 'unexpected' || escrow) {
      const fault: NoteAcceptorEvent = {
        type: 'fault',
        code: 'device-reset',
        detail:
          kind === 'unexpected'
            ? 'the event counter restarted without a reset from the kiosk (power loss or a device reset); events since the last read are unknown'
            : 'the device was reset with a note in escrow; validators return such a note, but no event confirms it',
      };
      if (escrow?.note) fault.noteInEscrow = escrow.note;
      this.emit(fault);
    }
  }

  private apply(event: ClassifiedEvent, eventCounter: number): void {
    switch (event.kind) {
      case 'escrow': {
        const note = this.noteOf(event.billType);
        this.escrow = { billType: event.billType, note };
        if (note) this.emit({ type: 'escrow', note, eventCounter });
        else this.emitUnknownBill(event.billType, 'is held in escrow; return it', eventCounter);
        return;
      }
      case 'stacked': {
        if (this.escrow?.billType === event.billType) this.escrow = undefined;
        const note = this.noteOf(event.billType);
        if (!note) {
          this.failRoute(`bill type ${event.billType} of unknown value was stacked`);
          this.emitUnknownBill(event.billType, 'was stacked', eventCounter);
          return;
        }
        this.emit({ type: 'stacked', note, eventCounter });
        this.routeWaiter?.resolve({ outcome: 'stacked', note });
        return;
      }
      case 'returned': {
        const note = this.escrow?.note;
        this.escrow = undefined;
        this.emit({ type: 'returned', note, eventCounter });
        this.routeWaiter?.resolve({ outcome: 'returned', note });
        return;
      }
      case 'rejected':
        this.emit({ type: 'rejected', reason: event.reason, eventCounter });
        return;
      case 'fault': {
        if (LATCHED_FAULTS.has(event.code)) this.latched.add(event.code as LatchedFaultCode);
        const fault: NoteAcceptorEvent = { type: 'fault', code: event.code, detail: event.detail, eventCounter };
        if (event.code === 'jam' || event.code === 'unknown-bill' || event.code === 'unknown-event') {
          this.failRoute(event.detail);
          // The note in escrow is stuck or gone somewhere unknown: no longer ours to route.
          if (this.escrow?.note) fault.noteInEscrow = this.escrow.note;
          this.escrow = undefined;
        }
        this.emit(fault);
        return;
      }
      case 'fault-cleared': {
        const codes = event.codes.filter((code) => this.latched.delete(code));
        this.emit({ type: 'fault-cleared', codes, detail: event.detail, eventCounter });
        return;
      }
    }
  }

  private noteOf(billType: number): NoteRef | undefined {
    const entry = this.billTable?.get(billType);
    return entry ? { billType, valueCents: entry.valueCents } : undefined;
  }

  private emitUnknownBill(billType: number, what: string, eventCounter: number): void {
    this.emit({ type: 'fault', code: 'unknown-bill', detail: `bill type ${billType}, not in the accepted bill table, ${what}`, eventCounter });
  }

  private failRoute(why: string): void {
    this.routeWaiter?.resolve(new DeviceError('NOTE_ROUTE_OUTCOME_UNKNOWN', `the route outcome is unknown: ${why}`));
  }
}
