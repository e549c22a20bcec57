import { send, type ScreenProps } from '../atm.js';
import { Icon } from '../components/icon.js';
import { ScreenTitle } from '../components/screen-title.js';
import { accountLabel, formatMoney } from '../i18n.js';

export function BalanceScreen({ snap, t, atm }: ScreenProps) {
  const accounts = snap.customer?.accounts ?? [];
  return (
    <section class="screen">
      <ScreenTitle text={t.balanceTitle} />
      <dl class="balances">
        {accounts.map((a) => (
          <div class="balance-row" key={a.accountId} data-account-kind={a.kind}>
            <dt>{accountLabel(t, a, accounts)}</dt>
            <dd>
              <span class="money">{formatMoney(a.balanceCents, snap.language, a.currency)}</span>
              <span class="sub">
                {t.available}: {formatMoney(a.availableCents, snap.language, a.currency)}
              </span>
            </dd>
          </div>
        ))}
      </dl>
      <div class="actions end">
        <button type="button" data-action="finish" onClick={() => send(atm.cancel())}>
          <Icon name="exit" />
          {t.finish}
        </button>
        <button type="button" class="primary" data-action="back-to-menu" onClick={() => send(atm.selectMenu('menu'))}>
          <Icon name="back" />
          {t.backToMenu}
        </button>
      </div>
    </section>
  );
}
