// The money holes found at the edges (issue 12), tried many times with seeded random inputs, each counted
// in the reliability table: a deposit without notes, a deposit claiming more notes than its commit did,
// copies of one request racing through a transient write failure, and daily limits across credentials.
// "Acknowledged" in these rows counts hostile attempts the host accepted: it must be 0.
import test from 'ava';
import { ProtocolError } from '../../protocol/errors.js';
import { newRequestId } from '../../protocol/envelope.js';
import { issueCard, openAccount } from '../../bank-host/customers/admin.js';
import { checkLedger } from '../../bank-host/ledger/check.js';
import type { BatchOp } from '../../bank-host/store/database.js';
import { createHarness } from '../helpers/dispatcher-harness.js';
import { eventually, startTestHost } from '../helpers/host.js';
import { notesFor, TEST_ACCEPTED_CENTS, testKioskStatus } from '../helpers/kiosk-cash.js';
import { recordScenarioResult } from './results.js';
import { reliabilityParams, scaled, SeededRandom } from './seeded-random.js';

const PASSWORD = 'correct horse battery';
const code = (answer: unknown) => (answer instanceof ProtocolError ? answer.code : 'ok');

test('deposits without notes, and notes beyond what a deposit committed, are never credited', async (t) => {
  const params = reliabilityParams();
  const random = new SeededRandom(params.seed, 40);
  const rounds = scaled(50, params);
  const h = await createHarness();
  t.teardown(() => h.close());
  const connection = await h.connect();
  const info = await h.ok(connection, 'register', { username: 'holes', password: PASSWORD });
  const accountId = info.accounts[0]!.accountId;
  const other = await h.connect('kiosk-other');
  let attempts = 0;
  let accepted = 0;
  let creditedCents = 0;
  const violations: string[] = [];
  const hostile = async (type: string, body: unknown, requestId?: string): Promise<void> => {
    attempts++;
    const answer = await h.call(connection, type as 'deposit.commit', body, requestId !== undefined ? { requestId } : {});
    if (!(answer instanceof ProtocolError)) {
      accepted++;
      violations.push(`${type} ${JSON.stringify(body)} was accepted`);
    }
  };
  for (let round = 0; round < rounds; round++) {
    const cents = random.int(1, 200) * 100;
    // Without notes: a bare amount in every shape.
    await hostile('deposit', { accountId, amountCents: cents });
    await hostile('deposit.open', { accountId, amountCents: cents });
    const { depositId } = await h.ok(connection, 'deposit.open', { accountId });
    await hostile('deposit.commit', { depositId, amountCents: cents });
    await hostile('deposit.commit', { depositId, notes: [{ denominationCents: random.pick([1, 99, 2_500, 20_001, 100_000]), count: 1 }] });
    await hostile('deposit.commit', { depositId, notes: [{ denominationCents: 2_000, count: 0 }] });
    await hostile('deposit.commit', { depositId, notes: [{ denominationCents: 2_000, count: 1 }, { denominationCents: 2_000, count: random.int(1, 5) }] });
    attempts++;
    if (code(await h.call(other, 'deposit.commit', { depositId, notes: notesFor(cents) })) !== 'UNKNOWN_DEPOSIT') violations.push('another kiosk committed a deposit');
    // The real commit, then more notes than it had: a second commit, a replay with other notes under its
    // id, the same notes plus one under a new id.
    const requestId = newRequestId();
    const committed = await h.call(connection, 'deposit.commit', { depositId, notes: notesFor(cents) }, { requestId });
    if (committed instanceof ProtocolError) violations.push(`the real commit failed: ${committed.code}`);
    else creditedCents += committed.creditedCents;
    await hostile('deposit.commit', { depositId, notes: notesFor(cents + 100) }, requestId);
    await hostile('deposit.commit', { depositId, notes: notesFor(cents + random.pick(TEST_ACCEPTED_CENTS)) });
  }
  const balance = (await h.ok(connection, 'balance', { accountId })).balanceCents;
  if (balance !== creditedCents) violations.push(`the balance is ${balance}, the commits credited ${creditedCents}`);
  const ledger = await checkLedger(h.services.db);
  if (!ledger.ok) violations.push(`ledger check: ${ledger.problems.map((p) => p.message).join('; ')}`);
  await recordScenarioResult({
    scenario: 'deposit without notes, or claiming more notes than committed',
    part: 'money-holes',
    iterations: rounds,
    faultsInjected: attempts,
    acknowledged: accepted,
    lost: null,
    duplicated: null,
    invariantViolations: violations.length,
    measurements: { 'hostile deposit attempts': attempts, 'credited by the real commits (cents)': creditedCents },
  });
  t.deepEqual(violations, []);
});

test('copies of one request racing on three connections through a transient write failure apply once', async (t) => {
  const params = reliabilityParams();
  const random = new SeededRandom(params.seed, 41);
  const rounds = scaled(12, params);
  t.timeout(120_000 + rounds * 5_000);
  const host = await startTestHost();
  t.teardown(() => host.close());
  const kShared = await host.addDevice('kiosk-race');
  const clients = [0, 1, 2].map(() => host.client('kiosk-race', kShared));
  for (const client of clients) client.start();
  await Promise.all(clients.map((client) => client.waitConnected(10_000)));
  const [first] = clients as [(typeof clients)[0]];
  await first.request('kiosk.status', testKioskStatus());
  const info = await first.request('register', { username: 'racer', password: PASSWORD });
  const chequing = info.accounts[0]!.accountId;
  const { accountId: savings } = await openAccount(host.host.state.services, 'racer', 'savings');
  const signIn = newRequestId();
  await Promise.all(clients.slice(1).map((c) => c.request('signin.password', { username: 'racer', password: PASSWORD }, { requestId: signIn })));

  const { db } = host.host.state.services;
  const channel = host.host.channel;
  const writeDurably = db.writeDurably.bind(db);
  let failNext: ((ops: readonly BatchOp[]) => boolean) | undefined;
  let arrivedFrom = 0;
  db.writeDurably = async (ops: readonly BatchOp[]) => {
    if (failNext?.(ops)) {
      failNext = undefined;
      // Every copy reaches the host before the first one fails, so two are waiting behind it.
      if (!(await eventually(() => channel.stats.requests >= arrivedFrom + 3, 20_000))) throw new Error('the copies did not all reach the host');
      throw new Error('EIO: a transient write failure');
    }
    return writeDurably(ops);
  };

  let applied = 0;
  let duplicated = 0;
  let expectedSavings = 0;
  let expectedChequing = 0;
  const violations: string[] = [];
  for (let round = 0; round < rounds; round++) {
    const transfer = random.chance(0.5);
    arrivedFrom = channel.stats.requests;
    const requestId = newRequestId();
    let type: 'transfer' | 'deposit.commit';
    let body: object;
    if (transfer && expectedChequing >= 100) {
      const cents = random.int(1, Math.min(50, expectedChequing / 100)) * 100;
      type = 'transfer';
      body = { fromAccountId: chequing, toAccountId: savings, amountCents: cents };
      failNext = (ops) => ops.some((op) => op.key.startsWith(`post:${savings}:`));
      expectedChequing -= cents;
      expectedSavings += cents;
    } else {
      const cents = random.int(1, 50) * 100;
      const { depositId } = await first.request('deposit.open', { accountId: chequing });
      arrivedFrom = channel.stats.requests;
      type = 'deposit.commit';
      body = { depositId, notes: notesFor(cents) };
      failNext = (ops) => ops.some((op) => op.key === `dep:${depositId}`);
      expectedChequing += cents;
    }
    const answers = await Promise.all(clients.map((c) => c.request(type, body as never, { requestId }).then(() => 'ok', (e: unknown) => code(e))));
    const oks = answers.filter((a) => a === 'ok').length;
    if (answers.filter((a) => a === 'INTERNAL').length !== 1 || oks !== 2) violations.push(`round ${round}: answers ${answers.join(', ')}`);
    applied++;
    const balances = await Promise.all([chequing, savings].map((accountId) => first.request('balance', { accountId })));
    if (balances[0]!.balanceCents !== expectedChequing || balances[1]!.balanceCents !== expectedSavings) {
      duplicated++;
      violations.push(`round ${round}: ${type} left chequing ${balances[0]!.balanceCents} (expected ${expectedChequing}), savings ${balances[1]!.balanceCents} (expected ${expectedSavings})`);
      expectedChequing = balances[0]!.balanceCents;
      expectedSavings = balances[1]!.balanceCents;
    }
  }
  const ledger = await checkLedger(db);
  if (!ledger.ok) violations.push(`ledger check: ${ledger.problems.map((p) => p.message).join('; ')}`);
  await recordScenarioResult({
    scenario: 'transient write failure with retries racing on three connections',
    part: 'money-holes',
    iterations: rounds,
    faultsInjected: rounds,
    acknowledged: applied,
    lost: 0,
    duplicated,
    invariantViolations: violations.length - duplicated,
  });
  t.deepEqual(violations, []);
});

test('daily withdrawal limits hold across a password and two cards used at once', async (t) => {
  const params = reliabilityParams();
  const random = new SeededRandom(params.seed, 42);
  const days = scaled(6, params);
  const customerLimit = 100_000;
  const cardLimit = 60_000;
  const h = await createHarness({ config: { dailyWithdrawalLimitCents: customerLimit, cardDailyWithdrawalLimitCents: cardLimit, maxWithdrawalCents: 100_000, depositDailyCapCents: 100_000_000 } });
  t.teardown(() => h.close());
  const setup = await h.connect();
  const info = await h.ok(setup, 'register', { username: 'limits', password: PASSWORD });
  const accountId = info.accounts[0]!.accountId;
  for (let i = 0; i < Math.ceil((days * customerLimit) / 4_000_000); i++) await h.deposit(setup, accountId, 4_000_000);
  const cards = [await issueCard(h.services, 'limits'), await issueCard(h.services, 'limits')];
  let attempts = 0;
  let overLimit = 0;
  const violations: string[] = [];
  for (let day = 0; day < days; day++) {
    h.clock.nowMs += 24 * 3_600_000;
    const sessions = await Promise.all([
      (async () => {
        const c = await h.connect();
        await h.ok(c, 'signin.password', { username: 'limits', password: PASSWORD });
        return { c, card: -1 };
      })(),
      ...cards.map(async (card, i) => {
        const c = await h.connect();
        await h.ok(c, 'signin.card', { pan: card.pan, pinBlock: h.pinBlock('kiosk-01', card.pan, card.pin) });
        return { c, card: i };
      }),
    ]);
    let customerUsed = 0;
    const cardUsed = [0, 0];
    // Each session asks for random amounts at once; some are refused by the limits.
    const results = await Promise.all(
      sessions.flatMap(({ c, card }) =>
        Array.from({ length: 6 }, async () => {
          const cents = random.pick([2_000, 4_000, 10_000, 20_000, 40_000]);
          attempts++;
          const answer = await h.call(c, 'withdraw.authorize', { accountId, amountCents: cents });
          if (!(answer instanceof ProtocolError)) {
            customerUsed += cents;
            if (card >= 0) cardUsed[card]! += cents;
          } else if (answer.code !== 'DAILY_LIMIT_EXCEEDED') violations.push(`day ${day}: refused ${answer.code}`);
        }),
      ),
    );
    t.is(results.length, sessions.length * 6);
    if (customerUsed > customerLimit) {
      overLimit++;
      violations.push(`day ${day}: ${customerUsed} authorized for the customer (limit ${customerLimit})`);
    }
    for (const [i, used] of cardUsed.entries()) {
      if (used > cardLimit) {
        overLimit++;
        violations.push(`day ${day}: ${used} authorized on card ${i} (limit ${cardLimit})`);
      }
    }
  }
  const ledger = await checkLedger(h.services.db);
  if (!ledger.ok) violations.push(`ledger check: ${ledger.problems.map((p) => p.message).join('; ')}`);
  await recordScenarioResult({
    scenario: 'daily limits across credentials (password and two cards at once)',
    part: 'money-holes',
    iterations: days,
    faultsInjected: attempts,
    acknowledged: overLimit,
    lost: null,
    duplicated: null,
    invariantViolations: violations.length - overLimit,
  });
  t.deepEqual(violations, []);
});
