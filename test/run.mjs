#!/usr/bin/env node
// The one test command (`npm test`): makes sure the Debian packages the suite needs are present,
// runs ava with its TAP reporter, and closes with a line counted from ava's own results:
// `N passed, N failed, N skipped`. Extra arguments go to ava (for example a file glob).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const packages = readFileSync(path.join(root, 'test/debian-packages.txt'), 'utf8')
  .split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

function isInstalled(name) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

function ensureDebianPackages() {
  const isDebian = existsSync('/etc/debian_version') && spawnSync('dpkg-query', ['--version']).status === 0;
  if (!isDebian) {
    console.error(`test: this suite needs these Debian packages (or their equivalents): ${packages.join(' ')}`);
    return;
  }
  const missing = packages.filter((p) => !isInstalled(p));
  if (missing.length === 0) return;
  const line = `apt-get update && apt-get install -y ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    console.error(`test: missing Debian packages: ${missing.join(' ')}\nRun as root:\n  ${line}`);
    process.exit(2);
  }
  console.error(`test: installing missing Debian packages: ${missing.join(' ')}`);
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...missing]]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0) {
      console.error(`test: \`apt-get ${args.join(' ')}\` failed (exit ${r.status}); run it by hand:\n  ${line}`);
      process.exit(2);
    }
  }
}

ensureDebianPackages();

const avaBin = path.join(root, 'node_modules/ava/entrypoints/cli.mjs');
const child = spawn(process.execPath, [avaBin, '--tap', ...process.argv.slice(2)], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, FORCE_COLOR: '0' },
});

// Count from ava's TAP stream: each `ok`/`not ok` line is one test; `# SKIP`/`# TODO` directives count as skipped.
let passed = 0, failed = 0, skipped = 0, buffered = '';
function countLine(line) {
  const m = /^(not ok|ok)\s+\d+/.exec(line);
  if (!m) return;
  if (/#\s*(SKIP|TODO)\b/i.test(line)) skipped++;
  else if (m[1] === 'ok') passed++;
  else failed++;
}
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  buffered += chunk.toString('utf8');
  const lines = buffered.split('\n');
  buffered = lines.pop() ?? '';
  lines.forEach(countLine);
});
child.on('close', (code, signal) => {
  if (buffered) countLine(buffered);
  const exitCode = code ?? 1;
  // ava exits non-zero for failures it reports without a TAP line (a crashed worker, a timeout);
  // count that run as one failure rather than print a clean line.
  if (exitCode !== 0 && failed === 0) failed = 1;
  if (signal) console.error(`test: ava was killed by ${signal}`);
  console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(exitCode);
});
