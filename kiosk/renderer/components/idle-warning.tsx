import { useEffect, useRef } from 'preact/hooks';
import type { Strings } from '../i18n.js';
import { Icon } from './icon.js';

/** "Are you still there?": a modal the customer answers with one touch. */
export function IdleWarning({ t, onMore, onEnd }: { t: Strings; onMore: () => void; onEnd: () => void }) {
  const more = useRef<HTMLButtonElement>(null);
  useEffect(() => more.current?.focus(), []);
  return (
    <div class="modal-backdrop">
      <div class="modal" role="alertdialog" aria-modal="true" aria-labelledby="idle-title" aria-describedby="idle-body" data-testid="idle-warning">
        <h2 id="idle-title">{t.idleTitle}</h2>
        <p id="idle-body">{t.idleBody}</p>
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
