// `npm start` without Electron opens a true kiosk window: on an X screen with a window manager (as on any
// desktop), the demo's Chromium window is exactly the screen, and what the screen shows from its very
// first pixel row is the kiosk's own header: no tab strip, address bar, window frame or infobar (the
// "--no-sandbox" warning among them). Proved on a capture of the X screen itself, not of the page.
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARTIFACTS_DIR, CHROMIUM_PATH } from './browser-rig.js';
import { captureScreen, clientWindows, encodePng, pixelAt, requireTools, startWindowManager, startXvfb, type Capture } from './x-screen.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** A screen size the kiosk ships with, and not the one the old app window used (800×480). */
const SCREEN = { width: 1024, height: 600 } as const;
/** Bounds on behaviour on a loaded 2-core machine: the demo creates keys, a customer (scrypt) and builds
 *  the renderer before it opens the window. */
const WINDOW_DRAWN_TIMEOUT_MS = 90_000;
const DEMO_STOP_TIMEOUT_MS = 30_000;
/** Rows at the top of the screen that must be the kiosk header's own colour, edge to edge: the header's
 *  padding is at least this tall, so no text of the header lies in them. */
const HEADER_ROWS_CHECKED = 4;

/** The colours the kiosk draws, from the renderer's stylesheet (one source for the test and the UI). */
async function kioskColours(): Promise<{ header: string; background: string }> {
  const css = await readFile(path.join(root, 'kiosk/renderer/styles.css'), 'utf8');
  const colour = (name: string) => {
    const value = new RegExp(`--${name}:\\s*(#[0-9a-f]{6})\\b`, 'i').exec(css)?.[1];
    if (!value) throw new Error(`styles.css has no --${name}: #rrggbb`);
    return value.toLowerCase();
  };
  return { header: colour('header-bg'), background: colour('bg') };
}

function rowsOf(capture: Capture, colour: string, rows: number): number {
  let other = 0;
  for (let y = 0; y < rows; y++) for (let x = 0; x < capture.width; x++) if (pixelAt(capture, x, y) !== colour) other++;
  return other;
}

test('npm start opens the kiosk fullscreen: the window is the screen, and its first pixel row is the kiosk header', async (t) => {
  t.timeout(WINDOW_DRAWN_TIMEOUT_MS + DEMO_STOP_TIMEOUT_MS + 60_000);
  requireTools(['Xvfb', 'openbox', 'xwd', 'xwininfo', 'xprop']);
  t.true(existsSync(CHROMIUM_PATH), `${CHROMIUM_PATH} is missing: run apt-get install -y chromium`);
  const colours = await kioskColours();
  const x = await startXvfb(SCREEN.width, SCREEN.height);
  t.teardown(() => x.close());
  const wm = await startWindowManager(x.display);
  t.teardown(() => wm.close());

  const demoDir = await mkdtemp(path.join(os.tmpdir(), 'kiosk-window-demo-'));
  t.teardown(() => rm(demoDir, { recursive: true, force: true }));
  // `npm start` is `tsx dev/demo.ts`; the same program, on a free port, with its Chromium window.
  const demo = spawn(process.execPath, ['--import', 'tsx', 'dev/demo.ts'], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, DISPLAY: x.display, WAYLAND_DISPLAY: '', ATM_DEMO_DIR: demoDir, ATM_DEMO_PORT: '0', ATM_DEMO_UI: 'browser' },
  });
  let said = '';
  demo.stdout.on('data', (chunk: Buffer) => (said += chunk.toString('utf8')));
  demo.stderr.on('data', (chunk: Buffer) => (said += chunk.toString('utf8')));
  const demoClosed = new Promise<void>((resolve) => demo.once('close', () => resolve()));
  t.teardown(async () => {
    if (demo.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL');
    await demoClosed;
  });

  // Drawn: the top rows are the header's colour (the welcome screen is up), polled on real captures.
  const deadlineMs = Date.now() + WINDOW_DRAWN_TIMEOUT_MS;
  let capture = captureScreen(x.display);
  while (!/kiosk UI: .* kiosk window/.test(said) || rowsOf(capture, colours.header, HEADER_ROWS_CHECKED) !== 0) {
    if (demo.exitCode !== null) t.fail(`the demo exited (${demo.exitCode}):\n${said}`);
    if (Date.now() > deadlineMs || demo.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
    capture = captureScreen(x.display);
  }
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  await writeFile(path.join(ARTIFACTS_DIR, `kiosk-window-${SCREEN.width}x${SCREEN.height}.png`), encodePng(capture));

  t.regex(said, /kiosk UI: .* kiosk window/, said);
  t.is(capture.width, SCREEN.width);
  t.is(capture.height, SCREEN.height);
  t.is(rowsOf(capture, colours.header, HEADER_ROWS_CHECKED), 0, `the top ${HEADER_ROWS_CHECKED} rows of the screen are the kiosk header (${colours.header}) edge to edge: no browser chrome or infobar above it (test-artifacts/ui/kiosk-window-*.png)`);
  // The kiosk reaches the screen's bottom corners too: its page background, not the X root's black.
  for (const [cx, cy] of [[0, SCREEN.height - 1], [SCREEN.width - 1, SCREEN.height - 1]] as const) t.is(pixelAt(capture, cx, cy), colours.background, `pixel ${cx},${cy}`);

  const browserWindows = clientWindows(x.display).filter((w) => w.viewable && /chrom/i.test(w.windowClass));
  t.is(browserWindows.length, 1, `one browser window on screen: ${JSON.stringify(browserWindows)}`);
  const [window] = browserWindows;
  t.deepEqual(window && { x: window.x, y: window.y, width: window.width, height: window.height }, { x: 0, y: 0, ...SCREEN }, 'the kiosk window is exactly the screen');

  demo.kill('SIGINT');
  const stopped = await Promise.race([demoClosed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), DEMO_STOP_TIMEOUT_MS))]);
  t.true(stopped, `the demo stops on Ctrl-C within ${DEMO_STOP_TIMEOUT_MS} ms:\n${said}`);
  t.is(demo.exitCode, 0, said);
});
