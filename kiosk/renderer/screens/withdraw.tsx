import { useState } from 'preact/hooks';
import { send, type ScreenProps } from '../atm.js';
import { AccountPicker } from '../components/account-picker.js';
import { AmountPad, amountCentsFrom } from '../components/amount-pad.js';
import { ConfirmStep } from '../components/confirm-step.js';
import { Icon } from '../components/icon.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';
import { accountLabel, formatMoney } from '../i18n.js';

type Step = { kind: 'choose' } | { kind: 'other'; digits: string } | { kind: 'confirm'; amountCents: number };

/** Fast cash (only amounts the cassettes can pay now, within the daily limit), another amount in whole
 *  dollars, then a confirmation: no money moves on a single touch. */
export function WithdrawScreen({ snap, t, atm, expectWork, accountId, setAccountId }: ScreenProps) {
  const [step, setStep] = useState<Step>({ kind: 'choose' });
  const accounts = snap.customer?.accounts ?? [];
  const account = accounts.find((a) => a.accountId === accountId) ?? accounts[0];
  const money = (cents: number) => formatMoney(cents, snap.language, account?.currency);
  const remaining = snap.customer?.dailyWithdrawalRemainingCents;

  if (step.kind === 'confirm') {
    return (
      <ConfirmStep
        t={t}
        text={t.confirmWithdraw(money(step.amountCents), account ? accountLabel(t, account, accounts) : '')}
        onChange={() => setStep({ kind: 'choose' })}
        onConfirm={() => {
          expectWork('withdraw');
          send(atm.withdraw({ amountCents: step.amountCents, ...(account ? { accountId: account.accountId } : {}) }));
        }}
      />
    );
  }
  if (step.kind === 'other') {
    const cents = amountCentsFrom(step.digits, true);
    return (
      <section class="screen with-pad">
        <div class="pad-words">
          <ScreenTitle text={t.otherAmountTitle} step="other" />
          <p class="body-text">{t.otherAmountHint}</p>
          {remaining !== undefined && <p class="hint">{t.dailyRemaining(money(remaining))}</p>}
          <NoticeBanner snap={snap} t={t} />
          <div class="actions push-down">
            <button type="button" data-action="back" onClick={() => setStep({ kind: 'choose' })}>
              <Icon name="back" />
              {t.back}
            </button>
            <button type="button" class="primary" disabled={cents === 0} data-action="amount-next" onClick={() => setStep({ kind: 'confirm', amountCents: cents })}>
              {t.next}
              <Icon name="next" />
            </button>
          </div>
        </div>
        <AmountPad t={t} wholeDollars digits={step.digits} display={money(cents)} onDigits={(digits) => setStep({ kind: 'other', digits })} />
      </section>
    );
  }
  return (
    <section class="screen">
      <div class="title-row">
        <ScreenTitle text={t.withdrawTitle} step="choose" />
        <button type="button" data-action="back-to-menu" onClick={() => send(atm.selectMenu('menu'))}>
          <Icon name="back" />
          {t.backToMenu}
        </button>
      </div>
      <NoticeBanner snap={snap} t={t} />
      <AccountPicker accounts={accounts} selected={account?.accountId} choose={setAccountId} t={t} language={snap.language} />
      {snap.fastCashCents.length === 0 && <p class="hint">{t.noFastCash}</p>}
      <div class="tiles fast-cash" role="group" aria-label={t.fastCash}>
        {snap.fastCashCents.map((cents) => (
          <button type="button" class="tile amount" key={cents} data-fast-cash={cents} onClick={() => setStep({ kind: 'confirm', amountCents: cents })}>
            {money(cents)}
          </button>
        ))}
        <button type="button" class="tile amount" data-action="other-amount" onClick={() => setStep({ kind: 'other', digits: '' })}>
          {t.otherAmount}
        </button>
      </div>
    </section>
  );
}
