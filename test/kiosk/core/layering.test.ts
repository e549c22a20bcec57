// kiosk/core runs in plain Node: it must never import Electron, the renderer or the bank host.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

test('kiosk/core imports no Electron, renderer, main-process or bank-host module', async (t) => {
  const dir = path.join(root, 'kiosk/core');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.ts'));
  t.true(files.length > 0);
  for (const file of files) {
    const text = await readFile(path.join(dir, file), 'utf8');
    const imports = [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1] ?? '');
    for (const specifier of imports) {
      t.false(specifier === 'electron' || specifier.startsWith('electron/'), `${file} imports ${specifier}`);
      t.false(/\/(renderer|main|preload)\//.test(specifier), `${file} imports ${specifier}`);
      t.false(specifier.includes('bank-host/'), `${file} imports ${specifier}`);
    }
  }
});
