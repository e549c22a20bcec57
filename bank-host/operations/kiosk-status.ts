// `kiosk.status`: a kiosk reports its state (on connect, on every change and on a heartbeat). The host keeps
// the latest report per kiosk; an older report arriving late never replaces a newer one. A change of
// service or of the notes the kiosk handles is audited; counts that move with every customer are not.
import { auditedStatusChanges, kioskStatusOps, readKioskStatus } from '../devices/kiosk-status.js';
import type { OperationTable } from './context.js';
import { ProtocolError } from '../../protocol/errors.js';
import { type OperationRun, type Work, operation } from './run.js';

/** How often a kiosk reports when nothing changes; a kiosk silent for several of these is offline. */
export const KIOSK_HEARTBEAT_MS = 30_000;

const reportStatus: Work<'kiosk.status'> = async (run, status) => {
  const { db } = run.services;
  const { connection, nowMs, sentAtMs } = run.ctx;
  const answer = { heartbeatMs: KIOSK_HEARTBEAT_MS, ...currentPinKeyKcv(run) };
  const before = await readKioskStatus(db, connection.deviceId);
  if (before !== undefined && before.reportedMs > sentAtMs) return run.succeedUnaudited(answer);
  const changes = auditedStatusChanges(before?.status, status);
  if (changes !== undefined) Object.assign(run.detail, changes);
  const stored = { deviceId: connection.deviceId, status, reportedMs: sentAtMs, receivedMs: nowMs };
  const ops = kioskStatusOps(stored);
  // Only a change the audit log should show writes a record; a heartbeat is stored without one.
  const result = changes === undefined ? await run.succeedUnaudited(answer, ops) : await run.succeed(answer, ops);
  // Once durable, the fleet learns of it (its alerts and cash samples follow on their own).
  run.services.fleet?.statusStored(stored);
  return result;
};

/** The check value of the device's PEK, which the kiosk compares with its EPP's (never the key). */
function currentPinKeyKcv(run: OperationRun<'kiosk.status'>): { pinKeyKcv?: string } {
  try {
    const pinKey = run.ctx.devicePinKey();
    pinKey.key.fill(0);
    return { pinKeyKcv: pinKey.kcv };
  } catch (error) {
    if (error instanceof ProtocolError && error.code === 'NO_PIN_KEY') return {};
    throw error;
  }
}

export const kioskStatusOperations: OperationTable = {
  'kiosk.status': operation(reportStatus),
};
