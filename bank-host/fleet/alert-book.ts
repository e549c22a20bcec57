// The alerts raised and not yet cleared, kept in the store (`alert:<deviceId>:<kind>[:<subject>]`) and in
// memory. Each alert is raised once and cleared once: the stored record says it is raised, and each
// change is written with its audit record (`alert.raise` / `alert.clear`, naming the kiosk, the kind and
// the subject, never free text from the kiosk) in one synced batch. Changes are made one reconciliation
// at a time, so two reports of one kiosk never raise its alert twice.
import type { AuditedCommitter, AuditEvent } from '../audit/event.js';
import type { BatchOp, KeyValueStore } from '../store/host-store.js';
import { ALERT_SEVERITY, type AlertCondition, alertName } from './alert-rules.js';
import type { AlertView } from './views.js';

export const ALERT_PREFIX = 'alert:';
export const alertPrefix = (deviceId: string): string => `${ALERT_PREFIX}${deviceId}:`;
export const alertKey = (deviceId: string, name: string): string => `${alertPrefix(deviceId)}${name}`;

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
  ) {}

  static async load(db: KeyValueStore, committer: AuditedCommitter): Promise<AlertBook> {
    const book = new AlertBook(db, committer);
    for await (const [key, alert] of db.entries<AlertView>(ALERT_PREFIX)) {
      const deviceId = key.slice(ALERT_PREFIX.length, key.indexOf(':', ALERT_PREFIX.length));
      book.remember(deviceId, key.slice(alertPrefix(deviceId).length), alert);
    }
    return book;
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
   *  state. Resolves with what changed once that is durable. */
  reconcile(conditions: () => ReadonlyMap<string, readonly AlertCondition[]>, nowMs: () => number): Promise<AlertChanges> {
    const turn = this.writing.then(() => this.reconcileNow(conditions(), nowMs()));
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
