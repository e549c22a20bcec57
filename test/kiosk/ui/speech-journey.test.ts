// A blind customer's withdrawal in Debian's Chromium: the headset goes into the (simulated) jack, every
// screen is spoken by espeak-ng (written to WAV and measured by sox), the screen is blanked for privacy,
// and the whole visit is made with the PIN pad's keys only (the HID simulator through the real driver):
// card swipe, PIN, "1" for cash, "3" for $60, Enter, the cash taken, "2" for no other transaction.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { silentLogger } from '../../../protocol/log.js';
import { EspeakVoice, type Utterance } from '../../../kiosk/core/speech/espeak-voice.js';
import { SimulatedHeadsetJack } from '../../../kiosk/core/speech/headset-jack.js';
import { SpeechGuide } from '../../../kiosk/core/speech/speech-guide.js';
import type { Screen } from '../../../kiosk/core/ui-contract.js';
import { measureWav, requireSpeechTools } from '../speech/wav-measure.js';
import { closeChromium, startUiRig } from './browser-rig.js';

test.before(() => requireSpeechTools());
test.after.always(() => closeChromium());

test.serial('a blind customer plugs in a headset and withdraws $60 with the PIN pad keys alone, every screen spoken', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'speech-journey-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const jack = new SimulatedHeadsetJack();
  const heard: { screen: Screen; utterance: Utterance }[] = [];
  let guide: SpeechGuide | undefined;
  const ui = await startUiRig({
    prefix: 'speech',
    log: (line) => t.log(line),
    // The customer takes the cash when the test says (after the take-cash screen has been spoken).
    dispenserTakeNotesAfterMs: null,
    speech: (kiosk) => {
      const voice = new EspeakVoice({ wavFileFor: (n) => path.join(dir, `${n}.wav`) });
      guide = new SpeechGuide({ controller: kiosk.kiosk, jack, voice, log: silentLogger });
      guide.on('spoken', (utterance) => heard.push({ screen: kiosk.kiosk.snapshot().screen, utterance }));
      return guide;
    },
  });
  t.teardown(() => ui.close());
  const card = await ui.kiosk.customer('boris', 50_000);
  const pad = ui.kiosk.pinPad;

  /** The screen's own speech (the first thing said on it) plays to its end and is sound. */
  const spokenScreens: Screen[] = [];
  const screenSpoken = async (screen: Screen, words: RegExp) => {
    await ui.screen(screen);
    const first = heard.find((h) => h.screen === screen && !spokenScreens.includes(screen));
    if (!first) throw new Error(`nothing was said on ${screen}`);
    t.regex(first.utterance.text, words, `${screen} says what it shows`);
    t.deepEqual(await first.utterance.ended, { kind: 'finished' }, `${screen}: "${first.utterance.text}"`);
    const wav = await measureWav(first.utterance.wavFile!);
    t.true(wav.seconds > 1 && wav.rms > 0.01, `${screen}: ${wav.seconds} s, RMS ${wav.rms}`);
    spokenScreens.push(screen);
  };

  await ui.screen('welcome');
  jack.plug();
  await screenSpoken('welcome', /Speech mode is on\..*Welcome to Northbank/);
  // 9: the screen goes blank for privacy (drawn over everything), and stays blank from screen to screen.
  pad.press('9');
  await ui.page.waitForSelector('[data-testid="privacy-blank"]', { timeout: 10_000 });
  const blank = await ui.page.locator('[data-testid="privacy-blank"]').boundingBox();
  t.deepEqual(blank, { x: 0, y: 0, width: 800, height: 480 });
  await ui.shot('01-welcome-blanked');

  ui.kiosk.swipe(card);
  await screenSpoken('pin', /Enter your PIN on the keypad/);
  ui.kiosk.typePin(card.pin);
  const digits = heard.at(-1)!.utterance;
  t.is(digits.text, `${card.pin.length} digits entered.`, 'the PIN is counted aloud, never read');
  for (const h of heard) t.false(h.utterance.text.includes(card.pin) || h.utterance.text.includes(card.pan), 'no secret is spoken');
  pad.press('enter');
  await screenSpoken('menu', /What would you like to do\?.*For cash, press 1\./);
  t.true(await ui.page.locator('[data-testid="privacy-blank"]').isVisible(), 'still blank on the menu');

  pad.press('1');
  t.is(heard.at(-1)!.utterance.text, 'cash. Press Enter to confirm.');
  pad.press('enter');
  await screenSpoken('withdraw', /Withdraw cash from Chequing\..*For 60 dollars, press 3\./);
  pad.press('3');
  t.is(heard.at(-1)!.utterance.text, 'Withdraw 60 dollars from Chequing? Press Enter to confirm, or Cancel.');
  pad.press('enter');
  await screenSpoken('take-cash', /Please take your cash\. 60 dollars has been dispensed\./);
  t.deepEqual(ui.kiosk.dispenser.lifetimeDispensed, [3, 0]);
  await ui.shot('02-take-cash-blanked');
  t.true(ui.kiosk.dispenser.takeNotes(), 'the customer takes the notes from the presenter');
  const after = await ui.screen('another-transaction');
  t.deepEqual(after.view, { kind: 'withdrawal', amountCents: 6_000, dispensedCents: 6_000, short: false });
  await screenSpoken('another-transaction', /Would you like another transaction\?.*For no, finish, press 2\./);

  pad.press('2', 'enter');
  await screenSpoken('goodbye', /Thank you\. Goodbye!/);
  // The next customer sees the screen again.
  await ui.screen('welcome');
  await ui.page.waitForSelector('[data-testid="privacy-blank"]', { state: 'detached', timeout: 10_000 });
  t.deepEqual(guide?.view, { active: true, screenBlanked: false });
  jack.unplug();
  t.deepEqual(spokenScreens, ['welcome', 'pin', 'menu', 'withdraw', 'take-cash', 'another-transaction', 'goodbye']);
  t.deepEqual(ui.consoleProblems, []);
});
