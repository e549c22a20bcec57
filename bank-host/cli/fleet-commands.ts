// `bank-host fleet ...` (the kiosks' state and alerts, and a kiosk's low-cash threshold) and
// `bank-host operator ...` (the tokens of the operator console and the metrics endpoint).
import { formatCents } from '../../protocol/money.js';
import type { AlertView, BalancingView, FleetOverview, KioskDetail, KioskView } from '../fleet/views.js';
import type { OperatorSummary } from '../fleet/operator-tokens.js';
import { UsageError } from '../errors.js';
import type { AdminCliCommand } from './admin-command.js';
import { parseCents, parseCount } from './arguments.js';

const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';

function age(ms: number, nowMs: number): string {
  const s = Math.max(0, Math.round((nowMs - ms) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7_200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3_600)} h ago`;
}

const alertLine = (a: AlertView, nowMs: number) =>
  `${a.severity.toUpperCase()}\t${a.deviceId}\t${a.kind}${a.subject ? ` (${a.subject})` : ''}\tsince ${age(a.raisedMs, nowMs)}\t${a.detail}`;

function kioskLine(k: KioskView, nowMs: number): string {
  const cash = k.cassettes.length > 0 ? `${formatCents(k.cashCents)} (${k.cassettes.map((c) => `${c.count}×${formatCents(c.denominationCents)}`).join(' ')})` : 'no cassettes';
  return [
    k.deviceId,
    k.state,
    k.connected === null ? '' : k.connected ? 'connected' : 'not connected',
    k.lastReportMs === null ? 'never reported' : `reported ${age(k.lastReportMs, nowMs)}`,
    `cash ${cash}`,
    k.cashbox ? `cashbox ${k.cashbox.fillPercent} %` : 'no cashbox',
    `paper ${k.receiptPaper ?? '-'}`,
    k.alerts.length > 0 ? `alerts: ${k.alerts.map((a) => a.kind).join(', ')}` : 'no alerts',
  ]
    .filter((part) => part !== '')
    .join('\t');
}

function printDetail(d: KioskDetail): string {
  const k = d.kiosk;
  const lines = [
    kioskLine(k, d.nowMs),
    `software ${k.softwareVersion ?? '-'}; pending transactions ${k.pendingTransactions ?? '-'}${k.reasons.length > 0 ? `; reasons: ${k.reasons.join('; ')}` : ''}`,
    `low cash below ${k.threshold.lowCashNotesPerCassette} notes a cassette${k.threshold.lowCashCents > 0 ? ` or ${formatCents(k.threshold.lowCashCents)} in all` : ''} (${k.threshold.source === 'kiosk' ? "the kiosk's own" : "the host's"})`,
    'devices:',
    ...(k.devices.length === 0 ? ['  none reported'] : k.devices.map((x) => `  ${x.device}\t${x.state}${x.detail ? `\t${x.detail}` : ''}`)),
    'alerts:',
    ...(k.alerts.length === 0 ? ['  none'] : k.alerts.map((a) => `  ${alertLine(a, d.nowMs)}`)),
    'recent transactions:',
    ...(d.recentTransactions.length === 0
      ? ['  none']
      : d.recentTransactions.map((t) => `  ${when(t.timestampMs)}\t${t.kind}\t${formatCents(t.amountCents)}${t.cardLast4 ? `\tcard …${t.cardLast4}` : ''}`)),
    `last balancing: ${d.lastBalancing === null ? 'none yet' : `${when(d.lastBalancing.balancedMs)} ${d.lastBalancing.unbalanced ? 'UNBALANCED' : d.lastBalancing.resolvedMs !== undefined ? `resolved: ${d.lastBalancing.resolution ?? ''}` : 'balanced'}`}`,
    ...(d.lastBalancing === null
      ? []
      : d.lastBalancing.containers.map((c) => `  ${c.container}\tcounted ${formatCents(c.countedCents)}\tledger ${formatCents(c.ledgerCents)}\tdifference ${c.differenceCents > 0 ? '+' : ''}${formatCents(c.differenceCents)}`)),
  ];
  return lines.join('\n');
}

export const FLEET_CLI: readonly AdminCliCommand[] = [
  {
    words: ['fleet', 'list'],
    usage: 'bank-host fleet list',
    summary: 'every kiosk: state (in-service, out-of-service, offline, never-reported), connection, cash, cashbox, paper, alerts',
    positionals: [],
    admin: 'fleet.list',
    args: () => ({}),
    print: (r) => {
      const o = r as FleetOverview;
      const counts = Object.entries(o.counts).map(([state, n]) => `${n} ${state}`).join(', ');
      return [`${o.kiosks.length} kiosks: ${counts}; ${o.alerts.length} alerts`, ...o.kiosks.map((k) => kioskLine(k, o.nowMs))].join('\n');
    },
  },
  {
    words: ['fleet', 'show'],
    usage: 'bank-host fleet show ID',
    summary: "one kiosk: its last report, devices, alerts, recent transactions (cards by their last four digits) and last balancing",
    positionals: ['ID'],
    admin: 'fleet.show',
    args: ([deviceId]) => ({ deviceId }),
    print: (r) => printDetail(r as KioskDetail),
  },
  {
    words: ['fleet', 'alerts'],
    usage: 'bank-host fleet alerts',
    summary: 'the alerts raised and not yet cleared, critical first',
    positionals: [],
    admin: 'fleet.alerts',
    args: () => ({}),
    print: (r) => {
      const { nowMs, alerts } = r as { nowMs: number; alerts: AlertView[] };
      return alerts.length === 0 ? 'no alerts' : alerts.map((a) => alertLine(a, nowMs)).join('\n');
    },
  },
  {
    words: ['fleet', 'resolve'],
    usage: 'bank-host fleet resolve ID --note TEXT',
    summary: "record why a kiosk's balancing differences happened (a recount, a note in the reject bin, a loss reported): its unbalanced alert clears",
    positionals: ['ID'],
    options: { note: { type: 'string' } },
    optionsHelp: '  --note TEXT  what was found or done about the difference; required (the postings to over/short stay)',
    admin: 'fleet.resolve',
    args: ([deviceId], values) => {
      if (typeof values.note !== 'string' || values.note.trim() === '') throw new UsageError('fleet resolve needs --note TEXT: why the count differed');
      return { deviceId, resolution: values.note.trim() };
    },
    print: (r) => {
      const { resolved, kiosk } = r as { resolved: BalancingView[]; kiosk: KioskView };
      return resolved
        .map((b) => `${kiosk.deviceId}: balancing of ${when(b.balancedMs)} resolved (${b.containers.map((c) => `${c.container} ${c.differenceCents > 0 ? '+' : ''}${formatCents(c.differenceCents)}`).join(', ')})`)
        .join('\n');
    },
  },
  {
    words: ['fleet', 'threshold'],
    usage: 'bank-host fleet threshold ID (--low-cash-notes N | --low-cash AMOUNT | --default)',
    summary: "set a kiosk's own low-cash threshold: a cassette below N notes, or the cassettes below AMOUNT in all",
    positionals: ['ID'],
    options: { 'low-cash-notes': { type: 'string' }, 'low-cash': { type: 'string' }, default: { type: 'boolean' } },
    optionsHelp: [
      '  --low-cash-notes N  low cash when any cassette holds fewer than N notes (0: not by notes)',
      '  --low-cash AMOUNT   low cash when the cassettes hold less than AMOUNT in all, like 2000 or 2000.00 (0: not by value)',
      "  --default           go back to the host's thresholds (host.json)",
    ].join('\n'),
    admin: 'fleet.threshold',
    args: ([deviceId], values) => {
      const notes = values['low-cash-notes'];
      const amount = values['low-cash'];
      if (values.default) {
        if (notes !== undefined || amount !== undefined) throw new UsageError('--default takes no threshold');
        return { deviceId, reset: true };
      }
      if (notes === undefined && amount === undefined) throw new UsageError('fleet threshold needs --low-cash-notes N, --low-cash AMOUNT or --default');
      return {
        deviceId,
        ...(notes !== undefined && { lowCashNotesPerCassette: parseCount(notes, '--low-cash-notes', 100_000) }),
        ...(amount !== undefined && { lowCashCents: parseCents(amount, '--low-cash') }),
      };
    },
    print: (r) => {
      const { kiosk } = r as { kiosk: KioskView };
      const t = kiosk.threshold;
      return `${kiosk.deviceId}: low cash below ${t.lowCashNotesPerCassette} notes a cassette${t.lowCashCents > 0 ? ` or ${formatCents(t.lowCashCents)} in all` : ''} (${t.source === 'kiosk' ? "the kiosk's own" : "the host's"})`;
    },
  },
];

const operatorLine = (o: OperatorSummary) => `${o.name}\t${o.status}\tcreated ${when(o.createdMs)}${o.revokedMs !== undefined ? `\trevoked ${when(o.revokedMs)}` : ''}`;

export const OPERATOR_CLI: readonly AdminCliCommand[] = [
  {
    words: ['operator', 'add'],
    usage: 'bank-host operator add NAME',
    summary: 'create a token for the operator console and /metrics; it is printed once and stored only as a hash',
    positionals: ['NAME'],
    admin: 'operator.add',
    args: ([name]) => ({ name }),
    print: (r) => {
      const { operator, token } = r as { operator: OperatorSummary; token: string };
      return `${token}\n(the token of operator ${operator.name}: shown this once, stored only as a hash; bank-host operator revoke ${operator.name} ends it)`;
    },
  },
  {
    words: ['operator', 'list'],
    usage: 'bank-host operator list',
    summary: 'operators and whether their tokens are live (never a token)',
    positionals: [],
    admin: 'operator.list',
    args: () => ({}),
    print: (r) => {
      const { operators } = r as { operators: OperatorSummary[] };
      return operators.length === 0 ? 'no operators' : operators.map(operatorLine).join('\n');
    },
  },
  {
    words: ['operator', 'revoke'],
    usage: 'bank-host operator revoke NAME',
    summary: "revoke an operator's token: its console sessions end and /metrics refuses it",
    positionals: ['NAME'],
    admin: 'operator.revoke',
    args: ([name]) => ({ name }),
    print: (r) => `revoked ${operatorLine((r as { operator: OperatorSummary }).operator)}`,
  },
];
