// The device side of the EPP protocol, on the far end of a pty pair (or any serial port): the keypad, and
// the secure module holding the pad's identity, KBPK and PEK. Used by tests in-process, by `npm start`
// (the demo), and by developers as a stand-alone terminal (simulator-cli.ts). Key presses come from
// `press()`, as a customer's fingers would.
import type { Logger } from '../../../../protocol/log.js';
import { describe } from '../../../common/errors.js';
import { SerialLink } from '../../serial/serial-link.js';
import {
  clearTextKeyByte,
  decodeExchange,
  encodeKcvReply,
  EPP_COMMAND,
  EPP_EVENT,
  EPP_FRAME_ERROR,
  EPP_STATUS,
  PIN_KEY,
  REPLY_BIT,
  type ClearTextKey,
} from './commands.js';
import { EppFrameDecoder, encodeEppFrame, type EppFrame } from './frame.js';
import type { EppIdentity } from './identity.js';
import { EppSecureModule, SecureModuleError } from './secure-module.js';

const PIN_DIGITS_MIN = 4;
const PIN_DIGITS_MAX = 12;
const PAN_PATTERN = /^[0-9]{1,19}$/;
/** Commands remembered for tests; the oldest is dropped first. */
const RECEIVED_LOG_MAX = 200;

export type EppKey = ClearTextKey;

export interface EppSimulatorOptions {
  readonly path: string;
  readonly identity: EppIdentity;
  readonly baudRate?: number;
  readonly interByteTimeoutMs?: number;
  readonly logger?: Logger;
}

type Mode = { kind: 'idle' } | { kind: 'clear-text' } | { kind: 'pin'; min: number; max: number } | { kind: 'pin-complete' };

export class EppSimulator {
  readonly module: EppSecureModule;
  /** Commands received (codes), and frame errors as 'bad-frame', for tests. */
  readonly received: string[] = [];
  private readonly decoder: EppFrameDecoder;
  private readonly digits = new Uint8Array(PIN_DIGITS_MAX);
  private count = 0;
  private mode: Mode = { kind: 'idle' };
  private work: Promise<void> = Promise.resolve();
  private link: SerialLink | undefined;

  private constructor(private readonly options: EppSimulatorOptions) {
    this.module = new EppSecureModule(options.identity);
    this.decoder = new EppFrameDecoder(options.interByteTimeoutMs ?? 200);
  }

  static async start(options: EppSimulatorOptions): Promise<EppSimulator> {
    const simulator = new EppSimulator(options);
    simulator.link = await SerialLink.open(
      { path: options.path, baudRate: options.baudRate ?? 9600, writeTimeoutMs: 2_000, closeTimeoutMs: 2_000 },
      {
        onData: (bytes) => simulator.onData(bytes),
        onUnexpectedClose: () => options.logger?.warn('EPP simulator: the line closed'),
      },
    );
    return simulator;
  }

  /** What the pad is doing: 'idle', 'clear-text', 'pin' (digits being entered), 'pin-complete'. */
  get state(): Mode['kind'] {
    return this.mode.kind;
  }

  /** Keys pressed one after the other. */
  press(...keys: EppKey[]): void {
    for (const key of keys) this.pressOne(key);
  }

  async stop(): Promise<void> {
    this.forgetDigits();
    this.module.zeroize();
    await this.work;
    await this.link?.close();
  }

  private pressOne(key: EppKey): void {
    const mode = this.mode;
    if (mode.kind === 'clear-text') {
      this.send(0, EPP_EVENT.CLEAR_KEY, Buffer.from([clearTextKeyByte(key)]));
      return;
    }
    if (mode.kind !== 'pin') return;
    if (key.length === 1) {
      if (this.count >= mode.max) return this.pinEvent(PIN_KEY.IGNORED);
      this.digits[this.count++] = key.charCodeAt(0) - 0x30;
      return this.pinEvent(PIN_KEY.DIGIT);
    }
    switch (key) {
      case 'correct':
        this.forgetDigits();
        return this.pinEvent(PIN_KEY.CORRECT);
      case 'cancel':
        this.forgetDigits();
        this.mode = { kind: 'idle' };
        return this.pinEvent(PIN_KEY.CANCEL);
      case 'enter':
        if (this.count < mode.min) return this.pinEvent(PIN_KEY.TOO_SHORT);
        this.mode = { kind: 'pin-complete' };
        return this.pinEvent(PIN_KEY.ENTER);
      default:
        return; // function keys mean nothing during PIN entry
    }
  }

  private pinEvent(key: number): void {
    this.send(0, EPP_EVENT.PIN_KEY, Buffer.from([key, this.count]));
  }

  private onData(bytes: Buffer): void {
    for (const item of this.decoder.push(bytes, Date.now())) {
      if (item.kind === 'error') {
        this.log('bad-frame');
        // Bytes outside any frame name no command to answer.
        if (item.code !== 'garbage') this.send(item.seq, EPP_FRAME_ERROR, Buffer.from([EPP_STATUS.BAD_FRAME]));
        continue;
      }
      const frame = item.frame;
      this.work = this.work.then(() => this.execute(frame)).catch((error: unknown) => this.options.logger?.error('EPP simulator: command failed', { error: describe(error) }));
    }
  }

  private async execute(frame: EppFrame): Promise<void> {
    this.log(`0x${frame.command.toString(16)}`);
    const reply = (status: number, data: Buffer = Buffer.alloc(0)) => this.send(frame.seq, frame.command | REPLY_BIT, Buffer.concat([Buffer.from([status]), data]));
    if (frame.seq === 0 || (frame.command & REPLY_BIT) !== 0) return this.send(frame.seq, EPP_FRAME_ERROR, Buffer.from([EPP_STATUS.BAD_FRAME]));
    const { data } = frame;
    try {
      switch (frame.command) {
        case EPP_COMMAND.IDENTIFY: {
          const vendor = this.module.certificate.split(' ')[2] ?? '';
          return reply(EPP_STATUS.OK, Buffer.from(`${vendor} ${this.module.serial} sim-1.0`, 'ascii'));
        }
        case EPP_COMMAND.GET_CERTIFICATE:
          return reply(EPP_STATUS.OK, Buffer.from(this.module.certificate, 'ascii'));
        case EPP_COMMAND.KBPK_EXCHANGE: {
          const exchange = decodeExchange(data);
          if (!exchange) return reply(EPP_STATUS.BAD_DATA);
          return reply(EPP_STATUS.OK, Buffer.from(await this.module.exchangeKbpk(exchange.deviceId, exchange.ephemeralPublicKey), 'ascii'));
        }
        case EPP_COMMAND.LOAD_KEY_BLOCK: {
          const block = data.toString('latin1');
          if (!/^[\x20-\x7e]+$/.test(block)) return reply(EPP_STATUS.BAD_DATA);
          const loaded = await this.module.loadKeyBlock(block);
          return reply(EPP_STATUS.OK, encodeKcvReply(loaded.kcv, loaded.version));
        }
        case EPP_COMMAND.KCV_QUERY: {
          const loaded = this.module.pinKey;
          return loaded ? reply(EPP_STATUS.OK, encodeKcvReply(loaded.kcv, loaded.version)) : reply(EPP_STATUS.NO_KEY);
        }
        case EPP_COMMAND.START_PIN_ENTRY: {
          const [min, max] = data;
          if (data.length !== 2 || min === undefined || max === undefined || min < PIN_DIGITS_MIN || max > PIN_DIGITS_MAX || min > max) return reply(EPP_STATUS.BAD_DATA);
          if (!this.module.pinKey) return reply(EPP_STATUS.NO_KEY);
          // Starting again discards digits entered (as the kiosk's re-arm does).
          this.forgetDigits();
          this.mode = { kind: 'pin', min, max };
          return reply(EPP_STATUS.OK);
        }
        case EPP_COMMAND.GET_PIN_BLOCK: {
          const pan = data.toString('latin1');
          if (!PAN_PATTERN.test(pan)) return reply(EPP_STATUS.BAD_DATA);
          if (this.mode.kind !== 'pin-complete') return reply(EPP_STATUS.WRONG_STATE);
          try {
            return reply(EPP_STATUS.OK, this.module.pinBlock(this.digits.subarray(0, this.count), pan));
          } finally {
            // One Enter, one block: the digits are gone whatever happened.
            this.forgetDigits();
            this.mode = { kind: 'idle' };
          }
        }
        case EPP_COMMAND.ABORT_PIN_ENTRY:
          this.forgetDigits();
          if (this.mode.kind === 'pin' || this.mode.kind === 'pin-complete') this.mode = { kind: 'idle' };
          return reply(EPP_STATUS.OK);
        case EPP_COMMAND.CLEAR_TEXT_MODE: {
          if (data.length !== 1 || (data[0] !== 0 && data[0] !== 1)) return reply(EPP_STATUS.BAD_DATA);
          if (this.mode.kind === 'pin' || this.mode.kind === 'pin-complete') return reply(EPP_STATUS.WRONG_STATE);
          this.mode = { kind: data[0] === 1 ? 'clear-text' : 'idle' };
          return reply(EPP_STATUS.OK);
        }
        case EPP_COMMAND.ZEROIZE:
          this.forgetDigits();
          this.mode = { kind: 'idle' };
          this.module.zeroize();
          return reply(EPP_STATUS.OK);
        default:
          return reply(EPP_STATUS.UNKNOWN_COMMAND);
      }
    } catch (error) {
      if (error instanceof SecureModuleError) return reply(EPP_STATUS[error.code === 'BAD_DATA' ? 'BAD_DATA' : error.code]);
      throw error;
    }
  }

  private send(seq: number, command: number, data: Buffer): void {
    const link = this.link;
    if (!link?.isOpen) return;
    link.write(encodeEppFrame({ seq, command, data })).catch((error: unknown) => this.options.logger?.warn('EPP simulator: write failed', { error: describe(error) }));
  }

  private log(entry: string): void {
    this.received.push(entry);
    if (this.received.length > RECEIVED_LOG_MAX) this.received.shift();
  }

  private forgetDigits(): void {
    this.digits.fill(0);
    this.count = 0;
  }
}
