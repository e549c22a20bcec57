// The host's Prometheus metrics (`/metrics` on the console's listener), with prom-client and a registry of
// the host's own (never the library's global one: two hosts in one process, as in the tests, keep apart).
// Counters the host already keeps (the channel's, the group committer's) are read at scrape time; request
// counts and latencies are observed by the dispatcher below; the fleet's figures come from its memory and
// a pass over the ledger's open items (HOLDS_MAX_AGE_MS).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ResponseEnvelope } from '../../protocol/envelope.js';
import { isMessageType } from '../../protocol/messages.js';
import type { Fleet } from '../fleet/fleet.js';
import { KIOSK_STATES, type FleetOverview } from '../fleet/views.js';
import type { ConnectionState } from '../operations/context.js';
import type { ChannelStats } from '../server/channel-server.js';
import { Dispatcher, type DispatcherDeps } from '../server/dispatcher.js';
import type { GroupCommitStats } from '../store/group-commit.js';
import type { PostgresStore } from '../store/postgres/index.js';

/** A scrape takes its own pass over the ledger's open items (one pass at a time however many scrape): a
 *  scrape every 15 s costs about what the host's own 30 s pass does, and its figures are never stale. */
export const HOLDS_MAX_AGE_MS = 0;
/** Request latency buckets, in seconds: a request waits for one synced batch (about a millisecond) and the
 *  event loop; anything over a second is a host in trouble. */
const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface MetricSources {
  readonly channel: () => ChannelStats | undefined;
  readonly commits: () => GroupCommitStats;
  readonly fleet: Fleet;
  /** The PostgreSQL store, when the host keeps its state there (no store metrics on LevelDB). */
  readonly postgres?: Pick<PostgresStore, 'stats' | 'connections'>;
}

export class HostMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'type' | 'outcome'>;
  private readonly latency: Histogram<'type' | 'outcome'>;
  /** Children by `type outcome`: prom-client hashes labels on every call otherwise. */
  private readonly children = new Map<string, { count: Counter.Internal; seconds: Histogram.Internal<'type' | 'outcome'> }>();

  /** The fleet as one scrape sees it: taken once at its start, read by every fleet gauge. */
  private scrapeOverview: FleetOverview | undefined;

  constructor(private readonly sources: MetricSources) {
    const registers = [this.registry];
    const overview = () => this.scrapeOverview ?? sources.fleet.overview();
    collectDefaultMetrics({ register: this.registry });
    // prom-client names these gauges `_total`, which Prometheus reserves for counters (promtool check metrics
    // refuses them); the process's handles and requests are not worth a lint exception.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    const channelGauge = (name: string, help: string, read: (stats: ChannelStats) => number) =>
      new Gauge({ name, help, registers, collect() { const stats = sources.channel(); if (stats) this.set(read(stats)); } });
    const channelCounter = (name: string, help: string, read: (stats: ChannelStats) => number) =>
      new Counter({ name, help, registers, collect() { const stats = sources.channel(); this.reset(); if (stats) this.inc(read(stats)); } });
    channelGauge('bankhost_connections_open', 'Kiosk channel connections open now', (s) => s.connectionsOpen);
    channelCounter('bankhost_connections_refused_total', 'Connections refused: the host was full or a device at its own limit', (s) => s.connectionsRefused);
    channelCounter('bankhost_connections_evicted_total', 'Connections closed in their handshake to make room for a new one', (s) => s.connectionsEvicted);
    channelCounter('bankhost_connections_replaced_total', "A device's silent connections closed for its new one", (s) => s.connectionsReplaced);
    channelCounter('bankhost_handshakes_completed_total', 'TLS 1.3-PSK handshakes completed', (s) => s.handshakesCompleted);
    new Counter({
      name: 'bankhost_handshake_failures_total',
      help: 'Handshakes refused or abandoned, by reason',
      labelNames: ['reason'],
      registers,
      collect() {
        const stats = sources.channel();
        this.reset();
        if (stats) for (const [reason, n] of Object.entries(stats.handshakeFailures)) this.inc({ reason }, n);
      },
    });
    new Counter({
      name: 'bankhost_record_failures_total',
      help: 'Established connections closed because a TLS record failed, by reason',
      labelNames: ['reason'],
      registers,
      collect() {
        const stats = sources.channel();
        this.reset();
        if (stats) for (const [reason, n] of Object.entries(stats.recordFailures)) this.inc({ reason }, n);
      },
    });
    this.requests = new Counter({ name: 'bankhost_requests_total', help: 'Kiosk requests answered, by message type and outcome (ok or the error code)', labelNames: ['type', 'outcome'], registers });
    this.latency = new Histogram({
      name: 'bankhost_request_duration_seconds',
      help: 'Time from a kiosk request read to its answer, by message type and outcome',
      labelNames: ['type', 'outcome'],
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
    new Counter({ name: 'bankhost_group_commit_batches_total', help: 'Synced LevelDB batches written by the group committer', registers, collect() { this.reset(); this.inc(sources.commits().batches); } });
    new Counter({ name: 'bankhost_group_commit_changes_total', help: 'Changes (requests, operator actions) written in those batches', registers, collect() { this.reset(); this.inc(sources.commits().changes); } });
    new Gauge({ name: 'bankhost_group_commit_batch_changes_max', help: 'The most changes one synced batch has carried since the host started', registers, collect() { this.set(sources.commits().maxChangesInBatch); } });

    const postgres = sources.postgres;
    if (postgres !== undefined) {
      const storeCounter = (name: string, help: string, read: () => number) => new Counter({ name, help, registers, collect() { this.reset(); this.inc(read()); } });
      new Counter({
        name: 'bankhost_store_units_total',
        help: 'Units of work (a request, an operator action) on PostgreSQL, by how they ended: committed, rolled_back (changed nothing) or failed',
        labelNames: ['outcome'],
        registers,
        collect() {
          this.reset();
          this.inc({ outcome: 'committed' }, postgres.stats.unitsCommitted);
          this.inc({ outcome: 'rolled_back' }, postgres.stats.unitsRolledBack);
          this.inc({ outcome: 'failed' }, postgres.stats.unitsFailed);
        },
      });
      new Counter({
        name: 'bankhost_store_failures_total',
        help: 'Store failures by code (STORE_UNAVAILABLE while the primary is lost, STORE_BUSY when connections or locks ran out, ...)',
        labelNames: ['code'],
        registers,
        collect() {
          this.reset();
          for (const [code, count] of Object.entries(postgres.stats.failures)) this.inc({ code }, count ?? 0);
        },
      });
      storeCounter('bankhost_store_lock_steps_total', 'Lock statements sent after a unit\'s BEGIN: settlements at a host that did not write their hold or deposit, among others', () => postgres.stats.lockSteps);
      storeCounter('bankhost_store_group_commits_total', 'COMMITs that carried the staged writes of earlier units of work with their own (the group commit, when units wait for connections)', () => postgres.stats.groupCommits);
      storeCounter('bankhost_store_units_grouped_total', 'Units of work whose writes were staged and committed by a later unit\'s COMMIT', () => postgres.stats.unitsGrouped);
      storeCounter('bankhost_store_connects_total', 'Connections the store opened to PostgreSQL (each lane once, and again after a failure or a failover)', () => postgres.connections.connects);
      storeCounter('bankhost_store_primary_changes_total', 'Primaries the store has found, the first at start included: each later one is a failover it followed', () => postgres.connections.primaryChanges);
      new Gauge({
        name: 'bankhost_store_connections',
        help: 'The store\'s connections (lanes) to PostgreSQL, by state: busy (in a unit of work or a read) or idle',
        labelNames: ['state'],
        registers,
        collect() {
          const { size, busy } = postgres.connections;
          this.set({ state: 'busy' }, busy);
          this.set({ state: 'idle' }, size - busy);
        },
      });
      new Gauge({ name: 'bankhost_store_waiting', help: 'Callers waiting for a free connection to PostgreSQL', registers, collect() { this.set(postgres.connections.waiting); } });
    }

    const fleet = sources.fleet;
    const holdGauge = (name: string, help: string, read: (t: NonNullable<ReturnType<Fleet['holdTotals']>>) => number) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          await fleet.refreshScan(HOLDS_MAX_AGE_MS);
          const totals = fleet.holdTotals();
          if (totals) this.set(read(totals));
        },
      });
    holdGauge('bankhost_withdrawal_holds_open', 'Withdrawal holds authorized and not yet completed or reversed', (t) => t.withdrawalHolds);
    holdGauge('bankhost_withdrawal_holds_open_cents', 'Money on open withdrawal holds, in cents', (t) => t.withdrawalHeldCents);
    holdGauge('bankhost_withdrawal_holds_needing_attention', 'Open withdrawal holds older than holdAttentionAfterMs (bank-host holds list)', (t) => t.withdrawalHoldsNeedingAttention);
    holdGauge('bankhost_deposit_holds_open', 'Deposit holds not yet released', (t) => t.depositHolds);
    holdGauge('bankhost_deposit_holds_open_cents', 'Money on deposit holds not yet released, in cents', (t) => t.depositHeldCents);

    new Gauge({
      name: 'bankhost_kiosks',
      help: 'Enrolled kiosks by state (in-service, out-of-service, offline, never-reported)',
      labelNames: ['state'],
      registers,
      collect() {
        const { counts } = overview();
        for (const state of KIOSK_STATES) this.set({ state }, counts[state]);
      },
    });
    new Gauge({
      name: 'bankhost_alerts',
      help: 'Alerts raised and not cleared, by kind and severity',
      labelNames: ['kind', 'severity'],
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, { kind: string; severity: string; n: number }>();
        for (const a of overview().alerts) {
          const key = `${a.kind} ${a.severity}`;
          const entry = counts.get(key) ?? { kind: a.kind, severity: a.severity, n: 0 };
          entry.n++;
          counts.set(key, entry);
        }
        for (const { kind, severity, n } of counts.values()) this.set({ kind, severity }, n);
      },
    });
    const perKiosk = (name: string, help: string, labelNames: string[], fill: (gauge: Gauge<string>, kiosks: ReturnType<Fleet['overview']>['kiosks']) => void) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          fill(this, overview().kiosks);
        },
      });
    perKiosk('bankhost_kiosk_in_service', '1 when the kiosk last reported itself in service and is not offline', ['kiosk'], (g, ks) => ks.forEach((k) => g.set({ kiosk: k.deviceId }, k.state === 'in-service' ? 1 : 0)));
    perKiosk('bankhost_kiosk_connected', '1 when the kiosk has a channel connection to this host', ['kiosk'], (g, ks) => ks.forEach((k) => g.set({ kiosk: k.deviceId }, k.connected ? 1 : 0)));
    perKiosk('bankhost_kiosk_last_report_timestamp_seconds', "When the host received the kiosk's last report", ['kiosk'], (g, ks) =>
      ks.forEach((k) => k.lastReportMs !== null && g.set({ kiosk: k.deviceId }, k.lastReportMs / 1000)),
    );
    perKiosk('bankhost_kiosk_cash_cents', "Value of the notes in the kiosk's cassettes as it last reported them, in cents", ['kiosk'], (g, ks) =>
      ks.forEach((k) => k.lastReportMs !== null && g.set({ kiosk: k.deviceId }, k.cashCents)),
    );
    perKiosk('bankhost_kiosk_cassette_notes', 'Notes in each cassette as the kiosk last reported them', ['kiosk', 'cassette', 'denomination_cents'], (g, ks) =>
      ks.forEach((k) => k.cassettes.forEach((c, i) => g.set({ kiosk: k.deviceId, cassette: String(i), denomination_cents: String(c.denominationCents) }, c.count))),
    );
    perKiosk('bankhost_kiosk_cashbox_notes', "Notes in the kiosk's cashbox as it last reported them", ['kiosk'], (g, ks) =>
      ks.forEach((k) => k.cashbox && g.set({ kiosk: k.deviceId }, k.cashbox.notes)),
    );
    perKiosk('bankhost_kiosk_cashbox_capacity_notes', "The kiosk's cashbox capacity in notes", ['kiosk'], (g, ks) =>
      ks.forEach((k) => k.cashbox && g.set({ kiosk: k.deviceId }, k.cashbox.capacityNotes)),
    );
  }

  observeRequest(type: string, outcome: string, seconds: number): void {
    const key = `${type} ${outcome}`;
    let child = this.children.get(key);
    if (child === undefined) {
      child = { count: this.requests.labels(type, outcome), seconds: this.latency.labels(type, outcome) };
      this.children.set(key, child);
    }
    child.count.inc();
    child.seconds.observe(seconds);
  }

  async text(): Promise<string> {
    this.scrapeOverview = this.sources.fleet.overview();
    try {
      return await this.registry.metrics();
    } finally {
      this.scrapeOverview = undefined;
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The host's dispatcher, counting each answer by message type and outcome, with its latency. A type the
 *  host does not know is counted as `unknown`, so a kiosk cannot grow the label set. */
export class MeteredDispatcher extends Dispatcher {
  constructor(
    deps: DispatcherDeps,
    private readonly metrics: HostMetrics,
  ) {
    super(deps);
  }

  override async dispatch(connection: ConnectionState, document: unknown): Promise<ResponseEnvelope> {
    const startedMs = performance.now();
    const response = await super.dispatch(connection, document);
    const type = (document as { type?: unknown } | null)?.type;
    this.metrics.observeRequest(typeof type === 'string' && isMessageType(type) ? type : 'unknown', response.ok ? 'ok' : response.error.code, (performance.now() - startedMs) / 1000);
    return response;
  }
}

