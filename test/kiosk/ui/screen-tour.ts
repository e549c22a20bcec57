// A walk through every screen of the kiosk UI, by touch where a customer would touch, calling `visit` on
// each: the UI tests measure every screen with it at each screen size and in each language, and
// `npm run screenshots` takes the docs' pictures with it. The data is the long kind a real bank has: a
// 32-character username, one, two and three accounts, six-digit balances and amounts ($729,993.00,
// $98,765.43), a deposit of every note the acceptor takes, more than a page of history and of activity.
// Card and PIN come from the HID card reader's real report bytes and the on-screen PIN pad.
import { openAccount } from '../../../bank-host/customers/admin.js';
import { addTechnician } from '../../../bank-host/customers/technicians.js';
import { SETTING_CENTS_MAX } from '../../../bank-host/config.js';
import { TRANSFER_MAX_CENTS } from '../../../bank-host/ledger/amounts.js';
import type { SessionClock } from '../../../kiosk/core/session.js';
import type { Language } from '../../../kiosk/preload/api.js';
import { clientDeposit } from '../../helpers/host.js';
import { PASSWORD } from '../core/kiosk-rig.js';
import { startUiRig, type UiRig } from './browser-rig.js';

/** Slow enough notes that the "counting your cash" screen stays up while it is measured ($80: four
 *  notes), on a loaded machine too. */
export const TOUR_NOTE_INTERVAL_MS = 2_000;
/** The longest username the host accepts: 32 characters. */
export const LONG_USERNAME = 'jean-baptiste.delacroix-beaulieu';
const SECOND_USERNAME = 'marie-claude.tremblay-desrosiers';
const TYPED_PASSWORD = 'maple-syrup-2026';
const TIMEOUTS = { idleMs: 60_000, idleWarningMs: 15_000, goodbyeMs: 5_000 } as const;

/** The session's timers, held until the tour fires them: the idle warning shows when the tour asks for
 *  it (not after 45 s), and the goodbye screen stays until it has been measured. */
export class HeldTimers implements SessionClock {
  private readonly pending = new Map<object, { callback: () => void; delayMs: number }>();
  setTimeout(callback: () => void, delayMs: number): unknown {
    const handle = {};
    this.pending.set(handle, { callback, delayMs });
    return handle;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as object);
  }
  /** Runs the timers set for `delayMs`, as if that long had passed; how many there were. */
  fire(delayMs: number): number {
    const due = [...this.pending].filter(([, timer]) => timer.delayMs === delayMs);
    for (const [handle, timer] of due) {
      this.pending.delete(handle);
      timer.callback();
    }
    return due.length;
  }
}

export interface TourRig {
  readonly ui: UiRig;
  readonly timers: HeldTimers;
  close(): Promise<void>;
}

/** A kiosk as the demo configures it (PIN typed on the screen), with the session's timers held. */
export async function startTourRig(options: { viewport: { width: number; height: number }; prefix: string; log?: (line: string) => void }): Promise<TourRig> {
  const timers = new HeldTimers();
  const ui = await startUiRig({
    prefix: options.prefix,
    viewport: options.viewport,
    pinPad: 'on-screen',
    dispenserNoteIntervalMs: TOUR_NOTE_INTERVAL_MS,
    // The customer takes the cash when the tour has measured the "take your cash" screen.
    dispenserTakeNotesAfterMs: null,
    config: { timeouts: TIMEOUTS },
    kioskOptions: { clock: timers },
    // Six-digit balances are deposited as notes: the daily deposit cap out of the way.
    hostConfig: { depositDailyCapCents: SETTING_CENTS_MAX },
    ...(options.log ? { log: options.log } : {}),
  });
  return { ui, timers, close: () => ui.close() };
}

/** The screens `tourEveryScreen` visits, in order. */
export const TOUR_SCREENS = [
  'welcome', 'identify', 'sign-in', 'register', 'swipe-card', 'pin', 'menu', 'balance-1-account', 'withdraw', 'withdraw-other-amount', 'withdraw-confirm', 'working', 'take-cash', 'another-transaction', 'pin-change', 'goodbye',
  'balance-2-accounts', 'balance-3-accounts', 'deposit', 'deposit-notes', 'deposit-done', 'transfer', 'transfer-confirm', 'transfer-done',
  'withdraw-refused', 'history', 'history-filters', 'activity', 'idle-warning', 'pin-last-try', 'card-blocked', 'supervisor', 'supervisor-count', 'supervisor-counted', 'out-of-service',
] as const;
export type TourScreen = (typeof TOUR_SCREENS)[number];

export async function tourEveryScreen({ ui, timers }: TourRig, language: Language, visit: (name: TourScreen) => Promise<void>): Promise<void> {
  const rig = ui.kiosk;
  const services = rig.host.host.state.services;
  // The first customer: a card on chequing (so a card session sees one account), two savings accounts,
  // six-digit balances and more postings than a page holds; the second: two accounts.
  const card = await rig.customer(LONG_USERNAME, 0);
  const savings = (await openAccount(services, LONG_USERNAME, 'savings')).accountId;
  const smallSavings = (await openAccount(services, LONG_USERNAME, 'savings')).accountId;
  const second = await rig.customer(SECOND_USERNAME, 0);
  const secondSavings = (await openAccount(services, SECOND_USERNAME, 'savings')).accountId;
  const teller = await rig.host.connectedClient('teller-tour');
  // A deposit holds at most 500 notes, so six-digit balances take many; each a little different, as a
  // page of real history is.
  const fund = async (accountId: string, cents: number) => {
    for (let n = 0; cents > 0; n++) {
      const amountCents = Math.min(cents, 4_000_000 - (n % 7) * 12_300);
      await clientDeposit(teller, accountId, amountCents);
      cents -= amountCents;
    }
  };
  await teller.request('signin.password', { username: LONG_USERNAME, password: PASSWORD });
  await fund(card.accountId, 92_999_300);
  await teller.request('transfer', { fromAccountId: card.accountId, toAccountId: savings, amountCents: TRANSFER_MAX_CENTS });
  await teller.request('transfer', { fromAccountId: card.accountId, toAccountId: savings, amountCents: 8_765_432 });
  await teller.request('transfer', { fromAccountId: card.accountId, toAccountId: smallSavings, amountCents: 1_234 });
  await teller.request('signout', {});
  await teller.request('signin.password', { username: SECOND_USERNAME, password: PASSWORD });
  await fund(second.accountId, 45_678_900);
  await teller.request('transfer', { fromAccountId: second.accountId, toAccountId: secondSavings, amountCents: 9_999_999 });
  await teller.request('signout', {});
  teller.close();
  const done = async (screen: 'goodbye') => {
    await ui.screen(screen);
    timers.fire(TIMEOUTS.goodbyeMs);
    await ui.screen('welcome');
  };
  const signIn = async (username: string) => {
    await ui.screen('welcome');
    await ui.tap(`[data-action="language-${language}"]`);
    await ui.screen('identify');
    await rig.kiosk.beginPasswordSignIn(username, PASSWORD);
    await ui.screen('menu');
  };
  const toMenu = async () => {
    await ui.tap('[data-action="back-to-menu"]');
    await ui.screen('menu');
  };

  await ui.screen('welcome');
  await visit('welcome');
  await ui.tap(`[data-action="language-${language}"]`);
  await ui.screen('identify');
  await visit('identify');
  await ui.tap('[data-action="use-username"]');
  await ui.page.waitForSelector('form.credentials');
  await ui.page.fill('input[name="username"]', LONG_USERNAME);
  await ui.page.fill('input[name="password"]', TYPED_PASSWORD);
  await visit('sign-in');
  await ui.tap('[data-action="back"]');
  await ui.tap('[data-action="register"]');
  await ui.page.waitForSelector('form.credentials');
  await ui.page.fill('input[name="username"]', LONG_USERNAME);
  await ui.page.fill('input[name="password"]', TYPED_PASSWORD);
  await visit('register');
  await ui.tap('[data-action="back"]');
  await ui.tap('[data-action="use-card"]');
  await ui.screen('identify', (s) => s.identifyMethod === 'card');
  await visit('swipe-card');

  // Card session: one account.
  rig.swipe(card);
  await ui.screen('pin', (s) => s.onScreenPinPad);
  const typePin = async (digits: string) => {
    for (const digit of digits) await ui.tap(`[data-pin-key="${digit}"]`);
  };
  await typePin(card.pin === '0000' ? '1111' : '0000');
  await ui.tap('[data-pin-key="enter"]');
  await ui.screen('pin', (s) => s.notice?.code === 'WRONG_PIN' && s.pinDigits === 0);
  await typePin(card.pin.slice(0, 2));
  await ui.screen('pin', (s) => s.pinDigits === 2);
  await visit('pin');
  await typePin(card.pin.slice(2));
  await ui.tap('[data-pin-key="enter"]');
  await ui.screen('menu');
  await visit('menu');
  await ui.tap('[data-action="menu-balance"]');
  await ui.screen('balance');
  await visit('balance-1-account');
  await toMenu();
  await ui.tap('[data-action="menu-withdraw"]');
  await ui.screen('withdraw');
  await visit('withdraw');
  await ui.tap('[data-action="other-amount"]');
  await ui.typeOnKeypad('80');
  await visit('withdraw-other-amount');
  await ui.tap('[data-action="amount-next"]');
  // The receipt is chosen before the cash moves (offered while the printer can print).
  await ui.page.waitForSelector('[data-testid="confirm-text"]');
  await ui.screen('withdraw', (s) => s.receiptAvailable);
  await ui.tap('[data-action="receipt-toggle"]');
  await ui.page.waitForSelector('[data-action="receipt-toggle"][aria-pressed="true"]');
  await visit('withdraw-confirm');
  await ui.tap('[data-action="confirm"]');
  await ui.page.waitForSelector('[data-screen="working"]');
  await visit('working');
  if ((await ui.page.locator('[data-screen="working"]').count()) !== 1) throw new Error(`the working screen ended while it was measured: raise TOUR_NOTE_INTERVAL_MS (${TOUR_NOTE_INTERVAL_MS} ms)`);
  await ui.screen('take-cash');
  await visit('take-cash');
  if (!rig.dispenser.takeNotes()) throw new Error('no notes waited in the presenter');
  await ui.screen('another-transaction', (s) => s.notice?.code === 'RECEIPT_PRINTED');
  await visit('another-transaction');
  // Another transaction in the same session: a PIN change, its first step measured, then Cancel.
  await ui.tap('[data-action="another-yes"]');
  await ui.screen('menu');
  await ui.tap('[data-action="menu-pin-change"]');
  await ui.screen('pin-change', (s) => s.pinChangeStep === 'old');
  await typePin(card.pin.slice(0, 2));
  await ui.screen('pin-change', (s) => s.pinDigits === 2);
  await visit('pin-change');
  await ui.tap('[data-action="cancel"]');
  await ui.screen('goodbye');
  await visit('goodbye');
  await done('goodbye');

  // Two accounts.
  await signIn(second.username);
  await ui.tap('[data-action="menu-balance"]');
  await ui.screen('balance');
  await visit('balance-2-accounts');
  await ui.tap('[data-action="cancel"]');
  await done('goodbye');

  // Three accounts: balance, then a deposit of every note the acceptor takes, and a note it refuses.
  await signIn(LONG_USERNAME);
  await ui.tap('[data-action="menu-balance"]');
  await ui.screen('balance');
  await visit('balance-3-accounts');
  await toMenu();
  await ui.tap('[data-action="menu-deposit"]');
  await ui.screen('deposit');
  await visit('deposit');
  await ui.tap('[data-action="deposit-start"]');
  await ui.screen('deposit', (s) => s.view?.kind === 'deposit-counting');
  await rig.insertNotes([10_000, 10_000, 5_000, 2_000, 2_000, 2_000, 1_000, 500]);
  rig.acceptor.insertCounterfeit();
  await ui.screen('deposit', (s) => s.notice?.code === 'NOTE_REJECTED_INVALID');
  await ui.page.waitForSelector('[data-notice="NOTE_REJECTED_INVALID"]');
  await visit('deposit-notes');
  await ui.tap('[data-action="deposit-done"]');
  await ui.screen('receipt');
  await visit('deposit-done');
  await ui.tap('[data-action="receipt-no"]');
  await ui.screen('another-transaction');
  await ui.tap('[data-action="another-no"]');
  await done('goodbye');

  await signIn(LONG_USERNAME);
  await ui.tap('[data-action="menu-transfer"]');
  await ui.screen('transfer');
  await ui.tap('[data-pick="to-savings"]');
  await ui.typeOnKeypad('9876543');
  await visit('transfer');
  await ui.tap('[data-action="amount-next"]');
  await visit('transfer-confirm');
  await ui.tap('[data-action="confirm"]');
  await ui.screen('receipt');
  await visit('transfer-done');
  await ui.tap('[data-action="receipt-no"]');
  await ui.screen('another-transaction');
  await ui.tap('[data-action="another-no"]');
  await done('goodbye');

  // An amount the small savings account cannot pay: answered on the amount screen with what is available,
  // before anything is sent.
  await signIn(LONG_USERNAME);
  await ui.tap('[data-action="menu-withdraw"]');
  await ui.screen('withdraw');
  await ui.tap('[data-pick="account-savings-2"]');
  await ui.tap('[data-action="other-amount"]');
  await ui.typeOnKeypad('900');
  await ui.tap('[data-action="amount-next"]');
  await ui.page.waitForSelector('[data-notice="INSUFFICIENT_FUNDS"]');
  await visit('withdraw-refused');
  await ui.tap('[data-action="back"]');
  if ((await ui.page.locator('[data-pick="account-savings-2"]').getAttribute('aria-pressed')) !== 'true') throw new Error('the refusal came back on another account than the one it was for');
  await toMenu();
  await ui.tap('[data-action="menu-history"]');
  await ui.screen('history', (s) => s.view?.kind === 'history' && s.view.entries.length > 0 && s.view.nextCursor !== undefined);
  await visit('history');
  await ui.tap('[data-action="filters"]');
  await ui.page.waitForSelector('.filters');
  await visit('history-filters');
  await ui.tap('[data-action="cancel-filters"]');
  await ui.tap('[data-mode="activity"]');
  await ui.screen('history', (s) => s.view?.kind === 'activity' && s.view.nextCursor !== undefined);
  await visit('activity');
  if (timers.fire(TIMEOUTS.idleMs - TIMEOUTS.idleWarningMs) !== 1) throw new Error('no inactivity warning was due');
  await ui.screen('history', (s) => s.idleWarning);
  await ui.page.waitForSelector('[data-testid="idle-warning"]');
  await visit('idle-warning');
  await ui.page.locator('[data-testid="idle-warning"] button.primary').tap();
  await ui.screen('history', (s) => !s.idleWarning);
  await ui.tap('[data-action="cancel"]');
  await done('goodbye');

  // The second customer's card, three wrong PINs: a warning before the last try, then the card blocked.
  await ui.tap(`[data-action="language-${language}"]`);
  await ui.screen('identify');
  rig.swipe(second);
  await ui.screen('pin', (s) => s.onScreenPinPad);
  const wrong = second.pin === '0000' ? '1111' : '0000';
  for (let attempt = 1; attempt <= 2; attempt++) {
    await typePin(wrong);
    await ui.tap('[data-pin-key="enter"]');
    await ui.screen('pin', (s) => s.notice?.code === (attempt === 2 ? 'WRONG_PIN_LAST_TRY' : 'WRONG_PIN') && s.pinDigits === 0);
  }
  await ui.page.waitForSelector('[data-notice="WRONG_PIN_LAST_TRY"]');
  await visit('pin-last-try');
  await typePin(wrong);
  await ui.tap('[data-pin-key="enter"]');
  await ui.screen('goodbye', (s) => s.notice?.code === 'CARD_BLOCKED');
  await ui.page.waitForSelector('[data-variant="card-blocked"]');
  await visit('card-blocked');
  await done('goodbye');

  // A technician's card: supervisor mode, a cashbox count against the ledger, the difference shown.
  const technician = await addTechnician(services, 'tech.jean-baptiste.delacroix');
  await ui.screen('welcome');
  await ui.tap(`[data-action="language-${language}"]`);
  await ui.screen('identify');
  await ui.tap('[data-action="use-card"]');
  await ui.screen('identify', (s) => s.identifyMethod === 'card');
  rig.swipe(technician);
  await ui.screen('pin', (s) => s.onScreenPinPad);
  await typePin(technician.pin);
  await ui.tap('[data-pin-key="enter"]');
  await ui.screen('supervisor');
  await visit('supervisor');
  await ui.tap('[data-action="unload-cashbox"]');
  await ui.screen('supervisor-count');
  await ui.tap('[data-note="10000"]');
  await ui.typeOnKeypad('12');
  await ui.tap('[data-note="2000"]');
  await ui.typeOnKeypad('3');
  await visit('supervisor-count');
  await ui.tap('[data-action="count-submit"]');
  await ui.screen('supervisor', (s) => s.notice?.code === 'COUNT_DIFFERENCE');
  await ui.page.waitForSelector('[data-notice="COUNT_DIFFERENCE"]');
  await visit('supervisor-counted');
  await ui.tap('[data-action="cancel"]');
  await done('goodbye');

  await rig.host.stop();
  await ui.screen('out-of-service');
  await visit('out-of-service');
}
