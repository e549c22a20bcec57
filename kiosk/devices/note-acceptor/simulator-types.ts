// The simulated validator's options and what it reports to tests: its bill table's countries, the
// outcome of a note inserted, the notes it holds and the frames it received.
import type { Logger } from '../../../protocol/log.js';
import type { ScalingFactor } from './headers.js';

export interface SimulatedCountry extends ScalingFactor {
  countryCode: string;
}

export const CAD_BILL_IDS = ['CA0005A', 'CA0010A', 'CA0020A', 'CA0050A', 'CA0100A'];
/** Bill id values in dollars: 20 x 100 / 10^2 = 20.00. */
export const CAD_SCALING: SimulatedCountry = { countryCode: 'CA', scalingFactor: 100, decimalPlaces: 2 };

export interface NoteAcceptorSimulatorOptions {
  path: string;
  /** Bill type n is billIds[n-1]; default the five CAD notes. */
  billIds?: string[];
  countries?: SimulatedCountry[];
  address?: number;
  baudRate?: number;
  /** A held note goes back to the customer after this long without a route command (0 = never). */
  escrowTimeoutMs?: number;
  stackerCapacity?: number;
  /** The accept counter (header 225) at start: a validator that has been in service. Default 0. */
  acceptCounter?: number;
  /** Echo every byte the host sends, as a single-wire ccTalk bus does. */
  lineEchoes?: boolean;
  serialNumber?: number;
  /** What header 245 answers; anything but "Bill Validator" makes the driver refuse the device. */
  equipmentCategory?: string;
  interByteGapMs?: number;
  /** Received-frame log kept for tests; the oldest is dropped first. */
  maxReceivedLogEntries?: number;
  logger?: Logger;
}

export type InsertOutcome =
  /** Validated and held in escrow; the host routes it. */
  | 'escrow'
  /** Validated and stacked at once (escrow mode off). */
  | 'stacked'
  /** Given back at once, with a status event saying why. */
  | 'rejected'
  /** The slot did not take it: a note already in escrow, a jam or a stacker problem. No event. */
  | 'not-taken';

export interface SimulatedNote {
  billType: number;
  billId: string;
  valueCents: number;
}

export interface ReceivedFrame {
  header: number;
  data: number[];
  answered: boolean;
}
