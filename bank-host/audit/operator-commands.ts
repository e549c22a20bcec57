// The operator's audit commands (`audit verify`, `audit checkpoint`, `audit show`) as admin commands: the
// same code runs in the serving host (admin socket, results as JSON) and on a stopped host's database.
import { z } from 'zod';
import { AuditError } from '../errors.js';
import type { HostKeys } from '../keys.js';
import { Database } from '../store/database.js';
import type { KeyValueStore } from '../store/host-store.js';
import { auditCheckpoint, createCheckpoint, createLaneCheckpoint, type AuditCheckpoint } from './checkpoint.js';
import { verifyLanesInSnapshot } from './lane-verify.js';
import { genesisTag } from './record.js';
import { readAuditPage, type AuditPage } from './show.js';
import { verifyAuditChain, type AuditVerifyReport } from './verify.js';

/** One `audit show` answer travels in one admin frame (4 MiB); a decrypted record is a few hundred bytes. */
export const AUDIT_SHOW_LIMIT_DEFAULT = 1_000;
export const AUDIT_SHOW_LIMIT_MAX = 5_000;
/** Records one `audit show` call looks at before it answers with a cursor, so it never blocks the host
 *  for long. */
export const AUDIT_SHOW_SCAN_MAX = 200_000;

interface AuditCommandContext {
  readonly services: { readonly db: KeyValueStore; readonly keys: HostKeys; readonly now: () => number };
  /** Progress for long runs, when someone is watching (the CLI on a stopped host prints it on stderr). */
  readonly progress?: (text: string) => void;
}

const verifyKeys = (keys: HostKeys) => ({ enc: keys.auditEnc, mac: keys.auditMac, sign: keys.auditSign });

function progressReporter(progress: ((text: string) => void) | undefined) {
  if (progress === undefined) return undefined;
  return (done: number, total: number) => progress(`audit verify: ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} records`);
}

export const auditVerifyArgs = z.object({ checkpoint: auditCheckpoint.optional() }).strict();

export function runAuditVerify(ctx: AuditCommandContext, args: z.infer<typeof auditVerifyArgs>): Promise<AuditVerifyReport> {
  const onProgress = progressReporter(ctx.progress);
  return verifyAuditChain(ctx.services.db, verifyKeys(ctx.services.keys), {
    ...(args.checkpoint !== undefined && { checkpoint: args.checkpoint }),
    ...(onProgress !== undefined && { onProgress }),
  });
}

export const auditCheckpointArgs = z.object({}).strict();

/** Signs the head only after the whole chain verified: a checkpoint vouches for everything before it. */
export async function runAuditCheckpoint(ctx: AuditCommandContext): Promise<{ checkpoint: AuditCheckpoint; report: AuditVerifyReport }> {
  const onProgress = progressReporter(ctx.progress);
  if (!(ctx.services.db instanceof Database)) {
    // PostgreSQL's log is a chain per lane (docs/audit.md): the checkpoint signs every lane's head, as one
    // snapshot of the store left them.
    const { laneHeads, ...report } = await verifyLanesInSnapshot(ctx.services.db, verifyKeys(ctx.services.keys), onProgress !== undefined ? { onProgress } : {});
    if (!report.ok || laneHeads === undefined) throw new AuditError('AUDIT_INVALID', `the audit log does not verify, so no checkpoint was signed: ${report.problem?.message ?? 'unknown problem'}`);
    return { checkpoint: createLaneCheckpoint(ctx.services.keys.auditSign, laneHeads, ctx.services.now()), report };
  }
  const report = await verifyAuditChain(ctx.services.db, verifyKeys(ctx.services.keys), onProgress !== undefined ? { onProgress } : {});
  if (!report.ok) throw new AuditError('AUDIT_INVALID', `the audit log does not verify, so no checkpoint was signed: ${report.problem?.message ?? 'unknown problem'}`);
  // An empty log is checkpointed too: a later restore of an empty store then cannot pass for the log.
  const head = report.head === null ? { seq: 0, tag: genesisTag(ctx.services.keys.auditMac) } : { seq: report.head.seq, tag: Buffer.from(report.head.tag, 'base64') };
  return { checkpoint: createCheckpoint(ctx.services.keys.auditSign, head, ctx.services.now()), report };
}

const filterText = z.string().min(1).max(64);
const timeMs = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const auditShowArgs = z
  .object({
    customerId: filterText.optional(),
    deviceId: filterText.optional(),
    action: filterText.optional(),
    outcome: z.enum(['ok', 'failed', 'refused']).optional(),
    sinceMs: timeMs.optional(),
    untilMs: timeMs.optional(),
    afterSeq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    limit: z.number().int().min(1).max(AUDIT_SHOW_LIMIT_MAX).optional(),
  })
  .strict();

export function runAuditShow(ctx: AuditCommandContext, args: z.infer<typeof auditShowArgs>): Promise<AuditPage> {
  const { afterSeq, limit, ...filter } = args;
  return readAuditPage(ctx.services.db, ctx.services.keys.auditEnc, {
    ...filter,
    order: 'asc',
    ...(afterSeq !== undefined && { cursorSeq: afterSeq }),
    limit: limit ?? AUDIT_SHOW_LIMIT_DEFAULT,
    scanLimit: AUDIT_SHOW_SCAN_MAX,
  });
}
