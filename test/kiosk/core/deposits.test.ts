// Deposits of notes at the kiosk core, against a real bank host and the note acceptor simulator on a
// socat pty: the acceptor takes notes only during a deposit; the credit is the notes stacked; a note over
// the day's deposit limit goes back; Cancel, the header's Cancel and inactivity each credit what was
// stacked; a withdrawal an operator settled first is closed as such (SETTLED_BY_OPERATOR).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { readKioskStatus } from '../../../bank-host/devices/kiosk-status.js';
import { listMoneyExceptions, listOpenDeposits } from '../../../bank-host/ledger/deposit-operator.js';
import { checkLedger } from '../../../bank-host/ledger/check.js';
import { resolveHold } from '../../../bank-host/ledger/operator.js';
import { createHostOperations } from '../../../bank-host/operations/table.js';
import { JOURNAL_FILE, KioskJournal, parseJournal } from '../../../kiosk/core/journal.js';
import type { SessionClock } from '../../../kiosk/core/session.js';
import { HEADER } from '../../../kiosk/devices/note-acceptor/headers.js';
import { createLogger } from '../../../protocol/log.js';
import { eventually } from '../../helpers/host.js';
import { FAST_SCRYPT, KIOSK_ID, PASSWORD, startKioskRig, type KioskRig } from './kiosk-rig.js';

/** Session timers that run only when the test says so. */
class HeldClock implements SessionClock {
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

async function balanceOf(rig: KioskRig, username: string, accountId: string): Promise<{ balanceCents: number; availableCents: number }> {
  const teller = await rig.host.connectedClient(`teller-check-${Date.now() % 100_000}`);
  try {
    await teller.request('signin.password', { username, password: PASSWORD });
    return await teller.request('balance', { accountId });
  } finally {
    teller.close();
  }
}

const stackedCents = (rig: KioskRig) => rig.acceptor.stackedNotes().reduce((sum, n) => sum + n.valueCents, 0);

async function booksWhole(t: import('ava').ExecutionContext, rig: KioskRig): Promise<void> {
  const services = rig.host.host.state.services;
  const ledger = await checkLedger(services.db);
  t.true(ledger.ok, JSON.stringify(ledger.problems));
  t.deepEqual(await listOpenDeposits(services.db), [], 'no deposit left open at the host');
}

test('the acceptor takes notes only during a deposit: a note inserted at the welcome screen or the menu is given back', async (t) => {
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  const customer = await rig.customer('ada', 0);
  await rig.waitFor((s) => s.screen === 'welcome' && s.depositAvailable);
  t.false(rig.acceptor.masterEnabled, 'disabled from the start');
  t.is(rig.acceptor.insertNote(2_000), 'rejected');
  await rig.kiosk.beginPasswordSignIn('ada', PASSWORD);
  t.is(rig.acceptor.insertNote(2_000), 'rejected', 'at the menu');
  await rig.kiosk.selectMenu('deposit');
  t.is(rig.acceptor.insertNote(2_000), 'rejected', 'on the deposit screen before the deposit is open');
  await rig.kiosk.beginDeposit();
  t.true(rig.acceptor.masterEnabled);
  t.deepEqual(rig.acceptor.enabledBillTypes.length, 5, 'the notes both the host and the kiosk take');
  const s = await rig.insertNotes([2_000, 5_000]);
  t.like(s.view, { kind: 'deposit-counting', totalCents: 7_000, notes: [{ denominationCents: 2_000, count: 1 }, { denominationCents: 5_000, count: 1 }] });
  await rig.kiosk.depositDone();
  t.false(rig.acceptor.masterEnabled, 'disabled when the deposit ends');
  t.like(rig.kiosk.snapshot().view, { kind: 'deposit', creditedCents: 7_000 });
  t.is((await balanceOf(rig, 'ada', customer.accountId)).balanceCents, 7_000);
  t.is(stackedCents(rig), 7_000);
  await booksWhole(t, rig);
});

test("a note that would take the day's deposits over the limit goes back, and the screen says how much more may be deposited", async (t) => {
  const rig = await startKioskRig({ hostConfig: { depositDailyCapCents: 10_000 } });
  t.teardown(() => rig.close());
  const customer = await rig.customer('bea', 0);
  await rig.waitFor((s) => s.screen === 'welcome' && s.depositAvailable);
  await rig.kiosk.beginPasswordSignIn('bea', PASSWORD);
  t.is(rig.kiosk.snapshot().customer?.depositRemainingTodayCents, 10_000);
  await rig.kiosk.selectMenu('deposit');
  await rig.kiosk.beginDeposit();
  let s = await rig.insertNotes([5_000, 2_000]);
  t.like(s.view, { kind: 'deposit-counting', remainingTodayCents: 3_000 });
  t.is(rig.acceptor.insertNote(5_000), 'escrow');
  s = await rig.waitFor((x) => x.notice?.code === 'DEPOSIT_LIMIT_REACHED');
  t.deepEqual(s.notice, { code: 'DEPOSIT_LIMIT_REACHED', amountCents: 3_000 });
  t.true(await eventually(() => rig.acceptor.returnedNotes().some((n) => n.valueCents === 5_000)), 'the $50 went back');
  await rig.insertNotes([2_000]);
  await rig.kiosk.depositDone();
  t.like(rig.kiosk.snapshot().view, { kind: 'deposit', creditedCents: 9_000 });
  t.is((await balanceOf(rig, 'bea', customer.accountId)).balanceCents, 9_000);
  t.is(stackedCents(rig), 9_000);
  await booksWhole(t, rig);
});

test('Cancel with nothing counted closes the deposit with no credit; with notes counted they are credited and the screen says so', async (t) => {
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  const customer = await rig.customer('cyd', 0);
  await rig.waitFor((s) => s.screen === 'welcome' && s.depositAvailable);
  await rig.kiosk.beginPasswordSignIn('cyd', PASSWORD);
  await rig.kiosk.selectMenu('deposit');
  await rig.kiosk.beginDeposit();
  await rig.kiosk.depositCancel();
  let s = rig.kiosk.snapshot();
  t.is(s.screen, 'menu');
  t.deepEqual(s.notice, { code: 'DEPOSIT_CANCELLED' });
  t.deepEqual(await listOpenDeposits(rig.host.host.state.services.db), [], 'the host closed the deposit');
  await rig.kiosk.selectMenu('deposit');
  await rig.kiosk.beginDeposit();
  await rig.insertNotes([1_000]);
  await rig.kiosk.depositCancel();
  s = rig.kiosk.snapshot();
  t.is(s.screen, 'receipt');
  t.deepEqual(s.notice, { code: 'DEPOSIT_CANCELLED_CREDITED', amountCents: 1_000 });
  t.is((await balanceOf(rig, 'cyd', customer.accountId)).balanceCents, 1_000);
  await booksWhole(t, rig);
});

test("the header's Cancel and inactivity during a deposit credit the notes counted, then goodbye says so", async (t) => {
  const clock = new HeldClock();
  const rig = await startKioskRig({ kioskOptions: { clock } });
  t.teardown(() => rig.close());
  const customer = await rig.customer('dee', 0);
  await rig.waitFor((s) => s.screen === 'welcome' && s.depositAvailable);
  await rig.kiosk.beginPasswordSignIn('dee', PASSWORD);
  await rig.kiosk.selectMenu('deposit');
  await rig.kiosk.beginDeposit();
  await rig.insertNotes([2_000]);
  rig.kiosk.cancel();
  await rig.waitFor((s) => s.screen === 'goodbye');
  t.deepEqual(rig.lastGoodbye()?.notice, { code: 'DEPOSIT_CREDITED', amountCents: 2_000 });
  t.false(rig.acceptor.masterEnabled);
  clock.fire(50); // goodbye done
  await rig.waitFor((s) => s.screen === 'welcome');

  await rig.kiosk.beginPasswordSignIn('dee', PASSWORD);
  t.is(rig.kiosk.snapshot().screen, 'menu', JSON.stringify(rig.kiosk.snapshot()));
  await rig.kiosk.selectMenu('deposit');
  await rig.kiosk.beginDeposit();
  await rig.insertNotes([500]);
  t.is(clock.fire(60_000), 1, 'the inactivity timer ran out');
  await rig.waitFor((s) => s.screen === 'goodbye');
  t.deepEqual(rig.lastGoodbye()?.notice, { code: 'DEPOSIT_CREDITED_TIMEOUT', amountCents: 500 });
  t.is((await balanceOf(rig, 'dee', customer.accountId)).balanceCents, 2_500);
  t.is(stackedCents(rig), 2_500);
  await booksWhole(t, rig);
});

test('a hold an operator settled after the notes were dispensed: the kiosk closes its record as settled by the operator, keeps what it dispensed, logs it and reports it in its status', async (t) => {
  const operations = createHostOperations({ scryptCost: FAST_SCRYPT });
  const logLines: string[] = [];
  let rig: KioskRig | undefined;
  let operatorFirst = true;
  rig = await startKioskRig({
    kioskOptions: { log: createLogger({ level: 'info', write: (line) => logLines.push(line) }) },
    operations: {
      ...operations,
      // The operator reverses the hold (thinking the kiosk paid nothing) just before the kiosk's completion arrives.
      'withdraw.complete': async (ctx, body) => {
        if (operatorFirst && rig) {
          operatorFirst = false;
          await resolveHold(rig.host.host.state.services, body.authorizationId, 'reverse');
        }
        return operations['withdraw.complete']!(ctx, body);
      },
    },
  });
  const r = rig;
  t.teardown(() => r.close());
  const customer = await r.customer('eve', 20_000);
  await r.waitFor((s) => s.screen === 'welcome');
  await r.kiosk.beginPasswordSignIn('eve', PASSWORD);
  await r.kiosk.selectMenu('withdraw');
  await r.kiosk.withdraw(4_000);
  const s = r.kiosk.snapshot();
  t.like(s.view, { kind: 'withdrawal', dispensedCents: 4_000 }, 'the customer took the cash');
  t.deepEqual(r.dispenser.lifetimeDispensed, [2, 0]);
  t.deepEqual(s.outOfServiceReasons, [], 'not a reason to stop');
  t.true(s.withdrawalAvailable);

  // The kiosk's status says so (in service), until it restarts.
  const services = r.host.host.state.services;
  const reported = async () => (await readKioskStatus(services.db, KIOSK_ID))?.status;
  t.true(await eventually(async () => (await reported())?.reasons.some((reason) => reason.startsWith('settled-by-operator: withdrawal auth_')) === true && (await reported())?.inService === true), JSON.stringify(await reported()));

  // The journal record is closed as settled by the operator, with what was dispensed.
  await r.kiosk.anotherTransaction(false);
  await r.kiosk.stop();
  const journal = await KioskJournal.open(r.journalDir);
  const records = journal.unfinishedWithdrawals();
  await journal.close();
  t.deepEqual(records, []);
  const { records: lines } = parseJournal(await readFile(path.join(r.journalDir, JOURNAL_FILE), 'utf8'), JOURNAL_FILE);
  t.like(lines.at(-1), { step: 'settled', outcome: 'settled-by-operator', dispensedCents: 4_000, dispensedNotes: [2, 0], postedCents: 0 });
  const warning = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.level === 'warn' && /settled by an operator/.test(String(line.msg)));
  if (!warning) return t.fail(logLines.join('\n'));
  t.is(warning.dispensedCents, 4_000);
  t.regex(String(warning.authorizationId), /^auth_/);

  // The host recorded the kiosk's figure as an exception, and the kiosk's status named it.
  const exceptions = await listMoneyExceptions(services, true);
  t.like(exceptions[0], { kind: 'dispensed-after-operator-settlement', amountCents: 4_000, authorizationId: warning.authorizationId });
  t.true((await reported())?.reasons.some((reason) => reason.startsWith(`settled-by-operator: withdrawal ${String(warning.authorizationId)}, $40.00 dispensed`)), JSON.stringify(await reported()));
  t.is((await balanceOf(r, 'eve', customer.accountId)).balanceCents, 20_000, 'the operator reversed: the difference is the exception for the bank');
  t.true((await checkLedger(services.db)).ok);
});

test('an acceptor that does not know a configured note is a device problem with the reason: no deposits, the kiosk still in service', async (t) => {
  const rig = await startKioskRig({ config: { noteAcceptorCents: [2_000, 5_000, 25_000] } });
  t.teardown(() => rig.close());
  await rig.waitFor((s) => s.screen === 'welcome');
  const s = rig.kiosk.snapshot();
  t.deepEqual(s.outOfServiceReasons, []);
  t.false(s.depositAvailable);
  const status = rig.kiosk.status();
  t.true(status.reasons.some((r) => r.startsWith('note-acceptor: it does not know the configured notes 25000 cents (it knows 500, 1000, 2000, 5000, 10000)')), JSON.stringify(status.reasons));
  t.like(status.devices.find((d) => d.device === 'note-acceptor'), { state: 'fault' });
  t.false(rig.acceptor.masterEnabled);
});

test('a kiosk with no note acceptor offers no deposit and tells the host so', async (t) => {
  const rig = await startKioskRig({ withoutNoteAcceptor: true });
  t.teardown(() => rig.close());
  await rig.waitFor((s) => s.screen === 'welcome');
  t.false(rig.kiosk.snapshot().depositAvailable);
  t.is(rig.kiosk.status().noteAcceptor, undefined);
  t.like(rig.kiosk.status().devices.find((d) => d.device === 'note-acceptor'), { state: 'absent' });
});

test('a stack command lost on the line: the deposit stops, the accept counter says the note was not stacked, it goes back, and the notes counted are credited', async (t) => {
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  const customer = await rig.customer('fay', 0);
  await rig.waitFor((s) => s.screen === 'welcome' && s.depositAvailable);
  await rig.kiosk.beginPasswordSignIn('fay', PASSWORD);
  await rig.kiosk.selectMenu('deposit');
  await rig.kiosk.beginDeposit();
  await rig.insertNotes([2_000]);
  rig.acceptor.loseNextCommand(HEADER.ROUTE_BILL);
  t.is(rig.acceptor.insertNote(5_000), 'escrow');
  // The driver waits for the events to say where the note went (10 s), then the deposit stops.
  const s = await rig.waitFor((x) => x.screen === 'receipt', 30_000);
  t.deepEqual(s.notice, { code: 'DEPOSIT_STOPPED', amountCents: 2_000 });
  t.like(s.view, { kind: 'deposit', creditedCents: 2_000 });
  t.true(await eventually(() => rig.acceptor.returnedNotes().some((n) => n.valueCents === 5_000)), 'the $50 went back');
  t.is(stackedCents(rig), 2_000);
  t.is((await balanceOf(rig, 'fay', customer.accountId)).balanceCents, 2_000);
  await booksWhole(t, rig);
});
