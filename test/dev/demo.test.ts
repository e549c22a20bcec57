// `npm start` as a person runs it: a fresh demo folder, the bank host, the enrolled demo kiosk and its
// customer, the kiosk UI in Chromium (on a virtual X display here), Ctrl-C, and a second start that
// reuses everything. Without a display it says so and keeps the bank host serving.
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ChannelClient } from '../../protocol/client.js';

const XVFB = '/usr/bin/Xvfb';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Demo {
  readonly child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Ctrl-C; resolves with the exit code. */
  interrupt(): Promise<number | null>;
  /** Resolves with the exit code (listened for from the start, so an early exit is not missed). */
  readonly exited: Promise<number | null>;
}

function startDemo(dir: string, port: number, env: NodeJS.ProcessEnv, args: string[] = []): Demo {
  const child = spawn(process.execPath, ['--import', 'tsx', 'dev/demo.ts', ...args], {
    env: { ...process.env, ATM_DEMO_DIR: dir, ATM_DEMO_PORT: String(port), DISPLAY: '', WAYLAND_DISPLAY: '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  // 'close', not 'exit': only then has all of its output been read.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => text,
    async waitFor(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const match = pattern.exec(text);
        if (match) return match;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`the demo did not print ${pattern} within ${timeoutMs} ms; it printed:\n${text}`);
    },
    async interrupt() {
      child.kill('SIGINT');
      return exited;
    },
  };
}

function startXvfb(display: number): ChildProcess {
  if (!existsSync(XVFB)) throw new Error(`${XVFB} is missing: run apt-get install -y xvfb`);
  return spawn(XVFB, [`:${display}`, '-screen', '0', '1024x768x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
}

test('npm start: demo host, customer and card, the kiosk UI in Chromium, Ctrl-C, and a second start that reuses the demo', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'atm-demo-'));
  const display = 50 + (process.pid % 400);
  const xvfb = startXvfb(display);
  t.teardown(async () => {
    xvfb.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });
  const port = await freePort();
  const first = startDemo(dir, port, { DISPLAY: `:${display}` });
  t.teardown(() => void first.child.kill('SIGKILL'));
  const [, username, password] = (await first.waitFor(/demo customer: username (\S+), password (\S+)/)) as unknown as [string, string, string];
  const [, pan, pin] = (await first.waitFor(/demo card: PAN (\d+), PIN (\d+)/)) as unknown as [string, string, string];
  t.is(username, 'demo');
  t.regex(pan, /^\d{16}$/);
  t.regex(pin, /^\d{4,12}$/);
  await first.waitFor(/kiosk UI: \/usr\/bin\/chromium kiosk window, fullscreen \(Electron is not installed here\), through the preload bridge/, 60_000);
  await first.waitFor(/"msg":"device connected","deviceId":"demo-kiosk"/);

  // Secrets on disk are owner-only; the demo kiosk's key works over the real channel.
  for (const file of ['keys', 'kiosk/k_shared.key', 'demo-customer.json', 'kiosk/kiosk.json']) {
    t.is((await stat(path.join(dir, file))).mode & 0o077, 0, `${file} is owner-only`);
  }
  const kShared = Buffer.from((await readFile(path.join(dir, 'kiosk/k_shared.key'), 'utf8')).trim(), 'hex');
  const teller = new ChannelClient({ host: '127.0.0.1', port, deviceId: 'demo-kiosk', kShared });
  teller.start();
  await teller.waitConnected(5_000);
  const session = await teller.request('signin.password', { username, password });
  t.is((await teller.request('balance', { accountId: session.accounts[0]!.accountId })).balanceCents, 50_000);
  teller.close();

  // The terminal stands in for the card reader.
  first.child.stdin!.write('swipe\n');
  await first.waitFor(new RegExp(`swiped the card ending ${pan.slice(-4)}; enter PIN ${pin} on the screen`));
  t.false(/"level":"error"/.test(first.output()), first.output());
  t.is(await first.interrupt(), 0, first.output());
  t.regex(first.output(), /bank host stopped/);

  // Again, without a display: the same customer, no window, the host serving.
  const second = startDemo(dir, port, {});
  t.teardown(() => void second.child.kill('SIGKILL'));
  await second.waitFor(/no kiosk window: there is no display \(neither DISPLAY nor WAYLAND_DISPLAY is set\)\. The bank host keeps running/);
  t.regex(second.output(), new RegExp(`demo card: PAN ${pan}, PIN ${pin}`));
  t.notRegex(second.output(), /creating demo/, 'the second start reuses the demo folder');
  const again = new ChannelClient({ host: '127.0.0.1', port, deviceId: 'demo-kiosk', kShared });
  again.start();
  await again.waitConnected(5_000);
  t.is((await again.request('ping', {})).hostTimeMs > 0, true);
  again.close();
  t.is(await second.interrupt(), 0, second.output());
});

test('npm start --help explains the demo and its settings', async (t) => {
  const demo = startDemo('/nonexistent/never-created', 1, {}, ['--help']);
  await demo.waitFor(/usage: npm start/);
  t.is(await demo.exited, 0);
  t.regex(demo.output(), /ATM_DEMO_UI=none\|browser\|electron/);
  t.false(existsSync('/nonexistent/never-created'));
});
