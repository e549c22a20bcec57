// The session state machine on its own: transitions, inactivity timers on an injected clock, and the
// end of a session dropping every customer datum.
import test from 'ava';
import { CustomerSession, type SessionClock } from '../../../kiosk/core/session.js';

class ManualClock implements SessionClock {
  nowMs = 0;
  private readonly timers = new Map<number, { dueMs: number; callback: () => void }>();
  private nextId = 1;
  setTimeout(callback: () => void, delayMs: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { dueMs: this.nowMs + delayMs, callback });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  advance(ms: number): void {
    this.nowMs += ms;
    for (const [id, timer] of [...this.timers].sort((a, b) => a[1].dueMs - b[1].dueMs)) {
      if (timer.dueMs > this.nowMs || !this.timers.has(id)) continue;
      this.timers.delete(id);
      timer.callback();
    }
  }
}

function newSession(clock: ManualClock) {
  const calls = { idleEnd: 0, goodbyeDone: 0, changes: 0 };
  const session = new CustomerSession(['en', 'fr'], { idleMs: 30_000, idleWarningMs: 10_000, goodbyeMs: 3_000 }, clock, {
    onIdleEnd: () => calls.idleEnd++,
    onGoodbyeDone: () => calls.goodbyeDone++,
    onChange: () => calls.changes++,
  });
  return { session, calls };
}

test('only the transitions in the table are allowed; goodbye is reachable from anywhere', (t) => {
  const clock = new ManualClock();
  const { session } = newSession(clock);
  session.go('welcome');
  t.throws(() => session.go('menu'), { message: /no transition from welcome to menu/ });
  session.go('identify');
  session.go('working');
  session.go('menu');
  t.throws(() => session.go('receipt'), { message: /no transition from menu to receipt/ });
  session.go('goodbye');
  session.go('welcome');
  t.is(session.screen, 'welcome');
});

test('no inactivity timer runs on welcome, working or goodbye', (t) => {
  const clock = new ManualClock();
  const { session } = newSession(clock);
  session.go('welcome');
  t.is(clock.pending, 0);
  session.go('identify');
  t.is(clock.pending, 2);
  session.go('working');
  t.is(clock.pending, 0);
});

test('inactivity warns, touch restarts the timer, then the session is ended', (t) => {
  const clock = new ManualClock();
  const { session, calls } = newSession(clock);
  session.go('welcome');
  session.go('identify');
  clock.advance(20_000);
  t.true(session.idleWarning);
  session.touch();
  t.false(session.idleWarning);
  clock.advance(29_999);
  t.is(calls.idleEnd, 0);
  clock.advance(1);
  t.is(calls.idleEnd, 1);
});

test('extended time: the warning and the end come at the extended timeouts while asked for, and at the kiosk\'s again after', (t) => {
  const clock = new ManualClock();
  const { session, calls } = newSession(clock);
  session.go('welcome');
  session.go('identify');
  clock.advance(5_000);
  // Asked for mid-screen: the running timers start again with the longer timeouts.
  session.extendTime({ idleMs: 90_000, idleWarningMs: 30_000 });
  t.deepEqual(session.idleTimeouts, { idleMs: 90_000, idleWarningMs: 30_000 });
  clock.advance(59_999);
  t.false(session.idleWarning, 'not warned at the kiosk\'s 20 s, nor before 60 s');
  clock.advance(1);
  t.true(session.idleWarning);
  t.is(session.idleWarningSeconds, 30);
  clock.advance(29_999);
  t.is(calls.idleEnd, 0);
  clock.advance(1);
  t.is(calls.idleEnd, 1);
  // Back to the kiosk's own: the next screen's timers are 20 s and 30 s again, and so are running ones.
  session.go('goodbye');
  session.go('welcome');
  session.go('identify');
  session.extendTime(undefined);
  t.deepEqual(session.idleTimeouts, { idleMs: 30_000, idleWarningMs: 10_000 });
  clock.advance(20_000);
  t.true(session.idleWarning);
  t.is(session.idleWarningSeconds, 10);
  // On a screen without a timer nothing starts.
  session.go('working');
  session.extendTime({ idleMs: 90_000, idleWarningMs: 30_000 });
  t.is(clock.pending, 0);
});

test('ending a session drops the customer, the view and the PIN count, and goodbye times out', (t) => {
  const clock = new ManualClock();
  const { session, calls } = newSession(clock);
  session.go('welcome');
  session.go('pin');
  session.pinDigits = 3;
  session.go('working');
  session.customer = { username: 'alice', accounts: [] };
  session.go('menu');
  session.view = { kind: 'withdrawal', amountCents: 2_000, dispensedCents: 2_000, short: false };
  session.end({ code: 'CANCELLED' });
  t.is(session.screen, 'goodbye');
  t.deepEqual(session.notice, { code: 'CANCELLED' });
  // Read through a plain view so the assignments above do not narrow what the checks may see.
  const after: { customer?: unknown; view?: unknown; pinDigits: number } = session;
  t.is(after.customer, undefined);
  t.is(after.view, undefined);
  t.is(after.pinDigits, 0);
  clock.advance(3_000);
  t.is(calls.goodbyeDone, 1);
});
