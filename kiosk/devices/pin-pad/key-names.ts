// PIN pad keys by name, pressed on the main process's own collector (`PinEntry`, the on-screen pad): for
// the demo, which has no PIN pad, from its console (`key 2 enter`) and, in Electron's development window,
// from the laptop's keyboard. Never used with a hardware PIN pad: its keys come from the device.
import type { PinEntry } from './pin-entry.js';

/** `correct` is the key a PIN pad labels Correct (removes the last digit); F1 and F2 are its first two
 *  function keys (speech mode's volume). */
export const PIN_PAD_KEY_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'enter', 'cancel', 'clear', 'correct', 'F1', 'F2'] as const;
export type PinPadKeyLabel = (typeof PIN_PAD_KEY_NAMES)[number];

export function isPinPadKeyLabel(name: string): name is PinPadKeyLabel {
  return (PIN_PAD_KEY_NAMES as readonly string[]).includes(name);
}

/** During PIN entry a key of the PIN; outside it, a key in clear (menus, speech mode) when the pad is in
 *  clear-text mode (Clear is Correct there, as on an EPP). */
export function pressPinPadKey(pad: PinEntry, key: PinPadKeyLabel): void {
  if (!pad.isArmed) return pad.pressClearKey(key === 'clear' ? 'correct' : key);
  switch (key) {
    case 'F1':
    case 'F2':
      return; // a function key is never a PIN's
    case 'enter':
      return pad.pressEnter();
    case 'cancel':
      return pad.pressCancel();
    case 'clear':
      return pad.pressClear();
    case 'correct':
      return pad.pressBackspace();
    default:
      return pad.pressDigit(Number(key));
  }
}

/** A laptop key (KeyboardEvent.key, as Electron's `before-input-event` gives it) as a PIN pad key:
 *  digits, Enter, Escape for Cancel, Backspace for Correct, Delete for Clear, F1 and F2 for themselves. */
export function pinPadKeyForKeyboard(key: string): PinPadKeyLabel | undefined {
  if (/^[0-9]$/.test(key)) return key as PinPadKeyLabel;
  return ({ Enter: 'enter', Escape: 'cancel', Backspace: 'correct', Delete: 'clear', F1: 'F1', F2: 'F2' } as Record<string, PinPadKeyLabel>)[key];
}
