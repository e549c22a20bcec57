import { send, type ScreenProps } from '../atm.js';
import { ScreenTitle } from '../components/screen-title.js';
import { formatMoney } from '../i18n.js';

export function BalanceScreen({ snap, t, atm }: ScreenProps) {
  const accounts = snap.customer?.accounts ?? [];
  return (
    <section>
      <ScreenTitle text={t.balanceTitle} />
      <dl class="balances">
        {accounts.map((a) => (
          <div class="balance-row" key={a.accountId} data-account-kind={a.kind}>
            <dt>{t.accountKind(a.kind)}</dt>
            <dd>
              <span class="money">{formatMoney(a.balanceCents, snap.language, a.currency)}</span>
              <span class="sub">
                {t.available}: {formatMoney(a.availableCents, snap.language, a.currency)}
              </span>
            </dd>
          </div>
        ))}
      </dl>
      <div class="actions">
        <button type="button" onClick={() => send(atm.cancel())}>
          {t.finish}
        </button>
        <button type="button" class="primary" data-action="back-to-menu" onClick={() => send(atm.selectMenu('menu'))}>
          {t.backToMenu}
        </button>
      </div>
    </section>
  );
}
