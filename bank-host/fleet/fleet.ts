// The fleet as the host sees it: every enrolled kiosk's last report (`devstat:`, written by the kiosk's
// `kiosk.status`), whether it is connected now, its derived state, its low-cash rule, and its alerts.
// Loaded from the store when the host's state opens (so the CLI on a stopped host reads the same), kept
// in memory, fed each report as it is stored. The serving host evaluates the alerts when a report arrives
// (the kinds a report decides) and on a timer (offline, and the kinds that need the ledger: store-scan.ts).
// Durable state goes through the store's API only (KeyValueStore, the group committer).
import type { Logger } from '../../protocol/log.js';
import { type OperatorServices, runOperatorAction } from '../audit/operator-action.js';
import type { DeviceRegistry } from '../devices/registry.js';
import { KIOSK_STATUS_PREFIX, type StoredKioskStatus } from '../devices/kiosk-status.js';
import { AdminError, describe } from '../errors.js';
import type { StoreBackend } from '../store/host-store.js';
import { AlertBook, type AlertChanges } from './alert-book.js';
import { type AlertCondition, type LowCashThreshold, cashboxOf, cassettesValueCents, offlineCondition, statusConditions, thresholdInForce } from './alert-rules.js';
import { RESOLUTION_CHARS_MAX, readBalancing, readLatestBalancing, readUnresolvedBalancings, resolvedBalancingOps, unresolvedBalancingPrefix } from './balancing.js';
import { cashPointOf, cashPointOps, readCashHistory, readLatestCashPoint, sampleDue } from './cash-history.js';
import { type HoldTotals, type StoreScan, scanStore } from './store-scan.js';
import { HourlyTransactions, recentTransactions, HOUR_MS } from './transactions.js';
import { KIOSK_STATES, type BalancingView, type CashPointView, type FleetActivity, type FleetOverview, type KioskDetail, type KioskState, type KioskView } from './views.js';

/** The serving host looks at every kiosk's report age this often (offline detection)... */
export const FLEET_CHECK_INTERVAL_MS = 5_000;
/** ...and through the ledger's open items this often. */
export const FLEET_SCAN_INTERVAL_MS = 30_000;
/** The fleet-wide transactions chart is computed at most this often. */
const ACTIVITY_CACHE_MS = 30_000;
/** The cash chart of one kiosk covers this long. */
export const CASH_CHART_MS = 48 * HOUR_MS;

export const FLEET_THRESHOLD_PREFIX = 'fleetcfg:';
export const fleetThresholdKey = (deviceId: string): string => `${FLEET_THRESHOLD_PREFIX}${deviceId}`;

export interface FleetServices extends OperatorServices {
  readonly log: Logger;
  /** The store's backend: on PostgreSQL other hosts store reports and alerts too (absent: LevelDB). */
  readonly backend?: StoreBackend;
}

/** What the fleet needs of the device registry: who is enrolled and not revoked. */
export type FleetDevices = Pick<DeviceRegistry, 'list' | 'isActive'>;

interface KioskEntry {
  status?: StoredKioskStatus;
  threshold?: LowCashThreshold;
  /** The last cash sample written; null when the kiosk has none; absent until looked up. */
  lastCashPoint?: CashPointView | null;
}

export class Fleet {
  private readonly kiosks = new Map<string, KioskEntry>();
  private connectedNow: ((deviceId: string) => boolean) | undefined;
  private monitoring = false;
  private checkTimer: NodeJS.Timeout | undefined;
  private scanTimer: NodeJS.Timeout | undefined;
  private lastScan: StoreScan | undefined;
  private scanning: Promise<StoreScan> | undefined;
  /** Work started by reports (alerts, cash samples), so close() and tests can wait for it. */
  private readonly pending = new Set<Promise<unknown>>();
  private readonly sampling = new Set<string>();
  private readonly hourly: HourlyTransactions;
  private activityCache: FleetActivity | undefined;

  private constructor(
    private readonly services: FleetServices,
    private readonly devices: FleetDevices,
    readonly alerts: AlertBook,
  ) {
    this.hourly = new HourlyTransactions(services.db);
  }

  static async load(services: FleetServices, devices: FleetDevices): Promise<Fleet> {
    const shared = services.backend === 'postgresql';
    const fleet = new Fleet(services, devices, await AlertBook.load(services.db, services.committer, shared ? services.locks : undefined));
    await fleet.readReports();
    return fleet;
  }

  /** The store shared with other hosts: reports, thresholds and alerts change there without this host. */
  private get shared(): boolean {
    return this.services.backend === 'postgresql';
  }

  /** Every kiosk's last report and threshold, from the store: at load, and on a shared store before each
   *  evaluation of the whole fleet (a kiosk connected to another host reports there). */
  private async readReports(): Promise<void> {
    const thresholds = new Map<string, LowCashThreshold>();
    for await (const [key, threshold] of this.services.db.entries<LowCashThreshold>(FLEET_THRESHOLD_PREFIX)) thresholds.set(key.slice(FLEET_THRESHOLD_PREFIX.length), threshold);
    for await (const [, stored] of this.services.db.entries<StoredKioskStatus>(KIOSK_STATUS_PREFIX)) {
      const entry = this.entry(stored.deviceId);
      if (entry.status === undefined || entry.status.reportedMs <= stored.reportedMs) entry.status = stored;
    }
    for (const [deviceId, entry] of this.kiosks) if (!thresholds.has(deviceId)) delete entry.threshold;
    for (const [deviceId, threshold] of thresholds) this.entry(deviceId).threshold = threshold;
  }

  private entry(deviceId: string): KioskEntry {
    let entry = this.kiosks.get(deviceId);
    if (entry === undefined) this.kiosks.set(deviceId, (entry = {}));
    return entry;
  }

  /** The serving host tells the fleet how to know whether a kiosk is connected now. */
  setConnectionProbe(probe: (deviceId: string) => boolean): void {
    this.connectedNow = probe;
  }

  /** Starts the serving host's evaluation: now, then on timers. */
  startMonitoring(): void {
    if (this.monitoring) return;
    this.monitoring = true;
    this.checkTimer = setInterval(() => this.track(this.reconcileAll()), FLEET_CHECK_INTERVAL_MS);
    this.checkTimer.unref();
    this.scanTimer = setInterval(() => this.track(this.checkNow()), FLEET_SCAN_INTERVAL_MS);
    this.scanTimer.unref();
    this.track(this.checkNow());
  }

  /** Stops the timers and waits for the work in flight. */
  async stopMonitoring(): Promise<void> {
    this.monitoring = false;
    clearInterval(this.checkTimer);
    clearInterval(this.scanTimer);
    await this.settled();
  }

  /** Resolves when the work that reports and timers started has finished. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track(work: Promise<unknown>): void {
    const tracked = work
      .catch((error) => this.services.log.error('fleet evaluation failed', { error: describe(error) }))
      .finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  /** A kiosk's report was stored (operations/kiosk-status.ts): remember it, sample its cash, and evaluate
   *  the alerts it decides. Returns at once; the work is tracked. */
  statusStored(stored: StoredKioskStatus): void {
    const entry = this.entry(stored.deviceId);
    if (entry.status !== undefined && entry.status.reportedMs > stored.reportedMs) return;
    entry.status = stored;
    if (!this.monitoring) return;
    this.track(this.reconcile([stored.deviceId]));
    if (!this.sampling.has(stored.deviceId)) {
      this.sampling.add(stored.deviceId);
      this.track(this.sampleCash(stored).finally(() => this.sampling.delete(stored.deviceId)));
    }
  }

  private async sampleCash(stored: StoredKioskStatus): Promise<void> {
    const entry = this.entry(stored.deviceId);
    if (entry.lastCashPoint === undefined) entry.lastCashPoint = (await readLatestCashPoint(this.services.db, stored.deviceId)) ?? null;
    const point = cashPointOf(stored.status, stored.receivedMs);
    if (!sampleDue(entry.lastCashPoint ?? undefined, point)) return;
    await this.services.committer.commit({ ops: await cashPointOps(this.services.db, stored.deviceId, point) });
    entry.lastCashPoint = point;
  }

  /** One full evaluation: the ledger's open items, then every kiosk's alerts. */
  async checkNow(): Promise<AlertChanges> {
    await this.refreshScan(0);
    return this.reconcileAll();
  }

  /** The last pass over the ledger's open items, taken again when older than `maxAgeMs`. */
  async refreshScan(maxAgeMs: number): Promise<StoreScan> {
    const nowMs = this.services.now();
    if (this.lastScan !== undefined && maxAgeMs > 0 && nowMs - this.lastScan.scannedMs <= maxAgeMs) return this.lastScan;
    this.scanning ??= scanStore(this.services.db, this.services.config, this.activeDeviceIds(), nowMs)
      .then((scan) => {
        if (scan.truncated) this.services.log.warn('fleet: more open items than one pass reads; alerts may be missing', {});
        this.lastScan = scan;
        return scan;
      })
      .finally(() => (this.scanning = undefined));
    return this.scanning;
  }

  /** What the last pass counted of holds (for the metrics). */
  holdTotals(): HoldTotals | undefined {
    return this.lastScan?.totals;
  }

  private async reconcileAll(): Promise<AlertChanges> {
    if (this.shared) await this.readReports();
    return this.alerts.reconcile(() => {
      const nowMs = this.services.now();
      const conditions = new Map<string, AlertCondition[]>();
      for (const deviceId of [...this.activeDeviceIds(), ...this.alerts.devices()]) conditions.set(deviceId, this.conditionsOf(deviceId, nowMs));
      return conditions;
    }, this.services.now);
  }

  private reconcile(deviceIds: readonly string[]): Promise<AlertChanges> {
    return this.alerts.reconcile(() => new Map(deviceIds.map((id) => [id, this.conditionsOf(id, this.services.now())])), this.services.now, deviceIds);
  }

  private conditionsOf(deviceId: string, nowMs: number): AlertCondition[] {
    if (!this.devices.isActive(deviceId)) return [];
    const entry = this.kiosks.get(deviceId);
    const found: AlertCondition[] = [];
    if (entry?.status !== undefined) found.push(...statusConditions(entry.status.status, thresholdInForce(entry.threshold, this.services.config), this.services.config));
    const offline = offlineCondition(entry?.status?.receivedMs, nowMs, this.services.config);
    if (offline !== undefined) found.push(offline);
    found.push(...(this.lastScan?.conditions.get(deviceId) ?? []));
    return found;
  }

  private activeDeviceIds(): string[] {
    return this.devices.list().filter((d) => d.status === 'active').map((d) => d.deviceId);
  }

  stateOf(deviceId: string, nowMs = this.services.now()): KioskState {
    const status = this.kiosks.get(deviceId)?.status;
    if (status === undefined) return 'never-reported';
    if (nowMs - status.receivedMs > this.services.config.kioskOfflineAfterMs) return 'offline';
    return status.status.inService ? 'in-service' : 'out-of-service';
  }

  view(deviceId: string, nowMs = this.services.now()): KioskView {
    const entry = this.kiosks.get(deviceId);
    const stored = entry?.status;
    const status = stored?.status;
    return {
      deviceId,
      state: this.stateOf(deviceId, nowMs),
      connected: this.connectedNow ? this.connectedNow(deviceId) : null,
      lastReportMs: stored?.receivedMs ?? null,
      softwareVersion: status?.softwareVersion ?? null,
      inService: status?.inService ?? null,
      reasons: status?.reasons ?? [],
      devices: status?.devices ?? [],
      cassettes: status?.cassettes ?? [],
      cashCents: status ? cassettesValueCents(status) : 0,
      cashbox: status ? cashboxOf(status) : null,
      receiptPaper: status?.receiptPaper ?? null,
      pendingTransactions: status?.pendingTransactions ?? null,
      threshold: thresholdInForce(entry?.threshold, this.services.config),
      alerts: this.alerts.of(deviceId),
    };
  }

  overview(): FleetOverview {
    const nowMs = this.services.now();
    const kiosks = this.activeDeviceIds().map((deviceId) => this.view(deviceId, nowMs));
    const counts = Object.fromEntries(KIOSK_STATES.map((state) => [state, 0])) as Record<KioskState, number>;
    for (const kiosk of kiosks) counts[kiosk.state]++;
    const active = new Set(kiosks.map((k) => k.deviceId));
    return { nowMs, counts, alerts: this.alerts.all().filter((a) => active.has(a.deviceId)), kiosks };
  }

  /** A kiosk's detail for the console and `fleet show`; an unknown or revoked kiosk is DEVICE_UNKNOWN. */
  async detail(deviceId: string): Promise<KioskDetail> {
    if (!this.devices.isActive(deviceId)) throw new AdminError('DEVICE_UNKNOWN', `no active kiosk ${JSON.stringify(deviceId)}`);
    const nowMs = this.services.now();
    const { db } = this.services;
    return {
      nowMs,
      kiosk: this.view(deviceId, nowMs),
      recentTransactions: await recentTransactions(db, deviceId),
      transactionsPerHour: await this.hourly.perHour([deviceId], nowMs),
      cashHistory: await readCashHistory(db, deviceId, nowMs - CASH_CHART_MS),
      lastBalancing: (await readLatestBalancing(db, deviceId)) ?? null,
    };
  }

  /** Transactions per hour over the last CHART_HOURS, every kiosk together. */
  async activity(): Promise<FleetActivity> {
    const nowMs = this.services.now();
    if (this.activityCache !== undefined && nowMs - this.activityCache.nowMs < ACTIVITY_CACHE_MS) return this.activityCache;
    this.activityCache = { nowMs, transactionsPerHour: await this.hourly.perHour(this.activeDeviceIds(), nowMs) };
    return this.activityCache;
  }

  /** A balancing report of the kiosk was written (a replenishment counted a container): its alert is
   *  decided now, not at the next timed pass. */
  balancingChanged(): void {
    if (this.monitoring) this.track(this.checkNow());
  }

  /** An operator explains the kiosk's balancing differences (`bank-host fleet resolve`): every report with
   *  an unresolved difference gets the note and the time, in one batch audited as `fleet.resolve`, and the
   *  `unbalanced` alert clears. The postings stay as they are: the difference is in over/short for good. */
  async resolveBalancing(deviceId: string, resolution: string): Promise<{ readonly resolved: readonly BalancingView[]; readonly kiosk: KioskView }> {
    return runOperatorAction(this.services, 'fleet.resolve', async (run) => {
      run.facts.detail = { deviceId: deviceId.slice(0, 64) };
      if (!this.devices.isActive(deviceId)) throw new AdminError('DEVICE_UNKNOWN', `no active kiosk ${JSON.stringify(deviceId)}`);
      const note = resolution.trim();
      if (note === '' || note.length > RESOLUTION_CHARS_MAX) throw new AdminError('BAD_ARGUMENTS', `a resolution note is 1-${RESOLUTION_CHARS_MAX} characters`);
      return this.services.locks.withLocks([unresolvedBalancingPrefix(deviceId)], async () => {
        const nowMs = this.services.now();
        const unresolved = await readUnresolvedBalancings(this.services.db, deviceId);
        if (unresolved.length === 0) throw new AdminError('NOTHING_TO_RESOLVE', `${deviceId} has no balancing difference waiting for an operator`);
        const ops = [];
        let differenceCents = 0;
        for (const view of unresolved) {
          const record = (await readBalancing(this.services.db, deviceId, view.balancedMs)) ?? { deviceId, balancedMs: view.balancedMs, containers: [] };
          differenceCents += record.containers.reduce((sum, c) => sum + c.differenceCents, 0);
          ops.push(...resolvedBalancingOps(record, note, nowMs));
        }
        run.facts.amountCents = Math.abs(differenceCents);
        run.facts.detail = { deviceId, reports: unresolved.length, differenceCents, resolution: note };
        await run.commit(ops);
        if (this.monitoring) await this.checkNow();
        return { resolved: unresolved.map((v) => ({ ...v, unbalanced: false, resolvedMs: nowMs, resolution: note })), kiosk: this.view(deviceId) };
      });
    });
  }

  /** An operator sets a kiosk's own low-cash rule (a field left out keeps the host's), or with `reset`
   *  goes back to the host's. Audited as `fleet.threshold`. */
  async setThreshold(deviceId: string, change: LowCashThreshold & { readonly reset?: boolean }): Promise<KioskView> {
    return runOperatorAction(this.services, 'fleet.threshold', async (run) => {
      run.facts.detail = { deviceId: deviceId.slice(0, 64) };
      if (!this.devices.isActive(deviceId)) throw new AdminError('DEVICE_UNKNOWN', `no active kiosk ${JSON.stringify(deviceId)}`);
      const threshold: LowCashThreshold | undefined = change.reset
        ? undefined
        : {
            ...(change.lowCashNotesPerCassette !== undefined && { lowCashNotesPerCassette: change.lowCashNotesPerCassette }),
            ...(change.lowCashCents !== undefined && { lowCashCents: change.lowCashCents }),
          };
      run.facts.detail = {
        deviceId,
        ...(threshold === undefined ? { reset: true } : {}),
        ...(threshold?.lowCashNotesPerCassette !== undefined && { lowCashNotesPerCassette: threshold.lowCashNotesPerCassette }),
        ...(threshold?.lowCashCents !== undefined && { lowCashCents: threshold.lowCashCents }),
      };
      await run.commit([threshold === undefined ? { type: 'del', key: fleetThresholdKey(deviceId) } : { type: 'put', key: fleetThresholdKey(deviceId), value: threshold }]);
      const entry = this.entry(deviceId);
      if (threshold === undefined) delete entry.threshold;
      else entry.threshold = threshold;
      if (this.monitoring) await this.reconcile([deviceId]);
      return this.view(deviceId);
    });
  }
}
