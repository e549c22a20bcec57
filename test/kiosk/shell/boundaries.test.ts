// The folder says where code runs: only kiosk/main/ imports Electron; the renderer imports neither Node
// nor Electron nor kiosk-core runtime code; protocol/ imports neither kiosk nor bank-host.
import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
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

test('only kiosk/main/ imports electron', async (t) => {
  const offenders: string[] = [];
  for (const dir of ['protocol', 'bank-host', 'kiosk', 'provisioning']) {
    for (const file of await sourceFiles(dir)) {
      if (file.startsWith(path.join('kiosk', 'main') + path.sep)) continue;
      const text = await readFile(file, 'utf8');
      if (imports(text).some((i) => i.specifier === 'electron' || i.specifier.startsWith('electron/'))) offenders.push(file);
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
