// Speech is sound: espeak-ng writes each utterance as a WAV file (-w) and sox measures it (duration and
// RMS amplitude), in both voices; and when the screen changes the utterance playing is stopped (its
// espeak-ng process killed) and the new screen is spoken. The speech guide runs on a real kiosk (bank
// host on loopback, HID PIN pad simulator through the real driver).
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { silentLogger } from '../../../protocol/log.js';
import { EspeakVoice, SPEECH_VOLUME_STEPS, speechAmplitude, type Utterance } from '../../../kiosk/core/speech/espeak-voice.js';
import { SimulatedHeadsetJack } from '../../../kiosk/core/speech/headset-jack.js';
import { SpeechGuide } from '../../../kiosk/core/speech/speech-guide.js';
import { startKioskRig } from '../core/kiosk-rig.js';
import { eventually } from '../../helpers/host.js';
import { measureWav, requireSpeechTools } from './wav-measure.js';

test.before(() => requireSpeechTools());

test('espeak-ng speaks English and French: a WAV of speech, measured by sox', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'speech-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const voice = new EspeakVoice({ wavFileFor: (n, language) => path.join(dir, `${n}-${language}.wav`) });
  for (const [language, text] of [['en', 'Please take your cash. 60 dollars has been dispensed.'], ['fr', 'Veuillez prendre vos billets. 60 dollars ont été distribués.']] as const) {
    const utterance = voice.speak(text, language);
    t.deepEqual(await utterance.ended, { kind: 'finished' });
    const wav = await measureWav(utterance.wavFile!);
    t.true(wav.seconds > 1 && wav.seconds < 30, `${language}: ${wav.seconds} s of speech`);
    t.true(wav.rms > 0.01, `${language}: RMS amplitude ${wav.rms}`);
  }
});

test('the volume steps: each one is louder than the one below it (RMS by sox); a step outside them is refused', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'speech-volume-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const voice = new EspeakVoice({ wavFileFor: (n) => path.join(dir, `${n}.wav`) });
  const rms: number[] = [];
  for (let step = 1; step <= SPEECH_VOLUME_STEPS; step++) {
    const utterance = voice.speak('Please take your cash.', 'en', step);
    t.deepEqual(await utterance.ended, { kind: 'finished' });
    rms.push((await measureWav(utterance.wavFile!)).rms);
  }
  for (let i = 1; i < rms.length; i++) t.true(rms[i]! > rms[i - 1]! * 1.2, `step ${i + 1} is louder than step ${i}: ${rms.join(', ')}`);
  t.true(rms.at(-1)! > rms[0]! * 3, `the loudest is well above the quietest: ${rms.join(', ')}`);
  t.deepEqual(await voice.speak('Please take your cash.', 'en').ended, { kind: 'finished' }, 'the default is a step');
  for (const bad of [0, SPEECH_VOLUME_STEPS + 1, 2.5, Number.NaN]) {
    t.throws(() => voice.speak('x', 'en', bad), { instanceOf: RangeError });
    t.throws(() => speechAmplitude(bad), { instanceOf: RangeError, message: /a volume step is 1 to 5/ });
  }
});

test('a missing espeak-ng is a failed utterance naming the apt-get line, not a crash', async (t) => {
  const voice = new EspeakVoice({ binary: '/nonexistent/espeak-ng' });
  const end = await voice.speak('hello', 'en').ended;
  t.is(end.kind, 'failed');
  t.regex(end.kind === 'failed' ? end.error.message : '', /apt-get install -y --no-install-recommends espeak-ng/);
});

test('a sound device that is not there is a failed utterance saying so (espeak-ng itself exits 0)', async (t) => {
  const voice = new EspeakVoice({ device: 'no_such_headset_card' });
  const end = await voice.speak('Please take your cash.', 'en').ended;
  t.is(end.kind, 'failed');
  t.regex(end.kind === 'failed' ? end.error.message : '', /could not play on no_such_headset_card: .*(no_such_headset_card|error)/);
  t.throws(() => new EspeakVoice({ device: 'hw:0 -w /tmp/x' }), { instanceOf: RangeError });
});

test('plugging in speaks the screen; a screen change stops the speech playing and speaks the new screen', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'speech-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // The welcome utterance goes to a FIFO nobody reads: espeak-ng blocks as it would on a sound card
  // that is still playing, so the screen change is sure to find it speaking.
  const fifo = path.join(dir, 'welcome.fifo');
  if (spawnSync('mkfifo', [fifo]).status !== 0) throw new Error('mkfifo failed');
  const utterances: Utterance[] = [];
  const voice = new EspeakVoice({ wavFileFor: (n) => (n === 1 ? fifo : path.join(dir, `${n}.wav`)), onUtterance: (u) => utterances.push(u) });
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  await rig.waitFor((s) => s.screen === 'welcome');
  const jack = new SimulatedHeadsetJack();
  const guide = new SpeechGuide({ controller: rig.kiosk, jack, voice, log: silentLogger });
  guide.start();
  t.teardown(() => guide.stop());

  jack.plug();
  t.deepEqual(guide.view, { active: true, screenBlanked: false });
  t.is(utterances.length, 1);
  const welcome = utterances[0]!;
  t.regex(welcome.text, /^Speech mode is on\. .*Welcome to Northbank\..*For English, press 1\. For French, press 2\./);
  // French (2), confirmed with Enter: the screen changes to identify, in French.
  rig.pinPad.press('2');
  t.deepEqual(await welcome.ended, { kind: 'stopped' }, 'the welcome speech was stopped by the next thing said');
  rig.pinPad.press('enter');
  const identify = await rig.waitFor((s) => s.screen === 'identify' && s.language === 'fr');
  t.truthy(identify);
  t.true(await eventually(() => utterances.some((u) => u.language === 'fr' && u.text.includes('Comment voulez-vous')), 10_000));
  const spokenIdentify = utterances.find((u) => u.text.includes('Comment voulez-vous'))!;
  // The card (1), then the swipe screen: the identify speech is stopped when the screen changes.
  rig.pinPad.press('1', 'enter');
  await rig.waitFor((s) => s.identifyMethod === 'card');
  t.true(await eventually(() => utterances.some((u) => u.text.includes('Glissez votre carte')), 10_000));
  const endIdentify = await spokenIdentify.ended;
  t.true(endIdentify.kind === 'stopped' || endIdentify.kind === 'finished', `identify speech: ${endIdentify.kind}`);
  const swipe = utterances.at(-1)!;
  t.deepEqual(await swipe.ended, { kind: 'finished' });
  const wav = await measureWav(swipe.wavFile!);
  t.true(wav.seconds > 1 && wav.rms > 0.01, `the swipe screen was spoken: ${wav.seconds} s, RMS ${wav.rms}`);
  for (const u of utterances.slice(0, -1)) t.not((await u.ended).kind, 'failed', u.text);

  // 9 blanks the screen (the UI's snapshot says so); unplugging leaves speech mode and shows it again.
  rig.pinPad.press('9');
  t.deepEqual(guide.view, { active: true, screenBlanked: true });
  jack.unplug();
  t.is(guide.view, undefined);
  const before = utterances.length;
  rig.kiosk.cancel();
  await rig.waitFor((s) => s.screen === 'goodbye' || s.screen === 'welcome');
  t.is(utterances.length, before, 'nothing is spoken once the headset is out');
});
