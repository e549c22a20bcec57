// Complete customer journeys by touch in Debian's Chromium: the built renderer, `window.atm` bound to the
// main-process handlers, a real bank host and the device simulators behind them.
import test from 'ava';
import { verifyAuditChain } from '../../../bank-host/audit/verify.js';
import { checkLedger } from '../../../bank-host/ledger/check.js';
import { eventually } from '../../helpers/host.js';
import { PASSWORD } from '../core/kiosk-rig.js';
import { buildRenderer, closeChromium, startUiRig, UI_STEP_TIMEOUT_MS, type UiRig } from './browser-rig.js';

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

  // Deposit $250.00 in notes: the credit is what the acceptor counts.
  await ui.tap('[data-action="menu-deposit"]');
  await ui.screen('deposit');
  await ui.check(t, '07-deposit');
  await ui.tap('[data-action="deposit-start"]');
  await ui.screen('deposit', (x) => x.view?.kind === 'deposit-counting');
  await ui.kiosk.insertNotes([10_000, 10_000, 5_000]);
  await ui.page.waitForSelector(`[data-testid="deposit-total"]:text-is("$250.00")`);
  await ui.check(t, '08-deposit-notes');
  await ui.tap('[data-action="deposit-done"]');
  s = await ui.screen('receipt');
  t.is(s.view?.kind === 'deposit' ? s.view.account.balanceCents : -1, 25_000);
  await ui.check(t, '09-deposit-done');
  await ui.tap('[data-action="receipt-no"]');
  await ui.screen('another-transaction');
  await ui.tap('[data-action="another-no"]');
  await ui.screen('goodbye');

  // Sign in again; withdraw $60 with fast cash; the dispenser pays, the printer prints.
  await signInByTouch(ui, 'nadia.k', NEW_PASSWORD);
  await ui.tap('[data-action="menu-withdraw"]');
  await ui.screen('withdraw');
  await ui.check(t, '10-withdraw');
  await ui.tap('[data-fast-cash="6000"]');
  t.regex(await ui.page.getByTestId('confirm-text').innerText(), /Withdraw \$60\.00 from Chequing\?/);
  await ui.tap('[data-action="receipt-toggle"]');
  await ui.check(t, '11-withdraw-confirm');
  const { dispenser, printer } = ui.kiosk;
  await ui.tap('[data-action="confirm"]');
  s = await ui.screen('another-transaction', (x) => x.notice?.code === 'RECEIPT_PRINTED');
  t.deepEqual(s.view, { kind: 'withdrawal', amountCents: 6_000, dispensedCents: 6_000, short: false });
  t.deepEqual(dispenser.lifetimeDispensed, [3, 0]);
  await ui.check(t, '12-another-transaction');
  await ui.tap('[data-action="another-no"]');
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

test.serial('deposit by inserting notes: a good note, a counterfeit, a cancel with a note in escrow, and a jam; the receipt and the balance show the counted total and what is available now', async (t) => {
  // $50 a day is available at once; the rest of a deposit is held for two days.
  const ui = await startUiRig({ prefix: 'deposit', pinPad: 'on-screen', hostConfig: { depositImmediateCentsPerDay: 5_000, depositHoldMs: 2 * 86_400_000 }, log: (line) => t.log(line) });
  t.teardown(() => ui.close());
  const { acceptor, printer } = ui.kiosk;
  const dora = await ui.kiosk.customer('dora.m', 0);
  const openDeposit = async () => {
    await signInByTouch(ui, 'dora.m', PASSWORD);
    await ui.tap('[data-action="menu-deposit"]');
    await ui.screen('deposit');
    await ui.tap('[data-action="deposit-start"]');
    await ui.screen('deposit', (x) => x.view?.kind === 'deposit-counting');
    t.true(acceptor.masterEnabled, 'the acceptor takes notes during a deposit');
  };
  // Outside a deposit the acceptor is disabled: a note inserted at the menu is given back.
  await signInByTouch(ui, 'dora.m', PASSWORD);
  t.false(acceptor.masterEnabled);
  t.is(acceptor.insertNote(2_000), 'rejected');
  await ui.tap('[data-action="finish"]');
  await ui.screen('goodbye');

  // A good note, a counterfeit (given back with the reason), another good note, Done.
  await openDeposit();
  await ui.kiosk.insertNotes([5_000]);
  t.is(acceptor.insertCounterfeit(), 'rejected');
  await ui.screen('deposit', (x) => x.notice?.code === 'NOTE_REJECTED_INVALID');
  await ui.page.waitForSelector('[data-notice="NOTE_REJECTED_INVALID"]');
  t.is(await ui.page.locator('[data-notice]').innerText(), 'That note could not be accepted. Please take it back.');
  await ui.check(t, 'counterfeit');
  await ui.kiosk.insertNotes([2_000]);
  await ui.page.waitForSelector(`[data-testid="deposit-total"]:text-is("$70.00")`);
  t.deepEqual(await ui.page.locator('[data-testid="note-count"] tbody th').allInnerTexts(), ['1 × $20', '1 × $50']);
  t.is(await ui.page.getByTestId('deposit-remaining').innerText(), 'You can deposit up to $4,930.00 more today.');
  await ui.tap('[data-action="deposit-done"]');
  let s = await ui.screen('receipt');
  t.false(acceptor.masterEnabled, 'disabled again when the deposit ends');
  t.like(s.view, { kind: 'deposit', creditedCents: 7_000, availableNowCents: 5_000, heldCents: 2_000 });
  t.is(await ui.page.getByTestId('result').innerText(), '$70.00 deposited (2 notes).');
  const result = await ui.page.getByTestId('deposit-result').innerText();
  t.regex(result, /Available now: \$50\.00\./);
  t.regex(result, /\$20\.00 on hold until /);
  t.regex(result, /New balance: \$70\.00\./);
  await ui.check(t, 'deposit-receipt-question');
  await ui.tap('[data-action="receipt-yes"]');
  await ui.screen('another-transaction', (x) => x.notice?.code === 'RECEIPT_PRINTED');
  await ui.tap('[data-action="another-no"]');
  await ui.screen('goodbye');
  const receipt = (printer.receipts.at(-1) ?? []).join('\n');
  for (const line of ['DEPOSIT $70.00', '1 x $20.00 = $20.00', '1 x $50.00 = $50.00', 'Available now: $50.00', 'On hold: $20.00 until ']) t.true(receipt.includes(line), `${line} in:\n${receipt}`);

  // Cancel with a note in escrow: the counted $10 cannot be given back and is credited; the $20 held
  // in escrow goes back to the customer.
  await openDeposit();
  await ui.kiosk.insertNotes([1_000]);
  acceptor.holdEvents(); // the $20 stays in escrow, unseen, until Cancel has been pressed
  t.is(acceptor.insertNote(2_000), 'escrow');
  await ui.tap('[data-action="deposit-cancel"]');
  s = await ui.screen('receipt', (x) => x.notice?.code === 'DEPOSIT_CANCELLED_CREDITED');
  acceptor.releaseEvents();
  t.like(s.view, { kind: 'deposit', creditedCents: 1_000, availableNowCents: 0, heldCents: 1_000 });
  await ui.page.waitForSelector('[data-notice="DEPOSIT_CANCELLED_CREDITED"]');
  t.is(await ui.page.locator('[data-notice]').innerText(), 'Deposit cancelled. Notes already counted cannot be given back, so $10.00 was credited.');
  await ui.check(t, 'deposit-cancelled');
  t.true(await eventually(() => acceptor.returnedNotes().some((n) => n.valueCents === 2_000)), 'the note in escrow went back');
  await ui.tap('[data-action="receipt-no"]');
  await ui.screen('another-transaction');
  await ui.tap('[data-action="another-no"]');
  await ui.screen('goodbye');

  // A jam: the kiosk stops taking notes, credits the $100 counted, and says so; no deposit until a
  // technician has cleared the acceptor.
  await openDeposit();
  await ui.kiosk.insertNotes([10_000]);
  acceptor.injectFault('jam');
  s = await ui.screen('receipt', (x) => x.notice?.code === 'NOTE_ACCEPTOR_JAM');
  t.like(s.view, { kind: 'deposit', creditedCents: 10_000 });
  await ui.page.waitForSelector('[data-notice="NOTE_ACCEPTOR_JAM"]');
  t.regex(await ui.page.locator('[data-notice]').innerText(), /A note jammed in the reader\. You were credited \$100\.00/);
  await ui.check(t, 'deposit-jam');
  await ui.tap('[data-action="receipt-no"]');
  await ui.screen('another-transaction');
  await ui.tap('[data-action="another-no"]');
  await ui.screen('goodbye');
  await signInByTouch(ui, 'dora.m', PASSWORD);
  t.is(await ui.page.locator('[data-action="menu-deposit"]').count(), 0, 'no deposit offered while the acceptor is jammed');
  await ui.tap('[data-action="menu-balance"]');
  await ui.screen('balance');
  t.regex(await ui.page.locator('.balance-row .money').first().innerText(), /\$180\.00/);
  t.regex(await ui.page.locator('.balance-row .sub').first().innerText(), /Available: \$50\.00/);
  await ui.tap('[data-action="finish"]');
  await ui.screen('goodbye');
  // The technician clears the path and resets the acceptor: deposits are offered again.
  acceptor.clearFault('jam');
  await ui.kiosk.kiosk.devices.noteAcceptor!.reset();
  await ui.kiosk.waitFor((x) => x.depositAvailable, UI_STEP_TIMEOUT_MS);

  // The credit is exactly the notes in the cashbox: $50 + $20 + $10 + $100.
  const stackedCents = acceptor.stackedNotes().reduce((sum, n) => sum + n.valueCents, 0);
  t.is(stackedCents, 18_000);
  t.is(await balanceOfAccount(ui, 'dora.m', dora.accountId), stackedCents);
  const services = ui.kiosk.host.host.state.services;
  const ledger = await checkLedger(services.db);
  t.true(ledger.ok, JSON.stringify(ledger.problems));
  const audit = await verifyAuditChain(services.db, { enc: services.keys.auditEnc, mac: services.keys.auditMac, sign: services.keys.auditSign });
  t.true(audit.ok, JSON.stringify(audit.problem));
  t.deepEqual(ui.consoleProblems, []);
});

async function balanceOfAccount(ui: UiRig, username: string, accountId: string): Promise<number> {
  const teller = await ui.kiosk.host.connectedClient(`teller-check-${Date.now() % 100_000}`);
  try {
    await teller.request('signin.password', { username, password: PASSWORD });
    return (await teller.request('balance', { accountId })).balanceCents;
  } finally {
    teller.close();
  }
}
