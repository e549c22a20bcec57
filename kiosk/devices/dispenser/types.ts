// What the rest of the kiosk sees of the cash dispenser. Money is integer cents; note counts are
// integers; every array is indexed by cassette (cassette 0 first).

/** `presenting`: a dispense's notes wait in the presenter for the customer to take them (or for RETRACT). */
export type DispenserState = 'ready' | 'dispensing' | 'error' | 'presenting';

/** Why a dispense moved fewer notes than asked (or none). Stable strings; logs and the journal keep them. */
export type DispenseErrorCode =
  /** A note jammed in the transport; the device stopped and needs RESET. */
  | 'jam'
  /** The device could not pick every note (a worn cassette); it stopped short and stays ready. */
  | 'pick-failure'
  /** The device refused before moving a note: a cassette holds fewer notes than asked. */
  | 'insufficient-notes'
  /** The device refused the request as malformed (wrong cassette count, too many notes). */
  | 'invalid-request'
  /** The device refused because it is in its error state; RESET first. */
  | 'not-ready'
  /** The device never received the dispense (it was lost or rejected on the line); nothing moved. */
  | 'not-received';

export interface CassetteStatus {
  index: number;
  denominationCents: number;
  count: number;
  /** The device's own low-note sensor or threshold; time to refill. */
  low: boolean;
}

export interface DispenserStatus {
  state: DispenserState;
  /** The error that put the device in its error state, if any. */
  error?: DispenseErrorCode;
  cassettes: CassetteStatus[];
}

export interface DispenseRequest {
  /** Chosen by the host side, unique per dispense, 1 .. 2^32-1; the device remembers it. */
  transactionId: number;
  /** Notes to take from each cassette: `[count for cassette 0, count for cassette 1, ...]`. */
  notes: number[];
}

export interface DispenseResult {
  transactionId: number;
  requested: number[];
  /** What actually left the device, per cassette. This, not `requested`, is what the customer got. */
  dispensed: number[];
  complete: boolean;
  error?: DispenseErrorCode;
  /** 'query' when the driver lost the response and asked the device with LAST_DISPENSE. */
  source: 'response' | 'query';
}

export type DispenseQueryResult =
  | { transactionId: number; found: false }
  | {
      transactionId: number;
      found: true;
      /** The device is still moving notes; ask again later. */
      inProgress: boolean;
      requested: number[];
      dispensed: number[];
      complete: boolean;
      error?: DispenseErrorCode;
    };

/** What RETRACT did with a transaction's notes left in the presenter. */
export interface RetractResult {
  transactionId: number;
  /** `retracted`: the notes were taken back into the retract bin; `taken`: the customer had taken them,
   *  nothing was retracted; `unknown`: the device has no such transaction (nothing to retract). */
  outcome: 'retracted' | 'taken' | 'unknown';
  /** Notes taken back, per cassette they came from: these notes left the customer's hands unpaid. */
  retracted: number[];
  /** Notes in the retract (reject) bin now, for the technician's count. */
  retractBinCount: number;
}

export interface DispenserCounters {
  /** Notes that ever left each cassette, as counted by the device. */
  lifetimeDispensed: number[];
}

export type DeviceAvailability = 'closed' | 'available' | 'unavailable';

export interface AvailabilityChange {
  availability: DeviceAvailability;
  /** A short, secret-free reason for logs and the out-of-service screen. */
  reason: string;
}

export interface CashDispenser {
  open(): Promise<void>;
  close(): Promise<void>;
  status(): Promise<DispenserStatus>;
  /**
   * Sends the dispense exactly once. On any loss (timeout, NAK, bad response) it never resends: it
   * asks the device what that transaction did and returns that (`source: 'query'`). Throws
   * `DeviceError('DISPENSE_OUTCOME_UNKNOWN')` only when the device cannot be asked at all; the caller
   * must then keep the transaction open and call `queryDispense` once the device is back.
   */
  dispense(request: DispenseRequest): Promise<DispenseResult>;
  queryDispense(transactionId: number): Promise<DispenseQueryResult>;
  counters(): Promise<DispenserCounters>;
  /** A technician loaded (or emptied) the cassettes: sets each cassette's note count, cassette 0 first (as
   *  many counts as cassettes; the device refuses otherwise). Idempotent: it sets, never adds. */
  setCassetteCounts(counts: readonly number[]): Promise<DispenserStatus>;
  /**
   * Takes back a dispense's notes that still wait in the presenter (the customer did not take them in
   * time) into the retract bin. Idempotent by transaction id: asking again answers what was done, so
   * recovery after a power loss may ask without knowing whether it was sent.
   */
  retract(transactionId: number): Promise<RetractResult>;
  /** Clears a jam or error state after a technician has cleared the transport; throws if it stays in error. */
  reset(): Promise<void>;
  readonly availability: DeviceAvailability;
  /** Returns a function that removes the listener. */
  onAvailabilityChange(listener: (change: AvailabilityChange) => void): () => void;
}
