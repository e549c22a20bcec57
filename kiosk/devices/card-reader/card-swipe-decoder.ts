// Turns the report stream of a keyboard-mode magstripe reader into card events. Pure apart from the
// injected clock: the hardware driver, the simulator and the tests all feed it report Buffers.
import { HidReportError, KeyboardReportDecoder, type KeyPress } from '../hid/keyboard-report.js';
import { parseSwipe, TRACK1_MAX_CHARS, TRACK2_MAX_CHARS, TRACK3_MAX_CHARS, type BadSwipeReason, type CardData } from './magstripe-tracks.js';

export const DEFAULT_CARD_SWIPE_LIMITS = {
  /** Longest text before Enter: all three tracks at their maximum. Anything longer is not a swipe. */
  maxSwipeChars: TRACK1_MAX_CHARS + TRACK2_MAX_CHARS + TRACK3_MAX_CHARS,
  /** Readers type a whole swipe in well under a second (a few ms per character); a longer gap means
   *  the reader stopped mid-swipe, and the partial text must not be glued to the next swipe. */
  interCharTimeoutMs: 500,
} as const;

export type CardSwipeLimits = { -readonly [K in keyof typeof DEFAULT_CARD_SWIPE_LIMITS]: number };

export type CardSwipeEvent = ({ type: 'card' } & CardData) | { type: 'bad-swipe'; reason: BadSwipeReason };

export interface CardSwipeDecoderOptions {
  /** Milliseconds since the epoch; drives the inter-character timeout and the expiry check. */
  nowMs?: () => number;
  reportId?: number | undefined;
  limits?: Partial<CardSwipeLimits>;
}

/** What to do with characters until the swipe ends. */
type Mode =
  | 'collecting' // normal
  | 'overflowed' // too many characters: drop them, report 'too-long' at the end of the swipe
  | 'discarding'; // a bad report was already reported: drop the rest of this swipe silently

/** Stands for any key that is not a track character, so that such a swipe fails as garbled. */
const NON_TRACK_KEY = '\uFFFD';

export class CardSwipeDecoder {
  private readonly keyboard: KeyboardReportDecoder;
  private readonly nowMs: () => number;
  private readonly limits: CardSwipeLimits;
  private chars: string[] = [];
  private mode: Mode = 'collecting';
  private lastInputAtMs: number | undefined;

  constructor(options: CardSwipeDecoderOptions = {}) {
    this.keyboard = new KeyboardReportDecoder({ reportId: options.reportId });
    this.nowMs = options.nowMs ?? Date.now;
    this.limits = { ...DEFAULT_CARD_SWIPE_LIMITS, ...options.limits };
    if (!(this.limits.maxSwipeChars > 0 && this.limits.interCharTimeoutMs > 0)) {
      throw new RangeError('card swipe limits must be positive');
    }
  }

  get interCharTimeoutMs(): number {
    return this.limits.interCharTimeoutMs;
  }

  /** Whether part of a swipe has arrived without its Enter (the driver then arms a timer that calls
   *  `expirePartialSwipe`). */
  get hasPartialSwipe(): boolean {
    return this.lastInputAtMs !== undefined;
  }

  pushReport(report: Buffer): CardSwipeEvent[] {
    const events = this.expirePartialSwipe();
    let presses: KeyPress[];
    try {
      presses = this.keyboard.decode(report);
    } catch (error) {
      if (!(error instanceof HidReportError)) throw error;
      // One event per swipe, however many of its reports are bad (a reader configured with the wrong
      // report id sends nothing else).
      if (this.mode !== 'discarding') events.push({ type: 'bad-swipe', reason: 'bad-report' });
      this.chars = [];
      this.mode = 'discarding';
      this.lastInputAtMs = this.nowMs();
      return events;
    }
    for (const press of presses) {
      const event = this.pushKey(press);
      if (event) events.push(event);
    }
    return events;
  }

  /** Ends a swipe whose reader went quiet for longer than the inter-character timeout. */
  expirePartialSwipe(): CardSwipeEvent[] {
    if (this.lastInputAtMs === undefined) return [];
    if (this.nowMs() - this.lastInputAtMs <= this.limits.interCharTimeoutMs) return [];
    const mode = this.mode;
    this.resetSwipe();
    if (mode === 'discarding') return [];
    return [{ type: 'bad-swipe', reason: mode === 'overflowed' ? 'too-long' : 'timeout' }];
  }

  /** Forgets a partial swipe and held keys (the device was reopened). */
  reset(): void {
    this.resetSwipe();
    this.keyboard.reset();
  }

  private resetSwipe(): void {
    this.chars = [];
    this.mode = 'collecting';
    this.lastInputAtMs = undefined;
  }

  private pushKey(press: KeyPress): CardSwipeEvent | undefined {
    if (press.kind === 'control' && press.key === 'enter') {
      const mode = this.mode;
      const text = this.chars.join('');
      this.resetSwipe();
      if (mode === 'discarding') return undefined;
      if (mode === 'overflowed') return { type: 'bad-swipe', reason: 'too-long' };
      const result = parseSwipe(text, new Date(this.nowMs()));
      return result.ok ? { type: 'card', ...result.card } : { type: 'bad-swipe', reason: result.reason };
    }
    this.lastInputAtMs = this.nowMs();
    if (this.mode !== 'collecting') return undefined;
    if (this.chars.length >= this.limits.maxSwipeChars) {
      this.chars = [];
      this.mode = 'overflowed';
      return undefined;
    }
    this.chars.push(press.kind === 'char' && !press.keypad ? press.char : NON_TRACK_KEY);
    return undefined;
  }
}
