// The faults and odd events the note acceptor simulator can be told to produce, each with the ccTalk
// status event (result A = 0, result B) it reports. Latched ones stay until cleared, as on a real
// validator: a jam until someone clears the path, a stacker problem until the stacker is fixed.

export interface FaultSpec {
  /** The status event reported when the fault happens. */
  resultB: number;
  /** Stays until cleared (and is reported again after a reset while it lasts). */
  latched: boolean;
  /** While it lasts the validator takes no note and routes none to the stacker. */
  blocksNotes: boolean;
  /** The status event reported when it is cleared, if ccTalk has one. */
  clearedBy?: number;
}

const FAULTS = {
  'jam': { resultB: 6, latched: true, blocksNotes: true },
  'jam-safe': { resultB: 16, latched: true, blocksNotes: true },
  'stacker-jam': { resultB: 7, latched: true, blocksNotes: true },
  'stacker-jammed': { resultB: 15, latched: true, blocksNotes: true },
  'stacker-full': { resultB: 14, latched: true, blocksNotes: true, clearedBy: 10 },
  'stacker-removed': { resultB: 11, latched: true, blocksNotes: true, clearedBy: 12 },
  'stacker-faulty': { resultB: 13, latched: true, blocksNotes: true, clearedBy: 10 },
  'anti-string-faulty': { resultB: 19, latched: true, blocksNotes: false },
  'fraud': { resultB: 17, latched: false, blocksNotes: false },
  'string-fraud': { resultB: 18, latched: false, blocksNotes: false },
  'pulled-back': { resultB: 8, latched: false, blocksNotes: false },
  'tamper': { resultB: 9, latched: false, blocksNotes: false },
  'transport-reject': { resultB: 3, latched: false, blocksNotes: false },
  'inhibited-by-switch': { resultB: 5, latched: false, blocksNotes: false },
  'barcode': { resultB: 20, latched: false, blocksNotes: false },
  'unknown-bill-stacked': { resultB: 21, latched: false, blocksNotes: false },
} as const satisfies Record<string, FaultSpec>;

export type SimulatorFault = keyof typeof FAULTS;

export const SIMULATOR_FAULTS: Readonly<Record<SimulatorFault, FaultSpec>> = FAULTS;

export const SIMULATOR_FAULT_NAMES = Object.keys(SIMULATOR_FAULTS) as SimulatorFault[];

export function isSimulatorFault(name: string): name is SimulatorFault {
  return Object.hasOwn(SIMULATOR_FAULTS, name);
}
