// Starts a real bank host for a test: fresh keys and LevelDB in a temp folder, TLS 1.3-PSK on loopback,
// an admin socket, and helpers to enroll devices and connect clients.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { clientTlsOptions } from '../../protocol/channel.js';
import { ChannelClient } from '../../protocol/client.js';
import { ProtocolError } from '../../protocol/errors.js';
import type { ClientLimits, HostLimits } from '../../protocol/limits.js';
import { silentLogger, type Logger } from '../../protocol/log.js';
import { defaultHostConfig, type HostConfig } from '../../bank-host/config.js';
import { createHostKeys } from '../../bank-host/keys.js';
import { BankHost, openHostState, type ServeOptions } from '../../bank-host/host.js';
import { hostOperations } from '../../bank-host/operations/table.js';
import type { OperationTable } from '../../bank-host/operations/context.js';
import { depositNotes, testKioskStatus } from './kiosk-cash.js';
import { trustTestEppVendor } from './epp-vendor.js';
import { testStoreConfig } from './store-backend.js';

export interface TestHost {
  readonly host: BankHost;
  readonly port: number;
  readonly dataDir: string;
  readonly keysDir: string;
  readonly adminSocket: string;
  /** Enrolls a device, with a fresh key or `key` (the same kiosk on several hosts). */
  addDevice(deviceId: string, key?: Buffer): Promise<Buffer>;
  /** The device's current PIN encryption key, as its EPP would hold it (tests build PIN blocks with it). */
  pinKey(deviceId: string): Buffer;
  client(deviceId: string, kShared: Buffer, limits?: Partial<ClientLimits>): ChannelClient;
  /** A connected client for a freshly enrolled device, which has reported the test kiosk's status
   *  (test/helpers/kiosk-cash.ts) as a kiosk does before it serves anyone. */
  connectedClient(deviceId: string, limits?: Partial<ClientLimits>): Promise<ChannelClient>;
  /** Stops the host but keeps its folders (for restart tests). */
  stop(): Promise<void>;
  /** Starts a host again on the same folders and port. */
  restart(): Promise<TestHost>;
  close(): Promise<void>;
}

export interface TestHostOptions {
  readonly limits?: Partial<HostLimits>;
  readonly config?: Partial<HostConfig>;
  readonly operations?: OperationTable;
  readonly log?: Logger;
  readonly now?: () => number;
  readonly dir?: string;
  readonly port?: number;
  /** Per reason, at most one audit record of refused handshakes per this long (default 60 s). */
  readonly refusalSummaryIntervalMs?: number;
  /** The operator console's listener (off unless asked for). */
  readonly console?: ServeOptions['console'];
}

export async function startTestHost(options: TestHostOptions = {}): Promise<TestHost> {
  const dir = options.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'bank-host-test-')));
  const dataDir = path.join(dir, 'data');
  const keysDir = path.join(dir, 'keys');
  if (!options.dir) {
    await createHostKeys(keysDir);
    await trustTestEppVendor(keysDir);
  }
  const adminSocket = path.join(dir, 'admin.sock');
  // A restarted host keeps its store: the same database on PostgreSQL (its password file is in keysDir).
  const store = options.dir && options.config?.store ? options.config.store : await testStoreConfig(keysDir);
  const state = await openHostState({ dataDir, keysDir }, options.log ?? silentLogger, {
    // Deposits are available at once unless a test sets an availability policy.
    config: defaultHostConfig({ registrationEnabled: true, depositHoldMs: 0, ...options.config, store }),
    ...(options.now ? { now: options.now } : {}),
  });
  const host = await BankHost.serve(state, {
    listenHost: '127.0.0.1',
    listenPort: options.port ?? 0,
    adminSocketPath: adminSocket,
    operations: options.operations ?? hostOperations,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.refusalSummaryIntervalMs !== undefined && { refusalSummaryIntervalMs: options.refusalSummaryIntervalMs }),
    ...(options.console ? { console: options.console } : {}),
  });
  const clients = new Set<ChannelClient>();
  const port = host.address.port;
  let stopped = false;
  const self: TestHost = {
    host,
    port,
    dataDir,
    keysDir,
    adminSocket,
    addDevice: (deviceId, key) => state.registry.add(deviceId, 'operator', key),
    pinKey(deviceId) {
      const pinKey = state.registry.pinKeyOf(deviceId);
      if (!pinKey) throw new Error(`device ${deviceId} has no PIN key`);
      return pinKey.key;
    },
    client(deviceId, kShared, limits) {
      const client = new ChannelClient({ host: '127.0.0.1', port, deviceId, kShared, limits: { reconnectDelayMinMs: 20, reconnectDelayMaxMs: 200, ...limits } });
      clients.add(client);
      return client;
    },
    async connectedClient(deviceId, limits) {
      const client = self.client(deviceId, await self.addDevice(deviceId), limits);
      client.start();
      await client.waitConnected(5_000);
      await client.request('kiosk.status', testKioskStatus());
      return client;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const client of clients) client.close();
      await host.close(1_000);
    },
    async restart() {
      await self.stop();
      return startTestHost({ ...options, dir, port, config: { ...options.config, store } });
    },
    async close() {
      await self.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return self;
}

/** A deposit of `cents` in notes through a kiosk's client (test/helpers/kiosk-cash.ts). */
export function clientDeposit(client: ChannelClient, accountId: string, cents: number) {
  return depositNotes((type, body) => client.request(type, body as never), accountId, cents);
}

/** Polls `condition` every 10 ms until it holds or `timeoutMs` passes. */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return condition();
}

/** 'ok', or the stable code of the ProtocolError a request failed with (anything else is rethrown). */
export async function requestOutcome(request: Promise<unknown>): Promise<string> {
  try {
    await request;
    return 'ok';
  } catch (error) {
    if (error instanceof ProtocolError) return error.code;
    throw error;
  }
}

/** A raw TLS 1.3-PSK connection to a host, for sending arbitrary bytes. Resolves once the handshake completes. */
export function rawConnect(port: number, deviceId: string, key: Buffer, extra: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ ...clientTlsOptions('127.0.0.1', port, deviceId, key), ...extra });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}
