// Collects the digits of one PIN in the main process and turns them into an ISO 9564 format-4 PIN block.
// Listeners learn how many digits were entered, never which: the renderer shows dots from the count.
//
// This class is also the on-screen PIN pad: when no hardware keypad is configured, the main process calls
// pressDigit/pressEnter/... from validated IPC messages of the on-screen keypad, so the renderer forwards
// each tap and keeps nothing.
import { encodePinBlockFormat4FromDigits, PAN_DIGITS_MAX, PIN_DIGITS_MAX, PIN_DIGITS_MIN, PIN_KEY_BYTES_ALLOWED } from '../../../protocol/pin-block.js';
import { DeviceEventHub, type DeviceEvents } from '../hid/device-event-hub.js';

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
  | { type: 'pin-block'; block: Buffer }
  /** A key pressed while no PIN is being entered: a digit is then a menu choice or an amount, never
   *  part of a PIN (speech mode navigates by these). Never emitted while entry is armed. */
  | { type: 'key'; key: PinPadKeyName };

/** A key of the PIN pad: a digit 0..9 or a function key (Correct is 'backspace'). */
export type PinPadKeyName = number | 'enter' | 'backspace' | 'clear' | 'cancel';

export interface PinEntryRequest {
  /** The card's PAN, bound into the PIN block. */
  pan: string;
  /** The AES key the PIN block is enciphered under (derivePinKey(K_SHARED)). Not copied, not kept
   *  after the entry ends; the caller owns it. */
  pinKey: Buffer;
  minDigits?: number;
  maxDigits?: number;
}

/** Device-level events. `reason` and `message` are for the operator log and never hold key data. */
export type PinPadDeviceEvent =
  | { type: 'available' }
  | { type: 'unavailable'; reason: string }
  /** The keypad sent a report that is not a boot keyboard report: a keystroke may have been lost. */
  | { type: 'bad-report'; message: string };

export type PinPadEvent = PinEntryEvent | PinPadDeviceEvent;

/** The PIN pad as the kiosk core sees it, hardware or on-screen. */
export interface PinPad extends DeviceEvents<PinPadEvent> {
  start(): void;
  stop(): Promise<void>;
  readonly isAvailable: boolean;
  /** Arms entry for one PIN; keys are ignored while not armed. Re-arming discards digits entered. */
  begin(request: PinEntryRequest): void;
  /** Disarms and forgets the digits without an event (the core ended the step: timeout, card out). */
  abort(): void;
  readonly isArmed: boolean;
}

interface ArmedEntry {
  pan: string;
  pinKey: Buffer;
  minDigits: number;
  maxDigits: number;
}

export class PinEntry implements PinPad {
  private readonly events = new DeviceEventHub<PinPadEvent>();
  /** Digit values 0..9, never characters. Overwritten with zeros whenever the entry ends. */
  private readonly digits = new Uint8Array(PIN_DIGITS_MAX);
  private count = 0;
  private armed: ArmedEntry | undefined;

  on: PinPad['on'] = (type, listener) => this.events.on(type, listener);
  onAny: PinPad['onAny'] = (listener) => this.events.onAny(listener);

  /** On its own (the on-screen pad) the collector is always available. */
  readonly isAvailable: boolean = true;

  start(): void {
    this.events.emit({ type: 'available' });
  }

  async stop(): Promise<void> {
    this.abort();
  }

  get isArmed(): boolean {
    return this.armed !== undefined;
  }

  begin(request: PinEntryRequest): void {
    const minDigits = request.minDigits ?? PIN_DIGITS_MIN;
    const maxDigits = request.maxDigits ?? PIN_DIGITS_MAX;
    if (!(Number.isInteger(minDigits) && Number.isInteger(maxDigits) && PIN_DIGITS_MIN <= minDigits && minDigits <= maxDigits && maxDigits <= PIN_DIGITS_MAX)) {
      throw new RangeError(`PIN digits must satisfy ${PIN_DIGITS_MIN} <= minDigits <= maxDigits <= ${PIN_DIGITS_MAX}`);
    }
    // Checked here so that Enter cannot fail after the customer typed the PIN.
    if (typeof request.pan !== 'string' || !new RegExp(`^[0-9]{1,${PAN_DIGITS_MAX}}$`).test(request.pan)) {
      throw new RangeError(`the PAN must be 1 to ${PAN_DIGITS_MAX} digits`);
    }
    if (!Buffer.isBuffer(request.pinKey) || !PIN_KEY_BYTES_ALLOWED.includes(request.pinKey.length)) {
      throw new RangeError('the PIN key must be an AES-128, AES-192 or AES-256 key');
    }
    this.forgetDigits();
    this.armed = { pan: request.pan, pinKey: request.pinKey, minDigits, maxDigits };
  }

  abort(): void {
    this.forgetDigits();
    this.armed = undefined;
  }

  /** `digit` is a number 0..9 (not a character, so it never sits in a string). */
  pressDigit(digit: number): void {
    if (!(Number.isInteger(digit) && digit >= 0 && digit <= 9)) throw new RangeError('a PIN digit is an integer 0..9');
    const entry = this.armed;
    if (!entry) return this.events.emit({ type: 'key', key: digit });
    if (this.count >= entry.maxDigits) {
      this.events.emit({ type: 'digit-ignored', count: this.count, reason: 'max-digits' });
      return;
    }
    this.digits[this.count++] = digit;
    this.events.emit({ type: 'digit-entered', count: this.count });
  }

  pressBackspace(): void {
    if (!this.armed) return this.events.emit({ type: 'key', key: 'backspace' });
    if (this.count === 0) return;
    this.digits[--this.count] = 0;
    this.events.emit({ type: 'digit-removed', count: this.count });
  }

  pressClear(): void {
    if (!this.armed) return this.events.emit({ type: 'key', key: 'clear' });
    this.forgetDigits();
    this.events.emit({ type: 'cleared' });
  }

  pressCancel(): void {
    if (!this.armed) return this.events.emit({ type: 'key', key: 'cancel' });
    this.abort();
    this.events.emit({ type: 'cancel' });
  }

  pressEnter(): void {
    const entry = this.armed;
    if (!entry) return this.events.emit({ type: 'key', key: 'enter' });
    if (this.count < entry.minDigits) {
      this.events.emit({ type: 'too-short', count: this.count, minDigits: entry.minDigits });
      return;
    }
    let block: Buffer;
    try {
      block = encodePinBlockFormat4FromDigits(this.digits.subarray(0, this.count), entry.pan, entry.pinKey);
    } finally {
      // Whatever happens, this PIN is gone: one Enter, one attempt.
      this.abort();
    }
    this.events.emit({ type: 'submit' });
    this.events.emit({ type: 'pin-block', block });
  }

  /** Forwards events of the hardware that feeds this collector (used by HidPinPad). */
  emitDeviceEvent(event: PinPadDeviceEvent): void {
    this.events.emit(event);
  }

  private forgetDigits(): void {
    this.digits.fill(0);
    this.count = 0;
  }
}
