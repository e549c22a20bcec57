// protocol/ is the contract both ends import, so it imports neither end; and the bank host never reaches
// into the kiosk. Checked on the sources rather than hoped for.
import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

async function sourceFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => path.join(e.parentPath, e.name));
}

async function importsOf(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g), ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!);
}

// aes-cmac: the maintained AES-CMAC that key blocks and key check values are built on (protocol/key-block.ts).
test('protocol/ imports only Node built-ins, zod, aes-cmac and itself', async (t) => {
  const files = await sourceFiles('protocol');
  t.true(files.length >= 8, `found ${files.length} files`);
  t.true((await importsOf('protocol/client.ts')).includes('./framing.js'), 'the import scan sees multi-line imports');
  for (const file of files) {
    for (const specifier of await importsOf(file)) {
      const allowed = specifier.startsWith('node:') || specifier === 'zod' || specifier === 'aes-cmac' || (specifier.startsWith('./') && !specifier.includes('..'));
      t.true(allowed, `${file} imports ${specifier}`);
    }
  }
});

test('the bank host imports nothing from the kiosk or provisioning', async (t) => {
  const files = await sourceFiles('bank-host');
  t.true(files.length >= 30, `found ${files.length} files`);
  for (const file of files) {
    for (const specifier of await importsOf(file)) {
      const resolved = specifier.startsWith('.') ? path.relative('.', path.resolve(path.dirname(file), specifier)) : specifier;
      t.false(/^(kiosk|provisioning)\//.test(resolved), `${file} imports ${specifier}`);
    }
  }
});
