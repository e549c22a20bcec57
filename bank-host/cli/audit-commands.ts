// The `bank-host audit ...` command lines: parsing the operator's flags into admin command arguments and
// printing the answers. The work happens in audit/operator-commands.ts, in the host or on a stopped database.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { LANE_CHECKPOINT_FORMAT, auditCheckpoint, checkpointSeq, type AuditCheckpoint } from '../audit/checkpoint.js';
import { AUDIT_SHOW_LIMIT_MAX } from '../audit/operator-commands.js';
import type { AuditEntry } from '../audit/record.js';
import type { AuditPage } from '../audit/show.js';
import type { AuditVerifyReport } from '../audit/verify.js';
import { UsageError } from '../errors.js';
import type { AdminCliCommand } from './admin-command.js';
import { parseCount, parseTime } from './arguments.js';

/** A LevelDB checkpoint is a few hundred bytes; a PostgreSQL one about 150 per lane, at most
 *  CHECKPOINT_LANES_MAX lanes. Anything larger is not one. */
const CHECKPOINT_FILE_MAX_BYTES = 2 * 1024 * 1024;

function readCheckpointFile(file: unknown): AuditCheckpoint {
  if (typeof file !== 'string' || file === '') throw new UsageError('--checkpoint needs a FILE');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the checkpoint ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (text.length > CHECKPOINT_FILE_MAX_BYTES) throw new UsageError(`${file} is too large to be an audit checkpoint`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not JSON, so not an audit checkpoint`);
  }
  const checked = auditCheckpoint.safeParse(parsed);
  if (!checked.success) throw new UsageError(`${file} is not an audit checkpoint: ${checked.error.issues[0]?.path.join('.') || 'document'}: ${checked.error.issues[0]?.message}`);
  return checked.data;
}

export function describeVerifyReport(r: AuditVerifyReport): string {
  const cp = r.checkpoint ? `; checkpoint of ${new Date(r.checkpoint.timeMs).toISOString()} at record ${r.checkpoint.seq} ${r.checkpoint.matched ? 'matches' : 'does NOT match'}` : '';
  const speed = `${r.records.toLocaleString('en-US')} records in ${r.elapsedMs} ms (${r.recordsPerSecond.toLocaleString('en-US')} records/s)`;
  if (r.ok) return `audit log OK: ${speed}, head at record ${r.head?.seq ?? 0}${cp}`;
  const p = r.problem!;
  return `AUDIT LOG FAILS VERIFICATION: ${p.kind}${p.seq !== undefined ? ` at record ${p.seq}` : ''}: ${p.message}\n(${speed}; verified through record ${r.verifiedThroughSeq}${cp})`;
}

const entryLine = (e: AuditEntry) => e.line;

export const AUDIT_CLI: readonly AdminCliCommand[] = [
  {
    words: ['audit', 'verify'],
    usage: 'bank-host audit verify [--checkpoint FILE]',
    summary: 'check the whole audit chain and its head; name the first bad record (exit 1 on any problem)',
    positionals: [],
    options: { checkpoint: { type: 'string' } },
    optionsHelp: '  --checkpoint FILE  also prove the log still holds everything up to this signed checkpoint, unchanged',
    admin: 'audit.verify',
    args: (_, values) => (values.checkpoint !== undefined ? { checkpoint: readCheckpointFile(values.checkpoint) } : {}),
    exitCode: (r) => ((r as AuditVerifyReport).ok ? 0 : 1),
    print: (r) => describeVerifyReport(r as AuditVerifyReport),
  },
  {
    words: ['audit', 'checkpoint'],
    usage: 'bank-host audit checkpoint --out FILE',
    summary: 'verify the log, then write a signed checkpoint (sequence, tag, time; on PostgreSQL every lane\'s) to FILE; keep it off the host',
    positionals: [],
    options: { out: { type: 'string' } },
    optionsHelp: '  --out FILE  where to write the checkpoint (must not exist)',
    admin: 'audit.checkpoint',
    args: (_, values) => {
      if (typeof values.out !== 'string' || values.out === '') throw new UsageError('--out FILE is required');
      return {};
    },
    after: async (result, values) => {
      const { checkpoint } = result as { checkpoint: AuditCheckpoint };
      // `wx`: never overwrite an earlier checkpoint, which may be the only proof of what the log held.
      await writeFile(values.out as string, JSON.stringify(checkpoint, null, 2) + '\n', { flag: 'wx', mode: 0o644 });
    },
    print: (r) => {
      const { checkpoint } = r as { checkpoint: AuditCheckpoint };
      const what = checkpoint.format === LANE_CHECKPOINT_FORMAT ? `of ${checkpoint.lanes.length} lane${checkpoint.lanes.length === 1 ? '' : 's'}, up to record ${checkpointSeq(checkpoint)}` : `at record ${checkpoint.seq}`;
      return `signed checkpoint ${what} (${new Date(checkpoint.timeMs).toISOString()}); keep the file off this host`;
    },
  },
  {
    words: ['audit', 'show'],
    usage: 'bank-host audit show [--customer ID] [--device ID] [--action NAME] [--outcome ok|failed|refused] [--since T] [--until T] [--after SEQ] [--limit N]',
    summary: 'decrypt and filter audit records; prints the `CustomerID | Action | Timestamp` lines (or --json)',
    positionals: [],
    options: {
      customer: { type: 'string' },
      device: { type: 'string' },
      action: { type: 'string' },
      outcome: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      after: { type: 'string' },
      limit: { type: 'string' },
    },
    optionsHelp: [
      '  --customer ID   only this customer (reads only their records, through the index)',
      '  --device ID     only this kiosk',
      '  --action NAME   only this action, e.g. withdraw.authorize, signin.card, device.revoke',
      '  --outcome O     only ok, failed or refused',
      '  --since T       from this time on (ISO 8601 or ms since the epoch)',
      '  --until T       up to this time',
      '  --after SEQ     continue after this record (the next page)',
      `  --limit N       at most N records (default 1000, at most ${AUDIT_SHOW_LIMIT_MAX})`,
    ].join('\n'),
    admin: 'audit.show',
    args: (_, v) => {
      if (v.outcome !== undefined && !['ok', 'failed', 'refused'].includes(v.outcome as string)) throw new UsageError('--outcome must be ok, failed or refused');
      return {
        ...(v.customer !== undefined && { customerId: v.customer }),
        ...(v.device !== undefined && { deviceId: v.device }),
        ...(v.action !== undefined && { action: v.action }),
        ...(v.outcome !== undefined && { outcome: v.outcome }),
        ...(v.since !== undefined && { sinceMs: parseTime(v.since, '--since') }),
        ...(v.until !== undefined && { untilMs: parseTime(v.until, '--until') }),
        ...(v.after !== undefined && { afterSeq: parseCount(v.after, '--after', Number.MAX_SAFE_INTEGER) }),
        ...(v.limit !== undefined && { limit: Math.max(1, parseCount(v.limit, '--limit', AUDIT_SHOW_LIMIT_MAX)) }),
      };
    },
    print: (r) => {
      const page = r as AuditPage;
      const lines = page.entries.map(entryLine);
      if (page.entries.length === 0) lines.push('no matching audit records');
      if (page.undecryptableSeqs.length > 0) lines.push(`WARNING: ${page.undecryptableSeqs.length} records would not decrypt (run \`bank-host audit verify\`): ${page.undecryptableSeqs.slice(0, 10).join(', ')}`);
      if (page.nextCursorSeq !== undefined) lines.push(`(more records: run again with --after ${page.nextCursorSeq})`);
      return lines.join('\n');
    },
  },
];
