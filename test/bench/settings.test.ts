// `npm run bench`'s settings from the environment: a value that is not a whole number in its range, or a
// BENCH_ONLY that names no part, stops the bench with the setting's name and exit code 2 before any work
// (bench/stats.ts, benchSetting). Each case exits before a host or a cluster starts.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** Runs a bench script with `env` added and returns its exit code and output. */
function bench(script: string, env: Record<string, string>): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.resolve('bench', script)], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

test('a bench setting out of its range, or not a whole number, is refused by name before any work', (t) => {
  for (const [script, name, value] of [
    ['run.ts', 'BENCH_SECONDS', 'abc'],
    ['run.ts', 'BENCH_KIOSKS', '0'],
    ['run.ts', 'BENCH_AUDIT_ROUNDS', '1.5'],
    ['postgres.ts', 'BENCH_PG_CLIENTS', '129'],
    ['postgres.ts', 'BENCH_PG_MIGRATE_SECONDS', '-1'],
  ] as const) {
    const { status, output } = bench(script, { [name]: value });
    t.is(status, 2, `${name}=${value}: ${output}`);
    t.regex(output, new RegExp(`${name} must be a whole number from \\d+ to \\d+, got "${value.replace('.', '\\.')}"`));
  }
});

test('BENCH_ONLY must name a part of the bench', (t) => {
  const { status, output } = bench('run.ts', { BENCH_ONLY: 'ledgr' });
  t.is(status, 2);
  t.regex(output, /BENCH_ONLY must be one of ledger, audit, kiosk, fleet, postgres, got "ledgr"/);
});
