#!/usr/bin/env node
// `npm run test:reliability`: runs the reliability scenarios (test/reliability/*.test.ts and the kiosk
// power-loss tests) through the suite's runner (test/run.mjs, under tsx like `npm test`), then prints one table of what they counted.
// RELIABILITY_SEED fixes the random choices (a default seed is used when unset); RELIABILITY_SCALE
// multiplies the iteration counts (1 = the short run that `npm test` also includes);
// RELIABILITY_FUZZ_INPUTS sets the fuzz input count directly (>= 1,000,000 for the full run).
// Extra arguments go to ava.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { printReport, RESULTS_DIR } from './report.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FILES = ['test/reliability/*.test.ts', 'test/kiosk/core/power-loss.test.ts', 'test/kiosk/core/power-loss-deposit.test.ts', 'test/kiosk/core/power-loss-replenishment.test.ts'];

// Only this run's rows go into the table.
rmSync(RESULTS_DIR, { recursive: true, force: true });
const scale = Number(process.env.RELIABILITY_SCALE ?? 1);
console.error(`test:reliability: seed ${process.env.RELIABILITY_SEED ?? '(default)'}, scale ${scale}${process.env.RELIABILITY_FUZZ_INPUTS ? `, fuzz inputs ${process.env.RELIABILITY_FUZZ_INPUTS}` : ''}`);
// A long run's single tests outlast the suite's 60 s inactivity timeout; each test sets its own bound too.
const timeout = `--timeout=${Math.ceil(Math.max(1, scale) * 10)}m`;
const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test/run.mjs'), timeout, ...FILES, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
child.on('close', (code, signal) => {
  const { missing, bad } = printReport();
  const failed = (code ?? 1) !== 0 || signal !== null || missing.length > 0 || bad.length > 0;
  if (bad.length > 0) console.log(`\nFAILED: ${bad.map((s) => s.scenario).join('; ')}`);
  process.exit(failed ? 1 : 0);
});
