// One kiosk: its state and report, alerts, devices, cash, recent transactions (a card by its last four
// digits at most), its last balancing, and its charts.
import { useEffect, useRef } from 'preact/hooks';
import type { CashPointView, KioskDetail, KioskView } from '../../fleet/views.js';
import { usePolling } from './api.js';
import { CashChart, HourChart } from './charts.js';
import { formatAgo, formatCents, formatTime } from './format.js';
import { AlertList, CashboxBar, CassetteBars, StateBadge } from './parts.js';
import { FLEET_REFRESH_MS } from './overview.js';

/** The span of the cash chart: the host keeps a week of samples and sends the last 48 hours. */
const CASH_CHART_MS = 48 * 3_600_000;

/** The host samples cash at most every few minutes; the latest report is the chart's last point. */
function withLatest(points: readonly CashPointView[], k: KioskView): readonly CashPointView[] {
  const last = points[points.length - 1];
  if (k.lastReportMs === null || (last !== undefined && last.timestampMs >= k.lastReportMs)) return points;
  return [...points, { timestampMs: k.lastReportMs, cashCents: k.cashCents, cassetteNotes: k.cassettes.map((c) => c.count), cashboxNotes: k.cashbox?.notes ?? null }];
}

export function KioskPage({ deviceId }: { deviceId: string }) {
  const detail = usePolling<KioskDetail>(`/api/kiosks/${encodeURIComponent(deviceId)}`, FLEET_REFRESH_MS);
  const heading = useRef<HTMLHeadingElement>(null);
  // A new page: its heading takes the focus, so a screen reader reads where it is.
  useEffect(() => heading.current?.focus(), [deviceId]);
  const d = detail.data;
  const k = d?.kiosk;
  return (
    <>
      <p>
        <a href="#/">← Fleet</a>
      </p>
      <h1 ref={heading} tabIndex={-1}>
        Kiosk {deviceId} {k ? <StateBadge state={k.state} /> : null}
      </h1>
      {detail.error ? <p class="notice" role="status">Could not refresh: {detail.error}</p> : null}
      {d === undefined || k === undefined ? (
        <p role="status">Loading…</p>
      ) : (
        <div class="detail-grid" data-kiosk={k.deviceId} data-state={k.state}>
          <section aria-labelledby="report-h">
            <h2 id="report-h">Last report</h2>
            <dl class="facts">
              <dt>Received</dt>
              <dd>{k.lastReportMs === null ? 'Never' : `${formatTime(k.lastReportMs)} (${formatAgo(k.lastReportMs, d.nowMs)})`}</dd>
              <dt>Connected</dt>
              <dd>{k.connected === null ? '—' : k.connected ? 'Yes' : 'No'}</dd>
              <dt>Software</dt>
              <dd>{k.softwareVersion ?? '—'}</dd>
              <dt>Unfinished transactions</dt>
              <dd>{k.pendingTransactions ?? '—'}</dd>
              <dt>Receipt paper</dt>
              <dd>{k.receiptPaper ?? '—'}</dd>
              <dt>Reasons</dt>
              <dd>{k.reasons.length === 0 ? 'None' : k.reasons.join('; ')}</dd>
            </dl>
          </section>
          <section aria-labelledby="kalerts-h">
            <h2 id="kalerts-h">Alerts ({k.alerts.length})</h2>
            <AlertList alerts={k.alerts} nowMs={d.nowMs} showKiosk={false} />
          </section>
          <section aria-labelledby="devices-h">
            <h2 id="devices-h">Devices</h2>
            {k.devices.length === 0 ? (
              <p class="muted">No devices reported.</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th scope="col">Device</th>
                    <th scope="col">State</th>
                    <th scope="col">Detail</th>
                  </tr>
                </thead>
                <tbody>
                  {k.devices.map((x) => (
                    <tr key={x.device}>
                      <th scope="row">{x.device}</th>
                      <td>{x.state}</td>
                      <td>{x.detail ?? ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <section aria-labelledby="cash-h">
            <h2 id="cash-h">Cash</h2>
            <p class="cash">{formatCents(k.cashCents)} in the cassettes</p>
            <CassetteBars cassettes={k.cassettes} lowNotes={k.threshold.lowCashNotesPerCassette} />
            <CashboxBar cashbox={k.cashbox} nearlyFull={k.alerts.some((a) => a.kind === 'cashbox-nearly-full')} />
            <p class="muted">
              Low cash: a cassette under {k.threshold.lowCashNotesPerCassette} notes
              {k.threshold.lowCashCents > 0 ? ` or under ${formatCents(k.threshold.lowCashCents)} in all` : ''} ({k.threshold.source === 'kiosk' ? "this kiosk's own threshold" : "the host's threshold"}).
            </p>
          </section>
          <section aria-labelledby="tx-h">
            <h2 id="tx-h">Recent transactions</h2>
            {d.recentTransactions.length === 0 ? (
              <p class="muted">No withdrawals or deposits yet.</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Amount</th>
                    <th scope="col">Card</th>
                  </tr>
                </thead>
                <tbody>
                  {d.recentTransactions.map((x) => (
                    <tr key={x.postingId}>
                      <td class="nowrap">{formatTime(x.timestampMs)}</td>
                      <td>{x.kind}</td>
                      <td>{formatCents(x.amountCents)}</td>
                      <td class="nowrap">{x.cardLast4 ? `•••• ${x.cardLast4}` : '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <section aria-labelledby="balancing-h">
            <h2 id="balancing-h">Last balancing</h2>
            {d.lastBalancing === null ? (
              <p class="muted">No balancing report yet.</p>
            ) : (
              <>
                <p>
                  {formatTime(d.lastBalancing.balancedMs)}:{' '}
                  <strong>{d.lastBalancing.unbalanced ? 'Unbalanced' : d.lastBalancing.resolvedMs !== undefined ? 'Difference resolved' : 'Balanced'}</strong>
                </p>
                {d.lastBalancing.resolvedMs !== undefined && (
                  <p>
                    Resolved {formatTime(d.lastBalancing.resolvedMs)}: {d.lastBalancing.resolution}
                  </p>
                )}
                <ul>
                  {d.lastBalancing.containers.map((c) => (
                    <li key={c.container}>
                      {c.container}: counted {formatCents(c.countedCents)}, ledger {formatCents(c.ledgerCents)}, difference {formatCents(c.differenceCents)}
                    </li>
                  ))}
                </ul>
              </>
            )}
          </section>
          <section aria-labelledby="kact-h" class="wide">
            <h2 id="kact-h">Transactions per hour</h2>
            <HourChart hours={d.transactionsPerHour} title={`Withdrawals and deposits per hour at ${k.deviceId}, last 24 hours`} />
          </section>
          <section aria-labelledby="kcash-h" class="wide">
            <h2 id="kcash-h">Cash levels over time</h2>
            <CashChart points={withLatest(d.cashHistory, k)} nowMs={d.nowMs} spanMs={CASH_CHART_MS} />
          </section>
        </div>
      )}
    </>
  );
}
