// Assembles the bank host: database, keys, committer, device registry, the kiosk channel and the admin
// socket. `openHostState` is also what the CLI uses on a stopped host, so both paths run the same code.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { HostLimits } from '../protocol/limits.js';
import type { Logger } from '../protocol/log.js';
import { AdminSocketServer } from './admin/socket.js';
import type { AdminContext } from './admin/commands.js';
import { AuditChain } from './audit/chain.js';
import type { AuditEvent } from './audit/event.js';
import { HOST_CONFIG_FILE, loadEppVendorCas, loadHostConfig, type HostConfig } from './config.js';
import { STORE_FORMAT } from './customers/store-format.js';
import { DeviceRegistry } from './devices/registry.js';
import { describe } from './errors.js';
import { Fleet } from './fleet/fleet.js';
import { OperatorTokens } from './fleet/operator-tokens.js';
import { loadHostKeys } from './keys.js';
import type { HostServices, OperationTable } from './operations/context.js';
import { ChannelServer } from './server/channel-server.js';
import { Dispatcher, type DispatcherDeps } from './server/dispatcher.js';
import { OperatorConsole, type ConsoleOptions } from './console/console-server.js';
import { HostMetrics, MeteredDispatcher } from './console/metrics.js';
import { defaultConsoleUiDir } from './console/static-files.js';
import { expiredIdempotencyOps } from './server/idempotency.js';
import { listHolds } from './ledger/operator.js';
import { DEPOSIT_HOLD_SWEEP_BATCH, sweepDueDepositHolds } from './ledger/deposit-operator.js';
import { openHostStore, requireDatabase } from './host-store.js';
import { PostgresStore } from './store/postgres/index.js';

export { DATABASE_FOLDER } from './host-store.js';
/** How often expired idempotency records are swept. */
export const IDEMPOTENCY_SWEEP_INTERVAL_MS = 10 * 60_000;
/** How often the serving host releases deposit holds whose period has ended (a withdrawal or transfer
 *  releases those of its own account at once; this is for everyone else's view). */
export const DEPOSIT_HOLD_SWEEP_INTERVAL_MS = 60_000;
/** How often the serving host looks for withdrawal holds that wait for an operator. */
export const HOLD_ATTENTION_CHECK_INTERVAL_MS = 10 * 60_000;
/** On a store shared by several hosts, how often a host takes in the devices other hosts added, revoked or
 *  rotated: a new kiosk's first handshake at this host waits at most this long, and its connections here
 *  close this soon after a revocation elsewhere (no request of them is applied after it: see dispatcher.ts). */
export const DEVICE_REFRESH_INTERVAL_MS = 1_000;

export interface HostPaths {
  readonly dataDir: string;
  readonly keysDir: string;
  /** Keys come from systemd's credentials directory (exempt from the owner-only mode check). */
  readonly keysFromCredentials?: boolean;
}

export interface HostState {
  readonly services: HostServices;
  readonly registry: DeviceRegistry;
  /** LevelDB's audit chain, the committer's sink (undefined on PostgreSQL: one chain per lane there). */
  readonly audit: AuditChain | undefined;
  close(): Promise<void>;
}

export interface OpenOptions {
  readonly config?: HostConfig;
  readonly now?: () => number;
  /** Refuse a data folder without a database (`serve` and the CLI on a stopped host: a mistyped --data
   *  must not become an empty bank). Only `init` and tests create one. */
  readonly mustExist?: boolean;
}

export async function openHostState(paths: HostPaths, log: Logger, options: OpenOptions = {}): Promise<HostState> {
  if (options.mustExist) await requireDataFolder(paths.dataDir);
  const keys = await loadHostKeys(paths.keysDir, { fromCredentials: paths.keysFromCredentials ?? false });
  const eppVendorCas = await loadEppVendorCas(paths.dataDir);
  let config = options.config;
  if (config === undefined) {
    const loaded = await loadHostConfig(paths.dataDir);
    for (const notice of loaded.notices) log.warn(notice);
    config = loaded.config;
  }
  const now = options.now ?? Date.now;
  const { store, auditRefusal, chain, migrated } = await openHostStore(paths, config, keys, log, now, options.mustExist ? { mustExist: true } : {});
  try {
    if (auditRefusal !== undefined) log.error('the audit log refuses new records; state changes will fail', { reason: auditRefusal });
    const committer = store.committer;
    if (migrated !== undefined) {
      // The rewrite itself is in the store, not the log; the log says when it happened and what it touched.
      await committer
        .commit({ ops: [], events: [{ action: 'store.migrate', outcome: 'ok', actor: 'host', detail: { format: STORE_FORMAT, ...migrated } }] })
        .catch((error) => log.error('could not record the migration in the audit log', { error: describe(error) }));
    }
    // A request scope only where several hosts share the store: on LevelDB the dispatcher runs as it always has.
    const base = { db: store.db, committer, locks: store.locks, ...(store.backend === 'postgresql' && { requests: store.requests }), backend: store.backend, config, keys, log, now, eppVendorCas };
    const registry = await DeviceRegistry.load(store.db, committer, keys.master, now, store.backend === 'postgresql' ? store.locks : undefined);
    const services: HostServices = { ...base, fleet: await Fleet.load(base, registry), operators: await OperatorTokens.load(base) };
    return {
      services,
      registry,
      audit: chain,
      close: () => store.close(),
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** With host.json naming PostgreSQL the data folder holds no database, only host.json: `serve` and the
 *  CLI still refuse a folder that holds neither (a mistyped --data must not become an empty bank). */
async function requireDataFolder(dataDir: string): Promise<void> {
  try {
    await stat(path.join(dataDir, HOST_CONFIG_FILE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await requireDatabase(dataDir);
  }
}

/** The dispatcher of a host's kiosk requests: its services, the operations it serves, and the device
 *  registry (whose keys are current, each device's PIN key and PIN pad). */
export function hostDispatcher(state: HostState, operations: OperationTable): Dispatcher {
  return new Dispatcher(hostDispatcherDeps(state, operations));
}

function hostDispatcherDeps(state: HostState, operations: OperationTable): DispatcherDeps {
  return {
    services: state.services,
    operations,
    pinKeys: state.registry,
    isKeyCurrent: (deviceId, keyVersion) => state.registry.isKeyCurrent(deviceId, keyVersion),
  };
}

export interface ServeOptions {
  readonly listenHost: string;
  readonly listenPort: number;
  readonly adminSocketPath?: string;
  readonly limits?: Partial<HostLimits>;
  readonly operations: OperationTable;
  /** Per reason, at most one audit record of refused handshakes per this long (tests shorten it). */
  readonly refusalSummaryIntervalMs?: number;
  /** The operator console and /metrics (docs/operations.md); absent: no console listener. */
  readonly console?: Omit<ConsoleOptions, 'uiDir'> & { readonly uiDir?: string };
}

export class BankHost {
  private sweepTimer: NodeJS.Timeout | undefined;
  private holdCheckTimer: NodeJS.Timeout | undefined;
  private holdCheck: Promise<number> | undefined;
  private depositSweepTimer: NodeJS.Timeout | undefined;
  private deviceRefreshTimer: NodeJS.Timeout | undefined;
  private deviceRefresh: Promise<unknown> | undefined;
  private depositSweep: Promise<number> | undefined;
  private closing: Promise<void> | undefined;
  /** The operator console, when it was asked for and could listen. */
  console: OperatorConsole | undefined;

  private constructor(
    readonly state: HostState,
    readonly channel: ChannelServer,
    readonly address: AddressInfo,
    private readonly admin: AdminSocketServer | undefined,
    readonly metrics: HostMetrics,
  ) {}

  static async serve(state: HostState, options: ServeOptions): Promise<BankHost> {
    const { services, registry } = state;
    const fleet = services.fleet!;
    const recordSecurityEvent = (event: AuditEvent) => {
      services.committer.commit({ ops: [], events: [event] }).catch((error) => services.log.error('could not record event', { action: event.action, error: describe(error) }));
    };
    let channelStats: ChannelServer['stats'] | undefined;
    const postgres = services.db instanceof PostgresStore ? services.db : undefined;
    const metrics = new HostMetrics({ channel: () => channelStats, commits: () => services.committer.stats, fleet, ...(postgres && { postgres }) });
    const dispatcher = new MeteredDispatcher(hostDispatcherDeps(state, options.operations), metrics);
    const channel = new ChannelServer(registry, dispatcher, services.log, recordSecurityEvent, options.limits, options.refusalSummaryIntervalMs);
    channelStats = channel.stats;
    const address = await channel.listen(options.listenHost, options.listenPort);
    let host: BankHost | undefined;
    let admin: AdminSocketServer | undefined;
    if (options.adminSocketPath) {
      const ctx: AdminContext = {
        services,
        registry,
        liveStatus: () => ({
          listening: `${address.address}:${address.port}`,
          console: host?.console ? `${host.console.address.address}:${host.console.address.port}` : null,
          kiosks: fleet.overview().counts,
          channel: channel.stats,
          commits: services.committer.stats,
        }),
      };
      admin = new AdminSocketServer(ctx, services.log);
      try {
        await admin.listen(options.adminSocketPath);
      } catch (error) {
        await channel.close(0);
        throw error;
      }
    }
    host = new BankHost(state, channel, address, admin, metrics);
    fleet.setConnectionProbe((deviceId) => channel.connectionCount(deviceId) > 0);
    fleet.startMonitoring();
    if (options.console) {
      // The console watches; the bank serves. A console that cannot listen (its port taken, no TLS for a
      // remote address) is an error in the log and in `bank-host status`, and kiosks are served anyway.
      try {
        host.console = await OperatorConsole.start(
          {
            fleet,
            operators: services.operators!,
            metrics,
            sessionLimits: { maxMs: services.config.consoleSessionMaxMs, idleMs: services.config.consoleSessionIdleMs },
            record: recordSecurityEvent,
            log: services.log,
            now: services.now,
          },
          { ...options.console, uiDir: options.console.uiDir ?? defaultConsoleUiDir() },
        );
      } catch (error) {
        services.log.error('operator console not started', { listen: `${options.console.host}:${options.console.port}`, error: describe(error) });
      }
    }
    host.sweepTimer = setInterval(() => void host.sweepIdempotency(), IDEMPOTENCY_SWEEP_INTERVAL_MS);
    host.sweepTimer.unref();
    host.holdCheckTimer = setInterval(() => void host.reportHoldsNeedingAttention(), HOLD_ATTENTION_CHECK_INTERVAL_MS);
    host.holdCheckTimer.unref();
    host.depositSweepTimer = setInterval(() => void host.releaseDueDepositHolds(), DEPOSIT_HOLD_SWEEP_INTERVAL_MS);
    host.depositSweepTimer.unref();
    if (services.backend === 'postgresql') {
      host.deviceRefreshTimer = setInterval(() => {
        host.deviceRefresh ??= registry
          .refresh()
          .catch((error) => services.log.warn('could not take in the devices of other hosts', { error: describe(error) }))
          .finally(() => (host.deviceRefresh = undefined));
      }, DEVICE_REFRESH_INTERVAL_MS);
      host.deviceRefreshTimer.unref();
    }
    // At start too: a host that comes back after a crash may find holds its kiosks never settled, and
    // deposit holds whose time came while it was down.
    void host.reportHoldsNeedingAttention();
    void host.releaseDueDepositHolds();
    services.log.info('bank host serving', {
      listen: `${address.address}:${address.port}`,
      adminSocket: options.adminSocketPath ?? null,
      console: host.console ? `${host.console.address.address}:${host.console.address.port}` : null,
      devices: registry.list().length,
    });
    return host;
  }

  /** Deletes expired idempotency records, one bounded batch at a time, until none are left. */
  async sweepIdempotency(): Promise<number> {
    const { services } = this.state;
    let swept = 0;
    try {
      for (;;) {
        const ops = await expiredIdempotencyOps(services.db, services.now() - services.config.idempotencyRetentionMs);
        if (ops.length === 0 || this.closing) return swept;
        await services.committer.commit({ ops });
        swept += ops.length / 2;
      }
    } catch (error) {
      services.log.error('idempotency sweep failed', { error: describe(error) });
      return swept;
    }
  }

  /** Releases the deposit holds whose period has ended, a bounded batch at a time, until none are due. */
  releaseDueDepositHolds(): Promise<number> {
    if (this.closing) return Promise.resolve(0);
    this.depositSweep ??= (async () => {
      const { services } = this.state;
      let released = 0;
      try {
        for (;;) {
          const batch = await sweepDueDepositHolds(services);
          released += batch;
          if (batch < DEPOSIT_HOLD_SWEEP_BATCH || this.closing) return released;
        }
      } catch (error) {
        services.log.error('deposit hold sweep failed', { error: describe(error) });
        return released;
      }
    })().finally(() => (this.depositSweep = undefined));
    return this.depositSweep;
  }

  /** Warns (for journald and whoever watches it) about holds that no kiosk settled within the host's
   *  `holdAttentionAfterMs`: they stay held until an operator resolves them with `bank-host holds`. */
  reportHoldsNeedingAttention(): Promise<number> {
    if (this.closing) return Promise.resolve(0);
    // One look at a time; close() waits for it so it never reads a closing database.
    this.holdCheck ??= this.lookForHoldsNeedingAttention().finally(() => (this.holdCheck = undefined));
    return this.holdCheck;
  }

  private async lookForHoldsNeedingAttention(): Promise<number> {
    const { services } = this.state;
    try {
      const holds = await listHolds(services, { olderThanMs: services.config.holdAttentionAfterMs });
      if (holds.length > 0) {
        services.log.warn('withdrawal holds wait for an operator: see bank-host holds list', {
          count: holds.length,
          oldestAgeMs: holds[0]!.ageMs,
          holdAttentionAfterMs: services.config.holdAttentionAfterMs,
        });
      }
      return holds.length;
    } catch (error) {
      services.log.error('could not look for holds needing attention', { error: describe(error) });
      return 0;
    }
  }

  /** Graceful stop: refuse new connections, let in-flight requests finish (bounded), close the database. */
  close(graceMs = 5_000): Promise<void> {
    this.closing ??= (async () => {
      // New requests are refused from the first moment: what runs below may take a while on a loaded host,
      // and a stopping host must not start money work it would then cut short.
      this.channel.stopAccepting();
      clearInterval(this.sweepTimer);
      clearInterval(this.holdCheckTimer);
      clearInterval(this.depositSweepTimer);
      clearInterval(this.deviceRefreshTimer);
      await this.deviceRefresh;
      await this.console?.close();
      await this.state.services.fleet?.stopMonitoring();
      await this.holdCheck;
      await this.depositSweep;
      await this.admin?.close();
      await this.channel.close(graceMs);
      await this.state.close();
      this.state.services.log.info('bank host stopped');
    })();
    return this.closing;
  }
}
