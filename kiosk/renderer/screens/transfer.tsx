import { useState } from 'preact/hooks';
import { send, type ScreenProps } from '../atm.js';
import { AccountPicker } from '../components/account-picker.js';
import { AmountPad, amountCentsFrom } from '../components/amount-pad.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';
import { formatMoney } from '../i18n.js';

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

  if (accounts.length < 2) {
    return (
      <section>
        <ScreenTitle text={t.transferTitle} />
        <p class="lead">{t.transferNeedsTwo}</p>
        <div class="actions">
          <button type="button" class="primary" data-action="back-to-menu" onClick={() => send(atm.selectMenu('menu'))}>
            {t.backToMenu}
          </button>
        </div>
      </section>
    );
  }
  if (confirming && from && to) {
    return (
      <section>
        <ScreenTitle text={t.confirmTitle} step="confirm" />
        <p class="lead" data-testid="confirm-text">
          {t.confirmTransfer(money(cents), t.accountKind(from.kind), t.accountKind(to.kind))}
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
              send(atm.transfer({ fromAccountId: from.accountId, toAccountId: to.accountId, amountCents: cents }));
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
        <ScreenTitle text={t.transferTitle} step="amount" />
        <NoticeBanner snap={snap} t={t} />
        <AccountPicker accounts={accounts} selected={fromId} choose={setFromId} t={t} language={snap.language} label={t.transferFrom} name="from" />
        <AccountPicker accounts={accounts} selected={toId} choose={setToId} t={t} language={snap.language} label={t.transferTo} name="to" />
        <div class="actions">
          <button type="button" data-action="back-to-menu" onClick={() => send(atm.selectMenu('menu'))}>
            {t.backToMenu}
          </button>
          <button type="button" class="primary" disabled={cents === 0 || fromId === toId} data-action="amount-next" onClick={() => setConfirming(true)}>
            {t.next}
          </button>
        </div>
      </div>
      <AmountPad t={t} wholeDollars={false} digits={digits} display={money(cents)} onDigits={setDigits} />
    </section>
  );
}
