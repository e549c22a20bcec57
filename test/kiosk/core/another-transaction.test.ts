// A real ATM's session: after each transaction, "Another transaction?" — yes goes back to the menu in the
// same session (the host session, its inactivity rules and the customer's limits kept), no says goodbye.
import test from 'ava';
import { KioskCommandError } from '../../../kiosk/core/kiosk.js';
import type { SessionClock } from '../../../kiosk/core/session.js';
import { PASSWORD, startKioskRig } from './kiosk-rig.js';

test('after a deposit, "another transaction" goes back to the menu in the same host session, and "no" ends it once', async (t) => {
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  await rig.customer('olga', 10_000);
  await rig.waitFor((s) => s.screen === 'welcome');
  await rig.kiosk.beginPasswordSignIn('olga', PASSWORD);
  const before = rig.kiosk.snapshot().customer!;
  await rig.depositNotes([2_000]);
  t.is(rig.kiosk.snapshot().screen, 'receipt');
  await t.throwsAsync(rig.kiosk.anotherTransaction(true), { instanceOf: KioskCommandError, message: /not possible on the receipt screen/ });
  await rig.kiosk.chooseReceipt(false);
  t.like(rig.kiosk.snapshot(), { screen: 'another-transaction', customer: { username: 'olga' } });

  await rig.kiosk.anotherTransaction(true);
  const menu = rig.kiosk.snapshot();
  t.is(menu.screen, 'menu');
  t.is(menu.view, undefined, 'the last transaction is not shown again');
  // The deposit's own limit counts what was deposited, and the host answers without a new sign-in.
  t.is(menu.customer?.depositRemainingTodayCents, before.depositRemainingTodayCents! - 2_000);
  await rig.kiosk.selectMenu('balance');
  t.like(rig.kiosk.snapshot(), { screen: 'balance', view: { kind: 'balance', account: { balanceCents: 12_000 } } });
  await rig.kiosk.selectMenu('menu');

  // A second transaction, then no.
  await rig.kiosk.selectMenu('withdraw');
  await rig.kiosk.withdraw(4_000);
  t.is(rig.kiosk.snapshot().screen, 'another-transaction');
  await rig.kiosk.anotherTransaction(false);
  const goodbye = rig.lastGoodbye();
  t.is(goodbye?.customer, undefined);
  t.is(goodbye?.notice, undefined, 'a plain goodbye: nothing went wrong');
  await rig.waitFor((s) => s.screen === 'welcome');
  t.deepEqual(rig.dispenser.lifetimeDispensed, [2, 0]);
});

/** The session's timers, run when the test says that much time has passed. */
class ManualClock implements SessionClock {
  private readonly pending = new Map<object, { callback: () => void; delayMs: number }>();
  setTimeout(callback: () => void, delayMs: number): unknown {
    const handle = {};
    this.pending.set(handle, { callback, delayMs });
    return handle;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as object);
  }
  fire(delayMs: number): number {
    const due = [...this.pending].filter(([, timer]) => timer.delayMs === delayMs);
    for (const [handle, timer] of due) {
      this.pending.delete(handle);
      timer.callback();
    }
    return due.length;
  }
}

test('the question is timed like every screen of a visit: the warning counts down, then the session ends', async (t) => {
  const clock = new ManualClock();
  const timeouts = { idleMs: 60_000, idleWarningMs: 15_000, goodbyeMs: 5_000 };
  const rig = await startKioskRig({ config: { timeouts }, kioskOptions: { clock } });
  t.teardown(() => rig.close());
  await rig.customer('pavel', 10_000);
  await rig.waitFor((s) => s.screen === 'welcome');
  await rig.kiosk.beginPasswordSignIn('pavel', PASSWORD);
  await rig.depositNotes([1_000]);
  await rig.kiosk.chooseReceipt(false);
  t.is(rig.kiosk.snapshot().screen, 'another-transaction');
  t.is(clock.fire(timeouts.idleMs - timeouts.idleWarningMs), 1, 'the warning is set on the question screen');
  const warned = rig.kiosk.snapshot();
  t.true(warned.idleWarning);
  t.is(warned.idleWarningSeconds, 15);
  t.is(clock.fire(timeouts.idleMs), 1);
  await rig.waitFor((s) => s.screen === 'goodbye');
  t.is(rig.lastGoodbye()?.notice?.code, 'TIMEOUT');
  t.is(rig.kiosk.snapshot().idleWarningSeconds, undefined);
});

test('a balance inquiry can be printed, and a withdrawal receipt chosen before the cash names the bank, the masked card and the balance after', async (t) => {
  const rig = await startKioskRig({ config: { bankName: 'Northbank', timeZone: 'America/Vancouver' } });
  t.teardown(() => rig.close());
  const card = await rig.customer('quentin', 20_000);
  await rig.waitFor((s) => s.screen === 'welcome');
  rig.swipe(card);
  await rig.waitFor((s) => s.screen === 'pin');
  rig.typePin(card.pin, 'enter');
  await rig.waitFor((s) => s.screen === 'menu');
  await rig.kiosk.selectMenu('balance');
  await rig.kiosk.printBalance();
  t.like(rig.kiosk.snapshot(), { screen: 'balance', notice: { code: 'RECEIPT_PRINTED' } });
  const inquiry = (rig.printer.receipts.at(-1) ?? []).join('\n');
  t.true(inquiry.startsWith('Northbank\nATM RECEIPT'), inquiry);
  t.regex(inquiry, /BALANCE INQUIRY\nAccount \.\.\.\w{4}\n {2}Balance: \$200\.00\n {2}Available: \$200\.00/);
  t.regex(inquiry, /Time: \d\d:\d\d:\d\d P[SD]T/, 'the kiosk\'s local time');

  await rig.kiosk.selectMenu('menu');
  await rig.kiosk.selectMenu('withdraw');
  await rig.kiosk.withdraw(6_000, undefined, true);
  t.like(rig.kiosk.snapshot(), { screen: 'another-transaction', notice: { code: 'RECEIPT_PRINTED' } });
  const withdrawal = (rig.printer.receipts.at(-1) ?? []).join('\n');
  for (const line of ['Northbank', 'WITHDRAWAL $60.00', `Card: ************${card.pan.slice(-4)}`, 'Balance: $140.00', 'Available: $140.00']) t.true(withdrawal.includes(line), `${line} in\n${withdrawal}`);
  t.false(withdrawal.includes(card.pan));
});
