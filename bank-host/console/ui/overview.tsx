// The fleet at a glance: alerts first, then every kiosk as a tile (state, cash as bars), the same in a
// table, and the fleet's transactions per hour.
import type { FleetActivity, FleetOverview, KioskView } from '../../fleet/views.js';
import { usePolling } from './api.js';
import { HourChart } from './charts.js';
import { STATE_LABEL, formatAgo, formatCents } from './format.js';
import { AlertList, CashboxBar, CassetteBars, StateBadge } from './parts.js';

/** How often the fleet is read again: a kiosk's change shows within this. */
export const FLEET_REFRESH_MS = 2_000;
const ACTIVITY_REFRESH_MS = 60_000;

const hasAlert = (k: KioskView, kind: string) => k.alerts.some((a) => a.kind === kind);

export function OverviewPage() {
  const fleet = usePolling<FleetOverview>('/api/fleet', FLEET_REFRESH_MS);
  const activity = usePolling<FleetActivity>('/api/activity', ACTIVITY_REFRESH_MS);
  const o = fleet.data;
  return (
    <>
      <h1>Fleet</h1>
      {fleet.error ? <p class="notice" role="status">Could not refresh: {fleet.error}</p> : null}
      {o === undefined ? (
        <p role="status">Loading…</p>
      ) : (
        <>
          <ul class="counts" aria-label="Kiosks by state">
            {(Object.keys(o.counts) as (keyof typeof o.counts)[]).map((state) => (
              <li key={state} class={`state-${state}`}>
                <span class="count">{o.counts[state]}</span> {STATE_LABEL[state]}
              </li>
            ))}
          </ul>
          <section aria-labelledby="alerts-h">
            <h2 id="alerts-h">Alerts ({o.alerts.length})</h2>
            <AlertList alerts={o.alerts} nowMs={o.nowMs} showKiosk={true} />
          </section>
          <section aria-labelledby="tiles-h">
            <h2 id="tiles-h">Kiosks</h2>
            {o.kiosks.length === 0 ? <p class="muted">No kiosks are enrolled.</p> : null}
            <ul class="tiles">
              {o.kiosks.map((k) => (
                <li key={k.deviceId} class={`tile tile-${k.state}`} data-kiosk={k.deviceId} data-state={k.state}>
                  <h3>
                    <a href={`#/kiosks/${k.deviceId}`}>{k.deviceId}</a>
                  </h3>
                  <p>
                    <StateBadge state={k.state} /> {k.alerts.length > 0 ? <span class="alert-count">{k.alerts.length} alert{k.alerts.length === 1 ? '' : 's'}</span> : null}
                  </p>
                  <p class="cash">{formatCents(k.cashCents)} in the cassettes</p>
                  <CassetteBars cassettes={k.cassettes} lowNotes={k.threshold.lowCashNotesPerCassette} />
                  <CashboxBar cashbox={k.cashbox} nearlyFull={hasAlert(k, 'cashbox-nearly-full')} />
                </li>
              ))}
            </ul>
          </section>
          <section aria-labelledby="table-h">
            <h2 id="table-h">All kiosks</h2>
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Kiosk</th>
                    <th scope="col">State</th>
                    <th scope="col">Connected</th>
                    <th scope="col">Last report</th>
                    <th scope="col">Cash</th>
                    <th scope="col">Cashbox</th>
                    <th scope="col">Paper</th>
                    <th scope="col">Alerts</th>
                  </tr>
                </thead>
                <tbody>
                  {o.kiosks.map((k) => (
                    <tr key={k.deviceId}>
                      <th scope="row">
                        <a href={`#/kiosks/${k.deviceId}`}>{k.deviceId}</a>
                      </th>
                      <td>{STATE_LABEL[k.state]}</td>
                      <td>{k.connected === null ? '—' : k.connected ? 'Yes' : 'No'}</td>
                      <td>{k.lastReportMs === null ? 'Never' : formatAgo(k.lastReportMs, o.nowMs)}</td>
                      <td>{formatCents(k.cashCents)}</td>
                      <td>{k.cashbox ? `${k.cashbox.fillPercent} %` : '—'}</td>
                      <td>{k.receiptPaper ?? '—'}</td>
                      <td>{k.alerts.length === 0 ? 'None' : k.alerts.map((a) => a.kind).join(', ')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        </>
      )}
      <section aria-labelledby="activity-h">
        <h2 id="activity-h">Transactions per hour</h2>
        {activity.data ? <HourChart hours={activity.data.transactionsPerHour} title="Withdrawals and deposits per hour, every kiosk, last 24 hours" /> : <p role="status">Loading…</p>}
      </section>
    </>
  );
}
