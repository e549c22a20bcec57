#!/usr/bin/env node
// The one test command (`npm test`, run under tsx): makes sure the Debian packages the suite needs are
// present, runs ava with its TAP reporter, and closes with a line counted from ava's own results:
// `N passed, N failed, N skipped`. Extra arguments go to ava (for example a file glob).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { ensureDebianPackages } from '../dev/debian-packages.ts';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const packages = readFileSync(path.join(root, 'test/debian-packages.txt'), 'utf8')
  .split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

const check = ensureDebianPackages(packages, (line) => console.error(`test: ${line}`));
if (check.kind === 'unknown-system') {
  console.error(`test: this suite needs these Debian packages (or their equivalents): ${packages.join(' ')}`);
} else if (check.kind === 'missing') {
  console.error(`test: missing Debian packages: ${check.packages.join(' ')} (${check.why}). Run as root:\n  ${check.command}`);
  process.exit(2);
}

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
