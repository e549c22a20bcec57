// Strangers do not grow the audit log without bound: every refused handshake is counted, but the log gets,
// per reason, at most one record per interval (the first at once, then a summary with the count), so a
// storm of handshakes adds records in proportion to its duration, not to its size. No such record is ever
// filed under a device id, even for a replayed ClientHello of a real kiosk, whose binder verifies.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import tls from 'node:tls';
import { clientTlsOptions } from '../../protocol/channel.js';
import { ChannelClient } from '../../protocol/client.js';
import { readAuditPage } from '../../bank-host/audit/show.js';
import type { AuditEntry } from '../../bank-host/audit/record.js';
import { eventually, startTestHost, type TestHost } from '../helpers/host.js';
import { AttackerProxy, replayToHost } from '../reliability/attacker-proxy.js';

const INTERVAL_MS = 500;

function handshake(port: number, deviceId: string, key: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect(clientTlsOptions('127.0.0.1', port, deviceId, key));
    socket.once('secureConnect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => (socket.destroy(), resolve(false)));
    socket.once('close', () => resolve(false));
  });
}

async function handshakeRecords(h: TestHost): Promise<AuditEntry[]> {
  const { db, keys } = h.host.state.services;
  return (await readAuditPage(db, keys.auditEnc, { action: 'handshake', order: 'asc', limit: 10_000, scanLimit: 100_000 })).entries;
}

const refusalsCounted = (h: TestHost) => Object.entries(h.host.channel.stats.handshakeFailures).reduce((sum, [reason, n]) => sum + (reason === 'aborted' ? 0 : n), 0);

test('a storm of refused handshakes adds audit records with time, not with its size, and their counts add up', async (t) => {
  const h = await startTestHost({ refusalSummaryIntervalMs: INTERVAL_MS });
  t.teardown(() => h.close());
  await h.addDevice('kiosk-stormed');
  const started = Date.now();
  let accepted = 0;
  const storm = 400;
  await Promise.all(
    Array.from({ length: 16 }, async (_, worker) => {
      for (let i = worker; i < storm; i += 16) {
        const claimed = i % 2 === 0 ? `ghost-${i}` : 'kiosk-stormed';
        if (await handshake(h.port, claimed, randomBytes(32))) accepted++;
      }
    }),
  );
  const stormMs = Date.now() - started;
  t.is(accepted, 0);
  t.true(await eventually(() => refusalsCounted(h) === storm, 10_000), 'every refusal is counted');
  // Wait for the last interval to end and its summary to be written.
  await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL_MS));
  const records = await handshakeRecords(h);
  const reasons = new Set(records.map((r) => r.reason));
  t.deepEqual([...reasons].sort(), ['unknown-device', 'wrong-key']);
  // Per reason: the first at once, then at most one per interval that had refusals.
  const bound = reasons.size * (Math.ceil((Date.now() - started) / INTERVAL_MS) + 1);
  t.true(records.length <= bound, `${records.length} records for ${storm} refusals in ${stormMs} ms (bound ${bound})`);
  t.true(records.length < storm / 4, `${records.length} records for ${storm} refusals`);
  t.is(records.reduce((sum, r) => sum + Number(r.detail?.count), 0), storm, 'the counts add up to the refusals');
  t.deepEqual(records.filter((r) => r.deviceId !== undefined), [], 'none under a device id');
  for (const record of records.filter((r) => r.reason === 'wrong-key')) t.is(record.detail?.claimed, 'kiosk-stormed');
  for (const record of records.filter((r) => r.reason === 'unknown-device')) t.is(record.detail?.claimed, undefined, 'ids nobody registered are only counted');
  t.log(`${storm} refused handshakes in ${stormMs} ms: ${records.length} audit records`);
});

test("a replayed ClientHello of a real kiosk is refused and recorded under no device id, not as the kiosk's", async (t) => {
  const h = await startTestHost({ refusalSummaryIntervalMs: INTERVAL_MS });
  t.teardown(() => h.close());
  const key = await h.addDevice('kiosk-real');
  const proxy = await AttackerProxy.start(h.port);
  t.teardown(() => proxy.close());
  // The real kiosk connects through the tap and is served.
  const tapped = new ChannelClient({ host: '127.0.0.1', port: proxy.port, deviceId: 'kiosk-real', kShared: key, limits: { reconnectDelayMinMs: 60_000, reconnectDelayMaxMs: 60_000 } });
  tapped.start();
  await tapped.waitConnected(5_000);
  await tapped.request('ping', {});
  tapped.close();
  // The kiosk's ClientHello, ChangeCipherSpec and encrypted Finished are on tape.
  t.true(await eventually(() => (proxy.connections[0]?.appDataToHost ?? 0) >= 1));
  const before = h.host.channel.stats.handshakeFailures.tampered;
  for (let i = 0; i < 3; i++) await replayToHost(h.port, proxy.connections[0]!.recordsToHost, 2_000);
  t.true(await eventually(() => h.host.channel.stats.handshakeFailures.tampered - before === 3));
  await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL_MS));
  const records = (await handshakeRecords(h)).filter((r) => r.reason === 'tampered');
  t.is(records.reduce((sum, r) => sum + Number(r.detail?.count), 0), 3);
  t.true(records.length <= 2);
  t.deepEqual(records.filter((r) => r.deviceId !== undefined), []);
  t.true(records.every((r) => r.detail?.claimed === 'kiosk-real'), 'the id is named as claimed only');
  const { db, keys } = h.host.state.services;
  const kioskOwn = (await readAuditPage(db, keys.auditEnc, { deviceId: 'kiosk-real', order: 'asc', limit: 100, scanLimit: 10_000 })).entries;
  t.deepEqual(kioskOwn.map((r) => r.action), ['device.add'], "the kiosk's own records are its own");
});
