// Two host limits that the flood scenario found leaking, tested on their own with short limits:
//  - a frame sent one byte at a time must still finish within the frame completion timeout (every byte
//    used to restart the clock, so a frame could be kept open for hours);
//  - a host full of connections that never finish their handshake lets a newcomer in by closing the one
//    that has stalled longest (past HANDSHAKE_EVICTABLE_AFTER_MS); young connections are not evicted.
import net from 'node:net';
import test from 'ava';
import { HANDSHAKE_EVICTABLE_AFTER_MS } from '../../bank-host/server/channel-server.js';
import { eventually, rawConnect, startTestHost } from '../helpers/host.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a frame dribbled one byte at a time is cut at the frame completion timeout', async (t) => {
  const host = await startTestHost({ limits: { frameCompletionTimeoutMs: 600 } });
  t.teardown(() => host.close());
  const kShared = await host.addDevice('kiosk-dribble');
  const socket = await rawConnect(host.port, 'kiosk-dribble', kShared);
  let closedAfterMs: number | undefined;
  const started = Date.now();
  socket.on('close', () => (closedAfterMs = Date.now() - started));
  socket.on('error', () => {});
  // A frame of 1,000 bytes, then one byte every 100 ms: it would take 100 s to finish.
  socket.write(Buffer.from([0, 0, 0x03, 0xe8]));
  const dribble = setInterval(() => socket.writable && socket.write('x'), 100);
  t.teardown(() => clearInterval(dribble));
  t.true(await eventually(() => closedAfterMs !== undefined, 5_000), 'the host never closed the connection');
  t.true(closedAfterMs! >= 500 && closedAfterMs! < 2_000, `closed after ${closedAfterMs} ms`);
});

test('frames that complete keep a connection open however long it lives', async (t) => {
  const host = await startTestHost({ limits: { frameCompletionTimeoutMs: 600 } });
  t.teardown(() => host.close());
  const client = await host.connectedClient('kiosk-steady');
  for (let i = 0; i < 8; i++) {
    t.truthy(await client.request('ping', {}));
    await sleep(150);
  }
  t.true(client.connected);
});

test('a full host closes the longest-stalled handshake for a newcomer, but refuses while all are young', async (t) => {
  const host = await startTestHost({ limits: { maxConnections: 20, handshakeTimeoutMs: 30_000 } });
  const idle: net.Socket[] = [];
  t.teardown(async () => {
    for (const socket of idle) socket.destroy();
    await host.close();
  });
  const kShared = await host.addDevice('kiosk-newcomer');
  for (let i = 0; i < 20; i++) {
    const socket = net.connect(host.port, '127.0.0.1');
    socket.on('error', () => {});
    idle.push(socket);
  }
  await sleep(200);
  const stats = host.host.channel.stats;
  const refusedBefore = stats.connectionsRefused;
  // All twenty are young: a newcomer now is refused, nobody is evicted.
  const early = net.connect(host.port, '127.0.0.1');
  early.on('error', () => {});
  t.true(await eventually(() => stats.connectionsRefused === refusedBefore + 1, 2_000));
  t.is(stats.connectionsEvicted, 0);
  early.destroy();

  await sleep(HANDSHAKE_EVICTABLE_AFTER_MS + 100);
  const client = host.client('kiosk-newcomer', kShared);
  client.start();
  await client.waitConnected(3_000);
  t.truthy(await client.request('ping', {}));
  t.is(stats.connectionsEvicted, 1);
  // The evicted one is the first opened: the longest stalled.
  t.true(await eventually(() => idle[0]!.closed, 2_000), 'the oldest idle connection was not closed');
  t.is(idle.filter((socket) => socket.closed).length, 1);
  client.close();
});
