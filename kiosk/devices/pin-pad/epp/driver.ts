// Driver for an encrypting PIN pad on a serial line (docs/devices.md "Encrypting PIN pad"). The kiosk's
// process never holds a digit: during PIN entry the pad reports each key as '*' with the count, and on
// Enter the driver asks for the PIN block (ISO 9564 format 4 under the pad's PEK, bound to the PAN). Keys
// reach the pad as a key block the host made for it alone; the driver only relays it.
import type { Logger } from '../../../../protocol/log.js';
import { describe } from '../../../common/errors.js';
import { DeviceEventHub } from '../../hid/device-event-hub.js';
import { SerialCommandQueue } from '../../serial/command-queue.js';
import { createDeferred, waitAtMost, type Deferred } from '../../serial/deferred.js';
import { DeviceError } from '../../serial/device-error.js';
import { SerialLink } from '../../serial/serial-link.js';
import { checkPinEntryRequest, NO_PIN_KEY_REASON, type LoadedPinKey, type PinEntryRequest, type PinKeyLoad, type PinPad, type PinPadEvent } from '../pin-entry.js';
import { clearTextKeyOf, decodeKcvReply, encodeExchange, EPP_COMMAND, EPP_EVENT, EPP_FRAME_ERROR, EPP_STATUS, PIN_KEY, REPLY_BIT, statusName, type EppCommandCode } from './commands.js';
import { EppFrameDecoder, encodeEppFrame, type EppFrame } from './frame.js';

export const EPP_DEFAULTS = {
  baudRate: 9600,
  /** A reply comes in milliseconds; a key block's load (two CMACs, AES) in tens. */
  replyTimeoutMs: 3_000,
  /** A line that closed or never opened is tried again this often. */
  reopenDelayMs: 2_000,
  maxQueued: 8,
  interByteTimeoutMs: 200,
} as const;

export interface EppPinPadOptions {
  readonly path: string;
  readonly baudRate?: number;
  readonly replyTimeoutMs?: number;
  readonly reopenDelayMs?: number;
  readonly logger?: Logger;
}

interface Armed {
  readonly pan: string;
  readonly minDigits: number;
}

export class EppPinPad implements PinPad {
  private readonly events = new DeviceEventHub<PinPadEvent>();
  private readonly queue: SerialCommandQueue;
  private readonly decoder = new EppFrameDecoder(EPP_DEFAULTS.interByteTimeoutMs);
  private link: SerialLink | undefined;
  private seq = 0;
  private waiting: { seq: number; command: number; reply: Deferred<EppFrame> } | undefined;
  private identified = false;
  private loaded: LoadedPinKey | undefined;
  private armed: Armed | undefined;
  private stopped = false;
  private reopenTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: EppPinPadOptions) {
    this.queue = new SerialCommandQueue({ device: 'PIN pad', commandNoun: 'commands', maxQueued: EPP_DEFAULTS.maxQueued, isOpen: () => this.link?.isOpen === true });
  }

  on: PinPad['on'] = (type, listener) => this.events.on(type, listener);
  onAny: PinPad['onAny'] = (listener) => this.events.onAny(listener);

  get isAvailable(): boolean {
    return this.link?.isOpen === true && this.identified && this.loaded !== undefined;
  }

  get isArmed(): boolean {
    return this.armed !== undefined;
  }

  start(): void {
    this.stopped = false;
    void this.open();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reopenTimer);
    this.armed = undefined;
    const link = this.link;
    if (link?.isOpen) await this.command(EPP_COMMAND.ABORT_PIN_ENTRY).catch(() => undefined);
    this.link = undefined;
    await link?.close();
  }

  begin(request: PinEntryRequest): void {
    const { pan, minDigits, maxDigits } = checkPinEntryRequest(request);
    this.armed = { pan, minDigits };
    this.command(EPP_COMMAND.START_PIN_ENTRY, Buffer.from([minDigits, maxDigits])).catch((error: unknown) => {
      this.armed = undefined;
      this.lost(error instanceof DeviceError && error.message.includes('NO_KEY') ? NO_PIN_KEY_REASON : `PIN entry did not start: ${describe(error)}`);
    });
  }

  abort(): void {
    if (!this.armed) return;
    this.armed = undefined;
    this.command(EPP_COMMAND.ABORT_PIN_ENTRY).catch((error: unknown) => this.options.logger?.warn('PIN pad: abort not answered', { error: describe(error) }));
  }

  async certificate(): Promise<string> {
    return (await this.command(EPP_COMMAND.GET_CERTIFICATE)).toString('ascii');
  }

  async loadPinKey(load: PinKeyLoad): Promise<LoadedPinKey> {
    if (!/^[0-9a-f]{64}$/.test(load.ephemeralPublicKey)) throw new DeviceError('BAD_ARGUMENT', 'the ephemeral public key is 64 hex digits');
    if (!/^[\x20-\x7e]{1,400}$/.test(load.keyBlock)) throw new DeviceError('BAD_ARGUMENT', 'the key block is 1-400 printable characters');
    await this.command(EPP_COMMAND.KBPK_EXCHANGE, encodeExchange(load.deviceId, Buffer.from(load.ephemeralPublicKey, 'hex')));
    const loaded = decodeKcvReply(await this.command(EPP_COMMAND.LOAD_KEY_BLOCK, Buffer.from(load.keyBlock, 'ascii')));
    if (!loaded) throw new DeviceError('PIN_PAD_BAD_REPLY', 'the PIN pad answered the key block without a check value');
    this.setLoaded(loaded);
    return loaded;
  }

  async pinKeyStatus(): Promise<LoadedPinKey | undefined> {
    let data: Buffer;
    try {
      data = await this.command(EPP_COMMAND.KCV_QUERY);
    } catch (error) {
      if (error instanceof DeviceError && error.code === 'PIN_PAD_REFUSED' && error.message.includes('NO_KEY')) {
        this.setLoaded(undefined);
        return undefined;
      }
      throw error;
    }
    const loaded = decodeKcvReply(data);
    if (!loaded) throw new DeviceError('PIN_PAD_BAD_REPLY', 'the PIN pad answered the check value query with something else');
    this.setLoaded(loaded);
    return loaded;
  }

  async setClearTextMode(on: boolean): Promise<void> {
    await this.command(EPP_COMMAND.CLEAR_TEXT_MODE, Buffer.from([on ? 1 : 0]));
  }

  /** Sends one command and waits for its reply; resolves with the reply's data after the status byte. */
  private command(command: EppCommandCode, data: Buffer = Buffer.alloc(0)): Promise<Buffer> {
    return this.queue.run(async () => {
      const link = this.link;
      if (!link) throw new DeviceError('NOT_OPEN', 'the PIN pad driver is not open');
      this.seq = (this.seq % 255) + 1;
      const waiting = { seq: this.seq, command, reply: createDeferred<EppFrame>() };
      this.waiting = waiting;
      try {
        await link.write(encodeEppFrame({ seq: waiting.seq, command, data }));
        const answer = await waitAtMost(waiting.reply.promise, this.options.replyTimeoutMs ?? EPP_DEFAULTS.replyTimeoutMs);
        if (answer.timedOut) throw new DeviceError('PIN_PAD_NO_REPLY', `no reply to command 0x${command.toString(16)} within ${this.options.replyTimeoutMs ?? EPP_DEFAULTS.replyTimeoutMs} ms`);
        const frame = answer.value;
        const status = frame.data[0];
        if (frame.command === EPP_FRAME_ERROR) throw new DeviceError('PIN_PAD_BAD_REPLY', `the PIN pad could not read command 0x${command.toString(16)} (${statusName(status ?? -1) ?? 'no status'})`);
        if (status !== EPP_STATUS.OK) throw new DeviceError('PIN_PAD_REFUSED', `the PIN pad refused command 0x${command.toString(16)}: ${statusName(status ?? -1) ?? `status ${status}`}`);
        return frame.data.subarray(1);
      } finally {
        this.waiting = undefined;
      }
    });
  }

  private async open(): Promise<void> {
    if (this.stopped || this.link?.isOpen) return;
    try {
      this.link = await SerialLink.open(
        { path: this.options.path, baudRate: this.options.baudRate ?? EPP_DEFAULTS.baudRate, writeTimeoutMs: 2_000, closeTimeoutMs: 2_000 },
        { onData: (bytes) => this.onData(bytes), onUnexpectedClose: () => this.onClosed() },
      );
      const identity = (await this.command(EPP_COMMAND.IDENTIFY)).toString('ascii');
      this.identified = true;
      this.options.logger?.info('PIN pad identified', { identity });
      this.loaded = undefined;
      // Emits 'available' when the pad holds a key; without one it is there but cannot serve.
      await this.pinKeyStatus();
      if (!this.isAvailable) this.events.emit({ type: 'unavailable', reason: NO_PIN_KEY_REASON });
    } catch (error) {
      this.options.logger?.warn('PIN pad not available', { error: describe(error) });
      await this.link?.close();
      this.link = undefined;
      this.identified = false;
      this.events.emit({ type: 'unavailable', reason: `PIN pad not answering: ${describe(error)}` });
      this.scheduleReopen();
    }
  }

  private onClosed(): void {
    this.identified = false;
    this.armed = undefined;
    this.waiting?.reply.resolve({ seq: 0, command: EPP_FRAME_ERROR, data: Buffer.from([EPP_STATUS.BAD_FRAME]) });
    this.events.emit({ type: 'unavailable', reason: "the PIN pad's line closed" });
    this.scheduleReopen();
  }

  private scheduleReopen(): void {
    if (this.stopped) return;
    clearTimeout(this.reopenTimer);
    this.reopenTimer = setTimeout(() => void this.open(), this.options.reopenDelayMs ?? EPP_DEFAULTS.reopenDelayMs);
    this.reopenTimer.unref();
  }

  private setLoaded(loaded: LoadedPinKey | undefined): void {
    const was = this.isAvailable;
    this.loaded = loaded;
    if (!was && this.isAvailable) this.events.emit({ type: 'available' });
    if (was && !this.isAvailable) this.events.emit({ type: 'unavailable', reason: NO_PIN_KEY_REASON });
  }

  private lost(reason: string): void {
    this.events.emit({ type: 'unavailable', reason });
    // Ask the pad again: if it answers with a key, it is available again.
    this.pinKeyStatus().catch(() => undefined);
  }

  private onData(bytes: Buffer): void {
    for (const item of this.decoder.push(bytes, Date.now())) {
      if (item.kind === 'error') {
        this.events.emit({ type: 'bad-report', message: `PIN pad frame: ${item.message}` });
        continue;
      }
      const frame = item.frame;
      if (frame.seq === 0) {
        this.onEvent(frame);
        continue;
      }
      const waiting = this.waiting;
      if (waiting && frame.seq === waiting.seq && (frame.command === (waiting.command | REPLY_BIT) || frame.command === EPP_FRAME_ERROR)) waiting.reply.resolve(frame);
      else this.events.emit({ type: 'bad-report', message: `PIN pad reply 0x${frame.command.toString(16)} (SEQ ${frame.seq}) answers no command` });
    }
  }

  private onEvent(frame: EppFrame): void {
    if (frame.command === EPP_EVENT.CLEAR_KEY) {
      const key = frame.data.length === 1 ? clearTextKeyOf(frame.data[0]!) : undefined;
      if (key && !this.armed) this.events.emit({ type: 'clear-key', key });
      return;
    }
    if (frame.command !== EPP_EVENT.PIN_KEY || frame.data.length !== 2) {
      this.events.emit({ type: 'bad-report', message: `PIN pad event 0x${frame.command.toString(16)} is not one it sends` });
      return;
    }
    const armed = this.armed;
    if (!armed) return;
    const [key, count] = [frame.data[0]!, frame.data[1]!];
    switch (key) {
      case PIN_KEY.DIGIT:
        return this.events.emit({ type: 'digit-entered', count });
      case PIN_KEY.IGNORED:
        return this.events.emit({ type: 'digit-ignored', count, reason: 'max-digits' });
      case PIN_KEY.CORRECT:
        return this.events.emit({ type: 'cleared' });
      case PIN_KEY.TOO_SHORT:
        return this.events.emit({ type: 'too-short', count, minDigits: armed.minDigits });
      case PIN_KEY.CANCEL:
        this.armed = undefined;
        return this.events.emit({ type: 'cancel' });
      case PIN_KEY.ENTER:
        this.armed = undefined;
        this.events.emit({ type: 'submit' });
        this.command(EPP_COMMAND.GET_PIN_BLOCK, Buffer.from(armed.pan, 'ascii')).then(
          (block) => {
            if (block.length === 16) this.events.emit({ type: 'pin-block', block: Buffer.from(block) });
            else this.lost('the PIN pad answered a PIN block of the wrong length');
            block.fill(0);
          },
          (error: unknown) => this.lost(`no PIN block: ${describe(error)}`),
        );
        return;
      default:
        this.events.emit({ type: 'bad-report', message: `PIN pad key event 0x${key.toString(16)} is not one it sends` });
    }
  }
}
