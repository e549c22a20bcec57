// The kiosk UI in a Chromium or Chrome app window instead of Electron: for `npm start` on a machine
// without the Electron binary, and for a technician's laptop. The renderer is built with Vite, served on
// loopback, and bound to the kiosk controller through the browser bridge (the same handlers the Electron
// IPC layer calls). Playwright only launches the window and injects `window.atm`; nothing here is part of
// the packaged kiosk.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../protocol/log.js';
import type { KioskController } from '../core/kiosk.js';
import { attachBrowserBridge, serveRenderer } from './browser-bridge.js';
import { createUiHandlers } from '../bridge/handlers.js';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Where Debian, Ubuntu and Google install their browsers, in the order we prefer them. */
export const BROWSER_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome-stable', '/usr/bin/google-chrome'] as const;

/** The kiosk's own screen size; the window opens at this size so the layout is the kiosk's. */
export const KIOSK_WINDOW_SIZE = { width: 800, height: 480 } as const;

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
  try {
    const { createRequire } = await import('node:module');
    const binary = createRequire(import.meta.url)('electron') as unknown;
    return typeof binary === 'string' && existsSync(binary) ? binary : undefined;
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
  readonly windowSize?: { width: number; height: number };
}

/** Opens the kiosk UI in an app window (no tabs, no address bar) driven by `controller`. */
export async function openBrowserKiosk(options: BrowserKioskOptions): Promise<BrowserKiosk> {
  const { chromium } = await import('playwright-core');
  const size = options.windowSize ?? KIOSK_WINDOW_SIZE;
  const server = await serveRenderer(options.rendererDir);
  const profileDir = await mkdtemp(path.join(os.tmpdir(), 'atm-kiosk-browser-'));
  const args = [
    '--app=about:blank',
    `--window-size=${size.width},${size.height}`,
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-features=Translate',
  ];
  // Chromium refuses to start as root unless its sandbox is off; the page is our own renderer on loopback.
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: options.browserPath,
    headless: false,
    viewport: null,
    args,
    ignoreDefaultArgs: ['--enable-automation'],
    // The caller owns shutdown (it stops the kiosk, then closes the window); Playwright's own handlers
    // would exit the process on Ctrl-C before that.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const handlers = createUiHandlers(options.controller, (message, facts) => options.log.info(message, facts as Record<string, string>));
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
