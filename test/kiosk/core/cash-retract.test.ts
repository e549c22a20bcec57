// Cash not taken in time: the notes wait in the presenter with a countdown, then the dispenser takes them
// back into its retract bin (RETRACT, over the real driver on a pty) and the customer is not charged for
// them: the withdrawal is settled for what left the machine (a reversal when nothing did).
import test from 'ava';
import { checkLedger } from '../../../bank-host/ledger/check.js';
import { listHolds } from '../../../bank-host/ledger/operator.js';
import { KioskJournal } from '../../../kiosk/core/journal.js';
import { COMMAND } from '../../../kiosk/devices/dispenser/messages.js';
import { PASSWORD, startKioskRig, type KioskRig } from './kiosk-rig.js';

const TAKE_TIMEOUT_MS = 1_500;

async function balanceOf(rig: KioskRig, username: string, accountId: string): Promise<{ balanceCents: number; availableCents: number }> {
  const teller = await rig.host.connectedClient(`teller-${Math.random().toString(16).slice(2, 10)}`);
  await teller.request('signin.password', { username, password: PASSWORD });
  const balance = await teller.request('balance', { accountId });
  teller.close();
  return balance;
}

function retractRig() {
  return startKioskRig({ dispenserTakeNotesAfterMs: null, kioskOptions: { withdrawalDeadlines: { cashTakeTimeoutMs: TAKE_TIMEOUT_MS } } });
}

test('cash not taken in time is retracted into the bin and not charged; the session ends saying so', async (t) => {
  const rig = await retractRig();
  t.teardown(() => rig.close());
  const customer = await rig.customer('quinn', 20_000);
  await rig.waitFor((s) => s.screen === 'welcome');
  await rig.kiosk.beginPasswordSignIn('quinn', PASSWORD);
  await rig.kiosk.selectMenu('withdraw');
  const presented = rig.waitFor((s) => s.screen === 'take-cash');
  const withdrawal = rig.kiosk.withdraw(6_000, undefined, true);
  const waiting = await presented;
  t.deepEqual(waiting.view, { kind: 'take-cash', dispensedCents: 6_000, secondsToTake: 2 });
  t.is(rig.dispenser.presentedNotes, 3);
  await withdrawal;

  t.deepEqual(rig.lastGoodbye()?.notice, { code: 'CASH_RETRACTED', amountCents: 6_000 });
  t.is(rig.dispenser.receivedCount(COMMAND.RETRACT), 1);
  t.is(rig.dispenser.retractBinCount, 3, 'the three notes are in the retract bin');
  t.is(rig.dispenser.presentedNotes, 0);
  t.deepEqual(rig.dispenser.lifetimeDispensed, [3, 0], 'they left the cassettes');
  t.is(rig.printer.receipts.length, 0, 'no receipt for cash the customer did not get');
  t.like(await balanceOf(rig, 'quinn', customer.accountId), { balanceCents: 20_000, availableCents: 20_000 });
  const services = rig.host.host.state.services;
  t.deepEqual(await listHolds(services), [], 'the hold was released (a reversal)');
  t.true((await checkLedger(services.db)).ok);
  await rig.waitFor((s) => s.screen === 'welcome');
  t.deepEqual(rig.kiosk.outOfServiceReasons(), []);

  // The journal holds the story: presented, retracting, retracted, reversed.
  await rig.kiosk.stop();
  const journal = await KioskJournal.open(rig.journalDir);
  t.teardown(() => journal.close());
  t.deepEqual(journal.unfinishedWithdrawals(), []);
});

test('cash taken before the countdown ends is charged, and the visit goes on', async (t) => {
  const rig = await retractRig();
  t.teardown(() => rig.close());
  const customer = await rig.customer('rosa', 20_000);
  await rig.waitFor((s) => s.screen === 'welcome');
  await rig.kiosk.beginPasswordSignIn('rosa', PASSWORD);
  await rig.kiosk.selectMenu('withdraw');
  const presented = rig.waitFor((s) => s.screen === 'take-cash');
  const withdrawal = rig.kiosk.withdraw(4_000);
  await presented;
  t.true(rig.dispenser.takeNotes(), 'the customer takes the notes');
  await withdrawal;
  t.like(rig.kiosk.snapshot(), { screen: 'another-transaction', view: { kind: 'withdrawal', dispensedCents: 4_000 } });
  t.is(rig.dispenser.receivedCount(COMMAND.RETRACT), 0);
  t.is(rig.dispenser.retractBinCount, 0);
  t.is((await balanceOf(rig, 'rosa', customer.accountId)).balanceCents, 16_000);
  // The limits of the next transaction count it: the balance the kiosk holds is the host's new one.
  t.is(rig.kiosk.snapshot().customer?.accounts[0]?.availableCents, 16_000);
});
