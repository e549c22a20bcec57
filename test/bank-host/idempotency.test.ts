// Request ids over the real channel: a retry returns the first answer and applies nothing twice,
// across reconnects and host restarts.
import test from 'ava';
import { ChannelClient } from '../../protocol/client.js';
import { newRequestId } from '../../protocol/envelope.js';
import { ProtocolError } from '../../protocol/errors.js';
import { addCustomer } from '../../bank-host/customers/admin.js';
import { checkLedger } from '../../bank-host/ledger/check.js';
import { listOpenDeposits } from '../../bank-host/ledger/deposit-operator.js';
import { createBankingOperations } from '../../bank-host/operations/banking.js';
import { notesFor, testKioskStatus } from '../helpers/kiosk-cash.js';
import { clientDeposit, startTestHost } from '../helpers/host.js';

const scryptCost = { log2N: 10, r: 8, p: 1 };
const operations = createBankingOperations({ scryptCost });

async function signedInClient(h: Awaited<ReturnType<typeof startTestHost>>, deviceId: string, username: string) {
  await addCustomer(h.host.state.services, username, 'correct horse battery', { scryptCost });
  const client = await h.connectedClient(deviceId);
  const session = await client.request('signin.password', { username, password: 'correct horse battery' });
  return { client, accountId: session.accounts[0]!.accountId };
}

test('a repeated deposit request id credits once and answers the first result again', async (t) => {
  const h = await startTestHost({ operations });
  try {
    const { client, accountId } = await signedInClient(h, 'kiosk-idem-1', 'idem-one');
    // Opening: the retry answers the same deposit, no second one is opened.
    const openId = newRequestId();
    const opened = await client.request('deposit.open', { accountId }, { requestId: openId });
    t.deepEqual(await client.request('deposit.open', { accountId }, { requestId: openId }), opened);
    // Committing: the retry answers the first credit again and credits nothing more.
    const commitId = newRequestId();
    const first = await client.request('deposit.commit', { depositId: opened.depositId, notes: notesFor(5_000) }, { requestId: commitId });
    const second = await client.request('deposit.commit', { depositId: opened.depositId, notes: notesFor(5_000) }, { requestId: commitId });
    t.deepEqual(second, first);
    const balance = await client.request('balance', { accountId });
    t.is(balance.balanceCents, 5_000);
    t.deepEqual(await listOpenDeposits(h.host.state.services.db), []);
  } finally {
    await h.close();
  }
});

test('the same request id with a different body is refused and changes nothing', async (t) => {
  const h = await startTestHost({ operations });
  try {
    const { client, accountId } = await signedInClient(h, 'kiosk-idem-2', 'idem-two');
    const { depositId } = await client.request('deposit.open', { accountId });
    const requestId = newRequestId();
    await client.request('deposit.commit', { depositId, notes: notesFor(1_000) }, { requestId });
    const error = await t.throwsAsync(client.request('deposit.commit', { depositId, notes: notesFor(9_000) }, { requestId }), { instanceOf: ProtocolError });
    t.is((error as ProtocolError).code, 'REQUEST_ID_REUSED');
    const reopened = await t.throwsAsync(client.request('deposit.open', { accountId }, { requestId }), { instanceOf: ProtocolError });
    t.is((reopened as ProtocolError).code, 'REQUEST_ID_REUSED');
    t.is((await client.request('balance', { accountId })).balanceCents, 1_000);
  } finally {
    await h.close();
  }
});

test('a retry racing its original on another connection applies once', async (t) => {
  const h = await startTestHost({ operations });
  try {
    await addCustomer(h.host.state.services, 'idem-three', 'correct horse battery', { scryptCost });
    const kShared = await h.addDevice('kiosk-idem-3');
    // As many connections as the host lets one kiosk have: the original and its retries, each on its own.
    const clients = Array.from({ length: 4 }, () => h.client('kiosk-idem-3', kShared));
    for (const client of clients) client.start();
    await Promise.all(clients.map((client) => client.waitConnected(5_000)));
    const [kiosk] = clients as [ChannelClient];
    await kiosk.request('kiosk.status', testKioskStatus());
    const session = await kiosk.request('signin.password', { username: 'idem-three', password: 'correct horse battery' });
    const accountId = session.accounts[0]!.accountId;
    const { depositId } = await kiosk.request('deposit.open', { accountId });
    // The commit needs no session, so every copy may run on any of the kiosk's connections.
    const requestId = newRequestId();
    const results = await Promise.all(clients.map((client) => client.request('deposit.commit', { depositId, notes: notesFor(700) }, { requestId }).catch((e: unknown) => e)));
    // One is processed; the others wait for it and answer what it answered; none applies again.
    for (const r of results) t.false(r instanceof Error, String(r));
    for (const r of results.slice(1)) t.deepEqual(r, results[0]);
    t.is((await kiosk.request('balance', { accountId })).balanceCents, 700);
  } finally {
    await h.close();
  }
});

test('after a host restart, a retried withdrawal completion returns the stored answer and posts once, and a changed body is refused', async (t) => {
  let h = await startTestHost({ operations });
  try {
    const { client, accountId } = await signedInClient(h, 'kiosk-idem-4', 'idem-four');
    await clientDeposit(client, accountId, 20_000);
    const auth = await client.request('withdraw.authorize', { accountId, amountCents: 6_000 });
    const completeId = newRequestId();
    const completed = await client.request('withdraw.complete', { authorizationId: auth.authorizationId, dispensedCents: 6_000 }, { requestId: completeId });
    const kShared = await h.host.state.registry.rotate('kiosk-idem-4');
    h = await h.restart();
    const again = h.client('kiosk-idem-4', kShared);
    again.start();
    await again.waitConnected(5_000);
    // No session on the new connection: completion is sessionless, and the stored answer comes back.
    const replayed = await again.request('withdraw.complete', { authorizationId: auth.authorizationId, dispensedCents: 6_000 }, { requestId: completeId });
    t.deepEqual(replayed, completed);
    // The stored body survives the restart too: the same id with another body is refused.
    const changed = await t.throwsAsync(again.request('withdraw.complete', { authorizationId: auth.authorizationId, dispensedCents: 4_000 }, { requestId: completeId }), { instanceOf: ProtocolError });
    t.is((changed as ProtocolError).code, 'REQUEST_ID_REUSED');
    const session = await again.request('signin.password', { username: 'idem-four', password: 'correct horse battery' });
    t.is(session.accounts[0]!.balanceCents, 14_000);
    const report = await checkLedger(h.host.state.services.db);
    t.true(report.ok, JSON.stringify(report.problems));
  } finally {
    await h.close();
  }
});

test('a retried sign-in on a new connection binds the session again', async (t) => {
  const h = await startTestHost({ operations });
  try {
    await addCustomer(h.host.state.services, 'idem-five', 'correct horse battery', { scryptCost });
    const kShared = await h.addDevice('kiosk-idem-5');
    const first = h.client('kiosk-idem-5', kShared);
    first.start();
    await first.waitConnected(3_000);
    const requestId = newRequestId();
    const session = await first.request('signin.password', { username: 'idem-five', password: 'correct horse battery' }, { requestId });
    first.close();
    const second = h.client('kiosk-idem-5', kShared);
    second.start();
    await second.waitConnected(3_000);
    const replayed = await second.request('signin.password', { username: 'idem-five', password: 'correct horse battery' }, { requestId });
    t.is(replayed.customerId, session.customerId);
    const balance = await second.request('balance', { accountId: session.accounts[0]!.accountId });
    t.is(balance.balanceCents, 0);
  } finally {
    await h.close();
  }
});

test('requestWithRetry rides out a host restart and applies the deposit once', async (t) => {
  let h = await startTestHost({ operations });
  try {
    const { client, accountId } = await signedInClient(h, 'kiosk-idem-6', 'idem-six');
    const { depositId } = await client.request('deposit.open', { accountId });
    const requestId = newRequestId();
    await client.request('deposit.commit', { depositId, notes: notesFor(2_500) }, { requestId });
    // The client lost the answer (say): it retries with the same id while the host restarts under it.
    const port = h.port;
    const kShared = await h.host.state.registry.rotate('kiosk-idem-6');
    // A client of its own: the test host closes the clients it made when it stops.
    const retrying = new ChannelClient({ host: '127.0.0.1', port, deviceId: 'kiosk-idem-6', kShared, limits: { reconnectDelayMinMs: 20, reconnectDelayMaxMs: 200 } });
    retrying.start();
    t.teardown(() => retrying.close());
    const restartPromise = h.restart();
    const result = retrying.requestWithRetry('deposit.commit', { depositId, notes: notesFor(2_500) }, { requestId, deadlineMs: Date.now() + 10_000 });
    h = await restartPromise;
    t.is(h.port, port);
    const outcome = await result.catch((e: unknown) => e);
    // The commit needs no session: on the new connection the host answers with the stored result (the first answer).
    t.false(outcome instanceof Error, String(outcome));
    const report = await checkLedger(h.host.state.services.db);
    t.true(report.ok);
    t.is(report.customerBalanceCents, 2_500);
  } finally {
    await h.close();
  }
});

test('a replayed sign-in never re-opens a session on a connection that signed out', async (t) => {
  const h = await startTestHost({ operations });
  try {
    await addCustomer(h.host.state.services, 'idem-seven', 'correct horse battery', { scryptCost });
    const client = await h.connectedClient('kiosk-idem-7');
    const requestId = newRequestId();
    const session = await client.request('signin.password', { username: 'idem-seven', password: 'correct horse battery' }, { requestId });
    await client.request('signout', {});
    await client.request('signin.password', { username: 'idem-seven', password: 'correct horse battery' }, { requestId });
    const error = await t.throwsAsync(client.request('balance', { accountId: session.accounts[0]!.accountId }), { instanceOf: ProtocolError });
    t.is((error as ProtocolError).code, 'NOT_SIGNED_IN');
  } finally {
    await h.close();
  }
});

test('a retryable failure is not kept as the answer: the retry with the same id runs again', async (t) => {
  let calls = 0;
  const commit = operations['deposit.commit']!;
  const flaky = {
    ...operations,
    'deposit.commit': (async (ctx, body) => {
      if (++calls === 1) {
        const busy = new ProtocolError('INTERNAL', 'busy, try again', true);
        await ctx.finish({ error: busy }, { ops: [] });
        throw busy;
      }
      return commit(ctx, body);
    }) satisfies typeof commit,
  };
  const h = await startTestHost({ operations: flaky });
  try {
    const { client, accountId } = await signedInClient(h, 'kiosk-idem-8', 'idem-eight');
    const { depositId } = await client.request('deposit.open', { accountId });
    const requestId = newRequestId();
    const first = await t.throwsAsync(client.request('deposit.commit', { depositId, notes: notesFor(300) }, { requestId }), { instanceOf: ProtocolError });
    t.true((first as ProtocolError).retryable);
    const second = await client.request('deposit.commit', { depositId, notes: notesFor(300) }, { requestId });
    t.is(second.account.balanceCents, 300);
    t.is(calls, 2);
  } finally {
    await h.close();
  }
});

test('expired idempotency records are swept; fresh ones stay', async (t) => {
  let nowMs = Date.now();
  const h = await startTestHost({ operations, now: () => nowMs, config: { idempotencyRetentionMs: 60_000 } });
  try {
    const { client, accountId } = await signedInClient(h, 'kiosk-idem-9', 'idem-nine');
    for (let i = 0; i < 5; i++) await clientDeposit(client, accountId, 100);
    const count = async () => {
      let n = 0;
      for await (const _ of h.host.state.services.db.entries('idem:')) n++;
      return n;
    };
    const before = await count();
    // The sign-in and each deposit's open and commit.
    t.true(before >= 11, `${before} records`);
    t.is(await h.host.sweepIdempotency(), 0);
    nowMs += 61_000;
    t.is(await h.host.sweepIdempotency(), before);
    t.is(await count(), 0);
  } finally {
    await h.close();
  }
});
