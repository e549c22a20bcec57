import test from 'ava';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Io } from '../../bank-host/cli/io.js';
import { main } from '../../bank-host/cli/main.js';
import { Database } from '../../bank-host/store/database.js';
import { ChannelClient } from '../../protocol/client.js';
import { parseKeyTransport } from '../../protocol/key-transport.js';
import { createLogger } from '../../protocol/log.js';
import { clientDeposit, startTestHost, type TestHost } from '../helpers/host.js';
import { testKioskStatus } from '../helpers/kiosk-cash.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

const CHEAP_SCRYPT = { log2N: 10, r: 8, p: 1 };

async function cli(argv: string[], secret = ''): Promise<Run> {
  let out = '';
  let err = '';
  const io: Io = {
    out: (t) => (out += t + '\n'),
    err: (t) => (err += t + '\n'),
    env: {},
    readSecret: async () => secret,
    scryptCost: CHEAP_SCRYPT,
  };
  const code = await main(argv, io);
  return { code, out, err };
}

let dir: string;
test.before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bank-cli-'));
});
test.after.always(async () => rm(dir, { recursive: true, force: true }));

test('init creates owner-only keys and refuses to overwrite them', async (t) => {
  const data = path.join(dir, 'init-data');
  const keys = path.join(dir, 'init-keys');
  const first = await cli(['init', '--data', data, '--keys', keys]);
  t.is(first.code, 0, first.err);
  for (const file of ['master.key', 'pin-verify.key', 'audit-enc.key', 'audit-mac.key', 'audit-sign.key']) {
    const info = await stat(path.join(keys, file));
    t.is(info.mode & 0o777, 0o600, file);
    t.regex(await readFile(path.join(keys, file), 'utf8'), /^[0-9a-f]{64}\n$/);
  }
  t.is((await stat(keys)).mode & 0o777, 0o700);
  t.is((await stat(data)).mode & 0o777, 0o700, 'the data folder is owner-only');
  t.is((await stat(path.join(data, 'db'))).mode & 0o777, 0o700, 'and so is the database in it');
  const again = await cli(['init', '--data', data, '--keys', keys]);
  t.is(again.code, 1);
  t.regex(again.err, /refusing to overwrite/);
});

/** A host with one kiosk, a funded customer and two open withdrawal holds made over the real channel. */
async function hostWithHolds(): Promise<{ h: TestHost; holds: string[]; accountId: string }> {
  const h = await startTestHost();
  const kiosk = await h.connectedClient('kiosk-holds');
  const { accounts } = await kiosk.request('register', { username: 'holder', password: 'a long enough password' });
  const accountId = accounts[0]!.accountId;
  await clientDeposit(kiosk, accountId, 50_000);
  const holds: string[] = [];
  for (const amountCents of [6_000, 4_000]) holds.push((await kiosk.request('withdraw.authorize', { accountId, amountCents })).authorizationId);
  return { h, holds, accountId };
}

/** Every operator command of the README, in order, checking each one's effect. `where` says how the CLI
 *  reaches the host: its admin socket, or the database of a stopped host. */
async function runEveryOperatorCommand(
  t: import('ava').ExecutionContext,
  where: string[],
  scenario: { holds: string[]; accountId: string; tag: string },
): Promise<void> {
  const ok = async (argv: string[], secret?: string): Promise<string> => {
    const run = await cli([...argv, ...where], secret);
    t.is(run.code, 0, `${argv.join(' ')}: ${run.err}`);
    return run.out;
  };
  const device = `kiosk-${scenario.tag}`;
  const firstKey = path.join(dir, `${device}-1.key`);
  const secondKey = path.join(dir, `${device}-2.key`);
  t.regex(await ok(['device', 'add', device, '--key-out', firstKey]), new RegExp(`added ${device}\tactive\tkey v1`));
  t.is((await stat(firstKey)).mode & 0o777, 0o600);
  // The transport file: the device, its key version, the key and its check value.
  const firstFile = await parseKeyTransport(await readFile(firstKey, 'utf8'));
  t.like(firstFile, { deviceId: device, keyVersion: 1 });
  t.regex(await ok(['device', 'list']), new RegExp(`${device}\tactive`));
  t.regex(await ok(['device', 'rotate', device, '--key-out', secondKey]), new RegExp(`rotated ${device}\tactive\tkey v2`));
  const secondFile = await parseKeyTransport(await readFile(secondKey, 'utf8'));
  t.like(secondFile, { deviceId: device, keyVersion: 2 });
  t.false(secondFile.key.equals(firstFile.key));
  t.regex(await ok(['device', 'revoke', device]), new RegExp(`revoked ${device}\trevoked`));
  const devices = JSON.parse(await ok(['device', 'list', '--json'])).devices as { deviceId: string; status: string }[];
  t.like(devices.find((d) => d.deviceId === device), { status: 'revoked' });

  const username = `cust-${scenario.tag}`;
  t.regex(await ok(['customer', 'add', username], 'correct horse battery'), new RegExp(`added customer ${username} \\(cus_[0-9a-f]{16}\\) with account acc_[0-9a-f]{16}`));
  const savings = /opened account (acc_[0-9a-f]{16})/.exec(await ok(['account', 'open', username, '--kind', 'savings']))![1]!;
  const card = /issued card (\d{16}) expiring \d{4}-\d{2}\nPIN (\d{4})/.exec(await ok(['card', 'issue', username, '--account', savings]));
  t.truthy(card);
  const pan = card![1]!;
  t.regex(await ok(['card', 'block', pan]), new RegExp(`card •••• ${pan.slice(-4)} is blocked`));
  t.regex(await ok(['customer', 'show', username]), new RegExp(`card •••• ${pan.slice(-4)}\tblocked`));
  t.regex(await ok(['card', 'unblock', pan]), new RegExp(`card •••• ${pan.slice(-4)} is active`));
  const shown = await ok(['customer', 'show', username]);
  t.regex(shown, new RegExp(`account ${savings}\tsavings\tbalance \\$0.00`));
  t.regex(shown, new RegExp(`card •••• ${pan.slice(-4)}\tactive`));
  t.false(shown.includes(pan), 'customer show never prints a full PAN');
  t.false(/PIN \d/.test(shown), 'nor the PIN');

  const [first, second] = scenario.holds as [string, string];
  // Both holds are minutes old: by default only holds older than the host's holdAttentionAfterMs are listed.
  t.is((await ok(['holds', 'list'])).trim(), 'no holds open longer than 30 min; 2 younger than 30 min not shown (--all lists them)');
  t.regex(await ok(['holds', 'list', '--older-than', '1h']), /^no holds open longer than 60 min/);
  const listed = await ok(['holds', 'list', '--all']);
  t.regex(listed, new RegExp(`${first}\tkiosk-holds\t${scenario.accountId}\t\\$60.00`));
  t.regex(listed, new RegExp(`${second}\tkiosk-holds\t${scenario.accountId}\t\\$40.00`));
  t.regex(await ok(['holds', 'complete', first, '--dispensed', '20.00']), new RegExp(`${first}: posted \\$20.00, released \\$40.00`));
  t.regex(await ok(['holds', 'reverse', second]), new RegExp(`${second}: released \\$40.00`));
  t.is((await ok(['holds', 'list', '--all'])).trim(), 'no open holds');
  t.is((await ok(['holds', 'list'])).trim(), 'no open holds');
  const settledTwice = await cli(['holds', 'reverse', first, ...where]);
  t.is(settledTwice.code, 1);
  t.regex(settledTwice.err, /AUTHORIZATION_SETTLED/);

  const check = await ok(['ledger', 'check']);
  // $500 of notes went into the cashbox, $20 came out of the cassettes.
  t.regex(check, /^ledger OK: \d+ accounts, \d+ posting legs, 0 open holds\ncustomer balances \$480.00, cash accounts -\$480.00, sum \$0.00/);
  t.regex(await ok(['status']), /"devices": \d+/);
  // Errors from either path carry the same stable codes.
  const unknown = await cli(['customer', 'show', 'nobody-here', ...where]);
  t.is(unknown.code, 1);
  t.regex(unknown.err, /UNKNOWN_CUSTOMER/);
}

test.serial('every operator command works directly on a stopped host', async (t) => {
  const { h, holds, accountId } = await hostWithHolds();
  try {
    await h.stop();
    await runEveryOperatorCommand(t, ['--data', h.dataDir, '--keys', h.keysDir], { holds, accountId, tag: 'stopped' });
    t.false(JSON.parse((await cli(['status', '--json', '--data', h.dataDir, '--keys', h.keysDir])).out).serving);
  } finally {
    await h.close();
  }
});

test.serial('the same commands go through the owner-only admin socket while the host serves', async (t) => {
  const { h, holds, accountId } = await hostWithHolds();
  try {
    const socket = await stat(h.adminSocket);
    t.true(socket.isSocket());
    t.is(socket.mode & 0o777, 0o600, 'the admin socket is owner-only');
    const where = ['--admin-socket', h.adminSocket];
    await runEveryOperatorCommand(t, where, { holds, accountId, tag: 'live' });
    t.true(JSON.parse((await cli(['status', '--json', ...where])).out).serving);
    // The serving host acted at once: the revoked device is refused, the new customer is known.
    t.false(h.host.state.registry.isActive('kiosk-live'));
    t.truthy(await h.host.state.services.db.get('user:cust-live'));
    // While serving, the database is locked: going around the socket fails with a clear message.
    const direct = await cli(['device', 'list', '--data', h.dataDir, '--keys', h.keysDir, '--admin-socket', path.join(dir, 'nothing.sock')]);
    t.is(direct.code, 1);
    t.regex(direct.err, /in use by another process/);
  } finally {
    await h.close();
  }
});

test('a device added through the admin socket connects with the key file at once', async (t) => {
  const h: TestHost = await startTestHost();
  try {
    const keyFile = path.join(dir, 'live-kiosk.key');
    const added = await cli(['device', 'add', 'kiosk-live-key', '--key-out', keyFile, '--admin-socket', h.adminSocket]);
    t.is(added.code, 0, added.err);
    const { key } = await parseKeyTransport(await readFile(keyFile, 'utf8'));
    t.false(added.out.includes(key.toString('hex')), 'the key is never printed');
    const client = h.client('kiosk-live-key', key);
    client.start();
    await client.waitConnected(3_000);
    t.truthy(await client.request('ping', {}));
  } finally {
    await h.close();
  }
});

test('holds no kiosk settled within the host setting are listed by default and reported in the log', async (t) => {
  let nowMs = Date.now();
  const lines: string[] = [];
  const h = await startTestHost({ now: () => nowMs, config: { holdAttentionAfterMs: 30 * 60_000 }, log: createLogger({ level: 'warn', write: (line) => lines.push(line) }) });
  try {
    // Kiosks on the host's clock, so their timestamps stay inside the window as the test moves it.
    const kioskOn = async (deviceId: string) => {
      const client = new ChannelClient({ host: '127.0.0.1', port: h.port, deviceId, kShared: await h.addDevice(deviceId), now: () => nowMs });
      client.start();
      t.teardown(() => client.close());
      await client.waitConnected(5_000);
      await client.request('kiosk.status', testKioskStatus());
      return client;
    };
    const kiosk = await kioskOn('kiosk-forgot');
    const { accounts } = await kiosk.request('register', { username: 'forgotten', password: 'a long enough password' });
    const accountId = accounts[0]!.accountId;
    await clientDeposit(kiosk, accountId, 10_000);
    const old = await kiosk.request('withdraw.authorize', { accountId, amountCents: 2_000 });
    t.is(await h.host.reportHoldsNeedingAttention(), 0);
    nowMs += 31 * 60_000;
    const later = await kioskOn('kiosk-later');
    await later.request('signin.password', { username: 'forgotten', password: 'a long enough password' });
    const fresh = await later.request('withdraw.authorize', { accountId, amountCents: 4_000 });
    const where = ['--admin-socket', h.adminSocket];
    const listed = (await cli(['holds', 'list', ...where])).out;
    t.regex(listed, new RegExp(`^${old.authorizationId}\tkiosk-forgot\t${accountId}\t\\$20.00\t31 min`));
    t.false(listed.includes(fresh.authorizationId));
    t.regex(listed, /1 younger than 30 min not shown/);
    t.true((await cli(['holds', 'list', '--all', ...where])).out.includes(fresh.authorizationId));
    const both = await cli(['holds', 'list', '--all', '--older-than', '1h', ...where]);
    t.is(both.code, 2);
    t.is(await h.host.reportHoldsNeedingAttention(), 1);
    const warning = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((l) => String(l.msg).startsWith('withdrawal holds wait for an operator'));
    t.like(warning, { level: 'warn', count: 1, oldestAgeMs: 31 * 60_000, holdAttentionAfterMs: 30 * 60_000 });
    // Nothing moved the money: the hold waits for a person.
    t.like(await later.request('balance', { accountId }), { balanceCents: 10_000, availableCents: 4_000 });
  } finally {
    await h.close();
  }
});

test('the password is never taken from the command line, and an empty one is refused', async (t) => {
  const where = ['--data', path.join(dir, 'pw-data'), '--keys', path.join(dir, 'pw-keys')];
  t.is((await cli(['init', ...where])).code, 0);
  const asOption = await cli(['customer', 'add', 'erin', '--password', 'correct horse battery', ...where]);
  t.is(asOption.code, 2);
  t.regex(asOption.err, /Unknown option '--password'/);
  const asArgument = await cli(['customer', 'add', 'erin', 'correct horse battery', ...where]);
  t.is(asArgument.code, 2);
  t.regex(asArgument.err, /takes USERNAME/);
  const empty = await cli(['customer', 'add', 'erin', ...where], '');
  t.is(empty.code, 2);
  t.regex(empty.err, /no password given/);
  t.is((await cli(['customer', 'show', 'erin', ...where])).code, 1, 'no customer was created');
});

test('ledger check exits 1 and names the problem when the books do not balance', async (t) => {
  const data = path.join(dir, 'broken-data');
  const keys = path.join(dir, 'broken-keys');
  const where = ['--data', data, '--keys', keys];
  t.is((await cli(['init', ...where])).code, 0);
  t.is((await cli(['customer', 'add', 'frank', ...where], 'correct horse battery')).code, 0);
  const accountId = /account (acc_[0-9a-f]{16})/.exec((await cli(['customer', 'show', 'frank', ...where])).out)![1]!;
  // Someone edits a balance behind the ledger's back.
  const db = await Database.open(path.join(data, 'db'));
  const account = (await db.get<Record<string, unknown>>(`acct:${accountId}`))!;
  await db.writeDurably([{ type: 'put', key: `acct:${accountId}`, value: { ...account, balanceCents: 100_000 } }]);
  await db.close();
  const check = await cli(['ledger', 'check', ...where]);
  t.is(check.code, 1);
  t.regex(check.out, /LEDGER PROBLEMS: 2/);
  t.regex(check.out, new RegExp(`balance-mismatch: .*${accountId}`));
  t.regex(check.out, /total-nonzero/);
});

test('every command in the main help has its own --help, and bad arguments get a clear error and exit code 2', async (t) => {
  const mainHelp = await cli(['--help']);
  t.is(mainHelp.code, 0);
  // The commands as the main help lists them: `bank-host` followed by the lowercase words of each line.
  const commands = mainHelp.out
    .split('\n')
    .filter((line) => line.startsWith('  bank-host '))
    .map((line) => line.trim().split(/\s+/).slice(1).filter((word) => /^[a-z]+$/.test(word)).slice(0, 2))
    .map((words) => (['init', 'serve', 'status'].includes(words[0]!) ? words.slice(0, 1) : words));
  const expected = ['init', 'serve', 'status', 'device add', 'device list', 'device revoke', 'device rotate', 'customer add', 'customer show', 'account open', 'card issue', 'card block', 'card unblock', 'holds list', 'holds complete', 'holds reverse', 'ledger check', 'audit verify', 'audit checkpoint', 'audit show'];
  t.deepEqual(expected.filter((c) => !commands.some((words) => words.join(' ') === c)), [], 'every operator command is in the main help');
  for (const words of commands) {
    for (const flag of ['--help', '-h']) {
      const run = await cli([...words, flag]);
      t.is(run.code, 0, `${words.join(' ')} ${flag}`);
      t.true(run.out.startsWith(`Usage: bank-host ${words.join(' ')}`), `${words.join(' ')} ${flag}: ${run.out.slice(0, 80)}`);
    }
  }
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /unknown command "frobnicate"/],
    [['device'], /device needs one of: add, list, revoke, rotate/],
    [['device', 'add', 'kiosk-x', '--data', dir, '--keys', dir], /--key-out FILE is required/],
    [['device', 'add', '--key-out', path.join(dir, 'k')], /takes ID/],
    [['device', 'list', '--bogus'], /Unknown option '--bogus'/],
    [['serve', '--data', dir, '--keys', dir, '--listen', 'nonsense'], /--listen must be HOST:PORT/],
    [['holds', 'list', '--older-than', 'soon', '--data', dir, '--keys', dir], /--older-than must be a duration/],
    [['holds', 'complete', 'auth_1', '--dispensed', '12.345', '--data', dir, '--keys', dir], /--dispensed must be an amount/],
    [['init', '--data', dir], /init needs --data and --keys/],
  ];
  for (const [argv, message] of cases) {
    const run = await cli(argv);
    t.is(run.code, 2, argv.join(' '));
    t.regex(run.err, message);
  }
});

test('an existing --key-out file is never overwritten', async (t) => {
  const data = path.join(dir, 'existing-data');
  const keys = path.join(dir, 'existing-keys');
  t.is((await cli(['init', '--data', data, '--keys', keys])).code, 0);
  const existing = path.join(dir, 'existing.key');
  await writeFile(existing, 'keep me\n');
  const run = await cli(['device', 'add', 'kiosk-y', '--key-out', existing, '--data', data, '--keys', keys]);
  t.is(run.code, 1);
  t.regex(run.err, /already exists/);
  t.is(await readFile(existing, 'utf8'), 'keep me\n');
  t.regex((await cli(['device', 'list', '--data', data, '--keys', keys])).out, /no devices/);
});

test('a key folder with loose permissions is refused', async (t) => {
  const data = path.join(dir, 'loose-data');
  const keys = path.join(dir, 'loose-keys');
  t.is((await cli(['init', '--data', data, '--keys', keys])).code, 0);
  const { chmod } = await import('node:fs/promises');
  await chmod(path.join(keys, 'master.key'), 0o644);
  const run = await cli(['device', 'list', '--data', data, '--keys', keys]);
  t.is(run.code, 1);
  t.regex(run.err, /readable by others/);
  t.false(/[0-9a-f]{64}/.test(run.err), 'the error never shows key material');
});
