import { send, type ScreenProps } from '../atm.js';
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
    <section class="center">
      {view?.kind === 'withdrawal' && <div class="cash-slot" aria-hidden="true" />}
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
              {t.receiptYes}
            </button>
          </div>
        </>
      ) : (
        <>
          <p class="hint">{t.receiptUnavailable}</p>
          <div class="actions big">
            <button type="button" class="primary" data-action="receipt-no" onClick={() => send(atm.chooseReceipt(false))}>
              {t.done}
            </button>
          </div>
        </>
      )}
    </section>
  );
}
