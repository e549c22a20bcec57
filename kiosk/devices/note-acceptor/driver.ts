// The note acceptor driver: a ccTalk bill validator over a real serial port. What matters most: every
// stacked note is reported exactly once (the event counter dedupes re-reads of the 5-event buffer), a
// gap or an unexplained reset is reported as a fault, and a ROUTE command is never sent twice: after a
// lost reply, the next events say where the note went.

import type { Logger } from '../../../protocol/log.js';
import { DeviceError, isDeviceError, type DeviceErrorCode } from '../serial/device-error.js';
import { waitAtMost } from '../serial/deferred.js';
import { SerialLink } from '../serial/serial-link.js';
import { BillEventTracker } from './bill-events.js';
import { BILL_VALIDATOR_ADDRESS, CcTalkFrameReader, HOST_ADDRESS, encodeFrame } from './cctalk-frame.js';
import { CcTalkCommandExchange } from './command-exchange.js';
import { NoteEventInterpreter } from './event-interpreter.js';
import {
  BILL_VALIDATOR_CATEGORY,
  HEADER,
  MAX_BILL_TYPES,
  MessageFormatError,
  ROUTE_CODE,
  ROUTE_ERROR,
  billValueCents,
  decodeAcceptCounter,
  decodeAscii,
  decodeBillId,
  decodeCommsRevision,
  decodeEventBuffer,
  decodeInhibitMask,
  decodeMasterEnabled,
  decodeOperatingMode,
  decodeScalingFactor,
  decodeSerialNumber,
  encodeCountryCode,
  encodeInhibitMask,
  encodeMasterEnabled,
  encodeOperatingMode,
  expectLength,
  type BillId,
  type HeaderCode,
  type RouteCode,
} from './headers.js';
import type {
  AvailabilityChange,
  DeviceAvailability,
  LatchedFaultCode,
  NoteAcceptor,
  NoteAcceptorEvent,
  NoteAcceptorIdentity,
  NoteDenomination,
  NoteRef,
  RouteOutcome,
} from './types.js';

export const DEFAULT_NOTE_ACCEPTOR_LIMITS = {
  /** A validator answers within ~50 ms; 500 ms covers a busy one and a loaded kiosk. */
  replyTimeoutMs: 500,
  /** Sends of a command that is safe to repeat (queries, absolute settings). ROUTE and RESET: 1. */
  queryAttempts: 3,
  /** Reads of the event buffer while all is well; validators disable themselves when not polled for
   *  some seconds, and 5 events must not pile up between two reads. */
  pollIntervalMs: 200,
  /** Reads while the validator does not answer. */
  unavailablePollIntervalMs: 1_000,
  /** ccTalk's inter-byte limit: a longer gap inside a frame drops it. */
  interByteGapMs: 50,
  /** Wait for the stacked / returned event after a ROUTE: stacking takes a few seconds. */
  routeOutcomeTimeoutMs: 10_000,
  /** Wait for the counter to show a reset the kiosk asked for. */
  resetTimeoutMs: 5_000,
  writeTimeoutMs: 1_000,
  closeTimeoutMs: 1_000,
  /** Commands waiting or in progress, the serial command queue's bound (a poll, a route and an enable's
   *  steps fit). */
  maxQueuedCommands: 8,
} as const;

export type NoteAcceptorLimits = { -readonly [K in keyof typeof DEFAULT_NOTE_ACCEPTOR_LIMITS]: number };

export interface SerialNoteAcceptorOptions {
  path: string;
  /** 9600 8N1, the ccTalk standard. */
  baudRate?: number;
  /** The validator's ccTalk address (40). */
  address?: number;
  /** Our address (1). */
  hostAddress?: number;
  /** A single-wire ccTalk bus echoes each frame we send; RS-232 and USB adapters usually do not. */
  lineEchoes?: boolean;
  /** Only bill types of this country are enabled and valued (their value is in its cents). */
  countryCode?: string;
  limits?: Partial<NoteAcceptorLimits>;
  logger?: Logger;
}

const ROUTE_ATTEMPTS = 1;
/** After these the route command may have arrived (a failed write may still have put the whole frame
 *  on the wire): the events, not a second command, say where the note went. */
const ROUTE_REPLY_LOST: readonly DeviceErrorCode[] = ['NOTE_ACCEPTOR_NO_REPLY', 'NOTE_ACCEPTOR_BAD_REPLY', 'SERIAL_WRITE_FAILED', 'SERIAL_WRITE_TIMEOUT'];

export class SerialNoteAcceptor implements NoteAcceptor {
  private readonly limits: NoteAcceptorLimits;
  private readonly address: number;
  private readonly hostAddress: number;
  private readonly countryCode: string;
  private link: SerialLink | undefined;
  private reader: CcTalkFrameReader | undefined;
  private exchange: CcTalkCommandExchange | undefined;
  /** One tracker for the driver's life: events while closed are still reported on the next open. */
  private readonly tracker = new BillEventTracker();
  private readonly interpreter: NoteEventInterpreter;
  private pollTimer: NodeJS.Timeout | undefined;
  private generation = 0;
  private linkProblem: string | undefined = 'not yet answered';
  private currentAvailability: DeviceAvailability = 'closed';
  private readonly eventListeners = new Set<(event: NoteAcceptorEvent) => void>();
  private readonly availabilityListeners = new Set<(change: AvailabilityChange) => void>();
  readonly stats = { routeCommandsSent: 0, resetCommandsSent: 0, eventReads: 0 };

  constructor(private readonly options: SerialNoteAcceptorOptions) {
    this.limits = { ...DEFAULT_NOTE_ACCEPTOR_LIMITS, ...options.limits };
    this.address = options.address ?? BILL_VALIDATOR_ADDRESS;
    this.hostAddress = options.hostAddress ?? HOST_ADDRESS;
    this.countryCode = options.countryCode ?? 'CA';
    encodeCountryCode(this.countryCode);
    this.interpreter = new NoteEventInterpreter((event) => this.emit(event));
  }

  get availability(): DeviceAvailability {
    return this.currentAvailability;
  }

  get noteInEscrow(): NoteRef | undefined {
    return this.interpreter.noteInEscrow;
  }

  get activeFaults(): ReadonlySet<LatchedFaultCode> {
    return this.interpreter.activeFaults;
  }

  /** Link counters for diagnostics and tests. */
  get linkStats() {
    return { frames: this.reader?.stats, exchange: this.exchange?.stats };
  }

  onEvent(listener: (event: NoteAcceptorEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onAvailabilityChange(listener: (change: AvailabilityChange) => void): () => void {
    this.availabilityListeners.add(listener);
    return () => this.availabilityListeners.delete(listener);
  }

  async open(): Promise<void> {
    if (this.link?.isOpen) return;
    if (this.link) {
      // The port closed under us: drop the old link quietly before opening a new one.
      this.exchange?.close();
      clearTimeout(this.pollTimer);
      await this.link.close();
      this.link = undefined;
    }
    const generation = ++this.generation;
    const reader = new CcTalkFrameReader(
      { ownAddress: this.hostAddress, peerAddress: this.address, lineEchoes: this.options.lineEchoes ?? false, interByteGapMs: this.limits.interByteGapMs },
      (frame) => this.exchange?.deliver(frame),
      (reason) => this.options.logger?.warn('note acceptor frame dropped', { reason }),
    );
    const exchange = new CcTalkCommandExchange((bytes) => this.writeFrame(bytes), this.limits);
    this.reader = reader;
    this.exchange = exchange;
    this.link = await SerialLink.open(
      { path: this.options.path, baudRate: this.options.baudRate ?? 9600, writeTimeoutMs: this.limits.writeTimeoutMs, closeTimeoutMs: this.limits.closeTimeoutMs },
      {
        onData: (bytes) => this.reader?.push(bytes),
        onUnexpectedClose: (error) => this.linkFailed(`serial port closed: ${error?.message ?? 'no reason given'}`),
      },
    );
    this.linkProblem = 'not yet answered';
    this.refreshAvailability();
    try {
      const category = await this.query(HEADER.REQUEST_EQUIPMENT_CATEGORY_ID, (data) => decodeAscii(data, 'equipment category'));
      if (category !== BILL_VALIDATOR_CATEGORY) {
        await this.close();
        throw new DeviceError('NOTE_ACCEPTOR_WRONG_DEVICE', `address ${this.address} is a "${category}", not a "${BILL_VALIDATOR_CATEGORY}"`);
      }
      await this.denominations();
      await this.readEvents();
    } catch (error) {
      if (isDeviceError(error, 'NOTE_ACCEPTOR_WRONG_DEVICE')) throw error;
      // Open succeeds with the device unavailable: the kiosk shows out-of-service and polling retries.
      this.options.logger?.warn('note acceptor did not answer after open', { error: describe(error) });
    }
    this.schedulePoll(generation, this.limits.pollIntervalMs);
  }

  async close(): Promise<void> {
    this.generation += 1;
    clearTimeout(this.pollTimer);
    this.exchange?.close();
    this.interpreter.abandonWaiters(new DeviceError('NOT_OPEN', 'the note acceptor driver was closed'));
    const link = this.link;
    this.link = undefined;
    await link?.close();
    this.setAvailability('closed', 'closed by the kiosk');
  }

  async identify(): Promise<NoteAcceptorIdentity> {
    const ascii = (what: string) => (data: Uint8Array) => decodeAscii(data, what);
    return {
      equipmentCategory: await this.query(HEADER.REQUEST_EQUIPMENT_CATEGORY_ID, ascii('equipment category')),
      manufacturer: await this.query(HEADER.REQUEST_MANUFACTURER_ID, ascii('manufacturer')),
      productCode: await this.query(HEADER.REQUEST_PRODUCT_CODE, ascii('product code')),
      serialNumber: await this.query(HEADER.REQUEST_SERIAL_NUMBER, decodeSerialNumber),
      softwareRevision: await this.query(HEADER.REQUEST_SOFTWARE_REVISION, ascii('software revision')),
      commsRevision: await this.query(HEADER.REQUEST_COMMS_REVISION, decodeCommsRevision),
    };
  }

  async denominations(): Promise<NoteDenomination[]> {
    const ids: { billType: number; id: BillId }[] = [];
    for (let billType = 1; billType <= MAX_BILL_TYPES; billType++) {
      const id = await this.query(HEADER.REQUEST_BILL_ID, decodeBillId, Uint8Array.of(billType));
      if (id) ids.push({ billType, id });
    }
    const scalingByCountry = new Map<string, ReturnType<typeof decodeScalingFactor>>();
    for (const { id } of ids) {
      if (scalingByCountry.has(id.countryCode)) continue;
      scalingByCountry.set(id.countryCode, await this.query(HEADER.REQUEST_COUNTRY_SCALING_FACTOR, decodeScalingFactor, encodeCountryCode(id.countryCode)));
    }
    const table: NoteDenomination[] = [];
    for (const { billType, id } of ids) {
      const scaling = scalingByCountry.get(id.countryCode);
      const valueCents = scaling && billValueCents(id.value, scaling);
      const billId = `${id.countryCode}${String(id.value).padStart(4, '0')}${id.issue}`;
      if (valueCents === undefined) {
        this.options.logger?.warn('note acceptor bill type has no whole value in cents; never enabled', { billType, billId });
        continue;
      }
      table.push({ billType, billId, countryCode: id.countryCode, valueCents });
    }
    this.interpreter.billTable = new Map(table.filter((d) => d.countryCode === this.countryCode).map((d) => [d.billType, d]));
    return table;
  }

  async enable(denominationsCents: readonly number[]): Promise<void> {
    const wanted = new Set(denominationsCents);
    if (wanted.size < 1 || [...wanted].some((v) => !Number.isSafeInteger(v) || v < 1)) {
      throw new DeviceError('BAD_ARGUMENT', 'enable takes one or more note values in positive integer cents');
    }
    if (!this.interpreter.billTable) await this.denominations();
    // Every bill type of a wanted value (a note can have several issues), of our country only.
    const table = [...(this.interpreter.billTable?.values() ?? [])];
    const billTypes = table.filter((d) => wanted.has(d.valueCents)).map((d) => d.billType);
    const missing = [...wanted].filter((value) => !table.some((d) => d.valueCents === value));
    if (missing.length > 0) {
      throw new DeviceError('BAD_ARGUMENT', `the validator has no ${this.countryCode} bill type worth ${missing.join(', ')} cents`);
    }
    try {
      // Inhibits and mode first, master inhibit last: no note is taken under the old settings.
      await this.setAndCheck(HEADER.MODIFY_INHIBIT_STATUS, encodeInhibitMask(billTypes), HEADER.REQUEST_INHIBIT_STATUS, 'inhibit status');
      await this.setAndCheck(HEADER.MODIFY_BILL_OPERATING_MODE, encodeOperatingMode({ useStacker: true, useEscrow: true }), HEADER.REQUEST_BILL_OPERATING_MODE, 'bill operating mode');
      await this.setAndCheck(HEADER.MODIFY_MASTER_INHIBIT_STATUS, encodeMasterEnabled(true), HEADER.REQUEST_MASTER_INHIBIT_STATUS, 'master inhibit status');
    } catch (error) {
      // Half-enabled is not a state the kiosk can reason about: fall back to disabled.
      await this.disable().catch((disableError: unknown) => {
        this.options.logger?.error('note acceptor could not be disabled after a failed enable', { error: describe(disableError) });
      });
      throw error;
    }
  }

  async disable(): Promise<void> {
    await this.setAndCheck(HEADER.MODIFY_MASTER_INHIBIT_STATUS, encodeMasterEnabled(false), HEADER.REQUEST_MASTER_INHIBIT_STATUS, 'master inhibit status');
  }

  stack(): Promise<RouteOutcome> {
    if (this.interpreter.escrowBillType !== undefined && !this.interpreter.noteInEscrow) {
      return Promise.reject(new DeviceError('BAD_ARGUMENT', 'the note in escrow is of unknown value; return it'));
    }
    return this.route(ROUTE_CODE.STACK, 'stack');
  }

  return(): Promise<RouteOutcome> {
    return this.route(ROUTE_CODE.RETURN, 'return');
  }

  async extendEscrow(): Promise<void> {
    if (this.interpreter.escrowBillType === undefined) throw new DeviceError('NOTE_ESCROW_EMPTY', 'no note is in escrow as far as the events tell');
    await this.command(HEADER.ROUTE_BILL, Uint8Array.of(ROUTE_CODE.EXTEND_ESCROW), parseRouteReply, ROUTE_ATTEMPTS);
  }

  async reset(): Promise<void> {
    const waiter = this.interpreter.awaitExpectedReset();
    this.tracker.expectReset();
    this.stats.resetCommandsSent += 1;
    try {
      // Sent once: a device that reset answers nothing for a while, and a second reset is a second event.
      await this.command(HEADER.RESET_DEVICE, new Uint8Array(0), expectAck('reset'), 1);
      const seen = await waitAtMost(waiter.promise, this.limits.resetTimeoutMs);
      if (seen.timedOut) throw new DeviceError('NOTE_ACCEPTOR_NO_REPLY', `the event counter did not show the reset within ${this.limits.resetTimeoutMs} ms`);
      if (seen.value) throw seen.value;
    } catch (error) {
      // A reset we cannot confirm must not explain a later one away: that one is reported as a fault.
      this.tracker.cancelExpectedReset();
      throw error;
    }
    this.refreshAvailability();
  }

  /** Header 225, a query (sent up to `queryAttempts` times): the notes the validator has accepted into
   *  its stacker, 0 .. 2^24 - 1, kept across power cycles. What it is for: interrupted-stack.ts. */
  acceptCounter(): Promise<number> {
    return this.query(HEADER.REQUEST_ACCEPT_COUNTER, decodeAcceptCounter);
  }

  // --- route ---------------------------------------------------------------------------------------

  private async route(code: RouteCode, name: string): Promise<RouteOutcome> {
    if (this.interpreter.escrowBillType === undefined) throw new DeviceError('NOTE_ESCROW_EMPTY', 'no note is in escrow as far as the events tell');
    const waiter = this.interpreter.awaitRouteOutcome();
    try {
      this.stats.routeCommandsSent += 1;
      await this.command(HEADER.ROUTE_BILL, Uint8Array.of(code), parseRouteReply, ROUTE_ATTEMPTS);
    } catch (error) {
      const lost = ROUTE_REPLY_LOST.some((code) => isDeviceError(error, code));
      if (!lost) {
        waiter.resolve(error instanceof DeviceError ? error : new DeviceError('NOTE_ROUTE_FAILED', describe(error)));
      } else {
        // Never resent: the command may have arrived. The events say where the note went.
        this.options.logger?.warn(`note acceptor ${name} reply lost; waiting for the events`, { error: describe(error) });
      }
    }
    const outcome = await waitAtMost(waiter.promise, this.limits.routeOutcomeTimeoutMs);
    if (outcome.timedOut) {
      waiter.resolve(new DeviceError('NOTE_ROUTE_OUTCOME_UNKNOWN', 'timed out'));
      throw new DeviceError('NOTE_ROUTE_OUTCOME_UNKNOWN', `no stacked or returned event within ${this.limits.routeOutcomeTimeoutMs} ms after ${name}`);
    }
    if (outcome.value instanceof DeviceError) throw outcome.value;
    return outcome.value;
  }

  // --- polling -------------------------------------------------------------------------------------

  private schedulePoll(generation: number, delayMs: number): void {
    if (generation !== this.generation || !this.link) return;
    this.pollTimer = setTimeout(() => {
      this.pollTick(generation).catch((error: unknown) => {
        this.options.logger?.error('note acceptor poll loop failed', { error: describe(error) });
      });
    }, delayMs);
  }

  private async pollTick(generation: number): Promise<void> {
    let nextMs = this.limits.pollIntervalMs;
    try {
      if (!this.interpreter.billTable) await this.denominations();
      await this.readEvents();
    } catch (error) {
      nextMs = this.limits.unavailablePollIntervalMs;
      if (generation === this.generation) this.options.logger?.warn('note acceptor poll failed', { error: describe(error) });
    }
    this.schedulePoll(generation, nextMs);
  }

  private async readEvents(): Promise<void> {
    const buffer = await this.query(HEADER.READ_BUFFERED_BILL_EVENTS, decodeEventBuffer);
    this.stats.eventReads += 1;
    const reading = this.tracker.read(buffer);
    if (reading.baseline) {
      this.options.logger?.info('note acceptor event counter baseline', { eventCounter: buffer.eventCounter });
      this.interpreter.adoptBaseline(buffer.events[0], buffer.eventCounter);
    }
    this.interpreter.process(reading);
    this.refreshAvailability();
  }

  // --- commands ------------------------------------------------------------------------------------

  private query<T>(header: HeaderCode, decode: (data: Uint8Array) => T, data: Uint8Array = new Uint8Array(0)): Promise<T> {
    return this.command(header, data, decode, this.limits.queryAttempts);
  }

  private async setAndCheck(modify: HeaderCode, value: Uint8Array, request: HeaderCode, what: string): Promise<void> {
    await this.command(modify, value, expectAck(what), this.limits.queryAttempts);
    const readBack = await this.query(request, (data) => {
      expectLength(data, value.length, what);
      return data;
    });
    if (!readBack.every((byte, i) => byte === value[i])) {
      throw new DeviceError('NOTE_ACCEPTOR_REFUSED', `${what}: sent ${[...value].join(',')}, the validator reports ${[...readBack].join(',')}`);
    }
  }

  private async command<T>(header: HeaderCode, data: Uint8Array, decode: (data: Uint8Array) => T, attempts: number): Promise<T> {
    const exchange = this.exchange;
    if (!exchange || !this.link) throw new DeviceError('NOT_OPEN', 'the note acceptor driver is not open');
    try {
      const value = await exchange.run({
        frame: encodeFrame({ destination: this.address, source: this.hostAddress, header, data }),
        attempts,
        name: `header ${header}`,
        parse: (reply) => {
          if (reply.header === HEADER.NAK) throw new DeviceError('NOTE_ACCEPTOR_NAK', `header ${header} was refused (NAK)`);
          if (reply.header !== HEADER.REPLY) throw new MessageFormatError(`reply header ${reply.header} is neither ACK nor NAK`);
          return decode(reply.data);
        },
      });
      this.linkAnswered();
      return value;
    } catch (error) {
      if (isDeviceError(error, 'NOTE_ACCEPTOR_NAK') || isDeviceError(error, 'NOTE_ESCROW_EMPTY') || isDeviceError(error, 'NOTE_ROUTE_FAILED')) {
        this.linkAnswered();
      } else if (!isDeviceError(error, 'NOT_OPEN') && !isDeviceError(error, 'BUSY')) {
        this.linkFailed(`header ${header}: ${describe(error)}`);
      }
      throw error;
    }
  }

  private async writeFrame(bytes: Uint8Array): Promise<void> {
    const link = this.link;
    if (!link) throw new DeviceError('NOT_OPEN', 'the note acceptor driver is not open');
    this.reader?.sending(bytes);
    await link.write(bytes);
  }

  // --- events and availability ---------------------------------------------------------------------

  private emit(event: NoteAcceptorEvent): void {
    if (event.type === 'fault') this.options.logger?.warn('note acceptor fault', { code: event.code, detail: event.detail });
    for (const listener of this.eventListeners) {
      try {
        listener(event);
      } catch (error) {
        this.options.logger?.error('note acceptor event listener threw', { error: describe(error) });
      }
    }
  }

  private linkAnswered(): void {
    this.linkProblem = undefined;
    this.refreshAvailability();
  }

  private linkFailed(reason: string): void {
    this.linkProblem = reason;
    this.refreshAvailability();
  }

  private refreshAvailability(): void {
    if (!this.link) return;
    const faults = [...this.interpreter.activeFaults];
    if (this.linkProblem) this.setAvailability('unavailable', this.linkProblem);
    else if (faults.length > 0) this.setAvailability('unavailable', `note acceptor fault: ${faults.join(', ')}`);
    else this.setAvailability('available', 'note acceptor answered');
  }

  private setAvailability(availability: DeviceAvailability, reason: string): void {
    if (this.currentAvailability === availability) return;
    this.currentAvailability = availability;
    for (const listener of this.availabilityListeners) {
      try {
        listener({ availability, reason });
      } catch (error) {
        this.options.logger?.error('availability listener threw', { error: describe(error) });
      }
    }
  }
}

/** ROUTE answers a plain ACK, or one error byte: 254 escrow empty, 255 failed to route. */
function parseRouteReply(data: Uint8Array): void {
  if (data.length === 0) return;
  if (data.length === 1 && data[0] === ROUTE_ERROR.ESCROW_EMPTY) throw new DeviceError('NOTE_ESCROW_EMPTY', 'the validator reports its escrow empty');
  if (data.length === 1 && data[0] === ROUTE_ERROR.FAILED_TO_ROUTE) throw new DeviceError('NOTE_ROUTE_FAILED', 'the validator failed to route the note');
  throw new MessageFormatError(`route reply ${[...data].join(',')} is neither ACK nor an error code`);
}

function expectAck(what: string): (data: Uint8Array) => void {
  return (data) => expectLength(data, 0, `${what} acknowledgement`);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
