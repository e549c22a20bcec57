// The alerts raised and not yet cleared, kept in the store (`alert:<deviceId>:<kind>[:<subject>]`) and in
// memory. Each alert is raised once and cleared once: the stored record says it is raised, and each
// change is written with its audit record (`alert.raise` / `alert.clear`, naming the kiosk, the kind and
// the subject, never free text from the kiosk) in one synced batch. Changes are made one reconciliation
// at a time, so two reports of one kiosk never raise its alert twice. Where several hosts share the store
// (PostgreSQL), a reconciliation holds the store's lock on the book and reads the alerts it decides from
// the store first, so hosts take turns and each starts from what the others wrote.
import type { AuditedCommitter, AuditEvent } from '../audit/event.js';
import type { BatchOp, KeyValueStore, StoreLocks } from '../store/host-store.js';
import { ALERT_SEVERITY, type AlertCondition, alertName } from './alert-rules.js';
import type { AlertView } from './views.js';

export const ALERT_PREFIX = 'alert:';
export const alertPrefix = (deviceId: string): string => `${ALERT_PREFIX}${deviceId}:`;
export const alertKey = (deviceId: string, name: string): string => `${alertPrefix(deviceId)}${name}`;
/** The lock every host's reconciliation holds on a shared store. */
export const ALERT_BOOK_LOCK = 'lock:alert-book';

/** The severity order the console and the CLI list alerts in. */
const SEVERITY_RANK = { critical: 0, warning: 1 } as const;

export function sortAlerts(alerts: AlertView[]): AlertView[] {
  return alerts.sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || a.raisedMs - b.raisedMs || a.deviceId.localeCompare(b.deviceId));
}

export interface AlertChanges {
  readonly raised: readonly AlertView[];
  readonly cleared: readonly AlertView[];
}

export class AlertBook {
  /** deviceId → alert name → alert. */
  private readonly byDevice = new Map<string, Map<string, AlertView>>();
  private writing: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly db: KeyValueStore,
    private readonly committer: AuditedCommitter,
    /** The store's locks when other hosts write the book too; undefined when this process is its only writer. */
    private readonly shared: StoreLocks | undefined,
  ) {}

  static async load(db: KeyValueStore, committer: AuditedCommitter, shared?: StoreLocks): Promise<AlertBook> {
    const book = new AlertBook(db, committer, shared);
    await book.reload(undefined);
    return book;
  }

  /** Reads the alerts of `deviceIds` (every kiosk's when undefined) from the store again. */
  private async reload(deviceIds: readonly string[] | undefined): Promise<void> {
    const read = new Map<string, Map<string, AlertView>>();
    const prefixes = deviceIds === undefined ? [ALERT_PREFIX] : deviceIds.map(alertPrefix);
    for (const prefix of prefixes) {
      for await (const [key, alert] of this.db.entries<AlertView>(prefix)) {
        const deviceId = key.slice(ALERT_PREFIX.length, key.indexOf(':', ALERT_PREFIX.length));
        let alerts = read.get(deviceId);
        if (alerts === undefined) read.set(deviceId, (alerts = new Map()));
        alerts.set(key.slice(alertPrefix(deviceId).length), alert);
      }
    }
    if (deviceIds === undefined) this.byDevice.clear();
    else for (const deviceId of deviceIds) this.byDevice.delete(deviceId);
    for (const [deviceId, alerts] of read) this.byDevice.set(deviceId, alerts);
  }

  private remember(deviceId: string, name: string, alert: AlertView): void {
    let alerts = this.byDevice.get(deviceId);
    if (alerts === undefined) this.byDevice.set(deviceId, (alerts = new Map()));
    alerts.set(name, alert);
  }

  of(deviceId: string): AlertView[] {
    return sortAlerts([...(this.byDevice.get(deviceId)?.values() ?? [])]);
  }

  all(): AlertView[] {
    return sortAlerts([...this.byDevice.values()].flatMap((alerts) => [...alerts.values()]));
  }

  /** Kiosks with an alert raised. */
  devices(): string[] {
    return [...this.byDevice.keys()];
  }

  /** Brings the alerts of each kiosk in `conditions` to exactly its conditions: raises those not raised,
   *  clears those whose condition is gone, in one batch with their audit records. Runs after every
   *  reconciliation already asked for; `conditions` is called when its turn comes, so it sees the latest
   *  state. Resolves with what changed once that is durable. `deviceIds` are the kiosks `conditions` will
   *  name (undefined: it may name any), whose alerts are read from a shared store first. */
  reconcile(conditions: () => ReadonlyMap<string, readonly AlertCondition[]>, nowMs: () => number, deviceIds?: readonly string[]): Promise<AlertChanges> {
    const shared = this.shared;
    const turn = this.writing.then(() =>
      shared === undefined
        ? this.reconcileNow(conditions(), nowMs())
        : shared.withLocks([ALERT_BOOK_LOCK], async () => {
            await this.reload(deviceIds);
            return this.reconcileNow(conditions(), nowMs());
          }),
    );
    this.writing = turn.catch(() => undefined);
    return turn;
  }

  private async reconcileNow(conditions: ReadonlyMap<string, readonly AlertCondition[]>, nowMs: number): Promise<AlertChanges> {
    const ops: BatchOp[] = [];
    const events: AuditEvent[] = [];
    const raised: { deviceId: string; name: string; alert: AlertView }[] = [];
    const cleared: { deviceId: string; name: string; alert: AlertView }[] = [];
    const restated: { deviceId: string; name: string; alert: AlertView }[] = [];
    for (const [deviceId, holding] of conditions) {
      const current = this.byDevice.get(deviceId) ?? new Map<string, AlertView>();
      const wanted = new Map(holding.map((condition) => [alertName(condition), condition]));
      for (const [name, condition] of wanted) {
        const standing = current.get(name);
        if (standing !== undefined) {
          // Still raised, with new facts (fewer notes, another reason): the record says what holds now,
          // without a second audit record.
          if (standing.detail !== condition.detail) {
            const alert = { ...standing, detail: condition.detail };
            restated.push({ deviceId, name, alert });
            ops.push({ type: 'put', key: alertKey(deviceId, name), value: alert });
          }
          continue;
        }
        const alert: AlertView = {
          deviceId,
          kind: condition.kind,
          ...(condition.subject !== undefined && { subject: condition.subject }),
          severity: ALERT_SEVERITY[condition.kind],
          raisedMs: nowMs,
          detail: condition.detail,
        };
        raised.push({ deviceId, name, alert });
        ops.push({ type: 'put', key: alertKey(deviceId, name), value: alert });
        events.push(alertEvent('alert.raise', alert));
      }
      for (const [name, alert] of current) {
        if (wanted.has(name)) continue;
        cleared.push({ deviceId, name, alert });
        ops.push({ type: 'del', key: alertKey(deviceId, name) });
        events.push(alertEvent('alert.clear', alert, nowMs - alert.raisedMs));
      }
    }
    if (ops.length === 0) return { raised: [], cleared: [] };
    await this.committer.commit({ ops, events });
    for (const { deviceId, name, alert } of [...raised, ...restated]) this.remember(deviceId, name, alert);
    for (const { deviceId, name } of cleared) {
      const alerts = this.byDevice.get(deviceId);
      alerts?.delete(name);
      if (alerts?.size === 0) this.byDevice.delete(deviceId);
    }
    return { raised: raised.map((r) => r.alert), cleared: cleared.map((c) => c.alert) };
  }
}

function alertEvent(action: 'alert.raise' | 'alert.clear', alert: AlertView, raisedForMs?: number): AuditEvent {
  return {
    action,
    outcome: 'ok',
    deviceId: alert.deviceId,
    detail: {
      kind: alert.kind,
      severity: alert.severity,
      ...(alert.subject !== undefined && { subject: alert.subject }),
      ...(raisedForMs !== undefined && { raisedForMs }),
    },
  };
}
