import test from 'ava';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { clientTlsOptions } from '../../protocol/channel.js';
import { ChannelClient } from '../../protocol/client.js';
import { newRequestId } from '../../protocol/envelope.js';
import { ProtocolError } from '../../protocol/errors.js';
import { encodeFrame, FrameDecoder } from '../../protocol/framing.js';
import { MAX_FRAME_BYTES, TLS_CIPHERSUITES } from '../../protocol/limits.js';
import { readAuditPage } from '../../bank-host/audit/show.js';
import { eventually, rawConnect, startTestHost, type TestHost } from '../helpers/host.js';

/** Attempts a handshake; resolves to the client-side error code, or 'connected'. */
function handshakeOutcome(port: number, deviceId: string, key: Buffer, extra: tls.ConnectionOptions = {}): Promise<string> {
  return rawConnect(port, deviceId, key, extra).then(
    (socket) => {
      socket.destroy();
      return 'connected';
    },
    (error: NodeJS.ErrnoException) => error.code ?? 'error',
  );
}

/** Reads frames from a raw socket until it closes; returns every decoded document. */
function collect(socket: tls.TLSSocket): Promise<unknown[]> {
  const decoder = new FrameDecoder(MAX_FRAME_BYTES);
  const documents: unknown[] = [];
  return new Promise((resolve) => {
    socket.on('data', (chunk: Buffer) => documents.push(...decoder.push(chunk)));
    socket.on('error', () => {});
    socket.on('close', () => resolve(documents));
  });
}

const request = (type: string, body: unknown = {}, ts = Date.now()) => ({ v: 1, id: newRequestId(), ts, type, body });

let h: TestHost;
test.before(async () => {
  // Refused handshakes are summarized in the audit log every 200 ms rather than every minute, so a test sees
  // its refusal recorded soon even when another test's refusal of the same reason opened the interval.
  h = await startTestHost({ limits: { idleTimeoutMs: 1_500, handshakeTimeoutMs: 1_000, frameCompletionTimeoutMs: 800, maxConnectionsPerDevice: 2 }, refusalSummaryIntervalMs: 200 });
});
test.after.always(async () => h?.close());

test('a device with the right key connects and is answered over TLS 1.3', async (t) => {
  const client = await h.connectedClient('kiosk-right');
  const { hostTimeMs } = await client.request('ping', {});
  t.true(Math.abs(hostTimeMs - Date.now()) < 5_000);
  const socket = await rawConnect(h.port, 'kiosk-right-raw', await h.addDevice('kiosk-right-raw'));
  t.is(socket.getProtocol(), 'TLSv1.3');
  t.true(TLS_CIPHERSUITES.split(':').includes(socket.getCipher().name));
  // The listener has no certificate at all: the PSK is the only way in.
  t.deepEqual(socket.getPeerCertificate(), {});
  socket.destroy();
});

/** OpenSSL names the handshake_failure alert (40) SSLV3_ALERT_HANDSHAKE_FAILURE up to 3.0 and
 *  SSL/TLS_ALERT_HANDSHAKE_FAILURE in 3.5 (Node 24): the same alert either way. */
const HANDSHAKE_FAILURE = /^ERR_SSL_(SSLV3|SSL\/TLS)_ALERT_HANDSHAKE_FAILURE$/;

test('the listener offers no certificate fallback, no TLS 1.2, no SHA-384 suite and no group but X25519', async (t) => {
  const key = await h.addDevice('kiosk-settings');
  t.is(await handshakeOutcome(h.port, 'kiosk-settings', key), 'connected', 'the right key with the channel settings connects');
  // A client that offers no PSK and would accept any certificate: there is none to fall back on.
  t.regex(await handshakeOutcome(h.port, 'kiosk-settings', key, { pskCallback: undefined, rejectUnauthorized: false }), HANDSHAKE_FAILURE);
  // The right key does not help outside the allowed settings.
  t.is(await handshakeOutcome(h.port, 'kiosk-settings', key, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'PSK-AES128-GCM-SHA256' }), 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
  t.regex(await handshakeOutcome(h.port, 'kiosk-settings', key, { ciphers: 'TLS_AES_256_GCM_SHA384' }), HANDSHAKE_FAILURE);
  t.regex(await handshakeOutcome(h.port, 'kiosk-settings', key, { ecdhCurve: 'P-256' }), HANDSHAKE_FAILURE);
});

test.serial('wrong key, unknown id and revoked id all fail the handshake alike, and each is counted and audited by reason', async (t) => {
  const key = await h.addDevice('kiosk-victim');
  await h.addDevice('kiosk-gone');
  await h.host.state.registry.revoke('kiosk-gone');
  const before = { ...h.host.channel.stats.handshakeFailures };
  const wrong = await handshakeOutcome(h.port, 'kiosk-victim', randomBytes(32));
  const unknown = await handshakeOutcome(h.port, 'kiosk-nobody', key);
  const revoked = await handshakeOutcome(h.port, 'kiosk-gone', key);
  t.not(wrong, 'connected');
  // The client cannot tell the three apart: no oracle for which device ids exist or are revoked.
  t.is(unknown, wrong);
  t.is(revoked, wrong);
  const after = h.host.channel.stats.handshakeFailures;
  await eventually(() => after['revoked-device'] > before['revoked-device']);
  t.is(after['wrong-key'] - before['wrong-key'], 1);
  t.is(after['unknown-device'] - before['unknown-device'], 1);
  t.is(after['revoked-device'] - before['revoked-device'], 1);
  // The host's own record says which it was (the client was told nothing). A refused handshake proved no
  // device id: the record names none, and lists a registered id that was claimed as claimed only.
  const { services } = h.host.state;
  const handshakeRecords = async () => (await readAuditPage(services.db, services.keys.auditEnc, { action: 'handshake', order: 'asc', limit: 100, scanLimit: 100_000 })).entries;
  const recorded = async (reason: string, claimed?: string) =>
    (await handshakeRecords()).some((e) => e.outcome === 'refused' && e.reason === reason && (claimed === undefined || String(e.detail?.claimed ?? '').split(',').includes(claimed)));
  t.true(await eventually(() => recorded('revoked-device', 'kiosk-gone')));
  t.true(await eventually(() => recorded('wrong-key', 'kiosk-victim')));
  t.true(await eventually(() => recorded('unknown-device')));
  const records = await handshakeRecords();
  t.deepEqual(records.filter((e) => e.deviceId !== undefined), [], 'no refused handshake is recorded under a device id');
  t.false(records.some((e) => String(e.detail?.claimed ?? '').includes('kiosk-nobody')), 'an id nobody registered is only counted');
});

test('a device revoked while connected is disconnected and can neither reconnect nor resume', async (t) => {
  const key = await h.addDevice('kiosk-revoke-live');
  let session: Buffer | undefined;
  const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
    const s = tls.connect(clientTlsOptions('127.0.0.1', h.port, 'kiosk-revoke-live', key));
    s.on('session', (value: Buffer) => (session = value));
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
  socket.write(encodeFrame(request('ping')));
  await eventually(() => session !== undefined, 2_000);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => {});
  socket.resume();
  // OpenSSL hands out a (stateful) session ticket even with SSL_OP_NO_TICKET; the test needs it to prove
  // that it cannot be used.
  t.true(session !== undefined, 'the client saved a TLS session to try resuming with');
  await h.host.state.registry.revoke('kiosk-revoke-live');
  await closed;
  t.is(h.host.channel.connectionCount('kiosk-revoke-live'), 0, 'the open connection was closed on revocation');
  t.not(await handshakeOutcome(h.port, 'kiosk-revoke-live', key), 'connected');
  // The saved TLS session does not bring the device back, with its old key ...
  t.not(await handshakeOutcome(h.port, 'kiosk-revoke-live', key, { session: session! }), 'connected');
  // ... nor alone, without the PSK callback.
  const ticketOnly = await new Promise<string>((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: h.port, minVersion: 'TLSv1.3', ciphers: TLS_CIPHERSUITES, session: session!, rejectUnauthorized: false, checkServerIdentity: () => undefined });
    s.once('secureConnect', () => (s.destroy(), resolve('connected')));
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
  t.not(ticketOnly, 'connected');
});

test.serial('no connection is ever resumed: every handshake runs the PSK check', async (t) => {
  const key = await h.addDevice('kiosk-no-resume');
  let session: Buffer | undefined;
  const first = await rawConnect(h.port, 'kiosk-no-resume', key);
  first.on('session', (s: Buffer) => (session = s));
  first.write(encodeFrame(request('ping')));
  t.true(await eventually(() => session !== undefined, 2_000), 'the client saved a TLS session to try resuming with');
  first.destroy();
  const completed = h.host.channel.stats.handshakesCompleted;
  // With a wrong PSK but a saved session, the handshake must fail: a ticket is no substitute for K_SHARED.
  t.not(await handshakeOutcome(h.port, 'kiosk-no-resume', randomBytes(32), { session: session! }), 'connected');
  // With the right key and the saved session, the host runs a full PSK handshake again.
  const again = await rawConnect(h.port, 'kiosk-no-resume', key, { session: session! });
  t.true(await eventually(() => h.host.channel.stats.handshakesCompleted === completed + 1));
  again.destroy();
});

test('rotating a key closes connections on the old key, and only the new key connects', async (t) => {
  const oldKey = await h.addDevice('kiosk-rotate');
  const socket = await rawConnect(h.port, 'kiosk-rotate', oldKey);
  const closed = collect(socket);
  const newKey = await h.host.state.registry.rotate('kiosk-rotate');
  await closed;
  t.not(await handshakeOutcome(h.port, 'kiosk-rotate', oldKey), 'connected');
  t.is(await handshakeOutcome(h.port, 'kiosk-rotate', newKey), 'connected');
});

test('an oversized frame gets BAD_FRAME and the connection closes; the host keeps serving others', async (t) => {
  const socket = await rawConnect(h.port, 'kiosk-oversize', await h.addDevice('kiosk-oversize'));
  const documents = collect(socket);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(MAX_FRAME_BYTES + 1);
  socket.write(header);
  const [response] = (await documents) as { ok: boolean; error: { code: string } }[];
  t.is(response?.error.code, 'BAD_FRAME');
  const other = await h.connectedClient('kiosk-bystander');
  t.truthy(await other.request('ping', {}));
});

test('malformed JSON and invalid UTF-8 frames get BAD_FRAME and a closed connection', async (t) => {
  for (const [i, body] of [Buffer.from('{"v":1,'), Buffer.from([0xff, 0xfe, 0xfd])].entries()) {
    const socket = await rawConnect(h.port, `kiosk-malformed-${i}`, await h.addDevice(`kiosk-malformed-${i}`));
    const documents = collect(socket);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length);
    socket.write(Buffer.concat([header, body]));
    const [response] = (await documents) as { error: { code: string } }[];
    t.is(response?.error.code, 'BAD_FRAME');
  }
});

test('a truncated frame that never completes is closed after the frame timeout', async (t) => {
  const socket = await rawConnect(h.port, 'kiosk-truncated', await h.addDevice('kiosk-truncated'));
  const started = Date.now();
  const documents = collect(socket);
  socket.write(encodeFrame(request('ping')).subarray(0, 10));
  t.deepEqual(await documents, []);
  const elapsed = Date.now() - started;
  t.true(elapsed >= 700 && elapsed < 1_400, `closed after ${elapsed} ms`);
});

test('envelope errors are answered with stable codes and the connection stays usable', async (t) => {
  const socket = await rawConnect(h.port, 'kiosk-envelope', await h.addDevice('kiosk-envelope'));
  const decoder = new FrameDecoder();
  const responses: { id: string; ok: boolean; error?: { code: string } }[] = [];
  socket.on('data', (chunk: Buffer) => responses.push(...(decoder.push(chunk) as typeof responses)));
  const cases: [unknown, string][] = [
    [request('ping', {}, Date.now() - 121_000), 'STALE_TIMESTAMP'],
    [request('ping', {}, Date.now() + 121_000), 'STALE_TIMESTAMP'],
    [request('teleport'), 'UNKNOWN_TYPE'],
    [{ ...request('ping'), v: 9 }, 'UNSUPPORTED_VERSION'],
    [{ ...request('ping'), body: 'x' }, 'BAD_ENVELOPE'],
    [request('ping', { extra: 1 }), 'BAD_BODY'],
    [[], 'BAD_ENVELOPE'],
  ];
  for (const [document] of cases) socket.write(encodeFrame(document));
  socket.write(encodeFrame(request('ping', {}, Date.now() - 100_000)));
  await eventually(() => responses.length === cases.length + 1);
  for (const [document, code] of cases) {
    const id = (document as { id?: string }).id ?? '';
    const response = responses.find((r) => r.id === id && r.error?.code === code);
    t.truthy(response, `expected ${code} for ${JSON.stringify(document).slice(0, 80)}`);
  }
  t.true(responses.some((r) => r.ok), 'a timestamp inside the window is accepted');
  socket.destroy();
});

test('an idle connection is closed after the idle timeout', async (t) => {
  const socket = await rawConnect(h.port, 'kiosk-idle', await h.addDevice('kiosk-idle'));
  const started = Date.now();
  await collect(socket);
  const elapsed = Date.now() - started;
  t.true(elapsed >= 1_400 && elapsed < 3_000, `closed after ${elapsed} ms`);
});

test('a client that never starts the handshake is dropped after the handshake timeout and counted', async (t) => {
  const before = h.host.channel.stats.handshakeFailures.timeout;
  const started = Date.now();
  await new Promise<void>((resolve) => {
    const socket = net.connect(h.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.on('close', () => resolve());
  });
  t.true(Date.now() - started < 3_000);
  t.true(await eventually(() => h.host.channel.stats.handshakeFailures.timeout === before + 1));
});

test('the client keeps an idle connection open with pings', async (t) => {
  const client = await h.connectedClient('kiosk-keepalive', { keepAliveIntervalMs: 300 });
  let disconnected = false;
  client.on('disconnected', () => (disconnected = true));
  await new Promise((r) => setTimeout(r, 2_500));
  t.false(disconnected);
  t.true(client.connected);
});

test('a device may hold only its share of connections', async (t) => {
  const key = await h.addDevice('kiosk-greedy');
  const a = await rawConnect(h.port, 'kiosk-greedy', key);
  const b = await rawConnect(h.port, 'kiosk-greedy', key);
  const c = await rawConnect(h.port, 'kiosk-greedy', key);
  const [response] = (await collect(c)) as { id: string; error: { code: string; retryable: boolean } }[];
  t.like(response, { id: '', error: { code: 'TOO_MANY_CONNECTIONS', retryable: true } });
  t.is(h.host.channel.connectionCount('kiosk-greedy'), 2);
  // Once one closes, the device may connect again.
  const closedA = new Promise((resolve) => a.once('close', resolve));
  a.destroy();
  await closedA;
  t.true(await eventually(() => h.host.channel.connectionCount('kiosk-greedy') === 1));
  const d = await rawConnect(h.port, 'kiosk-greedy', key);
  t.true(await eventually(() => h.host.channel.connectionCount('kiosk-greedy') === 2));
  b.destroy();
  d.destroy();
});

test("at its limit, a device's silent connection gives way to its new one; busy or recent ones do not", async (t) => {
  const silentHost = await startTestHost({ limits: { maxConnectionsPerDevice: 2, silentConnectionReplaceableAfterMs: 400 } });
  t.teardown(() => silentHost.close());
  const key = await silentHost.addDevice('kiosk-moved-on');
  const a = await rawConnect(silentHost.port, 'kiosk-moved-on', key);
  const b = await rawConnect(silentHost.port, 'kiosk-moved-on', key);
  // Too soon: both are recent, so a third is refused as before.
  const early = await rawConnect(silentHost.port, 'kiosk-moved-on', key);
  const [refused] = (await collect(early)) as { error: { code: string } }[];
  t.is(refused?.error.code, 'TOO_MANY_CONNECTIONS');
  // b keeps talking; a stays silent (its path died without a reset).
  await new Promise((r) => setTimeout(r, 500));
  b.write(encodeFrame(request('ping')));
  await new Promise((r) => setTimeout(r, 50));
  const aClosed = new Promise((resolve) => a.once('close', resolve));
  const c = await rawConnect(silentHost.port, 'kiosk-moved-on', key);
  await aClosed;
  t.is(silentHost.host.channel.stats.connectionsReplaced, 1);
  t.true(await eventually(() => silentHost.host.channel.connectionCount('kiosk-moved-on') === 2));
  const pong = new Promise<{ ok: boolean }>((resolve) => {
    const decoder = new FrameDecoder(MAX_FRAME_BYTES);
    c.on('data', (chunk: Buffer) => {
      const [first] = decoder.push(chunk) as { ok: boolean }[];
      if (first) resolve(first);
    });
  });
  c.write(encodeFrame(request('ping')));
  t.true((await pong).ok, 'the new connection is served');
  b.destroy();
  c.destroy();
});

test('many devices connect and are served concurrently', async (t) => {
  const clients = await Promise.all(Array.from({ length: 40 }, (_, i) => h.connectedClient(`kiosk-fleet-${i}`)));
  const results = await Promise.all(clients.flatMap((c) => Array.from({ length: 10 }, () => c.request('ping', {}))));
  t.is(results.length, 400);
  for (const c of clients) c.close();
});

test('the client reconnects with backoff after the connection drops', async (t) => {
  const client = await h.connectedClient('kiosk-reconnect');
  let reconnects = 0;
  client.on('connected', () => reconnects++);
  // Revoke-free disconnect: the host closes idle sockets; simulate with a rotate-free raw kill of all sockets.
  for (const socket of (h.host.channel as unknown as { byDevice: Map<string, Set<tls.TLSSocket>> }).byDevice.get('kiosk-reconnect') ?? []) socket.destroy();
  t.true(await eventually(() => reconnects === 1, 3_000));
  t.truthy(await client.request('ping', {}));
});

test('a request on a closed client fails as DISCONNECTED and retryable', async (t) => {
  const client = new ChannelClient({ host: '127.0.0.1', port: 1, deviceId: 'kiosk-offline', kShared: randomBytes(32) });
  const error = await t.throwsAsync(client.request('ping', {}), { instanceOf: ProtocolError });
  t.is((error as ProtocolError).code, 'DISCONNECTED');
  t.true((error as ProtocolError).retryable);
});

test.serial('a client that does not read its answers is stopped from sending more; once it reads, every answer arrives', async (t) => {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  const socket = await rawConnect(h.port, 'kiosk-slow-reader', await h.addDevice('kiosk-slow-reader'));
  socket.pause();
  const before = h.host.channel.stats.requests;
  // Far more answers than the socket buffers and the host's queue of unsent answers (256 KiB) can hold.
  const sent = 60_000;
  const chunk = Buffer.concat(Array.from({ length: 1_000 }, () => encodeFrame(request('ping'))));
  for (let i = 0; i < sent / 1_000; i++) socket.write(chunk);
  // The host keeps reading only while the client drains: the count of requests it took stalls.
  let previous = -1;
  for (let i = 0; i < 40 && h.host.channel.stats.requests !== previous; i++) {
    previous = h.host.channel.stats.requests;
    await new Promise((r) => setTimeout(r, 250));
  }
  const takenWhilePaused = h.host.channel.stats.requests - before;
  t.true(takenWhilePaused < sent, `the host took ${takenWhilePaused} of ${sent} requests from a client that read nothing`);
  // Another device is served meanwhile.
  const other = await h.connectedClient('kiosk-slow-reader-neighbour');
  t.truthy(await other.request('ping', {}));
  const decoder = new FrameDecoder();
  let answered = 0;
  const done = new Promise<void>((resolve) => {
    socket.on('data', (data: Buffer) => {
      answered += decoder.push(data).length;
      if (answered === sent) resolve();
    });
  });
  socket.resume();
  await done;
  t.is(answered, sent);
  socket.destroy();
  t.deepEqual(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')), [], 'the host waits for drain with one listener per socket');
});
