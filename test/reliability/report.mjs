#!/usr/bin/env node
// Prints the reliability results table from the rows the scenarios wrote under test-artifacts/reliability/
// (see results.ts). Rows of one scenario are summed. Run by `npm run test:reliability` after the tests;
// `node test/reliability/report.mjs` prints the last run again. `--markdown` prints a Markdown table.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const RESULTS_DIR = path.join(root, 'test-artifacts/reliability');

/** Every scenario `npm run test:reliability` must report; a missing one fails the run. */
export const EXPECTED_SCENARIOS = [
  'bank host SIGKILL under load',
  'kiosk power loss at each withdrawal step',
  'kiosk power loss at each deposit step',
  'kiosk power loss at each replenishment step',
  'network faults (delay, blackhole, cut, duplicate)',
  'kiosk withdrawals through network faults',
  'attacker proxy (bit flips, replays, reorders, injected records)',
  'fuzz: frame decoder, envelopes, message bodies, validators',
  'fuzz: dispatcher with real handlers and LevelDB',
  'floods (idle, slow, handshake, oversized, wrong-key)',
  'brute force: PIN guessing across kiosks',
  'brute force: password guessing with lockout',
  'deposit without notes, or claiming more notes than committed',
  'transient write failure with retries racing on three connections',
  'daily limits across credentials (password and two cards at once)',
  'revoke and rotate with a handshake or request in flight',
  'a stolen K_SHARED alone yields no PIN',
  'one of two hosts SIGKILLed under load (PostgreSQL)',
  "PostgreSQL primary killed under two hosts' load",
  'database network cut from one of two hosts',
];

const COLUMNS = [
  ['scenario', 'scenario'],
  ['iterations', 'iterations'],
  ['faultsInjected', 'faults injected'],
  ['acknowledged', 'acknowledged transactions'],
  ['lost', 'lost'],
  ['duplicated', 'duplicated'],
  ['invariantViolations', 'invariant violations'],
];

export function readRows() {
  if (!existsSync(RESULTS_DIR)) return [];
  return readdirSync(RESULTS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(path.join(RESULTS_DIR, f), 'utf8')));
}

/** Sums the rows of each scenario; a column is n/a only when every row of the scenario says so. */
export function aggregate(rows) {
  const byScenario = new Map();
  for (const row of rows) {
    const sum = byScenario.get(row.scenario) ?? { scenario: row.scenario, parts: 0, measurements: [], seeds: new Set(), scales: new Set() };
    sum.parts++;
    sum.seeds.add(row.seed);
    sum.scales.add(row.scale);
    for (const [key] of COLUMNS.slice(1)) {
      const value = row[key];
      if (value === null || value === undefined) {
        if (!(key in sum)) sum[key] = null;
        continue;
      }
      sum[key] = (sum[key] ?? 0) + value;
    }
    if (row.measurements) sum.measurements.push({ part: row.part, ...row.measurements });
    byScenario.set(row.scenario, sum);
  }
  const ordered = [];
  for (const name of EXPECTED_SCENARIOS) if (byScenario.has(name)) ordered.push(byScenario.get(name));
  for (const [name, sum] of byScenario) if (!EXPECTED_SCENARIOS.includes(name)) ordered.push(sum);
  return ordered;
}

const cell = (value) => (value === null || value === undefined ? 'n/a' : typeof value === 'number' ? value.toLocaleString('en-US') : String(value));

export function formatTable(sums, { markdown = false } = {}) {
  const header = COLUMNS.map(([, title]) => title);
  const body = sums.map((sum) => COLUMNS.map(([key]) => cell(sum[key])));
  if (markdown) {
    const line = (cells) => `| ${cells.join(' | ')} |`;
    return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...body.map(line)].join('\n');
  }
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function formatMeasurements(sums) {
  const lines = [];
  for (const sum of sums) {
    if (sum.measurements.length === 0) continue;
    lines.push(`${sum.scenario}:`);
    for (const m of sum.measurements) {
      const { part, ...figures } = m;
      const text = Object.entries(figures).map(([k, v]) => `${k} ${cell(v)}`).join('; ');
      lines.push(`  ${sum.parts > 1 ? `[${part}] ` : ''}${text}`);
    }
  }
  return lines.join('\n');
}

export function printReport({ markdown = false } = {}) {
  const rows = readRows();
  const sums = aggregate(rows);
  const seeds = [...new Set(rows.map((r) => r.seed))];
  const scales = [...new Set(rows.map((r) => r.scale))];
  console.log(`\nReliability results (seed ${seeds.join(', ') || '?'}, scale ${scales.join(', ') || '?'}):\n`);
  console.log(formatTable(sums, { markdown }));
  const missing = EXPECTED_SCENARIOS.filter((name) => !sums.some((s) => s.scenario === name));
  for (const name of missing) console.log(`MISSING: "${name}" reported nothing (its test did not run or failed before counting)`);
  const measurements = formatMeasurements(sums);
  if (measurements) console.log(`\nMeasured along the way:\n${measurements}`);
  const bad = sums.filter((s) => (s.lost ?? 0) > 0 || (s.duplicated ?? 0) > 0 || s.invariantViolations > 0);
  return { missing, bad };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { missing, bad } = printReport({ markdown: process.argv.includes('--markdown') });
  process.exitCode = missing.length > 0 || bad.length > 0 ? 1 : 0;
}
