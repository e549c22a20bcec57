import type { MenuChoice } from '../../preload/api.js';
import { send, type ScreenProps } from '../atm.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';

export function MenuScreen({ snap, t, atm, expectWork }: ScreenProps) {
  const choose = (choice: MenuChoice) => {
    if (choice === 'balance' || choice === 'history') expectWork('request');
    send(atm.selectMenu(choice));
  };
  const items: [MenuChoice, string][] = [
    ...(snap.withdrawalAvailable ? [['withdraw', t.menuWithdraw] as [MenuChoice, string]] : []),
    ['deposit', t.menuDeposit],
    ['balance', t.menuBalance],
    ['history', t.menuHistory],
    ['transfer', t.menuTransfer],
  ];
  return (
    <section>
      <p class="greeting">{snap.customer ? t.hello(snap.customer.username) : ''}</p>
      <ScreenTitle text={t.menuTitle} />
      <NoticeBanner snap={snap} t={t} />
      <div class="choices menu-grid">
        {items.map(([choice, label]) => (
          <button type="button" class="primary" key={choice} data-action={`menu-${choice}`} onClick={() => choose(choice)}>
            {label}
          </button>
        ))}
        <button type="button" data-action="finish" onClick={() => send(atm.cancel())}>
          {t.finish}
        </button>
      </div>
    </section>
  );
}
