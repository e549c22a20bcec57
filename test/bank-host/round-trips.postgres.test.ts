// On PostgreSQL each statement message a request sends is a round trip to a synchronous three-node cluster,
// and on a shared machine each costs both sides a wake-up: what a request sends, counted on the real
// dispatcher and store (docs/scale-out.md, "Round trips per request"). Serial: the count is of this process.
import '../helpers/use-postgres.js';
import test from 'ava';
import pg from 'pg';
import { openAccount } from '../../bank-host/customers/admin.js';
import { lockId } from '../../bank-host/store/postgres/unit-of-work.js';
import { ProtocolError } from '../../protocol/errors.js';
import type { ConnectionState } from '../../bank-host/operations/context.js';
import { type Harness, createHarness } from '../helpers/dispatcher-harness.js';
import { notesFor } from '../helpers/kiosk-cash.js';

/** The statement messages this process sends to PostgreSQL while `work` runs, but the keep-alive of a unit
 *  that ran long (a loaded machine), which is not the request's. */
async function sentDuring(work: () => Promise<unknown>): Promise<string[]> {
  const sent: string[] = [];
  const query = pg.Client.prototype.query;
  const counting = function (this: pg.Client, config: unknown, ...rest: unknown[]) {
    const text = typeof config === 'string' ? config : (config as { text: string }).text;
    if (text !== 'SELECT 1') sent.push(text);
    return (query as (...args: unknown[]) => unknown).call(this, config, ...rest);
  };
  pg.Client.prototype.query = counting as typeof query;
  try {
    await work();
  } finally {
    pg.Client.prototype.query = query;
  }
  return sent;
}

/** Alice, registered at kiosk-01 of `h`: her connection and account. */
async function alice(h: Harness): Promise<{ connection: ConnectionState; accountId: string }> {
  const connection = await h.connect('kiosk-01');
  const info = await h.ok(connection, 'register', { username: 'alice', password: 'correct horse battery' });
  return { connection, accountId: info.accounts[0]!.accountId };
}

const locks = (text: string, key: string) => text.includes(`pg_advisory_xact_lock(${lockId(key).toString()})`);

test.serial('a balance is one unit of work: its reads come with the BEGIN and its audit record with the commit', async (t) => {
  const h = await createHarness();
  try {
    const { connection, accountId } = await alice(h);
    let answer: unknown;
    const sent = await sentDuring(async () => {
      answer = await h.ok(connection, 'balance', { accountId });
    });
    t.like(answer, { accountId, balanceCents: 0 });
    t.is(sent.length, 2, `sent:\n${sent.join('\n')}`);
    t.true(sent[0]!.startsWith('BEGIN') && sent[0]!.includes(`'acct:${accountId}'`), 'the account is read with the BEGIN');
    t.true(sent[1]!.endsWith('COMMIT') && sent[1]!.includes('INSERT INTO kv'), 'the audit record is written with the commit');
  } finally {
    await h.close();
  }
});

test.serial('an authorization locks its account and daily total with the BEGIN; so does its completion at the same host, which remembers the hold; at another host the completion locks them next', async (t) => {
  const h = await createHarness();
  const b = await createHarness({ sameStoreAs: { keysDir: h.keysDir, store: h.store, hostId: 'host-b' } });
  try {
    const { connection, accountId } = await alice(h);
    await h.deposit(connection, accountId, 10_000);
    let authorizationId = '';
    const authorize = await sentDuring(async () => {
      ({ authorizationId } = await h.ok(connection, 'withdraw.authorize', { accountId, amountCents: 2_000 }));
    });
    t.is(authorize.length, 2, `sent:\n${authorize.join('\n')}`);
    t.true(authorize[0]!.startsWith('BEGIN') && locks(authorize[0]!, `acct:${accountId}`), 'the account is locked with the BEGIN');
    t.true(authorize[1]!.endsWith('COMMIT'));
    const complete = await sentDuring(() => h.ok(connection, 'withdraw.complete', { authorizationId, dispensedCents: 2_000 }));
    t.is(complete.length, 2, `sent:\n${complete.join('\n')}`);
    t.true(locks(complete[0]!, `acct:${accountId}`) && locks(complete[0]!, `hold:${authorizationId}`), 'locked with the BEGIN, from the hold this host wrote');
    // Authorized at host A, completed at host B (the kiosk reconnected there): B never saw the hold.
    const second = await h.ok(connection, 'withdraw.authorize', { accountId, amountCents: 4_000 });
    const atB = await b.attach('kiosk-01');
    const elsewhere = await sentDuring(() => b.ok(atB, 'withdraw.complete', { authorizationId: second.authorizationId, dispensedCents: 4_000 }));
    t.is(elsewhere.length, 3, `sent:\n${elsewhere.join('\n')}`);
    t.false(locks(elsewhere[0]!, `acct:${accountId}`));
    t.true(locks(elsewhere[1]!, `acct:${accountId}`), 'locked once the hold named it');
    t.like(await h.ok(connection, 'balance', { accountId }), { balanceCents: 4_000, availableCents: 4_000 });
  } finally {
    await b.close();
    await h.close();
  }
});

test.serial('a deposit committed at the host that opened it locks its account, cashbox and day with the BEGIN', async (t) => {
  const h = await createHarness();
  try {
    const { connection, accountId } = await alice(h);
    const { depositId } = await h.ok(connection, 'deposit.open', { accountId });
    const commit = await sentDuring(() => h.ok(connection, 'deposit.commit', { depositId, notes: notesFor(4_000) }));
    t.is(commit.length, 2, `sent:\n${commit.join('\n')}`);
    t.true(locks(commit[0]!, `acct:${accountId}`) && locks(commit[0]!, 'acct:cashbox-kiosk-01'));
    t.like(await h.ok(connection, 'balance', { accountId }), { balanceCents: 4_000 });
  } finally {
    await h.close();
  }
});

test.serial('a transfer locks both accounts with the BEGIN; one refused for an account of another customer changes nothing', async (t) => {
  const h = await createHarness();
  try {
    const { connection, accountId: from } = await alice(h);
    const savings = (await openAccount(h.services, 'alice', 'savings')).accountId;
    await h.deposit(connection, from, 5_000);
    const moved = await sentDuring(() => h.ok(connection, 'transfer', { fromAccountId: from, toAccountId: savings, amountCents: 1_000 }));
    t.is(moved.length, 2, `sent:\n${moved.join('\n')}`);
    t.true(locks(moved[0]!, `acct:${from}`) && locks(moved[0]!, `acct:${savings}`));
    const bob = await h.ok(await h.connect('kiosk-02'), 'register', { username: 'bob', password: 'correct horse battery' });
    const other = bob.accounts[0]!.accountId;
    // The hint locked Bob's account for the request's short unit; the handler refuses it before any change.
    const refused = await sentDuring(async () => {
      const answer = await h.call(connection, 'transfer', { fromAccountId: from, toAccountId: other, amountCents: 100 });
      t.true(answer instanceof ProtocolError && answer.code === 'UNKNOWN_ACCOUNT');
    });
    t.true(locks(refused[0]!, `acct:${other}`));
    t.like(await h.services.db.get(`acct:${other}`), { balanceCents: 0 });
    t.like(await h.services.db.get(`acct:${from}`), { balanceCents: 4_000 });
    t.like(await h.services.db.get(`acct:${savings}`), { balanceCents: 1_000 });
  } finally {
    await h.close();
  }
});
