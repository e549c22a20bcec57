import { send, type ScreenProps } from '../atm.js';
import { AccountPicker } from '../components/account-picker.js';
import { Icon } from '../components/icon.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';
import { formatMoney, formatNote, listNotes } from '../i18n.js';

/** A deposit of notes: choose the account, then insert notes one at a time; each note the acceptor
 *  counts shows at once (count and value by denomination, the running total), with what may still be
 *  deposited today. Done credits the notes counted; Cancel gives back the note being read (notes already
 *  counted cannot be given back, and are credited). Nothing here is typed: the credit is the notes. */
export function DepositScreen(props: ScreenProps) {
  return props.snap.view?.kind === 'deposit-counting' ? <CountingStep {...props} /> : <AccountStep {...props} />;
}

function AccountStep({ snap, t, atm, expectWork, accountId, setAccountId }: ScreenProps) {
  const accounts = snap.customer?.accounts ?? [];
  const account = accounts.find((a) => a.accountId === accountId) ?? accounts[0];
  const remaining = snap.customer?.depositRemainingTodayCents;
  return (
    <section class="screen">
      <div class="title-row">
        <ScreenTitle text={t.depositTitle} step="account" />
        <button type="button" data-action="back-to-menu" onClick={() => send(atm.selectMenu('menu'))}>
          <Icon name="back" />
          {t.backToMenu}
        </button>
      </div>
      <p class="body-text">{t.depositChooseHint}</p>
      {remaining !== undefined && <p class="hint">{t.depositRemaining(formatMoney(remaining, snap.language, account?.currency))}</p>}
      <NoticeBanner snap={snap} t={t} />
      <AccountPicker accounts={accounts} selected={account?.accountId} choose={setAccountId} t={t} language={snap.language} showAvailable={false} />
      <div class="actions push-down end">
        <button
          type="button"
          class="primary"
          data-action="deposit-start"
          disabled={!snap.depositAvailable}
          onClick={() => {
            expectWork('request');
            send(atm.beginDeposit(account ? { accountId: account.accountId } : {}));
          }}
        >
          <Icon name="deposit" />
          {t.depositStart}
        </button>
      </div>
    </section>
  );
}

function CountingStep({ snap, t, atm, expectWork }: ScreenProps) {
  const view = snap.view;
  if (view?.kind !== 'deposit-counting') return null;
  const currency = snap.customer?.accounts.find((a) => a.accountId === view.accountId)?.currency;
  const money = (cents: number) => formatMoney(cents, snap.language, currency);
  const noteCount = view.notes.reduce((sum, n) => sum + n.count, 0);
  return (
    <section class="screen deposit-counting">
      <div class="pad-words">
        <ScreenTitle text={t.depositInsertTitle} step="notes" />
        <p class="body-text">{t.depositInsertHint(listNotes(t, view.denominationsCents, snap.language, currency))}</p>
        <p class="hint" data-testid="deposit-remaining">
          {t.depositRemaining(money(view.remainingTodayCents))}
        </p>
        <p class="hint counting" aria-live="polite" data-testid="deposit-counting">
          {view.counting ? t.depositCounting : ''}
        </p>
        <NoticeBanner snap={snap} t={t} />
        <div class="actions push-down">
          <button
            type="button"
            data-action="deposit-cancel"
            onClick={() => {
              expectWork('request');
              send(atm.depositCancel());
            }}
          >
            <Icon name="close" />
            {t.depositCancel}
          </button>
          <button
            type="button"
            class="primary"
            data-action="deposit-done"
            onClick={() => {
              expectWork('request');
              send(atm.depositDone());
            }}
          >
            <Icon name="check" />
            {t.depositFinish}
          </button>
        </div>
      </div>
      <table class="note-count" aria-label={t.depositCountedTitle} data-testid="note-count">
        <caption>{t.depositCountedTitle}</caption>
        <tbody>
          {view.notes.length === 0 && (
            <tr>
              <td colSpan={2} class="empty">
                {t.depositNone}
              </td>
            </tr>
          )}
          {view.notes.map((n) => (
            <tr key={n.denominationCents} data-note={n.denominationCents}>
              <th scope="row">{t.depositNoteRow(n.count, formatNote(n.denominationCents, snap.language, currency))}</th>
              <td class="num">{money(n.count * n.denominationCents)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">
              {t.depositTotal}
              {noteCount > 0 ? ` (${noteCount})` : ''}
            </th>
            <td class="num" data-testid="deposit-total">
              {money(view.totalCents)}
            </td>
          </tr>
        </tfoot>
      </table>
    </section>
  );
}
