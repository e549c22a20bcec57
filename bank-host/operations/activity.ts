// `activity`: the signed-in customer's own audit records, newest first, decrypted on the host. Only the
// customer's index is walked, so no other customer's record is ever read for this view; each entry is
// checked once more against the session before it leaves. Viewing is itself an audited action.
import { ProtocolError } from '../../protocol/errors.js';
import { ACTIVITY_PAGE_SIZE_MAX, type ActivityEntry } from '../../protocol/messages.js';
import { readAuditPage } from '../audit/show.js';
import type { OperationHandler } from './context.js';

/** Records of this customer looked at per request: a page ends early (with a cursor) rather than walk a
 *  long history on behalf of one kiosk screen. */
export const ACTIVITY_SCAN_MAX = 2_000;

export const activityOperation: OperationHandler<'activity'> = async (ctx, body) => {
  const session = ctx.connection.session;
  if (session === undefined) throw new ProtocolError('NOT_SIGNED_IN');
  if (session.role === 'supervisor') throw new ProtocolError('ROLE_NOT_ALLOWED');
  const { db, keys } = ctx.services;
  const page = await readAuditPage(db, keys.auditEnc, {
    customerId: session.customerId,
    order: 'desc',
    ...(body.cursor !== undefined && { cursorSeq: Number(body.cursor) }),
    limit: body.limit ?? ACTIVITY_PAGE_SIZE_MAX,
    scanLimit: ACTIVITY_SCAN_MAX,
    ...(body.sinceMs !== undefined && { sinceMs: body.sinceMs }),
    ...(body.untilMs !== undefined && { untilMs: body.untilMs }),
    ...(body.actions !== undefined && { actions: body.actions }),
  });
  const entries: ActivityEntry[] = page.entries.map((entry) => {
    if (entry.customerId !== session.customerId) throw new ProtocolError('INTERNAL', 'the audit index names a record of another customer', false);
    return {
      seq: entry.seq,
      timestampMs: entry.timestampMs,
      action: entry.action,
      outcome: entry.outcome,
      ...(entry.amountCents !== undefined && { amountCents: entry.amountCents }),
      ...(entry.deviceId !== undefined && { deviceId: entry.deviceId }),
      ...(entry.reason !== undefined && { reason: entry.reason }),
      line: entry.line,
    };
  });
  const result = page.nextCursorSeq !== undefined ? { entries, nextCursor: String(page.nextCursorSeq) } : { entries };
  await ctx.finish(
    { result },
    { ops: [], events: [{ action: 'activity', outcome: 'ok', customerId: session.customerId, deviceId: ctx.connection.deviceId, requestId: ctx.requestId }] },
  );
  return result;
};
