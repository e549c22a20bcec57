// `npm run screenshots`: the README's pictures of the kiosk UI, taken the way the UI tests see it (the
// built renderer in Debian's Chromium, a real bank host, the device simulators) by the same tour of every
// screen. Writes docs/screenshots/<screen>.png at the kiosk's 800×480 and prints each file as it goes.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeChromium, SMALL_SCREEN, startUiRig } from './browser-rig.js';
import { TOUR_NOTE_INTERVAL_MS, tourEveryScreen } from './screen-tour.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SCREENSHOTS_DIR = path.join(root, 'docs/screenshots');
/** The screens the README shows; the tour visits more. */
export const README_SCREENS = ['welcome', 'pin', 'menu', 'withdraw-refused', 'take-cash', 'history', 'activity', 'register', 'out-of-service'] as const;

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write(`usage: npm run screenshots\n\nWrites ${README_SCREENS.length} screens of the kiosk UI (English, 800×480) to docs/screenshots/.\nNeeds Debian's chromium and socat.\n`);
    return;
  }
  const ui = await startUiRig({ prefix: 'kiosk', viewport: SMALL_SCREEN, dispenserNoteIntervalMs: TOUR_NOTE_INTERVAL_MS });
  const wanted = new Set<string>(README_SCREENS);
  let written = 0;
  try {
    await tourEveryScreen(ui, 'en', async (name) => {
      if (!wanted.has(name)) return;
      await ui.shot(name, SCREENSHOTS_DIR);
      written++;
      process.stderr.write(`screenshots: ${written}/${wanted.size} docs/screenshots/kiosk-${name}.png\n`);
    });
  } finally {
    await ui.close();
    await closeChromium();
  }
  if (written !== wanted.size) throw new Error(`only ${written} of ${wanted.size} screens were reached`);
}

main().catch((error: Error) => {
  process.stderr.write(`screenshots: ${error.message}\n`);
  process.exit(1);
});
