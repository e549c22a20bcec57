import test from 'ava';
import { spawnSync } from 'node:child_process';

test('the whole project type-checks in strict mode', (t) => {
  const r = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit'], {
    encoding: 'utf8',
  });
  t.is(r.status, 0, `tsc reported errors:\n${r.stdout}${r.stderr}`);
});

test('the renderer type-checks against the DOM alone, without Node types', (t) => {
  const r = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'kiosk/renderer/tsconfig.json', '--noEmit'], {
    encoding: 'utf8',
  });
  t.is(r.status, 0, `tsc reported errors in the renderer:\n${r.stdout}${r.stderr}`);
});
