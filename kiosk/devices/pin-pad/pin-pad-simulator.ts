// A demo PIN pad for development and tests: the exact boot keyboard reports a USB numeric keypad sends,
// run through the real HID driver (demo setting only: the digits pass through the kiosk's process).
import { SimulatedHidDeviceSource } from '../hid/hid-device-source.js';
import { reportsForKeystrokes, type Keystroke } from '../hid/keyboard-report-writer.js';
import type { KeyboardReportOptions } from '../hid/keyboard-report.js';
import type { PinEntryRequest, PinPad } from './pin-entry.js';
import { DEFAULT_PIN_PAD_KEY_MAP, HidPinPad, type HidPinPadOptions, type PinPadKeyMap } from './pin-pad.js';

export type PinPadKey = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | 'enter' | 'backspace' | 'clear' | 'cancel';

function keystrokeFor(key: PinPadKey, keyMap: PinPadKeyMap): Keystroke {
  switch (key) {
    case 'enter':
      return { control: 'enter', keypad: true };
    case 'backspace':
      return { control: 'backspace' };
    case 'clear':
      return { control: keyMap.clear, keypad: keyMap.clear === 'num-lock' };
    case 'cancel':
      return { control: keyMap.cancel, keypad: keyMap.cancel === 'num-lock' };
    default:
      return { keypad: key };
  }
}

/** Reports for `keys` pressed and released one after the other on the keypad. */
export function pinPadReports(keys: readonly PinPadKey[], options: KeyboardReportOptions & { keyMap?: PinPadKeyMap } = {}): Buffer[] {
  const keyMap = options.keyMap ?? DEFAULT_PIN_PAD_KEY_MAP;
  return reportsForKeystrokes(
    keys.map((key) => keystrokeFor(key, keyMap)),
    { reportId: options.reportId },
  );
}

export class SimulatedPinPad implements PinPad {
  readonly device: SimulatedHidDeviceSource;
  private readonly pad: HidPinPad;
  private readonly options: Omit<HidPinPadOptions, 'source'>;

  constructor(options: Omit<HidPinPadOptions, 'source'>) {
    this.device = new SimulatedHidDeviceSource('simulated PIN pad');
    this.options = options;
    this.pad = new HidPinPad({ ...options, source: this.device });
  }

  on: PinPad['on'] = (type, listener) => this.pad.on(type, listener);
  onAny: PinPad['onAny'] = (listener) => this.pad.onAny(listener);

  get isAvailable(): boolean {
    return this.pad.isAvailable;
  }

  get isArmed(): boolean {
    return this.pad.isArmed;
  }

  certificate: PinPad['certificate'] = () => this.pad.certificate();
  loadPinKey: PinPad['loadPinKey'] = (load) => this.pad.loadPinKey(load);
  pinKeyStatus: PinPad['pinKeyStatus'] = () => this.pad.pinKeyStatus();
  setClearTextMode: PinPad['setClearTextMode'] = (on) => this.pad.setClearTextMode(on);

  start(): void {
    this.pad.start();
  }

  stop(): Promise<void> {
    return this.pad.stop();
  }

  begin(request: PinEntryRequest): void {
    this.pad.begin(request);
  }

  abort(): void {
    this.pad.abort();
  }

  press(...keys: PinPadKey[]): void {
    this.device.sendReports(pinPadReports(keys, { reportId: this.options.reportId, keyMap: this.options.keyMap }));
  }
}
