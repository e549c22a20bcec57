import type { ScreenProps } from '../atm.js';
import { Icon } from './icon.js';
import { ScreenTitle } from './screen-title.js';

/** "Withdraw $80.00 from Chequing?": the one question before money moves, the same on every flow. */
export function ConfirmStep({
  t,
  text,
  onChange,
  onConfirm,
  receipt,
}: Pick<ScreenProps, 't'> & { text: string; onChange: () => void; onConfirm: () => void; receipt?: { wanted: boolean; onToggle: () => void } | undefined }) {
  return (
    <section class="screen center confirm">
      <ScreenTitle text={t.confirmTitle} step="confirm" />
      <p class="lead" data-testid="confirm-text">
        {text}
      </p>
      {/* A withdrawal's receipt is chosen here, before the cash moves, as on a real ATM. */}
      {receipt && (
        <button type="button" class="toggle receipt-choice" aria-pressed={receipt.wanted} data-action="receipt-toggle" onClick={receipt.onToggle}>
          <Icon name="receipt" />
          {t.receiptWanted}
        </button>
      )}
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
