// What the rest of the kiosk sees of the note acceptor. Money is integer cents. The one rule the
// deposit flow builds on: credit exactly the `stacked` events, each of which the driver emits once.

import type { AvailabilityChange, DeviceAvailability } from '../dispenser/types.js';
import type { CommsRevision } from './headers.js';

export type { AvailabilityChange, DeviceAvailability };

export interface NoteAcceptorIdentity {
  /** Header 245; "Bill Validator" for this device. */
  equipmentCategory: string;
  manufacturer: string;
  productCode: string;
  serialNumber: number;
  softwareRevision: string;
  commsRevision: CommsRevision;
}

/** One programmed bill type of the validator's table. */
export interface NoteDenomination {
  /** 1..16, the validator's channel. */
  billType: number;
  /** As the validator names it, e.g. "CA0020A". */
  billId: string;
  countryCode: string;
  /** Hundredths of the country's major unit, from the bill id and the country's scaling factor. */
  valueCents: number;
}

export interface NoteRef {
  billType: number;
  valueCents: number;
}

/** Why the validator gave a note back without holding it (ccTalk status events, result A = 0). */
export type RejectReason =
  /** B 0: master inhibit is on (the acceptor is disabled). */
  | 'disabled'
  /** B 2: the note failed validation: a counterfeit, or a note the validator does not know. ccTalk
   *  reports both with this one code. */
  | 'invalid'
  /** B 3: the note could not be transported for validation. */
  | 'transport'
  /** B 4: the note's bill type is inhibited (not enabled by the host). */
  | 'inhibited'
  /** B 5: the note's bill type is inhibited by the validator's DIP switches. */
  | 'inhibited-by-switch'
  /** B 20: a barcode ticket, which this kiosk does not take. */
  | 'barcode';

/** Faults the driver reports. The first five latch until cleared (see `activeFaults`). */
export type NoteAcceptorFaultCode =
  /** B 6, 7, 15, 16: a note jammed in the transport or stacker. Cleared by `reset()`. */
  | 'jam'
  /** B 14: the stacker (cashbox) is full. Cleared by B 10 "stacker OK". */
  | 'stacker-full'
  /** B 11: the stacker was removed. Cleared by B 12 "stacker inserted" or B 10. */
  | 'stacker-removed'
  /** B 13: the stacker reports a fault. Cleared by B 10. */
  | 'stacker-faulty'
  /** B 19: the anti-string mechanism is faulty. Cleared by `reset()`. */
  | 'anti-string-faulty'
  /** B 8, 9, 17, 18: a note pulled back, tampering, an opto or string fraud attempt. */
  | 'fraud'
  /** More new events than the 5-event buffer holds came between two reads: some were never seen. */
  | 'events-lost'
  /** The event counter went back to 0, or the buffer did not continue the one read before, without
   *  the kiosk resetting the device: events since the last read (and a note in escrow) are unknown. */
  | 'device-reset'
  /** B 21, or a stacked / escrowed bill type outside the accepted table: a note of unknown value. */
  | 'unknown-bill'
  /** A result A/B pair this driver does not know. */
  | 'unknown-event';

export type LatchedFaultCode = 'jam' | 'stacker-full' | 'stacker-removed' | 'stacker-faulty' | 'anti-string-faulty';

export type NoteAcceptorEvent =
  /** A validated note is held in escrow: call `stack()` or `return()`. */
  | { type: 'escrow'; note: NoteRef; eventCounter: number }
  /** A note went into the stacker. Credit this, and only this. */
  | { type: 'stacked'; note: NoteRef; eventCounter: number }
  /** The note in escrow went back to the customer (by `return()` or the validator's escrow timeout). */
  | { type: 'returned'; note: NoteRef | undefined; eventCounter: number }
  | { type: 'rejected'; reason: RejectReason; eventCounter: number }
  | {
      type: 'fault';
      code: NoteAcceptorFaultCode;
      detail: string;
      /** The ccTalk event behind it; absent for faults the driver detects itself. */
      eventCounter?: number;
      /** events-lost: how many events were never seen. */
      lostEvents?: number;
      /** device-reset, jam, unknown-bill, unknown-event: the note the driver last knew in escrow,
       *  whose fate is now unknown (it is no longer routable). */
      noteInEscrow?: NoteRef;
    }
  | { type: 'fault-cleared'; codes: LatchedFaultCode[]; detail: string; eventCounter: number };

export type NoteAcceptorEventType = NoteAcceptorEvent['type'];

/** What a route command came to, as the validator's events report it. */
export interface RouteOutcome {
  outcome: 'stacked' | 'returned';
  note: NoteRef | undefined;
}

export interface NoteAcceptor {
  open(): Promise<void>;
  close(): Promise<void>;
  identify(): Promise<NoteAcceptorIdentity>;
  /** The validator's programmed bill types with their values, read from the device. */
  denominations(): Promise<NoteDenomination[]>;
  /** Enables exactly the bill types of these values (of the configured country), escrow on, master
   *  inhibit off; read back and checked. Throws and leaves the acceptor disabled if any step fails. */
  enable(denominationsCents: readonly number[]): Promise<void>;
  /** Master inhibit on: the validator gives back every note inserted. */
  disable(): Promise<void>;
  /** Stacks the note in escrow (one ROUTE command, never resent) and resolves with what the events
   *  then report. */
  stack(): Promise<RouteOutcome>;
  /** Returns the note in escrow to the customer; resolves when the validator reports it returned. */
  return(): Promise<RouteOutcome>;
  /** Asks the validator to keep holding the note in escrow (restarts its escrow timeout). */
  extendEscrow(): Promise<void>;
  /** Resets the device (header 1): clears latched faults the device no longer reports. The acceptor
   *  comes back disabled. */
  reset(): Promise<void>;
  /** Header 225: the notes accepted into the stacker over the validator's life (0 .. 2^24 - 1, wrapping
   *  to 0), kept across power cycles. Read before ROUTE(stack) and again after a restart, it says where a
   *  note whose `stacked` event was lost went: `resolveInterruptedStack` in interrupted-stack.ts. */
  acceptCounter(): Promise<number>;
  /** The note held in escrow as the events last reported it. */
  readonly noteInEscrow: NoteRef | undefined;
  readonly activeFaults: ReadonlySet<LatchedFaultCode>;
  readonly availability: DeviceAvailability;
  /** Every event, in the order the validator recorded them. Returns a function that removes the listener. */
  onEvent(listener: (event: NoteAcceptorEvent) => void): () => void;
  onAvailabilityChange(listener: (change: AvailabilityChange) => void): () => void;
}
