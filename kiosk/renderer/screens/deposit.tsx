import { useState } from 'preact/hooks';
import { send, type ScreenProps } from '../atm.js';
import { AccountPicker } from '../components/account-picker.js';
import { AmountPad, amountCentsFrom } from '../components/amount-pad.js';
import { ConfirmStep } from '../components/confirm-step.js';
import { Icon } from '../components/icon.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';
import { accountLabel, formatMoney } from '../i18n.js';

export function DepositScreen({ snap, t, atm, expectWork, accountId, setAccountId }: ScreenProps) {
  const [digits, setDigits] = useState('');
  const [confirming, setConfirming] = useState(false);
  const accounts = snap.customer?.accounts ?? [];
  const account = accounts.find((a) => a.accountId === accountId) ?? accounts[0];
  const cents = amountCentsFrom(digits, false);
  const money = (c: number) => formatMoney(c, snap.language, account?.currency);
  if (confirming) {
    return (
      <ConfirmStep
        t={t}
        text={t.confirmDeposit(money(cents), account ? accountLabel(t, account, accounts) : '')}
        onChange={() => setConfirming(false)}
        onConfirm={() => {
          expectWork('request');
          send(atm.deposit({ amountCents: cents, ...(account ? { accountId: account.accountId } : {}) }));
        }}
      />
    );
  }
  return (
    <section class="screen with-pad">
      <div class="pad-words">
        <ScreenTitle text={t.depositTitle} step="amount" />
        <p class="body-text">{t.depositHint}</p>
        <NoticeBanner snap={snap} t={t} />
        <AccountPicker accounts={accounts} selected={account?.accountId} choose={setAccountId} t={t} language={snap.language} showAvailable={false} />
        <div class="actions push-down">
          <button type="button" data-action="back-to-menu" onClick={() => send(atm.selectMenu('menu'))}>
            <Icon name="back" />
            {t.backToMenu}
          </button>
          <button type="button" class="primary" disabled={cents === 0} data-action="amount-next" onClick={() => setConfirming(true)}>
            {t.next}
            <Icon name="next" />
          </button>
        </div>
      </div>
      <AmountPad t={t} wholeDollars={false} digits={digits} display={money(cents)} onDigits={setDigits} />
    </section>
  );
}
