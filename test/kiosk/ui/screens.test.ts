// Every screen of the kiosk UI, in both languages and at both screen sizes the kiosk ships with, passes
// axe-core (no serious or critical violation), keeps every control on screen and at least 44 px, and
// draws no CSP violation or script error. Screenshots land in test-artifacts/ui/ for a person to look at.
import test from 'ava';
import { LARGE_SCREEN, SMALL_SCREEN, closeChromium, startUiRig } from './browser-rig.js';
import { TOUR_NOTE_INTERVAL_MS, tourEveryScreen } from './screen-tour.js';

test.after.always(() => closeChromium());

/** Words that must not be left in English on a French screen (the brand name is the same in both). */
const ENGLISH_ONLY = /\b(Cancel|Withdraw|Balance|Please|Deposit|Receipt|Sign in|Welcome to)\b/;

for (const [language, viewport, size] of [
  ['en', SMALL_SCREEN, '800x480'],
  ['fr', LARGE_SCREEN, '1280x800'],
] as const) {
  test(`every screen in ${language === 'en' ? 'English' : 'French'} at ${size}: accessible, on screen, touch-sized`, async (t) => {
    const ui = await startUiRig({ prefix: `screens-${language}-${size}`, viewport, pinPad: 'simulated', dispenserNoteIntervalMs: TOUR_NOTE_INTERVAL_MS, log: (line) => t.log(line) });
    t.teardown(() => ui.close());
    const visited: string[] = [];
    await tourEveryScreen(ui, language, async (name) => {
      visited.push(name);
      await ui.check(t, name);
      const text = (await ui.page.evaluate('document.body.innerText')) as string;
      t.is(await ui.page.evaluate('document.documentElement.lang'), name === 'welcome' || name === 'out-of-service' ? 'en' : language, `${name}: page language`);
      if (language === 'fr' && name !== 'welcome' && name !== 'out-of-service') t.notRegex(text, ENGLISH_ONLY, `${name}: English left on a French screen`);
    });
    t.is(visited.length, 24, visited.join(', '));
    t.deepEqual(ui.consoleProblems, []);
  });
}
