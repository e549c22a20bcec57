// The channel client on connections that die without telling anyone, found by the network-fault
// scenario: a blackholed path (no reset, no FIN) must be given up on within the request timeout plus one
// ping, not held until TCP notices minutes later; a slow answer on a live connection must not be mistaken
// for one; and a host that completes the handshake and then refuses the connection must not be redialled
// in a tight loop.
import test from 'ava';
import { ChannelClient } from '../../protocol/client.js';
import { createBankingOperations } from '../../bank-host/operations/banking.js';
import { eventually, rawConnect, startTestHost, requestOutcome } from '../helpers/host.js';
import { FAST_SCRYPT } from '../kiosk/core/kiosk-rig.js';
import { FaultProxy, NO_FAULTS } from './fault-proxy.js';
import { SeededRandom } from './seeded-random.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


test('a blackholed connection is dropped after the request timeout and one unanswered ping, and the resend is answered', async (t) => {
  const host = await startTestHost();
  const proxy = await FaultProxy.start({ upstreamPort: host.port, random: new SeededRandom(1), rates: NO_FAULTS });
  const kShared = await host.addDevice('kiosk-blackhole');
  const client = new ChannelClient({ host: '127.0.0.1', port: proxy.port, deviceId: 'kiosk-blackhole', kShared, limits: { requestTimeoutMs: 400, livenessProbeTimeoutMs: 400, reconnectDelayMinMs: 20, reconnectDelayMaxMs: 100 } });
  t.teardown(async () => {
    client.close();
    await proxy.close();
    await host.close();
  });
  client.start();
  await client.waitConnected(5_000);
  let disconnects = 0;
  client.on('disconnected', () => disconnects++);

  proxy.setRates({ ...NO_FAULTS, blackhole: 1 });
  const requestId = '0123456789abcdef0123456789abcdef';
  const started = Date.now();
  t.is(await requestOutcome(client.request('withdraw.reverse', { authorizationId: 'auth_nothing' }, { requestId })), 'TIMEOUT');
  proxy.setRates(NO_FAULTS);
  t.true(await eventually(() => disconnects === 1, 3_000), 'the client gave up on the silent connection');
  // Request timeout (400 ms) + probe timeout (400 ms), with slack for a loaded machine.
  t.true(Date.now() - started < 2_500, `took ${Date.now() - started} ms`);
  await client.waitConnected(3_000);
  t.is(await requestOutcome(client.request('withdraw.reverse', { authorizationId: 'auth_nothing' }, { requestId })), 'UNKNOWN_AUTHORIZATION');
  t.is(proxy.counts.blackholed, 1);
});

test('a slow answer on a live connection times out the request but keeps the connection: the probe ping comes back', async (t) => {
  const banking = createBankingOperations({ scryptCost: FAST_SCRYPT });
  const host = await startTestHost({
    operations: {
      ...banking,
      'withdraw.reverse': async (ctx, body) => {
        await sleep(1_200);
        return banking['withdraw.reverse']!(ctx, body);
      },
    },
  });
  t.teardown(() => host.close());
  const client = await host.connectedClient('kiosk-slow', { requestTimeoutMs: 300, livenessProbeTimeoutMs: 300 });
  let disconnects = 0;
  client.on('disconnected', () => disconnects++);
  t.is(await requestOutcome(client.request('withdraw.reverse', { authorizationId: 'auth_slow' })), 'TIMEOUT');
  await sleep(1_500);
  t.is(disconnects, 0);
  t.true(client.connected);
  t.truthy(await client.request('ping', {}));
});

test('a connection refused after the handshake (TOO_MANY_CONNECTIONS) is redialled with growing delays, not in a loop', async (t) => {
  const host = await startTestHost({ limits: { maxConnectionsPerDevice: 1 } });
  t.teardown(() => host.close());
  const kShared = await host.addDevice('kiosk-crowded');
  // A connection that holds the device's only slot, like a dead one the host has not noticed yet.
  const holder = await rawConnect(host.port, 'kiosk-crowded', kShared);
  t.teardown(() => holder.destroy());
  await eventually(() => host.host.channel.connectionCount('kiosk-crowded') === 1);
  const refusedBefore = host.host.channel.stats.connectionsRefused;
  const client = host.client('kiosk-crowded', kShared, { reconnectDelayMinMs: 50, reconnectDelayMaxMs: 800 });
  client.start();
  await sleep(2_500);
  const refused = host.host.channel.stats.connectionsRefused - refusedBefore;
  // Backoff 50, 100, 200, 400, 800, 800 ms (at most; full jitter makes them shorter): a handful of
  // attempts in 2.5 s, where a backoff reset at every handshake would redial every 50 ms (~50 attempts).
  t.true(refused >= 2 && refused <= 20, `${refused} refused connections in 2.5 s`);
  holder.destroy();
  await client.waitConnected(5_000);
  t.truthy(await client.request('ping', {}));
});
