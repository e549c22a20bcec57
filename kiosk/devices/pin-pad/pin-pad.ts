// Driver for a USB numeric keypad used as the PIN pad of the demo setting (`demoPinEntry`: the digits pass
// through the kiosk's process, so a production kiosk uses an EPP instead, epp/driver.ts). The keypad is an
// ordinary HID boot keyboard; the kiosk reads it through hidraw (udev keeps it away from the compositor, so
// digits never reach the UI).
//
// Keys: digits (keypad or main row) enter a digit; Enter (either) submits; Backspace and Delete remove the
// last digit; Clear and Cancel are configurable. Default: Clear = Num Lock, Cancel = Escape. Num Lock is
// free for this because the keypad sends the same usages whatever its LED shows (Num Lock is interpreted
// by the host, and we are the host); it sits top-left on common 17- to 22-key keypads, where an EPP's
// yellow Clear key would be. Keypads without Escape can use Cancel = Num Lock and Clear = Backspace
// (hold-to-clear is not offered: one key, one meaning).
import { DeviceEventHub } from '../hid/device-event-hub.js';
import type { HidDeviceSource } from '../hid/hid-device-source.js';
import { HidReportError, KeyboardReportDecoder, type ControlKey, type KeyPress } from '../hid/keyboard-report.js';
import { ReconnectingHidDevice, type HidReopenLimits } from '../hid/reconnecting-hid-device.js';
import type { ClearTextKey } from './epp/commands.js';
import type { EppSecureModule } from './epp/secure-module.js';
import { PinEntry, type PinEntryRequest, type PinPad } from './pin-entry.js';

/** A keypad key in clear-text mode (menus): as an EPP reports it. */
const CLEAR_TEXT_KEYS: Record<PinPadAction, ClearTextKey> = { digit: '0', enter: 'enter', backspace: 'correct', clear: 'correct', cancel: 'cancel' };

/** Keys that may be given the Clear or Cancel function. */
export type PinPadFunctionKey = Extract<ControlKey, 'num-lock' | 'escape' | 'backspace' | 'delete'>;

export interface PinPadKeyMap {
  clear: PinPadFunctionKey;
  cancel: PinPadFunctionKey;
}

export const DEFAULT_PIN_PAD_KEY_MAP: Readonly<PinPadKeyMap> = { clear: 'num-lock', cancel: 'escape' };

export interface HidPinPadOptions {
  source: HidDeviceSource;
  /** The demo setting's in-process secure module: its identity, and the PIN key once loaded. */
  secure: EppSecureModule;
  reportId?: number | undefined;
  keyMap?: PinPadKeyMap;
  reopenLimits?: Partial<HidReopenLimits>;
}

export type PinPadAction = 'digit' | 'enter' | 'backspace' | 'clear' | 'cancel';

/** What a key does on the PIN pad, or undefined if nothing. Clear and Cancel take precedence over the
 *  default meaning of Backspace/Delete when mapped to them. */
export function pinPadActionForKey(press: KeyPress, keyMap: PinPadKeyMap): { action: PinPadAction; digit?: number } | undefined {
  if (press.kind === 'char') {
    const code = press.char.charCodeAt(0);
    return press.char.length === 1 && code >= 0x30 && code <= 0x39 ? { action: 'digit', digit: code - 0x30 } : undefined;
  }
  if (press.kind !== 'control') return undefined;
  if (press.key === keyMap.cancel) return { action: 'cancel' };
  if (press.key === keyMap.clear) return { action: 'clear' };
  if (press.key === 'enter') return { action: 'enter' };
  if (press.key === 'backspace' || press.key === 'delete') return { action: 'backspace' };
  return undefined;
}

export class HidPinPad implements PinPad {
  private readonly entry: PinEntry;
  private readonly keyboard: KeyboardReportDecoder;
  private readonly keyMap: PinPadKeyMap;
  private readonly device: ReconnectingHidDevice;

  constructor(options: HidPinPadOptions) {
    this.entry = new PinEntry(options.secure);
    this.keyMap = options.keyMap ?? DEFAULT_PIN_PAD_KEY_MAP;
    if (this.keyMap.clear === this.keyMap.cancel) throw new RangeError('Clear and Cancel must be different keys');
    this.keyboard = new KeyboardReportDecoder({ reportId: options.reportId });
    this.device = new ReconnectingHidDevice(
      options.source,
      {
        onReport: (report) => this.onReport(report),
        onAvailable: () => {
          this.keyboard.reset();
          this.entry.emitDeviceEvent({ type: 'available' });
        },
        onUnavailable: (reason) => {
          // The customer cannot finish this PIN on a keypad that is gone; the core decides what next.
          this.entry.abort();
          this.entry.emitDeviceEvent({ type: 'unavailable', reason });
        },
      },
      options.reopenLimits,
    );
  }

  on: PinPad['on'] = (type, listener) => this.entry.on(type, listener);
  onAny: PinPad['onAny'] = (listener) => this.entry.onAny(listener);

  get isAvailable(): boolean {
    return this.device.isOpen && this.entry.isAvailable;
  }

  certificate: PinPad['certificate'] = () => this.entry.certificate();
  loadPinKey: PinPad['loadPinKey'] = (load) => this.entry.loadPinKey(load);
  pinKeyStatus: PinPad['pinKeyStatus'] = () => this.entry.pinKeyStatus();
  setClearTextMode: PinPad['setClearTextMode'] = (on) => this.entry.setClearTextMode(on);

  get isArmed(): boolean {
    return this.entry.isArmed;
  }

  start(): void {
    this.device.start();
  }

  async stop(): Promise<void> {
    this.entry.abort();
    await this.device.stop();
  }

  begin(request: PinEntryRequest): void {
    this.entry.begin(request);
  }

  abort(): void {
    this.entry.abort();
  }

  private onReport(report: Buffer): void {
    let presses: KeyPress[];
    try {
      presses = this.keyboard.decode(report);
    } catch (error) {
      if (!(error instanceof HidReportError)) throw error;
      this.entry.emitDeviceEvent({ type: 'bad-report', message: error.message });
      return;
    }
    // Reports are decoded even when entry is not armed, so held keys are tracked and a key held down
    // across begin() is not taken as a fresh press.
    for (const press of presses) {
      const mapped = pinPadActionForKey(press, this.keyMap);
      if (this.entry.isClearText) {
        const key = mapped && CLEAR_TEXT_KEYS[mapped.action];
        if (key) this.entry.pressClearKey(mapped.action === 'digit' ? (String(mapped.digit) as ClearTextKey) : key);
        continue;
      }
      switch (mapped?.action) {
        case 'digit':
          this.entry.pressDigit(mapped.digit!);
          break;
        case 'enter':
          this.entry.pressEnter();
          break;
        case 'backspace':
          this.entry.pressBackspace();
          break;
        case 'clear':
          this.entry.pressClear();
          break;
        case 'cancel':
          this.entry.pressCancel();
          break;
        case undefined:
          break;
      }
    }
  }
}
