import { useEffect, useState } from 'preact/hooks';
import type { ScreenProps } from '../atm.js';
import { ScreenTitle } from '../components/screen-title.js';
import { formatMoney } from '../i18n.js';

/** The cash waits in the presenter: take it before the countdown ends, or the machine takes it back (and
 *  the customer is not charged for it). Nothing to touch: the notes are below the screen. */
export function TakeCashScreen({ snap, t }: ScreenProps) {
  const view = snap.view?.kind === 'take-cash' ? snap.view : undefined;
  const seconds = view?.secondsToTake ?? 0;
  const [left, setLeft] = useState(seconds);
  useEffect(() => {
    const startedMs = Date.now();
    const timer = setInterval(() => setLeft(Math.max(0, seconds - Math.floor((Date.now() - startedMs) / 1_000))), 250);
    return () => clearInterval(timer);
  }, [seconds]);
  const currency = snap.customer?.accounts[0]?.currency;
  return (
    <section class="screen center">
      <svg class="picture cash" viewBox="0 0 160 70" aria-hidden="true" focusable="false">
        <rect class="reader" x="10" y="6" width="140" height="18" rx="9" />
        <g class="moving-cash">
          <rect class="note" x="45" y="14" width="70" height="44" rx="3" />
          <circle class="note-mark" cx="80" cy="36" r="9" />
        </g>
      </svg>
      <ScreenTitle text={t.takeCashTitle} />
      <p class="lead" data-testid="result">
        {t.takeCashAmount(formatMoney(view?.dispensedCents ?? 0, snap.language, currency))}
      </p>
      <p class="countdown-line" data-testid="take-cash-countdown" data-seconds={left}>
        {t.takeCashCountdown(left)}
      </p>
    </section>
  );
}
