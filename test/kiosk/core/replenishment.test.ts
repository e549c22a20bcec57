// A kiosk driven through replenishment and balancing by a technician's card, against a real bank host on
// loopback with the dispenser, printer and note acceptor simulators on pty pairs: the supervisor mode's
// steps, the host's alert, balancing report and ledger postings, the receipts, and the refusals.
import test from 'ava';
import { addTechnician } from '../../../bank-host/customers/technicians.js';
import { readLatestBalancing } from '../../../bank-host/fleet/balancing.js';
import { readAccount } from '../../../bank-host/ledger/accounts.js';
import { checkLedger } from '../../../bank-host/ledger/check.js';
import { type PostingLeg, cashAccountId, cashboxAccountId, overShortAccountId, postingPrefix, vaultAccountId } from '../../../bank-host/ledger/records.js';
import { KIOSK_ID, startKioskRig, type KioskRig } from './kiosk-rig.js';

async function signInTechnician(rig: KioskRig, card: { pan: string; pin: string; expiresYm: string }) {
  await rig.waitFor((s) => s.screen === 'welcome');
  rig.kiosk.beginCardSignIn();
  rig.swipe(card);
  await rig.waitFor((s) => s.screen === 'pin');
  rig.typePin(card.pin, 'enter');
  return rig.waitFor((s) => s.screen === 'supervisor' || s.screen === 'goodbye');
}

async function customerVisit(rig: KioskRig, card: { pan: string; pin: string; expiresYm: string }, work: () => Promise<unknown>) {
  await rig.waitFor((s) => s.screen === 'welcome');
  rig.kiosk.beginCardSignIn();
  rig.swipe(card);
  await rig.waitFor((s) => s.screen === 'pin');
  rig.typePin(card.pin, 'enter');
  await rig.waitFor((s) => s.screen === 'menu');
  await work();
  // A withdrawal's receipt was chosen before the cash; a deposit's is asked after. Then: no other transaction.
  const after = await rig.waitFor((s) => s.screen === 'receipt' || s.screen === 'another-transaction');
  if (after.screen === 'receipt') await rig.kiosk.chooseReceipt(false);
  await rig.waitFor((s) => s.screen === 'another-transaction');
  await rig.kiosk.anotherTransaction(false);
}

async function withdrawWithCard(rig: KioskRig, card: { pan: string; pin: string; expiresYm: string }, cents: number) {
  await customerVisit(rig, card, async () => {
    await rig.kiosk.selectMenu('withdraw');
    await rig.kiosk.withdraw(cents);
  });
}

const asNotes = (counts: readonly number[]) => [
  { denominationCents: 2_000, count: counts[0]! },
  { denominationCents: 5_000, count: counts[1]! },
];

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const balanceOf = async (rig: KioskRig, accountId: string) => (await readAccount(rig.host.host.state.services.db, accountId))?.balanceCents ?? 0;

async function legs(rig: KioskRig, accountId: string): Promise<PostingLeg[]> {
  const found: PostingLeg[] = [];
  for await (const [, leg] of rig.host.host.state.services.db.entries<PostingLeg>(postingPrefix(accountId))) found.push(leg);
  return found;
}

test('a technician replenishes a kiosk with a counted difference (alert, report, postings, receipt), then a second replenishment balances exactly', async (t) => {
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  const services = rig.host.host.state.services;
  const customer = await rig.customer('alice', 50_000);
  const tech = await addTechnician(services, 'tech.anne');

  // A customer's $100 before any replenishment: the ledger knows of no load, so the first count finds the
  // kiosk's unrecorded starting cash as an overage.
  await withdrawWithCard(rig, customer, 10_000);
  t.deepEqual(rig.dispenser.cassetteCounts, [100, 38]);
  await customerVisit(rig, customer, () => rig.depositNotes([2_000, 2_000]));
  t.deepEqual(rig.kiosk.status().noteAcceptor?.cashbox, [{ denominationCents: 2_000, count: 2 }]);

  const entered = await signInTechnician(rig, tech);
  t.is(entered.screen, 'supervisor', JSON.stringify(entered));
  t.like(entered.view, { kind: 'supervisor', technician: 'tech.anne', unloaded: [] });
  t.is(entered.customer?.accounts.length, 0);

  await rig.kiosk.supervisorMode.printCounters();
  const counters = (rig.printer.receipts.at(-1) ?? []).join('\n');
  t.regex(counters, /KIOSK COUNTERS/);
  t.regex(counters, /#2 \$50\.00: 38 notes, 2 dispensed ever/);
  t.regex(counters, /CASHBOX\n  2 x \$20\.00 = \$40\.00/);

  // Bad input from the UI is refused before anything is sent.
  rig.kiosk.supervisorMode.beginCount('unload-cassettes');
  await t.throwsAsync(rig.kiosk.supervisorMode.submitCount({ step: 'unload-cassettes', notes: [{ denominationCents: 2_000, count: -1 }] }), { code: 'BAD_ARGUMENT' } as never);
  await t.throwsAsync(rig.kiosk.supervisorMode.submitCount({ step: 'unload-cassettes', notes: [{ denominationCents: 1_000, count: 4 }] }), { code: 'BAD_ARGUMENT' } as never);
  await t.throwsAsync(rig.kiosk.supervisorMode.submitCount({ step: 'load-cassettes', notes: [] }), { code: 'WRONG_STATE' } as never);
  t.is(rig.kiosk.snapshot().screen, 'supervisor-count');

  await rig.kiosk.supervisorMode.submitCount({ step: 'unload-cassettes', notes: asNotes(rig.dispenser.cassetteCounts) });
  let s = rig.kiosk.snapshot();
  t.is(s.screen, 'supervisor');
  t.deepEqual(s.notice, { code: 'COUNT_DIFFERENCE', amountCents: 400_000 });
  t.deepEqual(rig.dispenser.cassetteCounts, [0, 0], 'the cassettes are out');

  rig.kiosk.supervisorMode.beginCount('unload-cashbox');
  const cashboxCounted = rig.kiosk.status().noteAcceptor?.cashbox ?? [];
  await rig.kiosk.supervisorMode.submitCount({ step: 'unload-cashbox', notes: cashboxCounted });
  s = rig.kiosk.snapshot();
  t.like(s.notice, { code: 'COUNT_BALANCED' });
  t.deepEqual(rig.kiosk.status().noteAcceptor?.cashbox, [], 'the cashbox counts from zero');

  rig.kiosk.supervisorMode.beginCount('load-cassettes');
  await rig.kiosk.supervisorMode.submitCount({ step: 'load-cassettes', notes: [{ denominationCents: 2_000, count: 200 }, { denominationCents: 5_000, count: 100 }] });
  t.like(rig.kiosk.snapshot().notice, { code: 'CASSETTES_LOADED', amountCents: 900_000 });
  t.deepEqual(rig.dispenser.cassetteCounts, [200, 100]);

  await rig.kiosk.supervisorMode.close();
  const receipt = (rig.printer.receipts.at(-1) ?? []).join('\n');
  t.regex(receipt, /BALANCING RECEIPT/);
  t.regex(receipt, /Technician: tech\.anne/);
  t.regex(receipt, /Counted: \$3,900\.00\n {2}Ledger: {2}-\$100\.00\n {2}Difference: \+\$4,000\.00/);
  t.regex(receipt, /CASSETTES LOADED[\s\S]*Total: \$9,000\.00/);
  t.regex(receipt, /NOT BALANCED: \+\$4,000\.00/);
  await rig.waitFor((x) => x.screen === 'welcome');

  // The host: the report, the alert, the postings.
  t.like(await readLatestBalancing(services.db, KIOSK_ID), { unbalanced: true, containers: [{ container: 'cassettes', countedCents: 390_000, ledgerCents: -10_000, differenceCents: 400_000 }, { container: 'cashbox', differenceCents: 0 }] });
  // The kiosk reports its new cassettes (in the background); then the host's alerts are the balancing's only.
  await waitUntil(() => services.fleet!.view(KIOSK_ID).cassettes.map((c) => c.count).join(',') === '200,100');
  await services.fleet!.checkNow();
  t.deepEqual(services.fleet!.alerts.of(KIOSK_ID).map((a) => a.kind), ['unbalanced']);
  t.is(await balanceOf(rig, overShortAccountId('main')), 400_000);
  t.is(await balanceOf(rig, cashAccountId(KIOSK_ID)), -900_000);
  t.is(await balanceOf(rig, cashboxAccountId(KIOSK_ID)), 0);
  t.deepEqual((await legs(rig, vaultAccountId('main'))).map((l) => [l.kind, l.amountCents]), [['cash-unload', -390_000], ['cash-unload', -4_000], ['cash-load', 900_000]]);
  t.deepEqual((await legs(rig, overShortAccountId('main'))).map((l) => [l.kind, l.amountCents, l.counterpartAccountId]), [['over-short', 400_000, cashAccountId(KIOSK_ID)]]);
  t.like(await checkLedger(services.db), { ok: true, totalBalanceCents: 0 });

  // A customer takes $60; the next count is exactly what the ledger says.
  await withdrawWithCard(rig, customer, 6_000);
  const counts = rig.dispenser.cassetteCounts;
  await signInTechnician(rig, tech);
  rig.kiosk.supervisorMode.beginCount('unload-cassettes');
  await rig.kiosk.supervisorMode.submitCount({ step: 'unload-cassettes', notes: asNotes(counts) });
  t.like(rig.kiosk.snapshot().notice, { code: 'COUNT_BALANCED' });
  rig.kiosk.supervisorMode.beginCount('load-cassettes');
  await rig.kiosk.supervisorMode.submitCount({ step: 'load-cassettes', notes: asNotes(counts) });
  await rig.kiosk.supervisorMode.close();
  t.regex((rig.printer.receipts.at(-1) ?? []).join('\n'), /\nBALANCED/);
  t.like(await readLatestBalancing(services.db, KIOSK_ID), { unbalanced: false, containers: [{ container: 'cassettes', differenceCents: 0 }] });
  t.deepEqual(rig.dispenser.cassetteCounts, counts);
  t.like(await checkLedger(services.db), { ok: true, totalBalanceCents: 0 });
});

test('a technician card never reaches the customer menu, and a customer card never supervisor mode', async (t) => {
  const rig = await startKioskRig();
  t.teardown(() => rig.close());
  const customer = await rig.customer('bob', 10_000);
  const tech = await addTechnician(rig.host.host.state.services, 'tech.bruno');
  await signInTechnician(rig, tech);
  await t.throwsAsync(rig.kiosk.selectMenu('withdraw'), { code: 'WRONG_STATE' } as never);
  await t.throwsAsync(rig.kiosk.withdraw(2_000), { code: 'WRONG_STATE' } as never);
  rig.kiosk.cancel();
  await rig.waitFor((s) => s.screen === 'welcome');
  // The replenishment stays open (the next technician resumes it); the kiosk serves customers meanwhile and
  // tells the host.
  const status = rig.kiosk.status();
  t.true(status.inService);
  t.true(status.reasons.some((r) => r.startsWith('replenishment-open: rpl_') && r.includes('by tech.bruno')), JSON.stringify(status.reasons));
  rig.kiosk.beginCardSignIn();
  rig.swipe(customer);
  await rig.waitFor((s) => s.screen === 'pin');
  rig.typePin(customer.pin, 'enter');
  await rig.waitFor((s) => s.screen === 'menu');
  t.throws(() => rig.kiosk.supervisorMode.beginCount('unload-cassettes'), { code: 'WRONG_STATE' } as never);
  await t.throwsAsync(rig.kiosk.supervisorMode.close(), { code: 'WRONG_STATE' } as never);
});
