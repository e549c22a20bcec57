import { useEffect, useState } from 'preact/hooks';
import type { Notice } from '../../preload/api.js';
import { send, type ScreenProps } from '../atm.js';
import { AccountPicker } from '../components/account-picker.js';
import { AmountPad, amountCentsFrom } from '../components/amount-pad.js';
import { ConfirmStep } from '../components/confirm-step.js';
import { Icon } from '../components/icon.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';
import { accountLabel, formatMoney, listNotes } from '../i18n.js';
import { LIMIT_NOTICE_CODES, payingNotesCents, withdrawableTodayCents, withdrawalRefusal } from '../withdrawal-limits.js';

type Step = { kind: 'choose' } | { kind: 'other'; digits: string } | { kind: 'confirm'; amountCents: number; typed: boolean };

/** The amount a refusal was for, as the amount pad's digits (whole dollars). */
function digitsOf(cents: number): string {
  return cents % 100 === 0 ? String(cents / 100) : '';
}

/** Where a screen opened with a refusal starts: a limit refusal of a typed amount (the host's, after a
 *  race) comes back on the amount pad with that amount, so the customer sees the limit beside it. */
function initialStep(notice: Notice | undefined, fastCashCents: readonly number[]): Step {
  const requested = notice?.requestedCents;
  if (notice && LIMIT_NOTICE_CODES.has(notice.code) && requested !== undefined && !fastCashCents.includes(requested) && digitsOf(requested) !== '') {
    return { kind: 'other', digits: digitsOf(requested) };
  }
  return { kind: 'choose' };
}

/** Fast cash (only amounts the cassettes can pay now, within the daily limit), another amount in whole
 *  dollars, then a confirmation: no money moves on a single touch. An amount outside a limit (the most
 *  at once, what is left today, what is available, what the notes can make) is answered on the amount
 *  screen with the limit, before anything is sent. */
export function WithdrawScreen({ snap, t, atm, expectWork, accountId, setAccountId }: ScreenProps) {
  const [step, setStep] = useState<Step>(() => initialStep(snap.notice, snap.fastCashCents));
  // The screen's own answer to an amount (the limit it is outside of), until the amount changes.
  const [ownNotice, setOwnNotice] = useState<Notice | undefined>(undefined);
  // The controller's notice the customer has moved on from (changed the amount): not shown again.
  const [dismissed, setDismissed] = useState<string | undefined>(undefined);
  const [receiptWanted, setReceiptWanted] = useState(false);
  const accounts = snap.customer?.accounts ?? [];
  const account = accounts.find((a) => a.accountId === accountId) ?? accounts[0];
  const money = (cents: number) => formatMoney(cents, snap.language, account?.currency);
  const remaining = withdrawableTodayCents(snap, account?.accountId);
  const notesCents = payingNotesCents(snap);
  const controllerNotice = snap.notice && JSON.stringify(snap.notice) !== dismissed ? snap.notice : undefined;
  const notice = ownNotice ?? controllerNotice;
  const moveTo = (next: Step) => {
    setOwnNotice(undefined);
    if (snap.notice) setDismissed(JSON.stringify(snap.notice));
    setStep(next);
  };
  const tryAmount = (amountCents: number, typed: boolean) => {
    const refusal = withdrawalRefusal(amountCents, snap, account?.accountId);
    if (refusal) setOwnNotice(refusal);
    else moveTo({ kind: 'confirm', amountCents, typed });
  };

  // The kiosk refused the confirmed amount for a limit the screen could not see: back to the amount.
  useEffect(() => {
    if (step.kind === 'confirm' && controllerNotice && LIMIT_NOTICE_CODES.has(controllerNotice.code)) {
      setStep(step.typed ? { kind: 'other', digits: digitsOf(step.amountCents) } : { kind: 'choose' });
    }
  }, [controllerNotice, step]);

  if (step.kind === 'confirm') {
    return (
      <ConfirmStep
        t={t}
        text={t.confirmWithdraw(money(step.amountCents), account ? accountLabel(t, account, accounts) : '')}
        onChange={() => moveTo(step.typed ? { kind: 'other', digits: digitsOf(step.amountCents) } : { kind: 'choose' })}
        receipt={snap.receiptAvailable ? { wanted: receiptWanted, onToggle: () => setReceiptWanted(!receiptWanted) } : undefined}
        onConfirm={() => {
          expectWork('withdraw');
          send(atm.withdraw({ amountCents: step.amountCents, ...(account ? { accountId: account.accountId } : {}), receipt: snap.receiptAvailable && receiptWanted }));
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
          {/* The notes the cassettes hold now, by name: "$20 and $50 notes". */}
          <p class="body-text" data-testid="withdraw-notes">
            {notesCents.length > 0 ? t.otherAmountNotes(listNotes(t, notesCents, snap.language, account?.currency)) : t.otherAmountHint}
          </p>
          {remaining !== undefined && (
            <p class="hint" data-testid="withdraw-remaining">
              {t.withdrawRemaining(money(remaining))}
            </p>
          )}
          <NoticeBanner snap={snap} t={t} notice={notice ?? null} />
          <div class="actions push-down">
            <button type="button" data-action="back" onClick={() => moveTo({ kind: 'choose' })}>
              <Icon name="back" />
              {t.back}
            </button>
            <button type="button" class="primary" disabled={cents === 0} data-action="amount-next" onClick={() => tryAmount(cents, true)}>
              {t.next}
              <Icon name="next" />
            </button>
          </div>
        </div>
        <AmountPad
          t={t}
          wholeDollars
          digits={step.digits}
          display={money(cents)}
          onDigits={(digits) => moveTo({ kind: 'other', digits })}
        />
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
      <NoticeBanner snap={snap} t={t} notice={notice ?? null} />
      <AccountPicker
        accounts={accounts}
        selected={account?.accountId}
        choose={(id) => {
          setOwnNotice(undefined);
          setAccountId(id);
        }}
        t={t}
        language={snap.language}
      />
      {snap.fastCashCents.length === 0 && <p class="hint">{t.noFastCash}</p>}
      <div class="tiles fast-cash" role="group" aria-label={t.fastCash}>
        {snap.fastCashCents.map((cents) => (
          <button type="button" class="tile amount" key={cents} data-fast-cash={cents} onClick={() => tryAmount(cents, false)}>
            {money(cents)}
          </button>
        ))}
        <button type="button" class="tile amount" data-action="other-amount" onClick={() => moveTo({ kind: 'other', digits: '' })}>
          {t.otherAmount}
        </button>
      </div>
    </section>
  );
}
