// The device side of keyboard-report.ts: the exact boot keyboard reports a keyboard-mode device sends
// when it types. Simulators use it so that simulated input goes through the same decoder as hardware.
import {
  BOOT_KEYBOARD_KEY_SLOTS,
  BOOT_KEYBOARD_REPORT_BYTES,
  MODIFIER_LEFT_SHIFT,
  usageForCharacter,
  usageForControl,
  usageForKeypad,
  type ControlKey,
  type KeyboardReportOptions,
} from './keyboard-report.js';

export type Keystroke =
  | { char: string } // main block, shifted as the US layout needs
  | { keypad: string } // a keypad key: '0'..'9', '.', '/', '*', '-', '+'
  | { control: ControlKey; keypad?: boolean };

/** One report: the modifier byte and up to six held usages. */
export function keyboardReport(modifiers: number, usages: readonly number[], options: KeyboardReportOptions = {}): Buffer {
  if (usages.length > BOOT_KEYBOARD_KEY_SLOTS) throw new RangeError(`a boot report holds at most ${BOOT_KEYBOARD_KEY_SLOTS} keys`);
  const prefix = options.reportId === undefined ? 0 : 1;
  const report = Buffer.alloc(BOOT_KEYBOARD_REPORT_BYTES + prefix);
  if (options.reportId !== undefined) report[0] = options.reportId;
  report[prefix] = modifiers;
  usages.forEach((usage, slot) => {
    report[prefix + 2 + slot] = usage;
  });
  return report;
}

function usageOf(keystroke: Keystroke): { usage: number; shift: boolean } {
  if ('char' in keystroke) {
    const found = usageForCharacter(keystroke.char);
    if (!found) throw new RangeError(`no US-layout key types ${JSON.stringify(keystroke.char)}`);
    return found;
  }
  if ('keypad' in keystroke && typeof keystroke.keypad === 'string') {
    const usage = usageForKeypad(keystroke.keypad);
    if (usage === undefined) throw new RangeError(`no keypad key ${JSON.stringify(keystroke.keypad)}`);
    return { usage, shift: false };
  }
  const control = keystroke as { control: ControlKey; keypad?: boolean };
  const usage = usageForControl(control.control, control.keypad ?? false);
  if (usage === undefined) throw new RangeError(`no ${control.keypad ? 'keypad ' : ''}${control.control} key`);
  return { usage, shift: false };
}

/** Each keystroke as a press report followed by an all-keys-up report, as readers in keyboard mode do. */
export function reportsForKeystrokes(keystrokes: readonly Keystroke[], options: KeyboardReportOptions = {}): Buffer[] {
  const reports: Buffer[] = [];
  for (const keystroke of keystrokes) {
    const { usage, shift } = usageOf(keystroke);
    reports.push(keyboardReport(shift ? MODIFIER_LEFT_SHIFT : 0, [usage], options));
    reports.push(keyboardReport(0, [], options));
  }
  return reports;
}

/** Types `text` on the main block; '\n' is Enter. */
export function reportsForText(text: string, options: KeyboardReportOptions = {}): Buffer[] {
  const keystrokes: Keystroke[] = [...text].map((char) => (char === '\n' ? { control: 'enter' } : { char }));
  return reportsForKeystrokes(keystrokes, options);
}
