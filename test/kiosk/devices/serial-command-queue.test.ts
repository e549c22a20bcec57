// The one command queue of the serial drivers (dispenser, printer and note acceptor): one command on the line at a time,
// in the order given, bounded, and never started on a closed driver.
import test from 'ava';
import { createDeferred } from '../../../kiosk/devices/serial/deferred.js';
import { isDeviceError } from '../../../kiosk/devices/serial/device-error.js';
import { SerialCommandQueue } from '../../../kiosk/devices/serial/command-queue.js';

function queueFor(state: { open: boolean }, maxQueued = 4) {
  return new SerialCommandQueue({ device: 'dispenser', commandNoun: 'commands', maxQueued, isOpen: () => state.open });
}

test('commands run one at a time, in the order they were given', async (t) => {
  const queue = queueFor({ open: true });
  const events: string[] = [];
  let running = 0;
  const command = (name: string, gate: Promise<void>) => async () => {
    running += 1;
    t.is(running, 1, `${name} runs alone`);
    events.push(`start ${name}`);
    await gate;
    events.push(`end ${name}`);
    running -= 1;
    return name;
  };
  const gates = [createDeferred<void>(), createDeferred<void>(), createDeferred<void>()];
  const results = [queue.run(command('a', gates[0]!.promise)), queue.run(command('b', gates[1]!.promise)), queue.run(command('c', gates[2]!.promise))];
  t.is(queue.queued, 3);
  // Released out of order: the queue still runs them in the order given.
  gates[2]!.resolve();
  gates[1]!.resolve();
  await new Promise((resolve) => setTimeout(resolve, 10));
  t.deepEqual(events, ['start a'], 'b and c wait for a');
  gates[0]!.resolve();
  t.deepEqual(await Promise.all(results), ['a', 'b', 'c']);
  t.deepEqual(events, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  t.is(queue.queued, 0);
});

test('a failed command fails its caller only; the next command runs', async (t) => {
  const queue = queueFor({ open: true });
  const failed = queue.run(async () => {
    throw new Error('no answer');
  });
  const next = queue.run(async () => 'status');
  await t.throwsAsync(failed, { message: 'no answer' });
  t.is(await next, 'status');
  t.is(queue.queued, 0);
});

test('more than maxQueued commands waiting or running is refused with BUSY, and room frees as they finish', async (t) => {
  const queue = queueFor({ open: true }, 2);
  const gate = createDeferred<void>();
  const first = queue.run(() => gate.promise);
  const second = queue.run(async () => 'second');
  const refused = await queue.run(async () => 'third').catch((error: unknown) => error);
  t.true(isDeviceError(refused, 'BUSY'), String(refused));
  t.is((refused as Error).message, '2 dispenser commands already queued');
  gate.resolve();
  await first;
  t.is(await second, 'second');
  t.is(await queue.run(async () => 'after'), 'after');
});

test('a closed driver refuses a command with NOT_OPEN without running it', async (t) => {
  const queue = queueFor({ open: false });
  let ran = false;
  const error = await queue
    .run(async () => {
      ran = true;
    })
    .catch((e: unknown) => e);
  t.true(isDeviceError(error, 'NOT_OPEN'), String(error));
  t.is((error as Error).message, 'the dispenser driver is not open');
  t.false(ran);
  t.is(queue.queued, 0);
});

test('commands still waiting when the driver closes fail with NOT_OPEN and are not run; the running one finishes', async (t) => {
  const state = { open: true };
  const queue = queueFor(state);
  const gate = createDeferred<void>();
  const started = createDeferred<void>();
  const ran: string[] = [];
  const running = queue.run(async () => {
    started.resolve();
    await gate.promise;
    ran.push('running');
    return 'finished';
  });
  const waiting = queue.run(async () => {
    ran.push('waiting');
  });
  await started.promise;
  state.open = false;
  gate.resolve();
  t.is(await running, 'finished', 'a command on the line is never cut off half-way');
  const error = await waiting.catch((e: unknown) => e);
  t.true(isDeviceError(error, 'NOT_OPEN'), String(error));
  t.deepEqual(ran, ['running']);
  t.is(queue.queued, 0);
});

test('a command that is slow is waited for: the queue has no timeout of its own', async (t) => {
  // Each command bounds its own waits; a queue timeout would put the next command on the line while the
  // device may still be executing this one.
  const queue = queueFor({ open: true });
  const order: string[] = [];
  const slow = queue.run(async () => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    order.push('slow');
  });
  const next = queue.run(async () => {
    order.push('next');
  });
  await Promise.all([slow, next]);
  t.deepEqual(order, ['slow', 'next']);
});
