// What the host hears of this kiosk (`kiosk.status`), put together from the controller's parts: service
// state and its reasons, each device, the cassettes, the acceptor's notes and the cashbox, paper, and the
// journal's unfinished work. An open replenishment does not stop the kiosk (its ledger and counts agree at
// every step) but is said among the reasons, for the operator.
import type { KioskStatus } from '../../protocol/messages.js';
import type { KioskConfig } from './config.js';
import type { DeviceSupervisor } from './device-supervisor.js';
import type { KioskJournal } from './journal.js';
import type { ReplenishmentJournalRecord } from './replenishment/replenishment-journal.js';
import type { ServiceState } from './service-state.js';
import { KIOSK_SOFTWARE_VERSION, STATUS_REASONS_MAX, statusText } from './status-reporter.js';

/** The status report's bound on a count of notes (a cassette, or a cashbox denomination). */
const STATUS_NOTE_COUNT_MAX = 100_000;

export interface KioskStatusParts {
  readonly config: KioskConfig;
  readonly service: ServiceState;
  readonly supervisor: DeviceSupervisor;
  readonly journal: KioskJournal | undefined;
  readonly replenishment: ReplenishmentJournalRecord | undefined;
}

export function composeKioskStatus({ config, service, supervisor, journal, replenishment }: KioskStatusParts): KioskStatus {
  const count = (n: number) => Math.min(n, STATUS_NOTE_COUNT_MAX);
  const open = replenishment !== undefined ? [`replenishment-open: ${replenishment.replenishmentId} by ${replenishment.technician}${replenishment.pending ? `, ${replenishment.pending.step} unfinished` : ''}`] : [];
  return {
    softwareVersion: KIOSK_SOFTWARE_VERSION,
    inService: service.reasons().length === 0,
    reasons: [...service.statusReasons(), ...open].slice(0, STATUS_REASONS_MAX).map(statusText),
    devices: supervisor.deviceStates().map((d) => ({ device: d.device, state: d.state, ...(d.detail !== undefined ? { detail: statusText(d.detail) } : {}) })),
    cassettes: supervisor.cassettes.map((c) => ({ denominationCents: c.denominationCents, count: count(c.count) })),
    ...(config.devices.noteAcceptor
      ? {
          noteAcceptor: {
            denominationsCents: [...config.noteAcceptorCents].sort((a, b) => a - b),
            cashbox: (journal?.cashbox() ?? []).map((n) => ({ denominationCents: n.denominationCents, count: count(n.count) })),
            cashboxCapacityNotes: config.cashboxCapacityNotes,
          },
        }
      : {}),
    receiptPaper: supervisor.receiptPaper,
    pendingTransactions: journal?.pendingCount ?? 0,
  };
}
