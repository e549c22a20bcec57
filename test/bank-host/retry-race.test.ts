// Copies of one request racing on several connections are applied once, even when the copy that ran first
// failed with a retryable error (a transient write failure) while the others waited behind it: the copies
// take turns, and each starts by looking for the answer the one before it stored. A transfer has no state
// of its own that would refuse a second application, so it shows the dispatcher's rule alone; a deposit
// commit is also protected by its deposit's state.
import test from 'ava';
import { ProtocolError } from '../../protocol/errors.js';
import { newRequestId } from '../../protocol/envelope.js';
import { openAccount } from '../../bank-host/customers/admin.js';
import { checkLedger } from '../../bank-host/ledger/check.js';
import type { BatchOp } from '../../bank-host/store/database.js';
import { eventually, startTestHost } from '../helpers/host.js';
import { notesFor, testKioskStatus } from '../helpers/kiosk-cash.js';

/** Fails the first batch `matches` picks, once every one of `copies` requests has reached the host (so the
 *  other copies are waiting behind the failing one), and counts the matching batches written. */
function failFirstWriteOnceAllArrived(host: Awaited<ReturnType<typeof startTestHost>>, copies: number, matches: (ops: readonly BatchOp[]) => boolean) {
  const { db } = host.host.state.services;
  const channel = host.host.channel;
  const requestsBefore = channel.stats.requests;
  const writeDurably = db.writeDurably.bind(db);
  const seen = { failed: 0, written: 0, arrived: () => channel.stats.requests - requestsBefore };
  db.writeDurably = async (ops: readonly BatchOp[]) => {
    if (matches(ops) && seen.failed === 0) {
      seen.failed++;
      if (!(await eventually(() => seen.arrived() >= copies, 20_000))) throw new Error('the copies did not all reach the host');
      throw new Error('EIO: a transient write failure');
    }
    if (matches(ops)) seen.written++;
    return writeDurably(ops);
  };
  return seen;
}

test('three copies of a transfer on three connections, the first failing on a transient write error, move the money once', async (t) => {
  const host = await startTestHost();
  t.teardown(() => host.close());
  const kShared = await host.addDevice('kiosk-race');
  const clients = [0, 1, 2].map(() => host.client('kiosk-race', kShared));
  for (const client of clients) client.start();
  await Promise.all(clients.map((client) => client.waitConnected(10_000)));
  const [first, second, third] = clients as [(typeof clients)[0], (typeof clients)[0], (typeof clients)[0]];
  await first.request('kiosk.status', testKioskStatus());
  const info = await first.request('register', { username: 'mover', password: 'correct horse battery' });
  const chequing = info.accounts[0]!.accountId;
  const { accountId: savings } = await openAccount(host.host.state.services, 'mover', 'savings');
  const opened = await first.request('deposit.open', { accountId: chequing });
  await first.request('deposit.commit', { depositId: opened.depositId, notes: notesFor(10_000) });
  // Every copy is sent on a connection with the customer signed in: a sign-in's replay binds the session.
  const signIn = newRequestId();
  await Promise.all([second, third].map((c) => c.request('signin.password', { username: 'mover', password: 'correct horse battery' }, { requestId: signIn })));

  const seen = failFirstWriteOnceAllArrived(host, 3, (ops) => ops.some((op) => op.key.startsWith(`post:${savings}:`)));
  const requestId = newRequestId();
  const body = { fromAccountId: chequing, toAccountId: savings, amountCents: 1_500 };
  const answers = await Promise.all([first, second, third].map((c) => c.request('transfer', body, { requestId }).then((r) => r, (e: unknown) => e)));
  t.is(seen.arrived(), 3, 'all three copies reached the host');
  t.deepEqual(answers.filter((a) => a instanceof ProtocolError).map((a) => (a as ProtocolError).code), ['INTERNAL']);
  t.is(seen.written, 1, 'the transfer was written once');
  t.is((await first.request('balance', { accountId: savings })).balanceCents, 1_500);
  t.is((await first.request('balance', { accountId: chequing })).balanceCents, 8_500);
  t.like(await checkLedger(host.host.state.services.db), { ok: true });
});

test('three copies of a deposit commit on three connections, the first failing on a transient write error, credit the notes once', async (t) => {
  const host = await startTestHost();
  t.teardown(() => host.close());
  const kShared = await host.addDevice('kiosk-race');
  const clients = [0, 1, 2].map(() => host.client('kiosk-race', kShared));
  for (const client of clients) client.start();
  await Promise.all(clients.map((client) => client.waitConnected(10_000)));
  const [first, second, third] = clients as [(typeof clients)[0], (typeof clients)[0], (typeof clients)[0]];
  await first.request('kiosk.status', testKioskStatus());
  const info = await first.request('register', { username: 'racer', password: 'correct horse battery' });
  const accountId = info.accounts[0]!.accountId;
  const { depositId } = await first.request('deposit.open', { accountId });

  // The host's disk fails the commit's batch once, but only after every copy has reached the host, so the
  // two later copies are waiting behind the first when it fails.
  const { db } = host.host.state.services;
  const channel = host.host.channel;
  const requestsBefore = channel.stats.requests;
  const writeDurably = db.writeDurably.bind(db);
  let failed = 0;
  let commitBatches = 0;
  db.writeDurably = async (ops: readonly BatchOp[]) => {
    const isCommit = ops.some((op) => op.key === `dep:${depositId}` && op.type === 'put' && (op.value as { status?: string }).status === 'committed');
    if (isCommit && failed === 0) {
      failed++;
      const allArrived = await eventually(() => channel.stats.requests >= requestsBefore + 3, 20_000);
      if (!allArrived) throw new Error('the copies did not all reach the host');
      throw new Error('EIO: a transient write failure');
    }
    if (isCommit) commitBatches++;
    return writeDurably(ops);
  };

  const requestId = newRequestId();
  const body = { depositId, notes: notesFor(1_000) };
  const answers = await Promise.all(
    [first, second, third].map((client) => client.request('deposit.commit', body, { requestId }).then((result) => result, (error: unknown) => error)),
  );
  t.is(channel.stats.requests - requestsBefore, 3, 'all three copies reached the host');
  t.is(failed, 1);
  const failures = answers.filter((a): a is ProtocolError => a instanceof ProtocolError);
  t.deepEqual(failures.map((f) => [f.code, f.retryable]), [['INTERNAL', true]]);
  const results = answers.filter((a) => !(a instanceof ProtocolError)) as { creditedCents: number; postingId?: string }[];
  t.is(results.length, 2);
  t.true(results.every((r) => r.creditedCents === 1_000 && r.postingId === results[0]!.postingId));
  t.is(commitBatches, 1, 'the deposit was written once');
  t.is((await first.request('balance', { accountId })).balanceCents, 1_000);
  // And a retry now, from any connection, answers the same.
  t.is((await third.request('deposit.commit', body, { requestId })).postingId, results[0]!.postingId);
  t.like(await checkLedger(db), { ok: true });
});
