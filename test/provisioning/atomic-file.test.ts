// Files on a kiosk's card are replaced whole or not at all.
import test from 'ava';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { replaceFileAtomically } from '../../provisioning/atomic-file.js';

test('a replaced file has the new content and the mode asked for, and no temp file is left beside it', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'atomic-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'kiosk.json');
  await writeFile(file, 'old\n', { mode: 0o644 });
  await replaceFileAtomically(file, 'new\n', { mode: 0o640 });
  t.is(await readFile(file, 'utf8'), 'new\n');
  t.is((await stat(file)).mode & 0o777, 0o640);
  t.deepEqual(await readdir(dir), ['kiosk.json']);
});

test('a replacement that fails leaves the target as it was and removes its temp file', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'atomic-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // A folder in the target's place: the rename over it fails after the temp file was written.
  const target = path.join(dir, 'target');
  await mkdir(target);
  await writeFile(path.join(target, 'inside'), 'kept');
  await t.throwsAsync(replaceFileAtomically(target, 'new', { mode: 0o644 }));
  t.deepEqual(await readdir(dir), ['target']);
  t.is(await readFile(path.join(target, 'inside'), 'utf8'), 'kept');
});
