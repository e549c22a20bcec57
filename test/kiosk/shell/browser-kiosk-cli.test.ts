// `npm run kiosk:browser`: its help, and the clear errors and exit codes for bad arguments and a bad
// configuration (the window itself is opened by the same code `npm start` uses, tested there).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'kiosk/browser/browser-kiosk-cli.ts', ...args], { encoding: 'utf8', env: { ...process.env, DISPLAY: ':0', ...env }, timeout: 30_000 });
}

test('--help explains the command and exits 0', (t) => {
  const r = run(['--help']);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /usage: npm run kiosk:browser -- --config FILE/);
});

test('an unknown option or a missing --config exits 2 with the usage', (t) => {
  for (const args of [['--bogus'], [], ['--config']]) {
    const r = run(args);
    t.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, /usage: npm run kiosk:browser/);
  }
});

test('no display, or a configuration that is missing or wrong, exits 1 saying what is wrong', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kiosk-browser-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  let r = run(['--config', path.join(dir, 'kiosk.json')], { DISPLAY: '', WAYLAND_DISPLAY: '' });
  t.is(r.status, 1);
  t.regex(r.stderr, /there is no display/);
  r = run(['--config', path.join(dir, 'kiosk.json')]);
  t.is(r.status, 1);
  t.regex(r.stderr, /kiosk\.json: cannot read the kiosk configuration \(ENOENT\)/);
  await writeFile(path.join(dir, 'bad.json'), JSON.stringify({ deviceId: 'Bad Id!', host: '127.0.0.1', port: 0 }));
  r = run(['--config', path.join(dir, 'bad.json')]);
  t.is(r.status, 1);
  t.regex(r.stderr, /bad\.json: deviceId: /);
  t.regex(r.stderr, /port: /);
});
