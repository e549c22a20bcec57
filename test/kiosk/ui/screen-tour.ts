// A walk through every screen of the kiosk UI, by touch where a customer would touch, calling `visit`
// on each: the UI tests check every screen with it (axe-core, layout) and `npm run screenshots` takes the
// README's pictures with it. Card and PIN come from the HID simulators' real report bytes.
import { openAccount } from '../../../bank-host/customers/admin.js';
import type { Language } from '../../../kiosk/preload/api.js';
import { PASSWORD } from '../core/kiosk-rig.js';
import type { UiRig } from './browser-rig.js';

/** Slow enough notes that the "counting your cash" screen stays up long enough to be seen. */
export const TOUR_NOTE_INTERVAL_MS = 400;

export async function tourEveryScreen(ui: UiRig, language: Language, visit: (name: string) => Promise<void>): Promise<void> {
  const rig = ui.kiosk;
  const card = await rig.customer('tourguest', 52_000);
  await openAccount(rig.host.host.state.services, 'tourguest', 'savings');
  const signIn = async () => {
    await ui.screen('welcome');
    await ui.tap(`[data-action="language-${language}"]`);
    await ui.screen('identify');
    await rig.kiosk.beginPasswordSignIn('tourguest', PASSWORD);
    await ui.screen('menu');
  };

  await ui.screen('welcome');
  await visit('welcome');
  await ui.tap(`[data-action="language-${language}"]`);
  await ui.screen('identify');
  await visit('identify');
  await ui.tap('[data-action="use-username"]');
  await ui.page.waitForSelector('form.credentials');
  await visit('sign-in');
  await ui.tap('[data-action="back"]');
  await ui.tap('[data-action="register"]');
  await ui.page.waitForSelector('form.credentials');
  await visit('register');
  await ui.tap('[data-action="back"]');
  await ui.tap('[data-action="use-card"]');
  await ui.screen('identify', (s) => s.identifyMethod === 'card');
  await visit('swipe-card');

  rig.swipe(card);
  await ui.screen('pin');
  const wrongPin = card.pin === '0000' ? '1111' : '0000';
  rig.typePin(wrongPin, 'enter');
  await ui.screen('pin', (s) => s.notice?.code === 'WRONG_PIN' && s.pinDigits === 0);
  rig.typePin(card.pin.slice(0, 2));
  await ui.screen('pin', (s) => s.pinDigits === 2);
  await visit('pin');
  rig.typePin(card.pin.slice(2), 'enter');
  await ui.screen('menu');
  await visit('menu');

  await ui.tap('[data-action="menu-balance"]');
  await ui.screen('balance');
  await visit('balance');
  await ui.tap('[data-action="back-to-menu"]');
  await ui.screen('menu');

  await ui.tap('[data-action="menu-withdraw"]');
  await ui.screen('withdraw');
  await visit('withdraw');
  await ui.tap('[data-action="other-amount"]');
  await ui.typeOnKeypad('80');
  await visit('withdraw-other-amount');
  await ui.tap('[data-action="amount-next"]');
  await visit('withdraw-confirm');
  await ui.tap('[data-action="confirm"]');
  await ui.page.waitForSelector('[data-screen="working"]');
  await visit('working');
  await ui.screen('receipt');
  await visit('take-cash');
  await ui.tap('[data-action="receipt-yes"]');
  await ui.screen('goodbye');
  await visit('goodbye');

  await signIn();
  await ui.tap('[data-action="menu-deposit"]');
  await ui.screen('deposit');
  await ui.typeOnKeypad('12550');
  await visit('deposit');
  await ui.tap('[data-action="amount-next"]');
  await visit('deposit-confirm');
  await ui.tap('[data-action="confirm"]');
  await ui.screen('receipt');
  await visit('deposit-done');
  await ui.tap('[data-action="receipt-no"]');
  await ui.screen('goodbye');

  await signIn();
  await ui.tap('[data-action="menu-transfer"]');
  await ui.screen('transfer');
  await ui.tap('[data-pick="to-savings"]');
  await ui.typeOnKeypad('5000');
  await visit('transfer');
  await ui.tap('[data-action="amount-next"]');
  await visit('transfer-confirm');
  await ui.tap('[data-action="confirm"]');
  await ui.screen('receipt');
  await visit('transfer-done');
  await ui.tap('[data-action="receipt-no"]');
  await ui.screen('goodbye');

  // A withdrawal the bank refuses: the notice on the withdraw screen (with the account choice a password
  // session offers), and later the failed attempt in the customer's activity.
  await signIn();
  await ui.tap('[data-action="menu-withdraw"]');
  await ui.screen('withdraw');
  await ui.tap('[data-action="other-amount"]');
  await ui.typeOnKeypad('900');
  await ui.tap('[data-action="amount-next"]');
  await ui.tap('[data-action="confirm"]');
  await ui.screen('withdraw', (s) => s.notice?.code === 'INSUFFICIENT_FUNDS');
  await visit('withdraw-refused');
  await ui.tap('[data-action="back-to-menu"]');
  await ui.screen('menu');
  await ui.tap('[data-action="menu-history"]');
  await ui.screen('history', (s) => s.view?.kind === 'history');
  await visit('history');
  await ui.tap('[data-mode="activity"]');
  await ui.screen('history', (s) => s.view?.kind === 'activity');
  await visit('activity');
  await ui.tap('[data-action="cancel"]');
  await ui.screen('goodbye');

  await ui.screen('welcome');
  await rig.host.stop();
  await ui.screen('out-of-service');
  await visit('out-of-service');
}
