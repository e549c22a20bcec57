// A laptop keyboard as the demo's headset jack and PIN pad, for `npm start` in Electron's development
// window (never a packaged kiosk: kiosk/main/main.ts asks for it only then): F9 plugs the simulated
// headset in and out; in speech mode, with the on-screen PIN pad's collector, the digits, Enter, Escape
// (Cancel), Backspace (Correct), Delete (Clear) and F1, F2 (the first two function keys: the volume) are
// the PIN pad's keys.
import { PinEntry } from '../../devices/pin-pad/pin-entry.js';
import { pinPadKeyForKeyboard, pressPinPadKey } from '../../devices/pin-pad/key-names.js';
import type { SpeechController } from './speech-guide.js';
import type { SpeechSetup } from './speech-setup.js';

export const DEMO_HEADSET_KEY = 'F9';

/** Handles one key (KeyboardEvent.key); true when it was the demo's, so the page must not see it.
 *  Undefined when the configuration has no simulated jack. */
export function demoKeyboard(speech: SpeechSetup | undefined, controller: Pick<SpeechController, 'devices'>): ((key: string) => boolean) | undefined {
  const jack = speech?.simulatedJack;
  if (!speech || !jack) return undefined;
  return (key) => {
    if (key === DEMO_HEADSET_KEY) {
      if (jack.plugged) jack.unplug();
      else jack.plug();
      return true;
    }
    const pad = controller.devices.pinPad;
    const label = pinPadKeyForKeyboard(key);
    if (!speech.guide.view || !label || !(pad instanceof PinEntry)) return false;
    pressPinPadKey(pad, label);
    return true;
  };
}
