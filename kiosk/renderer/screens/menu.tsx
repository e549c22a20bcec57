import type { MenuChoice } from '../../preload/api.js';
import { send, type ScreenProps } from '../atm.js';
import { Icon, type IconName } from '../components/icon.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';

/** The transactions as tiles; cash, what most customers come for, is the one filled tile. Finish is a
 *  plain button: it ends the visit rather than starting a transaction. */
export function MenuScreen({ snap, t, atm, expectWork }: ScreenProps) {
  const choose = (choice: MenuChoice) => {
    if (choice === 'balance' || choice === 'history') expectWork('request');
    send(atm.selectMenu(choice));
  };
  const items: [MenuChoice, string, IconName][] = [
    ...(snap.withdrawalAvailable ? [['withdraw', t.menuWithdraw, 'cash'] as [MenuChoice, string, IconName]] : []),
    // Offered only while the note acceptor is ready and nothing is unfinished.
    ...(snap.depositAvailable ? [['deposit', t.menuDeposit, 'deposit'] as [MenuChoice, string, IconName]] : []),
    ['balance', t.menuBalance, 'balance'],
    ['history', t.menuHistory, 'history'],
    ['transfer', t.menuTransfer, 'transfer'],
    // A PIN belongs to a card: offered in card sessions only.
    ...(snap.customer?.cardLast4 ? [['pin-change', t.menuPinChange, 'lock'] as [MenuChoice, string, IconName]] : []),
  ];
  return (
    <section class="screen">
      <div class="title-row">
        <div>
          <p class="greeting">{snap.customer ? t.hello(snap.customer.username) : ''}</p>
          <ScreenTitle text={t.menuTitle} />
        </div>
        <button type="button" data-action="finish" onClick={() => send(atm.cancel())}>
          <Icon name="exit" />
          {t.finish}
        </button>
      </div>
      <NoticeBanner snap={snap} t={t} />
      <div class="tiles menu">
        {items.map(([choice, label, icon]) => (
          <button type="button" class={choice === 'withdraw' ? 'tile primary' : 'tile'} key={choice} data-action={`menu-${choice}`} onClick={() => choose(choice)}>
            <Icon name={icon} />
            {label}
          </button>
        ))}
      </div>
    </section>
  );
}
