// Every customer operation through the real channel: TLS 1.3-PSK, framing, dispatcher, LevelDB.
import test from 'ava';
import net from 'node:net';
import { newRequestId } from '../../protocol/envelope.js';
import { ProtocolError, type ErrorCode } from '../../protocol/errors.js';
import { encodeFrame, FrameDecoder } from '../../protocol/framing.js';
import { encodePinBlockFormat4 } from '../../protocol/pin-block.js';
import { addCustomer, issueCard, openAccount } from '../../bank-host/customers/admin.js';
import { checkLedger } from '../../bank-host/ledger/check.js';
import { createBankingOperations } from '../../bank-host/operations/banking.js';
import { clientDeposit, eventually, rawConnect, startTestHost, type TestHost } from '../helpers/host.js';

const scryptCost = { log2N: 10, r: 8, p: 1 };
const operations = createBankingOperations({ scryptCost });

async function expectCode(t: { is: (a: unknown, b: unknown, m?: string) => void }, promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  const outcome = await promise.then(
    () => 'succeeded',
    (e: unknown) => (e instanceof ProtocolError ? e.code : String(e)),
  );
  t.is(outcome, code);
}

let h: TestHost;
let nowMs = Date.now();
test.before(async () => {
  h = await startTestHost({ operations, now: () => nowMs, config: { sessionIdleTimeoutMs: 60_000 }, limits: { maxPendingRequestsPerConnection: 4, maxConnections: 200 } });
});
test.after.always(async () => h?.close());

test.serial('register, sign in, deposit, withdraw in two phases, history, transfer, sign out', async (t) => {
  const kiosk = await h.connectedClient('kiosk-journey');
  const registered = await kiosk.request('register', { username: 'journey', password: 'a long enough password' });
  t.is(registered.username, 'journey');
  const chequing = registered.accounts[0]!.accountId;
  await kiosk.request('signout', {});
  await expectCode(t, kiosk.request('balance', { accountId: chequing }), 'NOT_SIGNED_IN');
  await expectCode(t, kiosk.request('signin.password', { username: 'journey', password: 'wrong password!!' }), 'BAD_CREDENTIALS');
  await kiosk.request('signin.password', { username: 'journey', password: 'a long enough password' });

  const deposit = await clientDeposit(kiosk, chequing, 12_300);
  t.is(deposit.account.balanceCents, 12_300);
  const auth = await kiosk.request('withdraw.authorize', { accountId: chequing, amountCents: 6_000 });
  t.is(auth.account.availableCents, 6_300, 'the hold reduces what is available');
  t.is(auth.account.balanceCents, 12_300, 'but not the balance');
  const short = await kiosk.request('withdraw.complete', { authorizationId: auth.authorizationId, dispensedCents: 4_000 });
  t.deepEqual([short.postedCents, short.releasedCents], [4_000, 2_000], 'a short dispense posts what was paid out');
  const reversed = await kiosk.request('withdraw.authorize', { accountId: chequing, amountCents: 2_000 });
  t.is((await kiosk.request('withdraw.reverse', { authorizationId: reversed.authorizationId })).releasedCents, 2_000);
  t.is((await kiosk.request('balance', { accountId: chequing })).balanceCents, 8_300);

  const history = await kiosk.request('history', { accountId: chequing });
  t.deepEqual(history.entries.map((e) => [e.kind, e.amountCents, e.balanceAfterCents]), [
    ['withdrawal', -4_000, 8_300],
    ['deposit', 12_300, 12_300],
  ]);
  await expectCode(t, kiosk.request('transfer', { fromAccountId: chequing, toAccountId: chequing, amountCents: 100 }), 'SAME_ACCOUNT');
  await kiosk.request('signout', {});
  const report = await checkLedger(h.host.state.services.db);
  t.true(report.ok, JSON.stringify(report.problems));
});

test.serial('card and PIN: the PIN block decodes under the kiosk key; three wrong PINs block the card', async (t) => {
  const services = h.host.state.services;
  await addCustomer(services, 'cardholder', 'another long password', { scryptCost });
  const card = await issueCard(services, 'cardholder');
  const kShared = await h.addDevice('kiosk-card');
  const kiosk = h.client('kiosk-card', kShared);
  kiosk.start();
  await kiosk.waitConnected(3_000);
  const pinKey = h.pinKey('kiosk-card');
  const block = (pin: string) => encodePinBlockFormat4(pin, card.pan, pinKey).toString('hex');
  const session = await kiosk.request('signin.card', { pan: card.pan, pinBlock: block(card.pin) });
  t.is(session.cardLast4, card.pan.slice(-4));
  await kiosk.request('signout', {});
  // A block made under another kiosk's key does not decode at all: not a PIN guess, so not a PIN try.
  await h.addDevice('kiosk-card-other');
  const otherKey = h.pinKey('kiosk-card-other');
  await expectCode(t, kiosk.request('signin.card', { pan: card.pan, pinBlock: encodePinBlockFormat4(card.pin, card.pan, otherKey).toString('hex') }), 'BAD_PIN_BLOCK');
  const wrong = card.pin === '0000' ? '1111' : '0000';
  await expectCode(t, kiosk.request('signin.card', { pan: card.pan, pinBlock: block(wrong) }), 'WRONG_PIN');
  await expectCode(t, kiosk.request('signin.card', { pan: card.pan, pinBlock: block(wrong) }), 'WRONG_PIN_LAST_TRY');
  await expectCode(t, kiosk.request('signin.card', { pan: card.pan, pinBlock: block(wrong) }), 'CARD_BLOCKED');
  await expectCode(t, kiosk.request('signin.card', { pan: card.pan, pinBlock: block(card.pin) }), 'CARD_BLOCKED');
});

test.serial('bad bodies get stable codes and move no money', async (t) => {
  const kiosk = await h.connectedClient('kiosk-bad-input');
  const { accounts } = await kiosk.request('register', { username: 'badinput', password: 'a long enough password' });
  const accountId = accounts[0]!.accountId;
  await clientDeposit(kiosk, accountId, 10_000);
  const { depositId } = await kiosk.request('deposit.open', { accountId });
  const note = { denominationCents: 2_000, count: 1 };
  const cases: [string, unknown, ErrorCode][] = [
    // A typed amount is no deposit any more, whatever the amount.
    ['deposit', { accountId, amountCents: 100 }, 'UNKNOWN_TYPE'],
    ['deposit.open', {}, 'BAD_BODY'],
    ['deposit.open', { accountId: 42 }, 'BAD_BODY'],
    ['deposit.open', { accountId: '../../etc' }, 'BAD_BODY'],
    ['deposit.open', { accountId, amountCents: 100 }, 'BAD_BODY'],
    ['deposit.open', { accountId: 'acc_nope' }, 'UNKNOWN_ACCOUNT'],
    ['deposit.commit', { depositId }, 'BAD_BODY'],
    ['deposit.commit', { depositId, notes: [{ ...note, count: -1 }] }, 'BAD_BODY'],
    ['deposit.commit', { depositId, notes: [{ ...note, count: 10.5 }] }, 'BAD_BODY'],
    ['deposit.commit', { depositId, notes: [{ ...note, count: '1' }] }, 'BAD_BODY'],
    ['deposit.commit', { depositId, notes: [{ ...note, count: 1e300 }] }, 'BAD_BODY'],
    ['deposit.commit', { depositId, notes: [{ ...note, count: null }] }, 'BAD_BODY'],
    ['deposit.commit', { depositId, notes: [{ denominationCents: 0, count: 1 }] }, 'BAD_BODY'],
    ['deposit.commit', { depositId, notes: [{ denominationCents: Number.MAX_SAFE_INTEGER + 2, count: 1 }] }, 'BAD_BODY'],
    ['deposit.commit', { depositId, notes: note }, 'BAD_BODY'],
    ['deposit.commit', { depositId, notes: [note], amountCents: 2_000 }, 'BAD_BODY'],
    ['deposit.commit', { depositId: '../../etc', notes: [note] }, 'BAD_BODY'],
    ['deposit.commit', { depositId, notes: [{ denominationCents: 2_500, count: 1 }] }, 'BAD_NOTES'],
    ['deposit.commit', { depositId, notes: [{ ...note, count: 0 }] }, 'BAD_NOTES'],
    ['deposit.commit', { depositId, notes: [note, note] }, 'BAD_NOTES'],
    ['deposit.commit', { depositId: 'dep_nope', notes: [note] }, 'UNKNOWN_DEPOSIT'],
    ['withdraw.authorize', { accountId, amountCents: 200_000 }, 'LIMIT_EXCEEDED'],
    ['withdraw.complete', { authorizationId: 'auth_nope', dispensedCents: -1 }, 'BAD_AMOUNT'],
    ['transfer', { fromAccountId: accountId, toAccountId: 'acc_nope', amountCents: 100 }, 'UNKNOWN_ACCOUNT'],
    ['transfer', { fromAccountId: accountId, toAccountId: 'acc_nope', amountCents: -100 }, 'BAD_AMOUNT'],
    // $10 and $30: the kiosk's $20 and $50 cassettes cannot pay either exactly.
    ['withdraw.authorize', { accountId, amountCents: 1_000 }, 'NOT_DISPENSABLE'],
    ['withdraw.authorize', { accountId, amountCents: 3_000 }, 'NOT_DISPENSABLE'],
    ['withdraw.authorize', { accountId, amountCents: 20_000 }, 'INSUFFICIENT_FUNDS'],
    ['withdraw.complete', { authorizationId: 'auth_nope', dispensedCents: 0 }, 'UNKNOWN_AUTHORIZATION'],
    ['balance', { accountId, extra: true }, 'BAD_BODY'],
  ];
  for (const [type, body, code] of cases) {
    await expectCode(t, kiosk.request(type as 'balance', body as never), code);
  }
  t.is((await kiosk.request('balance', { accountId })).balanceCents, 10_000);
  // None of the refused commits closed the deposit: the notes stacked are credited once.
  t.is((await kiosk.request('deposit.commit', { depositId, notes: [note] })).account.balanceCents, 12_000);

  // An error names the problem without quoting what the sender put where a name or a choice goes: the
  // message is logged and kept as the request's idempotent answer.
  const pan = '4111111111111111';
  const quoted = async (request: Promise<unknown>) => {
    const error = await t.throwsAsync(request, { instanceOf: ProtocolError });
    return error?.message ?? '';
  };
  t.is(await quoted(kiosk.request('balance', { accountId, [pan]: true, extra: 1 } as never)), "body: unknown fields 'extra', 1 other not shown");
  t.is(await quoted(kiosk.request('history', { accountId, kinds: [pan] } as never)), "kinds.0: must be one of 'deposit', 'withdrawal', 'transfer-in', 'transfer-out'");
  t.false((await quoted(kiosk.request(`x${pan}` as 'balance', { accountId }))).includes(pan));
});

test.serial('another customer\'s account is unknown, not forbidden', async (t) => {
  const a = await h.connectedClient('kiosk-owner-a');
  const b = await h.connectedClient('kiosk-owner-b');
  const victim = await a.request('register', { username: 'victim', password: 'a long enough password' });
  await b.request('register', { username: 'intruder', password: 'a long enough password' });
  await expectCode(t, b.request('balance', { accountId: victim.accounts[0]!.accountId }), 'UNKNOWN_ACCOUNT');
  await expectCode(t, b.request('history', { accountId: victim.accounts[0]!.accountId }), 'UNKNOWN_ACCOUNT');
});

test.serial('a session ends after inactivity', async (t) => {
  const kiosk = await h.connectedClient('kiosk-expiry');
  const { accounts } = await kiosk.request('register', { username: 'sleepy', password: 'a long enough password' });
  nowMs += 61_000;
  await expectCode(t, kiosk.request('balance', { accountId: accounts[0]!.accountId }), 'SESSION_EXPIRED');
  await expectCode(t, kiosk.request('balance', { accountId: accounts[0]!.accountId }), 'NOT_SIGNED_IN');
  nowMs = Date.now();
});

test.serial('two kiosks racing withdrawals on one account never overdraw it', async (t) => {
  const services = h.host.state.services;
  await addCustomer(services, 'racer', 'a long enough password', { scryptCost });
  const kiosks = await Promise.all(['kiosk-race-1', 'kiosk-race-2', 'kiosk-race-3'].map((id) => h.connectedClient(id)));
  const sessions = await Promise.all(kiosks.map((k) => k.request('signin.password', { username: 'racer', password: 'a long enough password' })));
  const accountId = sessions[0]!.accounts[0]!.accountId;
  await clientDeposit(kiosks[0]!, accountId, 10_000);
  const attempts = kiosks.flatMap((k) => Array.from({ length: 4 }, () => k.request('withdraw.authorize', { accountId, amountCents: 2_000 }).catch((e: ProtocolError) => e)));
  const outcomes = await Promise.all(attempts);
  const granted = outcomes.filter((o) => !(o instanceof ProtocolError));
  t.is(granted.length, 5, '$100.00 covers exactly five $20.00 holds');
  t.true(outcomes.filter((o) => o instanceof ProtocolError).every((o) => (o as ProtocolError).code === 'INSUFFICIENT_FUNDS'));
  const balance = await kiosks[0]!.request('balance', { accountId });
  t.is(balance.availableCents, 0);
  t.true((await checkLedger(services.db)).ok);
});

test.serial('a connection may have only so many requests pending; the rest get TOO_MANY_PENDING', async (t) => {
  const key = await h.addDevice('kiosk-flood');
  const socket = await rawConnect(h.port, 'kiosk-flood', key);
  const decoder = new FrameDecoder();
  const responses: { ok: boolean; error?: { code: string } }[] = [];
  socket.on('data', (c: Buffer) => responses.push(...(decoder.push(c) as typeof responses)));
  // Requests that wait on the database, sent in one write so they arrive together.
  const frames = Array.from({ length: 12 }, () => encodeFrame({ v: 1, id: newRequestId(), ts: Date.now(), type: 'signin.password', body: { username: 'nobody-at-all', password: 'x' } }));
  socket.write(Buffer.concat(frames));
  await eventually(() => responses.length === 12);
  const refused = responses.filter((r) => r.error?.code === 'TOO_MANY_PENDING').length;
  t.true(refused >= 1 && refused <= 8, `${refused} refused`);
  socket.destroy();
});

test.serial('past the total connection limit new connections are dropped before TLS', async (t) => {
  const before = h.host.channel.stats.connectionsRefused;
  const sockets: net.Socket[] = [];
  for (let i = 0; i < 210; i++) {
    const s = net.connect(h.port, '127.0.0.1');
    s.on('error', () => {});
    sockets.push(s);
  }
  t.true(await eventually(() => h.host.channel.stats.connectionsRefused > before, 3_000));
  for (const s of sockets) s.destroy();
  // Once they are gone the host serves new connections again.
  const kiosk = await h.connectedClient('kiosk-after-flood');
  t.truthy(await kiosk.request('ping', {}));
});

test.serial('completion and reversal are accepted after the session ended by sign-out or by expiry', async (t) => {
  const kiosk = await h.connectedClient('kiosk-settle-late');
  const { accounts } = await kiosk.request('register', { username: 'settlelate', password: 'a long enough password' });
  const accountId = accounts[0]!.accountId;
  await clientDeposit(kiosk, accountId, 10_000);
  const first = await kiosk.request('withdraw.authorize', { accountId, amountCents: 4_000 });
  const second = await kiosk.request('withdraw.authorize', { accountId, amountCents: 2_000 });
  await kiosk.request('signout', {});
  await expectCode(t, kiosk.request('balance', { accountId }), 'NOT_SIGNED_IN');
  t.like(await kiosk.request('withdraw.complete', { authorizationId: first.authorizationId, dispensedCents: 4_000 }), { postedCents: 4_000 });

  await kiosk.request('signin.password', { username: 'settlelate', password: 'a long enough password' });
  nowMs += 61_000;
  await expectCode(t, kiosk.request('balance', { accountId }), 'SESSION_EXPIRED');
  t.like(await kiosk.request('withdraw.reverse', { authorizationId: second.authorizationId }), { releasedCents: 2_000 });
  nowMs = Date.now();
  await kiosk.request('signin.password', { username: 'settlelate', password: 'a long enough password' });
  t.like(await kiosk.request('balance', { accountId }), { balanceCents: 6_000, availableCents: 6_000 });
  t.true((await checkLedger(h.host.state.services.db)).ok);
});

test.serial('every session operation before sign-in, after sign-out and after expiry is refused and moves no money', async (t) => {
  const kiosk = await h.connectedClient('kiosk-no-session');
  const { accounts } = await kiosk.request('register', { username: 'nosession', password: 'a long enough password' });
  const accountId = accounts[0]!.accountId;
  await clientDeposit(kiosk, accountId, 10_000);
  const { accountId: toAccountId } = await openAccount(h.host.state.services, 'nosession', 'savings');
  const attempts = [
    () => kiosk.request('balance', { accountId }),
    () => kiosk.request('deposit.open', { accountId }),
    () => kiosk.request('withdraw.authorize', { accountId, amountCents: 2_000 }),
    () => kiosk.request('history', { accountId }),
    () => kiosk.request('transfer', { fromAccountId: accountId, toAccountId, amountCents: 500 }),
    () => kiosk.request('signout', {}),
  ];
  await kiosk.request('signout', {});
  for (const attempt of attempts) await expectCode(t, attempt(), 'NOT_SIGNED_IN');
  const other = await h.connectedClient('kiosk-no-session-2');
  await expectCode(t, other.request('deposit.open', { accountId }), 'NOT_SIGNED_IN');
  await kiosk.request('signin.password', { username: 'nosession', password: 'a long enough password' });
  nowMs += 61_000;
  await expectCode(t, kiosk.request('deposit.open', { accountId }), 'SESSION_EXPIRED');
  for (const attempt of attempts) await expectCode(t, attempt(), 'NOT_SIGNED_IN');
  nowMs = Date.now();
  await kiosk.request('signin.password', { username: 'nosession', password: 'a long enough password' });
  t.like(await kiosk.request('balance', { accountId }), { balanceCents: 10_000, availableCents: 10_000 });
  t.like(await kiosk.request('balance', { accountId: toAccountId }), { balanceCents: 0 });
});
