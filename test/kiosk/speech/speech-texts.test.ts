// Every screen speaks, in both languages: the list of screens comes from the session's transition table
// (kiosk/core/session.ts), so a screen added later without speech fails here. Secrets are never spoken.
import test from 'ava';
import { SCREENS } from '../../../kiosk/core/session.js';
import { spokenNoticeCodes } from '../../../kiosk/core/speech/spoken-notices.js';
import { SPOKEN_CHOICES_MAX, SPOKEN_SCREENS, spokenScreen, spokenText } from '../../../kiosk/core/speech/spoken-screens.js';
import { spokenMoney } from '../../../kiosk/core/speech/spoken-words.js';
import type { KioskSnapshot, Language, Screen } from '../../../kiosk/core/ui-contract.js';
import { noticeCodes } from '../../../kiosk/renderer/i18n.js';

const LANGUAGES: Language[] = ['en', 'fr'];
const PAN = '4000123412341234';

/** A realistic snapshot of each screen: two accounts, fast cash, a notice, a history page. */
function snapshotOf(screen: Screen, language: Language, extra: Partial<KioskSnapshot> = {}): KioskSnapshot {
  const accounts = [
    { accountId: 'acct-chq-0001', kind: 'chequing' as const, currency: 'CAD', balanceCents: 46_000, availableCents: 46_000 },
    { accountId: 'acct-sav-0002', kind: 'savings' as const, currency: 'CAD', balanceCents: 123_456, availableCents: 100_000 },
  ];
  const inSession = !['welcome', 'out-of-service', 'identify', 'pin', 'goodbye'].includes(screen);
  const view: KioskSnapshot['view'] =
    screen === 'history'
      ? { kind: 'history', accountId: 'acct-chq-0001', entries: [{ postingId: 'p1', kind: 'withdrawal', amountCents: -6_000, balanceAfterCents: 46_000, timestampMs: Date.UTC(2026, 11, 5, 14) }], nextCursor: 'c2' }
      : screen === 'receipt'
        ? { kind: 'withdrawal', amountCents: 6_000, dispensedCents: 6_000, short: false }
        : undefined;
  return {
    screen,
    language,
    languages: ['en', 'fr'],
    outOfServiceReasons: screen === 'out-of-service' ? ['host-unreachable'] : [],
    pinDigits: screen === 'pin' ? 3 : 0,
    onScreenPinPad: false,
    idleWarning: false,
    ...(inSession ? { customer: { username: 'nadia.k', cardLast4: PAN.slice(-4), accounts, dailyWithdrawalRemainingCents: 100_000 } } : {}),
    fastCashCents: inSession ? [2_000, 4_000, 6_000, 10_000, 20_000] : [],
    receiptAvailable: true,
    withdrawalAvailable: true,
    depositAvailable: true,
    ...(view ? { view } : {}),
    ...extra,
  };
}

test('every screen of the session has speech with its choices, in English and in French', (t) => {
  t.true(SCREENS.length >= 13, `the session knows ${SCREENS.length} screens`);
  t.deepEqual([...SPOKEN_SCREENS].sort(), [...SCREENS].sort(), 'the speech table names exactly the session screens');
  for (const screen of SCREENS) {
    const texts: Record<string, string> = {};
    for (const language of LANGUAGES) {
      const spoken = spokenScreen({ snap: snapshotOf(screen, language), local: {} });
      const text = spokenText(spoken, language);
      t.true(spoken.lines.length > 0 && text.length >= 10, `${screen} (${language}) says something: "${text}"`);
      t.true(spoken.choices.length <= SPOKEN_CHOICES_MAX, `${screen} (${language}) offers at most ${SPOKEN_CHOICES_MAX} choices`);
      for (const [i, choice] of spoken.choices.entries()) t.true(text.includes(String(i + 1)) && choice.label.length > 0, `${screen} (${language}) names choice ${i + 1}`);
      t.false(/\$|undefined|NaN|\[object/.test(text), `${screen} (${language}) has no symbol espeak-ng misreads or template slip: "${text}"`);
      t.false(text.includes(PAN), `${screen} (${language}) never says the card number`);
      texts[language] = text;
    }
    t.not(texts.en, texts.fr, `${screen}: the French is not the English`);
  }
});

test('the screens that act offer their actions as numbered choices', (t) => {
  const choices = (screen: Screen, extra: Partial<KioskSnapshot> = {}) => spokenScreen({ snap: snapshotOf(screen, 'en', extra), local: {} }).choices.map((c) => c.action.kind);
  t.deepEqual(choices('welcome'), ['language', 'language']);
  t.deepEqual(choices('identify'), ['card']);
  // Withdraw, deposit, balance, history, transfer, and a new PIN (a card session), then finish.
  t.deepEqual(choices('menu'), ['menu', 'menu', 'menu', 'menu', 'menu', 'menu', 'finish']);
  t.deepEqual(choices('withdraw'), ['withdraw', 'withdraw', 'withdraw', 'withdraw', 'withdraw', 'local', 'local', 'menu']);
  t.deepEqual(choices('receipt'), ['receipt', 'receipt']);
  t.deepEqual(choices('history'), ['history-next', 'menu']);
  const typing = spokenScreen({ snap: snapshotOf('withdraw', 'en'), local: { entering: true } });
  t.truthy(typing.entry);
  t.deepEqual(typing.entry!.action(12_000), { kind: 'withdraw', amountCents: 12_000, accountId: 'acct-chq-0001' });
  t.is(typing.entry!.confirm(12_000), 'Withdraw 120 dollars from Chequing? Press Enter to confirm, or Cancel.');
});

test('the PIN screen says how many digits were entered, never which', (t) => {
  for (const language of LANGUAGES) {
    const text = spokenText(spokenScreen({ snap: snapshotOf('pin', language), local: {} }), language);
    t.regex(text, language === 'en' ? /3 digits entered/ : /3 chiffres entrés/);
  }
});

test('amounts are said in words espeak-ng reads as money', (t) => {
  t.is(spokenMoney(123_450, 'en'), '1234 dollars and 50 cents');
  t.is(spokenMoney(100, 'en'), '1 dollar');
  t.is(spokenMoney(-6_000, 'en'), 'minus 60 dollars');
  t.is(spokenMoney(2_001, 'fr'), '20 dollars et 1 cent');
});

test('every notice the screen shows has a spoken sentence in both languages', (t) => {
  for (const language of LANGUAGES) {
    const missing = noticeCodes(language).filter((code) => !spokenNoticeCodes(language).includes(code));
    t.deepEqual(missing, [], `${language}: notices shown but not spoken`);
  }
  const notice = spokenText(spokenScreen({ snap: snapshotOf('withdraw', 'en', { notice: { code: 'NOT_PAYABLE', notesCents: [5_000, 2_000] } }), local: {} }), 'en');
  t.true(notice.startsWith('This machine pays in 20 and 50 dollar notes.'), notice);
});
