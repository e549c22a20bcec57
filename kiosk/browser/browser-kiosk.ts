// The kiosk UI in a Chromium or Chrome kiosk window instead of Electron: for `npm start` on a machine
// without the Electron binary, and for a technician's laptop. The renderer is built with Vite, served on
// loopback, and bound to the kiosk controller through the browser bridge (the same handlers the Electron
// IPC layer calls). Playwright only launches the window and injects `window.atm`; nothing here is part of
// the packaged kiosk.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../protocol/log.js';
import type { KioskController } from '../core/kiosk.js';
import { attachBrowserBridge, serveRenderer } from './browser-bridge.js';
import { createUiHandlers, type SpeechSource } from '../bridge/handlers.js';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Where Debian, Ubuntu and Google install their browsers, in the order we prefer them. */
export const BROWSER_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome-stable', '/usr/bin/google-chrome'] as const;

/** How the browser is started: a kiosk window, as the customer would see it. Each switch is here for
 *  what the screen shows (test/kiosk/ui/kiosk-window.test.ts proves it with a capture of the X screen):
 *  - `--kiosk`: fullscreen with no tab strip, address bar, window frame or menu. On X11 the window
 *    manager makes it exactly the screen (Chromium never sizes a window to the screen by itself: it keeps
 *    it a pixel smaller so a window manager does not mistake it for fullscreen, so an X server without a
 *    window manager leaves a kiosk window short of the screen's edges);
 *  - `--window-position=0,0`: the top-left corner, where fullscreen puts it anyway;
 *  - `--test-type`: Chromium adds none of its startup infobars, among them "You are using an unsupported
 *    command-line flag: --no-sandbox", which it shows to whoever stands at the screen otherwise;
 *    `--disable-infobars` (which Playwright passes) no longer does this in Chromium;
 *  - `--overscroll-history-navigation=0`, `--disable-pinch`: a swipe or a pinch on the touchscreen
 *    neither goes back a page nor zooms the kiosk;
 *  - the rest: no first-run, default-browser or translate prompts, no background traffic.
 *  Playwright adds `about:blank` as the start page; the bridge navigates that page to the renderer. */
export const KIOSK_BROWSER_ARGS = [
  '--kiosk',
  '--window-position=0,0',
  '--test-type',
  '--overscroll-history-navigation=0',
  '--disable-pinch',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-features=Translate',
] as const;

export function findBrowser(candidates: readonly string[] = BROWSER_CANDIDATES): string | undefined {
  return candidates.find((candidate) => existsSync(candidate));
}

/** A graphical session to open a window in: X11 or Wayland. */
export function displayName(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.WAYLAND_DISPLAY || env.DISPLAY || undefined;
}

/** The Electron binary the `electron` package downloaded, when it could (it cannot where there is no
 *  route to its download site). */
export async function electronBinary(): Promise<string | undefined> {
  // Not `require('electron')`: since Electron 45 that starts a blocking download of the binary when it is
  // missing. The package's own record of its binary (path.txt, written by its install) is read instead.
  try {
    const { createRequire } = await import('node:module');
    const packageDir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
    const relative = (await readFile(path.join(packageDir, 'path.txt'), 'utf8')).trim();
    const binary = path.join(packageDir, 'dist', relative);
    return relative !== '' && existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

/** Builds the renderer (production mode) into `outDir`; about two seconds. */
export async function buildRendererInto(outDir: string): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: path.join(projectRoot, 'kiosk/build/vite.renderer.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
}

export interface BrowserKiosk {
  readonly url: string;
  /** Resolves when the person closes the window (or the browser dies). */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

export interface BrowserKioskOptions {
  readonly controller: KioskController;
  readonly browserPath: string;
  /** A renderer build (see buildRendererInto). */
  readonly rendererDir: string;
  readonly log: Logger;
  /** Speech mode beside the controller (its state joins the snapshots: the screen blanked for privacy). */
  readonly speech?: SpeechSource;
}

/** Opens the kiosk UI fullscreen in a kiosk window (no tabs, address bar, frame or infobar) driven by
 *  `controller`. */
export async function openBrowserKiosk(options: BrowserKioskOptions): Promise<BrowserKiosk> {
  const { chromium } = await import('playwright-core');
  const server = await serveRenderer(options.rendererDir);
  const profileDir = await mkdtemp(path.join(os.tmpdir(), 'atm-kiosk-browser-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: options.browserPath,
    headless: false,
    // The page takes the window's size, which is the screen's.
    viewport: null,
    args: [...KIOSK_BROWSER_ARGS],
    // Chromium refuses to start as root with its sandbox on, so root runs it with --no-sandbox (the page
    // is our own renderer on loopback); everyone else keeps the sandbox. Playwright's default is off.
    chromiumSandbox: process.getuid?.() !== 0,
    // --enable-automation would add the "controlled by automated test software" infobar.
    ignoreDefaultArgs: ['--enable-automation'],
    // The caller owns shutdown (it stops the kiosk, then closes the window); Playwright's own handlers
    // would exit the process on Ctrl-C before that.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const handlers = createUiHandlers(options.controller, (message, facts) => options.log.info(message, facts as Record<string, string>), options.speech);
  const bridge = await attachBrowserBridge(page, handlers, server.url);
  page.on('pageerror', (error) => options.log.warn('kiosk page error', { error: error.message }));
  await page.goto(server.url);

  let closing = false;
  const closed = new Promise<void>((resolve) => context.once('close', () => resolve()));
  const close = async (): Promise<void> => {
    if (closing) return closed;
    closing = true;
    bridge.detach();
    await context.close().catch(() => {});
    await server.close();
    await rm(profileDir, { recursive: true, force: true });
  };
  void closed.then(() => close());
  return { url: server.url, closed, close };
}
