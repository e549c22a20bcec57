// `npm run screenshots`: the pictures of the kiosk UI in README.md and docs/kiosk-ui.md, taken the way the
// UI tests see it (the built renderer in Debian's Chromium, a real bank host, the device simulators) by
// the same tour of every screen that screens.test.ts measures. Writes
// docs/screenshots/kiosk-<screen>-<language>-<width>x<height>.png and prints each file as it goes.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Language } from '../../../kiosk/preload/api.js';
import { closeChromium, LARGE_SCREEN, MEDIUM_SCREEN, SMALL_SCREEN, sizeName } from './browser-rig.js';
import { startTourRig, tourEveryScreen, type TourScreen } from './screen-tour.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SCREENSHOTS_DIR = path.join(root, 'docs/screenshots');

/** Which screens are pictured, for each language and size: every screen the README shows at the 7-inch
 *  800×480 panel in English, the screens that carry the most at the other two sizes, and the longest
 *  French ones. */
export const PICTURES: readonly { language: Language; size: { width: number; height: number }; screens: readonly TourScreen[] }[] = [
  { language: 'en', size: SMALL_SCREEN, screens: ['welcome', 'identify', 'register', 'swipe-card', 'pin', 'menu', 'balance-3-accounts', 'withdraw-refused', 'deposit', 'deposit-notes', 'deposit-done', 'transfer', 'take-cash', 'another-transaction', 'pin-change', 'pin-last-try', 'card-blocked', 'history', 'activity', 'idle-warning', 'supervisor', 'supervisor-counted', 'out-of-service'] },
  { language: 'en', size: MEDIUM_SCREEN, screens: ['pin', 'menu', 'withdraw-refused', 'deposit-notes', 'history'] },
  { language: 'en', size: LARGE_SCREEN, screens: ['pin', 'menu', 'withdraw-refused', 'deposit-notes', 'history'] },
  { language: 'fr', size: SMALL_SCREEN, screens: ['sign-in', 'swipe-card', 'pin', 'menu', 'withdraw-refused', 'deposit-notes', 'history', 'history-filters', 'activity'] },
];

export const pictureName = (screen: TourScreen, language: Language, size: { width: number; height: number }) => `kiosk-${screen}-${language}-${sizeName(size)}.png`;

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    const count = PICTURES.reduce((n, p) => n + p.screens.length, 0);
    process.stdout.write(`usage: npm run screenshots\n\nWrites ${count} pictures of the kiosk UI (English at 800×480, 1024×600 and 1280×800; French at 800×480) to docs/screenshots/.\nNeeds Debian's chromium and socat.\n`);
    return;
  }
  let written = 0;
  try {
    for (const { language, size, screens } of PICTURES) {
      const wanted = new Set<string>(screens);
      const tour = await startTourRig({ prefix: 'kiosk', viewport: size });
      try {
        await tourEveryScreen(tour, language, async (name) => {
          if (!wanted.has(name)) return;
          const file = pictureName(name, language, size);
          await tour.ui.shot(file.replace(/^kiosk-/, '').replace(/\.png$/, ''), SCREENSHOTS_DIR);
          wanted.delete(name);
          written++;
          process.stderr.write(`screenshots: docs/screenshots/${file}\n`);
        });
      } finally {
        await tour.close();
      }
      if (wanted.size > 0) throw new Error(`not reached in ${language} at ${sizeName(size)}: ${[...wanted].join(', ')}`);
    }
  } finally {
    await closeChromium();
  }
  process.stderr.write(`screenshots: ${written} pictures written\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`screenshots: ${error.message}\n`);
  process.exit(1);
});
