// Charts drawn as SVG with no library: transactions per hour (bars, withdrawals under deposits) and cash
// in the cassettes over time (a line). Each says in its title and description what it shows, in words.
import { useId } from 'preact/hooks';
import type { CashPointView, HourCount } from '../../fleet/views.js';
import { formatCents, formatHour } from './format.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

const WIDTH = 720;
const HEIGHT = 180;
const PAD = { left: 56, right: 12, top: 12, bottom: 28 };
const PLOT_W = WIDTH - PAD.left - PAD.right;
const PLOT_H = HEIGHT - PAD.top - PAD.bottom;

export function HourChart({ hours, title }: { hours: readonly HourCount[]; title: string }) {
  const id = useId();
  const totals = hours.map((h) => h.withdrawals + h.deposits);
  const max = Math.max(1, ...totals);
  const withdrawals = hours.reduce((n, h) => n + h.withdrawals, 0);
  const deposits = hours.reduce((n, h) => n + h.deposits, 0);
  const busiest = hours.reduce<HourCount | undefined>((best, h) => (best === undefined || h.withdrawals + h.deposits > best.withdrawals + best.deposits ? h : best), undefined);
  const description =
    withdrawals + deposits === 0
      ? 'No withdrawals or deposits in the last 24 hours.'
      : `${plural(withdrawals, 'withdrawal')} and ${plural(deposits, 'deposit')} in the last 24 hours; the busiest hour began at ${formatHour(busiest!.hourMs)} with ${busiest!.withdrawals + busiest!.deposits}.`;
  const slot = PLOT_W / Math.max(1, hours.length);
  const y = (n: number) => PAD.top + PLOT_H - (n / max) * PLOT_H;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby={`${id}-t ${id}-d`}>
        <title id={`${id}-t`}>{title}</title>
        <desc id={`${id}-d`}>{description}</desc>
        <line class="axis" x1={PAD.left} y1={PAD.top + PLOT_H} x2={WIDTH - PAD.right} y2={PAD.top + PLOT_H} />
        <text class="tick" x={PAD.left - 6} y={PAD.top + 10} text-anchor="end">{max}</text>
        <text class="tick" x={PAD.left - 6} y={PAD.top + PLOT_H} text-anchor="end">0</text>
        {hours.map((h, i) => {
          const x = PAD.left + i * slot + 2;
          const w = Math.max(1, slot - 4);
          return (
            <g key={h.hourMs}>
              <rect class="series-withdrawals" x={x} y={y(h.withdrawals)} width={w} height={PAD.top + PLOT_H - y(h.withdrawals)} />
              <rect class="series-deposits" x={x} y={y(h.withdrawals + h.deposits)} width={w} height={y(h.withdrawals) - y(h.withdrawals + h.deposits)} />
              {i % 6 === 0 ? (
                <text class="tick" x={x} y={HEIGHT - 8}>
                  {formatHour(h.hourMs)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <span class="key key-withdrawals">Withdrawals</span> <span class="key key-deposits">Deposits</span> — {description}
      </figcaption>
    </figure>
  );
}

/** Samples are marked with a dot up to this many (beyond it the line says enough). */
const POINTS_MARKED_MAX = 100;

export function CashChart({ points, nowMs, spanMs }: { points: readonly CashPointView[]; nowMs: number; spanMs: number }) {
  const id = useId();
  const startMs = nowMs - spanMs;
  const max = Math.max(1, ...points.map((p) => p.cashCents));
  const x = (ms: number) => PAD.left + ((Math.max(startMs, ms) - startMs) / spanMs) * PLOT_W;
  const y = (cents: number) => PAD.top + PLOT_H - (cents / max) * PLOT_H;
  const last = points[points.length - 1];
  // A step line: the cash stays as it was until the next sample, and to now after the last.
  const path =
    points.map((p, i) => (i === 0 ? `M${x(p.timestampMs).toFixed(1)} ${y(p.cashCents).toFixed(1)}` : `H${x(p.timestampMs).toFixed(1)} V${y(p.cashCents).toFixed(1)}`)).join(' ') +
    (last ? ` H${x(nowMs).toFixed(1)}` : '');
  const description =
    points.length === 0
      ? 'No cash samples in this period yet.'
      : `${plural(points.length, 'sample')} over the last ${Math.round(spanMs / 3_600_000)} hours; now ${formatCents(last!.cashCents)} in the cassettes, at most ${formatCents(max)}.`;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby={`${id}-t ${id}-d`}>
        <title id={`${id}-t`}>Cash in the cassettes over time</title>
        <desc id={`${id}-d`}>{description}</desc>
        <line class="axis" x1={PAD.left} y1={PAD.top + PLOT_H} x2={WIDTH - PAD.right} y2={PAD.top + PLOT_H} />
        <text class="tick" x={PAD.left - 6} y={PAD.top + 10} text-anchor="end">{formatCents(max).replace(/\.00$/, '')}</text>
        <text class="tick" x={PAD.left - 6} y={PAD.top + PLOT_H} text-anchor="end">0</text>
        <text class="tick" x={PAD.left} y={HEIGHT - 8}>{formatHour(startMs)}</text>
        <text class="tick" x={WIDTH - PAD.right} y={HEIGHT - 8} text-anchor="end">now</text>
        {points.length > 0 ? <path class="series-cash" d={path} /> : null}
        {points.length <= POINTS_MARKED_MAX ? points.map((p) => <circle key={p.timestampMs} class="series-cash-point" cx={x(p.timestampMs)} cy={y(p.cashCents)} r="3" />) : null}
      </svg>
      <figcaption>{description}</figcaption>
    </figure>
  );
}
