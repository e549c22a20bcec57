import { send, type ScreenProps } from '../atm.js';
import { Icon } from '../components/icon.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';
import { formatMoney } from '../i18n.js';

/** After a transaction: "take your cash" for a withdrawal, the result otherwise, then the receipt
 *  question (only offered when the printer can print). */
export function ReceiptScreen({ snap, t, atm, expectWork }: ScreenProps) {
  const view = snap.view;
  const currency = snap.customer?.accounts[0]?.currency;
  const money = (cents: number) => formatMoney(cents, snap.language, currency);
  let title = t.receiptQuestion;
  let body = '';
  if (view?.kind === 'withdrawal') {
    title = t.takeCashTitle;
    body = t.takeCashBody(money(view.dispensedCents));
  } else if (view?.kind === 'deposit') {
    body = t.depositDone(money(view.amountCents), money(view.account.balanceCents));
  } else if (view?.kind === 'transfer') {
    body = t.transferDone(money(view.amountCents), money(view.from.balanceCents));
  }
  return (
    <section class="screen center">
      {view?.kind === 'withdrawal' && (
        <svg class="picture cash" viewBox="0 0 160 70" aria-hidden="true" focusable="false">
          <rect class="reader" x="10" y="6" width="140" height="18" rx="9" />
          <g class="moving-cash">
            <rect class="note" x="45" y="14" width="70" height="44" rx="3" />
            <circle class="note-mark" cx="80" cy="36" r="9" />
          </g>
        </svg>
      )}
      <ScreenTitle text={title} />
      {body && (
        <p class="lead" data-testid="result">
          {body}
        </p>
      )}
      <NoticeBanner snap={snap} t={t} />
      {snap.receiptAvailable ? (
        <>
          {title !== t.receiptQuestion && <p class="question">{t.receiptQuestion}</p>}
          <div class="actions big">
            <button type="button" data-action="receipt-no" onClick={() => send(atm.chooseReceipt(false))}>
              <Icon name="close" />
              {t.receiptNo}
            </button>
            <button
              type="button"
              class="primary"
              data-action="receipt-yes"
              onClick={() => {
                expectWork('print');
                send(atm.chooseReceipt(true));
              }}
            >
              <Icon name="receipt" />
              {t.receiptYes}
            </button>
          </div>
        </>
      ) : (
        <>
          <p class="body-text">{t.receiptUnavailable}</p>
          <div class="actions big">
            <button type="button" class="primary" data-action="receipt-no" onClick={() => send(atm.chooseReceipt(false))}>
              <Icon name="check" />
              {t.done}
            </button>
          </div>
        </>
      )}
    </section>
  );
}
