// The device side of the dispenser protocol, on the far end of a pty pair (or any serial port). Used
// by tests in-process and by developers as a stand-alone process (simulator-cli.ts). Faults are
// injected on purpose: jam, short pick, silence, NAK, low notes.

import type { Logger } from '../../../protocol/log.js';
import { describe } from '../../common/errors.js';
import { sleepMs } from '../serial/deferred.js';
import { SerialLink } from '../serial/serial-link.js';
import { ACK, NAK, FrameDecoder, encodeFrame, type DecodedItem, type Frame } from './frame-codec.js';
import {
  COMMAND,
  HOST_COMMANDS,
  MAX_CASSETTES,
  MAX_NOTES_PER_CASSETTE,
  MAX_NOTES_PER_DISPENSE,
  MessageFormatError,
  decodeDispenseCommand,
  decodeSetCounts,
  decodeEmpty,
  decodeTransactionId,
  encodeCounters,
  encodeDispenseRecord,
  encodeResetReport,
  encodeRetractRecord,
  encodeStatusReport,
  isValidTransactionId,
  responseCommandOf,
  type CommandCode,
  type DispenseRecord,
  type ResultCode,
  type RetractRecord,
} from './messages.js';
import type { DispenserState } from './types.js';

export interface SimulatedCassette {
  denominationCents: number;
  count: number;
}

export interface DispenserSimulatorOptions {
  path: string;
  cassettes: SimulatedCassette[];
  baudRate?: number;
  /** A cassette at or below this many notes reports the low flag. */
  lowNoteThreshold?: number;
  /** Time to move one note; 0 in tests, ~300 ms for a realistic feel. */
  noteIntervalMs?: number;
  interByteTimeoutMs?: number;
  /** Resends of one response the host NAKs before the device gives up on it. */
  maxResponseResends?: number;
  /** Transaction records kept for LAST_DISPENSE; the oldest is forgotten first. */
  maxRememberedTransactions?: number;
  /** Received-command log kept for tests; the oldest is dropped first. */
  maxCommandLogEntries?: number;
  /** The customer takes presented notes this long after they are presented (default 0: at once); null:
   *  only when `takeNotes()` is called (or never, and the kiosk retracts them). */
  takeNotesAfterMs?: number | null;
  logger?: Logger;
}

export interface ReceivedCommand {
  command: number;
  seq: number;
  /** True when the simulator was silent and ignored it. */
  ignored: boolean;
}

interface SentResponse {
  seq: number;
  body: string;
  frame: Uint8Array;
}

export class DispenserSimulator {
  private link: SerialLink | undefined;
  private readonly decoder: FrameDecoder;
  private readonly cassettes: SimulatedCassette[];
  readonly lifetimeDispensed: number[];
  private deviceState: DispenserState = 'ready';
  private lastError: ResultCode = 'ok';
  private readonly transactions = new Map<number, DispenseRecord>();
  private lastResponse: SentResponse | undefined;
  private unackedResponse: { frame: Uint8Array; resendsLeft: number } | undefined;
  private silentUntilMs = 0;
  private framesToIgnore = 0;
  private naksToSend = 0;
  private jamAfterNotes: number | undefined;
  private shortByNotes: number[] | undefined;
  private silentMidDispenseMs: number | undefined;
  /** A dispense's notes waiting in the presenter for the customer, per cassette they came from. */
  private presented: { transactionId: number; notes: number[] } | undefined;
  private takeTimer: NodeJS.Timeout | undefined;
  /** Transactions whose notes were retracted, with what was retracted. */
  private readonly retracts = new Map<number, RetractRecord>();
  private retractBin = 0;
  readonly received: ReceivedCommand[] = [];
  readonly linkErrors: string[] = [];
  private readonly limits: Required<Pick<DispenserSimulatorOptions,
    'lowNoteThreshold' | 'noteIntervalMs' | 'interByteTimeoutMs' | 'maxResponseResends' | 'maxRememberedTransactions' | 'maxCommandLogEntries'>>;

  private constructor(private readonly options: DispenserSimulatorOptions) {
    if (options.cassettes.length < 1 || options.cassettes.length > MAX_CASSETTES) {
      throw new RangeError(`a dispenser has 1..${MAX_CASSETTES} cassettes`);
    }
    for (const c of options.cassettes) {
      if (!Number.isSafeInteger(c.denominationCents) || c.denominationCents < 1) throw new RangeError('denominations are positive integer cents');
      checkCount(c.count);
    }
    this.cassettes = options.cassettes.map((c) => ({ ...c }));
    this.lifetimeDispensed = options.cassettes.map(() => 0);
    this.limits = {
      lowNoteThreshold: options.lowNoteThreshold ?? 20,
      noteIntervalMs: options.noteIntervalMs ?? 0,
      interByteTimeoutMs: options.interByteTimeoutMs ?? 100,
      maxResponseResends: options.maxResponseResends ?? 3,
      maxRememberedTransactions: options.maxRememberedTransactions ?? 1024,
      maxCommandLogEntries: options.maxCommandLogEntries ?? 1024,
    };
    this.decoder = new FrameDecoder({ knownCommands: HOST_COMMANDS, interByteTimeoutMs: this.limits.interByteTimeoutMs });
  }

  static async start(options: DispenserSimulatorOptions): Promise<DispenserSimulator> {
    const simulator = new DispenserSimulator(options);
    simulator.link = await SerialLink.open(
      { path: options.path, baudRate: options.baudRate ?? 9600, writeTimeoutMs: 1_000, closeTimeoutMs: 1_000 },
      {
        onData: (bytes) => simulator.onBytes(bytes),
        onUnexpectedClose: (error) => options.logger?.warn('dispenser simulator port closed', { error: error?.message }),
      },
    );
    return simulator;
  }

  async stop(): Promise<void> {
    clearTimeout(this.takeTimer);
    const link = this.link;
    this.link = undefined;
    await link?.close();
  }

  // --- fault injection --------------------------------------------------------------------------

  /** The next dispense jams after moving this many notes in total; the device then needs RESET. */
  jamNextDispense(afterNotes: number): void {
    this.jamAfterNotes = afterNotes;
  }

  /** The next dispense fails to pick this many notes from each cassette and stops short. */
  shortNextDispense(missingPerCassette: number[]): void {
    this.shortByNotes = [...missingPerCassette];
  }

  /** Ignore everything (no ACK, no response) for this long (`Infinity`: until `endSilence`). */
  goSilent(durationMs: number): void {
    this.silentUntilMs = Date.now() + durationMs;
  }

  /** Answer again at once, whatever silence was asked for. */
  endSilence(): void {
    this.silentUntilMs = 0;
  }

  /** Ignore the next `count` frames (no ACK, no response), however long they take to come. */
  ignoreNextFrames(count = 1): void {
    this.framesToIgnore = count;
  }

  /** The next dispense is ACKed and moves its notes, then its response is lost and the device is silent
   * for this long (`Infinity`: until `endSilence`). */
  goSilentDuringNextDispense(durationMs: number): void {
    this.silentMidDispenseMs = durationMs;
  }

  /** NAK the next `count` valid frames instead of executing them. */
  nakNextFrames(count = 1): void {
    this.naksToSend = count;
  }

  setCassetteCount(index: number, count: number): void {
    checkCount(count);
    const cassette = this.cassettes[index];
    if (!cassette) throw new RangeError(`no cassette ${index}`);
    cassette.count = count;
  }

  /** The customer's hand: takes the notes waiting in the presenter. False when none wait. */
  takeNotes(): boolean {
    clearTimeout(this.takeTimer);
    if (!this.presented) return false;
    this.presented = undefined;
    if (this.deviceState === 'presenting') this.deviceState = 'ready';
    return true;
  }

  /** Notes waiting in the presenter now (0 when none). */
  get presentedNotes(): number {
    return this.presented?.notes.reduce((sum, n) => sum + n, 0) ?? 0;
  }

  /** Notes in the retract (reject) bin: retracted bundles, until a technician empties it. */
  get retractBinCount(): number {
    return this.retractBin;
  }

  /** Writes raw bytes to the host, for garbage-on-the-line tests. */
  async injectBytes(bytes: Uint8Array): Promise<void> {
    await this.link?.write(bytes);
  }

  // --- observation ------------------------------------------------------------------------------

  get state(): DispenserState {
    return this.deviceState;
  }

  get cassetteCounts(): number[] {
    return this.cassettes.map((c) => c.count);
  }

  /** Frames of this command the device received, including ones it ignored or NAKed. */
  receivedCount(command: CommandCode): number {
    return this.received.filter((r) => r.command === command).length;
  }

  // --- protocol ---------------------------------------------------------------------------------

  private onBytes(bytes: Uint8Array): void {
    for (const item of this.decoder.push(bytes, Date.now())) this.onItem(item);
  }

  private onItem(item: DecodedItem): void {
    const silent = Date.now() < this.silentUntilMs;
    switch (item.kind) {
      case 'ack':
        this.unackedResponse = undefined;
        return;
      case 'nak': {
        const pending = this.unackedResponse;
        if (silent || !pending || pending.resendsLeft <= 0) return;
        pending.resendsLeft -= 1;
        this.write(pending.frame);
        return;
      }
      case 'error':
        this.linkErrors.push(`${item.code}: ${item.message}`);
        if (!silent && item.code !== 'garbage') this.write(Uint8Array.of(NAK));
        return;
      case 'frame': {
        const ignored = silent || this.framesToIgnore > 0;
        if (!silent && this.framesToIgnore > 0) this.framesToIgnore -= 1;
        this.logReceived({ command: item.frame.command, seq: item.frame.seq, ignored });
        if (ignored) return;
        if (this.naksToSend > 0) {
          this.naksToSend -= 1;
          this.write(Uint8Array.of(NAK));
          return;
        }
        this.write(Uint8Array.of(ACK));
        this.onFrame(item.frame);
        return;
      }
    }
  }

  private onFrame(frame: Frame): void {
    const body = `${frame.command}:${Buffer.from(frame.data).toString('hex')}`;
    const last = this.lastResponse;
    if (last && last.seq === frame.seq && last.body === body) {
      // A retransmission: the host lost our response, so repeat it instead of executing again.
      this.sendResponse(last.frame);
      return;
    }
    this.execute(frame).then(
      (data) => {
        if (data === undefined) return;
        const response = encodeFrame({ seq: frame.seq, command: responseCommandOf(frame.command as CommandCode), data });
        this.lastResponse = { seq: frame.seq, body, frame: response };
        this.sendResponse(response);
      },
      (error: unknown) => {
        this.linkErrors.push(`execute failed: ${describe(error)}`);
      },
    );
  }

  /** Returns the response DATA, or undefined when the response is to be lost. */
  private async execute(frame: Frame): Promise<Uint8Array | undefined> {
    try {
      switch (frame.command) {
        case COMMAND.STATUS:
          decodeEmpty(frame.data, 'STATUS');
          return encodeStatusReport({
            state: this.deviceState,
            lastError: this.lastError,
            cassettes: this.cassettes.map((c) => ({ ...c, low: c.count <= this.limits.lowNoteThreshold })),
          });
        case COMMAND.SET_COUNTS: {
          const counts = decodeSetCounts(frame.data);
          // A count list for other cassettes than this device has is refused like a malformed frame.
          if (counts.length === this.cassettes.length && this.deviceState !== 'dispensing') counts.forEach((n, i) => (this.cassettes[i]!.count = n));
          return encodeStatusReport({
            state: this.deviceState,
            lastError: this.lastError,
            cassettes: this.cassettes.map((c) => ({ ...c, low: c.count <= this.limits.lowNoteThreshold })),
          });
        }
        case COMMAND.COUNTERS:
          decodeEmpty(frame.data, 'COUNTERS');
          return encodeCounters(this.lifetimeDispensed);
        case COMMAND.RETRACT:
          return encodeRetractRecord(this.retract(decodeTransactionId(frame.data, 'RETRACT')));
        case COMMAND.RESET:
          decodeEmpty(frame.data, 'RESET');
          // Notes in the presenter stay there (and the state says so) until taken or retracted.
          if (this.deviceState !== 'dispensing' && this.deviceState !== 'presenting') {
            this.deviceState = 'ready';
            this.lastError = 'ok';
          }
          return encodeResetReport({ state: this.deviceState, lastError: this.lastError });
        case COMMAND.LAST_DISPENSE: {
          const transactionId = decodeTransactionId(frame.data, 'LAST_DISPENSE');
          return encodeDispenseRecord(this.transactions.get(transactionId) ?? this.unknownRecord(transactionId));
        }
        case COMMAND.DISPENSE:
          return await this.dispense(frame.data);
        default:
          throw new MessageFormatError(`no handler for CMD 0x${frame.command.toString(16)}`);
      }
    } catch (error) {
      if (!(error instanceof MessageFormatError)) throw error;
      this.linkErrors.push(error.message);
      // A frame that passed BCC but whose DATA does not parse: the host's bug, not the line's.
      if (frame.command === COMMAND.DISPENSE) {
        return encodeDispenseRecord({ ...this.unknownRecord(0), outcome: 'stopped', result: 'invalid-request' });
      }
      return undefined;
    }
  }

  private async dispense(data: Uint8Array): Promise<Uint8Array | undefined> {
    const command = decodeDispenseCommand(data);
    const known = this.transactions.get(command.transactionId);
    // The device's own exactly-once: a transaction number it has seen never moves notes again.
    if (known) return encodeDispenseRecord(known);
    const record: DispenseRecord = {
      transactionId: command.transactionId,
      outcome: 'in-progress',
      result: 'ok',
      requested: command.notes,
      dispensed: command.notes.map(() => 0),
    };
    const refusal = this.refusalFor(command.transactionId, command.notes);
    if (refusal) {
      Object.assign(record, { outcome: 'stopped', result: refusal });
      this.remember(record);
      return encodeDispenseRecord(record);
    }
    // Recorded before the first note moves: LAST_DISPENSE must never say "unknown" for a dispense
    // that has moved or is moving notes.
    this.remember(record);
    this.deviceState = 'dispensing';
    const jamAfter = this.jamAfterNotes;
    const shortBy = this.shortByNotes;
    const silentMs = this.silentMidDispenseMs;
    this.jamAfterNotes = this.shortByNotes = this.silentMidDispenseMs = undefined;
    let moved = 0;
    let result: ResultCode = 'ok';
    picking: for (let i = 0; i < command.notes.length; i++) {
      const toPick = (command.notes[i] ?? 0) - Math.min(shortBy?.[i] ?? 0, command.notes[i] ?? 0);
      if (toPick < (command.notes[i] ?? 0)) result = 'pick-failure';
      for (let n = 0; n < toPick; n++) {
        if (jamAfter !== undefined && moved >= jamAfter) {
          result = 'jam';
          break picking;
        }
        if (this.limits.noteIntervalMs > 0) await sleepMs(this.limits.noteIntervalMs);
        const cassette = this.cassettes[i];
        if (!cassette) throw new Error(`cassette ${i} vanished`);
        cassette.count -= 1;
        this.lifetimeDispensed[i] = (this.lifetimeDispensed[i] ?? 0) + 1;
        record.dispensed[i] = (record.dispensed[i] ?? 0) + 1;
        moved += 1;
      }
    }
    record.outcome = result === 'ok' ? 'completed' : 'stopped';
    record.result = result;
    this.deviceState = result === 'jam' ? 'error' : 'ready';
    if (result === 'jam') this.lastError = 'jam';
    // Notes picked go to the presenter and wait there for the customer (after a jam they are out of the
    // device's reach: the transport stopped with them delivered).
    if (moved > 0 && result !== 'jam') this.present(record.transactionId, [...record.dispensed]);
    if (silentMs !== undefined) {
      this.silentUntilMs = Date.now() + silentMs;
      return undefined;
    }
    return encodeDispenseRecord(record);
  }

  private present(transactionId: number, notes: number[]): void {
    this.presented = { transactionId, notes };
    this.deviceState = 'presenting';
    const afterMs = this.options.takeNotesAfterMs === undefined ? 0 : this.options.takeNotesAfterMs;
    clearTimeout(this.takeTimer);
    if (afterMs !== null) {
      this.takeTimer = setTimeout(() => {
        if (this.presented?.transactionId === transactionId) this.takeNotes();
      }, afterMs);
    }
  }

  /** RETRACT: the presented notes of `transactionId` into the bin, once; asked again, the same answer. */
  private retract(transactionId: number): RetractRecord {
    const done = this.retracts.get(transactionId);
    if (done) return { ...done, binCount: this.retractBin };
    const zeros = this.cassettes.map(() => 0);
    const presented = this.presented;
    if (presented && presented.transactionId === transactionId) {
      clearTimeout(this.takeTimer);
      this.presented = undefined;
      this.retractBin += presented.notes.reduce((sum, n) => sum + n, 0);
      if (this.deviceState === 'presenting') this.deviceState = 'ready';
      const record: RetractRecord = { transactionId, outcome: 'retracted', retracted: presented.notes, binCount: this.retractBin };
      this.retracts.set(transactionId, record);
      while (this.retracts.size > this.limits.maxRememberedTransactions) {
        const oldest = this.retracts.keys().next().value;
        if (oldest === undefined) break;
        this.retracts.delete(oldest);
      }
      return record;
    }
    const dispensed = this.transactions.get(transactionId)?.dispensed.some((n) => n > 0) === true;
    return { transactionId, outcome: dispensed ? 'taken' : 'unknown', retracted: zeros, binCount: this.retractBin };
  }

  private refusalFor(transactionId: number, notes: number[]): ResultCode | undefined {
    if (!isValidTransactionId(transactionId) || notes.length !== this.cassettes.length) return 'invalid-request';
    const total = notes.reduce((sum, n) => sum + n, 0);
    if (total < 1 || total > MAX_NOTES_PER_DISPENSE) return 'invalid-request';
    if (this.deviceState !== 'ready') return 'not-ready';
    if (notes.some((n, i) => n > (this.cassettes[i]?.count ?? 0))) return 'insufficient-notes';
    return undefined;
  }

  private unknownRecord(transactionId: number): DispenseRecord {
    const zeros = this.cassettes.map(() => 0);
    return { transactionId, outcome: 'unknown', result: 'ok', requested: zeros, dispensed: [...zeros] };
  }

  private remember(record: DispenseRecord): void {
    this.transactions.set(record.transactionId, record);
    while (this.transactions.size > this.limits.maxRememberedTransactions) {
      const oldest = this.transactions.keys().next().value;
      if (oldest === undefined) break;
      this.transactions.delete(oldest);
    }
  }

  private logReceived(entry: ReceivedCommand): void {
    this.received.push(entry);
    if (this.received.length > this.limits.maxCommandLogEntries) this.received.shift();
  }

  private sendResponse(frame: Uint8Array): void {
    this.unackedResponse = { frame, resendsLeft: this.limits.maxResponseResends };
    this.write(frame);
  }

  private write(bytes: Uint8Array): void {
    const link = this.link;
    if (!link?.isOpen) return;
    link.write(bytes).catch((error: unknown) => {
      this.linkErrors.push(`write failed: ${describe(error)}`);
    });
  }
}

function checkCount(count: number): void {
  if (!Number.isSafeInteger(count) || count < 0 || count > MAX_NOTES_PER_CASSETTE) {
    throw new RangeError(`a cassette holds 0..${MAX_NOTES_PER_CASSETTE} notes`);
  }
}
