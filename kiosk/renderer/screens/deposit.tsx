import { useState } from 'preact/hooks';
import { send, type ScreenProps } from '../atm.js';
import { AccountPicker } from '../components/account-picker.js';
import { AmountPad, amountCentsFrom } from '../components/amount-pad.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';
import { formatMoney } from '../i18n.js';

export function DepositScreen({ snap, t, atm, expectWork }: ScreenProps) {
  const [digits, setDigits] = useState('');
  const [confirming, setConfirming] = useState(false);
  const accounts = snap.customer?.accounts ?? [];
  const [accountId, setAccountId] = useState(accounts[0]?.accountId);
  const account = accounts.find((a) => a.accountId === accountId) ?? accounts[0];
  const cents = amountCentsFrom(digits, false);
  const money = (c: number) => formatMoney(c, snap.language, account?.currency);
  if (confirming) {
    return (
      <section>
        <ScreenTitle text={t.confirmTitle} step="confirm" />
        <p class="lead" data-testid="confirm-text">
          {t.confirmDeposit(money(cents), account ? t.accountKind(account.kind) : '')}
        </p>
        <div class="actions big">
          <button type="button" onClick={() => setConfirming(false)}>
            {t.change}
          </button>
          <button
            type="button"
            class="primary"
            data-action="confirm"
            onClick={() => {
              expectWork('request');
              send(atm.deposit({ amountCents: cents, ...(account ? { accountId: account.accountId } : {}) }));
            }}
          >
            {t.confirm}
          </button>
        </div>
      </section>
    );
  }
  return (
    <section class="with-pad">
      <div>
        <ScreenTitle text={t.depositTitle} step="amount" />
        <p class="hint">{t.depositHint}</p>
        <NoticeBanner snap={snap} t={t} />
        <AccountPicker accounts={accounts} selected={account?.accountId} choose={setAccountId} t={t} language={snap.language} />
        <div class="actions">
          <button type="button" data-action="back-to-menu" onClick={() => send(atm.selectMenu('menu'))}>
            {t.backToMenu}
          </button>
          <button type="button" class="primary" disabled={cents === 0} data-action="amount-next" onClick={() => setConfirming(true)}>
            {t.next}
          </button>
        </div>
      </div>
      <AmountPad t={t} wholeDollars={false} digits={digits} display={money(cents)} onDigits={setDigits} />
    </section>
  );
}
