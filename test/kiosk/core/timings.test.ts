// What a customer waits for, measured against a real host on loopback (production scrypt cost) and the
// simulators over socat ptys at 9600 baud, the speed of common dispensers and printers. The simulated
// dispenser moves notes instantly, so "cash presented" here is the kiosk, host and serial-line share of
// the wait, before the mechanism's own time per note.
import test from 'ava';
import { SCRYPT_COST_PRODUCTION } from '../../../bank-host/customers/passwords.js';
import { hostOperations } from '../../../bank-host/operations/table.js';
import type { KioskTiming } from '../../../kiosk/core/kiosk.js';
import { startKioskRig, PASSWORD } from './kiosk-rig.js';

const ROUNDS = 5;
/** Generous bounds: a failure means something blocks (a lock, a lost frame), not a slow machine. */
const PIN_TO_MENU_MS_MAX = 2_000;
const CONFIRM_TO_CASH_MS_MAX = 3_000;

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `median ${sorted[Math.floor(sorted.length / 2)]} ms, min ${sorted[0]} ms, max ${sorted.at(-1)} ms over ${sorted.length}`;
}

test('PIN Enter to menu and withdraw confirm to cash presented', async (t) => {
  const rig = await startKioskRig({ operations: hostOperations, baudRate: 9600 });
  t.teardown(() => rig.close());
  const card = await rig.customer('pat', 500_000, SCRYPT_COST_PRODUCTION);
  const byName = (name: KioskTiming['name']) => rig.kiosk.timings.filter((x) => x.name === name).map((x) => x.ms);
  for (let round = 0; round < ROUNDS; round++) {
    await rig.waitFor((s) => s.screen === 'welcome');
    rig.swipe(card);
    await rig.waitFor((s) => s.screen === 'pin');
    rig.typePin(card.pin, 'enter');
    await rig.waitFor((s) => s.screen === 'menu');
    await rig.kiosk.selectMenu('withdraw');
    await rig.kiosk.withdraw(4_000);
    t.is(rig.kiosk.snapshot().screen, 'receipt');
    await rig.kiosk.chooseReceipt(false);
  }
  await rig.waitFor((s) => s.screen === 'welcome');
  await rig.kiosk.beginPasswordSignIn('pat', PASSWORD);
  const pin = byName('pin-enter-to-menu');
  const cash = byName('withdraw-confirm-to-cash');
  const password = byName('password-submit-to-menu');
  t.is(pin.length, ROUNDS);
  t.is(cash.length, ROUNDS);
  t.true(Math.max(...pin) < PIN_TO_MENU_MS_MAX);
  t.true(Math.max(...cash) < CONFIRM_TO_CASH_MS_MAX);
  t.log(`PIN Enter → menu: ${summary(pin)}`);
  t.log(`withdraw confirm → cash presented: ${summary(cash)}`);
  t.log(`password submit → menu (scrypt log2N ${SCRYPT_COST_PRODUCTION.log2N}): ${summary(password)}`);
});
