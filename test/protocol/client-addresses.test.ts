// A kiosk that knows several bank hosts: the channel client reaches the first that answers, stays with it,
// and moves to the next when it fails, on real hosts over TLS 1.3-PSK on loopback.
import net from 'node:net';
import test from 'ava';
import { ChannelClient, HOST_ADDRESSES_MAX } from '../../protocol/client.js';
import { eventually, startTestHost } from '../helpers/host.js';

const FAST = { reconnectDelayMinMs: 20, reconnectDelayMaxMs: 200, connectTimeoutMs: 2_000 };
const DEVICE = 'kiosk-two-hosts';

/** A port nothing listens on: connecting to it is refused at once. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('the client stays with the host it reached and moves to the next when that host stops', async (t) => {
  const a = await startTestHost();
  const b = await startTestHost();
  t.teardown(() => Promise.all([a.close(), b.close()]));
  const key = await a.addDevice(DEVICE);
  await b.addDevice(DEVICE, key);
  const client = new ChannelClient({ addresses: [{ host: '127.0.0.1', port: a.port }, { host: '127.0.0.1', port: b.port }], deviceId: DEVICE, kShared: key, limits: FAST });
  t.teardown(() => client.close());
  client.start();
  await client.waitConnected(20_000);
  t.is(client.endpoint.port, a.port, 'the first address is tried first');
  await client.request('ping', {});
  t.is(a.host.channel.connectionCount(DEVICE), 1);
  t.is(b.host.channel.connectionCount(DEVICE), 0);

  await a.stop();
  // The same request id retried across the move: answered by the second host.
  await client.requestWithRetry('ping', {}, { deadlineMs: Date.now() + 30_000 });
  t.is(client.endpoint.port, b.port);
  t.is(b.host.channel.connectionCount(DEVICE), 1, 'the request reached the second host');
});

test('a first address that refuses connections is passed over for the next one', async (t) => {
  const b = await startTestHost();
  t.teardown(() => b.close());
  const key = await b.addDevice(DEVICE);
  const dead = await closedPort();
  // A long backoff: reaching the second host must not wait for it.
  const client = new ChannelClient({
    addresses: [{ host: '127.0.0.1', port: dead }, { host: '127.0.0.1', port: b.port }],
    deviceId: DEVICE,
    kShared: key,
    limits: { ...FAST, reconnectDelayMinMs: 50, reconnectDelayMaxMs: 120_000 },
  });
  t.teardown(() => client.close());
  client.start();
  await client.waitConnected(20_000);
  t.is(client.endpoint.port, b.port);
  await client.request('ping', {});
});

test('with every host down the client goes round the list, each address in turn, with backoff between rounds', async (t) => {
  const attempts: number[] = [];
  const servers = await Promise.all(
    [0, 1].map(async (index) => {
      // Accepts TCP and closes at once: a failed attempt the test can count.
      const server = net.createServer((socket) => {
        attempts.push(index);
        socket.destroy();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return server;
    }),
  );
  t.teardown(() => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  const client = new ChannelClient({ addresses: ports.map((port) => ({ host: '127.0.0.1', port })), deviceId: DEVICE, kShared: Buffer.alloc(32, 7), limits: FAST });
  t.teardown(() => client.close());
  client.start();
  t.true(await eventually(() => attempts.length >= 6, 60_000), `attempts so far: ${attempts.join(',')}`);
  client.close();
  t.deepEqual(attempts.slice(0, 6), [0, 1, 0, 1, 0, 1], 'each address in turn');
});

test('a client knows 1 to 8 host addresses', (t) => {
  const address = { host: '127.0.0.1', port: 1 };
  const base = { deviceId: DEVICE, kShared: Buffer.alloc(32, 1) };
  t.throws(() => new ChannelClient({ ...base, addresses: [] }), { instanceOf: RangeError, message: /1 to 8 host addresses, not 0/ });
  t.throws(() => new ChannelClient({ ...base, addresses: Array.from({ length: HOST_ADDRESSES_MAX + 1 }, () => address) }), { instanceOf: RangeError });
  t.is(new ChannelClient({ ...base, ...address }).endpoint.port, 1);
});
