import type { Strings } from '../i18n.js';
import { Icon } from './icon.js';

/** Most digits an amount may have: $99,999 in whole dollars, $99,999.99 in cents. */
export const AMOUNT_DIGITS_MAX = 7;

/** A touch keypad for an amount. In `wholeDollars` mode each digit is a dollar; otherwise digits shift in
 *  from the right as cents (1, 2, 5, 0 → 12.50), as on a card terminal. */
export function AmountPad({ digits, onDigits, t, wholeDollars, display }: { digits: string; onDigits: (digits: string) => void; t: Strings; wholeDollars: boolean; display: string }) {
  const press = (key: string) => {
    if (key === 'back') onDigits(digits.slice(0, -1));
    else if (key === 'clear') onDigits('');
    else if (digits.length < AMOUNT_DIGITS_MAX && !(digits === '' && key === '0')) onDigits(digits + key);
  };
  return (
    <div class="amount-entry">
      <output class="amount-display" aria-live="polite" aria-label={t.amount}>
        {display}
      </output>
      <div class="keypad" role="group" aria-label={t.amountPad} data-whole-dollars={wholeDollars ? 'yes' : 'no'}>
        {['1', '2', '3', '4', '5', '6', '7', '8', '9'].map((d) => (
          <button type="button" class="key" key={d} onClick={() => press(d)}>
            {d}
          </button>
        ))}
        <button type="button" class="key key-word" onClick={() => press('clear')}>
          {t.amountClear}
        </button>
        <button type="button" class="key" onClick={() => press('0')}>
          0
        </button>
        <button type="button" class="key" aria-label={t.backspace} onClick={() => press('back')}>
          <Icon name="backspace" />
        </button>
      </div>
    </div>
  );
}

export function amountCentsFrom(digits: string, wholeDollars: boolean): number {
  const value = digits === '' ? 0 : Number.parseInt(digits, 10);
  return wholeDollars ? value * 100 : value;
}
