// The operator console in Debian's Chromium: an operator signs in with a token made by
// `bank-host operator add`, watches a kiosk (a real channel client sending `kiosk.status`) go out of
// service and come back, sees low cash after card withdrawals at it, reads its detail (recent
// transactions by the card's last four digits, never the PAN); and the console refuses everyone without
// a token, with a wrong one, and with a revoked one, whose open session ends. axe-core finds nothing on
// each page, and the page reports no CSP violation or script error.
import test from 'ava';
import { planNotes } from '../../protocol/note-plan.js';
import { encodePinBlockFormat4 } from '../../protocol/pin-block.js';
import type { KioskStatus } from '../../protocol/messages.js';
import { testKioskStatus } from '../helpers/kiosk-cash.js';
import { cli, closeChromium, openConsolePage, startConsoleHost } from './console-rig.js';

/** Generous bounds on what the page shows after a change: it polls every 2 s. */
const SHOWN_WITHIN_MS = 15_000;

test.after.always(() => closeChromium());

test('an operator signs in with a token, sees a kiosk go out of service and come back, then low cash after withdrawals', async (t) => {
  const c = await startConsoleHost({ config: { lowCashNotesPerCassette: 50 } });
  t.teardown(() => c.close());
  const token = await c.addOperator('alice');
  const kShared = await c.h.addDevice('kiosk-ui1');
  const kiosk = c.h.client('kiosk-ui1', kShared);
  kiosk.start();
  await kiosk.waitConnected(5_000);
  let status: KioskStatus = testKioskStatus({ cassettes: [{ denominationCents: 2_000, count: 200 }, { denominationCents: 5_000, count: 52 }] });
  await c.report(kiosk, status);

  const ui = await openConsolePage(c.url, 'fleet');
  t.teardown(() => ui.close());
  t.regex(ui.page.url(), /\/login$/, 'without a session the console sends the browser to sign in');
  await ui.check(t, 'login');
  await ui.signIn(token);
  const tile = (state: string) => ui.page.locator(`.tile[data-kiosk="kiosk-ui1"][data-state="${state}"]`);
  await tile('in-service').waitFor({ timeout: SHOWN_WITHIN_MS });
  t.regex(await ui.page.locator('.top .who').innerText(), /Signed in as alice/);
  t.regex(await ui.page.locator('#alerts-h').innerText(), /Alerts \(0\)/);
  await ui.check(t, 'overview-in-service');

  // The kiosk goes out of service, and the page shows it, alert first.
  await c.report(kiosk, { ...status, inService: false, reasons: ['dispenser: note jam'], devices: [{ device: 'dispenser', state: 'fault', detail: 'note jam at the exit' }] });
  await tile('out-of-service').waitFor({ timeout: SHOWN_WITHIN_MS });
  const alerts = ui.page.locator('.alerts [data-kiosk="kiosk-ui1"]');
  await ui.page.locator('.alerts [data-alert="out-of-service"]').waitFor({ timeout: SHOWN_WITHIN_MS });
  t.regex(await alerts.first().innerText(), /critical\s+kiosk-ui1\s+Out of service/i);
  t.regex(await ui.page.locator('.alerts').innerText(), /Device fault \(dispenser\)/);
  await ui.check(t, 'overview-out-of-service');
  // ... and comes back.
  await c.report(kiosk, status);
  await tile('in-service').waitFor({ timeout: SHOWN_WITHIN_MS });
  await ui.page.locator('#alerts-h', { hasText: 'Alerts (0)' }).waitFor({ timeout: SHOWN_WITHIN_MS });

  // A customer withdraws with a card, three times $100; the kiosk reports its cassettes after each.
  const { accounts } = await kiosk.request('register', { username: 'ui-alice', password: 'a long enough password' });
  const accountId = accounts[0]!.accountId;
  const opened = await kiosk.request('deposit.open', { accountId });
  await kiosk.request('deposit.commit', { depositId: opened.depositId, notes: [{ denominationCents: 10_000, count: 5 }] });
  await kiosk.request('signout', {});
  const issued = await cli(['card', 'issue', 'ui-alice', '--admin-socket', c.h.adminSocket]);
  const [, pan, pin] = /issued card (\d+) .*\nPIN (\d+)/.exec(issued.out)!;
  await kiosk.request('signin.card', { pan: pan!, pinBlock: encodePinBlockFormat4(pin!, pan!, c.h.pinKey('kiosk-ui1')).toString('hex') });
  for (let i = 0; i < 3; i++) {
    const { authorizationId } = await kiosk.request('withdraw.authorize', { accountId, amountCents: 10_000 });
    const plan = planNotes(10_000, status.cassettes)!;
    await kiosk.request('withdraw.complete', { authorizationId, dispensedCents: 10_000 });
    status = { ...status, cassettes: status.cassettes.map((cassette, n) => ({ ...cassette, count: cassette.count - plan[n]! })) };
    await c.report(kiosk, status);
  }
  t.true(status.cassettes.some((cassette) => cassette.count < 50), `the test paid from the $50 cassette: ${JSON.stringify(status.cassettes)}`);
  await ui.page.locator('.alerts [data-alert="low-cash"]').waitFor({ timeout: SHOWN_WITHIN_MS });
  t.regex(await ui.page.locator('.tile[data-kiosk="kiosk-ui1"]').innerText(), /Cassette 2: 46 × \$50 \(low\)/);
  await ui.check(t, 'overview-low-cash');

  // The kiosk's own page: its devices, cash, recent transactions by the card's last four digits.
  await ui.page.locator('.tile[data-kiosk="kiosk-ui1"] h3 a').click();
  await ui.page.locator('.detail-grid[data-kiosk="kiosk-ui1"]').waitFor({ timeout: SHOWN_WITHIN_MS });
  const detail = await ui.page.locator('main').innerText();
  t.regex(detail, /Recent transactions/);
  t.is((detail.match(/withdrawal\s+\$100\.00\s+•••• \d{4}/g) ?? []).length, 3);
  t.true(detail.includes(`•••• ${pan!.slice(-4)}`));
  t.false(detail.includes(pan!), 'never the full PAN');
  t.false((await ui.page.content()).includes(pan!), 'not even in the markup');
  t.regex(detail, /No balancing report yet/);
  t.regex(detail, /3 withdrawals and 1 deposit in the last 24 hours/);
  await ui.check(t, 'kiosk-detail');
  t.deepEqual(ui.problems, [], 'no CSP violation or script error');
  kiosk.close();
});

test('the console refuses requests without a token, with a wrong one and with a revoked one, and a revoked token ends its session', async (t) => {
  const c = await startConsoleHost();
  t.teardown(() => c.close());
  const token = await c.addOperator('bob');

  // Without anything: the API and the metrics answer 401, the page sends the browser to sign in.
  for (const path of ['/api/fleet', '/api/session', '/api/kiosks/kiosk-x', '/api/activity', '/metrics', '/assets/nothing.js']) {
    const response = await fetch(c.url + path, { redirect: 'manual' });
    t.is(response.status, path.startsWith('/assets') ? 303 : 401, path);
  }
  const home = await fetch(c.url + '/', { redirect: 'manual' });
  t.is(home.status, 303);
  t.is(home.headers.get('location'), '/login');
  t.is((await fetch(c.url + '/api/fleet', { headers: { authorization: 'Bearer bho_' + 'A'.repeat(43) } })).status, 401, 'a wrong bearer token');
  t.is((await fetch(c.url + '/api/fleet', { headers: { authorization: `Bearer ${token}` } })).status, 200, 'the right one');

  const ui = await openConsolePage(c.url, 'refusals');
  t.teardown(() => ui.close());
  await ui.signIn('bho_' + 'B'.repeat(43));
  t.regex(await ui.page.locator('.notice').innerText(), /not valid, or it has been revoked/);
  await ui.check(t, 'login-refused');
  await ui.signIn(token);
  await ui.page.locator('h1', { hasText: 'Fleet' }).waitFor({ timeout: SHOWN_WITHIN_MS });

  // The operator's token is revoked: the open page's next refresh finds its session ended.
  await c.revokeOperator('bob');
  await ui.page.waitForURL(/\/login\?ended$/, { timeout: SHOWN_WITHIN_MS });
  t.regex(await ui.page.locator('.notice').innerText(), /Your session has ended/);
  await ui.check(t, 'login-ended');
  await ui.signIn(token);
  t.regex(await ui.page.locator('.notice').innerText(), /not valid, or it has been revoked/, 'the revoked token signs no one in');
  t.is((await fetch(c.url + '/metrics', { headers: { authorization: `Bearer ${token}` } })).status, 401, 'nor reads the metrics');
  const cookies = await ui.page.context().cookies();
  t.is((await fetch(c.url + '/api/fleet', { headers: { cookie: cookies.map((k) => `${k.name}=${k.value}`).join('; ') } })).status, 401, "nor does the old session's cookie");

  // A new token for the same name works; the old one stays dead.
  const renewed = await c.addOperator('bob');
  await ui.signIn(renewed);
  await ui.page.locator('h1', { hasText: 'Fleet' }).waitFor({ timeout: SHOWN_WITHIN_MS });
  // Signing out ends the session: its cookie no longer reads anything.
  const live = (await ui.page.context().cookies()).map((k) => `${k.name}=${k.value}`).join('; ');
  await ui.page.locator('.top button', { hasText: 'Sign out' }).click();
  await ui.page.waitForURL(/\/login$/, { timeout: SHOWN_WITHIN_MS });
  t.is((await fetch(c.url + '/api/fleet', { headers: { cookie: live } })).status, 401);
  t.deepEqual(ui.problems.filter((p) => !/status of 401/.test(p)), [], 'no CSP violation or script error');
});
