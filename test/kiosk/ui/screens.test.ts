// Every screen of the kiosk UI, at every screen size the kiosk ships with and in both languages, with
// long real-looking data: nothing outside the screen, on top of something else, cut off or scrolling;
// text of 16 px or more; touch targets of 44 px or more; no axe-core finding; the page's language right
// and no English left on a French screen; no CSP violation or script error. The report (every screen ×
// size × language) is printed in the test log and saved as test-artifacts/ui/screen-report.txt.
import test from 'ava';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ARTIFACTS_DIR, KIOSK_SCREENS, closeChromium, sizeName } from './browser-rig.js';
import { auditCounts } from './layout-audit.js';
import { TOUR_SCREENS, startTourRig, tourEveryScreen } from './screen-tour.js';

/** One tour of 31 screens with a withdrawal, a deposit and a transfer, on a loaded 2-core machine. */
const TOUR_TIMEOUT_MS = 240_000;
/** Words that must not be left in English on a French screen (the brand name is the same in both). */
const ENGLISH_ONLY = /\b(Cancel|Withdraw|Balance|Please|Deposit|Receipt|Sign in|Welcome to|Back|Next|Filters|Show)\b/;
/** Screens shown before a customer chose a language: they speak every language the kiosk offers. */
const EVERY_LANGUAGE = new Set(['welcome', 'out-of-service']);

type Row = { screen: string; size: string; language: string } & ReturnType<typeof auditCounts>;
const report: Row[] = [];

test.after.always(async (t) => {
  await closeChromium();
  if (report.length === 0) return;
  const columns = ['screen', 'size', 'language', 'outside', 'overlaps', 'clipped', 'smallText', 'smallTargets', 'axe'] as const;
  const widths = columns.map((c) => Math.max(c.length, ...report.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
  const table = [line([...columns]), ...report.map((r) => line(columns.map((c) => String(r[c]))))].join('\n');
  const totals = columns.slice(3).map((c) => `${c} ${report.reduce((sum, r) => sum + (r[c] as number), 0)}`).join(', ');
  const text = `${table}\n\n${report.length} screens measured; totals: ${totals}\n`;
  t.log(`\n${text}`);
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  await writeFile(path.join(ARTIFACTS_DIR, 'screen-report.txt'), text);
});

for (const language of ['en', 'fr'] as const) {
  for (const viewport of KIOSK_SCREENS) {
    const size = sizeName(viewport);
    test.serial(`every screen in ${language === 'en' ? 'English' : 'French'} at ${size}: on screen, not overlapping, not cut off, readable, touch-sized, accessible`, async (t) => {
      t.timeout(TOUR_TIMEOUT_MS);
      const tour = await startTourRig({ prefix: `screens-${language}-${size}`, viewport, log: (line) => t.log(line) });
      t.teardown(() => tour.close());
      const visited: string[] = [];
      // Collected, then asserted once, so that one bad screen does not hide the others from the report.
      const problems: string[] = [];
      await tourEveryScreen(tour, language, async (name) => {
        visited.push(name);
        const audit = await tour.ui.audit(name);
        report.push({ screen: name, size, language, ...auditCounts(audit) });
        const found = (what: string, list: readonly string[]) => problems.push(...list.map((item) => `${name}: ${what}: ${item}`));
        found('outside the screen', audit.outside);
        found('on top of each other', audit.overlaps);
        found('cut off or scrolling', audit.clipped);
        found('the page scrolls', audit.documentScrolls ? ['document'] : []);
        found('text under 16 px', audit.smallText);
        found('touch target under 44 px', audit.smallTargets);
        found('axe-core', audit.axe);
        const lang = await tour.ui.page.evaluate('document.documentElement.lang');
        const expected = EVERY_LANGUAGE.has(name) ? 'en' : language;
        if (lang !== expected) problems.push(`${name}: page language ${String(lang)}, not ${expected}`);
        if (language === 'fr' && !EVERY_LANGUAGE.has(name)) {
          const english = ENGLISH_ONLY.exec((await tour.ui.page.evaluate('document.body.innerText')) as string);
          if (english) problems.push(`${name}: English left on a French screen: ${english[0]}`);
        }
      });
      t.deepEqual(problems, []);
      t.deepEqual(visited, [...TOUR_SCREENS]);
      t.deepEqual(tour.ui.consoleProblems, []);
    });
  }
}
