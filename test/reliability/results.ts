// Each reliability scenario writes what it counted as one JSON row under test-artifacts/reliability/;
// `npm run test:reliability` prints them as one table (test/reliability/report.mjs). A row holds only
// numbers the test counted; `null` means the column does not apply to the scenario (printed "n/a").
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { reliabilityParams } from './seeded-random.js';

export const RESULTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-artifacts/reliability');

export interface ScenarioResult {
  /** The table's row name; rows with the same scenario are summed (one per test of a scenario). */
  readonly scenario: string;
  /** Distinguishes the tests that add to one row; also the file name. */
  readonly part: string;
  readonly iterations: number;
  readonly faultsInjected: number;
  /** Transactions whose outcome the client was told (or, for attack rows, hostile attempts accepted). */
  readonly acknowledged: number | null;
  /** Acknowledged transactions missing from the ledger (or holds that vanished). */
  readonly lost: number | null;
  /** Transactions applied more than once. */
  readonly duplicated: number | null;
  /** Every other broken rule the scenario checks (ledger check, audit verify, limits, bounds, ...). */
  readonly invariantViolations: number;
  /** Figures measured along the way (latency, memory, counters), printed under the table. */
  readonly measurements?: Readonly<Record<string, string | number>>;
}

/** Writes the row. Call it before asserting, so a failing run still reports what it counted. */
export async function recordScenarioResult(result: ScenarioResult): Promise<void> {
  const params = reliabilityParams();
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${slug(result.scenario)}--${slug(result.part)}.json`);
  await writeFile(file, JSON.stringify({ ...result, seed: params.seed, scale: params.scale, recordedAt: new Date().toISOString() }, null, 2) + '\n');
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}
