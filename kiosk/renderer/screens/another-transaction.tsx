import { send, type ScreenProps } from '../atm.js';
import { Icon } from '../components/icon.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';

/** After each transaction, as a real ATM asks: another one in this session (the primary action), or
 *  finish. A receipt just printed is said here ("Please take your receipt"). */
export function AnotherTransactionScreen({ snap, t, atm }: ScreenProps) {
  return (
    <section class="screen center">
      <Icon name="check" class="icon hero" />
      <ScreenTitle text={t.anotherTitle} />
      <NoticeBanner snap={snap} t={t} />
      <div class="actions big">
        <button type="button" data-action="another-no" onClick={() => send(atm.anotherTransaction(false))}>
          <Icon name="exit" />
          {t.anotherNo}
        </button>
        <button type="button" class="primary" data-action="another-yes" onClick={() => send(atm.anotherTransaction(true))}>
          <Icon name="next" />
          {t.anotherYes}
        </button>
      </div>
    </section>
  );
}
