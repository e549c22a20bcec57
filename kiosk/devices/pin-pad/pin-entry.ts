// The PIN pad as the kiosk core sees it (an encrypting PIN pad, epp/driver.ts, or a demo pad), and the
// software PIN entry of the demo setting: it collects the digits of one PIN in the kiosk's process and has
// the in-process secure module (epp/secure-module.ts) make the ISO 9564 format-4 PIN block under the PIN
// key. That puts the digits in general-purpose software, which is why only a configuration with the
// explicit demo setting (`demoPinEntry`) may use it; a production kiosk has an EPP, whose digits never
// leave the pad. Listeners learn how many digits were entered, never which.
//
// This class is also the on-screen PIN pad of the demo: the main process calls pressDigit/pressEnter/...
// from validated IPC messages of the on-screen keypad, so the renderer forwards each tap and keeps nothing.
import { PAN_DIGITS_MAX, PIN_DIGITS_MAX, PIN_DIGITS_MIN } from '../../../protocol/pin-block.js';
import { DeviceEventHub, type DeviceEvents } from '../hid/device-event-hub.js';
import type { ClearTextKey } from './epp/commands.js';
import type { EppSecureModule, LoadedPinKey } from './epp/secure-module.js';

export type { LoadedPinKey } from './epp/secure-module.js';

export type PinEntryEvent =
  | { type: 'digit-entered'; count: number }
  | { type: 'digit-removed'; count: number }
  /** A digit beyond maxDigits: not stored, so the customer can be told the PIN is at its longest. */
  | { type: 'digit-ignored'; count: number; reason: 'max-digits' }
  | { type: 'cleared' }
  | { type: 'cancel' }
  /** Enter with fewer than minDigits digits; the digits stay so the customer can go on typing. */
  | { type: 'too-short'; count: number; minDigits: number }
  | { type: 'submit' }
  /** Follows 'submit': the PIN block, enciphered under the PIN key and bound to the PAN. */
  | { type: 'pin-block'; block: Buffer };

/** The one way to get a PIN block for a PAN: `pinPad.begin({ pan })`, then the 'pin-block' event (or
 *  'cancel', or 'unavailable'). The block is under the pad's PIN encryption key; no caller holds a key. */
export interface PinEntryRequest {
  /** The card's PAN, bound into the PIN block. */
  pan: string;
  minDigits?: number;
  maxDigits?: number;
}

/** The host's answer to `pinkey.fetch`, relayed to the pad's secure module (protocol/pin-key-delivery.ts). */
export interface PinKeyLoad {
  readonly deviceId: string;
  readonly ephemeralPublicKey: string;
  readonly keyBlock: string;
}

/** Device-level events. `reason` and `message` are for the operator log and never hold key data. */
export type PinPadDeviceEvent =
  | { type: 'available' }
  | { type: 'unavailable'; reason: string }
  /** The keypad sent a report that is not a boot keyboard report: a keystroke may have been lost. */
  | { type: 'bad-report'; message: string };

/** A key pressed in clear-text mode (menus), outside PIN entry. */
export type ClearKeyEvent = { type: 'clear-key'; key: ClearTextKey };

export type PinPadEvent = PinEntryEvent | PinPadDeviceEvent | ClearKeyEvent;

/** The PIN pad as the kiosk core sees it, hardware or on-screen. */
export interface PinPad extends DeviceEvents<PinPadEvent> {
  start(): void;
  stop(): Promise<void>;
  readonly isAvailable: boolean;
  /** Arms entry for one PIN; keys are ignored while not armed. Re-arming discards digits entered. A pad
   *  that cannot start (no PIN key, gone) says so with an 'unavailable' event. */
  begin(request: PinEntryRequest): void;
  /** Disarms and forgets the digits without an event (the core ended the step: timeout, card out). */
  abort(): void;
  readonly isArmed: boolean;
  /** The pad's certificate (its X25519 key, signed by its vendor), for `pinkey.fetch`. */
  certificate(): Promise<string>;
  /** Relays the host's key exchange and key block to the pad; resolves with the loaded PEK's check value
   *  and version, or rejects (the pad refused the block: another device's, changed, or a stated KCV that
   *  is not its key's). */
  loadPinKey(load: PinKeyLoad): Promise<LoadedPinKey>;
  /** The loaded PEK's check value and version; undefined when the pad holds none. */
  pinKeyStatus(): Promise<LoadedPinKey | undefined>;
  /** Outside PIN entry: report keys in clear ('clear-key' events) for menus and the speech mode. */
  setClearTextMode(on: boolean): Promise<void>;
}

interface ArmedEntry {
  pan: string;
  minDigits: number;
  maxDigits: number;
}

/** Checks a PIN entry request at begin(), so that Enter cannot fail after the customer typed the PIN. */
export function checkPinEntryRequest(request: PinEntryRequest): ArmedEntry {
  const minDigits = request.minDigits ?? PIN_DIGITS_MIN;
  const maxDigits = request.maxDigits ?? PIN_DIGITS_MAX;
  if (!(Number.isInteger(minDigits) && Number.isInteger(maxDigits) && PIN_DIGITS_MIN <= minDigits && minDigits <= maxDigits && maxDigits <= PIN_DIGITS_MAX)) {
    throw new RangeError(`PIN digits must satisfy ${PIN_DIGITS_MIN} <= minDigits <= maxDigits <= ${PIN_DIGITS_MAX}`);
  }
  if (typeof request.pan !== 'string' || !new RegExp(`^[0-9]{1,${PAN_DIGITS_MAX}}$`).test(request.pan)) {
    throw new RangeError(`the PAN must be 1 to ${PAN_DIGITS_MAX} digits`);
  }
  return { pan: request.pan, minDigits, maxDigits };
}

export const NO_PIN_KEY_REASON = 'no PIN key loaded';

export class PinEntry implements PinPad {
  private readonly events = new DeviceEventHub<PinPadEvent>();
  /** Digit values 0..9, never characters. Overwritten with zeros whenever the entry ends. */
  private readonly digits = new Uint8Array(PIN_DIGITS_MAX);
  private count = 0;
  private armed: ArmedEntry | undefined;
  /** Whether the keys' hardware is there (the on-screen pad: from start). */
  private hardware = false;
  private clearText = false;

  constructor(private readonly secure: EppSecureModule) {}

  on: PinPad['on'] = (type, listener) => this.events.on(type, listener);
  onAny: PinPad['onAny'] = (listener) => this.events.onAny(listener);

  /** Keys to press and a PIN key to encipher under. */
  get isAvailable(): boolean {
    return this.hardware && this.secure.pinKey !== undefined;
  }

  /** In clear-text mode and not armed: a HID keypad's keys are menu keys. */
  get isClearText(): boolean {
    return this.clearText && !this.armed;
  }

  start(): void {
    this.emitDeviceEvent({ type: 'available' });
  }

  async certificate(): Promise<string> {
    return this.secure.certificate;
  }

  async loadPinKey(load: PinKeyLoad): Promise<LoadedPinKey> {
    if (!/^[0-9a-f]{64}$/.test(load.ephemeralPublicKey)) throw new RangeError('the ephemeral public key is 64 hex digits');
    const wasAvailable = this.isAvailable;
    await this.secure.exchangeKbpk(load.deviceId, Buffer.from(load.ephemeralPublicKey, 'hex'));
    const loaded = await this.secure.loadKeyBlock(load.keyBlock);
    if (!wasAvailable && this.isAvailable) this.events.emit({ type: 'available' });
    return loaded;
  }

  async pinKeyStatus(): Promise<LoadedPinKey | undefined> {
    return this.secure.pinKey;
  }

  async setClearTextMode(on: boolean): Promise<void> {
    this.clearText = on;
  }

  /** A key of a demo keypad in clear-text mode. */
  pressClearKey(key: ClearTextKey): void {
    if (this.isClearText) this.events.emit({ type: 'clear-key', key });
  }

  async stop(): Promise<void> {
    this.abort();
  }

  get isArmed(): boolean {
    return this.armed !== undefined;
  }

  begin(request: PinEntryRequest): void {
    const armed = checkPinEntryRequest(request);
    this.forgetDigits();
    if (this.secure.pinKey === undefined) {
      this.armed = undefined;
      this.events.emit({ type: 'unavailable', reason: NO_PIN_KEY_REASON });
      return;
    }
    this.armed = armed;
  }

  abort(): void {
    this.forgetDigits();
    this.armed = undefined;
  }

  /** `digit` is a number 0..9 (not a character, so it never sits in a string). */
  pressDigit(digit: number): void {
    if (!(Number.isInteger(digit) && digit >= 0 && digit <= 9)) throw new RangeError('a PIN digit is an integer 0..9');
    const entry = this.armed;
    if (!entry) return;
    if (this.count >= entry.maxDigits) {
      this.events.emit({ type: 'digit-ignored', count: this.count, reason: 'max-digits' });
      return;
    }
    this.digits[this.count++] = digit;
    this.events.emit({ type: 'digit-entered', count: this.count });
  }

  pressBackspace(): void {
    if (!this.armed || this.count === 0) return;
    this.digits[--this.count] = 0;
    this.events.emit({ type: 'digit-removed', count: this.count });
  }

  pressClear(): void {
    if (!this.armed) return;
    this.forgetDigits();
    this.events.emit({ type: 'cleared' });
  }

  pressCancel(): void {
    if (!this.armed) return;
    this.abort();
    this.events.emit({ type: 'cancel' });
  }

  pressEnter(): void {
    const entry = this.armed;
    if (!entry) return;
    if (this.count < entry.minDigits) {
      this.events.emit({ type: 'too-short', count: this.count, minDigits: entry.minDigits });
      return;
    }
    let block: Buffer;
    try {
      block = this.secure.pinBlock(this.digits.subarray(0, this.count), entry.pan);
    } finally {
      // Whatever happens, this PIN is gone: one Enter, one attempt.
      this.abort();
    }
    this.events.emit({ type: 'submit' });
    this.events.emit({ type: 'pin-block', block });
  }

  /** Forwards events of the hardware that feeds this collector (used by HidPinPad). The pad is available
   *  when its hardware is and it holds a PIN key. */
  emitDeviceEvent(event: PinPadDeviceEvent): void {
    if (event.type === 'available') {
      this.hardware = true;
      this.events.emit(this.secure.pinKey !== undefined ? event : { type: 'unavailable', reason: NO_PIN_KEY_REASON });
      return;
    }
    if (event.type === 'unavailable') this.hardware = false;
    this.events.emit(event);
  }

  private forgetDigits(): void {
    this.digits.fill(0);
    this.count = 0;
  }
}
