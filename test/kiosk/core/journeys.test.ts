// Full customer journeys against a real bank host on loopback, with the HID simulators fed real report
// bytes and the dispenser and printer simulators on socat pty pairs.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { addCustomer, openAccount } from '../../../bank-host/customers/admin.js';
import { createBankingOperations } from '../../../bank-host/operations/banking.js';
import { parseKioskConfig } from '../../../kiosk/core/config.js';
import { KioskCommandError, KioskController } from '../../../kiosk/core/kiosk.js';
import { eventually, startTestHost } from '../../helpers/host.js';
import { checkLedger } from '../../../bank-host/ledger/check.js';
import { listHolds } from '../../../bank-host/ledger/operator.js';
import { startKioskRig, CASSETTES, FAST_SCRYPT, PASSWORD, KIOSK_ID, TEST_EPP_IDENTITY_FILE, type KioskRig } from './kiosk-rig.js';

async function assertLedgerWhole(t: import('ava').ExecutionContext, rig: KioskRig): Promise<void> {
  const services = rig.host.host.state.services;
  const report = await checkLedger(services.db);
  t.true(report.ok, JSON.stringify(report.problems));
  t.deepEqual(await listHolds(services), []);
}

test('card and PIN: withdraw $60 from fast cash, print a receipt, and return to welcome', async (t) => {
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  const card = await rig.customer('alice', 50_000);
  await rig.waitFor((s) => s.screen === 'welcome');
  t.deepEqual(rig.kiosk.snapshot().outOfServiceReasons, []);

  rig.kiosk.chooseLanguage('fr');
  rig.kiosk.beginCardSignIn();
  rig.swipe(card);
  await rig.waitFor((s) => s.screen === 'pin');
  rig.typePin(card.pin.slice(0, 2));
  const partial = await rig.waitFor((s) => s.pinDigits === 2);
  t.false(JSON.stringify(partial).includes(card.pin.slice(0, 2) + card.pin.slice(2)), 'the snapshot never holds the PIN');
  rig.typePin(card.pin.slice(2), 'enter');
  const menu = await rig.waitFor((s) => s.screen === 'menu');
  t.is(menu.language, 'fr');
  t.is(menu.customer?.cardLast4, card.pan.slice(-4));
  t.true(menu.fastCashCents.includes(6_000));

  await rig.kiosk.selectMenu('withdraw');
  t.true(rig.kiosk.snapshot().receiptAvailable);
  await rig.kiosk.withdraw(6_000, undefined, true);
  const receipt = rig.kiosk.snapshot();
  t.is(receipt.screen, 'another-transaction', JSON.stringify(receipt));
  t.deepEqual(receipt.view, { kind: 'withdrawal', amountCents: 6_000, dispensedCents: 6_000, short: false });
  t.deepEqual(rig.dispenser.lifetimeDispensed, [3, 0]);
  const printed = rig.printer.receipts.at(-1) ?? [];
  const text = printed.join('\n');
  t.true(text.includes('WITHDRAWAL $60.00'), text);
  t.true(text.includes(`************${card.pan.slice(-4)}`));
  t.false(text.includes(card.pan), 'never the full PAN');
  t.true(text.includes(KIOSK_ID));
  t.regex(text, /Auth: auth_\w+/);
  t.like(rig.kiosk.snapshot(), { screen: 'another-transaction', notice: { code: 'RECEIPT_PRINTED' } });
  await rig.kiosk.anotherTransaction(false);
  await rig.waitFor((s) => s.screen === 'welcome');
  t.is(rig.kiosk.snapshot().customer, undefined);

  const teller = await rig.host.connectedClient('teller-check');
  await teller.request('signin.password', { username: 'alice', password: PASSWORD });
  const balance = await teller.request('balance', { accountId: card.accountIds[0]! });
  t.is(balance.balanceCents, 44_000);
  teller.close();
  await assertLedgerWhole(t, rig);
});

test('username and password: balance, deposit, history, transfer between own accounts, no receipt', async (t) => {
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  await rig.customer('bob', 10_000);
  const savings = await openAccount(rig.host.host.state.services, 'bob', 'savings');
  await rig.waitFor((s) => s.screen === 'welcome');
  await rig.kiosk.beginPasswordSignIn('bob', PASSWORD);
  let s = rig.kiosk.snapshot();
  t.is(s.screen, 'menu');
  t.is(s.customer?.username, 'bob');

  await rig.kiosk.selectMenu('balance');
  s = rig.kiosk.snapshot();
  t.is(s.screen, 'balance');
  t.is(s.view?.kind === 'balance' ? s.view.account.balanceCents : -1, 10_000);
  await rig.kiosk.selectMenu('menu');

  s = await rig.depositNotes([2_000, 500]);
  t.is(s.screen, 'receipt');
  t.is(s.view?.kind === 'deposit' ? s.view.account.balanceCents : -1, 12_500);
  t.is(s.view?.kind === 'deposit' ? s.view.creditedCents : -1, 2_500);
  await rig.kiosk.chooseReceipt(false);
  await rig.kiosk.anotherTransaction(false);
  t.is(rig.lastGoodbye()?.customer, undefined);
  t.is(rig.printer.receipts.length, 0);
  await rig.waitFor((x) => x.screen === 'welcome');

  await rig.kiosk.beginPasswordSignIn('bob', PASSWORD);
  await rig.kiosk.selectMenu('history');
  s = rig.kiosk.snapshot();
  t.is(s.screen, 'history');
  t.deepEqual(s.view?.kind === 'history' ? s.view.entries.map((e) => e.amountCents).sort() : [], [10_000, 2_500].sort());
  await rig.kiosk.history({ kinds: ['deposit'], sinceMs: Date.now() - 60_000 });
  t.is(rig.kiosk.snapshot().screen, 'history');
  await rig.kiosk.selectMenu('menu');
  await rig.kiosk.selectMenu('transfer');
  const chequing = rig.kiosk.snapshot().customer!.accounts.find((a) => a.kind === 'chequing')!.accountId;
  await rig.kiosk.transfer({ fromAccountId: chequing, toAccountId: savings.accountId, amountCents: 1_500 });
  s = rig.kiosk.snapshot();
  t.is(s.screen, 'receipt');
  t.deepEqual(s.view?.kind === 'transfer' ? [s.view.from.balanceCents, s.view.to.balanceCents] : [], [11_000, 1_500]);
  rig.kiosk.cancel();
  t.is(rig.kiosk.snapshot().screen, 'goodbye');
  t.is(rig.kiosk.snapshot().customer, undefined);
  await assertLedgerWhole(t, rig);
});

test('registration at the kiosk signs the new customer in', async (t) => {
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  await rig.waitFor((s) => s.screen === 'welcome');
  await rig.kiosk.register('carol', PASSWORD);
  const s = rig.kiosk.snapshot();
  t.is(s.screen, 'menu');
  t.is(s.customer?.accounts[0]?.balanceCents, 0);
  // Registering again from the menu is a UI bug, refused without touching the signed-in session.
  const refused = await t.throwsAsync(rig.kiosk.register('carol', PASSWORD), { instanceOf: KioskCommandError });
  t.is(refused?.code, 'WRONG_STATE');
  t.is(rig.kiosk.snapshot().screen, 'menu');
  t.is(rig.kiosk.snapshot().customer?.username, 'carol');
  rig.kiosk.cancel();
  await rig.waitFor((x) => x.screen === 'welcome');
  await rig.kiosk.register('carol', PASSWORD);
  t.is(rig.kiosk.snapshot().notice?.code, 'USERNAME_TAKEN');
});

test('a kiosk configured with simulated devices runs the real drivers over its own pty pairs', async (t) => {
  const host = await startTestHost({ operations: createBankingOperations({ scryptCost: FAST_SCRYPT }) });
  const journalDir = await mkdtemp(path.join(os.tmpdir(), 'kiosk-simulated-'));
  const kShared = await host.addDevice('kiosk-demo');
  const config = parseKioskConfig({
    deviceId: 'kiosk-demo',
    host: '127.0.0.1',
    port: host.port,
    kSharedFile: 'unused',
    journalDir,
    devices: { cardReader: { kind: 'simulated' }, pinPad: { kind: 'on-screen' }, dispenser: { kind: 'simulated' }, printer: { kind: 'simulated' }, noteAcceptor: { kind: 'simulated' } },
    demoPinEntry: { identityFile: TEST_EPP_IDENTITY_FILE },
    cassettes: CASSETTES,
  });
  const kiosk = new KioskController({ config, kShared, deviceCheckIntervalMs: 200 });
  t.teardown(async () => {
    await kiosk.stop();
    await host.close();
    await rm(journalDir, { recursive: true, force: true });
  });
  const added = await addCustomer(host.host.state.services, 'demo', PASSWORD, { scryptCost: FAST_SCRYPT });
  await kiosk.start();
  t.is(kiosk.snapshot().screen, 'welcome');
  t.true(kiosk.snapshot().onScreenPinPad);
  await kiosk.beginPasswordSignIn('demo', PASSWORD);
  await kiosk.selectMenu('deposit');
  await kiosk.beginDeposit(added.accountId);
  t.is(kiosk.simulators.noteAcceptorSimulator?.insertNote(10_000), 'escrow');
  t.true(await eventually(() => { const view = kiosk.snapshot().view; return view?.kind === 'deposit-counting' && view.totalCents === 10_000 && !view.counting; }, 10_000));
  await kiosk.depositDone();
  await kiosk.chooseReceipt(true);
  t.true((kiosk.simulators.printerSimulator?.receipts.at(-1) ?? []).join('\n').includes('DEPOSIT $100.00'));
  t.throws(() => kiosk.pinPadPress(1), { message: /not possible on the another-transaction screen/ });
});

test('the on-screen PIN pad takes digits from the UI and the snapshot only counts them', async (t) => {
  const rig = await startKioskRig({ config: { devices: { cardReader: { kind: 'simulated' }, pinPad: { kind: 'on-screen' }, dispenser: { kind: 'simulated' }, printer: { kind: 'simulated' } } } });
  t.teardown(() => rig.close());
  const card = await rig.customer('quinn', 10_000);
  await rig.waitFor((s) => s.screen === 'welcome');
  rig.swipe(card);
  await rig.waitFor((s) => s.screen === 'pin');
  for (const digit of card.pin) rig.kiosk.pinPadPress(Number(digit) as 0);
  t.is(rig.kiosk.snapshot().pinDigits, card.pin.length);
  t.throws(() => rig.kiosk.pinPadPress(12 as 0), { message: /0\.\.9/ });
  rig.kiosk.pinPadPress('enter');
  await rig.waitFor((s) => s.screen === 'menu');
  t.pass();
});

test("the history screen's activity view lists the customer's own actions, failures included, and no one else's", async (t) => {
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  const una = await rig.customer('una', 3_000);
  await rig.customer('victor', 5_000);
  await rig.waitFor((s) => s.screen === 'welcome');

  // Victor signs in first: nothing of his may show in Una's activity.
  await rig.kiosk.beginPasswordSignIn('victor', PASSWORD);
  await rig.kiosk.selectMenu('balance');
  rig.kiosk.cancel();
  await rig.waitFor((s) => s.screen === 'welcome');

  await rig.kiosk.beginPasswordSignIn('una', PASSWORD);
  await rig.kiosk.selectMenu('withdraw');
  await rig.kiosk.withdraw(4_000); // more than she has: refused at the kiosk, nothing sent
  t.deepEqual(rig.kiosk.snapshot().notice, { code: 'INSUFFICIENT_FUNDS', amountCents: 3_000, requestedCents: 4_000 });
  // Meanwhile another kiosk holds $20 of her $30: the kiosk's figure is out of date, and the host refuses.
  const elsewhere = await rig.host.connectedClient('kiosk-elsewhere');
  await elsewhere.request('signin.password', { username: 'una', password: PASSWORD });
  await elsewhere.request('withdraw.authorize', { accountId: una.accountId, amountCents: 2_000 });
  elsewhere.close();
  await rig.kiosk.withdraw(2_000);
  t.deepEqual(rig.kiosk.snapshot().notice, { code: 'INSUFFICIENT_FUNDS', amountCents: 1_000, requestedCents: 2_000 }, 'the refusal names what is available now');
  await rig.kiosk.selectMenu('menu');
  await rig.kiosk.selectMenu('history');
  await rig.kiosk.activity({});
  const s = rig.kiosk.snapshot();
  t.is(s.screen, 'history');
  if (s.view?.kind !== 'activity') return t.fail(JSON.stringify(s.view));
  const actions = s.view.entries.map((e) => `${e.action}:${e.outcome}${e.reason ? `:${e.reason}` : ''}`);
  t.is(actions[0], 'history:ok', actions.join(', '));
  const failed = s.view.entries.find((e) => e.action === 'withdraw.authorize' && e.outcome === 'failed');
  if (!failed) return t.fail(actions.join(', '));
  t.is(failed.reason, 'INSUFFICIENT_FUNDS');
  t.is(failed.amountCents, 2_000);
  t.is(failed.line.split(' | ')[1], 'withdraw $20.00 failed - insufficient funds');
  t.false(s.view.entries.some((e) => e.amountCents === 4_000), 'the amount refused at the kiosk never reached the host');
  t.true(s.view.entries.every((e) => e.line.startsWith(`${una.customerId} | `)), 'only her own records');
  t.true(s.view.entries.length <= 6, 'one screen-sized page');

  // The next page continues where the first ended, newest first.
  if (s.view.nextCursor) {
    const firstSeqs = s.view.entries.map((e) => e.seq);
    await rig.kiosk.activity({ cursor: s.view.nextCursor });
    const next = rig.kiosk.snapshot().view;
    if (next?.kind !== 'activity') return t.fail();
    t.true(next.entries.every((e) => e.seq < Math.min(...firstSeqs)));
  }
  await rig.kiosk.selectMenu('menu');
  await t.throwsAsync(rig.kiosk.activity({}), { instanceOf: KioskCommandError }, 'only from the history screen');
});
