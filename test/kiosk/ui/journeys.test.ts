// Complete customer journeys by touch in Debian's Chromium: the built renderer, `window.atm` bound to the
// main-process handlers, a real bank host and the device simulators behind them.
import test from 'ava';
import { PASSWORD } from '../core/kiosk-rig.js';
import { buildRenderer, closeChromium, startUiRig, type UiRig } from './browser-rig.js';

test.after.always(() => closeChromium());

const NEW_PASSWORD = 'Maple-leaf-2026';

/** From the welcome screen to the filled-in sign-in form, by touch on the on-screen keyboard. */
async function fillSignInByTouch(ui: UiRig, username: string, password: string): Promise<void> {
  await ui.screen('welcome');
  await ui.tap('[data-action="language-en"]');
  await ui.screen('identify');
  await ui.tap('[data-action="use-username"]');
  await ui.tap('input[name="username"]');
  await ui.typeOnScreen(username);
  await ui.tap('input[name="password"]');
  await ui.typeOnScreen(password);
}

async function signInByTouch(ui: UiRig, username: string, password: string): Promise<void> {
  await fillSignInByTouch(ui, username, password);
  await ui.tap('[data-action="submit-credentials"]');
  await ui.screen('menu');
}

test.serial('register, sign in, deposit, withdraw with a printed receipt, balance, history, sign out — by touch on 800×480', async (t) => {
  const ui = await startUiRig({ prefix: 'journey', pinPad: 'on-screen', log: (line) => t.log(line) });
  t.teardown(() => ui.close());
  const build = await buildRenderer();
  t.log(`renderer: ${build.gzipBytes} bytes gzipped JS+CSS (${build.rawBytes} raw); first screen ${ui.firstScreenMs.toFixed(0)} ms after navigation start`);

  await ui.screen('welcome');
  await ui.check(t, '01-welcome');
  await ui.tap('[data-action="language-en"]');
  await ui.screen('identify');
  await ui.check(t, '02-identify');

  // Register with the on-screen keyboard.
  await ui.tap('[data-action="register"]');
  await ui.page.waitForSelector('form.credentials');
  await ui.tap('input[name="username"]');
  await ui.typeOnScreen('nadia.k');
  await ui.tap('input[name="password"]');
  await ui.typeOnScreen(NEW_PASSWORD);
  t.is(await ui.page.inputValue('input[name="username"]'), 'nadia.k');
  t.is(await ui.page.inputValue('input[name="password"]'), NEW_PASSWORD);
  await ui.check(t, '03-register');
  await ui.tap('[data-action="submit-credentials"]');
  let s = await ui.screen('menu');
  t.is(s.customer?.username, 'nadia.k');
  await ui.check(t, '04-menu');

  // Sign out, then sign in with the username and password.
  await ui.tap('[data-action="finish"]');
  await ui.screen('goodbye');
  await ui.check(t, '05-goodbye');
  await fillSignInByTouch(ui, 'nadia.k', NEW_PASSWORD);
  await ui.check(t, '06-sign-in');
  await ui.tap('[data-action="submit-credentials"]');
  await ui.screen('menu');

  // Deposit $250.00 (digits shift in as cents).
  await ui.tap('[data-action="menu-deposit"]');
  await ui.screen('deposit');
  await ui.typeOnKeypad('25000');
  t.regex(await ui.page.locator('.amount-display').innerText(), /\$250\.00/);
  await ui.check(t, '07-deposit');
  await ui.tap('[data-action="amount-next"]');
  await ui.check(t, '08-deposit-confirm');
  await ui.tap('[data-action="confirm"]');
  s = await ui.screen('receipt');
  t.is(s.view?.kind === 'deposit' ? s.view.account.balanceCents : -1, 25_000);
  await ui.check(t, '09-deposit-done');
  await ui.tap('[data-action="receipt-no"]');
  await ui.screen('goodbye');

  // Sign in again; withdraw $60 with fast cash; the dispenser pays, the printer prints.
  await signInByTouch(ui, 'nadia.k', NEW_PASSWORD);
  await ui.tap('[data-action="menu-withdraw"]');
  await ui.screen('withdraw');
  await ui.check(t, '10-withdraw');
  await ui.tap('[data-fast-cash="6000"]');
  t.regex(await ui.page.getByTestId('confirm-text').innerText(), /Withdraw \$60\.00 from Chequing\?/);
  await ui.check(t, '11-withdraw-confirm');
  const { dispenser, printer } = ui.kiosk;
  await ui.tap('[data-action="confirm"]');
  s = await ui.screen('receipt');
  t.deepEqual(s.view, { kind: 'withdrawal', amountCents: 6_000, dispensedCents: 6_000, short: false });
  t.deepEqual(dispenser.lifetimeDispensed, [3, 0]);
  await ui.check(t, '12-take-cash');
  await ui.tap('[data-action="receipt-yes"]');
  await ui.screen('goodbye');
  const receipt = (printer.receipts.at(-1) ?? []).join('\n');
  t.true(receipt.includes('WITHDRAWAL $60.00'), receipt);

  // Balance and history (with a filter), then sign out.
  await signInByTouch(ui, 'nadia.k', NEW_PASSWORD);
  await ui.tap('[data-action="menu-balance"]');
  s = await ui.screen('balance');
  t.regex(await ui.page.locator('.balance-row .money').first().innerText(), /\$190\.00/);
  await ui.check(t, '13-balance');
  await ui.tap('[data-action="back-to-menu"]');
  await ui.screen('menu');
  await ui.tap('[data-action="menu-history"]');
  s = await ui.screen('history');
  t.is(await ui.page.locator('.history-table tbody tr').count(), 2);
  await ui.check(t, '14-history');
  // The filters are on a sheet of their own; nothing loads until "Show".
  await ui.tap('[data-action="filters"]');
  await ui.tap('[data-filter="withdrawal"]');
  t.is(await ui.page.locator('[data-filter="withdrawal"]').getAttribute('aria-pressed'), 'true');
  await ui.check(t, '15-history-filters');
  await ui.tap('[data-action="apply-filters"]');
  await ui.screen('history', () => true);
  await ui.page.waitForFunction('document.querySelectorAll(".history-table tbody tr").length === 1');
  t.is(await ui.page.locator('.history-table tbody tr[data-kind="withdrawal"]').count(), 1);
  t.regex(await ui.page.locator('[data-testid="filter-summary"]').innerText(), /^Withdrawals · Any time$/);
  await ui.tap('[data-action="filters"]');
  t.is(await ui.page.locator('[data-filter="withdrawal"]').getAttribute('aria-pressed'), 'true', 'the sheet opens on the filter in force');
  await ui.tap('[data-action="cancel-filters"]');
  await ui.check(t, '16-history-filtered');
  await ui.tap('[data-action="cancel"]');
  s = await ui.screen('goodbye');
  t.is(s.customer, undefined);
  t.deepEqual(ui.consoleProblems, []);
});
