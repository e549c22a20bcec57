// Every failure path of a customer session against a real host and the device simulators: wrong PINs
// block the card, refusals from the host, dispenser jam and short dispense, printer out of paper, the
// host going away mid-transaction, a device going missing, and inactivity.
import test from 'ava';
import { checkLedger } from '../../../bank-host/ledger/check.js';
import { listHolds } from '../../../bank-host/ledger/operator.js';
import type { SessionClock } from '../../../kiosk/core/session.js';
import { SimulatedCardReader } from '../../../kiosk/devices/card-reader/card-reader-simulator.js';
import { createHostOperations } from '../../../bank-host/operations/table.js';
import { startKioskRig, FAST_SCRYPT, PASSWORD, type KioskRig } from './kiosk-rig.js';
import type { TestHost } from '../../helpers/host.js';

async function ledgerWhole(t: import('ava').ExecutionContext, host: TestHost): Promise<void> {
  const services = host.host.state.services;
  const report = await checkLedger(services.db);
  t.true(report.ok, JSON.stringify(report.problems));
  t.deepEqual(await listHolds(services), []);
}

async function balanceOf(rig: KioskRig | { host: TestHost }, username: string, accountId: string): Promise<number> {
  const teller = await rig.host.connectedClient(`teller-${Math.random().toString(16).slice(2, 10)}`);
  await teller.request('signin.password', { username, password: PASSWORD });
  const balance = await teller.request('balance', { accountId });
  teller.close();
  return balance.balanceCents;
}

async function signInWithPassword(rig: KioskRig, username: string): Promise<void> {
  await rig.waitFor((s) => s.screen === 'welcome');
  await rig.kiosk.beginPasswordSignIn(username, PASSWORD);
}

function wrongPin(pin: string): string {
  return pin.split('').map((d) => String((Number(d) + 1) % 10)).join('');
}

test('three wrong PINs block the card: the second warns of the last try, and the kiosk tells the customer to contact the bank', async (t) => {
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  const card = await rig.customer('erin', 10_000);
  await rig.waitFor((s) => s.screen === 'welcome');
  rig.swipe(card);
  await rig.waitFor((s) => s.screen === 'pin');
  for (let attempt = 1; attempt <= 2; attempt++) {
    rig.typePin(wrongPin(card.pin), 'enter');
    const expected = attempt === 2 ? 'WRONG_PIN_LAST_TRY' : 'WRONG_PIN';
    const s = await rig.waitFor((x) => x.screen === 'pin' && x.notice?.code === expected);
    t.is(s.pinDigits, 0);
    rig.kiosk.touch();
  }
  rig.typePin(wrongPin(card.pin), 'enter');
  const blocked = await rig.waitFor((s) => s.screen === 'goodbye');
  t.is(blocked.notice?.code, 'CARD_BLOCKED');
  t.is(blocked.customer, undefined);
  await rig.waitFor((s) => s.screen === 'welcome');
  // Even the right PIN no longer works.
  rig.swipe(card);
  await rig.waitFor((s) => s.screen === 'pin');
  rig.typePin(card.pin, 'enter');
  t.is((await rig.waitFor((s) => s.screen === 'goodbye')).notice?.code, 'CARD_BLOCKED');
});

test('insufficient funds, the per-withdrawal maximum and the daily limit are refused without touching the dispenser, in one session across transactions', async (t) => {
  const rig = await startKioskRig({ hostConfig: { dailyWithdrawalLimitCents: 10_000, maxWithdrawalCents: 8_000 } });
  t.teardown(() => rig.close());
  const card = await rig.customer('frank', 20_000);
  await signInWithPassword(rig, 'frank');
  await rig.kiosk.selectMenu('withdraw');
  await rig.kiosk.withdraw(10_000);
  t.is(rig.kiosk.snapshot().notice?.code, 'LIMIT_EXCEEDED');
  await rig.kiosk.withdraw(6_000);
  t.is(rig.kiosk.snapshot().screen, 'another-transaction');
  // Another transaction in the same session: the daily limit counts the first withdrawal.
  await rig.kiosk.anotherTransaction(true);
  t.is(rig.kiosk.snapshot().screen, 'menu');
  t.deepEqual(rig.kiosk.snapshot().fastCashCents, [2_000, 4_000], 'fast cash offers only what the daily limit still allows');
  await rig.kiosk.selectMenu('withdraw');
  await rig.kiosk.withdraw(6_000);
  t.is(rig.kiosk.snapshot().notice?.code, 'DAILY_LIMIT_EXCEEDED');
  t.is(rig.kiosk.snapshot().screen, 'withdraw');
  rig.kiosk.cancel();

  const poor = await rig.customer('gina', 3_000);
  await signInWithPassword(rig, 'gina');
  await rig.kiosk.selectMenu('withdraw');
  await rig.kiosk.withdraw(4_000);
  t.is(rig.kiosk.snapshot().notice?.code, 'INSUFFICIENT_FUNDS');
  await rig.kiosk.withdraw(3_000);
  t.is(rig.kiosk.snapshot().notice?.code, 'NOT_PAYABLE', 'an amount the notes cannot make is refused before the host is asked');
  rig.kiosk.cancel();
  t.deepEqual(rig.dispenser.lifetimeDispensed, [3, 0]);
  t.is(await balanceOf(rig, 'gina', poor.accountId), 3_000);
  t.is(await balanceOf(rig, 'frank', card.accountId), 14_000);
  await ledgerWhole(t, rig.host);
});

test('a jam before any note moves reverses the hold and takes the kiosk out of service', async (t) => {
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  const customer = await rig.customer('hank', 20_000);
  await signInWithPassword(rig, 'hank');
  await rig.kiosk.selectMenu('withdraw');
  rig.dispenser.jamNextDispense(0);
  await rig.kiosk.withdraw(4_000);
  t.is(rig.lastGoodbye()?.notice?.code, 'DISPENSER_JAM');
  const out = await rig.waitFor((x) => x.screen === 'out-of-service');
  t.true(out.outOfServiceReasons.some((r) => r.startsWith('dispenser:')), JSON.stringify(out.outOfServiceReasons));
  t.is(await balanceOf(rig, 'hank', customer.accountId), 20_000);
  await ledgerWhole(t, rig.host);
});

test('a jam after some notes completes for what was dispensed', async (t) => {
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  const customer = await rig.customer('ivan', 20_000);
  await signInWithPassword(rig, 'ivan');
  await rig.kiosk.selectMenu('withdraw');
  rig.dispenser.jamNextDispense(1);
  await rig.kiosk.withdraw(6_000, undefined, true); // 3 × $20, jams after the first; a receipt asked for
  const s = rig.kiosk.snapshot();
  t.is(s.screen, 'another-transaction');
  t.deepEqual(s.view, { kind: 'withdrawal', amountCents: 6_000, dispensedCents: 2_000, short: true });
  t.deepEqual(s.notice, { code: 'SHORT_DISPENSE', amountCents: 2_000 });
  const text = (rig.printer.receipts.at(-1) ?? []).join('\n');
  t.true(text.includes('WITHDRAWAL $20.00'), text);
  t.true(text.includes('Requested $60.00'), text);
  t.is(await balanceOf(rig, 'ivan', customer.accountId), 18_000);
  // The visit may go on without cash (balance, deposit, transfer); once it ends, the kiosk is out of service.
  t.false(rig.kiosk.snapshot().withdrawalAvailable);
  await rig.kiosk.anotherTransaction(false);
  await rig.waitFor((x) => x.screen === 'out-of-service');
  await ledgerWhole(t, rig.host);
});

test('a short dispense (pick failure) completes for what was dispensed and the kiosk stays in service', async (t) => {
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  const customer = await rig.customer('judy', 30_000);
  await signInWithPassword(rig, 'judy');
  await rig.kiosk.selectMenu('withdraw');
  rig.dispenser.shortNextDispense([0, 1]);
  await rig.kiosk.withdraw(14_000); // 2 × $20 + 2 × $50; one $50 is not picked
  const s = rig.kiosk.snapshot();
  t.deepEqual(s.view, { kind: 'withdrawal', amountCents: 14_000, dispensedCents: 9_000, short: true });
  t.is(await balanceOf(rig, 'judy', customer.accountId), 21_000);
  await rig.kiosk.anotherTransaction(false);
  await rig.waitFor((x) => x.screen === 'welcome');
  await ledgerWhole(t, rig.host);
});

test('a printer out of paper: no receipt is offered, and one that runs out at print time is reported', async (t) => {
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  await rig.customer('kate', 30_000);
  rig.printer.setPaper('out');
  await rig.waitFor((s) => s.screen === 'welcome' && !s.receiptAvailable);
  t.deepEqual(rig.kiosk.snapshot().outOfServiceReasons, [], 'the printer is not required to serve customers');
  await rig.kiosk.beginPasswordSignIn('kate', PASSWORD);
  await rig.depositNotes([1_000]);
  t.false(rig.kiosk.snapshot().receiptAvailable);
  await rig.kiosk.chooseReceipt(true);
  t.like(rig.kiosk.snapshot(), { screen: 'another-transaction', notice: { code: 'RECEIPT_UNAVAILABLE' } });
  await rig.kiosk.anotherTransaction(false);

  rig.printer.setPaper('ok');
  await rig.waitFor((s) => s.screen === 'welcome' && s.receiptAvailable);
  await rig.kiosk.beginPasswordSignIn('kate', PASSWORD);
  await rig.depositNotes([1_000]);
  rig.printer.setPaper('out');
  await rig.kiosk.chooseReceipt(true);
  t.like(rig.kiosk.snapshot(), { screen: 'another-transaction', notice: { code: 'PRINTER_OUT_OF_PAPER' } });
  t.is(rig.printer.receipts.length, 0);
});

test('the host going down ends the session, the kiosk goes out of service and comes back by itself', async (t) => {
  const rig = await startKioskRig();
  let host = rig.host;
  t.teardown(async () => {
    if (host !== rig.host) await host.stop();
    await rig.close();
  });
  await rig.customer('liam', 10_000);
  await signInWithPassword(rig, 'liam');
  await rig.host.stop();
  const ended = await rig.waitFor((s) => s.screen === 'goodbye' || s.screen === 'out-of-service');
  t.is(ended.customer, undefined);
  const out = await rig.waitFor((s) => s.screen === 'out-of-service');
  t.true(out.outOfServiceReasons.includes('host-unreachable'));
  host = await rig.host.restart();
  await rig.waitFor((s) => s.screen === 'welcome');
  await rig.kiosk.beginPasswordSignIn('liam', PASSWORD);
  t.is(rig.kiosk.snapshot().screen, 'menu');
});

test('the host going down between dispense and completion: the kiosk completes the withdrawal once the host is back', async (t) => {
  let stopping: Promise<void> | undefined;
  let rig: KioskRig | undefined;
  rig = await startKioskRig({
    kioskOptions: {
      withdrawalDeadlines: { settleDeadlineMs: 1_000 },
      onWithdrawalStep: (point) => {
        if (point === 'notes-dispensed' && rig) stopping = rig.host.stop();
      },
    },
  });
  const r = rig;
  let host = r.host;
  t.teardown(async () => {
    if (host !== r.host) await host.stop();
    await r.close();
  });
  const customer = await r.customer('mona', 20_000);
  await signInWithPassword(r, 'mona');
  await r.kiosk.selectMenu('withdraw');
  await r.kiosk.withdraw(4_000);
  await stopping;
  t.deepEqual(r.lastGoodbye()?.notice, { code: 'TRANSACTION_INCOMPLETE', amountCents: 4_000 });
  const out = await r.waitFor((x) => x.screen === 'out-of-service');
  t.true(out.outOfServiceReasons.some((reason) => reason.startsWith('recovery-pending')), JSON.stringify(out.outOfServiceReasons));
  host = await r.host.restart();
  await r.waitFor((x) => x.screen === 'welcome', 15_000);
  t.is(await balanceOf({ host }, 'mona', customer.accountId), 16_000);
  await ledgerWhole(t, host);
});

test('a missing card reader or a silent dispenser puts the kiosk out of service until it returns', async (t) => {
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  await rig.waitFor((s) => s.screen === 'welcome');
  (rig.kiosk.devices.cardReader as SimulatedCardReader).device.unplug();
  const out = await rig.waitFor((s) => s.screen === 'out-of-service');
  t.true(out.outOfServiceReasons.some((r) => r.startsWith('card-reader:')), JSON.stringify(out.outOfServiceReasons));
  (rig.kiosk.devices.cardReader as SimulatedCardReader).device.plugIn();
  await rig.waitFor((s) => s.screen === 'welcome');

  rig.dispenser.goSilent(4_000);
  const silent = await rig.waitFor((s) => s.screen === 'out-of-service', 15_000);
  t.true(silent.outOfServiceReasons.some((r) => r.startsWith('dispenser:')), JSON.stringify(silent.outOfServiceReasons));
  await rig.waitFor((s) => s.screen === 'welcome', 15_000);
});

class ManualClock implements SessionClock {
  private nowMs = 0;
  private readonly timers = new Map<number, { dueMs: number; callback: () => void }>();
  private nextId = 1;
  setTimeout(callback: () => void, delayMs: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { dueMs: this.nowMs + delayMs, callback });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  advance(ms: number): void {
    this.nowMs += ms;
    for (const [id, timer] of [...this.timers].sort((a, b) => a[1].dueMs - b[1].dueMs)) {
      if (timer.dueMs > this.nowMs || !this.timers.has(id)) continue;
      this.timers.delete(id);
      timer.callback();
    }
  }
}

test('inactivity warns, a touch keeps the session, and more inactivity ends it and clears the customer', async (t) => {
  const clock = new ManualClock();
  const rig = await startKioskRig({ kioskOptions: { clock } });
  t.teardown(() => rig.close());
  await rig.customer('nora', 10_000);
  await signInWithPassword(rig, 'nora');
  const idle = rig.kiosk.snapshot();
  t.is(idle.screen, 'menu');
  clock.advance(60_000 - 15_000);
  t.true(rig.kiosk.snapshot().idleWarning);
  rig.kiosk.touch();
  t.false(rig.kiosk.snapshot().idleWarning);
  clock.advance(59_000);
  t.is(rig.kiosk.snapshot().screen, 'menu');
  clock.advance(1_000);
  const ended = rig.kiosk.snapshot();
  t.is(ended.screen, 'goodbye');
  t.is(ended.notice?.code, 'TIMEOUT');
  t.is(ended.customer, undefined);
  clock.advance(50);
  // Welcome follows goodbye once the host has answered the sign-out (at most SIGNOUT_TIMEOUT_MS).
  await rig.waitFor((s) => s.screen === 'welcome', 5_000);
});

test('cancel at the PIN step disarms the PIN pad and ends the session', async (t) => {
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  const card = await rig.customer('omar', 0);
  await rig.waitFor((s) => s.screen === 'welcome');
  rig.swipe(card);
  await rig.waitFor((s) => s.screen === 'pin');
  rig.typePin('12');
  await rig.waitFor((s) => s.pinDigits === 2);
  rig.pinPad.press('cancel');
  const s = await rig.waitFor((x) => x.screen === 'goodbye');
  t.is(s.notice?.code, 'CANCELLED');
  t.false(rig.pinPad.isArmed);
});

test('the host going down before it answers the authorization: nothing is dispensed and nothing stays held', async (t) => {
  let stopping: Promise<void> | undefined;
  let rig: KioskRig | undefined;
  rig = await startKioskRig({
    kioskOptions: {
      withdrawalDeadlines: { authorizeDeadlineMs: 1_000 },
      onWithdrawalStep: (point) => {
        if (point === 'journalled-authorizing' && rig) stopping = rig.host.stop();
      },
    },
  });
  const r = rig;
  let host = r.host;
  t.teardown(async () => {
    if (host !== r.host) await host.stop();
    await r.close();
  });
  const customer = await r.customer('pete', 20_000);
  await signInWithPassword(r, 'pete');
  await r.kiosk.selectMenu('withdraw');
  await r.kiosk.withdraw(4_000);
  await stopping;
  t.is(r.lastGoodbye()?.notice?.code, 'HOST_UNAVAILABLE');
  await r.waitFor((x) => x.screen === 'out-of-service');
  host = await r.host.restart();
  await r.waitFor((x) => x.screen === 'welcome', 15_000);
  t.deepEqual(r.dispenser.lifetimeDispensed, [0, 0]);
  t.is(await balanceOf({ host }, 'pete', customer.accountId), 20_000);
  await ledgerWhole(t, host);
});

test('a dispense response lost on the line: the kiosk learns from the dispenser what moved and completes for it', async (t) => {
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  const customer = await rig.customer('rita', 20_000);
  await signInWithPassword(rig, 'rita');
  await rig.kiosk.selectMenu('withdraw');
  rig.dispenser.goSilentDuringNextDispense(2_000);
  await rig.kiosk.withdraw(6_000);
  const s = rig.kiosk.snapshot();
  t.deepEqual(s.view, { kind: 'withdrawal', amountCents: 6_000, dispensedCents: 6_000, short: false });
  t.deepEqual(rig.dispenser.lifetimeDispensed, [3, 0], 'the dispense was never sent again');
  t.is(await balanceOf(rig, 'rita', customer.accountId), 14_000);
  await ledgerWhole(t, rig.host);
});

test('a deposit commit the host never answers: the customer is told it will be credited, and recovery credits it once with the same request id', async (t) => {
  // The host takes the commit and does not answer until the kiosk has given up (a host stalled on its disk).
  const operations = createHostOperations({ scryptCost: FAST_SCRYPT });
  const commitRequestIds: string[] = [];
  let hang = false;
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const rig = await startKioskRig({
    kioskOptions: { depositDeadlines: { commitDeadlineMs: 1_500 } },
    operations: {
      ...operations,
      'deposit.commit': async (ctx, body) => {
        if (hang) {
          commitRequestIds.push(ctx.requestId);
          await released;
        }
        return operations['deposit.commit']!(ctx, body);
      },
    },
  });
  t.teardown(() => rig.close());
  const customer = await rig.customer('ursula', 10_000);
  await signInWithPassword(rig, 'ursula');
  await rig.kiosk.selectMenu('deposit');
  await rig.kiosk.beginDeposit();
  await rig.insertNotes([2_000, 500]);
  hang = true;
  await rig.kiosk.depositDone();
  t.deepEqual(rig.lastGoodbye()?.notice, { code: 'DEPOSIT_UNCONFIRMED', amountCents: 2_500 });
  t.is(rig.lastGoodbye()?.customer, undefined);
  t.true(commitRequestIds.length >= 1, 'the host received the commit');
  t.is(await balanceOf(rig, 'ursula', customer.accountId), 10_000, 'the host never answered, so nothing was credited');
  t.false(rig.kiosk.snapshot().depositAvailable, 'no deposit while one is unfinished');
  // The host answers again: recovery commits the same notes with the same request id, once.
  hang = false;
  release();
  await rig.waitFor((s) => s.depositAvailable && s.screen === 'welcome', 15_000);
  t.is(await balanceOf(rig, 'ursula', customer.accountId), 12_500);
  t.is(new Set(commitRequestIds).size, 1, 'every send of the commit carried the one request id');
  await ledgerWhole(t, rig.host);
});
