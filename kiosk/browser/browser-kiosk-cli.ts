// `npm run kiosk:browser -- --config FILE`: a kiosk configuration (as provisioning writes it) run on a
// laptop with the UI in Chromium or Chrome instead of Electron. For technicians checking a configuration,
// its devices and its bank host before they flash a card; the kiosk itself runs Electron under cage.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../../protocol/log.js';
import { KioskConfigError, loadKioskConfig, loadKShared } from '../core/config.js';
import { KioskController } from '../core/kiosk.js';
import { createSpeech, type SpeechSetup } from '../core/speech/speech-setup.js';
import { buildRendererInto, displayName, findBrowser, openBrowserKiosk } from './browser-kiosk.js';

const USAGE = `usage: npm run kiosk:browser -- --config FILE [--browser PATH]

Runs the kiosk described by FILE (kiosk.json: device id, bank host, K_SHARED file, devices) with its UI
in a Chromium or Chrome kiosk window (fullscreen, no browser controls) instead of Electron. Devices of
kind "simulated" are simulated (the serial ones need socat); real ones are opened as configured. Ctrl-C
here, or Alt+F4 on the kiosk window, stops the kiosk.

  --config FILE    the kiosk configuration (required)
  --browser PATH   the browser to use (default: the first of chromium, chromium-browser, google-chrome)
  -h, --help       this text
`;

async function main(): Promise<number> {
  let values: { config?: string; browser?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ options: { config: { type: 'string' }, browser: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }));
  } catch (error) {
    process.stderr.write(`kiosk:browser: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values.config) {
    process.stderr.write(`kiosk:browser: --config FILE is required\n\n${USAGE}`);
    return 2;
  }
  if (!displayName()) {
    process.stderr.write('kiosk:browser: there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)\n');
    return 1;
  }
  const browserPath = values.browser ?? findBrowser();
  if (!browserPath) {
    process.stderr.write('kiosk:browser: no Chromium or Chrome found; install one (Debian: apt-get install -y chromium) or pass --browser PATH\n');
    return 1;
  }
  const log = createLogger({ fields: { component: 'kiosk' } });
  let controller: KioskController;
  let speech: SpeechSetup | undefined;
  try {
    const config = await loadKioskConfig(path.resolve(values.config));
    controller = new KioskController({ config, kShared: await loadKShared(config.kSharedFile), log });
    speech = createSpeech(config, controller, log);
  } catch (error) {
    if (error instanceof KioskConfigError) {
      process.stderr.write(`kiosk:browser: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const rendererDir = await mkdtemp(path.join(os.tmpdir(), 'atm-kiosk-renderer-'));
  try {
    await controller.start();
    speech?.guide.start();
    await buildRendererInto(rendererDir);
    const window = await openBrowserKiosk({ controller, browserPath, rendererDir, log, ...(speech ? { speech: speech.guide } : {}) });
    process.stderr.write(`kiosk:browser: kiosk ${controller.snapshot().screen === 'out-of-service' ? 'out of service (see the screen for why)' : 'ready'}; Ctrl-C to stop\n`);
    await Promise.race([window.closed, new Promise<void>((resolve) => process.once('SIGINT', () => resolve()))]);
    await window.close();
  } finally {
    speech?.guide.stop();
    await controller.stop();
    await rm(rendererDir, { recursive: true, force: true });
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`kiosk:browser: ${error.message}\n`);
    process.exit(1);
  },
);
