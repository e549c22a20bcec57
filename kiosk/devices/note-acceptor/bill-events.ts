// What the validator's buffered events (header 159) mean, and which of them are new. Pure code: the
// counter arithmetic that makes "each stacked note reported exactly once" true is tested without a port.

import { EVENT_BUFFER_SIZE, MAX_BILL_TYPES, type EventBuffer, type RawBillEvent } from './headers.js';
import type { LatchedFaultCode, NoteAcceptorFaultCode, RejectReason } from './types.js';

export type ClassifiedEvent =
  | { kind: 'escrow'; billType: number }
  | { kind: 'stacked'; billType: number }
  | { kind: 'returned' }
  | { kind: 'rejected'; reason: RejectReason }
  | { kind: 'fault'; code: NoteAcceptorFaultCode; detail: string }
  | { kind: 'fault-cleared'; codes: LatchedFaultCode[]; detail: string };

/** ccTalk status and error events: result A = 0, result B = index. */
export const STATUS_EVENTS: readonly { name: string; event: ClassifiedEvent }[] = [
  { name: 'master inhibit active', event: { kind: 'rejected', reason: 'disabled' } },
  { name: 'bill returned from escrow', event: { kind: 'returned' } },
  { name: 'invalid bill (validation fail)', event: { kind: 'rejected', reason: 'invalid' } },
  { name: 'invalid bill (transport problem)', event: { kind: 'rejected', reason: 'transport' } },
  { name: 'inhibited bill (on serial)', event: { kind: 'rejected', reason: 'inhibited' } },
  { name: 'inhibited bill (on DIP switches)', event: { kind: 'rejected', reason: 'inhibited-by-switch' } },
  { name: 'bill jammed in transport (unsafe mode)', event: { kind: 'fault', code: 'jam', detail: 'bill jammed in transport (unsafe mode)' } },
  { name: 'bill jammed in stacker', event: { kind: 'fault', code: 'jam', detail: 'bill jammed in stacker' } },
  { name: 'bill pulled backwards', event: { kind: 'fault', code: 'fraud', detail: 'bill pulled backwards' } },
  { name: 'bill tamper', event: { kind: 'fault', code: 'fraud', detail: 'bill tamper' } },
  {
    name: 'stacker OK',
    event: { kind: 'fault-cleared', codes: ['stacker-full', 'stacker-removed', 'stacker-faulty'], detail: 'stacker OK' },
  },
  { name: 'stacker removed', event: { kind: 'fault', code: 'stacker-removed', detail: 'stacker removed' } },
  { name: 'stacker inserted', event: { kind: 'fault-cleared', codes: ['stacker-removed'], detail: 'stacker inserted' } },
  { name: 'stacker faulty', event: { kind: 'fault', code: 'stacker-faulty', detail: 'stacker faulty' } },
  { name: 'stacker full', event: { kind: 'fault', code: 'stacker-full', detail: 'stacker full' } },
  { name: 'stacker jammed', event: { kind: 'fault', code: 'jam', detail: 'stacker jammed' } },
  { name: 'bill jammed in transport (safe mode)', event: { kind: 'fault', code: 'jam', detail: 'bill jammed in transport (safe mode)' } },
  { name: 'opto fraud detected', event: { kind: 'fault', code: 'fraud', detail: 'opto fraud detected' } },
  { name: 'string fraud detected', event: { kind: 'fault', code: 'fraud', detail: 'string fraud detected' } },
  { name: 'anti-string mechanism faulty', event: { kind: 'fault', code: 'anti-string-faulty', detail: 'anti-string mechanism faulty' } },
  { name: 'barcode detected', event: { kind: 'rejected', reason: 'barcode' } },
  { name: 'unknown bill type stacked', event: { kind: 'fault', code: 'unknown-bill', detail: 'unknown bill type stacked' } },
];

export const LATCHED_FAULTS: ReadonlySet<NoteAcceptorFaultCode> = new Set<LatchedFaultCode>([
  'jam',
  'stacker-full',
  'stacker-removed',
  'stacker-faulty',
  'anti-string-faulty',
]);

export function classifyEvent(event: RawBillEvent): ClassifiedEvent {
  const { resultA, resultB } = event;
  if (resultA >= 1 && resultA <= MAX_BILL_TYPES) {
    if (resultB === 0) return { kind: 'stacked', billType: resultA };
    if (resultB === 1) return { kind: 'escrow', billType: resultA };
  }
  if (resultA === 0) {
    const status = STATUS_EVENTS[resultB];
    if (status) return status.event;
  }
  return { kind: 'fault', code: 'unknown-event', detail: `unknown event A=${resultA} B=${resultB}` };
}

/** The counter of the event `stepsBack` events before one numbered `counter` (1..255 wrap to 1). */
export function counterBefore(counter: number, stepsBack: number): number {
  let value = counter - stepsBack;
  while (value < 1) value += 255;
  return value;
}

/** How many events the counter moved from `last` to `now`; both 1..255, or `last` 0 after a reset. */
export function eventsBetween(last: number, now: number): number {
  if (now >= last) return now - last;
  return 255 - last + now;
}

export interface NewEvent {
  event: RawBillEvent;
  eventCounter: number;
}

export interface BufferReading {
  /** The first reading: a baseline, nothing reported (events before it were another reader's). */
  baseline: boolean;
  /** New events, oldest first. */
  newEvents: NewEvent[];
  /** Events that happened but fell out of the 5-event buffer before this read. */
  lostEvents: number;
  /** The device reset since the last read: counter back to 0, or a buffer that does not continue. */
  reset: 'none' | 'expected' | 'unexpected';
}

/**
 * Turns successive reads of the 5-event buffer into each event exactly once. Re-reads (a retried
 * poll) carry the same counter and yield nothing; more than 5 new events yield the 5 and a loss
 * count; a counter back at 0, a counter that went back, or a buffer whose older entries are not the
 * events read last time, is a reset. A counter that went back is never read as a wrap of 250 events:
 * that reading would report old buffer entries a second time. Keep one tracker for the life of the driver, across close and open, so events that
 * happen while the port is closed are still reported (or counted lost).
 */
export class BillEventTracker {
  private lastCounter: number | undefined;
  private lastEvents: RawBillEvent[] = [];
  private resetExpected = false;

  /** The kiosk is about to reset the device: the next counter reset is explained. */
  expectReset(): void {
    this.resetExpected = true;
  }

  cancelExpectedReset(): void {
    this.resetExpected = false;
  }

  get eventCounter(): number | undefined {
    return this.lastCounter;
  }

  read(buffer: EventBuffer): BufferReading {
    const { eventCounter: now, events } = buffer;
    const last = this.lastCounter;
    this.lastCounter = now;
    const previous = this.lastEvents;
    this.lastEvents = events;
    if (last === undefined) return { baseline: true, newEvents: [], lostEvents: 0, reset: 'none' };
    if (now === 0) {
      if (last === 0) return nothingNew();
      return { baseline: false, newEvents: [], lostEvents: 0, reset: this.takeReset() };
    }
    const count = eventsBetween(last, now);
    // Events already read sit `count` places further back in the buffer.
    if (count < EVENT_BUFFER_SIZE && continues(previous, events, count)) {
      return count === 0 ? nothingNew() : { baseline: false, ...newestEvents(events, now, count), reset: 'none' };
    }
    if (count >= EVENT_BUFFER_SIZE && now > last && !this.resetExpected) {
      // Too many to check against the last read: the newest five are new whatever happened.
      return { baseline: false, ...newestEvents(events, now, count), reset: 'none' };
    }
    // The buffer does not continue the last read, or the counter went back: the counter went
    // through 0 (a reset) unseen. Only the newest `now` entries are certainly from after it; older
    // entries may be events already reported (not every validator clears its buffer on reset).
    return { baseline: false, ...newestEvents(events, now, now), reset: this.takeReset() };
  }

  private takeReset(): 'expected' | 'unexpected' {
    const kind = this.resetExpected ? 'expected' : 'unexpected';
    this.resetExpected = false;
    return kind;
  }
}

function nothingNew(): BufferReading {
  return { baseline: false, newEvents: [], lostEvents: 0, reset: 'none' };
}

function continues(previous: RawBillEvent[], events: RawBillEvent[], count: number): boolean {
  for (let i = count; i < EVENT_BUFFER_SIZE; i++) {
    const a = events[i];
    const b = previous[i - count];
    if (!a || !b || a.resultA !== b.resultA || a.resultB !== b.resultB) return false;
  }
  return true;
}

function newestEvents(events: RawBillEvent[], now: number, count: number): { newEvents: NewEvent[]; lostEvents: number } {
  const seen = Math.min(count, EVENT_BUFFER_SIZE);
  const newEvents: NewEvent[] = [];
  for (let i = seen - 1; i >= 0; i--) {
    const event = events[i];
    if (event) newEvents.push({ event, eventCounter: counterBefore(now, i) });
  }
  return { newEvents, lostEvents: count - seen };
}
