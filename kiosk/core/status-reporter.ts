// What the kiosk tells the host of itself (`kiosk.status`): in or out of service and why, each device's
// state, the notes in its cassettes, the notes its acceptor takes and what its cashbox holds, the printer's
// paper, and the withdrawals and deposits its journal has not finished. The host decides with it which
// amounts this kiosk can pay and which notes a deposit here may name, so it is sent when the channel
// connects (before recovery and before any customer), whenever it changes, and on the heartbeat the host
// asks for. A send never blocks a customer: it runs in the background, and one that fails is sent again
// later.
import type { ChannelClient } from '../../protocol/client.js';
import type { Logger } from '../../protocol/log.js';
import type { KioskStatus } from '../../protocol/messages.js';
import { describe } from '../common/errors.js';
import type { PinKeyKeeper } from './pin-key-keeper.js';

/** The kiosk's software version as it reports it (package.json's, checked by a test). */
export const KIOSK_SOFTWARE_VERSION = '0.1.0';
/** One status request; the host answers in milliseconds. */
export const STATUS_REQUEST_TIMEOUT_MS = 5_000;
/** A report that failed is sent again this long after. */
export const STATUS_RETRY_MS = 2_000;
/** The heartbeat until the host has said its own. */
export const DEFAULT_HEARTBEAT_MS = 30_000;
/** The protocol's bounds on a report's reasons. */
export const STATUS_REASONS_MAX = 16;
export const STATUS_TEXT_CHARS_MAX = 200;

// What the report holds is composed in kiosk-status.ts.

export interface StatusReporterDeps {
  readonly client: () => ChannelClient | undefined;
  /** The kiosk's status as it is now. */
  readonly status: () => KioskStatus;
  readonly log: Logger;
  readonly retryMs?: number;
  /** Told the check value of the host's current PIN key after each answer (pin-key-keeper.ts). */
  readonly pinKeys?: PinKeyKeeper;
}

export class StatusReporter {
  /** The last report the host answered, as sent. */
  private lastSent: string | undefined;
  private sending: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private heartbeatMs = DEFAULT_HEARTBEAT_MS;
  private stopped = false;
  /** Reports the host answered (for tests and diagnostics). */
  sentCount = 0;

  constructor(private readonly deps: StatusReporterDeps) {}

  /** The channel (re)connected: the host hears the whole status before anything else. Resolves when the
   *  host answered or the send failed (then it is retried later); never rejects. */
  connected(): Promise<void> {
    this.lastSent = undefined;
    return this.send();
  }

  /** Something changed that may be in the status: sent if it differs from the last report. */
  changed(): void {
    if (this.stopped || this.deps.client()?.connected !== true) return;
    if (JSON.stringify(this.deps.status()) === this.lastSent) return;
    void this.send();
  }

  stop(): void {
    this.stopped = true;
    this.deps.pinKeys?.stop();
    clearTimeout(this.timer);
  }

  /** One report at a time; a change during a send is sent right after it. */
  private send(): Promise<void> {
    if (this.sending) {
      this.again = true;
      return this.sending;
    }
    this.sending = this.sendOnce().finally(() => {
      this.sending = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.changed();
      }
    });
    return this.sending;
  }

  private async sendOnce(): Promise<void> {
    const client = this.deps.client();
    if (this.stopped || !client?.connected) return;
    clearTimeout(this.timer);
    const status = this.deps.status();
    const text = JSON.stringify(status);
    try {
      const answer = await client.request('kiosk.status', status, { timeoutMs: STATUS_REQUEST_TIMEOUT_MS });
      this.lastSent = text;
      this.sentCount++;
      this.heartbeatMs = answer.heartbeatMs;
      this.schedule(this.heartbeatMs);
      // Before the first customer after a connect: a pad without the current PIN key gets it now.
      await this.deps.pinKeys?.refresh(answer.pinKeyKcv);
    } catch (error) {
      this.deps.log.warn('status report not answered; sending it again later', { error: describe(error) });
      this.schedule(this.deps.retryMs ?? STATUS_RETRY_MS);
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.send(), delayMs);
    this.timer.unref();
  }
}

/** A line for the report: at most STATUS_TEXT_CHARS_MAX characters. */
export function statusText(text: string): string {
  return text.length <= STATUS_TEXT_CHARS_MAX ? text : `${text.slice(0, STATUS_TEXT_CHARS_MAX - 1)}…`;
}
