// The validator side of ccTalk, on the far end of a pty pair (or any serial port): a bill table with
// scaling, inhibits, master inhibit, single-note escrow with its timeout, a stacker with a capacity,
// the 5-event buffer with its counter, and the accept counter that outlives a power cycle. Tests drive
// it in-process; developers through simulator-cli.ts. Faults are injected on purpose; see
// simulator-faults.ts.

import { SerialLink } from '../serial/serial-link.js';
import { BILL_VALIDATOR_ADDRESS, CcTalkFrameReader, HOST_ADDRESS, encodeFrame, type CcTalkFrame } from './cctalk-frame.js';
import {
  BILL_VALIDATOR_CATEGORY,
  EVENT_BUFFER_SIZE,
  HEADER,
  MAX_BILL_TYPES,
  ROUTE_CODE,
  ROUTE_ERROR,
  THREE_BYTE_MODULUS,
  billValueCents,
  decodeCountryCode,
  decodeInhibitMask,
  decodeMasterEnabled,
  decodeOperatingMode,
  encodeAcceptCounter,
  encodeAscii,
  encodeBillId,
  encodeEventBuffer,
  encodeInhibitMask,
  encodeMasterEnabled,
  encodeOperatingMode,
  encodeScalingFactor,
  encodeSerialNumber,
  isBillType,
  isThreeByteNumber,
  type EventBuffer,
  type OperatingMode,
  type RawBillEvent,
} from './headers.js';
import { SIMULATOR_FAULTS, SIMULATOR_FAULT_NAMES, type SimulatorFault } from './simulator-faults.js';
import { CAD_BILL_IDS, CAD_SCALING, type InsertOutcome, type NoteAcceptorSimulatorOptions, type ReceivedFrame, type SimulatedCountry, type SimulatedNote } from './simulator-types.js';

export class NoteAcceptorSimulator {
  private link: SerialLink | undefined;
  private readonly reader: CcTalkFrameReader;
  private readonly notes: (SimulatedNote | undefined)[];
  private readonly countries: SimulatedCountry[];
  private readonly address: number;
  private enabledMask: number[] = [];
  private masterOn = false;
  private mode: OperatingMode = { useStacker: true, useEscrow: false };
  private counter = 0;
  private buffer: RawBillEvent[] = emptyBuffer();
  private heldBuffer: EventBuffer | undefined;
  private escrow: SimulatedNote | undefined;
  private escrowTimer: NodeJS.Timeout | undefined;
  private readonly stacker: SimulatedNote[] = [];
  /** Notes into the stacker over the validator's life, mod 2^24: non-volatile, so powerCycle() and
   *  emptyStacker() leave it alone. */
  private acceptCount: number;
  private readonly returned: SimulatedNote[] = [];
  private readonly latched = new Set<SimulatorFault>();
  private silent = false;
  private readonly naked = new Set<number>();
  private readonly repliesToLose = new Set<number>();
  private readonly commandsToLose = new Set<number>();
  readonly received: ReceivedFrame[] = [];

  private constructor(private readonly options: NoteAcceptorSimulatorOptions) {
    this.address = options.address ?? BILL_VALIDATOR_ADDRESS;
    this.acceptCount = options.acceptCounter ?? 0;
    if (!isThreeByteNumber(this.acceptCount)) throw new RangeError(`accept counter ${this.acceptCount} is not 3 bytes`);
    this.countries = (options.countries ?? [CAD_SCALING]).map((c) => ({ ...c }));
    const billIds = options.billIds ?? CAD_BILL_IDS;
    if (billIds.length > MAX_BILL_TYPES) throw new RangeError(`a validator has at most ${MAX_BILL_TYPES} bill types`);
    this.notes = billIds.map((billId, i) => {
      encodeBillId(billId);
      const country = this.countries.find((c) => c.countryCode === billId.slice(0, 2));
      const valueCents = country && billValueCents(Number(billId.slice(2, 6)), country);
      return valueCents === undefined ? undefined : { billType: i + 1, billId, valueCents };
    });
    this.reader = new CcTalkFrameReader(
      { ownAddress: this.address, peerAddress: HOST_ADDRESS, lineEchoes: false, interByteGapMs: options.interByteGapMs ?? 50 },
      (frame) => this.onFrame(frame),
    );
  }

  static async start(options: NoteAcceptorSimulatorOptions): Promise<NoteAcceptorSimulator> {
    const simulator = new NoteAcceptorSimulator(options);
    simulator.link = await SerialLink.open(
      { path: options.path, baudRate: options.baudRate ?? 9600, writeTimeoutMs: 1_000, closeTimeoutMs: 1_000 },
      {
        onData: (bytes) => simulator.onBytes(bytes),
        onUnexpectedClose: (error) => options.logger?.warn('note acceptor simulator port closed', { error: error?.message }),
      },
    );
    return simulator;
  }

  async stop(): Promise<void> {
    clearTimeout(this.escrowTimer);
    const link = this.link;
    this.link = undefined;
    await link?.close();
  }

  // --- the customer -------------------------------------------------------------------------------

  /** A genuine note of a value in the bill table. */
  insertNote(valueCents: number): InsertOutcome {
    const note = this.notes.find((n) => n?.valueCents === valueCents);
    if (!note) throw new RangeError(`no bill type is worth ${valueCents} cents: insert it as an unsupported note`);
    return this.insert(() => {
      if (!this.enabledMask.includes(note.billType)) return this.reject(4);
      if (!this.mode.useEscrow) return this.stackNote(note) ? 'stacked' : this.reject(3);
      this.escrow = note;
      this.pushEvent(note.billType, 1);
      this.startEscrowTimer();
      return 'escrow';
    });
  }

  /** A note that fails validation. */
  insertCounterfeit(): InsertOutcome {
    return this.insert(() => this.reject(2));
  }

  /** A genuine note the validator has no bill type for: it fails validation too. */
  insertUnsupported(valueCents: number): InsertOutcome {
    if (this.notes.some((n) => n?.valueCents === valueCents)) throw new RangeError(`${valueCents} cents is in the bill table`);
    return this.insert(() => this.reject(2));
  }

  // --- faults and power -----------------------------------------------------------------------------

  injectFault(fault: SimulatorFault): void {
    const spec = SIMULATOR_FAULTS[fault];
    if (spec.latched) this.latched.add(fault);
    // The note in escrow went into the stacker as a bill type the validator could not name. It is in
    // the cashbox, so it counts as accepted (see intoStacker).
    if (fault === 'unknown-bill-stacked' && this.escrow) this.intoStacker(this.escrow);
    // A jam (or that) takes the note in escrow: it is neither stacked nor returned as far as the
    // events go, until someone clears the path.
    if (spec.blocksNotes || fault === 'unknown-bill-stacked') this.dropEscrow();
    this.pushEvent(0, spec.resultB);
  }

  /** Someone fixed it: clears one latched fault (or all) and reports the clearing event, if any. */
  clearFault(fault?: SimulatorFault): void {
    for (const name of fault ? [fault] : [...this.latched]) {
      if (!this.latched.delete(name)) continue;
      if (name === 'stacker-full') this.stacker.length = 0;
      const { clearedBy } = SIMULATOR_FAULTS[name];
      if (clearedBy !== undefined) this.pushEvent(0, clearedBy);
    }
  }

  /** An operator emptied the cashbox. Returns what was in it. */
  emptyStacker(): SimulatedNote[] {
    const removed = this.stacker.splice(0);
    if (this.latched.delete('stacker-full')) this.pushEvent(0, 10);
    return removed;
  }

  /** Power lost and back: a note in escrow goes back to the customer, the event counter restarts at 0
   *  (the buffer is cleared), the validator comes up disabled, and faults still present are reported
   *  again. The accept counter and the stacker's notes stay. */
  powerCycle(): void {
    if (this.escrow) this.returned.push(this.escrow);
    this.dropEscrow();
    this.counter = 0;
    this.buffer = emptyBuffer();
    this.masterOn = false;
    this.enabledMask = [];
    this.mode = { useStacker: true, useEscrow: false };
    for (const fault of this.latched) this.pushEvent(0, SIMULATOR_FAULTS[fault].resultB);
  }

  // --- test hooks ----------------------------------------------------------------------------------

  /** Until released, header 159 answers the buffer as it is now, as if the host's reads all came
   *  before the events that follow: the way to make more than 5 events fall between two reads. */
  holdEvents(): void {
    this.heldBuffer = { eventCounter: this.counter, events: this.buffer.map((e) => ({ ...e })) };
  }

  releaseEvents(): void {
    this.heldBuffer = undefined;
  }

  /** Answer nothing at all (a cut cable, a dead validator). */
  setSilent(silent: boolean): void {
    this.silent = silent;
  }

  /** NAK every frame with this header (on = false: stop). */
  nakHeader(header: number, on = true): void {
    if (on) this.naked.add(header);
    else this.naked.delete(header);
  }

  /** Carry out the next command with this header but lose its reply. */
  loseNextReplyTo(header: number): void {
    this.repliesToLose.add(header);
  }

  /** Lose the next command with this header before the validator acts on it: not carried out, not
   *  answered (the power went as it arrived). It is still logged in `received`, unanswered. */
  loseNextCommand(header: number): void {
    this.commandsToLose.add(header);
  }

  async injectBytes(bytes: Uint8Array): Promise<void> {
    await this.link?.write(bytes);
  }

  // --- observation ---------------------------------------------------------------------------------

  stackedNotes(): SimulatedNote[] {
    return this.stacker.map((n) => ({ ...n }));
  }

  returnedNotes(): SimulatedNote[] {
    return this.returned.map((n) => ({ ...n }));
  }

  get noteInEscrow(): SimulatedNote | undefined {
    return this.escrow && { ...this.escrow };
  }

  get masterEnabled(): boolean {
    return this.masterOn;
  }

  get enabledBillTypes(): number[] {
    return [...this.enabledMask];
  }

  get operatingMode(): OperatingMode {
    return { ...this.mode };
  }

  get eventCounter(): number {
    return this.counter;
  }

  /** What header 225 answers. */
  get acceptCounter(): number {
    return this.acceptCount;
  }

  get faults(): SimulatorFault[] {
    return SIMULATOR_FAULT_NAMES.filter((f) => this.latched.has(f));
  }

  billTable(): SimulatedNote[] {
    return this.notes.filter((n): n is SimulatedNote => n !== undefined);
  }

  receivedCount(header: number): number {
    return this.received.filter((r) => r.header === header).length;
  }

  // --- the validator -------------------------------------------------------------------------------

  private insert(validate: () => InsertOutcome): InsertOutcome {
    if (this.escrow || this.blocked()) return 'not-taken';
    if (!this.masterOn) return this.reject(0);
    return validate();
  }

  private reject(resultB: number): 'rejected' {
    this.pushEvent(0, resultB);
    return 'rejected';
  }

  private blocked(): boolean {
    return [...this.latched].some((f) => SIMULATOR_FAULTS[f].blocksNotes);
  }

  private stackNote(note: SimulatedNote): boolean {
    if (this.blocked()) return false;
    this.intoStacker(note);
    this.pushEvent(note.billType, 0);
    if (this.stacker.length >= (this.options.stackerCapacity ?? 1_000)) {
      this.latched.add('stacker-full');
      this.pushEvent(0, SIMULATOR_FAULTS['stacker-full'].resultB);
    }
    return true;
  }

  /** The one way a note reaches the stacker, so the accept counter counts exactly the notes in it: a
   *  genuine note stacked (B 0 event) and a note stacked as an unknown bill type (B 21) alike, since both
   *  are in the cashbox. A 3-byte counter wraps from 2^24 - 1 to 0. */
  private intoStacker(note: SimulatedNote): void {
    this.stacker.push(note);
    this.acceptCount = (this.acceptCount + 1) % THREE_BYTE_MODULUS;
  }

  private pushEvent(resultA: number, resultB: number): void {
    this.counter = this.counter >= 255 ? 1 : this.counter + 1;
    this.buffer.unshift({ resultA, resultB });
    this.buffer.length = EVENT_BUFFER_SIZE;
  }

  private startEscrowTimer(): void {
    clearTimeout(this.escrowTimer);
    const timeoutMs = this.options.escrowTimeoutMs ?? 30_000;
    if (timeoutMs <= 0) return;
    this.escrowTimer = setTimeout(() => this.returnEscrow(), timeoutMs);
  }

  private returnEscrow(): void {
    const note = this.escrow;
    if (!note) return;
    this.dropEscrow();
    this.returned.push(note);
    this.pushEvent(0, 1);
  }

  private dropEscrow(): void {
    clearTimeout(this.escrowTimer);
    this.escrow = undefined;
  }

  private onBytes(bytes: Uint8Array): void {
    // The bus carries the host's bytes back to it as they are sent, before any reply.
    if (this.options.lineEchoes) this.write(bytes);
    this.reader.push(bytes);
  }

  private onFrame(frame: CcTalkFrame): void {
    const entry: ReceivedFrame = { header: frame.header, data: [...frame.data], answered: false };
    this.received.push(entry);
    if (this.received.length > (this.options.maxReceivedLogEntries ?? 1_024)) this.received.shift();
    if (this.silent || this.commandsToLose.delete(frame.header)) return;
    const reply = this.naked.has(frame.header) ? ({ nak: true } as const) : this.execute(frame);
    if (reply === undefined) return;
    if (!this.repliesToLose.delete(frame.header)) {
      entry.answered = true;
      const header = 'nak' in reply ? HEADER.NAK : HEADER.REPLY;
      const data = 'nak' in reply ? new Uint8Array(0) : reply.data;
      this.write(encodeFrame({ destination: frame.source, source: this.address, header, data }));
    }
    // ccTalk: the device acknowledges RESET, then resets.
    if (frame.header === HEADER.RESET_DEVICE && !('nak' in reply)) this.powerCycle();
  }

  /** The reply's data, a NAK, or undefined for no reply. */
  private execute(frame: CcTalkFrame): { data: Uint8Array } | { nak: true } | undefined {
    const { data } = frame;
    const ok = (bytes: Uint8Array = new Uint8Array(0)) => ({ data: bytes });
    const nak = { nak: true } as const;
    const noData = data.length === 0;
    switch (frame.header) {
      case HEADER.SIMPLE_POLL:
        return noData ? ok() : nak;
      case HEADER.REQUEST_EQUIPMENT_CATEGORY_ID:
        return ok(encodeAscii(this.options.equipmentCategory ?? BILL_VALIDATOR_CATEGORY));
      case HEADER.REQUEST_MANUFACTURER_ID:
        return ok(encodeAscii('SIM'));
      case HEADER.REQUEST_PRODUCT_CODE:
        return ok(encodeAscii('NA-SIM'));
      case HEADER.REQUEST_SERIAL_NUMBER:
        return ok(encodeSerialNumber(this.options.serialNumber ?? 0x123456));
      case HEADER.REQUEST_SOFTWARE_REVISION:
        return ok(encodeAscii('sim-1.0'));
      case HEADER.REQUEST_COMMS_REVISION:
        return ok(Uint8Array.of(1, 4, 6));
      case HEADER.RESET_DEVICE:
        return noData ? ok() : nak;
      case HEADER.MODIFY_INHIBIT_STATUS:
        if (data.length !== 2) return nak;
        this.enabledMask = decodeInhibitMask(data);
        return ok();
      case HEADER.REQUEST_INHIBIT_STATUS:
        return ok(encodeInhibitMask(this.enabledMask));
      case HEADER.MODIFY_MASTER_INHIBIT_STATUS:
        if (data.length !== 1) return nak;
        this.masterOn = decodeMasterEnabled(data);
        return ok();
      case HEADER.REQUEST_MASTER_INHIBIT_STATUS:
        return ok(encodeMasterEnabled(this.masterOn));
      case HEADER.MODIFY_BILL_OPERATING_MODE:
        if (data.length !== 1) return nak;
        this.mode = decodeOperatingMode(data);
        return ok();
      case HEADER.REQUEST_BILL_OPERATING_MODE:
        return ok(encodeOperatingMode(this.mode));
      case HEADER.REQUEST_ACCEPT_COUNTER:
        return noData ? ok(encodeAcceptCounter(this.acceptCount)) : nak;
      case HEADER.READ_BUFFERED_BILL_EVENTS:
        return ok(encodeEventBuffer(this.heldBuffer ?? { eventCounter: this.counter, events: this.buffer }));
      case HEADER.REQUEST_BILL_ID: {
        const billType = data.length === 1 ? (data[0] ?? 0) : 0;
        if (!isBillType(billType)) return nak;
        const note = this.notes[billType - 1];
        return ok(note ? encodeAscii(note.billId) : encodeAscii('.......'));
      }
      case HEADER.REQUEST_COUNTRY_SCALING_FACTOR: {
        if (data.length !== 2) return nak;
        const country = this.countries.find((c) => c.countryCode === safeCountry(data));
        return ok(encodeScalingFactor(country ?? { scalingFactor: 0, decimalPlaces: 0 }));
      }
      case HEADER.ROUTE_BILL:
        return data.length === 1 ? ok(this.route(data[0] ?? 0)) : nak;
      default:
        return nak;
    }
  }

  private route(code: number): Uint8Array {
    const note = this.escrow;
    if (!note) return Uint8Array.of(ROUTE_ERROR.ESCROW_EMPTY);
    switch (code) {
      case ROUTE_CODE.STACK:
        if (this.blocked()) return Uint8Array.of(ROUTE_ERROR.FAILED_TO_ROUTE);
        this.dropEscrow();
        this.stackNote(note);
        return new Uint8Array(0);
      case ROUTE_CODE.RETURN:
        this.returnEscrow();
        return new Uint8Array(0);
      case ROUTE_CODE.EXTEND_ESCROW:
        this.startEscrowTimer();
        return new Uint8Array(0);
      default:
        return Uint8Array.of(ROUTE_ERROR.FAILED_TO_ROUTE);
    }
  }

  private write(bytes: Uint8Array): void {
    const link = this.link;
    if (!link?.isOpen) return;
    link.write(bytes).catch((error: unknown) => {
      this.options.logger?.warn('note acceptor simulator write failed', { error: error instanceof Error ? error.message : String(error) });
    });
  }
}

function emptyBuffer(): RawBillEvent[] {
  return Array.from({ length: EVENT_BUFFER_SIZE }, () => ({ resultA: 0, resultB: 0 }));
}

function safeCountry(data: Uint8Array): string | undefined {
  try {
    return decodeCountryCode(data);
  } catch {
    return undefined;
  }
}
