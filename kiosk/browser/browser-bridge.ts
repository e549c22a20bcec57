// The kiosk UI in a plain Chromium, without Electron: the built renderer served over loopback HTTP, and
// `window.atm` injected into the page with a Playwright binding that calls the same handlers the
// Electron IPC layer calls. The UI tests use it; so can a technician's laptop. No Electron, and no
// Playwright at run time: the page is any object with the three methods below.
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { ATM_COMMAND_NAMES, type KioskSnapshot } from '../preload/api.js';
import { APP_ORIGIN, CONTENT_SECURITY_POLICY, contentTypeFor, resolveAppFile } from '../bridge/app-files.js';
import { isTrustedSender, type UiHandlers } from '../bridge/handlers.js';

/** Loopback only: the bridge hands out a live customer session to whoever can load the page. */
export const BRIDGE_HOST = '127.0.0.1';
/** Largest file served; the renderer's biggest is tens of kilobytes. */
export const SERVED_FILE_BYTES_MAX = 2_000_000;

export interface RendererServer {
  /** The renderer's entry, `http://127.0.0.1:<port>/index.html`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `rootDir` (a renderer build) on loopback with the kiosk window's CSP; GET and HEAD only, and
 *  only files `resolveAppFile` allows (the same rule as the Electron `atm://` scheme). */
export async function serveRenderer(rootDir: string, port = 0): Promise<RendererServer> {
  const server: Server = createServer((request, response) => {
    const reply = (status: number, body: string | Buffer, type = 'text/plain; charset=utf-8') => {
      response.writeHead(status, {
        'Content-Type': type,
        'Content-Security-Policy': CONTENT_SECURITY_POLICY,
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-store',
        'Cross-Origin-Opener-Policy': 'same-origin',
      });
      response.end(request.method === 'HEAD' ? undefined : body);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return reply(405, 'method not allowed');
    const pathname = (request.url ?? '/').split('?')[0] ?? '/';
    const file = resolveAppFile(rootDir, `${APP_ORIGIN}${pathname.startsWith('/') ? pathname : '/' + pathname}`);
    if (!file) return reply(404, 'not found');
    readFile(file).then(
      (bytes) => (bytes.length > SERVED_FILE_BYTES_MAX ? reply(500, 'file too large') : reply(200, bytes, contentTypeFor(file)!)),
      () => reply(404, 'not found'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: BRIDGE_HOST, port }, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${BRIDGE_HOST}:${address.port}/index.html`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The parts of a Playwright `Page` the bridge uses. */
export interface BridgePage {
  exposeBinding(name: string, callback: (source: { frame: BridgeFrame }, ...args: unknown[]) => unknown): Promise<unknown>;
  addInitScript(script: string): Promise<unknown>;
  evaluate(expression: string): Promise<unknown>;
  mainFrame(): BridgeFrame;
}
export interface BridgeFrame {
  url(): string;
}

/** The binding the page calls and the function the bridge calls in the page with each snapshot. */
const BINDING_NAME = '__atmBridgeInvoke';
const PUSH_NAME = '__atmBridgePush';

export interface AttachedBridge {
  detach(): void;
  /** Resolves when every state push so far has reached the page (or failed because it navigated). */
  flushed(): Promise<void>;
}

/** The script that runs in the page before its own: the same `window.atm` shape the Electron preload
 *  exposes, each command forwarded to the binding. Written as source text, not as a function Playwright
 *  serializes: a compiled function may carry helpers (esbuild's `__name`) that do not exist in the page. */
export function bridgeInitScript(commandNames: readonly string[]): string {
  return `(() => {
  const invoke = (command, argument) => globalThis[${JSON.stringify(BINDING_NAME)}](command, argument);
  const listeners = new Set();
  Object.defineProperty(globalThis, ${JSON.stringify(PUSH_NAME)}, {
    value: (snapshot) => { for (const listener of listeners) listener(snapshot); },
  });
  const api = {
    getState: () => invoke('getState'),
    onState: (listener) => { listeners.add(listener); return () => void listeners.delete(listener); },
  };
  for (const name of ${JSON.stringify(commandNames)}) api[name] = (argument) => invoke(name, argument);
  Object.defineProperty(globalThis, 'atm', { value: Object.freeze(api) });
})();`;
}

/** Makes `window.atm` in `page` call `handlers`, for pages loaded from `trustedUrl`'s origin only.
 *  Call before the first `page.goto`. */
export async function attachBrowserBridge(page: BridgePage, handlers: UiHandlers, trustedUrl: string): Promise<AttachedBridge> {
  const trusted = (frame: BridgeFrame) => frame === page.mainFrame() && isTrustedSender({ url: frame.url(), isMainFrame: true }, trustedUrl);
  await page.exposeBinding(BINDING_NAME, async (source, command, argument) => {
    if (!trusted(source.frame)) return { ok: false, code: 'UNTRUSTED_SENDER', message: 'not the kiosk page' };
    if (command === 'getState') return handlers.getState();
    return handlers.invoke(command, argument);
  });
  await page.addInitScript(bridgeInitScript(ATM_COMMAND_NAMES));

  // Pushes go one after another so the page sees snapshots in the order the controller made them.
  let chain = Promise.resolve();
  const unsubscribe = handlers.onState((snapshot: KioskSnapshot) => {
    chain = chain.then(() =>
      page
        .evaluate(`globalThis.${PUSH_NAME}?.(${JSON.stringify(snapshot)})`)
        // A page navigating or closing misses the push; it asks getState when it loads.
        .then(
          () => {},
          () => {},
        ),
    );
  });
  return { detach: unsubscribe, flushed: () => chain };
}
