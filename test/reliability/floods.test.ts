// Exhaustion: the bank host in its own process with its production limits (protocol/limits.ts:
// DEFAULT_HOST_LIMITS) is flooded while four legitimate kiosks keep moving money and a fifth kiosk
// connects afresh every half second:
//  A. thousands of idle TCP connections (more than the host's connection limit) and slow senders that
//     dribble a ClientHello byte by byte;
//  B. a handshake storm: ClientHellos for device ids that do not exist, and wrong-key handshakes for a
//     legitimate kiosk's id while that kiosk is connected and working;
//  C. a device whose key was stolen: frames announcing 4 GiB, frames that never finish, a firehose of
//     requests whose answers it never reads, and more connections than a device may hold.
// Through all of it: every legitimate request is answered, within LATENCY_P99_BOUND_MS at the 99th
// percentile and LATENCY_MAX_BOUND_MS at worst; the fresh kiosk always gets in; the host's open files stay
// under its connection limit; its resident memory grows by less than RSS_GROWTH_BOUND_BYTES; every attack
// shows in its counters; and afterwards every legitimate transaction is in the ledger exactly once.
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { clientTlsOptions } from '../../protocol/channel.js';
import { ChannelClient } from '../../protocol/client.js';
import { newRequestId } from '../../protocol/envelope.js';
import { encodeFrame, FrameDecoder } from '../../protocol/framing.js';
import { DEFAULT_HOST_LIMITS } from '../../protocol/limits.js';
import type { ChannelStats } from '../../bank-host/server/channel-server.js';
import { BankHostChild } from './bank-host-child.js';
import { compareWithLedger, KioskLoad } from './money-load.js';
import { recordScenarioResult } from './results.js';
import { reliabilityParams, scaled, SeededRandom } from './seeded-random.js';

const LEGIT_KIOSKS = 4;
/** Idle connections opened at once in phase A (the host takes DEFAULT_HOST_LIMITS.maxConnections). */
const IDLE_CONNECTIONS_AT_SCALE_1 = 2_000;
const SLOW_SENDERS_AT_SCALE_1 = 200;
const HANDSHAKES_AT_SCALE_1 = 600;
const MAX_HELD_SOCKETS_SCALE = 4;
const OVERSIZED_FRAMES_AT_SCALE_1 = 40;
/** How long phase A keeps the idle connections topped up: past the handshake timeout, so the host has
 *  to close the ones it accepted and the attacker reopens them. */
const IDLE_PHASE_MS = DEFAULT_HOST_LIMITS.handshakeTimeoutMs + 3_000;
/** The attacker re-dials each idle connection the host cuts or refuses after this long. (One that opens
 *  more than maxConnections new connections per second from one address can still crowd out newcomers:
 *  that is for a per-address rate limit in front of the host; see docs/reliability.md.) */
const IDLE_REDIAL_MS = 2_000;
const FIREHOSE_MS = 4_000;
/** Bounds on behaviour, not measurements (those are in the recorded results and docs/reliability.md):
 *  generous enough for a 2-core machine shared with the attack itself and with other work. A legitimate
 *  request answered later than its own timeout would have been resent, which the test also refuses. */
const LATENCY_P99_BOUND_MS = 5_000;
const LATENCY_MAX_BOUND_MS = 10_000;
const FRESH_CONNECT_BOUND_MS = 15_000;
/** How long past the host's own timeout the test waits for the host to cut a stalled peer: the host's
 *  timers fire late on a loaded machine, but they must fire. */
const CUT_GRACE_MS = 20_000;
const RSS_GROWTH_BOUND_BYTES = 256 * 1024 * 1024;
/** Files the host has open besides its connections: LevelDB, the admin socket, stdio, node itself. */
const HOST_FILES_BESIDES_CONNECTIONS = 128;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const failures = (stats: ChannelStats) => ({
  handshake: Object.values(stats.handshakeFailures).reduce((a, b) => a + b, 0),
  record: Object.values(stats.recordFailures).reduce((a, b) => a + b, 0),
});

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A TLS connection for `deviceId` with `key`: resolves when the handshake is done or has failed. */
function handshake(port: number, deviceId: string, key: Buffer): Promise<{ ok: boolean; socket: tls.TLSSocket }> {
  return new Promise((resolve) => {
    const socket = tls.connect(clientTlsOptions('127.0.0.1', port, deviceId, key));
    socket.once('secureConnect', () => resolve({ ok: true, socket }));
    socket.once('error', () => resolve({ ok: false, socket }));
    socket.once('close', () => resolve({ ok: false, socket }));
  });
}

/** Resolves with the first frame the host sends on `socket`, or undefined when it closes first. */
function firstFrame(socket: tls.TLSSocket, timeoutMs: number): Promise<{ id: string; ok: boolean; error?: { code: string } } | undefined> {
  return new Promise((resolve) => {
    const decoder = new FrameDecoder();
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      const [frame] = decoder.push(chunk) as { id: string; ok: boolean; error?: { code: string } }[];
      if (frame) {
        clearTimeout(timer);
        resolve(frame);
      }
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

test('floods of idle, slow, handshaking and abusive connections leave the limits holding and legitimate kiosks working', async (t) => {
  const params = reliabilityParams();
  // Sockets held at once are capped (this process and the host each have `ulimit -n` files, 20,000 here);
  // a larger scale makes the other attacks longer instead.
  const heldScale = { ...params, scale: Math.min(params.scale, MAX_HELD_SOCKETS_SCALE) };
  const idleCount = scaled(IDLE_CONNECTIONS_AT_SCALE_1, heldScale);
  const slowCount = scaled(SLOW_SENDERS_AT_SCALE_1, heldScale);
  const handshakeCount = scaled(HANDSHAKES_AT_SCALE_1, params);
  const oversizedCount = scaled(OVERSIZED_FRAMES_AT_SCALE_1, params);
  t.timeout(180_000 + params.scale * 60_000);
  const random = new SeededRandom(params.seed, 7);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'reliability-floods-'));
  // A customer's limits out of the way, and deposits available at once so the withdrawals have money.
  const host = await BankHostChild.start({
    dir,
    fresh: true,
    config: { dailyWithdrawalLimitCents: 1_000_000_000_000, maxWithdrawalCents: 100_000, depositDailyCapCents: 1_000_000_000_000, depositHoldMs: 0 },
  });
  const attackSockets = new Set<net.Socket>();
  const loads: KioskLoad[] = [];
  let sampler: NodeJS.Timeout | undefined;
  let stopFresh = false;
  t.teardown(async () => {
    stopFresh = true;
    clearInterval(sampler);
    for (const socket of attackSockets) socket.destroy();
    for (const load of loads) load.client.close();
    await host.kill();
    await rm(dir, { recursive: true, force: true });
  });
  const legitIds = Array.from({ length: LEGIT_KIOSKS }, (_, i) => `flood-kiosk-${i}`);
  const setup = await host.setup([...legitIds, 'flood-fresh', 'flood-rogue'], legitIds.map((_, i) => ({ username: `flood-user-${i}`, password: `flood password ${i}`, savings: true })));
  const keyOf = (deviceId: string) => Buffer.from(setup.devices.find((d) => d.deviceId === deviceId)!.kSharedHex, 'hex');
  const port = await host.serve(0);
  for (let i = 0; i < LEGIT_KIOSKS; i++) {
    const load = new KioskLoad(
      { deviceId: legitIds[i]!, kShared: keyOf(legitIds[i]!), username: `flood-user-${i}`, password: `flood password ${i}`, accountIds: setup.customers[i]!.accountIds },
      // The production request timeout: a legitimate request must never need a resend.
      { host: '127.0.0.1', port, random: random.fork(20 + i), requestTimeoutMs: 10_000 },
    );
    loads.push(load);
    load.start();
  }
  await sleep(1_000);
  const rssBaseline = await host.rssBytes();
  let rssPeak = rssBaseline;
  let fdPeak = 0;
  sampler = setInterval(() => {
    void host.rssBytes().then((rss) => (rssPeak = Math.max(rssPeak, rss)), () => undefined);
    void host.openFileDescriptors().then((fds) => (fdPeak = Math.max(fdPeak, fds)), () => undefined);
  }, 100);

  // A kiosk that connects afresh every half second, as kiosks do after a reboot or a network blip.
  const freshConnectMs: number[] = [];
  let freshFailures = 0;
  const fresh = (async () => {
    while (!stopFresh) {
      const started = Date.now();
      const client = new ChannelClient({ host: '127.0.0.1', port, deviceId: 'flood-fresh', kShared: keyOf('flood-fresh'), limits: { reconnectDelayMinMs: 50, reconnectDelayMaxMs: 500 } });
      client.start();
      try {
        await client.waitConnected(FRESH_CONNECT_BOUND_MS);
        await client.request('ping', {});
        freshConnectMs.push(Date.now() - started);
      } catch {
        freshFailures++;
      }
      client.close();
      await sleep(500);
    }
  })();

  const violations: string[] = [];
  const phaseStats: Record<string, string> = {};
  const statsBefore = (await host.stats()).channel;

  // --- A: idle connections beyond the limit, and slow senders ----------------------------------------
  let idleOpened = 0;
  const openIdle = () => {
    const socket = net.connect(port, '127.0.0.1');
    idleOpened++;
    attackSockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => {
      attackSockets.delete(socket);
      if (Date.now() + IDLE_REDIAL_MS < idleUntil) setTimeout(openIdle, IDLE_REDIAL_MS);
    });
  };
  const idleUntil = Date.now() + IDLE_PHASE_MS;
  for (let i = 0; i < idleCount; i++) openIdle();
  const slowClosedAfterMs: number[] = [];
  const slowStarted = Date.now();
  const slow = Array.from({ length: slowCount }, () => {
    const socket = net.connect(port, '127.0.0.1');
    attackSockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => slowClosedAfterMs.push(Date.now() - slowStarted));
    // A TLS handshake record announcing 512 bytes, then one byte at a time.
    socket.on('connect', () => socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])));
    const timer = setInterval(() => socket.writable && socket.write(random.bytes(1)), 400);
    socket.on('close', () => {
      clearInterval(timer);
      attackSockets.delete(socket);
    });
    return socket;
  });
  await sleep(IDLE_PHASE_MS + 500);
  // Every slow sender is cut by the host (at the handshake timeout, or earlier to make room): wait for the
  // last of them, within a generous bound, before the test closes anything itself.
  const slowDeadline = slowStarted + DEFAULT_HOST_LIMITS.handshakeTimeoutMs + CUT_GRACE_MS;
  while (slowClosedAfterMs.length < slowCount && Date.now() < slowDeadline) await sleep(100);
  const slowCut = slowClosedAfterMs.length;
  const slowSlowestCutMs = Math.max(0, ...slowClosedAfterMs);
  for (const socket of [...attackSockets]) socket.destroy();
  await sleep(500);
  const afterA = (await host.stats()).channel;
  phaseStats['A idle and slow'] = `${idleOpened} idle connections opened, ${afterA.connectionsRefused - statsBefore.connectionsRefused} refused at the limit, ${afterA.connectionsEvicted - statsBefore.connectionsEvicted} stalled handshakes evicted for newcomers, ${afterA.handshakeFailures.timeout - statsBefore.handshakeFailures.timeout} cut at the handshake timeout; ${slowCut}/${slow.length} slow senders cut by the host, the last after ${(slowSlowestCutMs / 1000).toFixed(1)} s (handshake timeout ${DEFAULT_HOST_LIMITS.handshakeTimeoutMs / 1000} s)`;
  // At the limit a newcomer either takes the place of a handshake stalled long enough, or is refused; which
  // of the two happens depends on how fast the flood arrives (on a loaded machine every newcomer found a
  // stalled handshake to replace, and none was refused). Either way the limit was reached and held.
  const limitActions = afterA.connectionsRefused - statsBefore.connectionsRefused + (afterA.connectionsEvicted - statsBefore.connectionsEvicted);
  if (limitActions === 0) violations.push('phase A: the connection limit was never reached (nobody refused, no stalled handshake evicted)');
  if (slowCut !== slowCount) violations.push(`phase A: ${slowCount - slowCut} of ${slowCount} slow senders were not cut by the host within its handshake timeout + ${CUT_GRACE_MS / 1000} s`);

  // --- B: handshake storm: unknown ids and a legitimate kiosk's id with the wrong key ---------------
  let stormFailed = 0;
  let stormAccepted = 0;
  const storm = Array.from({ length: handshakeCount }, (_, i) => (i % 2 === 0 ? { deviceId: `ghost-${random.int(0, 1e9)}`, key: randomBytes(32) } : { deviceId: legitIds[0]!, key: randomBytes(32) }));
  const stormStarted = Date.now();
  await Promise.all(
    Array.from({ length: 64 }, async (_, worker) => {
      for (let i = worker; i < storm.length; i += 64) {
        const attempt = await handshake(port, storm[i]!.deviceId, storm[i]!.key);
        if (attempt.ok) stormAccepted++;
        else stormFailed++;
        attempt.socket.destroy();
      }
    }),
  );
  const stormMs = Date.now() - stormStarted;
  await sleep(300);
  // The real kiosk whose id was stormed can still open a new connection.
  const legitDuringStorm = await handshake(port, legitIds[0]!, keyOf(legitIds[0]!));
  legitDuringStorm.socket.destroy();
  const afterB = (await host.stats()).channel;
  const unknownCounted = afterB.handshakeFailures['unknown-device'] - afterA.handshakeFailures['unknown-device'];
  const wrongKeyCounted = afterB.handshakeFailures['wrong-key'] - afterA.handshakeFailures['wrong-key'];
  phaseStats['B handshake storm'] = `${storm.length} handshakes in ${stormMs} ms (${Math.round(storm.length / (stormMs / 1000))}/s): ${unknownCounted} unknown-device and ${wrongKeyCounted} wrong-key counted`;
  if (stormAccepted > 0) violations.push(`phase B: ${stormAccepted} storm handshakes were accepted`);
  if (unknownCounted !== Math.ceil(storm.length / 2) || wrongKeyCounted !== Math.floor(storm.length / 2)) violations.push(`phase B: counted ${unknownCounted} unknown and ${wrongKeyCounted} wrong-key for ${storm.length} refused handshakes`);
  if (!legitDuringStorm.ok) violations.push('phase B: the stormed kiosk could not open a connection with its real key');

  // --- C: a stolen device key: oversized frames, endless frames, a firehose, too many connections ----
  const rogueKey = keyOf('flood-rogue');
  let oversizedAnswered = 0;
  for (let i = 0; i < oversizedCount; i++) {
    const { ok, socket } = await handshake(port, 'flood-rogue', rogueKey);
    if (!ok) continue;
    const answer = firstFrame(socket, 3_000);
    socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    if ((await answer)?.error?.code === 'BAD_FRAME') oversizedAnswered++;
    socket.destroy();
  }
  // Two frames that never finish (a byte every 200 ms) and one firehose that never reads its answers:
  // three of the device's four connections; the fifth and later are refused.
  const endless = await Promise.all([0, 1].map(() => handshake(port, 'flood-rogue', rogueKey)));
  const endlessClosedAtMs: number[] = [];
  const endlessStarted = Date.now();
  for (const { socket } of endless) {
    attackSockets.add(socket);
    socket.write(Buffer.from([0x00, 0x00, 0xff, 0xff]));
    const timer = setInterval(() => socket.writable && socket.write(Buffer.from('x')), 200);
    socket.on('close', () => {
      clearInterval(timer);
      endlessClosedAtMs.push(Date.now() - endlessStarted);
    });
  }
  const firehose = await handshake(port, 'flood-rogue', rogueKey);
  attackSockets.add(firehose.socket);
  firehose.socket.pause(); // never reads an answer
  const ping = encodeFrame({ v: 1, id: newRequestId(), ts: Date.now(), type: 'ping', body: {} });
  const pings = Buffer.concat(Array.from({ length: 256 }, () => ping));
  const firehoseUntil = Date.now() + FIREHOSE_MS;
  // The device's 4th connection is let in; the 5th is refused.
  const fourth = await handshake(port, 'flood-rogue', rogueKey);
  const fifth = await handshake(port, 'flood-rogue', rogueKey);
  const extra = [fourth, fifth];
  const fifthAnswer = fifth.ok ? await firstFrame(fifth.socket, 3_000) : undefined;
  while (Date.now() < firehoseUntil && !firehose.socket.destroyed) {
    if (firehose.socket.write(pings)) continue;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        firehose.socket.off('drain', done);
        resolve();
      };
      const timer = setTimeout(done, 200);
      firehose.socket.once('drain', done);
    });
  }
  // What left the attacker's process (TLS records on the wire), and what the host let it send: the rest
  // sits in the attacker's own buffer because the host stopped reading.
  const firehoseSentBytes = firehose.socket.bytesWritten;
  const firehoseBuffered = firehose.socket.writableLength;
  firehose.socket.destroy();
  for (const { socket } of extra) socket.destroy();
  // The endless frames are cut at the frame completion timeout.
  const endlessDeadline = endlessStarted + DEFAULT_HOST_LIMITS.frameCompletionTimeoutMs + CUT_GRACE_MS;
  while (endlessClosedAtMs.length < endless.length && Date.now() < endlessDeadline) await sleep(100);
  const afterC = (await host.stats()).channel;
  phaseStats['C stolen key'] = `${oversizedAnswered}/${oversizedCount} 4 GiB frames refused with BAD_FRAME; endless frames (a byte every 200 ms) cut after ${endlessClosedAtMs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')}; firehose of unread pings: ${(firehoseSentBytes / 1e6).toFixed(1)} MB sent in ${FIREHOSE_MS / 1000} s, ${(firehoseBuffered / 1e6).toFixed(1)} MB left stuck in the attacker's buffer; the device's 5th connection: ${fifthAnswer?.error?.code ?? 'not refused'}`;
  if (oversizedAnswered !== oversizedCount) violations.push(`phase C: ${oversizedCount - oversizedAnswered} oversized frames were not refused with BAD_FRAME`);
  if (endlessClosedAtMs.length !== endless.length) violations.push(`phase C: endless frames closed after ${endlessClosedAtMs.join(', ')} ms (the frame completion timeout is ${DEFAULT_HOST_LIMITS.frameCompletionTimeoutMs} ms)`);
  if (!fourth.ok) violations.push("phase C: the device's 4th connection was refused");
  if (fifthAnswer?.error?.code !== 'TOO_MANY_CONNECTIONS') violations.push(`phase C: the device's 5th connection got ${JSON.stringify(fifthAnswer)}, not TOO_MANY_CONNECTIONS`);

  // --- afterwards -------------------------------------------------------------------------------------
  stopFresh = true;
  await fresh;
  clearInterval(sampler);
  await Promise.all(loads.map((load) => load.stop()));
  const transactions = loads.flatMap((l) => l.transactions);
  const final = compareWithLedger(transactions, await host.inspect(true), { final: true, accounts: setup.customers.flatMap((c) => c.accountIds) });
  violations.push(...final.violations);
  const check = await host.check();
  if (!check.ledger.ok) violations.push(`ledger check: ${check.ledger.problems.map((p) => p.message).join('; ')}`);
  if (!check.audit.ok) violations.push(`audit verify: ${check.audit.problem?.message}`);

  const latencies = loads.flatMap((l) => l.latencies.map((x) => x.ms)).sort((a, b) => a - b);
  const p99 = percentile(latencies, 99);
  const max = latencies.at(-1) ?? 0;
  const retries = loads.reduce((sum, l) => sum + Object.values(l.retriesByCode).reduce((a, b) => a + b, 0), 0);
  if (p99 > LATENCY_P99_BOUND_MS) violations.push(`legitimate p99 latency ${p99} ms > ${LATENCY_P99_BOUND_MS} ms`);
  if (max > LATENCY_MAX_BOUND_MS) violations.push(`legitimate max latency ${max} ms > ${LATENCY_MAX_BOUND_MS} ms`);
  if (retries > 0) violations.push(`legitimate kiosks had to resend ${retries} requests`);
  if (freshFailures > 0) violations.push(`the fresh kiosk failed to connect ${freshFailures} times (bound ${FRESH_CONNECT_BOUND_MS} ms)`);
  if (rssPeak - rssBaseline > RSS_GROWTH_BOUND_BYTES) violations.push(`host RSS grew by ${Math.round((rssPeak - rssBaseline) / 1e6)} MB`);
  if (fdPeak > DEFAULT_HOST_LIMITS.maxConnections + HOST_FILES_BESIDES_CONNECTIONS) violations.push(`host had ${fdPeak} files open (limit ${DEFAULT_HOST_LIMITS.maxConnections} connections)`);
  const totalAfter = failures(afterC);
  const totalBefore = failures(statsBefore);
  const hostileConnections = idleOpened + slowCount + storm.length + oversizedCount + endless.length + 1 + extra.length;
  await recordScenarioResult({
    scenario: 'floods (idle, slow, handshake, oversized, wrong-key)',
    part: 'floods',
    iterations: hostileConnections,
    faultsInjected: hostileConnections,
    acknowledged: final.acknowledged,
    lost: final.lost.length,
    duplicated: final.duplicated.length,
    invariantViolations: violations.length,
    measurements: {
      'legitimate requests during the floods': latencies.length,
      'legitimate latency p50 / p99 / max ms': `${percentile(latencies, 50)} / ${p99} / ${max} (bounds p99 ${LATENCY_P99_BOUND_MS}, max ${LATENCY_MAX_BOUND_MS})`,
      'fresh kiosk connections / failures / slowest ms': `${freshConnectMs.length} / ${freshFailures} / ${Math.max(0, ...freshConnectMs)}`,
      'host RSS baseline / peak MB': `${Math.round(rssBaseline / 1e6)} / ${Math.round(rssPeak / 1e6)} (bound +${RSS_GROWTH_BOUND_BYTES / 1024 / 1024} MiB)`,
      'host open files peak': `${fdPeak} (connection limit ${DEFAULT_HOST_LIMITS.maxConnections})`,
      'refused by the host: connections / handshakes / TLS records; error answers (protocolErrors)': `${afterC.connectionsRefused - statsBefore.connectionsRefused} / ${totalAfter.handshake - totalBefore.handshake} / ${totalAfter.record - totalBefore.record}; ${afterC.protocolErrors - statsBefore.protocolErrors}`,
      ...phaseStats,
    },
  });
  t.log(JSON.stringify({ phaseStats, p50: percentile(latencies, 50), p99, max, freshConnectMs: Math.max(0, ...freshConnectMs), freshFailures, rssBaseline, rssPeak, fdPeak, retries }, null, 1));
  t.deepEqual(violations, []);
  t.deepEqual(final.details, [], 'lost or duplicated legitimate transactions');
});
