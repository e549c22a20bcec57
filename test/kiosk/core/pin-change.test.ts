// PIN change at the kiosk, with the HID PIN pad simulator (real report bytes) and a real bank host: the
// current PIN, the new PIN twice, each a PIN block from the same entry that signs in; the host compares.
import test from 'ava';
import { KioskCommandError } from '../../../kiosk/core/kiosk.js';
import { PASSWORD, startKioskRig, type KioskRig } from './kiosk-rig.js';

const NEW_PIN = '5831';

async function signInWithCard(rig: KioskRig, card: { pan: string; expiresYm: string }, pin: string) {
  await rig.waitFor((s) => s.screen === 'welcome');
  rig.swipe(card);
  await rig.waitFor((s) => s.screen === 'pin');
  rig.typePin(pin, 'enter');
  return rig.waitFor((s) => s.screen === 'menu' || s.screen === 'goodbye' || (s.screen === 'pin' && s.notice !== undefined));
}

test('a card customer changes the PIN: current, new, new again; the new PIN then signs in and the old one does not', async (t) => {
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  const card = await rig.customer('pia', 10_000);
  await signInWithCard(rig, card, card.pin);
  await rig.kiosk.selectMenu('pin-change');
  t.like(rig.kiosk.snapshot(), { screen: 'pin-change', pinChangeStep: 'old', pinDigits: 0 });
  rig.typePin(card.pin.slice(0, 2));
  await rig.waitFor((s) => s.screen === 'pin-change' && s.pinDigits === 2);
  rig.typePin(card.pin.slice(2), 'enter');
  await rig.waitFor((s) => s.pinChangeStep === 'new' && s.pinDigits === 0);
  rig.typePin(NEW_PIN, 'enter');
  await rig.waitFor((s) => s.pinChangeStep === 'confirm');
  // Typed differently the second time: the host says so, and only the new PIN is asked again.
  rig.typePin('5832', 'enter');
  const mismatch = await rig.waitFor((s) => s.screen === 'pin-change' && s.notice?.code === 'PIN_MISMATCH');
  t.is(mismatch.pinChangeStep, 'new');
  rig.typePin(NEW_PIN, 'enter');
  await rig.waitFor((s) => s.pinChangeStep === 'confirm');
  rig.typePin(NEW_PIN, 'enter');
  const done = await rig.waitFor((s) => s.screen === 'another-transaction');
  t.deepEqual(done.notice, { code: 'PIN_CHANGED' });
  t.is(done.pinChangeStep, undefined);
  t.false(JSON.stringify(done).includes(NEW_PIN), 'the snapshot never holds a PIN');
  await rig.kiosk.anotherTransaction(false);

  const old = await signInWithCard(rig, card, card.pin);
  t.is(old.notice?.code, 'WRONG_PIN', 'the old PIN no longer works');
  rig.typePin(NEW_PIN, 'enter');
  await rig.waitFor((s) => s.screen === 'menu');
});

test('a wrong current PIN counts as a failed try: the warning before the last, then the card blocked', async (t) => {
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  const card = await rig.customer('remy', 10_000);
  const wrong = card.pin === '2468' ? '1357' : '2468';
  await signInWithCard(rig, card, card.pin);
  await rig.kiosk.selectMenu('pin-change');
  const attempt = async (expected: string) => {
    rig.typePin(wrong, 'enter');
    await rig.waitFor((s) => s.pinChangeStep === 'new');
    rig.typePin(NEW_PIN, 'enter');
    await rig.waitFor((s) => s.pinChangeStep === 'confirm');
    rig.typePin(NEW_PIN, 'enter');
    return rig.waitFor((s) => (s.screen === 'pin-change' && s.pinChangeStep === 'old' && s.notice?.code === expected) || s.screen === 'goodbye');
  };
  t.is((await attempt('WRONG_PIN')).notice?.code, 'WRONG_PIN');
  t.is((await attempt('WRONG_PIN_LAST_TRY')).notice?.code, 'WRONG_PIN_LAST_TRY');
  await attempt('never');
  t.is(rig.lastGoodbye()?.notice?.code, 'CARD_BLOCKED');
  await rig.waitFor((s) => s.screen === 'welcome');
  t.is((await signInWithCard(rig, card, card.pin)).screen, 'goodbye', 'the blocked card no longer signs in');
});

test('a PIN change needs a card session', async (t) => {
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  await rig.customer('sven', 10_000);
  await rig.waitFor((s) => s.screen === 'welcome');
  await rig.kiosk.beginPasswordSignIn('sven', PASSWORD);
  await t.throwsAsync(rig.kiosk.selectMenu('pin-change'), { instanceOf: KioskCommandError, message: /card session/ });
  t.is(rig.kiosk.snapshot().screen, 'menu');
});
