// The flows of a real ATM in Chromium, by touch, with the HID card reader's report bytes, the on-screen PIN
// pad, the dispenser and printer simulators on socat ptys and a real bank host: two transactions in one
// session ("Another transaction?"), a PIN change, and cash not taken in time retracted and not charged.
import test from 'ava';
import { checkLedger } from '../../../bank-host/ledger/check.js';
import { listHolds } from '../../../bank-host/ledger/operator.js';
import { PASSWORD } from '../core/kiosk-rig.js';
import { closeChromium, startUiRig, type UiRig } from './browser-rig.js';

const NEW_PIN = '7391';
/** Long enough to read the countdown and measure the screen on a loaded machine. */
const CASH_TAKE_TIMEOUT_MS = 8_000;

test.after.always(() => closeChromium());

async function typePin(ui: UiRig, digits: string): Promise<void> {
  for (const digit of digits) await ui.tap(`[data-pin-key="${digit}"]`);
  await ui.tap('[data-pin-key="enter"]');
}

async function balanceOf(ui: UiRig, username: string, accountId: string) {
  const teller = await ui.kiosk.host.connectedClient(`teller-${Math.random().toString(16).slice(2, 10)}`);
  await teller.request('signin.password', { username, password: PASSWORD });
  const balance = await teller.request('balance', { accountId });
  teller.close();
  return balance;
}

test('one session: a withdrawal with a receipt, another transaction (a PIN change), another (cash not taken, retracted, not charged)', async (t) => {
  t.timeout(180_000);
  const ui = await startUiRig({
    prefix: 'atm-flows',
    pinPad: 'on-screen',
    dispenserTakeNotesAfterMs: null,
    kioskOptions: { withdrawalDeadlines: { cashTakeTimeoutMs: CASH_TAKE_TIMEOUT_MS } },
    log: (line) => t.log(line),
  });
  t.teardown(() => ui.close());
  const { dispenser, printer } = ui.kiosk;
  const card = await ui.kiosk.customer('tomas', 50_000);
  await ui.screen('welcome');
  ui.kiosk.swipe(card);
  await ui.screen('pin', (s) => s.onScreenPinPad);
  // "Correct" clears the whole entry, as on a real PIN pad.
  for (const digit of '12') await ui.tap(`[data-pin-key="${digit}"]`);
  await ui.screen('pin', (s) => s.pinDigits === 2);
  await ui.tap('[data-pin-key="clear"]');
  await ui.screen('pin', (s) => s.pinDigits === 0);
  await typePin(ui, card.pin);
  await ui.screen('menu');

  // 1. $40, a receipt chosen before the cash moves; the customer takes the cash.
  await ui.tap('[data-action="menu-withdraw"]');
  await ui.screen('withdraw');
  await ui.tap('[data-fast-cash="4000"]');
  await ui.tap('[data-action="receipt-toggle"]');
  t.is(await ui.page.locator('[data-action="receipt-toggle"]').getAttribute('aria-pressed'), 'true');
  await ui.check(t, 'confirm-with-receipt');
  await ui.tap('[data-action="confirm"]');
  const waiting = await ui.screen('take-cash');
  t.like(waiting.view, { kind: 'take-cash', dispensedCents: 4_000 });
  t.regex(await ui.page.getByTestId('take-cash-countdown').innerText(), /^Cash not taken within \d+ seconds? goes back into the machine\.$/);
  await ui.check(t, 'take-cash');
  t.true(dispenser.takeNotes());
  await ui.screen('another-transaction', (s) => s.notice?.code === 'RECEIPT_PRINTED');
  await ui.page.waitForSelector('[data-notice="RECEIPT_PRINTED"]');
  await ui.check(t, 'another-transaction');
  const receipt = (printer.receipts.at(-1) ?? []).join('\n');
  for (const line of ['Northbank', 'WITHDRAWAL $40.00', `Card: ************${card.pan.slice(-4)}`, 'Balance: $460.00', 'Available: $460.00']) t.true(receipt.includes(line), `${line} in\n${receipt}`);

  // 2. Another transaction in the same session: a PIN change.
  await ui.tap('[data-action="another-yes"]');
  const menu = await ui.screen('menu');
  t.is(menu.customer?.cardLast4, card.pan.slice(-4), 'the same session');
  t.is(menu.customer?.accounts[0]?.availableCents, 46_000, 'its figures as they now are');
  await ui.tap('[data-action="menu-pin-change"]');
  await ui.screen('pin-change', (s) => s.pinChangeStep === 'old');
  t.is(await ui.page.locator('h1').innerText(), 'Enter your current PIN');
  await typePin(ui, card.pin);
  await ui.screen('pin-change', (s) => s.pinChangeStep === 'new');
  await ui.page.waitForSelector('h1:text-is("Enter your new PIN")');
  await typePin(ui, NEW_PIN);
  await ui.screen('pin-change', (s) => s.pinChangeStep === 'confirm');
  await ui.page.waitForSelector('h1:text-is("Enter your new PIN again")');
  await ui.check(t, 'pin-change-confirm');
  await typePin(ui, NEW_PIN);
  await ui.screen('another-transaction', (s) => s.notice?.code === 'PIN_CHANGED');
  await ui.page.waitForSelector('[data-notice="PIN_CHANGED"]');
  t.is(await ui.page.locator('[data-notice]').innerText(), 'Your PIN has been changed. Use your new PIN from now on.');

  // 3. And another: $60 the customer does not take. Taken back into the bin, not charged; goodbye says so.
  await ui.tap('[data-action="another-yes"]');
  await ui.screen('menu');
  await ui.tap('[data-action="menu-withdraw"]');
  await ui.screen('withdraw');
  await ui.tap('[data-fast-cash="6000"]');
  await ui.tap('[data-action="confirm"]');
  await ui.screen('take-cash');
  const goodbye = await ui.screen('goodbye', (s) => s.notice?.code === 'CASH_RETRACTED', CASH_TAKE_TIMEOUT_MS + 15_000);
  t.deepEqual(goodbye.notice, { code: 'CASH_RETRACTED', amountCents: 6_000 });
  await ui.page.waitForSelector('[data-notice="CASH_RETRACTED"]');
  t.is(await ui.page.locator('[data-notice]').innerText(), 'You did not take your cash in time, so the machine took back $60.00. You were not charged for it.');
  await ui.check(t, 'cash-retracted');
  t.is(dispenser.retractBinCount, 3);
  t.like(await balanceOf(ui, 'tomas', card.accountIds[0]!), { balanceCents: 46_000, availableCents: 46_000 });
  const services = ui.kiosk.host.host.state.services;
  t.deepEqual(await listHolds(services), []);
  t.true((await checkLedger(services.db)).ok);

  // The new PIN signs in; the old one does not.
  await ui.screen('welcome');
  ui.kiosk.swipe(card);
  await ui.screen('pin');
  await typePin(ui, card.pin);
  await ui.screen('pin', (s) => s.notice?.code === 'WRONG_PIN');
  await typePin(ui, NEW_PIN);
  await ui.screen('menu');
  t.deepEqual(ui.consoleProblems, []);
});
