import { useEffect, useRef, useState } from 'preact/hooks';
import type { Strings } from '../i18n.js';
import { Icon } from './icon.js';

/** "Are you still there?": a modal the customer answers with one touch, counting down the seconds left
 *  (from `seconds`, the controller's figure when the warning began). */
export function IdleWarning({ t, seconds, onMore, onEnd }: { t: Strings; seconds: number; onMore: () => void; onEnd: () => void }) {
  const more = useRef<HTMLButtonElement>(null);
  const [left, setLeft] = useState(seconds);
  useEffect(() => more.current?.focus(), []);
  useEffect(() => {
    const startedMs = Date.now();
    const timer = setInterval(() => setLeft(Math.max(0, seconds - Math.floor((Date.now() - startedMs) / 1_000))), 250);
    return () => clearInterval(timer);
  }, [seconds]);
  return (
    <div class="modal-backdrop">
      <div class="modal" role="alertdialog" aria-modal="true" aria-labelledby="idle-title" aria-describedby="idle-body" data-testid="idle-warning">
        <h2 id="idle-title">{t.idleTitle}</h2>
        <p id="idle-body">{t.idleBody}</p>
        {/* Read by screen readers when the dialog opens (it is in the description's neighbourhood), not
            every second: a live region ticking each second would talk over everything. */}
        <p class="countdown" data-testid="idle-countdown" data-seconds={left}>
          {t.idleCountdown(left)}
        </p>
        <div class="actions end">
          <button type="button" onClick={onEnd}>
            <Icon name="exit" />
            {t.idleEnd}
          </button>
          <button type="button" ref={more} class="primary" onClick={onMore}>
            <Icon name="check" />
            {t.idleMore}
          </button>
        </div>
      </div>
    </div>
  );
}
