// The UI under test: the renderer built with Vite, served over loopback by the browser bridge and opened
// in Debian's Chromium through playwright-core, with `window.atm` bound to the main-process handlers of
// a kiosk from the core's rig (a real bank host, HID simulators, dispenser and printer simulators on
// socat ptys). Every screen the tests reach is checked the same way (layout-audit.ts): nothing off
// screen, overlapping, cut off or scrolling, text of 16 px and more, touch targets of 44 px and more,
// axe-core with no finding, no CSP violation, and a screenshot under test-artifacts/ui/ (gitignored)
// for a person to look at.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { ExecutionContext } from 'ava';
import { chromium, type Browser, type Page } from 'playwright-core';
import { attachBrowserBridge, serveRenderer, type AttachedBridge, type RendererServer } from '../../../kiosk/browser/browser-bridge.js';
import { buildRendererInto } from '../../../kiosk/browser/browser-kiosk.js';
import { createUiHandlers } from '../../../kiosk/bridge/handlers.js';
import type { SpeechGuide } from '../../../kiosk/core/speech/speech-guide.js';
import type { KioskSnapshot } from '../../../kiosk/preload/api.js';
import { startKioskRig, type KioskRig, type KioskRigOptions } from '../core/kiosk-rig.js';
import { auditLayout, TEXT_PX_MIN, TOUCH_TARGET_PX_MIN, type LayoutAudit } from './layout-audit.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CHROMIUM_PATH = '/usr/bin/chromium';
export const ARTIFACTS_DIR = path.join(root, 'test-artifacts/ui');
export const SMALL_SCREEN = { width: 800, height: 480 } as const;
export const MEDIUM_SCREEN = { width: 1024, height: 600 } as const;
export const LARGE_SCREEN = { width: 1280, height: 800 } as const;
/** The screens the kiosk ships with: a 7-inch 800×480 panel, a 7-inch 1024×600 one, a 10-inch 1280×800. */
export const KIOSK_SCREENS = [SMALL_SCREEN, MEDIUM_SCREEN, LARGE_SCREEN] as const;
export const sizeName = (size: { width: number; height: number }) => `${size.width}x${size.height}`;

export interface RendererBuild {
  readonly dir: string;
  readonly gzipBytes: number;
  readonly rawBytes: number;
}

let buildOnce: Promise<RendererBuild> | undefined;

/** One production build per test process, into its own temporary folder (test files run in parallel). */
export function buildRenderer(): Promise<RendererBuild> {
  buildOnce ??= (async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kiosk-renderer-'));
    await buildRendererInto(dir);
    let gzipBytes = 0;
    let rawBytes = 0;
    for (const file of await readdir(path.join(dir, 'assets'))) {
      if (!/\.(js|css)$/.test(file)) continue;
      const bytes = await readFile(path.join(dir, 'assets', file));
      rawBytes += bytes.length;
      gzipBytes += gzipSync(bytes, { level: 9 }).length;
    }
    return { dir, gzipBytes, rawBytes };
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

/** Milliseconds from navigation start to the renderer's first `screen:*` mark. The mark is set in an
 *  effect that runs just after the screen is drawn, so it is waited for, not assumed. */
/** The longest a step of a UI test waits for the kiosk or the page: a generous bound for a loaded 2-core
 *  machine (Chromium, the host and the kiosk share it), not a measure of speed. */
export const UI_STEP_TIMEOUT_MS = 45_000;

export async function firstScreenMark(page: Page, timeoutMs = UI_STEP_TIMEOUT_MS): Promise<number> {
  // Polled with evaluate: waitForFunction compiles its predicate in the page, which the CSP (rightly)
  // forbids (no 'unsafe-eval').
  const deadlineMs = Date.now() + timeoutMs;
  for (;;) {
    const startTime = (await page.evaluate(`(performance.getEntriesByType('mark').find((m) => m.name.startsWith('screen:')) || {}).startTime`)) as number | undefined;
    if (typeof startTime === 'number') return startTime;
    if (Date.now() > deadlineMs) throw new Error(`the renderer set no screen mark within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface UiRig {
  readonly kiosk: KioskRig;
  readonly page: Page;
  readonly server: RendererServer;
  readonly bridge: AttachedBridge;
  /** Milliseconds from navigation start to the first screen drawn from a snapshot. */
  readonly firstScreenMs: number;
  readonly consoleProblems: string[];
  /** Waits until the page shows `screen` (and `predicate` holds for the controller's snapshot). */
  screen(screen: KioskSnapshot['screen'], predicate?: (s: KioskSnapshot) => boolean, timeoutMs?: number): Promise<KioskSnapshot>;
  /** Waits for the page to draw every state push so far. */
  settle(): Promise<void>;
  /** A screenshot of the page as it is, to `<dir>/<prefix>-<name>.png`. */
  shot(name: string, dir?: string): Promise<void>;
  /** A screenshot named `name`, then the layout and axe-core as measured (layout-audit.ts). */
  audit(name: string): Promise<LayoutAudit>;
  /** `audit`, each list asserted empty. */
  check(t: ExecutionContext, name: string): Promise<void>;
  tap(selector: string): Promise<void>;
  /** Taps the on-screen keyboard keys for `text`. */
  typeOnScreen(text: string): Promise<void>;
  /** Taps the amount keypad's digit keys for `digits`. */
  typeOnKeypad(digits: string): Promise<void>;
  close(): Promise<void>;
}

export interface UiRigOptions extends KioskRigOptions {
  readonly viewport?: { width: number; height: number };
  /** Screenshots go to test-artifacts/ui/<prefix>-<name>.png. */
  readonly prefix: string;
  /** Where the main-process handlers log refused commands (default: nowhere). */
  readonly log?: (line: string) => void;
  /** Speech mode beside the kiosk: made once the kiosk has started, its state joined to the snapshots. */
  readonly speech?: (kiosk: KioskRig) => SpeechGuide;
}

/** Time for a person (and a screenshot) to see the goodbye screen before welcome returns. */
export const UI_GOODBYE_MS = 2_500;

export async function startUiRig(options: UiRigOptions): Promise<UiRig> {
  const [build, browser] = await Promise.all([buildRenderer(), launchChromium()]);
  const config = { timeouts: { idleMs: 60_000, idleWarningMs: 15_000, goodbyeMs: UI_GOODBYE_MS }, ...options.config };
  const kiosk = await startKioskRig({ ...options, config });
  const log = options.log;
  const speech = options.speech?.(kiosk);
  speech?.start();
  const handlers = createUiHandlers(kiosk.kiosk, log ? (message, facts) => log(`handlers: ${message} ${JSON.stringify(facts)}`) : undefined, speech);
  const server = await serveRenderer(build.dir);
  const context = await browser.newContext({ viewport: options.viewport ?? SMALL_SCREEN, hasTouch: true, isMobile: false, deviceScaleFactor: 1, reducedMotion: 'reduce' });
  const page = await context.newPage();
  const consoleProblems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || /Content Security Policy/i.test(message.text())) consoleProblems.push(message.text());
  });
  page.on('pageerror', (error) => consoleProblems.push(`pageerror: ${error.message}`));
  const bridge = await attachBrowserBridge(page, handlers, server.url);
  await page.goto(server.url);
  try {
    await page.waitForSelector('[data-screen]', { timeout: UI_STEP_TIMEOUT_MS });
  } catch (error) {
    throw new Error(`the renderer drew no screen; page said: ${JSON.stringify(consoleProblems)}; body: ${await page.locator('body').innerHTML()}`, { cause: error });
  }
  const firstScreenMs = await firstScreenMark(page);
  const axeSource = path.join(root, 'node_modules/axe-core/axe.min.js');
  let axeScript: string | undefined;

  const rig: UiRig = {
    kiosk,
    page,
    server,
    bridge,
    firstScreenMs,
    consoleProblems,
    async screen(screen, predicate = () => true, timeoutMs = UI_STEP_TIMEOUT_MS) {
      const snapshot = await kiosk.waitFor((s) => s.screen === screen && predicate(s), timeoutMs);
      await page.waitForSelector(`[data-screen="${screen}"]`, { timeout: timeoutMs });
      return snapshot;
    },
    async settle() {
      // Pushes delivered, then one frame so the DOM is laid out.
      await bridge.flushed();
      await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => resolve(undefined)))');
    },
    async shot(name, dir = ARTIFACTS_DIR) {
      await rig.settle();
      await mkdir(dir, { recursive: true });
      await page.screenshot({ path: path.join(dir, `${options.prefix}-${name}.png`) });
    },
    async audit(name) {
      await rig.shot(name);
      return auditLayout(page, async () => (axeScript ??= await readFile(axeSource, 'utf8')));
    },
    async check(tt, name) {
      const audit = await rig.audit(name);
      tt.deepEqual(audit.axe, [], `${name}: axe-core findings`);
      tt.deepEqual(audit.smallTargets, [], `${name}: touch targets smaller than ${TOUCH_TARGET_PX_MIN} px`);
      tt.deepEqual(audit.smallText, [], `${name}: text smaller than ${TEXT_PX_MIN} px`);
      // A customer at a kiosk does not know to scroll: everything must be on screen as drawn.
      tt.deepEqual(audit.outside, [], `${name}: outside the screen`);
      tt.deepEqual(audit.overlaps, [], `${name}: on top of each other`);
      tt.deepEqual(audit.clipped, [], `${name}: cut off or scrolling`);
      tt.false(audit.documentScrolls, `${name}: the page scrolls`);
    },
    async tap(selector) {
      await page.locator(selector).tap({ timeout: UI_STEP_TIMEOUT_MS });
    },
    async typeOnScreen(text) {
      for (const ch of text) {
        const shifted = ch !== ch.toLowerCase();
        if (shifted) await rig.tap('.osk button[aria-pressed]');
        await rig.tap(`.osk button[data-key="${ch}"]`);
        if (shifted) await rig.tap('.osk button[aria-pressed]');
      }
    },
    async typeOnKeypad(digits) {
      for (const digit of digits) await rig.tap(`.keypad button:text-is("${digit}")`);
    },
    async close() {
      speech?.stop();
      bridge.detach();
      await context.close();
      await server.close();
      await kiosk.close();
    },
  };
  return rig;
}
