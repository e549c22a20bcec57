// The Electron main process: one fullscreen kiosk window showing the UI from `atm://app/`, the customer
// session running in the kiosk core, and the renderer reaching it only through the preload API.
// This is the only file tree (kiosk/main/) that imports Electron.
import { app, BrowserWindow, ipcMain, Menu, net, powerSaveBlocker, protocol, session, type WebContents } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLogger } from '../../protocol/log.js';
import { loadKioskConfig, loadKShared } from '../core/config.js';
import { KioskController } from '../core/kiosk.js';
import { demoKeyboard } from '../core/speech/demo-keyboard.js';
import { createSpeech } from '../core/speech/speech-setup.js';
import { IPC_CHANNEL_COMMAND, IPC_CHANNEL_GET_STATE, IPC_CHANNEL_STATE } from '../preload/api.js';
import { APP_ENTRY_URL, APP_SCHEME, CONTENT_SECURITY_POLICY, contentTypeFor, isBlockedShortcut, resolveAppFile } from '../bridge/app-files.js';
import { createUiHandlers, isTrustedSender, type UiHandlers } from '../bridge/handlers.js';

// Set by Forge's Vite plugin: the folder name of the renderer build under .vite/renderer/.
declare const MAIN_WINDOW_VITE_NAME: string;

/** Where provisioning puts the kiosk's configuration (it names the K_SHARED file). */
const DEFAULT_CONFIG_FILE = '/etc/atm-kiosk/kiosk.json';
/** A renderer that keeps crashing is not brought back faster than this. */
const WINDOW_RESTART_MIN_INTERVAL_MS = 2_000;

const log = createLogger({ fields: { component: 'kiosk-main' } });
const production = app.isPackaged;
/** `npm start` on a developer's desktop: an 800×480 window instead of taking over the screen. Never in a
 *  packaged kiosk. */
const windowed = !production && process.env.ATM_KIOSK_WINDOWED === '1';

// Must happen before `ready`: the scheme behaves like https (secure context, standard URL parsing).
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: false, corsEnabled: false, stream: false } },
]);

function rendererRoot(): string {
  return path.join(__dirname, '..', 'renderer', MAIN_WINDOW_VITE_NAME);
}

function serveAppFiles(): void {
  const root = rendererRoot();
  protocol.handle(APP_SCHEME, async (request) => {
    const file = resolveAppFile(root, request.url);
    if (!file) return new Response('not found', { status: 404 });
    const response = await net.fetch(pathToFileURL(file).toString());
    if (!response.ok) return new Response('not found', { status: 404 });
    return new Response(response.body, {
      status: 200,
      headers: {
        'Content-Type': contentTypeFor(file)!,
        'Content-Security-Policy': CONTENT_SECURITY_POLICY,
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-store',
      },
    });
  });
}

function lockDownSession(): void {
  const ses = session.defaultSession;
  // A kiosk needs no camera, microphone, notifications, geolocation or anything else a page may ask for.
  ses.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);
  ses.webRequest.onBeforeRequest((details, callback) => {
    // Only the app's own scheme (and devtools in development) may be loaded.
    const allowed = details.url.startsWith(`${APP_SCHEME}:`) || (!production && details.url.startsWith('devtools:'));
    callback({ cancel: !allowed });
  });
}

/** `npm start` in Electron (never a packaged kiosk) with a simulated headset jack: F9 and the PIN pad's
 *  keys on the laptop keyboard (kiosk/core/speech/demo-keyboard.ts). */
let demoKeys: ((key: string) => boolean) | undefined;

function lockDownContents(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('before-input-event', (event, input) => {
    if (production && isBlockedShortcut(input)) event.preventDefault();
    else if (input.type === 'keyDown' && demoKeys?.(input.key)) event.preventDefault();
  });
}

let mainWindow: BrowserWindow | undefined;
let lastWindowStartMs = 0;

function createWindow(): BrowserWindow {
  lastWindowStartMs = Date.now();
  const window = new BrowserWindow({
    kiosk: !windowed,
    fullscreen: !windowed,
    width: 800,
    height: 480,
    frame: false,
    autoHideMenuBar: true,
    show: false,
    backgroundColor: '#0b2545',
    webPreferences: {
      // Reviewed: the preload only relays named commands over IPC (kiosk/preload/preload.ts).
      preload: path.join(__dirname, 'preload.js'), // eng-disable PRELOAD_JS_CHECK
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      safeDialogs: true,
      devTools: !production,
      disableBlinkFeatures: 'Auxclick',
    },
  });
  lockDownContents(window.webContents);
  window.once('ready-to-show', () => window.show());
  window.webContents.on('render-process-gone', (_event, details) => {
    log.error('renderer gone; bringing the window back', { reason: details.reason, exitCode: details.exitCode });
    const wait = Math.max(0, WINDOW_RESTART_MIN_INTERVAL_MS - (Date.now() - lastWindowStartMs));
    setTimeout(() => {
      window.destroy();
      mainWindow = createWindow();
    }, wait);
  });
  void window.loadURL(APP_ENTRY_URL);
  return window;
}

function wireIpc(handlers: UiHandlers): void {
  const trusted = (frame: Electron.WebFrameMain | null) =>
    frame !== null && mainWindow !== undefined && frame === mainWindow.webContents.mainFrame && isTrustedSender({ url: frame.url, isMainFrame: true }, APP_ENTRY_URL);
  ipcMain.handle(IPC_CHANNEL_COMMAND, async (event, command: unknown, argument: unknown) => {
    if (!trusted(event.senderFrame)) {
      log.warn('IPC refused: untrusted sender', { url: event.senderFrame?.url ?? null });
      return { ok: false, code: 'UNTRUSTED_SENDER', message: 'not the kiosk window' };
    }
    return handlers.invoke(command, argument);
  });
  ipcMain.handle(IPC_CHANNEL_GET_STATE, (event) => {
    if (!trusted(event.senderFrame)) throw new Error('not the kiosk window');
    return handlers.getState();
  });
  handlers.onState((snapshot) => mainWindow?.webContents.send(IPC_CHANNEL_STATE, snapshot));
}

async function start(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  app.on('window-all-closed', () => app.quit());
  await app.whenReady();
  Menu.setApplicationMenu(null);
  lockDownSession();
  serveAppFiles();
  powerSaveBlocker.start('prevent-display-sleep');

  const configFile = process.env.ATM_KIOSK_CONFIG ?? DEFAULT_CONFIG_FILE;
  const config = await loadKioskConfig(configFile);
  const controller = new KioskController({ config, kShared: await loadKShared(config.kSharedFile), log });
  // Speech mode (a headset in the jack): spoken by espeak-ng here, in the main process.
  const speech = createSpeech(config, controller, log);
  wireIpc(createUiHandlers(controller, (message, facts) => log.info(message, facts as Record<string, string>), speech?.guide));
  mainWindow = createWindow();
  await controller.start();
  speech?.guide.start();
  if (!production) demoKeys = demoKeyboard(speech, controller);
  const stop = () => {
    speech?.guide.stop();
    void controller.stop().finally(() => app.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

start().catch((error: Error) => {
  // systemd restarts the unit; the journal says why.
  log.error('kiosk failed to start', { error: error.message });
  app.exit(1);
});
