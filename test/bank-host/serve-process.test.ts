// The bank host as operators run it: the compiled JavaScript (no dev-time loader), configured the way the
// systemd unit does (state and credentials directories from the environment), stopped with SIGTERM.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ChannelClient } from '../../protocol/client.js';
import { parseKeyTransport } from '../../protocol/key-transport.js';

let dir: string;
let cli: string;

test.before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bank-serve-'));
  // The real build (`npm run build`): its output must resolve the project's node_modules, as installed.
  const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed:\n${build.stdout}${build.stderr}`);
  cli = path.resolve('dist/bank-host/cli/main.js');
});
test.after.always(async () => rm(dir, { recursive: true, force: true }));

/** A generous bound on a compiled host's start (a loaded CI machine took more than 10 s), never a measurement. */
const STARTUP_BOUND_MS = 60_000;

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
}

test('the compiled host serves kiosks from systemd-style directories and stops cleanly on SIGTERM', async (t) => {
  const state = path.join(dir, 'state');
  const credentials = path.join(dir, 'credentials');
  t.is(run(['init', '--data', state, '--keys', credentials]).status, 0);
  const keyFile = path.join(dir, 'kiosk.key');
  const added = run(['device', 'add', 'kiosk-proc', '--key-out', keyFile, '--data', state, '--keys', credentials]);
  t.is(added.status, 0, added.stderr);

  const host = spawn(process.execPath, [cli, 'serve', '--listen', '127.0.0.1:0'], {
    env: { PATH: process.env.PATH, STATE_DIRECTORY: state, CREDENTIALS_DIRECTORY: credentials },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  host.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  host.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  // 'close', not 'exit': only then has all of its output been read.
  const exited = new Promise<number | null>((resolve) => host.on('close', (code) => resolve(code)));
  try {
    const started = Date.now();
    while (!stdout.includes('bank host serving') && Date.now() - started < STARTUP_BOUND_MS) await new Promise((r) => setTimeout(r, 20));
    const serving = stdout.split('\n').map((l) => (l ? JSON.parse(l) : {})).find((l) => l.msg === 'bank host serving');
    t.truthy(serving, `no serving line; stdout: ${stdout} stderr: ${stderr}`);
    const port = Number(String(serving.listen).split(':').pop());
    const kShared = (await parseKeyTransport(await readFile(keyFile, 'utf8'))).key;
    const client = new ChannelClient({ host: '127.0.0.1', port, deviceId: 'kiosk-proc', kShared });
    client.start();
    await client.waitConnected(STARTUP_BOUND_MS);
    t.truthy(await client.request('ping', {}));
    // While serving, admin commands find the host through its socket in the state directory.
    const listed = run(['device', 'list', '--json'], { STATE_DIRECTORY: state, CREDENTIALS_DIRECTORY: credentials });
    t.is(listed.status, 0, listed.stderr);
    t.is(JSON.parse(listed.stdout).devices[0].deviceId, 'kiosk-proc');
    client.close();

    host.kill('SIGTERM');
    t.is(await exited, 0, stderr);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; level: string; ts: string });
    t.true(lines.every((l) => typeof l.ts === 'string' && typeof l.level === 'string'), 'every log line is structured JSON');
    t.true(lines.some((l) => l.msg === 'bank host stopped'));
    // No key material in any log line.
    const keys = await Promise.all((await readdir(credentials)).map((f) => readFile(path.join(credentials, f), 'utf8')));
    for (const key of [...keys.map((k) => k.trim()), kShared.toString('hex')]) t.false(stdout.includes(key) || stderr.includes(key));
    // The database was closed: a direct admin command can open it now.
    t.is(run(['device', 'list', '--data', state, '--keys', credentials]).status, 0);
  } finally {
    host.kill('SIGKILL');
  }
});

test('what the compiled host records while serving verifies once it has stopped', async (t) => {
  const state = path.join(dir, 'state-js');
  const credentials = path.join(dir, 'credentials-js');
  t.is(run(['init', '--data', state, '--keys', credentials]).status, 0);
  const env = { PATH: process.env.PATH, STATE_DIRECTORY: state, CREDENTIALS_DIRECTORY: credentials };
  const host = spawn(process.execPath, [cli, 'serve', '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  host.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  // 'close', not 'exit': only then has all of its output been read.
  const exited = new Promise<number | null>((resolve) => host.on('close', (code) => resolve(code)));
  try {
    const started = Date.now();
    while (!stdout.includes('bank host serving') && Date.now() - started < STARTUP_BOUND_MS) await new Promise((r) => setTimeout(r, 20));
    t.true(stdout.includes('bank host serving'), stdout);
    // Through the admin socket: the serving host seals and chains the record.
    const added = run(['device', 'add', 'kiosk-js', '--key-out', path.join(dir, 'kiosk-js.key')], env);
    t.is(added.status, 0, added.stderr);
    host.kill('SIGTERM');
    t.is(await exited, 0);
    const verified = run(['audit', 'verify', '--data', state, '--keys', credentials]);
    t.is(verified.status, 0, verified.stdout + verified.stderr);
    t.regex(verified.stdout, /device\.add|records/);
  } finally {
    host.kill('SIGKILL');
  }
});

test('customer add reads the password from standard input, or from a prompt that does not echo it on a terminal', async (t) => {
  const data = path.join(dir, 'pw-data');
  const keys = path.join(dir, 'pw-keys');
  t.is(run(['init', '--data', data, '--keys', keys]).status, 0);
  const piped = spawnSync(process.execPath, [cli, 'customer', 'add', 'carol', '--data', data, '--keys', keys], {
    encoding: 'utf8',
    input: 'correct horse battery\n',
    env: { PATH: process.env.PATH },
  });
  t.is(piped.status, 0, piped.stderr);
  t.regex(piped.stdout, /added customer carol/);
  t.false(piped.stdout.includes('correct horse battery') || piped.stderr.includes('correct horse battery'));

  // On a terminal (a pty made by socat) it prompts, and what is typed is not echoed back.
  const socat = spawn('socat', ['-', `EXEC:${process.execPath} ${cli} customer add dave --data ${data} --keys ${keys},pty,setsid,ctty,stderr`], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  socat.stdout.on('data', (chunk: Buffer) => (screen += chunk.toString()));
  socat.stderr.on('data', (chunk: Buffer) => (screen += chunk.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    socat.on('error', (error) => reject(new Error(`socat is needed for this test (test/debian-packages.txt): ${error.message}`)));
    // 'close', not 'exit': the last output ("added customer dave") may arrive after the exit.
    socat.on('close', (code) => resolve(code));
  });
  const started = Date.now();
  while (!screen.includes('Password for the new customer:') && Date.now() - started < STARTUP_BOUND_MS) await new Promise((r) => setTimeout(r, 20));
  t.regex(screen, /Password for the new customer:/);
  socat.stdin.write('typed horse battery\n');
  const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), STARTUP_BOUND_MS))]);
  socat.kill();
  t.is(code, 0, screen);
  t.regex(screen, /added customer dave/);
  t.false(screen.includes('typed horse battery'), 'the password is not echoed');
  t.regex(run(['customer', 'show', 'dave', '--data', data, '--keys', keys]).stdout, /^dave \(cus_/);
});
