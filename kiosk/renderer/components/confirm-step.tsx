import type { ScreenProps } from '../atm.js';
import { Icon } from './icon.js';
import { ScreenTitle } from './screen-title.js';

/** "Withdraw $80.00 from Chequing?": the one question before money moves, the same on every flow. */
export function ConfirmStep({ t, text, onChange, onConfirm }: Pick<ScreenProps, 't'> & { text: string; onChange: () => void; onConfirm: () => void }) {
  return (
    <section class="screen center confirm">
      <ScreenTitle text={t.confirmTitle} step="confirm" />
      <p class="lead" data-testid="confirm-text">
        {text}
      </p>
      <div class="actions big">
        <button type="button" data-action="change" onClick={onChange}>
          <Icon name="back" />
          {t.change}
        </button>
        <button type="button" class="primary" data-action="confirm" onClick={onConfirm}>
          <Icon name="check" />
          {t.confirm}
        </button>
      </div>
    </section>
  );
}
