// What each kiosk last reported of itself (`kiosk.status`): in or out of service, its devices, the notes in
// its cassettes and the notes its acceptor takes. The host decides with it which amounts a kiosk can pay
// and which notes a deposit there may name, so kiosk and host never disagree on notes.
import type { KioskStatus } from '../../protocol/messages.js';
import type { BatchOp, KeyValueStore } from '../store/host-store.js';

export const KIOSK_STATUS_PREFIX = 'devstat:';
export const kioskStatusKey = (deviceId: string): string => `${KIOSK_STATUS_PREFIX}${deviceId}`;

export interface StoredKioskStatus {
  readonly deviceId: string;
  readonly status: KioskStatus;
  /** The kiosk's clock when it sent the report (the request's timestamp): an older report arriving late
   *  (a retry) never replaces a newer one. */
  readonly reportedMs: number;
  /** The host's clock when it stored the report. */
  readonly receivedMs: number;
}

export async function readKioskStatus(db: Pick<KeyValueStore, 'get'>, deviceId: string): Promise<StoredKioskStatus | undefined> {
  return db.get<StoredKioskStatus>(kioskStatusKey(deviceId));
}

export function kioskStatusOps(stored: StoredKioskStatus): BatchOp[] {
  return [{ type: 'put', key: kioskStatusKey(stored.deviceId), value: stored }];
}

/** What changed between two reports that the audit log should show: service, and the notes the kiosk
 *  handles (which decide what the host accepts from it). Counts change with every customer and are not
 *  audited. */
export function auditedStatusChanges(before: KioskStatus | undefined, after: KioskStatus): Record<string, string | boolean> | undefined {
  const notes = (s: KioskStatus | undefined) => ({
    dispense: s?.cassettes.map((c) => c.denominationCents).join(',') ?? '',
    accept: s?.noteAcceptor?.denominationsCents.join(',') ?? '',
  });
  const was = notes(before);
  const now = notes(after);
  const changes: Record<string, string | boolean> = {};
  if (before?.inService !== after.inService) changes.inService = after.inService;
  if (was.dispense !== now.dispense) changes.dispenseCents = now.dispense;
  if (was.accept !== now.accept) changes.acceptCents = now.accept;
  return Object.keys(changes).length > 0 ? changes : undefined;
}
