import { send, type ScreenProps } from '../atm.js';
import { Icon } from '../components/icon.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';
import { formatDateTime, formatMoney } from '../i18n.js';

/** After a deposit or a transfer: the result, then the receipt question (only offered when the printer
 *  can print). A withdrawal's receipt is chosen on its confirmation, before the cash moves. */
export function ReceiptScreen({ snap, t, atm, expectWork }: ScreenProps) {
  const view = snap.view;
  const currency = snap.customer?.accounts[0]?.currency;
  const money = (cents: number) => formatMoney(cents, snap.language, currency);
  let title = t.receiptQuestion;
  let body = '';
  let details: string[] = [];
  if (view?.kind === 'deposit') {
    // The credit is the notes counted; what can be spent now and what is held until when are told apart.
    body = t.depositCredited(money(view.creditedCents), view.notes.reduce((sum, n) => sum + n.count, 0));
    details = [
      t.depositAvailableNow(money(view.availableNowCents)),
      ...(view.heldCents > 0
        ? [view.releaseAtMs !== undefined ? t.depositHeld(money(view.heldCents), formatDateTime(view.releaseAtMs, snap.language)) : t.depositHeldNoDate(money(view.heldCents))]
        : []),
      t.depositNewBalance(money(view.account.balanceCents)),
    ];
  } else if (view?.kind === 'transfer') {
    body = t.transferDone(money(view.amountCents), money(view.from.balanceCents));
  }
  return (
    <section class="screen center">
      <ScreenTitle text={title} />
      {body && (
        <p class="lead" data-testid="result">
          {body}
        </p>
      )}
      {details.length > 0 && (
        <div class="deposit-result" data-testid="deposit-result">
          {details.map((line) => (
            <p class="body-text" key={line}>
              {line}
            </p>
          ))}
        </div>
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
