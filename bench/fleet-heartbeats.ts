// What the fleet costs the host: BENCH_FLEET_KIOSKS kiosks (1,000) on real TLS 1.3-PSK connections, each
// reporting its status on connect and then every heartbeat (30 s, as a kiosk does), the reports spread
// evenly over the period. Each heartbeat carries changed counts (a customer was served since the last), the
// worst case for the fleet: every report is stored, its alerts evaluated, and a cash sample written when
// one is due. Measured over BENCH_HEARTBEAT_SECONDS (one heartbeat period by default, so every kiosk
// reports once) after every kiosk has connected and made its first report: the host process's CPU time per
// second of wall time (all its threads) and how busy its event loop was. All clients share one process
// (this one), on the same two cores as the host.
import { ChannelClient } from '../protocol/client.js';
import type { KioskStatus } from '../protocol/messages.js';
import { testKioskStatus } from '../test/helpers/kiosk-cash.js';
import { benchSetting } from './stats.js';

export const FLEET_KIOSKS = benchSetting('BENCH_FLEET_KIOSKS', 1_000, 1, 100_000);
export const HEARTBEAT_SECONDS = benchSetting('BENCH_HEARTBEAT_SECONDS', 30, 1, 3_600);
/** The kiosk's heartbeat (operations/kiosk-status.ts answers it as heartbeatMs). */
const HEARTBEAT_MS = 30_000;
/** Handshakes in flight while the fleet connects. */
const CONNECTING_AT_ONCE = 32;

interface HostStats {
  cpuMicros: number;
  eventLoopActiveMs: number;
  commits: { batches: number; changes: number };
  fleet: Record<string, number>;
}

type Call = <T>(command: object) => Promise<T>;

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function statusOf(i: number, served: number): KioskStatus {
  return testKioskStatus({ cassettes: [{ denominationCents: 2_000, count: 2_000 - (served % 1_000) }, { denominationCents: 5_000, count: 1_000 + (i % 7) }] });
}

export async function heartbeatCost(call: Call, progress: (label: string, seconds: number) => () => void): Promise<[string, string][]> {
  let stop = progress(`enrolling ${FLEET_KIOSKS} heartbeat kiosks`, 0);
  const { port, kiosks } = await call<{ port: number; kiosks: { deviceId: string; kSharedHex: string }[] }>({ type: 'fleet', kiosks: FLEET_KIOSKS });
  stop();
  stop = progress(`connecting ${FLEET_KIOSKS} kiosks over TLS 1.3-PSK, each reporting once`, 0);
  const clients: ChannelClient[] = [];
  const connectStarted = Date.now();
  for (let next = 0; next < kiosks.length; next += CONNECTING_AT_ONCE) {
    await Promise.all(
      kiosks.slice(next, next + CONNECTING_AT_ONCE).map(async (kiosk, offset) => {
        const client = new ChannelClient({ host: '127.0.0.1', port, deviceId: kiosk.deviceId, kShared: Buffer.from(kiosk.kSharedHex, 'hex'), limits: { requestTimeoutMs: 30_000 } });
        client.start();
        await client.waitConnected(30_000);
        await client.request('kiosk.status', statusOf(next + offset, 0));
        clients.push(client);
      }),
    );
  }
  const connectS = (Date.now() - connectStarted) / 1000;
  stop();

  stop = progress(`${FLEET_KIOSKS} kiosks heartbeating (a report each every ${HEARTBEAT_MS / 1000} s)`, HEARTBEAT_SECONDS);
  const before = await call<HostStats>({ type: 'stats' });
  const started = performance.now();
  const deadline = started + HEARTBEAT_SECONDS * 1000;
  let reports = 0;
  let failures = 0;
  const latencies: number[] = [];
  await Promise.all(
    clients.map(async (client, i) => {
      // Spread over the period: kiosk i reports at i/N of it, then every heartbeat.
      let dueMs = started + (i / clients.length) * HEARTBEAT_MS;
      for (let served = 1; dueMs < deadline; served++, dueMs += HEARTBEAT_MS) {
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, dueMs - performance.now())));
        const t0 = performance.now();
        try {
          await client.request('kiosk.status', statusOf(i, served));
          reports++;
          latencies.push(performance.now() - t0);
        } catch {
          failures++;
        }
      }
    }),
  );
  const elapsedS = (performance.now() - started) / 1000;
  const after = await call<HostStats>({ type: 'stats' });
  stop();
  for (const client of clients) client.close();
  latencies.sort((a, b) => a - b);
  const p99 = latencies[Math.min(latencies.length - 1, Math.floor(0.99 * latencies.length))] ?? NaN;
  const cpuPerSecondMs = (after.cpuMicros - before.cpuMicros) / 1000 / elapsedS;
  const loopBusyPercent = ((after.eventLoopActiveMs - before.eventLoopActiveMs) / (elapsedS * 1000)) * 100;
  return [
    [
      `host cost of ${fmt(clients.length)} kiosks heartbeating`,
      `${fmt(cpuPerSecondMs, 1)} ms CPU per second (${fmt(cpuPerSecondMs / 10, 2)} % of a core, all threads), event loop busy ${fmt(loopBusyPercent, 2)} %`,
    ],
    [
      '  heartbeat reports',
      `${fmt(reports)} in ${fmt(elapsedS, 1)} s (${fmt(reports / elapsedS, 1)}/s), p99 ${fmt(p99, 2)} ms, ${failures} failed; ${fmt(after.commits.batches - before.commits.batches)} synced batches; ${fmt(clients.length)} TLS connections open (connected and first reports in ${fmt(connectS, 1)} s); fleet ${JSON.stringify(after.fleet)}`,
    ],
  ];
}
