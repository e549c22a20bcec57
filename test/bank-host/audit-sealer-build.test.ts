// `npm run build:native` as an operator meets it: help, bad arguments, no compiler. The module the suite
// uses (built by test/run.mjs) is never changed here: a failed build leaves it as it was.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MODULE_PATH } from '../../bank-host/audit/native/build.js';

const SCRIPT = path.resolve('bank-host/audit/native/build.ts');

function build(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
}

test('--help explains the command and what it needs', (t) => {
  const run = build(['--help']);
  t.is(run.status, 0, run.stderr);
  t.regex(run.stdout, /Usage: npm run build:native -- \[--if-possible\] \[--force\]/);
  t.regex(run.stdout, /apt-get install -y gcc libc6-dev libssl-dev/);
});

test('an unknown argument exits 2 with the usage', (t) => {
  const run = build(['--fast']);
  t.is(run.status, 2);
  t.regex(run.stderr, /unknown argument --fast/);
  t.regex(run.stderr, /Usage:/);
});

test('without a working compiler: exit 1 with the apt line, or a note and exit 0 with --if-possible; the built module is left as it was', (t) => {
  const before = readFileSync(MODULE_PATH);
  const strict = build(['--force'], { CC: '/nonexistent/cc' });
  t.is(strict.status, 1);
  t.regex(strict.stderr, /no working C compiler \(\/nonexistent\/cc\); on Debian: apt-get install -y gcc libc6-dev libssl-dev/);
  t.notRegex(strict.stdout + strict.stderr, /building the native audit sealer/);
  const lenient = build(['--force', '--if-possible'], { CC: '/nonexistent/cc' });
  t.is(lenient.status, 0, lenient.stderr);
  t.regex(lenient.stdout, /not built \(no working C compiler.*the bank host will seal audit records in JavaScript/);
  t.deepEqual(readFileSync(MODULE_PATH), before);
});

test('an up-to-date module is not rebuilt (no compiler is even asked for)', (t) => {
  const run = build([], { CC: '/nonexistent/cc' });
  t.is(run.status, 0, run.stderr);
  t.regex(run.stdout, /the native audit sealer is up to date: build\/audit-seal\.node/);
});
