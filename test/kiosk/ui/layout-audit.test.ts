// The layout audit finds what it says it finds: a page built to be wrong in each way is reported in each
// way, and a page built right is not (so the tour's zeros mean something).
import test from 'ava';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeChromium, launchChromium } from './browser-rig.js';
import { auditLayout } from './layout-audit.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const axeSource = () => readFile(path.join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');

test.after.always(() => closeChromium());

async function audit(body: string) {
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 800, height: 480 } });
  try {
    const page = await context.newPage();
    await page.setContent(`<!doctype html><html lang="en"><head><title>audit</title><style>
      html, body { margin: 0; font: 18px sans-serif; overflow: hidden; }
      button { min-width: 48px; min-height: 48px; font: inherit; }
    </style></head><body><main id="app">${body}</main></body></html>`);
    return await auditLayout(page, axeSource);
  } finally {
    await context.close();
  }
}

test('a page drawn right has nothing to report', async (t) => {
  const found = await audit(`<h1>Title</h1><p>Some text.</p><button type="button">Go</button>`);
  t.deepEqual(found, { outside: [], overlaps: [], clipped: [], documentScrolls: false, smallText: [], smallTargets: [], axe: [] });
});

test('each fault is reported as what it is', async (t) => {
  const found = await audit(`
    <h1>Title</h1>
    <button type="button" style="position: absolute; left: 760px; top: 10px">Off</button>
    <p style="position: absolute; left: 10px; top: 100px">Under</p>
    <button type="button" style="position: absolute; left: 10px; top: 95px">Over</button>
    <p style="width: 60px; white-space: nowrap; overflow: hidden">A sentence cut off</p>
    <p style="font-size: 13px">Tiny text</p>
    <button type="button" style="min-width: 0; min-height: 0; width: 30px; height: 30px">x</button>
    <div style="height: 900px"></div>
    <img src="data:," />
  `);
  t.true(found.outside.some((item) => item.includes('"Off"')), JSON.stringify(found.outside));
  t.true(found.overlaps.some((item) => item.includes('"Under"') && item.includes('"Over"')), JSON.stringify(found.overlaps));
  t.true(found.clipped.some((item) => item.includes('A sentence cut off')), JSON.stringify(found.clipped));
  t.true(found.documentScrolls);
  t.true(found.smallText.some((item) => item.includes('Tiny text')), JSON.stringify(found.smallText));
  t.true(found.smallTargets.some((item) => item.includes('"x"')), JSON.stringify(found.smallTargets));
  t.true(found.axe.some((item) => item.startsWith('image-alt')), JSON.stringify(found.axe));
});
