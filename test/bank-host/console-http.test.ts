// The console's listener as any HTTP client sees it: the security headers on every answer, sign-in only
// from its own page and within its bounds, nothing but GET and the two session POSTs, a remote address only
// over TLS, a console that cannot listen leaving the kiosks served; and its browser code type-checks
// against the DOM alone.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { readAuditPage } from '../../bank-host/audit/show.js';
import { CONSOLE_BODY_BYTES_MAX, CONSOLE_CSP, OperatorConsole } from '../../bank-host/console/console-server.js';
import { eventually, startTestHost } from '../helpers/host.js';
import { startConsoleHost } from './console-rig.js';

test('the console UI type-checks against the DOM alone, without Node types', (t) => {
  const r = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'bank-host/console/ui/tsconfig.json', '--noEmit'], { encoding: 'utf8' });
  t.is(r.status, 0, `tsc reported errors in the console UI:\n${r.stdout}${r.stderr}`);
});

test('every answer carries a strict CSP and the other security headers, and nothing is cached but hashed assets', async (t) => {
  const c = await startConsoleHost();
  t.teardown(() => c.close());
  const token = await c.addOperator('hdr');
  const bearer = { authorization: `Bearer ${token}` };
  const login = await fetch(`${c.url}/login`);
  const css = /href="(\/assets\/[^"]+\.css)"/.exec(await login.text())![1]!;
  for (const [path, headers] of [['/login', {}], ['/', bearer], ['/api/fleet', bearer], ['/metrics', bearer], ['/api/fleet', {}], [css, {}], ['/nowhere', bearer]] as const) {
    const response = await fetch(c.url + path, { headers, redirect: 'manual' });
    t.is(response.headers.get('content-security-policy'), CONSOLE_CSP, path);
    t.regex(CONSOLE_CSP, /default-src 'self'.*frame-ancestors 'none'/);
    t.false(/unsafe-inline|unsafe-eval/.test(CONSOLE_CSP));
    t.is(response.headers.get('x-content-type-options'), 'nosniff', path);
    t.is(response.headers.get('x-frame-options'), 'DENY', path);
    t.is(response.headers.get('referrer-policy'), 'same-origin', path);
    t.is(response.headers.get('cross-origin-opener-policy'), 'same-origin', path);
    t.is(response.headers.get('cache-control'), path === css ? 'private, max-age=31536000, immutable' : 'no-store', path);
  }
  t.is((await fetch(`${c.url}/nowhere`, { headers: bearer })).status, 404);
  t.is((await fetch(`${c.url}/api/kiosks/NOT_AN_ID`, { headers: bearer })).status, 404);
});

test('sign-in takes only its own form, from its own page, within its bounds; nothing else changes anything', async (t) => {
  const c = await startConsoleHost();
  t.teardown(() => c.close());
  const token = await c.addOperator('csrf');
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const post = (headers: Record<string, string>, body: string) => fetch(`${c.url}/login`, { method: 'POST', headers, body, redirect: 'manual' });
  const signedIn = await post({ ...form, origin: c.url }, `token=${token}`);
  t.is(signedIn.status, 303);
  const cookie = signedIn.headers.get('set-cookie')!;
  t.regex(cookie, /^bh_console=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/);
  t.is((await post({ ...form, origin: 'https://evil.example' }, `token=${token}`)).status, 403, 'another site’s form');
  t.is((await post({ ...form, 'sec-fetch-site': 'cross-site' }, `token=${token}`)).status, 403);
  t.is((await post({ 'content-type': 'application/json' }, JSON.stringify({ token }))).status, 415);
  t.is((await post(form, `token=${'x'.repeat(CONSOLE_BODY_BYTES_MAX)}`)).status, 413);
  const session = { cookie: cookie.split(';')[0]! };
  t.is((await fetch(`${c.url}/api/fleet`, { headers: session })).status, 200);
  for (const method of ['PUT', 'DELETE', 'PATCH']) t.is((await fetch(`${c.url}/api/fleet`, { method, headers: session })).status, 405, method);
  t.is((await fetch(`${c.url}/api/fleet`, { method: 'POST', headers: { ...session, origin: c.url } })).status, 405, 'the API is read-only');
  t.is((await fetch(`${c.url}/logout`, { method: 'POST', headers: { ...session, origin: 'https://evil.example' }, redirect: 'manual' })).status, 403);
  t.is((await fetch(`${c.url}/api/fleet`, { headers: session })).status, 200, 'a cross-site sign-out did nothing');

  // Past ten failures a minute from one address, sign-in is refused without looking at the token.
  for (let i = 0; i < 10; i++) t.is((await post(form, 'token=bho_wrong')).status, 401);
  t.is((await post(form, `token=${token}`)).status, 429);
  // Each sign-in is recorded, the refused ones too (the throttled one is not: the throttle bounds them).
  const { services } = c.h.host.state;
  const read = async () => (await readAuditPage(services.db, services.keys.auditEnc, { action: 'console.login', order: 'asc', limit: 100, scanLimit: 1_000_000 })).entries;
  // Security events are written as they happen, not before the answer: wait for the last to land.
  await eventually(async () => (await read()).length >= 11);
  const entries = await read();
  t.deepEqual(entries.map((e) => e.outcome), ['ok', ...Array<string>(10).fill('refused')]);
  t.is(entries[0]!.detail?.operator, 'csrf');
  t.false(JSON.stringify(entries).includes(token.slice(4)), 'never the token');
});

test('a console on a remote address needs TLS, and a console that cannot listen leaves the kiosks served', async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.teardown(() => blocker.close());
  const taken = (blocker.address() as net.AddressInfo).port;
  const h = await startTestHost({ console: { host: '127.0.0.1', port: taken } });
  t.teardown(() => h.close());
  t.is(h.host.console, undefined, 'the port was taken');
  const client = await h.connectedClient('kiosk-noconsole');
  t.truthy(await client.request('ping', {}), 'kiosks are served all the same');
  client.close();
  await t.throwsAsync(
    OperatorConsole.start(
      {
        fleet: h.host.state.services.fleet!,
        operators: h.host.state.services.operators!,
        metrics: h.host.metrics,
        sessionLimits: { maxMs: 60_000, idleMs: 60_000 },
        record: () => {},
        log: h.host.state.services.log,
        now: Date.now,
      },
      { host: '0.0.0.0', port: 0, uiDir: '/nonexistent' },
    ),
    { message: /only over TLS/ },
  );
});
