// Keeps one HID device open: opens it, reports when it becomes available or unavailable, and after a
// failure (unplugged, not yet plugged in, permission not yet granted by udev) retries with exponential
// backoff. Both HID drivers use it.
import { describe } from '../../common/errors.js';
import type { HidDeviceSource, OpenHidDevice } from './hid-device-source.js';

export const DEFAULT_HID_REOPEN_LIMITS = {
  /** First retry after a failure: quick, because a re-seated USB plug is back within a second. */
  reopenDelayMinMs: 250,
  /** Retries never stop while the kiosk runs (a technician may plug the device in at any time); this
   *  bound keeps an absent device from costing more than one open attempt per interval. */
  reopenDelayMaxMs: 10_000,
} as const;

export type HidReopenLimits = { -readonly [K in keyof typeof DEFAULT_HID_REOPEN_LIMITS]: number };

export interface ReconnectingHidDeviceHandlers {
  onReport(report: Buffer): void;
  onAvailable(): void;
  /** Called once per outage (not on every failed retry), with a message that names the device. */
  onUnavailable(reason: string): void;
}

type State = 'stopped' | 'opening' | 'open' | 'waiting';

export class ReconnectingHidDevice {
  private state: State = 'stopped';
  private device: OpenHidDevice | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private reopenDelayMs: number;
  /** Whether the last thing reported was "unavailable", so an outage is reported once. */
  private reportedUnavailable = false;
  private readonly limits: HidReopenLimits;

  constructor(
    private readonly source: HidDeviceSource,
    private readonly handlers: ReconnectingHidDeviceHandlers,
    limits: Partial<HidReopenLimits> = {},
  ) {
    this.limits = { ...DEFAULT_HID_REOPEN_LIMITS, ...limits };
    if (!(this.limits.reopenDelayMinMs > 0 && this.limits.reopenDelayMaxMs >= this.limits.reopenDelayMinMs)) {
      throw new RangeError('reopen delays must satisfy 0 < reopenDelayMinMs <= reopenDelayMaxMs');
    }
    this.reopenDelayMs = this.limits.reopenDelayMinMs;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  start(): void {
    if (this.state !== 'stopped') return;
    this.attemptOpen();
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const device = this.device;
    this.device = undefined;
    if (device) await device.close();
  }

  private attemptOpen(): void {
    this.state = 'opening';
    this.source
      .open({
        onReport: (report) => {
          if (this.state === 'open') this.handlers.onReport(report);
        },
        onError: (error) => this.fail(`${this.source.description} failed: ${error.message}`),
      })
      .then(
        (device) => {
          if (this.state !== 'opening') {
            // stop() was called while the open was in flight: release the device we no longer want.
            device.close().catch(() => {
              /* the device is being abandoned; a failed close changes nothing */
            });
            return;
          }
          this.device = device;
          this.state = 'open';
          this.reopenDelayMs = this.limits.reopenDelayMinMs;
          this.reportedUnavailable = false;
          this.handlers.onAvailable();
        },
        (error: unknown) => {
          if (this.state !== 'opening') return;
          this.fail(`${this.source.description} could not be opened: ${describe(error)}`);
        },
      );
  }

  private fail(reason: string): void {
    if (this.state === 'stopped' || this.state === 'waiting') return;
    const device = this.device;
    this.device = undefined;
    if (device) {
      device.close().catch(() => {
        /* closing a device that has already failed often fails too; it is released either way */
      });
    }
    this.state = 'waiting';
    if (!this.reportedUnavailable) {
      this.reportedUnavailable = true;
      this.handlers.onUnavailable(reason);
    }
    const delayMs = this.reopenDelayMs;
    this.reopenDelayMs = Math.min(this.reopenDelayMs * 2, this.limits.reopenDelayMaxMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.state === 'waiting') this.attemptOpen();
    }, delayMs);
  }
}
