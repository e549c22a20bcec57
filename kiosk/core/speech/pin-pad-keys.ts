// The one adapter between the PIN pad and speech mode: the keys the PIN pad reports while no PIN is being
// entered (its 'key' events), as the navigator's keys. During PIN entry the PIN pad reports presses
// without digits to the sign-in flow and nothing reaches here, so no PIN digit ever does.
import type { PinPad } from '../../devices/pin-pad/pin-entry.js';

export type SpeechKey =
  | { readonly kind: 'digit'; readonly digit: number }
  | { readonly kind: 'enter' }
  /** "Correct" on an EPP's keys: removes the last digit typed. */
  | { readonly kind: 'correct' }
  | { readonly kind: 'clear' }
  | { readonly kind: 'cancel' };

/** Calls `listener` with each key pressed outside PIN entry; returns the function that stops listening. */
export function watchPinPadKeys(pinPad: PinPad, listener: (key: SpeechKey) => void): () => void {
  return pinPad.on('key', (event) => {
    const key = event.key;
    if (typeof key === 'number') {
      if (Number.isInteger(key) && key >= 0 && key <= 9) listener({ kind: 'digit', digit: key });
      return;
    }
    if (key === 'backspace') listener({ kind: 'correct' });
    else if (key === 'enter' || key === 'clear' || key === 'cancel') listener({ kind: key });
  });
}
