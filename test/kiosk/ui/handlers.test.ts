// The main-process handlers behind `window.atm`: every argument is validated before the controller sees
// it, refusals come back as results (never thrown across the bridge), and only the renderer's own top
// frame is a trusted sender.
import { EventEmitter } from 'node:events';
import test from 'ava';
import { KioskCommandError } from '../../../kiosk/core/kiosk.js';
import type { KioskSnapshot } from '../../../kiosk/core/ui-contract.js';
import { createUiHandlers, isTrustedSender, type UiController } from '../../../kiosk/bridge/handlers.js';
import { ATM_COMMAND_NAMES } from '../../../kiosk/preload/api.js';

function fakeController() {
  const calls: unknown[][] = [];
  const emitter = new EventEmitter();
  const record =
    (name: string) =>
    (...args: unknown[]) => {
      calls.push([name, ...args]);
      if (name === 'selectMenu' && args[0] === 'transfer') throw new KioskCommandError('WRONG_STATE', 'not possible on the welcome screen');
      return Promise.resolve();
    };
  const controller = {
    snapshot: () => ({ screen: 'welcome' }) as KioskSnapshot,
    on: (event: string, listener: (...a: unknown[]) => void) => emitter.on(event, listener),
    off: (event: string, listener: (...a: unknown[]) => void) => emitter.off(event, listener),
    ...Object.fromEntries(ATM_COMMAND_NAMES.map((name) => [name, record(name)])),
    supervisorMode: { printCounters: record('supervisorPrintCounters'), beginCount: record('supervisorBeginCount'), submitCount: record('supervisorCount'), back: record('supervisorBack'), close: record('supervisorClose') },
  } as unknown as UiController;
  return { controller, calls, emitter };
}

test('each command reaches the controller with its validated argument', async (t) => {
  const { controller, calls } = fakeController();
  const handlers = createUiHandlers(controller);
  const good: [string, unknown][] = [
    ['chooseLanguage', 'fr'],
    ['beginCardSignIn', undefined],
    ['beginPasswordSignIn', { username: 'alice', password: 'secret words' }],
    ['register', { username: 'bob', password: 'another secret' }],
    ['pinPadPress', 7],
    ['pinPadPress', 'enter'],
    ['selectMenu', 'balance'],
    ['withdraw', { amountCents: 6_000 }],
    ['beginDeposit', { accountId: 'acc_1' }],
    ['beginDeposit', {}],
    ['depositDone', undefined],
    ['depositCancel', undefined],
    ['transfer', { fromAccountId: 'a1', toAccountId: 'a2', amountCents: 100 }],
    ['history', { kinds: ['deposit'], sinceMs: 1_700_000_000_000, cursor: 'c1' }],
    ['activity', { sinceMs: 1_700_000_000_000, cursor: '42' }],
    ['activity', {}],
    ['chooseReceipt', true],
    ['printBalance', undefined],
    ['anotherTransaction', false],
    ['cancel', undefined],
    ['touch', undefined],
    ['supervisorPrintCounters', undefined],
    ['supervisorBeginCount', 'unload-cashbox'],
    ['supervisorCount', { step: 'unload-cassettes', notes: [{ denominationCents: 2_000, count: 0 }, { denominationCents: 5_000, count: 100_000 }] }],
    ['supervisorBack', undefined],
    ['supervisorClose', undefined],
  ];
  for (const [command, argument] of good) t.deepEqual(await handlers.invoke(command, argument), { ok: true }, command);
  t.deepEqual(calls, [
    ['chooseLanguage', 'fr'],
    ['beginCardSignIn'],
    ['beginPasswordSignIn', 'alice', 'secret words'],
    ['register', 'bob', 'another secret'],
    ['pinPadPress', 7],
    ['pinPadPress', 'enter'],
    ['selectMenu', 'balance'],
    ['withdraw', 6_000, undefined, false],
    ['beginDeposit', 'acc_1'],
    ['beginDeposit', undefined],
    ['depositDone'],
    ['depositCancel'],
    ['transfer', { fromAccountId: 'a1', toAccountId: 'a2', amountCents: 100 }],
    ['history', { kinds: ['deposit'], sinceMs: 1_700_000_000_000, cursor: 'c1' }],
    ['activity', { sinceMs: 1_700_000_000_000, cursor: '42' }],
    ['activity', {}],
    ['chooseReceipt', true],
    ['printBalance'],
    ['anotherTransaction', false],
    ['cancel'],
    ['touch'],
    ['supervisorPrintCounters'],
    ['supervisorBeginCount', 'unload-cashbox'],
    ['supervisorCount', { step: 'unload-cassettes', notes: [{ denominationCents: 2_000, count: 0 }, { denominationCents: 5_000, count: 100_000 }] }],
    ['supervisorBack'],
    ['supervisorClose'],
  ]);
});

test('bad arguments and unknown commands are refused before the controller sees them', async (t) => {
  const { controller, calls } = fakeController();
  const handlers = createUiHandlers(controller);
  const bad: [unknown, unknown][] = [
    ['chooseLanguage', 'de'],
    ['beginCardSignIn', { extra: 1 }],
    ['beginPasswordSignIn', { username: 'alice' }],
    ['beginPasswordSignIn', { username: 'alice', password: 'x'.repeat(129) }],
    ['register', { username: '', password: 'p' }],
    ['pinPadPress', 10],
    ['pinPadPress', '5'],
    ['selectMenu', 'admin'],
    ['withdraw', { amountCents: -100 }],
    ['withdraw', { amountCents: 10.5 }],
    ['withdraw', { amountCents: 1e12 }],
    ['withdraw', 6000],
    ['beginDeposit', { accountId: '../x' }],
    ['beginDeposit', { amountCents: 100 }],
    ['deposit', { amountCents: 100 }],
    ['depositDone', { amountCents: 100 }],
    ['transfer', { fromAccountId: 'a1', amountCents: 100 }],
    ['history', { kinds: ['steal'] }],
    ['history', { cursor: 'c'.repeat(129) }],
    ['activity', undefined],
    ['activity', { cursor: 'not-a-sequence' }],
    ['activity', { cursor: '1'.repeat(17) }],
    ['activity', { sinceMs: -1 }],
    ['activity', { actions: ['signin.card'] }],
    ['chooseReceipt', 'yes'],
    ['anotherTransaction', 'yes'],
    ['printBalance', { accountId: 'a1' }],
    ['anotherTransaction', undefined],
    // A technician's counts: never negative, fractional, beyond a container's bound, or for another step.
    ['supervisorBeginCount', 'unload-vault'],
    ['supervisorCount', { step: 'unload-cassettes', notes: [{ denominationCents: 2_000, count: -1 }] }],
    ['supervisorCount', { step: 'unload-cassettes', notes: [{ denominationCents: 2_000, count: 1.5 }] }],
    ['supervisorCount', { step: 'unload-cassettes', notes: [{ denominationCents: 2_000, count: 100_001 }] }],
    ['supervisorCount', { step: 'unload-cassettes', notes: [{ denominationCents: 0, count: 1 }] }],
    ['supervisorCount', { step: 'unload-cassettes', notes: [{ denominationCents: 2_000, count: 1, extra: true }] }],
    ['supervisorCount', { step: 'withdraw', notes: [] }],
    ['supervisorCount', { notes: [] }],
    ['supervisorClose', { force: true }],
    ['__proto__', undefined],
    ['constructor', undefined],
    [42, undefined],
  ];
  for (const [command, argument] of bad) {
    const result = await handlers.invoke(command, argument);
    t.false(result.ok, `${String(command)} ${JSON.stringify(argument)}`);
  }
  t.deepEqual(calls, []);
  const refused = await handlers.invoke('beginPasswordSignIn', { username: 'alice', password: 7 });
  t.like(refused, { ok: false, code: 'BAD_ARGUMENT' });
  t.false(JSON.stringify(refused).includes('7'), 'a refusal names fields, never values');
});

test('a command the controller refuses comes back as a result, not an exception', async (t) => {
  const { controller } = fakeController();
  const handlers = createUiHandlers(controller);
  t.deepEqual(await handlers.invoke('selectMenu', 'transfer'), { ok: false, code: 'WRONG_STATE', message: 'not possible on the welcome screen' });
});

test('state pushes reach subscribers until they unsubscribe', (t) => {
  const { controller, emitter } = fakeController();
  const handlers = createUiHandlers(controller);
  const seen: unknown[] = [];
  const unsubscribe = handlers.onState((s) => seen.push(s.screen));
  emitter.emit('state', { screen: 'menu' });
  unsubscribe();
  emitter.emit('state', { screen: 'balance' });
  t.deepEqual(seen, ['menu']);
  t.is(handlers.getState().screen, 'welcome');
});

test('only the renderer top frame from the trusted origin is a trusted sender', (t) => {
  t.true(isTrustedSender({ url: 'http://127.0.0.1:4000/index.html', isMainFrame: true }, 'http://127.0.0.1:4000/'));
  t.false(isTrustedSender({ url: 'http://127.0.0.1:4001/index.html', isMainFrame: true }, 'http://127.0.0.1:4000/'));
  t.false(isTrustedSender({ url: 'http://127.0.0.1:4000/index.html', isMainFrame: false }, 'http://127.0.0.1:4000/'));
  t.false(isTrustedSender({ url: 'https://evil.example/', isMainFrame: true }, 'http://127.0.0.1:4000/'));
  t.true(isTrustedSender({ url: 'file:///opt/atm/renderer/index.html', isMainFrame: true }, 'file:///opt/atm/renderer/index.html'));
  t.false(isTrustedSender({ url: 'file:///tmp/other.html', isMainFrame: true }, 'file:///opt/atm/renderer/index.html'));
  t.false(isTrustedSender({ url: 'not a url', isMainFrame: true }, 'http://127.0.0.1:4000/'));
});
