// The host's Prometheus metrics: `curl` of /metrics with an operator token as a bearer header is
// Prometheus text format as `promtool check metrics` (Debian's prometheus package) reads it, with no lint
// problem; its counters move with kiosk traffic (requests by type and outcome and their latency,
// handshake failures by reason, group commits) and its gauges follow the fleet (kiosks by state, cash by
// kiosk, holds outstanding). The sample scrape config and alerting rules in docs/prometheus/ pass
// `promtool check config` and `promtool check rules`.
import test from 'ava';
import { execFile, spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { testKioskStatus } from '../helpers/kiosk-cash.js';
import { clientDeposit, startTestHost, type TestHost } from '../helpers/host.js';
import { testBackend } from '../helpers/store-backend.js';

const PROMTOOL = '/usr/bin/promtool';

/** curl in its own process, waited for without blocking: the host it asks runs in this one. */
async function curl(url: string, token?: string): Promise<{ status: number; body: string }> {
  const args = ['-sS', '--max-time', '20', '-o', '-', '-w', '\n%{http_code}', ...(token ? ['-H', `Authorization: Bearer ${token}`] : []), url];
  const { stdout } = await promisify(execFile)('curl', args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }).catch((error: Error) => {
    throw new Error(`curl: ${error.message} (apt-get install -y curl)`);
  });
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}

function promtool(args: string[], input?: string): { status: number | null; output: string } {
  const run = spawnSync(PROMTOOL, args, { encoding: 'utf8', ...(input !== undefined && { input }) });
  if (run.error) throw new Error(`promtool: ${run.error.message} (apt-get install -y prometheus)`);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** The samples of an exposition, by `name{labels}` exactly as written; each line is checked to be a
 *  comment or a sample (name, optional labels, a float value). */
function samples(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    if (match === null) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    found.set(match[1]!, Number(match[2]));
  }
  return found;
}

async function scrape(h: TestHost, token: string): Promise<{ text: string; values: Map<string, number> }> {
  const { status, body } = await curl(`http://127.0.0.1:${h.host.console!.address.port}/metrics`, token);
  if (status !== 200) throw new Error(`/metrics answered ${status}: ${body}`);
  return { text: body, values: samples(body) };
}

test('/metrics is Prometheus text format by promtool, and its counters and gauges move with the traffic', async (t) => {
  const h = await startTestHost({ console: { host: '127.0.0.1', port: 0, uiDir: '/nonexistent' } });
  t.teardown(() => h.close());
  const { token } = await h.host.state.services.operators!.add('prometheus');
  t.is((await curl(`http://127.0.0.1:${h.host.console!.address.port}/metrics`)).status, 401, 'no token, no metrics');

  const before = await scrape(h, token);
  const checked = promtool(['check', 'metrics'], before.text);
  t.is(checked.status, 0, checked.output);
  t.is(checked.output.trim(), '', 'no lint problem');
  t.is(before.values.get('bankhost_kiosks{state="in-service"}'), 0);

  // Traffic: a kiosk reports, a customer deposits and withdraws (one hold left open), a request fails,
  // and a kiosk with the wrong key is refused.
  const kiosk = await h.connectedClient('kiosk-m1');
  const { accounts } = await kiosk.request('register', { username: 'metrics-amy', password: 'a long enough password' });
  const accountId = accounts[0]!.accountId;
  await clientDeposit(kiosk, accountId, 10_000);
  const done = await kiosk.request('withdraw.authorize', { accountId, amountCents: 4_000 });
  await kiosk.request('withdraw.complete', { authorizationId: done.authorizationId, dispensedCents: 4_000 });
  await kiosk.request('withdraw.authorize', { accountId, amountCents: 2_000 });
  await t.throwsAsync(kiosk.request('balance', { accountId: 'acc_0000000000000000' }));
  await kiosk.request('kiosk.status', testKioskStatus({ inService: false, reasons: ['maintenance'], cassettes: [{ denominationCents: 2_000, count: 1_234 }] }));
  await h.addDevice('kiosk-m2');
  const impostor = h.client('kiosk-m2', Buffer.alloc(32, 7));
  impostor.start();
  await new Promise((resolve) => setTimeout(resolve, 300));
  impostor.close();
  await h.host.state.services.fleet!.settled();

  const after = await scrape(h, token);
  t.is(promtool(['check', 'metrics'], after.text).status, 0);
  const moved = (key: string) => (after.values.get(key) ?? 0) - (before.values.get(key) ?? 0);
  t.is(moved('bankhost_requests_total{type="deposit.commit",outcome="ok"}'), 1);
  t.is(moved('bankhost_requests_total{type="withdraw.authorize",outcome="ok"}'), 2);
  t.is(moved('bankhost_requests_total{type="balance",outcome="UNKNOWN_ACCOUNT"}'), 1);
  t.is(moved('bankhost_requests_total{type="kiosk.status",outcome="ok"}'), 2);
  t.is(moved('bankhost_request_duration_seconds_count{type="withdraw.complete",outcome="ok"}'), 1);
  t.true(moved('bankhost_request_duration_seconds_sum{type="withdraw.complete",outcome="ok"}') > 0);
  t.true(moved('bankhost_handshake_failures_total{reason="wrong-key"}') >= 1, 'the impostor (which retries) was refused');
  t.is(moved('bankhost_handshake_failures_total{reason="unknown-device"}'), 0);
  t.true(moved('bankhost_handshakes_completed_total') >= 1);
  t.true(moved('bankhost_group_commit_batches_total') >= 5);
  t.true(moved('bankhost_group_commit_changes_total') >= moved('bankhost_group_commit_batches_total'));
  t.is(after.values.get('bankhost_connections_open'), 1);
  t.is(after.values.get('bankhost_withdrawal_holds_open'), 1);
  t.is(after.values.get('bankhost_withdrawal_holds_open_cents'), 2_000);
  t.is(after.values.get('bankhost_deposit_holds_open'), 0);
  t.is(after.values.get('bankhost_kiosks{state="out-of-service"}'), 1);
  t.is(after.values.get('bankhost_kiosks{state="never-reported"}'), 1);
  t.is(after.values.get('bankhost_kiosk_in_service{kiosk="kiosk-m1"}'), 0);
  t.is(after.values.get('bankhost_kiosk_connected{kiosk="kiosk-m1"}'), 1);
  t.is(after.values.get('bankhost_kiosk_cash_cents{kiosk="kiosk-m1"}'), 2_468_000);
  t.is(after.values.get('bankhost_kiosk_cassette_notes{kiosk="kiosk-m1",cassette="0",denomination_cents="2000"}'), 1_234);
  t.is(after.values.get('bankhost_kiosk_cashbox_notes{kiosk="kiosk-m1"}'), 0);
  t.is(after.values.get('bankhost_alerts{kind="out-of-service",severity="critical"}'), 1);
  t.true((after.values.get('process_cpu_seconds_total') ?? 0) > 0, "the process's own metrics too");

  if (testBackend() === 'postgresql') {
    // The store's own figures. A deposit and a withdrawal settled at the host that opened and authorized
    // them take every lock with their units' BEGINs: no lock step.
    t.is(after.values.get('bankhost_store_primary_changes_total'), 1, 'the primary found at start, no failover');
    t.is(after.values.get('bankhost_store_waiting'), 0);
    t.true((after.values.get('bankhost_store_connections{state="idle"}') ?? 0) >= 1);
    t.true((after.values.get('bankhost_store_connects_total') ?? 0) >= 1);
    await clientDeposit(kiosk, accountId, 2_000);
    const again = await kiosk.request('withdraw.authorize', { accountId, amountCents: 2_000 });
    await kiosk.request('withdraw.complete', { authorizationId: again.authorizationId, dispensedCents: 2_000 });
    const settled = await scrape(h, token);
    const since = (key: string) => (settled.values.get(key) ?? 0) - (after.values.get(key) ?? 0);
    t.true(since('bankhost_store_units_total{outcome="committed"}') >= 4);
    t.is(since('bankhost_store_units_total{outcome="failed"}'), 0);
    t.is(since('bankhost_store_lock_steps_total'), 0);
    for (const name of ['bankhost_store_group_commits_total', 'bankhost_store_units_grouped_total']) t.not(settled.values.get(name), undefined, `${name} is exported`);
    t.false([...settled.values.keys()].some((key) => key.startsWith('bankhost_store_failures_total')), 'no store failure');
  } else {
    t.false([...after.values.keys()].some((key) => key.startsWith('bankhost_store_')), 'no store metrics on LevelDB');
  }
  kiosk.close();
});

test('the sample scrape config and alerting rules pass promtool', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'prom-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // promtool checks that the token file exists: the example's path is replaced by one that does.
  const config = (await readFile('docs/prometheus/prometheus.yml', 'utf8')).replace('/etc/prometheus/bank-host.token', path.join(dir, 'bank-host.token'));
  t.not(config, await readFile('docs/prometheus/prometheus.yml', 'utf8'));
  await writeFile(path.join(dir, 'bank-host.token'), 'bho_example\n', { mode: 0o600 });
  await writeFile(path.join(dir, 'prometheus.yml'), config);
  await copyFile('docs/prometheus/bank-host-alerts.yml', path.join(dir, 'bank-host-alerts.yml'));
  const rules = promtool(['check', 'rules', path.join(dir, 'bank-host-alerts.yml')]);
  t.is(rules.status, 0, rules.output);
  t.regex(rules.output, /SUCCESS: 10 rules found/);
  const checked = promtool(['check', 'config', path.join(dir, 'prometheus.yml')]);
  t.is(checked.status, 0, checked.output);
  // Every metric a rule names is one the host exports.
  const exported = new Set(
    [...(await readFile('bank-host/console/metrics.ts', 'utf8')).matchAll(/'(bankhost_[a-z_]+)'/g)].map((m) => m[1]!),
  );
  for (const name of new Set([...(await readFile('docs/prometheus/bank-host-alerts.yml', 'utf8')).matchAll(/\b(bankhost_[a-z_]+?)(?:_bucket)?\b/g)].map((m) => m[1]!))) {
    t.true(exported.has(name), `${name} is exported`);
  }
});
