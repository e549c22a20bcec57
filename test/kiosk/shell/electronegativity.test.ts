// Doyensec's Electronegativity over the kiosk sources. Its CLI exits 0 whatever it finds (and, here,
// cannot parse its own options: it relies on an old `commander` it does not declare), so the test runs
// its scanner directly and reads the findings. Anything above LOW fails.
import test from 'ava';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
type Run = (options: object, forCli: boolean) => Promise<Scan>;
const loaded = require('@doyensec/electronegativity/dist/runner.js') as { default?: Run } | Run;
// Babel-compiled CommonJS: the function is `default`, unless a loader already unwrapped it.
const runScan: Run = typeof loaded === 'function' ? loaded : loaded.default!;

interface Finding {
  id: string;
  file: string;
  location: { line: number };
  description: string;
  severity: { name: 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL' };
  confidence: { name: string };
}
interface Scan {
  globalChecks: number;
  atomicChecks: number;
  issues: Finding[];
  errors: { file: string; message: string; tolerable: boolean }[];
}

test('Electronegativity finds nothing above LOW in the kiosk', async (t) => {
  const scan = await runScan(
    {
      input: 'kiosk',
      isSarif: false,
      customScan: [],
      // This check downloads Electron's release list from the internet; the version is pinned in package.json.
      excludeFromScan: ['AvailableSecurityFixesGlobalCheck'],
      isRelative: true,
      isVerbose: false,
      electronVersionOverride: require('electron/package.json').version,
      parserPlugins: [],
    },
    false,
  );
  t.true(scan.atomicChecks > 20, `the scanner ran its checks (${scan.atomicChecks})`);
  const serious = scan.issues.filter((f) => !['INFORMATIONAL', 'LOW'].includes(f.severity.name));
  t.deepEqual(
    serious.map((f) => `${f.severity.name} ${f.id} ${f.file}:${f.location.line} ${f.description}`),
    [],
  );
  const fatal = scan.errors.filter((e) => !e.tolerable);
  t.deepEqual(fatal, [], 'every file parsed');
});
