// What every customer flow shares, and nothing more: the session (screen, language, customer), the visit
// (epoch, busy, cancel, end), the host client, the devices, the journal, the log and the clock. A flow that
// needs another part (the device supervisor's cassette counts, the receipt choice) gets it by name from its
// own deps, so adding a flow never widens what every flow can reach.
import type { ChannelClient } from '../../../protocol/client.js';
import type { Logger } from '../../../protocol/log.js';
import type { KioskConfig } from '../config.js';
import type { KioskDevices } from '../devices.js';
import type { KioskJournal } from '../journal.js';
import type { CustomerSession } from '../session.js';
import type { KioskTiming } from '../timings.js';
import type { CustomerVisit } from '../visit.js';

export interface FlowContext {
  readonly config: KioskConfig;
  readonly session: CustomerSession;
  readonly visit: CustomerVisit;
  readonly log: Logger;
  readonly now: () => number;
  /** The budget of a balance, history, deposit or transfer request (retries reuse its request id). */
  readonly customerRequestDeadlineMs: number;
  /** The host client; a KioskCommandError (WRONG_STATE) before the kiosk has started. */
  client(): ChannelClient;
  /** The devices in use; a KioskCommandError (WRONG_STATE) before the kiosk has started. */
  devices(): KioskDevices;
  /** The withdrawal journal; undefined when it could not be opened (the kiosk is then out of service). */
  journal(): KioskJournal | undefined;
  /** Sends the UI a snapshot after a change the session does not announce itself (a language, PIN dots). */
  emitState(): void;
  recordTiming(name: KioskTiming['name'], ms: number): void;
  /** Work started from a device event has no caller to report to: its failure is a bug, logged. */
  background(work: Promise<unknown>, what: string): void;
}
