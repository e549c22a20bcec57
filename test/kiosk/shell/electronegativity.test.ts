// Doyensec's Electronegativity over the kiosk sources. Its CLI exits 0 whatever it finds (and, here,
// cannot parse its own options: it relies on an old `commander` it does not declare), so the test runs
// its scanner directly and reads the findings. Anything above LOW fails.
import test from 'ava';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

// Its i18n module fetches translations from the internet on every run, and on Node 24 the failed lookup
// escapes as an uncaught exception. Tests use no network: the scanner gets its bundled English texts, set up
// as its own module does, without the download.
const i18nModule = require.resolve('@doyensec/electronegativity/dist/locales/i18n.js');
const i18n = createRequire(i18nModule)('i18n') as { configure(options: object): void; setLocale(locale: string): void };
require.cache[i18nModule] = {
  id: i18nModule,
  filename: i18nModule,
  loaded: true,
  exports: async () => {
    i18n.configure({ locales: ['en-US'], defaultLocale: 'en-US', directory: path.dirname(i18nModule), updateFiles: false, objectNotation: true, retryInDefaultLocale: true, register: global });
    i18n.setLocale('en-US');
  },
} as unknown as NodeJS.Module;

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
