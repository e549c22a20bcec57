import type { PinPadKey } from '../../preload/api.js';
import { send, type ScreenProps } from '../atm.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';

/** Dots drawn for a short PIN; longer PINs (up to 12) add dots as they are typed. */
const PIN_DOTS_SHOWN_MIN = 4;

/** The snapshot carries only how many digits were typed; the digits stay in the main process (on-screen
 *  pad) or never leave the hardware keypad. With the pad on the screen, the words sit beside it, so its
 *  bottom row (Correct, 0, Enter) is on a 480-pixel-high screen too. */
export function PinScreen({ snap, t, atm, expectWork }: ScreenProps) {
  const dots = Math.max(PIN_DOTS_SHOWN_MIN, snap.pinDigits);
  const press = (key: PinPadKey) => {
    if (key === 'enter') expectWork(snap.screen === 'pin-change' ? 'request' : 'sign-in');
    send(atm.pinPadPress(key));
  };
  // The PIN change asks for three PINs on the same pad: the current one, the new one, the new one again.
  const title = snap.screen !== 'pin-change' ? t.pinTitle : snap.pinChangeStep === 'new' ? t.pinChangeNew : snap.pinChangeStep === 'confirm' ? t.pinChangeConfirm : t.pinChangeOld;
  const words = (
    <div class="pin-words">
      <ScreenTitle text={title} step={snap.pinChangeStep ?? ''} />
      <p class="body-text">{snap.onScreenPinPad ? t.pinBodyScreen : t.pinBodyKeypad}</p>
      <div class="pin-dots" aria-hidden="true">
        {Array.from({ length: dots }, (_, i) => (
          <span class={i < snap.pinDigits ? 'dot filled' : 'dot'} key={i} />
        ))}
      </div>
      <p class="sr-only" role="status" data-testid="pin-progress">
        {t.pinProgress(snap.pinDigits)}
      </p>
      <NoticeBanner snap={snap} t={t} />
    </div>
  );
  if (!snap.onScreenPinPad) return <section class="screen center pin">{words}</section>;
  return (
    <section class="screen with-pad pin">
      {words}
      <div class="keypad pin-pad" role="group" aria-label={t.pinPad}>
        {([1, 2, 3, 4, 5, 6, 7, 8, 9] as const).map((d) => (
          <button type="button" class="key" key={d} data-pin-key={d} onClick={() => press(d)}>
            {d}
          </button>
        ))}
        {/* "Correct" clears the whole entry, as the yellow key of a real PIN pad does. */}
        <button type="button" class="key key-word" data-pin-key="clear" onClick={() => press('clear')}>
          {t.pinCorrect}
        </button>
        <button type="button" class="key" data-pin-key={0} onClick={() => press(0)}>
          0
        </button>
        <button type="button" class="key key-word primary" data-pin-key="enter" onClick={() => press('enter')}>
          {t.pinEnter}
        </button>
      </div>
    </section>
  );
}
