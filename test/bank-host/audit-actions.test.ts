// The list of what the audit log records, checked against the host's own tables: every operation the channel
// serves and every admin command either leaves its record (success and failure) or is named here as a read
// that does not. A new operation or command without a record fails this test.
import test from 'ava';
import { parseKeyTransport } from '../../protocol/key-transport.js';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { ProtocolError } from '../../protocol/errors.js';
import { encodePinBlockFormat4 } from '../../protocol/pin-block.js';
import type { Io } from '../../bank-host/cli/io.js';
import { main } from '../../bank-host/cli/main.js';
import { ADMIN_COMMANDS } from '../../bank-host/admin/commands.js';
import type { AuditEntry } from '../../bank-host/audit/record.js';
import { createHostOperations } from '../../bank-host/operations/table.js';
import { clientDeposit, startTestHost } from '../helpers/host.js';
import { testEppIdentity } from '../helpers/epp-vendor.js';
import { testKioskStatus } from '../helpers/kiosk-cash.js';

const CHEAP_SCRYPT = { log2N: 10, r: 8, p: 1 };
const PASSWORD = 'correct horse battery';
const SESSION_IDLE_TIMEOUT_MS = 10_000;

/** Admin commands that leave no record, and why. Everything else an operator runs is recorded. */
const UNRECORDED_ADMIN_COMMANDS: Readonly<Record<string, string>> = {
  status: 'live counters, no customer or device data',
  'device.list': 'ids and key versions only, never a key',
  'ledger.check': 'totals and problems, no one customer',
  'audit.verify': 'must not change the log it vouches for',
  'audit.checkpoint': 'signs the head it just verified; a record would move the head past it',
  'audit.show': 'reads the log; it must also work on a copy of the store',
  'fleet.list': "kiosks' states, cash and alerts: no customer's data",
  'fleet.alerts': "the alerts raised: kiosks' facts, no customer's data",
  'operator.list': 'names and dates, never a token or its hash',
};
/** Admin commands whose work cannot fail once their arguments parse (malformed arguments are refused before
 *  any command runs, and are no action). */
const ADMIN_COMMANDS_WITHOUT_FAILURE: ReadonlySet<string> = new Set(['holds.list', 'deposits.holds', 'deposits.open', 'exceptions.list']);
/** Admin commands recorded under another action name. */
const ADMIN_ACTION_NAMES: Readonly<Record<string, string>> = {
  'holds.complete': 'hold.resolve',
  'holds.reverse': 'hold.resolve',
  'deposits.release': 'deposit.hold.release',
  'exceptions.resolve': 'exception.resolve',
  // The CLI's report that an add (or rotation) failed at its key file: the record is the add's, failed.
  'device.key-out-failed': 'device.add',
};
/** Operations that cannot fail once their body parses (a body that does not parse is refused before any
 *  operation runs, and is no action), and why. */
const OPERATIONS_WITHOUT_FAILURE: Readonly<Record<string, string>> = {
  'kiosk.status': 'a report is stored (or, older than the one kept, ignored) whoever sends it; it needs no session and names no customer',
};

async function cli(argv: string[], secret = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => (out += t + '\n'), err: (t) => (err += t + '\n'), env: {}, readSecret: async () => secret, scryptCost: CHEAP_SCRYPT };
  const code = await main(argv, io);
  return { code, out, err };
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => (error instanceof ProtocolError ? error.code : `not a ProtocolError: ${String(error)}`),
  );

test('every customer action and outcome, device event and operator action leaves its record, and none holds a secret', async (t) => {
  const clock = { offsetMs: 0 };
  const h = await startTestHost({
    operations: createHostOperations({ scryptCost: CHEAP_SCRYPT }),
    // Half of a $100 deposit is held a day, so there is a deposit hold for the operator to release.
    config: { sessionIdleTimeoutMs: SESSION_IDLE_TIMEOUT_MS, maxPinTries: 3, depositImmediateCentsPerDay: 5_000, depositHoldMs: 24 * 3_600_000 },
    now: () => Date.now() + clock.offsetMs,
  });
  try {
    const where = ['--admin-socket', h.adminSocket];
    const run = async (argv: string[], expectedCode: number, secret = '') => {
      const result = await cli([...argv, ...where], secret);
      t.is(result.code, expectedCode, `${argv.join(' ')}: ${result.out}${result.err}`);
      return result.out;
    };
    const secrets: string[] = [PASSWORD];

    // Devices, as the operator manages them.
    const keyFile = (name: string) => path.join(h.dataDir, '..', `${name}.key`);
    await run(['device', 'add', 'kiosk-a', '--key-out', keyFile('kiosk-a')], 0);
    await run(['device', 'add', 'kiosk-a', '--key-out', keyFile('kiosk-a-again')], 1);
    await run(['device', 'add', 'kiosk-c', '--key-out', path.join(h.dataDir, '..', 'no-such-folder', 'kiosk-c.key')], 1);
    await run(['device', 'rotate', 'kiosk-a', '--key-out', keyFile('kiosk-a-rotated')], 0);
    for (const name of ['kiosk-a', 'kiosk-a-rotated']) secrets.push((await parseKeyTransport(await readFile(keyFile(name), 'utf8'))).key.toString('hex'));
    await run(['device', 'revoke', 'kiosk-a'], 0);
    await run(['device', 'rotate', 'kiosk-a', '--key-out', keyFile('kiosk-a-revoked')], 1);
    await run(['device', 'revoke', 'kiosk-nobody'], 1);

    // Handshakes refused: a revoked device, an unknown one, a known one with the wrong key.
    for (const [deviceId, key] of [['kiosk-a', Buffer.alloc(32, 1)], ['kiosk-unknown', Buffer.alloc(32, 2)]] as const) {
      const client = h.client(deviceId, key);
      client.start();
      await new Promise((resolve) => setTimeout(resolve, 200));
      client.close();
    }
    const kioskKey = await h.addDevice('kiosk-b');
    secrets.push(kioskKey.toString('hex'));
    const impostor = h.client('kiosk-b', Buffer.alloc(32, 3));
    impostor.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    impostor.close();

    // Customers, as the operator manages them.
    const customerAdded = await run(['customer', 'add', 'bob'], 0, PASSWORD);
    const bobId = /\((cus_[0-9a-f]+)\)/.exec(customerAdded)![1]!;
    await run(['customer', 'add', 'bob'], 1, PASSWORD);
    await run(['customer', 'show', 'bob'], 0);
    await run(['customer', 'show', 'nobody'], 1);
    await run(['account', 'open', 'bob', '--kind', 'savings'], 0);
    await run(['account', 'open', 'nobody'], 1);
    const issued = await run(['card', 'issue', 'bob'], 0);
    const [, pan, pin] = /issued card (\d+) .*\nPIN (\d+)/.exec(issued)!;
    secrets.push(pan!, pin!);
    await run(['card', 'issue', 'nobody'], 1);

    // The customer at a kiosk: every operation, each with a success and a failure.
    const kiosk = h.client('kiosk-b', kioskKey);
    kiosk.start();
    await kiosk.waitConnected(3_000);
    // A kiosk reports its cash (cassettes, note acceptor) before it serves anyone.
    await kiosk.request('kiosk.status', testKioskStatus());
    // Its PIN pad fetches the PIN key (enrolled the first time); a pad no trusted vendor signed is refused.
    const epp = testEppIdentity();
    const delivered = await kiosk.request('pinkey.fetch', { eppCertificate: epp.certificate });
    t.is(await refusal(kiosk.request('pinkey.fetch', { eppCertificate: epp.certificate.replace(/[0-9a-f]{128}$/, '0'.repeat(128)) })), 'EPP_UNTRUSTED');
    await run(['device', 'rotate-pin-key', 'kiosk-b'], 0);
    await run(['device', 'rotate-pin-key', 'kiosk-nobody'], 1);
    secrets.push(h.pinKey('kiosk-b').toString('hex'));
    t.truthy(delivered.kcv);
    const pinBlock = (p: string) => encodePinBlockFormat4(p, pan!, h.pinKey('kiosk-b')).toString('hex');
    const wrongPin = pin === '0000' ? '1111' : '0000';
    secrets.push(pinBlock(pin!), pinBlock(wrongPin));
    t.is(await refusal(kiosk.request('signin.card', { pan: pan!, pinBlock: pinBlock(wrongPin) })), 'WRONG_PIN');
    t.is(await refusal(kiosk.request('signin.card', { pan: pan!, pinBlock: pinBlock(wrongPin) })), 'WRONG_PIN_LAST_TRY');
    t.is(await refusal(kiosk.request('signin.card', { pan: pan!, pinBlock: pinBlock(wrongPin) })), 'CARD_BLOCKED');
    await run(['card', 'unblock', pan!], 0);
    const session = await kiosk.request('signin.card', { pan: pan!, pinBlock: pinBlock(pin!) });
    const [chequing, savings] = session.accounts.map((a) => a.accountId);
    // A PIN change: the new PIN typed differently the second time, then the same PIN again (so the PIN
    // blocks stay among the secrets the log must not hold).
    const otherPin = pin === '2580' ? '3691' : '2580';
    secrets.push(pinBlock(otherPin));
    t.is(await refusal(kiosk.request('pin.change', { pan: pan!, oldPinBlock: pinBlock(pin!), newPinBlock: pinBlock(otherPin), confirmPinBlock: pinBlock(pin!) })), 'PIN_MISMATCH');
    await kiosk.request('pin.change', { pan: pan!, oldPinBlock: pinBlock(pin!), newPinBlock: pinBlock(pin!), confirmPinBlock: pinBlock(pin!) });
    await kiosk.request('balance', { accountId: chequing! });
    t.is(await refusal(kiosk.request('balance', { accountId: 'acc_0000000000000000' })), 'UNKNOWN_ACCOUNT');
    t.like(await clientDeposit(kiosk, chequing!, 10_000), { creditedCents: 10_000, availableNowCents: 5_000, heldCents: 5_000 });
    t.is(await refusal(kiosk.request('deposit.open', { accountId: 'acc_0000000000000000' })), 'UNKNOWN_ACCOUNT');
    t.is(await refusal(kiosk.request('deposit.commit', { depositId: 'dep_000000000000000000000000', notes: [] })), 'UNKNOWN_DEPOSIT');
    // The operator counted the cashbox: the held part of the deposit is released early, once.
    const [, depositHold] = /^(dhd_[0-9a-f]{24})\t/m.exec(await run(['deposits', 'holds'], 0))!;
    await run(['deposits', 'release', depositHold!], 0);
    await run(['deposits', 'release', depositHold!], 1);
    await run(['deposits', 'release', 'dhd_000000000000000000000000'], 1);
    await run(['deposits', 'open'], 0);
    const completed = await kiosk.request('withdraw.authorize', { accountId: chequing!, amountCents: 2_000 });
    await kiosk.request('withdraw.complete', { authorizationId: completed.authorizationId, dispensedCents: 2_000 });
    const reversed = await kiosk.request('withdraw.authorize', { accountId: chequing!, amountCents: 2_000 });
    await kiosk.request('withdraw.reverse', { authorizationId: reversed.authorizationId });
    t.is(await refusal(kiosk.request('withdraw.complete', { authorizationId: reversed.authorizationId, dispensedCents: 2_000 })), 'AUTHORIZATION_SETTLED');
    t.is(await refusal(kiosk.request('withdraw.reverse', { authorizationId: 'auth_0000000000000000' })), 'UNKNOWN_AUTHORIZATION');
    t.is(await refusal(kiosk.request('withdraw.authorize', { accountId: chequing!, amountCents: 20_000 })), 'INSUFFICIENT_FUNDS');
    await kiosk.request('transfer', { fromAccountId: chequing!, toAccountId: savings!, amountCents: 1_000 });
    t.is(await refusal(kiosk.request('transfer', { fromAccountId: chequing!, toAccountId: chequing!, amountCents: 1_000 })), 'SAME_ACCOUNT');
    await kiosk.request('history', { accountId: chequing! });
    t.is(await refusal(kiosk.request('history', { accountId: 'acc_0000000000000000' })), 'UNKNOWN_ACCOUNT');
    await kiosk.request('activity', { limit: 5 });
    // A hold the kiosk never settles, settled by the operator.
    const stranded = await kiosk.request('withdraw.authorize', { accountId: chequing!, amountCents: 2_000 });
    await run(['holds', 'list'], 0);
    await run(['holds', 'complete', stranded.authorizationId], 0);
    await run(['holds', 'reverse', 'auth_0000000000000000'], 1);
    // The kiosk comes back saying it paid nothing out: a money exception the operator resolves.
    t.is(await refusal(kiosk.request('withdraw.reverse', { authorizationId: stranded.authorizationId })), 'SETTLED_BY_OPERATOR');
    const [, exception] = /^(exc_opset_\S+)\t/m.exec(await run(['exceptions', 'list'], 0))!;
    await run(['exceptions', 'resolve', exception!, '--note', 'counted the cassettes: nothing missing'], 0);
    await run(['exceptions', 'resolve', 'exc_opset_nothing', '--note', 'no such exception'], 1);
    // The fleet (a kiosk's detail lists its customers' transactions) and who may watch it.
    await run(['fleet', 'show', 'kiosk-b'], 0);
    await run(['fleet', 'show', 'kiosk-nobody'], 1);
    await run(['fleet', 'threshold', 'kiosk-b', '--low-cash-notes', '10'], 0);
    await run(['fleet', 'threshold', 'kiosk-nobody', '--default'], 1);
    secrets.push((await run(['operator', 'add', 'carol'], 0)).split('\n')[0]!);
    await run(['operator', 'add', 'carol'], 1);
    await run(['operator', 'revoke', 'carol'], 0);
    await run(['operator', 'revoke', 'carol'], 1);
    t.is(await refusal(kiosk.request('replenish.open', {})), 'ROLE_NOT_ALLOWED');
    await kiosk.request('signout', {});
    t.is(await refusal(kiosk.request('activity', {})), 'NOT_SIGNED_IN');
    t.is(await refusal(kiosk.request('signout', {})), 'NOT_SIGNED_IN');

    // A technician's card: a replenishment with a difference, its alert, and the operator's resolution.
    const technician = await run(['technician', 'add', 'tech.audit'], 0);
    await run(['technician', 'add', 'tech.audit'], 1);
    const [, techPan, techPin] = /supervisor card (\d+) .*\nPIN (\d+)/.exec(technician)!;
    // Its PIN is four digits: like the customer's (below), not looked for as text, where four digits turn up
    // by chance in ids and times.
    secrets.push(techPan!);
    await kiosk.request('signin.card', { pan: techPan!, pinBlock: encodePinBlockFormat4(techPin!, techPan!, h.pinKey('kiosk-b')).toString('hex') });
    const { replenishmentId } = await kiosk.request('replenish.open', {});
    t.is(await refusal(kiosk.request('replenish.unload', { replenishmentId, container: 'cassettes', notes: [{ denominationCents: 1_000, count: 1 }] })), 'BAD_NOTES');
    await kiosk.request('replenish.unload', { replenishmentId, container: 'cassettes', notes: [{ denominationCents: 2_000, count: 1 }] });
    t.is(await refusal(kiosk.request('replenish.load', { replenishmentId, notes: [{ denominationCents: 1_000, count: 1 }] })), 'BAD_NOTES');
    await kiosk.request('replenish.load', { replenishmentId, notes: [{ denominationCents: 2_000, count: 10 }] });
    await kiosk.request('replenish.close', { replenishmentId });
    t.is(await refusal(kiosk.request('replenish.close', { replenishmentId: 'rpl_000000000000000000000000' })), 'UNKNOWN_REPLENISHMENT');
    await h.host.state.services.fleet!.checkNow();
    await run(['fleet', 'resolve', 'kiosk-b', '--note', 'the cassettes were filled by hand'], 0);
    await run(['fleet', 'resolve', 'kiosk-b', '--note', 'nothing left'], 1);
    await kiosk.request('signout', {});

    // Registration and password sign-in, from a second kiosk.
    const other = await h.connectedClient('kiosk-c');
    const alice = await other.request('register', { username: 'alice', password: PASSWORD });
    await other.request('signout', {});
    t.is(await refusal(other.request('register', { username: 'alice', password: PASSWORD })), 'USERNAME_TAKEN');
    t.is(await refusal(other.request('signin.password', { username: 'alice', password: 'not the password at all' })), 'BAD_CREDENTIALS');
    await other.request('signin.password', { username: 'alice', password: PASSWORD });
    // Idle past the session timeout: the next request finds the session expired.
    clock.offsetMs += SESSION_IDLE_TIMEOUT_MS + 1_000;
    t.is(await refusal(other.request('balance', { accountId: alice.accounts[0]!.accountId })), 'SESSION_EXPIRED');
    // Signed in again, then the kiosk drops the connection: the session ends with it.
    await other.request('signin.password', { username: 'alice', password: PASSWORD });
    other.close();

    await run(['card', 'block', pan!], 0);
    await run(['card', 'block', '4000000000000000'], 1);
    await run(['card', 'unblock', '4000000000000000'], 1);

    let entries: AuditEntry[] = [];
    const recorded = async () => {
      entries = JSON.parse(await run(['audit', 'show', '--json'], 0)).entries as AuditEntry[];
      return entries.some((e) => e.action === 'session.end');
    };
    for (let i = 0; i < 50 && !(await recorded()); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    const seen = new Set(entries.flatMap((e) => [`${e.action}:${e.outcome}`, `${e.action}:${e.outcome}:${e.reason ?? ''}`]));

    const expected = [
      'device.add:ok', 'device.add:failed:DEVICE_EXISTS', 'device.add:failed:KEY_OUT_FAILED', 'device.rotate:ok', 'device.rotate:failed:DEVICE_REVOKED',
      'device.revoke:ok', 'device.revoke:failed:DEVICE_UNKNOWN',
      'handshake:refused:revoked-device', 'handshake:refused:unknown-device', 'handshake:refused:wrong-key',
      'customer.add:ok', 'customer.add:failed:USERNAME_TAKEN', 'customer.show:ok', 'customer.show:failed:UNKNOWN_CUSTOMER',
      'account.open:ok', 'account.open:failed:UNKNOWN_CUSTOMER', 'card.issue:ok', 'card.issue:failed:UNKNOWN_CUSTOMER',
      'card.block:ok', 'card.block:failed:CARD_UNKNOWN', 'card.unblock:ok', 'card.unblock:failed:CARD_UNKNOWN',
      'holds.list:ok', 'hold.resolve:ok', 'hold.resolve:failed:UNKNOWN_AUTHORIZATION',
      'signin.card:failed:WRONG_PIN', 'signin.card:failed:WRONG_PIN_LAST_TRY', 'signin.card:failed:CARD_BLOCKED', 'pin.change:ok', 'pin.change:failed:PIN_MISMATCH', 'signin.card:ok',
      'deposits.holds:ok', 'deposit.hold.release:ok', 'deposit.hold.release:failed:DEPOSIT_HOLD_RELEASED', 'deposit.hold.release:failed:UNKNOWN_DEPOSIT_HOLD',
      'deposits.open:ok', 'exceptions.list:ok', 'exception.resolve:ok', 'exception.resolve:failed:UNKNOWN_EXCEPTION',
      'kiosk.status:ok', 'pinkey.fetch:ok', 'pinkey.fetch:failed:EPP_UNTRUSTED', 'epp.enroll:ok',
      'device.rotate-pin-key:ok', 'device.rotate-pin-key:failed:DEVICE_UNKNOWN',
      'balance:ok', 'balance:failed:UNKNOWN_ACCOUNT', 'deposit.open:ok', 'deposit.open:failed:UNKNOWN_ACCOUNT',
      'deposit.commit:ok', 'deposit.commit:failed:UNKNOWN_DEPOSIT',
      'withdraw.authorize:ok', 'withdraw.authorize:failed:INSUFFICIENT_FUNDS',
      'withdraw.complete:ok', 'withdraw.complete:failed:AUTHORIZATION_SETTLED',
      'withdraw.reverse:ok', 'withdraw.reverse:failed:UNKNOWN_AUTHORIZATION', 'withdraw.reverse:failed:SETTLED_BY_OPERATOR',
      'transfer:ok', 'transfer:failed:SAME_ACCOUNT', 'history:ok', 'history:failed:UNKNOWN_ACCOUNT',
      'activity:ok', 'activity:failed:NOT_SIGNED_IN', 'signout:ok', 'signout:failed:NOT_SIGNED_IN',
      'register:ok', 'register:failed:USERNAME_TAKEN', 'signin.password:failed:BAD_CREDENTIALS', 'signin.password:ok',
      'session.expire:ok', 'session.end:ok:disconnected',
      'fleet.show:ok', 'fleet.show:failed:DEVICE_UNKNOWN', 'fleet.threshold:ok', 'fleet.threshold:failed:DEVICE_UNKNOWN',
      'operator.add:ok', 'operator.add:failed:OPERATOR_EXISTS', 'operator.revoke:ok', 'operator.revoke:failed:UNKNOWN_OPERATOR',
      'technician.add:ok', 'technician.add:failed:USERNAME_TAKEN', 'replenish.open:ok', 'replenish.open:failed:ROLE_NOT_ALLOWED',
      'replenish.unload:ok', 'replenish.unload:failed:BAD_NOTES', 'replenish.load:ok', 'replenish.load:failed:BAD_NOTES',
      'replenish.close:ok', 'replenish.close:failed:UNKNOWN_REPLENISHMENT', 'fleet.resolve:ok', 'fleet.resolve:failed:NOTHING_TO_RESOLVE',
    ];
    const missing = expected.filter((key) => !seen.has(key));
    t.deepEqual(missing, [], `not recorded: ${missing.join(', ')}`);

    // The host's own tables: every operation it serves, and every admin command not named as an unrecorded
    // read, was seen succeeding and failing above.
    for (const type of Object.keys(createHostOperations())) {
      t.true(seen.has(`${type}:ok`), `operation ${type} left no record of success`);
      t.true(type in OPERATIONS_WITHOUT_FAILURE || seen.has(`${type}:failed`), `operation ${type} left no record of failure`);
    }
    for (const type of Object.keys(OPERATIONS_WITHOUT_FAILURE)) t.true(type in createHostOperations(), `${type} is not an operation any more`);
    for (const name of Object.keys(ADMIN_COMMANDS)) {
      if (name in UNRECORDED_ADMIN_COMMANDS) continue;
      const action = ADMIN_ACTION_NAMES[name] ?? name;
      t.true(seen.has(`${action}:ok`), `admin command ${name} left no record of success`);
      t.true(ADMIN_COMMANDS_WITHOUT_FAILURE.has(name) || seen.has(`${action}:failed`), `admin command ${name} left no record of failure`);
    }
    for (const name of Object.keys(UNRECORDED_ADMIN_COMMANDS)) t.true(name in ADMIN_COMMANDS, `${name} is not an admin command any more`);

    // Operator records say so; customer records name the customer; no request is recorded twice.
    t.true(entries.filter((e) => e.action.startsWith('card.') || e.action.startsWith('device.') || e.action.startsWith('exception')).every((e) => e.actor === 'operator'));
    t.true(entries.filter((e) => e.action === 'deposit.open' || e.action === 'deposit.commit' || e.action === 'transfer').every((e) => e.customerId === bobId));
    // The operator's release names the customer whose money it frees.
    t.true(entries.filter((e) => e.action === 'deposit.hold.release').every((e) => e.actor === 'operator'));
    t.true(entries.filter((e) => e.action === 'deposit.hold.release' && e.outcome === 'ok').every((e) => e.customerId === bobId));
    const requestIds = entries.flatMap((e) => (e.requestId !== undefined ? [e.requestId] : []));
    t.is(new Set(requestIds).size, requestIds.length, 'a request recorded twice');

    // Nothing secret in any record: passwords, PINs, PIN blocks, device keys, the full PAN, or the host's keys.
    for (const file of await readdir(h.keysDir)) {
      const key = await readFile(path.join(h.keysDir, file));
      secrets.push(key.toString('hex'), key.toString('base64'), key.toString('utf8').trim());
    }
    const text = JSON.stringify(entries);
    const leaked = secrets.filter((secret) => secret.length >= 4 && secret !== pin && text.includes(secret));
    t.deepEqual(leaked, [], 'a secret appears in the audit log');
    t.false(new RegExp(`"${pin}"|:${pin}[,}]`).test(text), 'the PIN appears as a value');
    t.true(text.includes(pan!.slice(-4)), 'the last four digits of the card are recorded');
  } finally {
    await h.close();
  }
});
