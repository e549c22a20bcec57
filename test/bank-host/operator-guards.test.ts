// Operator commands that cannot go wrong quietly: `serve` (and the CLI on a stopped host) refuses a data
// folder `init` never made instead of making an empty bank of it; host.json is refused when others may write
// it; a lost card is blocked by its customer and last four digits (refused when two cards end in them); and
// every command group answers --help.
import test from 'ava';
import { EventEmitter } from 'node:events';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../protocol/log.js';
import type { Io } from '../../bank-host/cli/io.js';
import { main } from '../../bank-host/cli/main.js';
import { HOST_CONFIG_FILE, loadHostConfig } from '../../bank-host/config.js';
import { addCustomer, issueCard } from '../../bank-host/customers/admin.js';
import type { CardRecord, CustomerRecord } from '../../bank-host/customers/records.js';
import { openHostState } from '../../bank-host/host.js';

const CHEAP_SCRYPT = { log2N: 10, r: 8, p: 1 };

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}, signals?: EventEmitter): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => (out += t + '\n'), err: (t) => (err += t + '\n'), env, readSecret: async () => 'correct horse battery', scryptCost: CHEAP_SCRYPT };
  const code = await main(argv, io, signals);
  return { code, out, err };
}

/** `serve` until it logs that it serves, then SIGTERM: the exit code and what it said. */
async function serveBriefly(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const signals = new EventEmitter();
  let out = '';
  let err = '';
  const io: Io = { out: (t) => (out += t + '\n'), err: (t) => (err += t + '\n'), env, readSecret: async () => '' };
  const running = main(['serve', ...argv, '--listen', '127.0.0.1:0'], io, signals);
  const started = Date.now();
  let code: number | undefined;
  void running.then((c) => (code = c));
  while (code === undefined && !out.includes('bank host serving') && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 20));
  signals.emit('SIGTERM');
  return { code: await running, out, err };
}

let dir: string;
test.before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'operator-guards-'));
});
test.after.always(() => rm(dir, { recursive: true, force: true }));

test('serve refuses a data folder init never made, and leaves it as it was', async (t) => {
  const keys = path.join(dir, 'serve-keys');
  t.is((await cli(['init', '--data', path.join(dir, 'serve-data'), '--keys', keys])).code, 0);
  const mistyped = path.join(dir, 'serve-dta');
  const missing = await serveBriefly(['--data', mistyped, '--keys', keys, '--admin-socket', path.join(dir, 'a.sock')]);
  t.is(missing.code, 1);
  t.regex(missing.err, /holds no bank-host database; run `bank-host init --data .*serve-dta/);
  t.regex(missing.err, /NOT_INITIALIZED/);
  t.false(missing.out.includes('bank host serving'));
  t.is(await stat(mistyped).catch((error: NodeJS.ErrnoException) => error.code), 'ENOENT', 'no folder was made');
  // An empty folder is no database either.
  const empty = path.join(dir, 'serve-empty');
  await mkdir(empty);
  t.is((await serveBriefly(['--data', empty, '--keys', keys, '--admin-socket', path.join(dir, 'b.sock')])).code, 1);
  t.deepEqual(await readdir(empty), []);
  // So does an operator command on a stopped host.
  const listed = await cli(['device', 'list', '--data', mistyped, '--keys', keys]);
  t.is(listed.code, 1);
  t.regex(listed.err, /bank-host init/);
  t.is(await stat(mistyped).catch((error: NodeJS.ErrnoException) => error.code), 'ENOENT');
  // The folder init made serves.
  const served = await serveBriefly(['--data', path.join(dir, 'serve-data'), '--keys', keys, '--admin-socket', path.join(dir, 'c.sock')]);
  t.is(served.code, 0, served.err);
  t.true(served.out.includes('bank host serving'));
});

test("serve starts on the empty folder systemd made for it ($STATE_DIRECTORY), and only that one", async (t) => {
  const keys = path.join(dir, 'systemd-keys');
  t.is((await cli(['init', '--data', path.join(dir, 'systemd-unused'), '--keys', keys])).code, 0);
  const stateDirectory = path.join(dir, 'state-directory');
  await mkdir(stateDirectory, { mode: 0o700 });
  const served = await serveBriefly(['--data', stateDirectory, '--keys', keys, '--admin-socket', path.join(dir, 'd.sock')], { STATE_DIRECTORY: stateDirectory });
  t.is(served.code, 0, served.err);
  t.true((await readdir(path.join(stateDirectory, 'db'))).includes('CURRENT'));
  const other = path.join(dir, 'not-the-state-directory');
  const refused = await serveBriefly(['--data', other, '--keys', keys, '--admin-socket', path.join(dir, 'e.sock')], { STATE_DIRECTORY: stateDirectory });
  t.is(refused.code, 1);
});

test('host.json writable by the group or others is refused with the chmod that fixes it', async (t) => {
  const data = path.join(dir, 'config-data');
  await mkdir(data);
  const file = path.join(data, HOST_CONFIG_FILE);
  await writeFile(file, JSON.stringify({ maxWithdrawalCents: 50_000 }) + '\n');
  for (const [mode, who] of [
    [0o664, 'its group'],
    [0o646, 'others'],
    [0o666, 'its group and others'],
  ] as const) {
    await chmod(file, mode);
    const error = await t.throwsAsync(loadHostConfig(data));
    t.is(error!.message, `${file} is writable by ${who} (mode ${mode.toString(8)}), who could change the host's limits; run \`chmod go-w ${file}\``);
  }
  for (const mode of [0o600, 0o640, 0o644]) {
    await chmod(file, mode);
    t.is((await loadHostConfig(data)).config.maxWithdrawalCents, 50_000, mode.toString(8));
  }
  // serve stops on it too, before it opens anything.
  const keys = path.join(dir, 'config-keys');
  t.is((await cli(['init', '--data', path.join(dir, 'config-init'), '--keys', keys])).code, 0);
  const initialized = path.join(dir, 'config-init');
  await writeFile(path.join(initialized, HOST_CONFIG_FILE), '{}\n', { mode: 0o666 });
  await chmod(path.join(initialized, HOST_CONFIG_FILE), 0o666);
  const served = await serveBriefly(['--data', initialized, '--keys', keys, '--admin-socket', path.join(dir, 'f.sock')]);
  t.is(served.code, 1);
  t.regex(served.err, /chmod go-w/);
});

test('a lost card is blocked by its customer and last four digits; two cards ending alike need the PAN', async (t) => {
  const data = path.join(dir, 'card-data');
  const keys = path.join(dir, 'card-keys');
  t.is((await cli(['init', '--data', data, '--keys', keys])).code, 0);
  const state = await openHostState({ dataDir: data, keysDir: keys }, silentLogger);
  await addCustomer(state.services, 'alice', 'correct horse battery', { scryptCost: CHEAP_SCRYPT });
  const card = await issueCard(state.services, 'alice');
  await state.close();
  const where = ['--data', data, '--keys', keys];
  const last4 = card.pan.slice(-4);
  const blocked = await cli(['card', 'block', '--customer', 'alice', '--last4', last4, ...where]);
  t.is(blocked.code, 0, blocked.err);
  t.regex(blocked.out, new RegExp(`card •••• ${last4} is blocked`));
  t.regex((await cli(['customer', 'show', 'alice', ...where])).out, new RegExp(`card •••• ${last4}\tblocked`));
  t.is((await cli(['card', 'unblock', '--customer', 'alice', '--last4', last4, ...where])).code, 0);
  const other = last4 === '0000' ? '0001' : '0000';
  const unknown = await cli(['card', 'block', '--customer', 'alice', '--last4', other, ...where]);
  t.is(unknown.code, 1);
  t.regex(unknown.err, new RegExp(`alice has no card ending in ${other} \\[CARD_UNKNOWN\\]`));
  for (const argv of [['card', 'block', card.pan, '--customer', 'alice', '--last4', last4], ['card', 'block', '--customer', 'alice'], ['card', 'block', '--customer', 'alice', '--last4', '12']]) {
    t.is((await cli([...argv, ...where])).code, 2, argv.join(' '));
  }

  // A second card ending in the same four digits (rare with random numbers; made by hand here).
  const again = await openHostState({ dataDir: data, keysDir: keys }, silentLogger);
  const { db, committer } = again.services;
  const customer = (await db.get<CustomerRecord>(`cust:${card.customerId}`))!;
  const first = (await db.get<CardRecord>(`card:${customer.cards[0]!.cardId}`))!;
  const twinId = 'crd_' + 'f'.repeat(32);
  await committer.commit({
    ops: [
      { type: 'put', key: `card:${twinId}`, value: { ...first, cardId: twinId } },
      { type: 'put', key: `cust:${card.customerId}`, value: { ...customer, cards: [...customer.cards, { cardId: twinId, last4 }] } },
    ],
  });
  await again.close();
  const ambiguous = await cli(['card', 'block', '--customer', 'alice', '--last4', last4, ...where]);
  t.is(ambiguous.code, 1);
  t.regex(ambiguous.err, /alice has 2 cards ending in \d{4}; name the card by its PAN \[CARD_AMBIGUOUS\]/);
  t.regex((await cli(['customer', 'show', 'alice', ...where])).out, new RegExp(`card •••• ${last4}\tactive`), 'neither was blocked');
  t.is((await cli(['card', 'block', card.pan, ...where])).code, 0, 'the PAN names one');
  const audit = await cli(['audit', 'show', '--action', 'card.block', '--json', ...where]);
  const outcomes = (JSON.parse(audit.out) as { entries: { outcome: string; reason?: string }[] }).entries.map((e) => `${e.outcome}:${e.reason ?? ''}`);
  t.deepEqual(outcomes, ['ok:', 'failed:CARD_UNKNOWN', 'failed:CARD_AMBIGUOUS', 'ok:']);
  t.false(audit.out.includes(card.pan));
});

test('every command group answers --help with its commands', async (t) => {
  const groups = new Map<string, string[]>();
  const help = (await cli(['--help'])).out;
  for (const line of help.split('\n')) {
    const words = /^ {2}bank-host ([a-z]+) ([a-z]+)\b/.exec(line);
    if (words && !['init', 'serve'].includes(words[1]!)) groups.set(words[1]!, [...(groups.get(words[1]!) ?? []), words[2]!]);
  }
  t.deepEqual([...groups.keys()].sort(), ['account', 'audit', 'card', 'customer', 'deposits', 'device', 'exceptions', 'fleet', 'holds', 'ledger', 'operator', 'technician']);
  for (const [group, commands] of groups) {
    for (const flag of ['--help', '-h']) {
      const run = await cli([group, flag]);
      t.is(run.code, 0, `${group} ${flag}`);
      t.true(run.out.startsWith(`Usage: bank-host ${group} COMMAND`), run.out.slice(0, 60));
      for (const command of commands) t.true(run.out.includes(`bank-host ${group} ${command}`), `${group} --help names ${command}`);
    }
  }
  // Without a command the group is still a usage error.
  t.is((await cli(['device'])).code, 2);
});
