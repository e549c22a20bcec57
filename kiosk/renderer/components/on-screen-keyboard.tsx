import { useState } from 'preact/hooks';
import type { Strings } from '../i18n.js';

const ROWS = ['1234567890', 'qwertyuiop', 'asdfghjkl-', 'zxcvbnm._@'];

/** Letters, digits and the symbols a username allows, for a kiosk without a physical keyboard. Each key
 *  is a real button (reachable and labelled); a physical keyboard types into the fields directly. */
export function OnScreenKeyboard({ onKey, t }: { onKey: (key: string) => void; t: Strings }) {
  const [shift, setShift] = useState(false);
  return (
    <div class="osk" role="group" aria-label={t.keyboard}>
      {ROWS.map((row) => (
        <div class="osk-row" key={row}>
          {[...row].map((ch) => {
            const key = shift ? ch.toUpperCase() : ch;
            return (
              <button type="button" class="osk-key" key={ch} data-key={key} onClick={() => onKey(key)}>
                {key}
              </button>
            );
          })}
        </div>
      ))}
      <div class="osk-row">
        <button type="button" class="osk-key osk-wide" aria-pressed={shift} onClick={() => setShift(!shift)}>
          ⇧ {t.shift}
        </button>
        <button type="button" class="osk-key osk-space" onClick={() => onKey(' ')}>
          {t.space}
        </button>
        <button type="button" class="osk-key osk-wide" data-key="Backspace" onClick={() => onKey('Backspace')}>
          ⌫ {t.backspace}
        </button>
      </div>
    </div>
  );
}
