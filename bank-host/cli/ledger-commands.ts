// `bank-host holds ...` and `bank-host ledger check`: the withdrawal holds no kiosk settled, settling them by
// hand, and the double-entry check.
import { formatCents } from '../../protocol/money.js';
import { UsageError } from '../errors.js';
import type { AdminCliCommand } from './admin-command.js';
import { parseCents, parseDuration } from './arguments.js';

const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;

interface HoldView { authorizationId: string; deviceId: string; accountId: string; amountCents: number; ageMs: number; cardLast4?: string }

export const LEDGER_CLI: readonly AdminCliCommand[] = [
  {
    words: ['holds', 'list'],
    usage: 'bank-host holds list [--older-than DURATION | --all]',
    summary: "list withdrawal holds no kiosk completed or reversed within the host's holdAttentionAfterMs (default 30 min)",
    positionals: [],
    options: { 'older-than': { type: 'string' }, all: { type: 'boolean' } },
    optionsHelp: '  --older-than D  holds at least this old instead (30m, 12h, 2d)\n  --all           every open hold, however young',
    admin: 'holds.list',
    args: (_, values) => {
      if (values.all && values['older-than'] !== undefined) throw new UsageError('--all and --older-than exclude each other');
      if (values.all) return { all: true };
      return values['older-than'] !== undefined ? { olderThanMs: parseDuration(values['older-than'], '--older-than') } : {};
    },
    print: (r) => {
      const { holds, openHolds, olderThanMs } = r as { holds: HoldView[]; openHolds: number; olderThanMs?: number };
      const younger = openHolds - holds.length;
      const note = olderThanMs !== undefined && younger > 0 ? `${younger} younger than ${minutes(olderThanMs)} not shown (--all lists them)` : '';
      if (holds.length === 0) return openHolds === 0 ? 'no open holds' : `no holds open longer than ${minutes(olderThanMs ?? 0)}; ${note}`;
      const lines = holds.map((h) => `${h.authorizationId}\t${h.deviceId}\t${h.accountId}\t${formatCents(h.amountCents)}\t${minutes(h.ageMs)}${h.cardLast4 ? `\tcard •••• ${h.cardLast4}` : ''}`);
      return [...lines, ...(note ? [note] : [])].join('\n');
    },
  },
  {
    words: ['holds', 'complete'],
    usage: 'bank-host holds complete AUTHORIZATION [--dispensed AMOUNT]',
    summary: 'settle a hold as dispensed (all of it, or AMOUNT) and release the rest',
    positionals: ['AUTHORIZATION'],
    options: { dispensed: { type: 'string' } },
    optionsHelp: '  --dispensed AMOUNT  what the kiosk really paid out, e.g. 40.00 (default: the whole hold)',
    admin: 'holds.complete',
    args: ([authorizationId], values) => ({ authorizationId, ...(values.dispensed !== undefined ? { dispensedCents: parseCents(values.dispensed, '--dispensed') } : {}) }),
    print: (r) => {
      const s = r as { authorizationId: string; postedCents: number; releasedCents: number };
      return `${s.authorizationId}: posted ${formatCents(s.postedCents)}, released ${formatCents(s.releasedCents)}`;
    },
  },
  {
    words: ['holds', 'reverse'],
    usage: 'bank-host holds reverse AUTHORIZATION',
    summary: 'release a hold: nothing was dispensed',
    positionals: ['AUTHORIZATION'],
    admin: 'holds.reverse',
    args: ([authorizationId]) => ({ authorizationId }),
    print: (r) => {
      const s = r as { authorizationId: string; releasedCents: number };
      return `${s.authorizationId}: released ${formatCents(s.releasedCents)}`;
    },
  },
  {
    words: ['ledger', 'check'],
    usage: 'bank-host ledger check',
    summary: 'recompute every balance from the journal and check the double-entry invariant (exit 1 on any problem)',
    positionals: [],
    admin: 'ledger.check',
    args: () => ({}),
    exitCode: (r) => ((r as { ok: boolean }).ok ? 0 : 1),
    print: (r) => {
      const l = r as { ok: boolean; accounts: number; postingLegs: number; openHolds: number; totalBalanceCents: number; customerBalanceCents: number; cashBalanceCents: number; problems: { kind: string; message: string }[] };
      return [
        `${l.ok ? 'ledger OK' : `LEDGER PROBLEMS: ${l.problems.length}`}: ${l.accounts} accounts, ${l.postingLegs} posting legs, ${l.openHolds} open holds`,
        `customer balances ${formatCents(l.customerBalanceCents)}, cash accounts ${formatCents(l.cashBalanceCents)}, sum ${formatCents(l.totalBalanceCents)}`,
        ...l.problems.map((p) => `  ${p.kind}: ${p.message}`),
      ].join('\n');
    },
  },
];
