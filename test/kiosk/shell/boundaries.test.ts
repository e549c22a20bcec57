// The folder says where code runs, and which folder may import which is checked here, not hoped for:
// only kiosk/main/ imports Electron; each kiosk folder imports only the kiosk folders its row below
// allows; the renderer imports neither Node nor Electron nor kiosk-core runtime code; protocol/ imports
// neither kiosk nor bank-host; the kiosk never imports the bank host; and no files inside kiosk/ import
// each other in a circle.
import test from 'ava';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import path from 'node:path';

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...(await sourceFiles(full)));
    } else if (/\.(ts|tsx|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

function imports(text: string): { specifier: string; typeOnly: boolean }[] {
  const found: { specifier: string; typeOnly: boolean }[] = [];
  const pattern = /^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (const m of text.matchAll(pattern)) found.push({ specifier: (m[3] ?? m[4] ?? m[5])!, typeOnly: m[2] !== undefined });
  return found;
}

/** The source file a relative specifier names (`./x.js` is `./x.ts` or `./x.tsx`); undefined for a package
 *  or a file that is not TypeScript (a stylesheet). */
function resolveImport(fromFile: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const target = path.normalize(path.join(path.dirname(fromFile), specifier));
  const stem = target.replace(/\.(js|mjs|ts|tsx)$/, '');
  return [`${stem}.ts`, `${stem}.tsx`, `${stem}.mts`].find((candidate) => existsSync(candidate));
}

/** The folder directly under kiosk/ that holds `file` (kiosk/core/flows/x.ts → core). */
function kioskFolderOf(file: string): string | undefined {
  const parts = path.normalize(file).split(path.sep);
  return parts[0] === 'kiosk' && parts.length > 2 ? parts[1] : undefined;
}

const isNodeBuiltin = (specifier: string) => specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]!);
const isElectron = (specifier: string) => specifier === 'electron' || specifier.startsWith('electron/');

/** Each folder under kiosk/, where its code runs, and the other kiosk folders it may import: `runtime`
 *  freely, `typesOnly` with `import type` only. A folder always imports its own files. */
const KIOSK_FOLDERS: Readonly<Record<string, { runsIn: string; nodeBuiltins: boolean; runtime: readonly string[]; typesOnly?: readonly string[] }>> = {
  common: { runsIn: 'anywhere: plain TypeScript', nodeBuiltins: false, runtime: [] },
  devices: { runsIn: 'Node (the main process, or a simulator)', nodeBuiltins: true, runtime: ['common'] },
  core: { runsIn: 'Node (the main process)', nodeBuiltins: true, runtime: ['common', 'devices'] },
  bridge: { runsIn: 'Node (the Electron main process or the browser kiosk)', nodeBuiltins: true, runtime: ['common', 'core', 'preload'] },
  browser: { runsIn: 'Node, driving Chromium without Electron', nodeBuiltins: true, runtime: ['common', 'core', 'bridge', 'preload'] },
  main: { runsIn: "Electron's main process and the preload entry", nodeBuiltins: true, runtime: ['common', 'core', 'bridge', 'preload'] },
  preload: { runsIn: 'the sandboxed preload', nodeBuiltins: false, runtime: [], typesOnly: ['core'] },
  renderer: { runsIn: 'the page (untrusted)', nodeBuiltins: false, runtime: [], typesOnly: ['preload'] },
  build: { runsIn: 'Node at build time (Vite, Forge)', nodeBuiltins: true, runtime: [] },
};

test('every folder under kiosk/ has a row saying where it runs and what it may import', async (t) => {
  const folders = (await readdir('kiosk', { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  t.deepEqual(folders.filter((folder) => !(folder in KIOSK_FOLDERS)), [], 'a new kiosk folder needs its row in KIOSK_FOLDERS');
  t.deepEqual((await readdir('kiosk', { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name), [], 'every kiosk file is in a folder that says where it runs');
});

test('each kiosk folder imports only the kiosk folders its row allows, and types only where it says so', async (t) => {
  const offenders: string[] = [];
  for (const file of await sourceFiles('kiosk')) {
    const from = kioskFolderOf(file)!;
    const rule = KIOSK_FOLDERS[from];
    if (!rule) continue; // reported by the test above
    for (const i of imports(await readFile(file, 'utf8'))) {
      if (!rule.nodeBuiltins && isNodeBuiltin(i.specifier)) offenders.push(`${file}: ${i.specifier} (Node; ${from} runs in ${rule.runsIn})`);
      const target = resolveImport(file, i.specifier);
      if (i.specifier.startsWith('.') && !target && /\.(js|ts|tsx)$/.test(i.specifier)) offenders.push(`${file}: ${i.specifier} (no such file)`);
      if (!target) continue;
      const to = kioskFolderOf(target);
      if (to === undefined) {
        if (/^(bank-host|provisioning|test|bench)\b/.test(path.normalize(target))) offenders.push(`${file}: ${i.specifier} (the kiosk imports only kiosk/ and protocol/)`);
        continue;
      }
      if (to === from || rule.runtime.includes(to)) continue;
      if (i.typeOnly && rule.typesOnly?.includes(to)) continue;
      offenders.push(`${file}: ${i.specifier} (${from} may not import ${rule.typesOnly?.includes(to) ? 'runtime code of ' : ''}kiosk/${to})`);
    }
  }
  t.deepEqual(offenders, []);
});

test('only kiosk/main/ imports electron', async (t) => {
  const offenders: string[] = [];
  for (const dir of ['protocol', 'bank-host', 'kiosk', 'provisioning']) {
    for (const file of await sourceFiles(dir)) {
      if (file.startsWith(path.join('kiosk', 'main') + path.sep)) continue;
      const text = await readFile(file, 'utf8');
      if (imports(text).some((i) => isElectron(i.specifier))) offenders.push(file);
    }
  }
  t.deepEqual(offenders, []);
});

test('protocol/ imports neither the kiosk nor the bank host', async (t) => {
  const offenders: string[] = [];
  for (const file of await sourceFiles('protocol')) {
    for (const i of imports(await readFile(file, 'utf8'))) if (/(^|\/)(kiosk|bank-host)\//.test(i.specifier)) offenders.push(`${file}: ${i.specifier}`);
  }
  t.deepEqual(offenders, []);
});

test('the renderer imports no Node, Electron or kiosk-core runtime code', async (t) => {
  const offenders: string[] = [];
  for (const file of await sourceFiles(path.join('kiosk', 'renderer'))) {
    for (const i of imports(await readFile(file, 'utf8'))) {
      if (i.typeOnly) continue;
      const nodeOrElectron = i.specifier.startsWith('node:') || ['electron', 'fs', 'net', 'tls', 'crypto', 'child_process', 'serialport', 'node-hid', 'level'].includes(i.specifier);
      const backend = /(^|\/)(core|devices|main|bank-host)\//.test(i.specifier) || i.specifier.includes('/protocol/client');
      if (nodeOrElectron || backend) offenders.push(`${file}: ${i.specifier}`);
    }
  }
  t.deepEqual(offenders, []);
});

/** Every circle of the import graph (`graph`: file → the files it imports), as its files: Tarjan's strongly
 *  connected components with more than one file, or one file that imports itself. */
function importCircles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, counter);
    low.set(file, counter);
    counter++;
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(file, Math.min(low.get(file)!, index.get(next)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || (graph.get(file) ?? []).includes(file)) circles.push(component.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return circles;
}

test('the circle finder finds a circle, and only a circle', (t) => {
  const graph = new Map([
    ['a', ['b']],
    ['b', ['c', 'd']],
    ['c', ['a']],
    ['d', []],
    ['e', ['e']],
  ]);
  t.deepEqual(importCircles(graph), [['a', 'b', 'c'], ['e']]);
  t.deepEqual(importCircles(new Map([['a', ['b']], ['b', []]])), []);
});

test('no files inside kiosk/ import each other in a circle (type-only imports included)', async (t) => {
  const graph = new Map<string, string[]>();
  for (const file of await sourceFiles('kiosk')) {
    const targets = imports(await readFile(file, 'utf8'))
      .map((i) => resolveImport(file, i.specifier))
      .filter((target): target is string => target !== undefined && target.startsWith('kiosk' + path.sep));
    graph.set(file, targets);
  }
  // A resolver that found nothing would make this check pass vacuously.
  t.true((graph.get(path.join('kiosk', 'core', 'kiosk.ts')) ?? []).length > 10, 'imports resolve to files');
  t.deepEqual(importCircles(graph), []);
});
