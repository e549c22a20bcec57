import test from 'ava';
import { spawnSync } from 'node:child_process';

test('the whole project type-checks in strict mode', (t) => {
  const r = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit'], {
    encoding: 'utf8',
  });
  t.is(r.status, 0, `tsc reported errors:\n${r.stdout}${r.stderr}`);
});
