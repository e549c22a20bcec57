import test from 'ava';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { main, type Io } from '../../bank-host/cli/main.js';
import { startTestHost, type TestHost } from '../helpers/host.js';

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
  const again = await cli(['init', '--data', data, '--keys', keys]);
  t.is(again.code, 1);
  t.regex(again.err, /refusing to overwrite/);
});

test('admin commands work directly on a stopped host', async (t) => {
  const data = path.join(dir, 'stopped-data');
  const keys = path.join(dir, 'stopped-keys');
  t.is((await cli(['init', '--data', data, '--keys', keys])).code, 0);
  const where = ['--data', data, '--keys', keys];
  const keyFile = path.join(dir, 'stopped-kiosk.key');
  const added = await cli(['device', 'add', 'kiosk-offline', '--key-out', keyFile, ...where]);
  t.is(added.code, 0, added.err);
  t.regex(added.out, /added kiosk-offline\tactive/);
  t.is((await stat(keyFile)).mode & 0o777, 0o600);
  const key = (await readFile(keyFile, 'utf8')).trim();
  t.false(added.out.includes(key), 'the key is never printed');
  const customer = await cli(['customer', 'add', 'alice', ...where], 'correct horse battery');
  t.is(customer.code, 0, customer.err);
  const card = await cli(['card', 'issue', 'alice', ...where]);
  t.is(card.code, 0, card.err);
  t.regex(card.out, /issued card \d{16} expiring \d{4}-\d{2}\nPIN \d{4}/);
  const shown = await cli(['customer', 'show', 'alice', ...where]);
  t.regex(shown.out, /card •••• \d{4}\tactive/);
  t.false(/\d{16}/.test(shown.out), 'customer show never prints a full PAN');
  const check = await cli(['ledger', 'check', ...where]);
  t.is(check.code, 0, check.out + check.err);
  t.regex(check.out, /ledger OK/);
  const list = await cli(['device', 'list', '--json', ...where]);
  t.deepEqual(JSON.parse(list.out).devices.map((d: { deviceId: string }) => d.deviceId), ['kiosk-offline']);
});

test.serial('the same commands go through the admin socket while the host serves', async (t) => {
  const h: TestHost = await startTestHost();
  try {
    const where = ['--admin-socket', h.adminSocket];
    const keyFile = path.join(dir, 'live-kiosk.key');
    const added = await cli(['device', 'add', 'kiosk-live', '--key-out', keyFile, ...where]);
    t.is(added.code, 0, added.err);
    t.true(h.host.state.registry.isActive('kiosk-live'), 'the serving host knows the device at once');
    const kShared = Buffer.from((await readFile(keyFile, 'utf8')).trim(), 'hex');
    const client = h.client('kiosk-live', kShared);
    client.start();
    await client.waitConnected(3_000);
    const status = await cli(['status', '--json', ...where]);
    t.true(JSON.parse(status.out).serving);
    // While serving, the database is locked: going around the socket fails with a clear message.
    const direct = await cli(['device', 'list', '--data', h.dataDir, '--keys', h.keysDir, '--admin-socket', path.join(dir, 'nothing.sock')]);
    t.is(direct.code, 1);
    t.regex(direct.err, /in use by another process/);
    const revoked = await cli(['device', 'revoke', 'kiosk-live', ...where]);
    t.is(revoked.code, 0, revoked.err);
    t.regex(revoked.out, /revoked kiosk-live\trevoked/);
    t.false(h.host.state.registry.isActive('kiosk-live'));
    const holds = await cli(['holds', 'list', ...where]);
    t.is(holds.out.trim(), 'no open holds');
  } finally {
    await h.close();
  }
});

test('every command has --help, and bad arguments get a clear error and exit code 2', async (t) => {
  for (const argv of [['--help'], ['init', '--help'], ['serve', '--help'], ['device', 'add', '--help'], ['ledger', 'check', '--help'], ['holds', 'complete', '--help'], ['customer', 'add', '--help']]) {
    const run = await cli(argv);
    t.is(run.code, 0, argv.join(' '));
    t.regex(run.out, /Usage|bank-host/);
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
  const existing = path.join(dir, 'existing.key');
  await writeFile(existing, 'keep me\n');
  const run = await cli(['device', 'add', 'kiosk-y', '--key-out', existing, '--data', dir, '--keys', dir]);
  t.is(run.code, 2);
  t.regex(run.err, /already exists/);
  t.is(await readFile(existing, 'utf8'), 'keep me\n');
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
