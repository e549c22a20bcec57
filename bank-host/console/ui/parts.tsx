// Pieces both pages draw: a kiosk's state, its alerts, and its cash as bars. Every bar and colour has its
// words beside it, so nothing is said by colour alone.
import type { AlertView, CashboxView, CassetteView, KioskState } from '../../fleet/views.js';
import { ALERT_LABEL, STATE_LABEL, formatAgo, formatCount, formatNote } from './format.js';

/** Cassette bars are drawn against a standard cassette of this many notes (the protocol does not carry a
 *  cassette's capacity); the count is written beside the bar. */
export const CASSETTE_BAR_NOTES = 2_000;

export function StateBadge({ state }: { state: KioskState }) {
  return <span class={`badge state-${state}`}>{STATE_LABEL[state]}</span>;
}

export function Bar({ fraction, tone, label }: { fraction: number; tone: 'ok' | 'low' | 'full'; label: string }) {
  const width = Math.max(0, Math.min(100, Math.round(fraction * 100)));
  return (
    <svg class={`bar bar-${tone}`} viewBox="0 0 100 8" preserveAspectRatio="none" role="img" aria-label={label}>
      <rect class="bar-track" x="0" y="0" width="100" height="8" />
      <rect class="bar-fill" x="0" y="0" width={String(width)} height="8" />
    </svg>
  );
}

export function CassetteBars({ cassettes, lowNotes }: { cassettes: readonly CassetteView[]; lowNotes: number }) {
  if (cassettes.length === 0) return <p class="muted">No cassettes reported</p>;
  return (
    <ul class="bars">
      {cassettes.map((c, i) => {
        const text = `Cassette ${i + 1}: ${formatCount(c.count)} × ${formatNote(c.denominationCents)}`;
        const low = lowNotes > 0 && c.count < lowNotes;
        return (
          <li key={i}>
            <span class="bar-text">
              {text}
              {low ? <strong class="flag"> (low)</strong> : null}
            </span>
            <Bar fraction={c.count / Math.max(CASSETTE_BAR_NOTES, c.count)} tone={low ? 'low' : 'ok'} label={`${text}${low ? ', low' : ''}`} />
          </li>
        );
      })}
    </ul>
  );
}

export function CashboxBar({ cashbox, nearlyFull }: { cashbox: CashboxView | null; nearlyFull: boolean }) {
  if (cashbox === null) return <p class="muted">No note acceptor</p>;
  const text = `Cashbox: ${formatCount(cashbox.notes)} of ${formatCount(cashbox.capacityNotes)} notes (${cashbox.fillPercent} %)`;
  return (
    <div class="bars">
      <span class="bar-text">
        {text}
        {nearlyFull ? <strong class="flag"> (nearly full)</strong> : null}
      </span>
      <Bar fraction={cashbox.fillPercent / 100} tone={nearlyFull ? 'full' : 'ok'} label={`${text}${nearlyFull ? ', nearly full' : ''}`} />
    </div>
  );
}

export function AlertList({ alerts, nowMs, showKiosk }: { alerts: readonly AlertView[]; nowMs: number; showKiosk: boolean }) {
  if (alerts.length === 0) return <p class="muted">No alerts.</p>;
  return (
    <ul class="alerts">
      {alerts.map((a) => (
        <li key={`${a.deviceId} ${a.kind} ${a.subject ?? ''}`} class={`alert alert-${a.severity}`} data-alert={a.kind} data-kiosk={a.deviceId}>
          <span class={`severity severity-${a.severity}`}>{a.severity === 'critical' ? 'Critical' : 'Warning'}</span>{' '}
          {showKiosk ? (
            <>
              <a href={`#/kiosks/${a.deviceId}`}>{a.deviceId}</a>{' '}
            </>
          ) : null}
          <strong>
            {ALERT_LABEL[a.kind]}
            {a.subject ? ` (${a.subject})` : ''}
          </strong>{' '}
          <span class="since">since {formatAgo(a.raisedMs, nowMs)}</span>
          <div class="detail">{a.detail}</div>
        </li>
      ))}
    </ul>
  );
}
