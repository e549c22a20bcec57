// Speech mode's navigation on a real kiosk (bank host on loopback, the HID PIN pad simulator through the
// real driver): what each key does, what is said back, and the speech state the UI's snapshots carry.
// The voice here records what would be said (the audio itself is measured in speech-audio.test.ts).
import test from 'ava';
import { issueCard, openAccount } from '../../../bank-host/customers/admin.js';
import { silentLogger } from '../../../protocol/log.js';
import { createUiHandlers } from '../../../kiosk/bridge/handlers.js';
import type { SpeechVoice, Utterance } from '../../../kiosk/core/speech/espeak-voice.js';
import { SimulatedHeadsetJack } from '../../../kiosk/core/speech/headset-jack.js';
import { SpeechGuide, type SpeechGuideOptions } from '../../../kiosk/core/speech/speech-guide.js';
import { spokenWords } from '../../../kiosk/core/speech/spoken-words.js';
import { demoKeyboard } from '../../../kiosk/core/speech/demo-keyboard.js';
import { COMMAND } from '../../../kiosk/devices/dispenser/messages.js';
import { PinEntry } from '../../../kiosk/devices/pin-pad/pin-entry.js';
import { pressPinPadKey, type PinPadKeyLabel } from '../../../kiosk/devices/pin-pad/key-names.js';
import { createSpeech } from '../../../kiosk/core/speech/speech-setup.js';
import type { KioskSnapshot, Language } from '../../../kiosk/core/ui-contract.js';
import { parseKioskConfig } from '../../../kiosk/core/config.js';
import { startKioskRig, type KioskRig, type KioskRigOptions } from '../core/kiosk-rig.js';
import { eventually } from '../../helpers/host.js';

/** Records each utterance; `stopped` counts the ones cut short by the next. */
class RecordingVoice implements SpeechVoice {
  readonly said: { text: string; language: Language; volume: number | undefined; stopped: boolean }[] = [];
  speak(text: string, language: Language, volume?: number): Utterance {
    const entry = { text, language, volume, stopped: false };
    this.said.push(entry);
    return { text, language, ended: Promise.resolve({ kind: 'finished' }), stop: () => void (entry.stopped = true) };
  }
  get last(): string {
    return this.said.at(-1)?.text ?? '';
  }
}

async function speakingKiosk(
  t: { teardown(fn: () => unknown): void },
  options?: KioskRigOptions,
  guideOptions?: Pick<SpeechGuideOptions, 'takeCashReminderEveryMs'>,
): Promise<{ rig: KioskRig; guide: SpeechGuide; jack: SimulatedHeadsetJack; voice: RecordingVoice }> {
  const rig = await startKioskRig(options);
  t.teardown(() => rig.close());
  await rig.waitFor((s) => s.screen === 'welcome');
  const jack = new SimulatedHeadsetJack();
  const voice = new RecordingVoice();
  const guide = new SpeechGuide({ controller: rig.kiosk, jack, voice, log: silentLogger, ...guideOptions });
  guide.start();
  t.teardown(() => guide.stop());
  return { rig, guide, jack, voice };
}

/** Swipes, types the PIN and waits for the menu, all with the headset in. */
async function signInByKeys(rig: KioskRig, voice: RecordingVoice, card: { pan: string; pin: string; expiresYm: string }): Promise<void> {
  rig.swipe(card);
  await rig.waitFor((s) => s.screen === 'pin');
  rig.typePin(card.pin, 'enter');
  await rig.waitFor((s) => s.screen === 'menu');
  if (!(await eventually(() => voice.last.includes('What would you like to do?'), 10_000))) throw new Error(`the menu was not spoken; last said: ${voice.last}`);
}

test('another amount typed on the digits, corrected, confirmed twice: the withdrawal is made', async (t) => {
  const { rig, jack, voice } = await speakingKiosk(t);
  const card = await rig.customer('carla', 50_000);
  jack.plug();
  await signInByKeys(rig, voice, card);
  rig.pinPad.press('1', 'enter');
  await rig.waitFor((s) => s.screen === 'withdraw');
  t.true(await eventually(() => voice.last.includes('For another amount, press 6.'), 10_000));
  rig.pinPad.press('6', 'enter');
  t.regex(voice.last, /^Type the amount in whole dollars/);
  rig.pinPad.press('1', '2', '5');
  t.is(voice.last, '125 dollars.');
  rig.pinPad.press('backspace');
  t.is(voice.last, '12 dollars.', 'Correct removes the last digit');
  rig.pinPad.press('0');
  t.is(voice.last, '120 dollars.', '0 is a digit while an amount is typed');
  rig.pinPad.press('enter');
  t.is(voice.last, 'Withdraw 120 dollars from Chequing? Press Enter to confirm, or Cancel.');
  t.is(rig.kiosk.snapshot().screen, 'withdraw', 'no money moves before the second Enter');
  rig.pinPad.press('enter');
  // The cash is taken at once (the simulated customer), then: another transaction?
  const after = await rig.waitFor((s) => s.screen === 'another-transaction');
  t.deepEqual(after.view, { kind: 'withdrawal', amountCents: 12_000, dispensedCents: 12_000, short: false });
  t.true(await eventually(() => voice.last.includes('Would you like another transaction?'), 10_000));
});

test('with the headset in, presented notes wait speech mode\'s longer time before they are taken back; unplugged, the screen\'s', async (t) => {
  const SCREEN_TAKE_MS = 1_500;
  const { rig, jack, voice } = await speakingKiosk(t, {
    dispenserTakeNotesAfterMs: null,
    kioskOptions: { withdrawalDeadlines: { cashTakeTimeoutMs: SCREEN_TAKE_MS } },
    config: { speech: { jack: { kind: 'simulated' }, cashTakeMs: 8_000 } },
  });
  const card = await rig.customer('hana', 50_000);
  jack.plug();
  await signInByKeys(rig, voice, card);
  rig.pinPad.press('1', 'enter');
  await rig.waitFor((s) => s.screen === 'withdraw');
  t.true(await eventually(() => voice.last.includes('For 60 dollars, press 3.'), 10_000), voice.last);
  rig.pinPad.press('3', 'enter');
  const presented = await rig.waitFor((s) => s.screen === 'take-cash');
  t.like(presented.view, { kind: 'take-cash', dispensedCents: 6_000 });
  t.true(presented.view?.kind === 'take-cash' && presented.view.secondsToTake > 2, 'the countdown is speech mode\'s, not the screen\'s 2 s');
  t.true(await eventually(() => voice.last.includes('Please take your cash.'), 10_000), voice.last);
  // Well past the screen's time: the notes are still there for the listener.
  await new Promise((resolve) => setTimeout(resolve, 2 * SCREEN_TAKE_MS));
  t.is(rig.dispenser.receivedCount(COMMAND.RETRACT), 0, 'not taken back at the screen\'s time');
  t.is(rig.dispenser.presentedNotes, 3);
  t.true(rig.dispenser.takeNotes(), 'the listener finds the notes and takes them');
  const after = await rig.waitFor((s) => s.screen === 'another-transaction');
  t.deepEqual(after.view, { kind: 'withdrawal', amountCents: 6_000, dispensedCents: 6_000, short: false });

  // The headset out: the next notes get the screen's time, and are taken back after it.
  jack.unplug();
  await rig.kiosk.anotherTransaction(true);
  await rig.kiosk.selectMenu('withdraw');
  const screenPresented = rig.waitFor((s) => s.screen === 'take-cash');
  const withdrawal = rig.kiosk.withdraw(4_000);
  t.like((await screenPresented).view, { kind: 'take-cash', dispensedCents: 4_000, secondsToTake: 2 });
  await withdrawal;
  t.deepEqual(rig.lastGoodbye()?.notice, { code: 'CASH_RETRACTED', amountCents: 4_000 });
  t.is(rig.dispenser.receivedCount(COMMAND.RETRACT), 1);
});

/** Short times for the take-cash tests: the notes wait 7 s in speech mode, reminders at 6 and 3 s left. */
const TEST_CASH_TAKE_MS = 7_000;
const TEST_REMINDER_EVERY_MS = 3_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** A kiosk whose simulated customer never takes the notes by itself, with the short take-cash times. */
function notTakingKiosk(t: { teardown(fn: () => unknown): void }) {
  return speakingKiosk(t, { dispenserTakeNotesAfterMs: null, config: { speech: { jack: { kind: 'simulated' }, cashTakeMs: TEST_CASH_TAKE_MS } } }, { takeCashReminderEveryMs: TEST_REMINDER_EVERY_MS });
}

/** From the spoken menu (English): 1 for cash, 3 for 60 dollars, confirmed; resolves once the notes wait. */
async function withdraw60ByKeys(rig: KioskRig, voice: RecordingVoice): Promise<void> {
  rig.pinPad.press('1', 'enter');
  await rig.waitFor((s) => s.screen === 'withdraw');
  if (!(await eventually(() => voice.last.includes('For 60 dollars, press 3.'), 10_000))) throw new Error(`the withdraw screen was not spoken; last said: ${voice.last}`);
  rig.pinPad.press('3', 'enter');
  await rig.waitFor((s) => s.screen === 'take-cash');
}

/** A not-taking kiosk where `customer`, headset in, signed in and withdrew 60 dollars by keys: the notes wait. */
async function notesWaitingFor(t: { teardown(fn: () => unknown): void }, customer: string) {
  const kiosk = await notTakingKiosk(t);
  const { rig, jack, voice } = kiosk;
  const card = await rig.customer(customer, 50_000);
  jack.plug();
  await signInByKeys(rig, voice, card);
  await withdraw60ByKeys(rig, voice);
  return kiosk;
}

const TAKE_CASH_EN = 'Please take your cash. 60 dollars has been dispensed. It is in the slot below the screen. You have 7 seconds; after that it goes back into the machine, and you are not charged for it.';
const REMINDER_6_EN = 'Please take your cash: 6 seconds left.';
const REMINDER_3_EN = 'Please take your cash: 3 seconds left.';

test('with the headset in and the notes not taken: take-cash says where the cash is and its seconds, reminds at each 3 s left below them in order, and 0 says the seconds left now', async (t) => {
  const { rig, voice } = await notesWaitingFor(t, 'ines');
  t.true(await eventually(() => voice.said.some((u) => u.text.startsWith('Please take your cash.')), 10_000), voice.last);
  const first = voice.said.findIndex((u) => u.text.startsWith('Please take your cash.'));
  t.is(voice.said[first]!.text, TAKE_CASH_EN, 'the first thing said on take-cash: the amount, where, and the seconds');

  t.true(await eventually(() => voice.said.some((u) => u.text === REMINDER_6_EN), 10_000), voice.last);
  const afterReminder = voice.said.length;
  rig.pinPad.press('0');
  t.true(await eventually(() => voice.said.slice(afterReminder).some((u) => u.text.startsWith('Please take your cash. 60 dollars')), 10_000), voice.last);
  const repeated = voice.said.slice(afterReminder).find((u) => u.text.startsWith('Please take your cash. 60 dollars'))!.text;
  const secondsLeft = Number(/You have (\d+) seconds?;/.exec(repeated)?.[1]);
  t.true(secondsLeft >= 1 && secondsLeft <= 6, `0 says the seconds left now, not the 7 given: "${repeated}"`);

  // Not taken: the notes go back at the deadline, after both reminders.
  t.true(await eventually(() => rig.lastGoodbye()?.notice?.code === 'CASH_RETRACTED', 15_000), 'the notes were taken back');
  const texts = voice.said.map((u) => u.text);
  t.deepEqual(texts.filter((text) => text.startsWith('Please take your cash:')), [REMINDER_6_EN, REMINDER_3_EN], 'each reminder once, the 6 s one first');
  const goodbye = texts.findIndex((text) => text.startsWith('You did not take your cash in time'));
  t.true(first < texts.indexOf(REMINDER_6_EN) && texts.indexOf(REMINDER_3_EN) < goodbye, texts.join(' | '));
});

test('the cash taken after the first reminder: no reminder is said after it, even past the next one\'s time', async (t) => {
  const { rig, voice } = await notesWaitingFor(t, 'jules');
  const presentedAtMs = Date.now();
  t.true(await eventually(() => voice.said.some((u) => u.text === REMINDER_6_EN), 10_000), voice.last);
  t.true(rig.dispenser.takeNotes(), 'the listener takes the notes');
  await rig.waitFor((s) => s.screen === 'another-transaction');
  const saidWhenTaken = voice.said.length;
  // Past the 3 s reminder's time and the notes' deadline.
  await sleep(presentedAtMs + TEST_CASH_TAKE_MS + 1_000 - Date.now());
  t.deepEqual(voice.said.slice(saidWhenTaken).filter((u) => u.text.startsWith('Please take your cash')).map((u) => u.text), [], 'no reminder after the cash was taken');
  t.is(rig.dispenser.receivedCount(COMMAND.RETRACT), 0);
});

test('in French, take-cash and its reminder are said in French; the headset unplugged, nothing more is said, past the deadline', async (t) => {
  const { rig, jack, voice } = await notTakingKiosk(t);
  const card = await rig.customer('karim', 50_000);
  jack.plug();
  rig.pinPad.press('2');
  t.is(voice.last, 'French. Press Enter to confirm.');
  rig.pinPad.press('enter');
  await rig.waitFor((s) => s.screen === 'identify' && s.language === 'fr');
  rig.swipe(card);
  await rig.waitFor((s) => s.screen === 'pin');
  rig.typePin(card.pin, 'enter');
  await rig.waitFor((s) => s.screen === 'menu');
  t.true(await eventually(() => voice.last.includes('Que voulez-vous faire?'), 10_000), voice.last);
  rig.pinPad.press('1', 'enter');
  await rig.waitFor((s) => s.screen === 'withdraw');
  t.true(await eventually(() => voice.last.includes('Pour 60 dollars, appuyez sur 3.'), 10_000), voice.last);
  rig.pinPad.press('3', 'enter');
  await rig.waitFor((s) => s.screen === 'take-cash');
  t.true(await eventually(() => voice.said.some((u) => u.text.startsWith('Veuillez prendre vos billets.')), 10_000), voice.last);
  t.is(
    voice.said.find((u) => u.text.startsWith('Veuillez prendre vos billets.'))!.text,
    "Veuillez prendre vos billets. 60 dollars ont été distribués. Ils sont dans la fente sous l'écran. Vous avez 7 secondes pour les prendre : après ce délai, ils retournent dans le guichet et ne vous sont pas facturés.",
  );
  t.true(await eventually(() => voice.last === 'Veuillez prendre vos billets : il reste 6 secondes.', 10_000), voice.last);
  jack.unplug();
  const saidWhenUnplugged = voice.said.length;
  // The notes go back at their deadline (chosen as they were presented), past the 3 s reminder's time.
  t.true(await eventually(() => rig.lastGoodbye()?.notice?.code === 'CASH_RETRACTED', 15_000), 'the notes were taken back');
  t.deepEqual(voice.said.slice(saidWhenUnplugged).map((u) => u.text), [], 'nothing said once the headset is out');
});

test('the take-cash seconds are said in the singular and the plural, in both languages', (t) => {
  const en = spokenWords('en');
  const fr = spokenWords('fr');
  t.is(en.takeCashReminder(en.seconds(1)), 'Please take your cash: 1 second left.');
  t.is(en.takeCashReminder(en.seconds(15)), 'Please take your cash: 15 seconds left.');
  t.is(fr.takeCashReminder(fr.seconds(1)), 'Veuillez prendre vos billets : il reste 1 seconde.');
  t.is(fr.takeCashReminder(fr.seconds(15)), 'Veuillez prendre vos billets : il reste 15 secondes.');
});

test('0 repeats, a missing choice is said so, Clear forgets the choice, Cancel goes back to the menu and then ends the visit', async (t) => {
  const { rig, jack, voice } = await speakingKiosk(t);
  const card = await rig.customer('dmitri', 50_000);
  jack.plug();
  await signInByKeys(rig, voice, card);
  const menu = voice.last;
  rig.pinPad.press('0');
  t.is(voice.last, menu, '0 says the screen again');
  t.true(voice.said.at(-2)!.stopped || voice.said.at(-2)!.text === menu);
  rig.pinPad.press('8');
  t.regex(voice.last, /^There is no choice 8\. For cash, press 1\./);
  rig.pinPad.press('3');
  t.is(voice.last, 'your balance. Press Enter to confirm.');
  rig.pinPad.press('clear');
  t.is(voice.last, 'Choice cleared.');
  rig.pinPad.press('enter');
  t.is(voice.last, 'Press the number of a choice first.');
  t.is(rig.kiosk.snapshot().screen, 'menu');
  rig.pinPad.press('3', 'enter');
  await rig.waitFor((s) => s.screen === 'balance');
  t.true(await eventually(() => voice.last.startsWith('Your balance. Chequing: 500 dollars, of which 500 dollars is available.'), 10_000));
  rig.pinPad.press('cancel');
  await rig.waitFor((s) => s.screen === 'menu');
  rig.pinPad.press('cancel');
  await rig.waitFor((s) => s.screen === 'goodbye');
  t.true(await eventually(() => voice.last.includes('Thank you. Goodbye!'), 10_000));
});

test("speech mode's longer inactivity timeouts: in force while the headset is in, the screen's own once it is out", async (t) => {
  const screens = { idleMs: 60_000, idleWarningMs: 15_000 };
  const { rig, jack } = await speakingKiosk(t);
  t.deepEqual(rig.kiosk.idleTimeouts, screens);
  jack.plug();
  t.deepEqual(rig.kiosk.idleTimeouts, { idleMs: 120_000, idleWarningMs: 30_000 }, 'the defaults');
  jack.unplug();
  t.deepEqual(rig.kiosk.idleTimeouts, screens);
  // kiosk.json's own.
  const configured = await speakingKiosk(t, { config: { speech: { jack: { kind: 'simulated' }, idleMs: 180_000, idleWarningMs: 45_000 } } });
  configured.jack.plug();
  t.deepEqual(configured.rig.kiosk.idleTimeouts, { idleMs: 180_000, idleWarningMs: 45_000 });
});

test("the screen blanked for privacy is in the UI's snapshots and pushes; unplugging shows it again", async (t) => {
  const { rig, guide, jack } = await speakingKiosk(t);
  const handlers = createUiHandlers(rig.kiosk, undefined, guide);
  const pushed: KioskSnapshot[] = [];
  const off = handlers.onState((s) => pushed.push(s));
  t.teardown(off);
  t.is(handlers.getState().speech, undefined);
  jack.plug();
  t.deepEqual(handlers.getState().speech, { active: true, screenBlanked: false });
  rig.pinPad.press('9');
  t.deepEqual(handlers.getState().speech, { active: true, screenBlanked: true });
  t.deepEqual(pushed.at(-1)?.speech, { active: true, screenBlanked: true }, 'the blanking is pushed to the UI at once');
  jack.unplug();
  t.is(pushed.at(-1)?.speech, undefined);
  t.is(handlers.getState().speech, undefined);
});

test("kiosk.json's speech section: an ALSA jack or a simulated one; anything that would break amixer is refused", (t) => {
  const base = {
    deviceId: 'kiosk-1',
    host: '127.0.0.1',
    port: 7443,
    kSharedFile: 'k',
    journalDir: 'j',
    devices: { cardReader: { kind: 'simulated' }, pinPad: { kind: 'simulated' }, dispenser: { kind: 'simulated' }, printer: { kind: 'simulated' } },
    cassettes: [{ denominationCents: 2_000, count: 10 }],
    demoPinEntry: { identityFile: 'epp-identity.json' },
  };
  t.deepEqual(parseKioskConfig({ ...base, speech: { jack: { kind: 'alsa', card: 'Headphones' } } }).speech, { jack: { kind: 'alsa', card: 'Headphones', control: 'Headphone Jack' }, wordsPerMinute: 160, idleMs: 120_000, idleWarningMs: 30_000, cashTakeMs: 60_000 });
  t.deepEqual(parseKioskConfig({ ...base, speech: { jack: { kind: 'simulated' }, wordsPerMinute: 200, device: 'plughw:CARD=Headphones,DEV=0', idleMs: 300_000, idleWarningMs: 60_000, cashTakeMs: 90_000 } }).speech, {
    jack: { kind: 'simulated' },
    wordsPerMinute: 200,
    device: 'plughw:CARD=Headphones,DEV=0',
    idleMs: 300_000,
    idleWarningMs: 60_000,
    cashTakeMs: 90_000,
  });
  t.is(parseKioskConfig(base).speech, undefined);
  for (const [speech, field] of [
    [{ jack: { kind: 'alsa', card: "0',name='x" } }, /speech\.jack\.card/],
    [{ jack: { kind: 'alsa', card: '0', control: 'Master Playback Switch' } }, /speech\.jack\.control/],
    [{ jack: { kind: 'evdev', path: '/dev/input/event3' } }, /speech\.jack/],
    [{ jack: { kind: 'simulated' }, wordsPerMinute: 1_000 }, /speech\.wordsPerMinute/],
    [{ jack: { kind: 'simulated' }, voice: 'en' }, /speech/],
    [{ jack: { kind: 'simulated' }, device: 'hw:0 -w /tmp/x' }, /speech\.device/],
    [{ jack: { kind: 'simulated' }, idleMs: 5_000 }, /speech\.idleMs/],
    [{ jack: { kind: 'simulated' }, idleMs: 30_000 }, /speech\.idleWarningMs: must be shorter than speech\.idleMs/],
    [{ jack: { kind: 'simulated' }, idleWarningMs: 2.5 }, /speech\.idleWarningMs/],
    [{ jack: { kind: 'simulated' }, cashTakeMs: 500 }, /speech\.cashTakeMs/],
    [{ jack: { kind: 'simulated' }, cashTakeMs: 600_000 }, /speech\.cashTakeMs/],
    [{ jack: { kind: 'simulated' }, cashTakeMs: '60s' }, /speech\.cashTakeMs/],
  ] as const) {
    t.throws(() => parseKioskConfig({ ...base, speech }), { message: field }, JSON.stringify(speech));
  }
});

test("the demo's laptop keyboard: F9 plugs the simulated headset in, and in speech mode its keys are the on-screen PIN pad's", async (t) => {
  const rig = await startKioskRig({ pinPad: 'on-screen' });
  t.teardown(() => rig.close());
  await rig.waitFor((s) => s.screen === 'welcome');
  const voice = new RecordingVoice();
  const config = parseKioskConfig({ deviceId: 'kiosk-1', host: '127.0.0.1', port: 1, kSharedFile: 'k', journalDir: 'j', devices: { cardReader: { kind: 'simulated' }, pinPad: { kind: 'on-screen' }, dispenser: { kind: 'simulated' }, printer: { kind: 'simulated' } }, cassettes: [{ denominationCents: 2_000, count: 1 }], demoPinEntry: { identityFile: 'epp-identity.json' }, speech: { jack: { kind: 'simulated' } } });
  const speech = createSpeech(config, rig.kiosk, silentLogger, voice)!;
  speech.guide.start();
  t.teardown(() => speech.guide.stop());
  const keys = demoKeyboard(speech, rig.kiosk)!;
  t.false(keys('2'), 'no key is taken before speech mode');
  t.true(keys('F9'));
  t.true(speech.simulatedJack!.plugged);
  t.true(keys('F2'), 'F2 is the PIN pad\'s F2');
  t.is(voice.last, 'Volume 4 of 5.');
  t.true(keys('2'));
  t.is(voice.last, 'French. Press Enter to confirm.');
  t.true(keys('Enter'));
  await rig.waitFor((s) => s.screen === 'identify' && s.language === 'fr');
  t.false(keys('a'), 'other keys reach the page');
  t.true(keys('F9'));
  t.false(speech.simulatedJack!.plugged);
  t.is(demoKeyboard(createSpeech({ ...config, speech: { jack: { kind: 'alsa', card: '0', control: 'Headphone Jack' }, wordsPerMinute: 160, idleMs: 120_000, idleWarningMs: 30_000, cashTakeMs: 60_000 } }, rig.kiosk, silentLogger, voice), rig.kiosk), undefined, 'only with a simulated jack');
});

test('a deposit and a transfer by keys: the account, the notes counted aloud, Done; then from, to, the amount, confirmed', async (t) => {
  const { rig, jack, voice } = await speakingKiosk(t);
  await rig.customer('elena', 50_000);
  const savings = await openAccount(rig.host.host.state.services, 'elena', 'savings');
  // A card reaches the accounts linked to it: this one both.
  const card = await issueCard(rig.host.host.state.services, 'elena');
  jack.plug();
  await signInByKeys(rig, voice, card);
  // Deposit (2 on the menu, with cash first), into Chequing (1); two notes counted aloud; Done (1).
  rig.pinPad.press('2', 'enter');
  await rig.waitFor((s) => s.screen === 'deposit');
  t.true(await eventually(() => voice.last.includes('For a deposit into Chequing, press 1. For a deposit into Savings, press 2.'), 10_000));
  rig.pinPad.press('1', 'enter');
  await rig.waitFor((s) => s.view?.kind === 'deposit-counting');
  t.true(await eventually(() => voice.last.includes('Insert your notes one at a time'), 10_000));
  await rig.insertNotes([2_000, 5_000]);
  t.true(await eventually(() => voice.said.some((u) => u.text.includes('2 notes counted, 70 dollars in all.')), 10_000));
  rig.pinPad.press('1', 'enter');
  const deposited = await rig.waitFor((s) => s.screen === 'receipt');
  t.is(deposited.view?.kind === 'deposit' ? deposited.view.creditedCents : 0, 7_000);
  t.true(await eventually(() => voice.last.startsWith('70 dollars deposited, 2 notes.'), 10_000));
  rig.pinPad.press('2', 'enter');
  // No receipt; then no other transaction.
  await rig.waitFor((s) => s.screen === 'another-transaction');
  t.true(await eventually(() => voice.last.includes('Would you like another transaction?'), 10_000));
  rig.pinPad.press('2', 'enter');
  await rig.waitFor((s) => s.screen === 'goodbye');

  // Transfer: from Chequing (1), to Savings (1 of what is left), 15 dollars, Enter, Enter.
  await rig.waitFor((s) => s.screen === 'welcome');
  await signInByKeys(rig, voice, card);
  rig.pinPad.press('5', 'enter');
  await rig.waitFor((s) => s.screen === 'transfer');
  t.true(await eventually(() => voice.last.startsWith('Transfer between your accounts. From which account? For Chequing, press 1.'), 10_000));
  rig.pinPad.press('1', 'enter');
  t.regex(voice.last, /^Transfer from Chequing\. To which account\? For Savings, press 1\./);
  rig.pinPad.press('cancel');
  t.regex(voice.last, /^Transfer between your accounts\. From which account\?/, 'Cancel goes back one step');
  rig.pinPad.press('1', 'enter', '1', 'enter');
  t.regex(voice.last, /^Type the amount in whole dollars/);
  rig.pinPad.press('1', '5', 'enter');
  t.is(voice.last, 'Transfer 15 dollars from Chequing to Savings? Press Enter to confirm, or Cancel.');
  rig.pinPad.press('enter');
  const transferred = await rig.waitFor((s) => s.screen === 'receipt');
  t.deepEqual(transferred.view?.kind === 'transfer' ? [transferred.view.amountCents, transferred.view.to.accountId] : [], [1_500, savings.accountId]);
  t.true(await eventually(() => voice.last.startsWith('15 dollars transferred.'), 10_000));
});

test('an amount refused for a limit is said with the limit, and the next amount is typed afresh', async (t) => {
  const { rig, jack, voice } = await speakingKiosk(t);
  const card = await rig.customer('farah', 50_000);
  jack.plug();
  await signInByKeys(rig, voice, card);
  rig.pinPad.press('1', 'enter');
  await rig.waitFor((s) => s.screen === 'withdraw');
  t.true(await eventually(() => voice.last.includes('For another amount, press 6.'), 10_000));
  rig.pinPad.press('6', 'enter', '9', '0', '0', 'enter');
  t.is(voice.last, 'Withdraw 900 dollars from Chequing? Press Enter to confirm, or Cancel.');
  rig.pinPad.press('enter');
  const refused = await rig.waitFor((s) => s.screen === 'withdraw' && s.notice !== undefined);
  t.is(refused.notice?.code, 'INSUFFICIENT_FUNDS');
  t.is(voice.last, 'There is not enough money in this account: 500 dollars is available.');
  t.deepEqual(rig.dispenser.lifetimeDispensed, [0, 0]);
  // Refused before anything is sent (the kiosk knows what is available): still typing an amount.
  rig.pinPad.press('4', '0');
  t.is(voice.last, '40 dollars.', 'the refused digits are gone');
});

test('with an encrypting PIN pad (its simulator behind a pty, the real driver): the PIN stays in the pad, the menus come as clear keys', async (t) => {
  const { rig, jack, voice } = await speakingKiosk(t, { pinPad: 'epp-simulated' });
  const epp = rig.eppSimulator!;
  const card = await rig.customer('gita', 50_000);
  jack.plug();
  // Clear-text mode is a command to the pad: its keys are menu keys once it has answered.
  t.true(await eventually(() => epp.state === 'clear-text', 10_000), `the pad is in ${epp.state}`);
  epp.press('2');
  t.true(await eventually(() => voice.last === 'French. Press Enter to confirm.', 10_000), voice.last);
  epp.press('enter');
  await rig.waitFor((s) => s.screen === 'identify' && s.language === 'fr');
  rig.swipe(card);
  await rig.waitFor((s) => s.screen === 'pin');
  t.true(await eventually(() => epp.state === 'pin', 10_000), 'the pad takes the PIN, not clear keys');
  rig.typePin(card.pin, 'enter');
  await rig.waitFor((s) => s.screen === 'menu');
  t.true(await eventually(() => epp.state === 'clear-text', 10_000), 'clear-text mode again after the PIN');
  t.false(voice.said.some((u) => u.text.includes(card.pin)), 'the PIN is never spoken');
  // The pad's F2 (its byte 'b' on the wire, through the real driver) is a step louder.
  epp.press('F2');
  t.true(await eventually(() => voice.last === 'Volume 4 sur 5.', 10_000), voice.last);
  t.is(voice.said.at(-1)!.volume, 4);
  epp.press('1', 'enter');
  await rig.waitFor((s) => s.screen === 'withdraw');
  t.true(await eventually(() => voice.last.includes('Pour 60 dollars, appuyez sur 3.'), 10_000), voice.last);
  epp.press('3', 'enter');
  const after = await rig.waitFor((s) => s.screen === 'another-transaction');
  t.deepEqual(after.view, { kind: 'withdrawal', amountCents: 6_000, dispensedCents: 6_000, short: false });
});

test('F1 and F2 step the volume, said at the new loudness; at either end it says so; each headset and each visit starts at the middle', async (t) => {
  const { rig, guide, jack, voice } = await speakingKiosk(t, { pinPad: 'on-screen' });
  const pad = rig.kiosk.devices.pinPad as PinEntry;
  const press = (...keys: PinPadKeyLabel[]) => keys.forEach((key) => pressPinPadKey(pad, key));
  const heard = () => ({ text: voice.last, volume: voice.said.at(-1)!.volume });

  jack.plug();
  t.regex(voice.last, /F1 and F2, the first two keys beside the screen, make the voice quieter or louder\./, 'the key help names them');
  t.is(voice.said.at(-1)!.volume, 3);
  press('F2');
  t.deepEqual(heard(), { text: 'Volume 4 of 5.', volume: 4 });
  press('F2');
  t.deepEqual(heard(), { text: 'Volume 5 of 5.', volume: 5 });
  press('F2');
  t.deepEqual(heard(), { text: 'This is the loudest.', volume: 5 });
  press('0');
  t.regex(voice.last, /^Welcome to Northbank/);
  t.is(voice.said.at(-1)!.volume, 5, 'the screen is said again at the chosen volume');
  press('F1', 'F1', 'F1', 'F1');
  t.deepEqual(heard(), { text: 'Volume 1 of 5.', volume: 1 });
  press('F1');
  t.deepEqual(heard(), { text: 'This is the quietest.', volume: 1 });
  t.is(guide.volume, 1);

  // In French, and a choice in progress is kept.
  press('2');
  t.is(voice.last, 'French. Press Enter to confirm.');
  press('F2');
  t.deepEqual(heard(), { text: 'Volume 2 of 5.', volume: 2 });
  press('enter');
  await rig.waitFor((s) => s.screen === 'identify' && s.language === 'fr');
  press('F2');
  t.deepEqual(heard(), { text: 'Volume 3 sur 5.', volume: 3 });
  press('F2');
  t.is(guide.volume, 4);

  // The next customer's visit starts at the middle step, and so does a headset plugged in again.
  press('cancel');
  await rig.waitFor((s) => s.screen === 'welcome');
  t.true(await eventually(() => voice.last.includes('Welcome to Northbank'), 10_000));
  t.is(voice.said.at(-1)!.volume, 3);
  press('F1');
  t.is(guide.volume, 2);
  jack.unplug();
  jack.plug();
  t.is(guide.volume, 3);
  t.is(voice.said.at(-1)!.volume, 3);

  // F3 is no key of speech mode: nothing is said.
  const before = voice.said.length;
  pad.pressClearKey('F3');
  t.is(voice.said.length, before);
});

test('on the PIN screen a key the pad reports outside PIN entry is neither acted on nor said', async (t) => {
  const { rig, jack, voice } = await speakingKiosk(t);
  const card = await rig.customer('hiro', 50_000);
  jack.plug();
  rig.swipe(card);
  await rig.waitFor((s) => s.screen === 'pin');
  t.true(await eventually(() => voice.last.includes('Enter your PIN on the keypad'), 10_000));
  const before = voice.said.length;
  // As if the customer typed before the pad had started PIN entry.
  rig.kiosk.devices.pinPad.abort();
  rig.pinPad.press('4', '7', 'enter');
  t.is(voice.said.length, before, 'nothing said');
  t.false(voice.said.some((u) => /\b4\b|\b7\b/.test(u.text.replace('4 digits', ''))), 'no digit spoken');
  t.is(rig.kiosk.snapshot().screen, 'pin');
});
