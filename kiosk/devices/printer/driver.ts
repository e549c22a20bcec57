// The ESC/POS receipt printer over a serial port. ESC/POS has no acknowledgement for printed text,
// so the driver proves the printer is alive with real-time status requests before and after a job.

import type { Logger } from '../../../protocol/log.js';
import { describe } from '../../common/errors.js';
import { DeviceError } from '../serial/device-error.js';
import { SerialCommandQueue } from '../serial/command-queue.js';
import { createDeferred, waitAtMost, type Deferred } from '../serial/deferred.js';
import { SerialLink } from '../serial/serial-link.js';
import {
  CUT,
  INITIALIZE,
  SELECT_CODE_PAGE_1252,
  STATUS_REQUEST,
  encodeLine,
  feedLines,
  isStatusByte,
  layoutReceipt,
  parsePaperStatus,
  parsePrinterStatus,
  statusRequest,
  type StatusRequestKind,
} from './escpos.js';
import type { PrinterAvailability, PrinterStatus, ReceiptPrinter } from './types.js';

export const DEFAULT_PRINTER_LIMITS = {
  /** A real-time status answer comes within a few ms even while printing; the bound is for the kiosk's own
   *  event loop, which on a busy machine may read it late (at 500 ms a loaded test run offered no receipt for
   *  over 45 s). A dead printer is still noticed at the next check. */
  statusTimeoutMs: 2_000,
  /** Characters per line: Font A on 80 mm paper prints 48; 42 leaves a margin and fits 72 mm models. */
  widthChars: 42,
  /** Lines after wrapping; a receipt longer than this is a bug upstream, not a receipt. */
  maxLines: 200,
  /** Blank lines fed before the cut so the last text line clears the cutter. */
  feedLinesBeforeCut: 4,
  /** Bound on write + drain beyond the time the bytes need on the wire. */
  writeMarginMs: 2_000,
  closeTimeoutMs: 1_000,
  maxQueuedJobs: 4,
  /** Bytes that are not a valid status answer, skipped while waiting for one, before giving up. */
  maxSkippedBytesPerStatus: 64,
} as const;

export type PrinterLimits = { -readonly [K in keyof typeof DEFAULT_PRINTER_LIMITS]: number };

export interface SerialReceiptPrinterOptions {
  path: string;
  baudRate?: number;
  limits?: Partial<PrinterLimits>;
  logger?: Logger;
}

export class SerialReceiptPrinter implements ReceiptPrinter {
  private readonly limits: PrinterLimits;
  private readonly baudRate: number;
  private link: SerialLink | undefined;
  private statusWait: { reply: Deferred<number>; skipped: number } | undefined;
  private readonly queue: SerialCommandQueue;
  private currentAvailability: PrinterAvailability = 'closed';
  private readonly listeners = new Set<(availability: PrinterAvailability, reason: string) => void>();
  /** Bytes the printer sent when no status was asked for, or that were not status bytes. */
  unexpectedBytes = 0;
  /** Status answers that came after their request had timed out (and were not taken for a later one's). */
  lateAnswers = 0;
  /** Status requests sent whose answer has not come. The printer answers each in order, one byte each, so
   *  while more than one is owed, a byte that comes is an earlier request's (one that timed out), not the
   *  current one's: taken as the current answer it would shift every later answer by one (a printer near
   *  the end of its paper would then read as offline for good). */
  private answersOwed = 0;
  private lastRequestAtMs = 0;
  private allAnswered: Deferred<void> | undefined;

  constructor(private readonly options: SerialReceiptPrinterOptions) {
    this.limits = { ...DEFAULT_PRINTER_LIMITS, ...options.limits };
    this.baudRate = options.baudRate ?? 9600;
    this.queue = new SerialCommandQueue({ device: 'printer', commandNoun: 'jobs', maxQueued: this.limits.maxQueuedJobs, isOpen: () => this.link?.isOpen === true });
  }

  get availability(): PrinterAvailability {
    return this.currentAvailability;
  }

  onAvailabilityChange(listener: (availability: PrinterAvailability, reason: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async open(): Promise<void> {
    if (this.link?.isOpen) return;
    // Nothing owed on a new line: answers to the old one's requests went with it.
    this.answersOwed = 0;
    this.link = await SerialLink.open(
      { path: this.options.path, baudRate: this.baudRate, writeTimeoutMs: this.limits.writeMarginMs, closeTimeoutMs: this.limits.closeTimeoutMs },
      {
        onData: (bytes) => this.onBytes(bytes),
        onUnexpectedClose: (error) => this.setAvailability('unavailable', `serial port closed: ${error?.message ?? 'no reason given'}`),
      },
    );
    try {
      await this.status();
    } catch (error) {
      // Open succeeds with the printer unavailable: the kiosk offers no receipt and retries later.
      this.options.logger?.warn('printer did not answer status after open', { error: describe(error) });
    }
  }

  async close(): Promise<void> {
    const link = this.link;
    this.link = undefined;
    await link?.close();
    this.statusWait?.reply.resolve(-1);
    this.setAvailability('closed', 'closed by the kiosk');
  }

  status(): Promise<PrinterStatus> {
    return this.queue.run(() => this.readStatus());
  }

  print(lines: string[]): Promise<PrinterStatus> {
    let layout: string[];
    try {
      if (!Array.isArray(lines) || lines.some((l) => typeof l !== 'string')) {
        throw new DeviceError('BAD_ARGUMENT', 'a receipt is an array of strings');
      }
      layout = layoutReceipt(lines, this.limits.widthChars, this.limits.maxLines);
    } catch (error) {
      if (error instanceof RangeError) return Promise.reject(new DeviceError('BAD_ARGUMENT', error.message));
      return Promise.reject(error);
    }
    return this.queue.run(async () => {
      const before = await this.readStatus();
      refuseUnlessPrintable(before, 'before printing');
      const chunks = [INITIALIZE, SELECT_CODE_PAGE_1252, ...layout.map(encodeLine), feedLines(this.limits.feedLinesBeforeCut), CUT];
      const job = concat(chunks);
      await this.write(job);
      // The status request queues behind the job on the wire; its answer proves the printer is
      // still there after taking it (a pty or a dead adapter accepts writes silently).
      const after = await this.readStatus();
      if (after.paper === 'out') {
        throw new DeviceError('PRINTER_OUT_OF_PAPER', 'paper ran out while printing; the receipt may be incomplete');
      }
      return after;
    });
  }

  private async readStatus(): Promise<PrinterStatus> {
    const printer = await this.request(STATUS_REQUEST.printer);
    const paper = await this.request(STATUS_REQUEST.paperSensor);
    const status: PrinterStatus = { online: parsePrinterStatus(printer).online, paper: parsePaperStatus(paper) };
    if (status.online && status.paper !== 'out') this.setAvailability('available', `paper ${status.paper}`);
    else this.setAvailability('unavailable', status.paper === 'out' ? 'out of paper' : 'printer offline');
    return status;
  }

  private async request(kind: StatusRequestKind): Promise<number> {
    if (this.answersOwed > 0) await this.awaitLateAnswers();
    const wait = { reply: createDeferred<number>(), skipped: 0 };
    this.statusWait = wait;
    try {
      this.answersOwed += 1;
      this.lastRequestAtMs = Date.now();
      try {
        await this.write(statusRequest(kind));
      } catch (error) {
        this.answersOwed = 0;
        throw error;
      }
      const answer = await waitAtMost(wait.reply.promise, this.limits.statusTimeoutMs);
      if (answer.timedOut || answer.value < 0) {
        this.setAvailability('unavailable', 'no status answer');
        throw new DeviceError('PRINTER_NO_RESPONSE', `no answer to DLE EOT ${kind} within ${this.limits.statusTimeoutMs} ms`);
      }
      return answer.value;
    } finally {
      if (this.statusWait === wait) this.statusWait = undefined;
    }
  }

  /** Before a request, the answers still owed to requests that timed out: waited for (until twice the
   *  status timeout after the last request), so that none of them is taken for the new request's; one that
   *  has not come by then was lost. */
  private async awaitLateAnswers(): Promise<void> {
    const waitMs = this.lastRequestAtMs + 2 * this.limits.statusTimeoutMs - Date.now();
    if (waitMs > 0) {
      this.allAnswered = createDeferred<void>();
      await waitAtMost(this.allAnswered.promise, waitMs);
      this.allAnswered = undefined;
    }
    this.answersOwed = 0;
  }

  private onBytes(bytes: Uint8Array): void {
    for (const byte of bytes) {
      const wait = this.statusWait;
      if (isStatusByte(byte) && this.answersOwed > 0) {
        this.answersOwed -= 1;
        if (this.answersOwed === 0) this.allAnswered?.resolve();
        if (this.answersOwed > 0 || !wait || wait.reply.settled) {
          // An earlier request's answer, come after it timed out.
          this.lateAnswers += 1;
          continue;
        }
        wait.reply.resolve(byte);
        continue;
      }
      if (!wait || wait.reply.settled) {
        this.unexpectedBytes += 1;
        continue;
      }
      // Line noise or a stray automatic-status byte: skip it and keep waiting, within a bound.
      this.unexpectedBytes += 1;
      wait.skipped += 1;
      if (wait.skipped > this.limits.maxSkippedBytesPerStatus) {
        this.options.logger?.warn('printer sent too many non-status bytes', { skipped: wait.skipped });
        wait.reply.resolve(-1);
      }
    }
  }

  private async write(bytes: Uint8Array): Promise<void> {
    const link = this.link;
    if (!link?.isOpen) throw new DeviceError('NOT_OPEN', 'the printer driver is not open');
    // 10 bits per byte on the wire (8N1), twice for a printer that pauses to print.
    const wireMs = Math.ceil((bytes.length * 10 * 1000) / this.baudRate) * 2;
    try {
      await link.write(bytes, wireMs + this.limits.writeMarginMs);
    } catch (error) {
      this.setAvailability('unavailable', `write failed: ${describe(error)}`);
      throw error;
    }
  }

  private setAvailability(availability: PrinterAvailability, reason: string): void {
    if (this.currentAvailability === availability) return;
    if (this.currentAvailability === 'closed' && !this.link) return;
    this.currentAvailability = availability;
    for (const listener of this.listeners) {
      try {
        listener(availability, reason);
      } catch (error) {
        this.options.logger?.error('availability listener threw', { error: describe(error) });
      }
    }
  }
}

function refuseUnlessPrintable(status: PrinterStatus, when: string): void {
  if (status.paper === 'out') throw new DeviceError('PRINTER_OUT_OF_PAPER', `the printer is out of paper (${when}); nothing was printed`);
  if (!status.online) throw new DeviceError('PRINTER_OFFLINE', `the printer is offline (${when}); nothing was printed`);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
