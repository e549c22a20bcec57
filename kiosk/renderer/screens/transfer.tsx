import { useState } from 'preact/hooks';
import { send, type ScreenProps } from '../atm.js';
import { AccountPicker } from '../components/account-picker.js';
import { AmountPad, amountCentsFrom } from '../components/amount-pad.js';
import { ConfirmStep } from '../components/confirm-step.js';
import { Icon } from '../components/icon.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';
import { accountLabel, formatMoney } from '../i18n.js';

/** Between the customer's own accounts: choose from and to (toggle buttons), an amount, then confirm. */
export function TransferScreen({ snap, t, atm, expectWork }: ScreenProps) {
  const accounts = snap.customer?.accounts ?? [];
  const [fromId, setFromId] = useState(accounts[0]?.accountId ?? '');
  const [toId, setToId] = useState(accounts[1]?.accountId ?? '');
  const [digits, setDigits] = useState('');
  const [confirming, setConfirming] = useState(false);
  const cents = amountCentsFrom(digits, false);
  const from = accounts.find((a) => a.accountId === fromId);
  const to = accounts.find((a) => a.accountId === toId);
  const money = (c: number) => formatMoney(c, snap.language, from?.currency);
  const backToMenu = (primary: boolean) => (
    <button type="button" class={primary ? 'primary' : ''} data-action="back-to-menu" onClick={() => send(atm.selectMenu('menu'))}>
      <Icon name="back" />
      {t.backToMenu}
    </button>
  );

  if (accounts.length < 2) {
    return (
      <section class="screen center">
        <ScreenTitle text={t.transferTitle} />
        <p class="lead">{t.transferNeedsTwo}</p>
        <div class="actions big">{backToMenu(true)}</div>
      </section>
    );
  }
  if (confirming && from && to) {
    return (
      <ConfirmStep
        t={t}
        text={t.confirmTransfer(money(cents), accountLabel(t, from, accounts), accountLabel(t, to, accounts))}
        onChange={() => setConfirming(false)}
        onConfirm={() => {
          expectWork('request');
          send(atm.transfer({ fromAccountId: from.accountId, toAccountId: to.accountId, amountCents: cents }));
        }}
      />
    );
  }
  return (
    <section class="screen with-pad">
      <div class="pad-words">
        <ScreenTitle text={t.transferTitle} step="amount" />
        <NoticeBanner snap={snap} t={t} />
        <AccountPicker accounts={accounts} selected={fromId} choose={setFromId} t={t} language={snap.language} label={t.transferFrom} name="from" />
        <AccountPicker accounts={accounts} selected={toId} choose={setToId} t={t} language={snap.language} label={t.transferTo} name="to" showAvailable={false} />
        <div class="actions push-down">
          {backToMenu(false)}
          <button type="button" class="primary" disabled={cents === 0 || fromId === toId} data-action="amount-next" onClick={() => setConfirming(true)}>
            {t.next}
            <Icon name="next" />
          </button>
        </div>
      </div>
      <AmountPad t={t} wholeDollars={false} digits={digits} display={money(cents)} onDigits={setDigits} />
    </section>
  );
}
