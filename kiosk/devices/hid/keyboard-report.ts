// USB HID boot keyboard input reports (HID 1.11, appendix B.1) and their usage ids (HID Usage Tables,
// page 0x07 "Keyboard/Keypad"), decoded into key presses with a US layout. Both HID devices of the kiosk
// (the magstripe reader in keyboard mode and the numeric PIN keypad) send these reports.
//
//   byte 0: modifiers (bit 0 LCtrl, 1 LShift, 2 LAlt, 3 LGui, 4 RCtrl, 5 RShift, 6 RAlt, 7 RGui)
//   byte 1: reserved
//   bytes 2..7: usage ids of the keys held down now (0 = empty slot)
//
// A report says which keys are *down*, not which were pressed, so a press is a usage that is in this
// report and was not in the previous one.
import { KioskError } from '../../common/errors.js';

export const BOOT_KEYBOARD_REPORT_BYTES = 8;
export const BOOT_KEYBOARD_KEY_SLOTS = 6;
const FIRST_KEY_SLOT = 2;

export const MODIFIER_LEFT_SHIFT = 0x02;
export const MODIFIER_RIGHT_SHIFT = 0x20;

/** Usages a keyboard puts in every slot when it cannot report its state (too many keys, self-test
 *  failure, undefined error): the report carries no key information at all. */
const USAGE_ERROR_ROLL_OVER = 0x01;
const USAGE_POST_FAIL = 0x02;
const USAGE_ERROR_UNDEFINED = 0x03;

export type ControlKey = 'enter' | 'escape' | 'backspace' | 'delete' | 'tab' | 'num-lock';

export type KeyPress =
  | { kind: 'char'; char: string; keypad: boolean; usage: number }
  | { kind: 'control'; key: ControlKey; keypad: boolean; usage: number }
  | { kind: 'unmapped'; usage: number };

export type HidReportErrorCode = 'BAD_REPORT_LENGTH' | 'BAD_REPORT_ID';

export class HidReportError extends KioskError<HidReportErrorCode> {
  constructor(code: HidReportErrorCode, message: string) {
    super(code, message);
    this.name = 'HidReportError';
  }
}

export interface KeyboardReportOptions {
  /** Report id byte that precedes every report, for devices that number their reports (the report is
   *  then 9 bytes). `undefined` for the usual boot keyboard that sends bare 8-byte reports. */
  reportId?: number | undefined;
}

type CharacterUsage = { plain: string; shifted: string };

/** US layout, main block. Only what a magstripe reader or a keypad can send is needed, but the whole
 *  printable block is mapped so that an unexpected character is decoded (and then rejected by the
 *  track parser) rather than silently dropped. */
const CHARACTER_USAGES: ReadonlyMap<number, CharacterUsage> = (() => {
  const map = new Map<number, CharacterUsage>();
  for (let i = 0; i < 26; i++) {
    const letter = String.fromCharCode(0x61 + i);
    map.set(0x04 + i, { plain: letter, shifted: letter.toUpperCase() });
  }
  const digitRow = '1234567890';
  const digitRowShifted = '!@#$%^&*()';
  for (let i = 0; i < 10; i++) map.set(0x1e + i, { plain: digitRow[i]!, shifted: digitRowShifted[i]! });
  const symbols: Array<[number, string, string]> = [
    [0x2c, ' ', ' '],
    [0x2d, '-', '_'],
    [0x2e, '=', '+'],
    [0x2f, '[', '{'],
    [0x30, ']', '}'],
    [0x31, '\\', '|'],
    [0x33, ';', ':'],
    [0x34, "'", '"'],
    [0x35, '`', '~'],
    [0x36, ',', '<'],
    [0x37, '.', '>'],
    [0x38, '/', '?'],
  ];
  for (const [usage, plain, shifted] of symbols) map.set(usage, { plain, shifted });
  return map;
})();

/** Keypad usages send the same character whatever the shift state and whatever the Num Lock LED says:
 *  Num Lock is interpreted by the host, and we are the host. */
const KEYPAD_CHARACTERS: ReadonlyMap<number, string> = new Map([
  [0x54, '/'],
  [0x55, '*'],
  [0x56, '-'],
  [0x57, '+'],
  [0x59, '1'],
  [0x5a, '2'],
  [0x5b, '3'],
  [0x5c, '4'],
  [0x5d, '5'],
  [0x5e, '6'],
  [0x5f, '7'],
  [0x60, '8'],
  [0x61, '9'],
  [0x62, '0'],
  [0x63, '.'],
]);

const CONTROL_USAGES: ReadonlyMap<number, { key: ControlKey; keypad: boolean }> = new Map([
  [0x28, { key: 'enter', keypad: false }],
  [0x29, { key: 'escape', keypad: false }],
  [0x2a, { key: 'backspace', keypad: false }],
  [0x2b, { key: 'tab', keypad: false }],
  [0x4c, { key: 'delete', keypad: false }],
  [0x53, { key: 'num-lock', keypad: true }],
  [0x58, { key: 'enter', keypad: true }],
]);

/** The usage id and shift state that type `char` on a US layout (for simulators); undefined if none. */
export function usageForCharacter(char: string): { usage: number; shift: boolean } | undefined {
  for (const [usage, { plain, shifted }] of CHARACTER_USAGES) {
    if (plain === char) return { usage, shift: false };
    if (shifted === char) return { usage, shift: true };
  }
  return undefined;
}

export function usageForKeypad(key: string): number | undefined {
  for (const [usage, char] of KEYPAD_CHARACTERS) if (char === key) return usage;
  return undefined;
}

export function usageForControl(key: ControlKey, keypad: boolean): number | undefined {
  for (const [usage, control] of CONTROL_USAGES) if (control.key === key && control.keypad === keypad) return usage;
  return undefined;
}

export function keyPressForUsage(usage: number, shift: boolean): KeyPress {
  const character = CHARACTER_USAGES.get(usage);
  if (character) return { kind: 'char', char: shift ? character.shifted : character.plain, keypad: false, usage };
  const keypadChar = KEYPAD_CHARACTERS.get(usage);
  if (keypadChar) return { kind: 'char', char: keypadChar, keypad: true, usage };
  const control = CONTROL_USAGES.get(usage);
  if (control) return { kind: 'control', key: control.key, keypad: control.keypad, usage };
  return { kind: 'unmapped', usage };
}

/** Stateful decoder of one device's report stream: remembers the keys held in the previous report. */
export class KeyboardReportDecoder {
  private readonly reportId: number | undefined;
  private held: ReadonlySet<number> = new Set();

  constructor(options: KeyboardReportOptions = {}) {
    if (options.reportId !== undefined && !(Number.isInteger(options.reportId) && options.reportId >= 1 && options.reportId <= 0xff)) {
      throw new RangeError(`report id must be an integer 1..255, got ${options.reportId}`);
    }
    this.reportId = options.reportId;
  }

  /** The report length this decoder expects, report id included. */
  get reportBytes(): number {
    return BOOT_KEYBOARD_REPORT_BYTES + (this.reportId === undefined ? 0 : 1);
  }

  /** Returns the keys newly pressed in `report`, in slot order (the order the device lists them).
   *  Throws HidReportError for a report of the wrong length or report id; the held-key state is then
   *  unchanged, so one bad report does not invent or lose presses. */
  decode(report: Buffer): KeyPress[] {
    if (report.length !== this.reportBytes) {
      throw new HidReportError(
        'BAD_REPORT_LENGTH',
        `a boot keyboard report is ${this.reportBytes} bytes${this.reportId === undefined ? '' : ' including the report id'}, got ${report.length}` +
          (this.reportId === undefined && report.length === BOOT_KEYBOARD_REPORT_BYTES + 1 ? ' (does the device prefix a report id?)' : ''),
      );
    }
    let offset = 0;
    if (this.reportId !== undefined) {
      if (report[0] !== this.reportId) {
        throw new HidReportError('BAD_REPORT_ID', `expected report id ${this.reportId}, got ${report[0]}`);
      }
      offset = 1;
    }
    const modifiers = report[offset]!;
    const shift = (modifiers & (MODIFIER_LEFT_SHIFT | MODIFIER_RIGHT_SHIFT)) !== 0;
    const now = new Set<number>();
    const ordered: number[] = [];
    for (let slot = 0; slot < BOOT_KEYBOARD_KEY_SLOTS; slot++) {
      const usage = report[offset + FIRST_KEY_SLOT + slot]!;
      if (usage === USAGE_ERROR_ROLL_OVER || usage === USAGE_POST_FAIL || usage === USAGE_ERROR_UNDEFINED) {
        // The device could not say which keys are down: keep the previous state, so the keys still
        // held when it recovers are not pressed a second time.
        return [];
      }
      if (usage !== 0 && !now.has(usage)) {
        now.add(usage);
        ordered.push(usage);
      }
    }
    const pressed = ordered.filter((usage) => !this.held.has(usage)).map((usage) => keyPressForUsage(usage, shift));
    this.held = now;
    return pressed;
  }

  /** Forgets held keys (after the device was reopened: its first report starts from nothing). */
  reset(): void {
    this.held = new Set();
  }
}
