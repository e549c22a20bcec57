// The dispenser's link layer: frames out, ACK/NAK and response frames in, over one serial port. It knows
// sequence numbers, retransmission and stale responses; what a command means is the driver's (driver.ts).
// One exchange at a time: the driver's command queue guarantees it.

import { randomInt } from 'node:crypto';
import type { Logger } from '../../../protocol/log.js';
import { describe } from '../../common/errors.js';
import { createDeferred, waitAtMost, type Deferred } from '../serial/deferred.js';
import { DeviceError } from '../serial/device-error.js';
import { SerialLink } from '../serial/serial-link.js';
import { ACK, NAK, FrameDecoder, encodeFrame, type DecodedItem, type Frame } from './frame-codec.js';
import { DEVICE_RESPONSES, responseCommandOf, type CommandCode } from './messages.js';

/** The link's share of the driver's limits (DEFAULT_DISPENSER_LIMITS in driver.ts says why each). */
export interface DispenserLinkLimits {
  readonly ackTimeoutMs: number;
  readonly commandResponseTimeoutMs: number;
  readonly maxTransmitAttempts: number;
  readonly interByteTimeoutMs: number;
  readonly writeTimeoutMs: number;
  readonly closeTimeoutMs: number;
}

export interface DispenserLinkOptions {
  readonly path: string;
  readonly baudRate: number;
  readonly limits: DispenserLinkLimits;
  readonly logger?: Logger | undefined;
  /** What the link learnt about the device: it answered, or it did not (and why). */
  readonly onAvailability: (availability: 'available' | 'unavailable', reason: string) => void;
}

/** Statistics for diagnostics and tests; counts never reset while the driver lives. */
export interface DispenserLinkStats {
  framesSent: number;
  dispenseFramesSent: number;
  retransmissions: number;
  naksReceived: number;
  naksSent: number;
  protocolErrors: number;
  staleFramesIgnored: number;
}

/** Why a sent frame got no response: no ACK in time, a NAK, or an ACK and then no response in time. */
export type ExchangeFailure = 'no-ack' | 'nak' | 'no-response';

interface Exchange {
  seq: number;
  responseCommand: number;
  ack: Deferred<'ack' | 'nak'>;
  response: Deferred<Frame>;
}

export class DispenserLink {
  private serial: SerialLink | undefined;
  private decoder: FrameDecoder;
  private exchange: Exchange | undefined;
  // Random start: after a restart our first SEQ must not look like a retransmission of the last one.
  private nextSeq = randomInt(256);
  private lastFrameError = '';
  readonly stats: DispenserLinkStats = {
    framesSent: 0,
    dispenseFramesSent: 0,
    retransmissions: 0,
    naksReceived: 0,
    naksSent: 0,
    protocolErrors: 0,
    staleFramesIgnored: 0,
  };

  constructor(private readonly options: DispenserLinkOptions) {
    this.decoder = this.newDecoder();
  }

  get isOpen(): boolean {
    return this.serial?.isOpen === true;
  }

  /** A port was opened and the kiosk has not closed it (it may have closed by itself since). */
  get isAttached(): boolean {
    return this.serial !== undefined;
  }

  async open(): Promise<void> {
    this.decoder = this.newDecoder();
    this.serial = await SerialLink.open(
      {
        path: this.options.path,
        baudRate: this.options.baudRate,
        writeTimeoutMs: this.options.limits.writeTimeoutMs,
        closeTimeoutMs: this.options.limits.closeTimeoutMs,
      },
      {
        onData: (bytes) => this.onBytes(bytes),
        onUnexpectedClose: (error) => this.options.onAvailability('unavailable', `serial port closed: ${error?.message ?? 'no reason given'}`),
      },
    );
  }

  async close(): Promise<void> {
    const serial = this.serial;
    this.serial = undefined;
    await serial?.close();
  }

  /** A command that is safe to repeat: sent up to `maxTransmitAttempts` times with the same SEQ, so the
   *  device answers a retransmission from its last response instead of executing the command twice.
   *  Throws DeviceError DISPENSER_NAK / _NO_ACK / _NO_RESPONSE when no attempt got an answer. */
  async request(command: CommandCode, data: Uint8Array, responseTimeoutMs?: number): Promise<Frame> {
    const { limits } = this.options;
    const exchange = this.beginExchange(command);
    let failure: ExchangeFailure = 'no-ack';
    try {
      for (let attempt = 1; attempt <= limits.maxTransmitAttempts; attempt++) {
        if (attempt > 1) this.stats.retransmissions += 1;
        let outcome: Frame | ExchangeFailure;
        try {
          outcome = await this.transmit(exchange, command, data, responseTimeoutMs ?? limits.commandResponseTimeoutMs);
        } catch (error) {
          this.options.onAvailability('unavailable', `serial write failed: ${describe(error)}`);
          throw error;
        }
        if (typeof outcome !== 'string') {
          this.options.onAvailability('available', 'dispenser answered');
          return outcome;
        }
        failure = outcome;
      }
    } finally {
      this.endExchange(exchange);
    }
    const code = failure === 'nak' ? 'DISPENSER_NAK' : failure === 'no-ack' ? 'DISPENSER_NO_ACK' : 'DISPENSER_NO_RESPONSE';
    const detail = this.lastFrameError ? `; last link error: ${this.lastFrameError}` : '';
    this.options.onAvailability('unavailable', `no answer to command 0x${command.toString(16)} (${failure})`);
    throw new DeviceError(code, `command 0x${command.toString(16)}: ${failure} after ${limits.maxTransmitAttempts} attempts${detail}`);
  }

  /** A command that must never be repeated (DISPENSE): one send, then the response or why there is none.
   *  Throws only when the write itself fails (which may still have put the whole frame on the wire). */
  async sendOnce(command: CommandCode, data: Uint8Array, responseTimeoutMs: number): Promise<Frame | ExchangeFailure> {
    const exchange = this.beginExchange(command);
    try {
      return await this.transmit(exchange, command, data, responseTimeoutMs);
    } finally {
      this.endExchange(exchange);
    }
  }

  private newDecoder(): FrameDecoder {
    return new FrameDecoder({ knownCommands: DEVICE_RESPONSES, interByteTimeoutMs: this.options.limits.interByteTimeoutMs });
  }

  private beginExchange(command: CommandCode): Exchange {
    const exchange: Exchange = {
      seq: this.nextSeq,
      responseCommand: responseCommandOf(command),
      ack: createDeferred(),
      response: createDeferred(),
    };
    this.nextSeq = (this.nextSeq + 1) & 0xff;
    this.exchange = exchange;
    return exchange;
  }

  private endExchange(exchange: Exchange): void {
    if (this.exchange === exchange) this.exchange = undefined;
  }

  /** One send of a frame and the wait for its ACK and response. Returns the response or why not. */
  private async transmit(exchange: Exchange, command: CommandCode, data: Uint8Array, responseTimeoutMs: number): Promise<Frame | ExchangeFailure> {
    const serial = this.serial;
    if (!serial) throw new DeviceError('NOT_OPEN', 'the dispenser driver is not open');
    if (exchange.ack.settled) exchange.ack = createDeferred();
    this.stats.framesSent += 1;
    await serial.write(encodeFrame({ seq: exchange.seq, command, data }));
    const ack = await waitAtMost(exchange.ack.promise, this.options.limits.ackTimeoutMs);
    if (ack.timedOut) return 'no-ack';
    if (ack.value === 'nak') return 'nak';
    const response = await waitAtMost(exchange.response.promise, responseTimeoutMs);
    if (response.timedOut) {
      this.noteFrameErrors(this.decoder.expire(Date.now()));
      return 'no-response';
    }
    return response.value;
  }

  private onBytes(bytes: Uint8Array): void {
    const items = this.decoder.push(bytes, Date.now());
    for (const item of items) this.onItem(item);
    this.noteFrameErrors(items);
  }

  private onItem(item: DecodedItem): void {
    const exchange = this.exchange;
    switch (item.kind) {
      case 'ack':
      case 'nak':
        if (item.kind === 'nak') this.stats.naksReceived += 1;
        // A stray ACK/NAK (late, duplicated) with no frame of ours waiting is dropped.
        exchange?.ack.resolve(item.kind);
        return;
      case 'frame': {
        this.sendControl(ACK);
        const { frame } = item;
        if (!exchange || frame.seq !== exchange.seq || frame.command !== exchange.responseCommand) {
          // A response to a command we gave up on; it was ACKed so the device stops resending it.
          this.stats.staleFramesIgnored += 1;
          return;
        }
        // The response proves the command arrived even if its ACK was lost.
        exchange.ack.resolve('ack');
        exchange.response.resolve(frame);
        return;
      }
      case 'error':
        // Counted and answered once per chunk in noteFrameErrors.
        return;
    }
  }

  private noteFrameErrors(items: DecodedItem[]): void {
    let askForResend = false;
    for (const item of items) {
      if (item.kind !== 'error') continue;
      this.stats.protocolErrors += 1;
      this.lastFrameError = `${item.code}: ${item.message}`;
      this.options.logger?.warn('dispenser link error', { code: item.code, detail: item.message });
      // Garbage is not a frame, so there is nothing to NAK; anything frame-shaped asks for a resend.
      if (item.code !== 'garbage') askForResend = true;
    }
    // One NAK per chunk: a single corrupted frame can report several errors while the decoder
    // resynchronises, and each NAK would make the device resend its response once more.
    if (askForResend) {
      this.stats.naksSent += 1;
      this.sendControl(NAK);
    }
  }

  private sendControl(byte: number): void {
    const serial = this.serial;
    if (!serial?.isOpen) return;
    serial.write(Uint8Array.of(byte)).catch((error: unknown) => {
      // A lost ACK/NAK is recovered by the protocol (the device resends); the log says why.
      this.options.logger?.warn('dispenser ACK/NAK write failed', { error: describe(error) });
    });
  }
}
