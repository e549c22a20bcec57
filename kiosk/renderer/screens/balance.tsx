import { send, type ScreenProps } from '../atm.js';
import { Icon } from '../components/icon.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';
import { accountLabel, formatMoney } from '../i18n.js';

export function BalanceScreen({ snap, t, atm, expectWork }: ScreenProps) {
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
      <NoticeBanner snap={snap} t={t} />
      <div class="actions end">
        {/* A balance inquiry can be printed (secondary: reading it is what most customers came for). */}
        {snap.receiptAvailable && (
          <button
            type="button"
            data-action="print-balance"
            onClick={() => {
              expectWork('print');
              send(atm.printBalance());
            }}
          >
            <Icon name="receipt" />
            {t.printBalance}
          </button>
        )}
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
