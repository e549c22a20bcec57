// Registration from kiosks is a host setting: off unless host.json turns it on, on in the demo.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ChannelClient } from '../../protocol/client.js';
import { ProtocolError } from '../../protocol/errors.js';
import { silentLogger } from '../../protocol/log.js';
import type { Io } from '../../bank-host/cli/io.js';
import { main } from '../../bank-host/cli/main.js';
import { HOST_CONFIG_FILE, loadHostConfig } from '../../bank-host/config.js';
import { BankHost, openHostState } from '../../bank-host/host.js';
import { createBankingOperations } from '../../bank-host/operations/banking.js';

const operations = createBankingOperations({ scryptCost: { log2N: 10, r: 8, p: 1 } });
const quietIo: Io = { out: () => {}, err: () => {}, env: {}, readSecret: async () => '' };

let dir: string;
test.before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'registration-'));
});
test.after.always(() => rm(dir, { recursive: true, force: true }));

/** `bank-host init` (with `extra` flags), then a host serving with the settings it wrote; tries to register. */
async function registerOnInitializedHost(name: string, extra: string[]): Promise<string> {
  const dataDir = path.join(dir, `${name}-data`);
  const keysDir = path.join(dir, `${name}-keys`);
  if ((await main(['init', '--data', dataDir, '--keys', keysDir, ...extra], quietIo)) !== 0) throw new Error('init failed');
  const state = await openHostState({ dataDir, keysDir }, silentLogger);
  const host = await BankHost.serve(state, { listenHost: '127.0.0.1', listenPort: 0, operations });
  const kShared = await state.registry.add('kiosk-reg');
  const client = new ChannelClient({ host: '127.0.0.1', port: host.address.port, deviceId: 'kiosk-reg', kShared });
  try {
    client.start();
    await client.waitConnected(5_000);
    const info = await client.request('register', { username: 'newcomer', password: 'a long enough password' });
    return `registered ${info.username}`;
  } catch (error) {
    return error instanceof ProtocolError ? error.code : String(error);
  } finally {
    client.close();
    await host.close();
  }
}

test('without host.json, registration from kiosks is off', async (t) => {
  t.false((await loadHostConfig(path.join(dir, 'no-such-folder'))).config.registrationEnabled);
  t.is(await registerOnInitializedHost('production', []), 'REGISTRATION_DISABLED');
});

test('init --demo writes host.json with registration on, and kiosks may register', async (t) => {
  t.is(await registerOnInitializedHost('demo-init', ['--demo']), 'registered newcomer');
  const written = JSON.parse(await readFile(path.join(dir, 'demo-init-data', HOST_CONFIG_FILE), 'utf8')) as { registrationEnabled: boolean };
  t.true(written.registrationEnabled);
});

test('the npm start demo serves with registration on', async (t) => {
  const demoDir = path.join(dir, 'npm-start');
  const demo = spawn(process.execPath, ['--import', 'tsx', 'dev/demo.ts'], {
    env: { PATH: process.env.PATH, ATM_DEMO_DIR: demoDir, ATM_DEMO_PORT: '0', ATM_DEMO_UI: 'none' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let said = '';
  demo.stderr.on('data', (chunk: Buffer) => (said += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => demo.on('exit', (code) => resolve(code)));
  try {
    const started = Date.now();
    while (!/serving kiosks on 127\.0\.0\.1:(\d+)/.test(said) && Date.now() - started < 30_000 && demo.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    const port = Number(/serving kiosks on 127\.0\.0\.1:(\d+)/.exec(said)?.[1]);
    t.true(port > 0, said);
    const kShared = Buffer.from((await readFile(path.join(demoDir, 'kiosk', 'k_shared.key'), 'utf8')).trim(), 'hex');
    const client = new ChannelClient({ host: '127.0.0.1', port, deviceId: 'demo-kiosk', kShared });
    client.start();
    t.teardown(() => client.close());
    await client.waitConnected(5_000);
    const info = await client.request('register', { username: 'walk-in', password: 'a long enough password' });
    t.is(info.username, 'walk-in');
    demo.kill('SIGINT');
    t.is(await exited, 0, said);
  } finally {
    demo.kill('SIGKILL');
  }
});
