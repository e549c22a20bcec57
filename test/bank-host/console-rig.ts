// What the console's tests share: the UI built with the project's Vite config into a folder of the test
// process's own, a real bank host serving its console on loopback, operators made with the real CLI
// through the admin socket, kiosks over the real channel, and Debian's Chromium through playwright-core
// (launched as test/kiosk/ui/browser-rig.ts does) with axe-core.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Io } from '../../bank-host/cli/io.js';
import { main } from '../../bank-host/cli/main.js';
import type { ChannelClient } from '../../protocol/client.js';
import type { KioskStatus } from '../../protocol/messages.js';
import { startTestHost, type TestHost, type TestHostOptions } from '../helpers/host.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM_PATH = '/usr/bin/chromium';
export const ARTIFACTS_DIR = path.join(root, 'test-artifacts/console');

let buildOnce: Promise<string> | undefined;

/** One production build of the console UI per test process, with the project's own Vite config. */
export function buildConsoleUi(): Promise<string> {
  buildOnce ??= (async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'console-ui-'));
    const { build } = await import('vite');
    await build({ configFile: path.join(root, 'bank-host/console/build/vite.config.ts'), logLevel: 'warn', build: { outDir: dir, emptyOutDir: true } });
    return dir;
  })();
  return buildOnce;
}

let browserOnce: Promise<Browser> | undefined;

/** Debian's Chromium; its absence fails the test with the command that installs it (never a skip). */
export function launchChromium(): Promise<Browser> {
  browserOnce ??= (async () => {
    if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} is missing: run apt-get install -y chromium`);
    return chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  })();
  return browserOnce;
}

export async function closeChromium(): Promise<void> {
  const browser = await browserOnce;
  browserOnce = undefined;
  await browser?.close();
}

export async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => (out += t + '\n'), err: (t) => (err += t + '\n'), env: {}, readSecret: async () => '' };
  const code = await main(argv, io);
  return { code, out, err };
}

export interface ConsoleHost {
  readonly h: TestHost;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** `bank-host operator add NAME` through the admin socket; the token it printed. */
  addOperator(name: string): Promise<string>;
  revokeOperator(name: string): Promise<void>;
  /** Sends a report and waits until the fleet has acted on it. */
  report(client: ChannelClient, status: KioskStatus): Promise<void>;
  close(): Promise<void>;
}

export async function startConsoleHost(options: TestHostOptions = {}): Promise<ConsoleHost> {
  const uiDir = await buildConsoleUi();
  const h = await startTestHost({ ...options, console: { host: '127.0.0.1', port: 0, uiDir } });
  const address = h.host.console?.address;
  if (address === undefined) throw new Error('the console did not start');
  const where = ['--admin-socket', h.adminSocket];
  return {
    h,
    url: `http://127.0.0.1:${address.port}`,
    async addOperator(name) {
      const run = await cli(['operator', 'add', name, ...where]);
      if (run.code !== 0) throw new Error(`operator add ${name}: ${run.err}`);
      return run.out.split('\n')[0]!;
    },
    async revokeOperator(name) {
      const run = await cli(['operator', 'revoke', name, ...where]);
      if (run.code !== 0) throw new Error(`operator revoke ${name}: ${run.err}`);
    },
    async report(client, status) {
      await client.request('kiosk.status', status);
      await h.host.state.services.fleet!.settled();
    },
    close: () => h.close(),
  };
}

export interface ConsolePage {
  readonly page: Page;
  /** Console errors and CSP violations the page reported. */
  readonly problems: string[];
  signIn(token: string): Promise<void>;
  /** axe-core on the page as drawn: no finding of any impact. Saves a screenshot named `name`. */
  check(t: ExecutionContext, name: string): Promise<void>;
  close(): Promise<void>;
}

export async function openConsolePage(url: string, prefix: string): Promise<ConsolePage> {
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1, reducedMotion: 'reduce' });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || /Content Security Policy/i.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  await page.goto(url);
  let axeScript: string | undefined;
  return {
    page,
    problems,
    async signIn(token) {
      await page.locator('#token').fill(token);
      await page.locator('button[type="submit"]').click();
      await page.waitForLoadState('load');
    },
    async check(t, name) {
      await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => resolve(undefined)))');
      await mkdir(ARTIFACTS_DIR, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS_DIR, `${prefix}-${name}.png`), fullPage: true });
      // Evaluated rather than added as a script tag: the console's CSP (rightly) refuses inline scripts.
      if (!(await page.evaluate(`'axe' in globalThis`))) await page.evaluate((axeScript ??= await readFile(path.join(root, 'node_modules/axe-core/axe.min.js'), 'utf8')));
      const violations = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((result) =>
        result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => JSON.stringify(n.target)).slice(0, 3) })))`)) as unknown[];
      t.deepEqual(violations, [], `${name}: axe-core findings`);
    },
    close: () => context.close(),
  };
}
