// The one adapter between the PIN pad and speech mode: the keys the PIN pad reports in clear-text mode
// (its 'clear-key' events, outside PIN entry), as the navigator's keys. During PIN entry the pad reports
// presses without digits to the sign-in flow and nothing reaches here, so no PIN digit ever does.
import type { PinPad } from '../../devices/pin-pad/pin-entry.js';

export type SpeechKey =
  | { readonly kind: 'digit'; readonly digit: number }
  | { readonly kind: 'enter' }
  /** "Correct" on an EPP's keys: removes the last digit typed (an EPP in clear-text mode has no Clear). */
  | { readonly kind: 'correct' }
  | { readonly kind: 'clear' }
  | { readonly kind: 'cancel' }
  /** The speech's volume a step down (F1) or up (F2). */
  | { readonly kind: 'volume'; readonly change: -1 | 1 };

/** The function keys speech mode uses: the first two, quieter and louder. */
export const VOLUME_DOWN_KEY = 'F1';
export const VOLUME_UP_KEY = 'F2';

/** Calls `listener` with each key pressed outside PIN entry; returns the function that stops listening.
 *  Of the function keys (F1-F8) speech mode uses F1 and F2, for the volume. */
export function watchPinPadKeys(pinPad: PinPad, listener: (key: SpeechKey) => void): () => void {
  return pinPad.on('clear-key', (event) => {
    const key = event.key;
    if (/^[0-9]$/.test(key)) listener({ kind: 'digit', digit: Number(key) });
    else if (key === 'enter' || key === 'cancel' || key === 'correct') listener({ kind: key });
    else if (key === VOLUME_DOWN_KEY || key === VOLUME_UP_KEY) listener({ kind: 'volume', change: key === VOLUME_UP_KEY ? 1 : -1 });
  });
}

/** Speech mode needs the keys in clear outside PIN entry; a pad refuses the mode while a PIN is entered
 *  (and leaves it when one is), so this is asked again at every screen but the PIN's. */
export function keysInClear(pinPad: PinPad, on: boolean, onRefused: (error: unknown) => void): void {
  pinPad.setClearTextMode(on).catch(onRefused);
}
