// `bank-host deposits ...` and `bank-host exceptions ...`: deposit holds (funds availability) and releasing
// one early, deposits a kiosk opened and never committed, and the money exceptions an operator must resolve.
import { formatCents } from '../../protocol/money.js';
import { UsageError } from '../errors.js';
import type { AdminCliCommand } from './admin-command.js';

const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';

interface DepositHoldView { holdId: string; depositId: string; accountId: string; deviceId: string; amountCents: number; releaseAtMs: number }
interface OpenDepositView { depositId: string; deviceId: string; accountId: string; openedMs: number }
interface ExceptionView { exceptionId: string; kind: string; deviceId: string; amountCents: number; detail: string; createdMs: number; status: string; resolution?: string }

export const DEPOSIT_CLI: readonly AdminCliCommand[] = [
  {
    words: ['deposits', 'holds'],
    usage: 'bank-host deposits holds',
    summary: 'list deposit holds not yet released, soonest release first',
    positionals: [],
    admin: 'deposits.holds',
    args: () => ({}),
    print: (r) => {
      const { holds } = r as { holds: DepositHoldView[] };
      if (holds.length === 0) return 'no deposit holds';
      return holds.map((h) => `${h.holdId}\t${h.deviceId}\t${h.accountId}\t${formatCents(h.amountCents)}\treleases ${when(h.releaseAtMs)}`).join('\n');
    },
  },
  {
    words: ['deposits', 'release'],
    usage: 'bank-host deposits release HOLD',
    summary: "release a deposit hold now (after the kiosk's cashbox was counted and holds the notes)",
    positionals: ['HOLD'],
    admin: 'deposits.release',
    args: ([holdId]) => ({ holdId }),
    print: (r) => {
      const { hold } = r as { hold: DepositHoldView };
      return `${hold.holdId}: released ${formatCents(hold.amountCents)} on ${hold.accountId}`;
    },
  },
  {
    words: ['deposits', 'open'],
    usage: 'bank-host deposits open',
    summary: 'list deposits a kiosk opened and has not committed (its journal, or a count of its cashbox, tells what was stacked)',
    positionals: [],
    admin: 'deposits.open',
    args: () => ({}),
    print: (r) => {
      const { deposits } = r as { deposits: OpenDepositView[] };
      if (deposits.length === 0) return 'no open deposits';
      return deposits.map((d) => `${d.depositId}\t${d.deviceId}\t${d.accountId}\topened ${when(d.openedMs)}`).join('\n');
    },
  },
  {
    words: ['exceptions', 'list'],
    usage: 'bank-host exceptions list [--all]',
    summary: 'list money exceptions waiting for an operator (a kiosk dispensed after an operator settled, a deposit over the cap)',
    positionals: [],
    options: { all: { type: 'boolean' } },
    optionsHelp: '  --all  resolved ones too',
    admin: 'exceptions.list',
    args: (_, values) => (values.all ? { all: true } : {}),
    print: (r) => {
      const { exceptions } = r as { exceptions: ExceptionView[] };
      if (exceptions.length === 0) return 'no open money exceptions';
      return exceptions
        .map((e) => `${e.exceptionId}\t${e.status}\t${e.kind}\t${e.deviceId}\t${formatCents(e.amountCents)}\t${when(e.createdMs)}\n  ${e.detail}${e.resolution ? `\n  resolved: ${e.resolution}` : ''}`)
        .join('\n');
    },
  },
  {
    words: ['exceptions', 'resolve'],
    usage: 'bank-host exceptions resolve EXCEPTION --note TEXT',
    summary: 'record how a money exception was resolved (the record stays, resolved, for the auditors)',
    positionals: ['EXCEPTION'],
    options: { note: { type: 'string' } },
    optionsHelp: '  --note TEXT  what was done (counted the kiosk, adjusted the account, ...); required',
    admin: 'exceptions.resolve',
    args: ([exceptionId], values) => {
      if (typeof values.note !== 'string' || values.note.trim() === '') throw new UsageError('exceptions resolve needs --note TEXT: what was done about it');
      return { exceptionId, resolution: values.note.trim() };
    },
    print: (r) => {
      const { exception } = r as { exception: ExceptionView };
      return `${exception.exceptionId}: resolved (${exception.resolution ?? ''})`;
    },
  },
];
