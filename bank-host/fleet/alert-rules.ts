// When a kiosk needs a person: the alert rules, as pure functions of what the host knows. The kinds that
// follow from the kiosk's own report are decided here for each report; the kinds that need the ledger
// (stale holds, open deposits, money exceptions, an unbalanced count) come from store-scan.ts; `offline`
// from the time since the last report. docs/operations.md lists every rule with its threshold.
import type { KioskStatus } from '../../protocol/messages.js';
import type { HostConfig } from '../config.js';
import type { AlertKind, AlertSeverity, CashboxView, LowCashThresholdView } from './views.js';

/** A condition that holds now; the alert book raises an alert for each one not yet raised and clears
 *  each raised alert whose condition no longer holds. */
export interface AlertCondition {
  readonly kind: AlertKind;
  readonly subject?: string;
  readonly detail: string;
}

export const ALERT_SEVERITY: Readonly<Record<AlertKind, AlertSeverity>> = {
  offline: 'critical',
  'out-of-service': 'critical',
  'device-fault': 'warning',
  'low-cash': 'warning',
  'cashbox-nearly-full': 'warning',
  'paper-low': 'warning',
  'paper-out': 'warning',
  'stale-holds': 'warning',
  'open-deposits': 'warning',
  'money-exceptions': 'critical',
  unbalanced: 'critical',
};

/** A kiosk's own low-cash rule, set by an operator; absent fields take the host's. */
export interface LowCashThreshold {
  readonly lowCashNotesPerCassette?: number;
  readonly lowCashCents?: number;
}

export function thresholdInForce(own: LowCashThreshold | undefined, config: HostConfig): LowCashThresholdView {
  return {
    lowCashNotesPerCassette: own?.lowCashNotesPerCassette ?? config.lowCashNotesPerCassette,
    lowCashCents: own?.lowCashCents ?? config.lowCashCents,
    source: own !== undefined && (own.lowCashNotesPerCassette !== undefined || own.lowCashCents !== undefined) ? 'kiosk' : 'host',
  };
}

export function cassettesValueCents(status: KioskStatus): number {
  return status.cassettes.reduce((sum, c) => sum + c.denominationCents * c.count, 0);
}

export function cashboxOf(status: KioskStatus): CashboxView | null {
  const acceptor = status.noteAcceptor;
  if (acceptor === undefined) return null;
  const notes = acceptor.cashbox.reduce((sum, n) => sum + n.count, 0);
  return { notes, capacityNotes: acceptor.cashboxCapacityNotes, fillPercent: Math.min(100, Math.floor((notes * 100) / acceptor.cashboxCapacityNotes)) };
}

const dollars = (cents: number) => `$${(cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
/** Free text from the kiosk, bounded for an alert's detail. */
const clip = (text: string, max = 200) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** The conditions a kiosk's report shows: out of service, each faulty device, low cash, a nearly full
 *  cashbox, paper low or out. */
export function statusConditions(status: KioskStatus, threshold: LowCashThresholdView, config: HostConfig): AlertCondition[] {
  const found: AlertCondition[] = [];
  if (!status.inService) found.push({ kind: 'out-of-service', detail: clip(status.reasons.join('; ') || 'no reason given') });
  for (const device of status.devices) {
    if (device.state === 'fault') found.push({ kind: 'device-fault', subject: device.device, detail: clip(device.detail ?? `${device.device} reports a fault`) });
  }
  if (status.cassettes.length > 0) {
    const lowCassettes = threshold.lowCashNotesPerCassette > 0 ? status.cassettes.filter((c) => c.count < threshold.lowCashNotesPerCassette) : [];
    const valueCents = cassettesValueCents(status);
    const lowValue = threshold.lowCashCents > 0 && valueCents < threshold.lowCashCents;
    if (lowCassettes.length > 0 || lowValue) {
      const parts = lowCassettes.map((c) => `${dollars(c.denominationCents)} cassette: ${c.count} notes (below ${threshold.lowCashNotesPerCassette})`);
      if (lowValue) parts.push(`${dollars(valueCents)} in the cassettes (below ${dollars(threshold.lowCashCents)})`);
      found.push({ kind: 'low-cash', detail: parts.join('; ') });
    }
  }
  const cashbox = cashboxOf(status);
  // Compared in notes (not the rounded percent): 900 of 1,000 at 90 % is nearly full, 899 is not.
  if (cashbox !== null && cashbox.notes * 100 >= cashbox.capacityNotes * config.cashboxNearlyFullPercent) {
    found.push({ kind: 'cashbox-nearly-full', detail: `${cashbox.notes} of ${cashbox.capacityNotes} notes (${cashbox.fillPercent} %)` });
  }
  if (status.receiptPaper === 'low') found.push({ kind: 'paper-low', detail: 'receipt paper is low' });
  if (status.receiptPaper === 'out') found.push({ kind: 'paper-out', detail: 'receipt paper is out: no receipts' });
  return found;
}

/** `offline` when the last report is older than the host's bound. A kiosk that never reported is not
 *  offline: it may not be installed yet (its state says `never-reported`). */
export function offlineCondition(lastReportMs: number | undefined, nowMs: number, config: HostConfig): AlertCondition | undefined {
  if (lastReportMs === undefined || nowMs - lastReportMs <= config.kioskOfflineAfterMs) return undefined;
  return { kind: 'offline', detail: `no report since ${new Date(lastReportMs).toISOString()}` };
}

/** The key that names one alert of a kiosk: its kind, and its subject when it has one. */
export function alertName(condition: { readonly kind: AlertKind; readonly subject?: string }): string {
  return condition.subject === undefined ? condition.kind : `${condition.kind}:${condition.subject}`;
}
