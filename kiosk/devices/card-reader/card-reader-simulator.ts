// A card reader for development and tests: it produces the exact boot keyboard reports a keyboard-mode
// magstripe reader sends for a card, and runs them through the real driver and decoder.
import { SimulatedHidDeviceSource } from '../hid/hid-device-source.js';
import { reportsForText } from '../hid/keyboard-report-writer.js';
import type { KeyboardReportOptions } from '../hid/keyboard-report.js';
import { HidCardReader, type CardReader, type HidCardReaderOptions } from './card-reader.js';
import type { CardExpiry } from './magstripe-tracks.js';

export interface SimulatedCard {
  pan: string;
  /** Track 1 name, `SURNAME/GIVEN`; defaults to a placeholder. */
  name?: string;
  expiry: CardExpiry;
  /** Three digits; 101 = international, normal authorization, no restrictions. */
  serviceCode?: string;
  /** Which tracks the reader could read. */
  tracks?: 'both' | 'track1' | 'track2';
}

const DEFAULT_SERVICE_CODE = '101';
const DEFAULT_NAME = 'CARDHOLDER/TEST';

function yymm(expiry: CardExpiry): string {
  return `${String(expiry.year % 100).padStart(2, '0')}${String(expiry.month).padStart(2, '0')}`;
}

export function track1Text(card: SimulatedCard): string {
  return `%B${card.pan}^${card.name ?? DEFAULT_NAME}^${yymm(card.expiry)}${card.serviceCode ?? DEFAULT_SERVICE_CODE}0000000000?`;
}

export function track2Text(card: SimulatedCard): string {
  return `;${card.pan}=${yymm(card.expiry)}${card.serviceCode ?? DEFAULT_SERVICE_CODE}00000000?`;
}

/** What the reader types for one swipe, Enter included. */
export function swipeText(card: SimulatedCard): string {
  const tracks = card.tracks ?? 'both';
  return `${tracks === 'track2' ? '' : track1Text(card)}${tracks === 'track1' ? '' : track2Text(card)}\n`;
}

export function cardSwipeReports(card: SimulatedCard, options: KeyboardReportOptions = {}): Buffer[] {
  return reportsForText(swipeText(card), options);
}

export class SimulatedCardReader implements CardReader {
  readonly device: SimulatedHidDeviceSource;
  private readonly reader: HidCardReader;
  private readonly reportId: number | undefined;

  constructor(options: Omit<HidCardReaderOptions, 'source'> = {}) {
    this.device = new SimulatedHidDeviceSource('simulated card reader');
    this.reportId = options.reportId;
    this.reader = new HidCardReader({ ...options, source: this.device });
  }

  get isAvailable(): boolean {
    return this.reader.isAvailable;
  }

  on: CardReader['on'] = (type, listener) => this.reader.on(type, listener);
  onAny: CardReader['onAny'] = (listener) => this.reader.onAny(listener);

  start(): void {
    this.reader.start();
  }

  stop(): Promise<void> {
    return this.reader.stop();
  }

  swipe(card: SimulatedCard): void {
    this.device.sendReports(cardSwipeReports(card, { reportId: this.reportId }));
  }

  /** Types arbitrary text, for misreads; '\n' is Enter. */
  typeText(text: string): void {
    this.device.sendReports(reportsForText(text, { reportId: this.reportId }));
  }
}
