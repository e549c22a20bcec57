// The client library's timeouts and backoff, and the host's graceful shutdown, over real TLS on loopback.
import test from 'ava';
import net from 'node:net';
import path from 'node:path';
import { reconnectDelayMs } from '../../protocol/client.js';
import { ProtocolError } from '../../protocol/errors.js';
import { DEFAULT_CLIENT_LIMITS } from '../../protocol/limits.js';
import type { OperationTable } from '../../bank-host/operations/context.js';
import { hostOperations } from '../../bank-host/operations/table.js';
import { Database } from '../../bank-host/store/database.js';
import { eventually, startTestHost } from '../helpers/host.js';

/** A host whose `withdraw.reverse` (sessionless) waits until the test opens the gate: a request that
 *  stays in flight for as long as the test wants. */
function gatedOperations(): { operations: OperationTable; entered: () => number; open: () => void } {
  let entered = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const operations: OperationTable = {
    ...hostOperations,
    'withdraw.reverse': async (ctx, body) => {
      entered++;
      await gate;
      const result = { authorizationId: body.authorizationId, releasedCents: 0 };
      await ctx.finish({ result }, { ops: [] });
      return result;
    },
  };
  return { operations, entered: () => entered, open };
}

async function codeOf(promise: Promise<unknown>): Promise<ProtocolError> {
  const outcome = await promise.then(
    () => new Error('the request succeeded'),
    (error: unknown) => error,
  );
  if (!(outcome instanceof ProtocolError)) throw outcome;
  return outcome;
}

test('reconnect delays back off exponentially with full jitter, between the minimum and the cap', (t) => {
  const limits = DEFAULT_CLIENT_LIMITS;
  const highest = Array.from({ length: 10 }, (_, attempt) => reconnectDelayMs(attempt, limits, () => 0.999_999));
  t.deepEqual(highest, [249, 499, 999, 1_999, 3_999, 7_999, 14_999, 14_999, 14_999, 14_999].map((ms) => Math.max(ms, limits.reconnectDelayMinMs)));
  for (let attempt = 0; attempt < 40; attempt++) t.is(reconnectDelayMs(attempt, limits, () => 0), limits.reconnectDelayMinMs);
  for (let i = 0; i < 1_000; i++) {
    const delayMs = reconnectDelayMs(i % 30, limits);
    t.true(delayMs >= limits.reconnectDelayMinMs && delayMs <= limits.reconnectDelayMaxMs);
  }
});

test('a request without an answer in time fails as TIMEOUT (retryable); the late answer is dropped', async (t) => {
  const gated = gatedOperations();
  const h = await startTestHost({ operations: gated.operations });
  try {
    const client = await h.connectedClient('kiosk-timeout');
    const started = Date.now();
    const error = await codeOf(client.request('withdraw.reverse', { authorizationId: 'auth_slow' }, { timeoutMs: 300 }));
    t.is(error.code, 'TIMEOUT');
    t.true(error.retryable);
    t.true(Date.now() - started >= 290);
    gated.open();
    // The host answers later; the client ignores the answer it stopped waiting for and keeps working.
    t.true(await eventually(() => h.host.channel.stats.requests >= 1 && gated.entered() === 1));
    await new Promise((resolve) => setTimeout(resolve, 100));
    t.truthy(await client.request('ping', {}));
    t.true(client.connected);
  } finally {
    await h.close();
  }
});

test('shutdown answers the request in flight, refuses new ones as SHUTTING_DOWN, then closes the database', async (t) => {
  const gated = gatedOperations();
  const h = await startTestHost({ operations: gated.operations });
  try {
    const client = await h.connectedClient('kiosk-shutdown');
    const inFlight = client.request('withdraw.reverse', { authorizationId: 'auth_inflight' });
    t.true(await eventually(() => gated.entered() === 1));
    const closed = h.host.close(5_000);
    const refused = await codeOf(client.request('ping', {}));
    t.is(refused.code, 'SHUTTING_DOWN');
    t.true(refused.retryable, 'the kiosk retries the same request once the host is back');
    const newConnection = await new Promise<string>((resolve) => {
      const socket = net.connect(h.port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve('connected')));
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    t.is(newConnection, 'ECONNREFUSED', 'the host stopped accepting connections');
    gated.open();
    t.deepEqual(await inFlight, { authorizationId: 'auth_inflight', releasedCents: 0 });
    await closed;
    // The database was closed: another process (here, another handle) may open it.
    const db = await Database.open(path.join(h.dataDir, 'db'));
    await db.close();
  } finally {
    await h.close();
  }
});

test('a stopping host refuses new requests from the first moment, while its background work is still finishing', async (t) => {
  const h = await startTestHost();
  try {
    const client = await h.connectedClient('kiosk-stopping');
    t.truthy(await client.request('ping', {}));
    // The fleet's evaluation in flight (on PostgreSQL it may wait for another host's lock) holds the stop.
    const fleet = h.host.state.services.fleet!;
    const stopMonitoring = fleet.stopMonitoring.bind(fleet);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let stopping = false;
    fleet.stopMonitoring = async () => {
      stopping = true;
      await released;
      await stopMonitoring();
    };
    const closed = h.host.close(5_000);
    try {
      t.true(await eventually(() => stopping));
      const answer = await client.request('ping', {}).then(
        () => 'answered',
        (error: unknown) => (error instanceof ProtocolError ? error.code : String(error)),
      );
      t.is(answer, 'SHUTTING_DOWN', 'no new work is started by a host that is stopping');
    } finally {
      release();
    }
    await closed;
  } finally {
    await h.close();
  }
});
