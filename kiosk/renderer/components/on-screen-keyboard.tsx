import { useState } from 'preact/hooks';
import type { Strings } from '../i18n.js';
import { Icon } from './icon.js';

/** Four rows, so that the keyboard, the fields and the title fit a 480-pixel-high screen with keys of at
 *  least 44 px: Space sits beside the third row and Shift and Delete beside the fourth. */
const ROWS = ['1234567890', 'qwertyuiop', 'asdfghjkl-', 'zxcvbnm._@'];

/** Letters, digits and the symbols a username allows, for a kiosk without a physical keyboard. Each key
 *  is a real button (reachable and labelled); a physical keyboard types into the fields directly. */
export function OnScreenKeyboard({ onKey, t }: { onKey: (key: string) => void; t: Strings }) {
  const [shift, setShift] = useState(false);
  const keys = (row: string) =>
    [...row].map((ch) => {
      const key = shift ? ch.toUpperCase() : ch;
      return (
        <button type="button" class="osk-key" key={ch} data-key={key} onClick={() => onKey(key)}>
          {key}
        </button>
      );
    });
  return (
    <div class="osk" role="group" aria-label={t.keyboard}>
      <div class="osk-row">{keys(ROWS[0]!)}</div>
      <div class="osk-row">{keys(ROWS[1]!)}</div>
      <div class="osk-row">
        {keys(ROWS[2]!)}
        <button type="button" class="osk-key osk-wide" onClick={() => onKey(' ')}>
          {t.space}
        </button>
      </div>
      <div class="osk-row">
        <button type="button" class="osk-key osk-wide" aria-pressed={shift} aria-label={t.shift} onClick={() => setShift(!shift)}>
          <Icon name="shift" />
        </button>
        {keys(ROWS[3]!)}
        <button type="button" class="osk-key osk-wide" data-key="Backspace" aria-label={t.backspace} onClick={() => onKey('Backspace')}>
          <Icon name="backspace" />
        </button>
      </div>
    </div>
  );
}
