import { useState } from 'preact/hooks';
import { send, type ScreenProps } from '../atm.js';
import { AccountPicker } from '../components/account-picker.js';
import { AmountPad, amountCentsFrom } from '../components/amount-pad.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';
import { formatMoney } from '../i18n.js';

type Step = { kind: 'choose' } | { kind: 'other'; digits: string } | { kind: 'confirm'; amountCents: number };

/** Fast cash (only amounts the cassettes can pay now, within the daily limit), another amount in whole
 *  dollars, then a confirmation: no money moves on a single touch. */
export function WithdrawScreen({ snap, t, atm, expectWork }: ScreenProps) {
  const [step, setStep] = useState<Step>({ kind: 'choose' });
  const accounts = snap.customer?.accounts ?? [];
  const [accountId, setAccountId] = useState(accounts[0]?.accountId);
  const account = accounts.find((a) => a.accountId === accountId) ?? accounts[0];
  const money = (cents: number) => formatMoney(cents, snap.language, account?.currency);
  const remaining = snap.customer?.dailyWithdrawalRemainingCents;

  if (step.kind === 'confirm') {
    return (
      <section>
        <ScreenTitle text={t.confirmTitle} step="confirm" />
        <p class="lead" data-testid="confirm-text">
          {t.confirmWithdraw(money(step.amountCents), account ? t.accountKind(account.kind) : '')}
        </p>
        <div class="actions big">
          <button type="button" onClick={() => setStep({ kind: 'choose' })}>
            {t.change}
          </button>
          <button
            type="button"
            class="primary"
            data-action="confirm"
            onClick={() => {
              expectWork('withdraw');
              send(atm.withdraw({ amountCents: step.amountCents, ...(account ? { accountId: account.accountId } : {}) }));
            }}
          >
            {t.confirm}
          </button>
        </div>
      </section>
    );
  }
  if (step.kind === 'other') {
    const cents = amountCentsFrom(step.digits, true);
    return (
      <section class="with-pad">
        <div>
          <ScreenTitle text={t.otherAmountTitle} step="other" />
          <p class="hint">{t.otherAmountHint}</p>
          {remaining !== undefined && <p class="hint">{t.dailyRemaining(money(remaining))}</p>}
          <NoticeBanner snap={snap} t={t} />
          <div class="actions">
            <button type="button" onClick={() => setStep({ kind: 'choose' })}>
              {t.back}
            </button>
            <button type="button" class="primary" disabled={cents === 0} data-action="amount-next" onClick={() => setStep({ kind: 'confirm', amountCents: cents })}>
              {t.next}
            </button>
          </div>
        </div>
        <AmountPad t={t} wholeDollars digits={step.digits} display={money(cents)} onDigits={(digits) => setStep({ kind: 'other', digits })} />
      </section>
    );
  }
  return (
    <section>
      <ScreenTitle text={t.withdrawTitle} step="choose" />
      <NoticeBanner snap={snap} t={t} />
      <AccountPicker accounts={accounts} selected={account?.accountId} choose={setAccountId} t={t} language={snap.language} />
      {snap.fastCashCents.length === 0 && <p class="hint">{t.noFastCash}</p>}
      <div class="choices fast-cash" role="group" aria-label={t.fastCash}>
        {snap.fastCashCents.map((cents) => (
          <button type="button" class="primary" key={cents} data-fast-cash={cents} onClick={() => setStep({ kind: 'confirm', amountCents: cents })}>
            {money(cents)}
          </button>
        ))}
        <button type="button" data-action="other-amount" onClick={() => setStep({ kind: 'other', digits: '' })}>
          {t.otherAmount}
        </button>
        <button type="button" data-action="back-to-menu" onClick={() => send(atm.selectMenu('menu'))}>
          {t.backToMenu}
        </button>
      </div>
    </section>
  );
}
