// The card reader as the kiosk core sees it, and its driver for a keyboard-mode USB magstripe reader.
import { DeviceEventHub, type DeviceEvents } from '../hid/device-event-hub.js';
import type { HidDeviceSource } from '../hid/hid-device-source.js';
import { ReconnectingHidDevice, type HidReopenLimits } from '../hid/reconnecting-hid-device.js';
import { CardSwipeDecoder, type CardSwipeEvent, type CardSwipeLimits } from './card-swipe-decoder.js';

export type CardReaderEvent =
  | CardSwipeEvent
  | { type: 'available' }
  /** `reason` names the device and the failure, for the operator log; never shown to customers. */
  | { type: 'unavailable'; reason: string };

export interface CardReader extends DeviceEvents<CardReaderEvent> {
  /** Opens the device; 'available' or 'unavailable' follows. */
  start(): void;
  stop(): Promise<void>;
  readonly isAvailable: boolean;
}

export interface HidCardReaderOptions {
  source: HidDeviceSource;
  /** Set when the reader prefixes its reports with a report id byte. */
  reportId?: number | undefined;
  nowMs?: () => number;
  swipeLimits?: Partial<CardSwipeLimits>;
  reopenLimits?: Partial<HidReopenLimits>;
}

export class HidCardReader implements CardReader {
  private readonly events = new DeviceEventHub<CardReaderEvent>();
  private readonly decoder: CardSwipeDecoder;
  private readonly device: ReconnectingHidDevice;
  private swipeTimer: NodeJS.Timeout | undefined;

  constructor(options: HidCardReaderOptions) {
    this.decoder = new CardSwipeDecoder({ nowMs: options.nowMs, reportId: options.reportId, limits: options.swipeLimits });
    this.device = new ReconnectingHidDevice(
      options.source,
      {
        onReport: (report) => this.onReport(report),
        onAvailable: () => {
          this.decoder.reset();
          this.events.emit({ type: 'available' });
        },
        onUnavailable: (reason) => {
          this.clearSwipeTimer();
          // A swipe cut by an unplug is lost; the customer swipes again once the reader is back.
          this.decoder.reset();
          this.events.emit({ type: 'unavailable', reason });
        },
      },
      options.reopenLimits,
    );
  }

  get isAvailable(): boolean {
    return this.device.isOpen;
  }

  on: CardReader['on'] = (type, listener) => this.events.on(type, listener);
  onAny: CardReader['onAny'] = (listener) => this.events.onAny(listener);

  start(): void {
    this.device.start();
  }

  async stop(): Promise<void> {
    this.clearSwipeTimer();
    await this.device.stop();
  }

  private onReport(report: Buffer): void {
    this.clearSwipeTimer();
    for (const event of this.decoder.pushReport(report)) this.events.emit(event);
    this.armSwipeTimer();
  }

  /** While part of a swipe waits for its Enter, a timer ends it once the reader has been quiet too long.
   *  One millisecond past the timeout, so the decoder's own comparison sees the gap as exceeded; and if the
   *  timer still fires early by the decoder's clock (timers and the wall clock drift apart under load), it
   *  is armed again rather than leaving the partial swipe unreported. */
  private armSwipeTimer(): void {
    if (!this.decoder.hasPartialSwipe) return;
    this.swipeTimer = setTimeout(() => {
      this.swipeTimer = undefined;
      for (const event of this.decoder.expirePartialSwipe()) this.events.emit(event);
      this.armSwipeTimer();
    }, this.decoder.interCharTimeoutMs + 1);
  }

  private clearSwipeTimer(): void {
    clearTimeout(this.swipeTimer);
    this.swipeTimer = undefined;
  }
}
