// An ESC/POS receipt printer on the far end of a pty pair: keeps what it "printed" as receipts split
// at each cut, answers DLE EOT status, and can be told its paper is near its end or out.

import type { Logger } from '../../../protocol/log.js';
import { describe } from '../../common/errors.js';
import { SerialLink } from '../serial/serial-link.js';
import {
  OFFLINE_COVER_OPEN_BIT,
  OFFLINE_PAPER_END_STOP_BIT,
  PAPER_END_BITS,
  PAPER_NEAR_END_BITS,
  PRINTER_STATUS_OFFLINE_BIT,
} from './escpos.js';
import { EscPosParser, type EscPosEvent } from './escpos-parser.js';
import type { PaperState } from './types.js';

export interface PrinterSimulatorOptions {
  path: string;
  baudRate?: number;
  widthChars?: number;
  /** Receipts kept for reading back; the oldest is dropped first. */
  maxReceipts?: number;
  /** Lines of one receipt before the simulator treats the paper as used up for it. */
  maxLinesPerReceipt?: number;
  logger?: Logger;
}

const STATUS_BASE = 0x12;
/** Between two answers sent late. */
const LATE_ANSWER_GAP_MS = 10;

export class PrinterSimulator {
  private link: SerialLink | undefined;
  private readonly parser: EscPosParser;
  private readonly maxReceipts: number;
  private readonly maxLinesPerReceipt: number;
  private paper: PaperState = 'ok';
  private coverOpen = false;
  private silentUntilMs = 0;
  /** Answers held until then (a printer busy with its mechanism), sent in order when it comes. */
  private lateUntilMs = 0;
  private readonly lateAnswers: number[] = [];
  private lateTimer: NodeJS.Timeout | undefined;
  /** Receipts cut so far, each as its printed lines (trailing feed lines removed). */
  readonly receipts: string[][] = [];
  /** Lines printed since the last cut. */
  currentLines: string[] = [];
  initializeCount = 0;
  statusRequests = 0;
  /** Text lines that arrived while the paper was out and so were not printed. */
  linesDroppedWithoutPaper = 0;
  readonly writeErrors: string[] = [];

  private constructor(private readonly options: PrinterSimulatorOptions) {
    this.parser = new EscPosParser({ widthChars: options.widthChars ?? 42 });
    this.maxReceipts = options.maxReceipts ?? 100;
    this.maxLinesPerReceipt = options.maxLinesPerReceipt ?? 1_000;
  }

  static async start(options: PrinterSimulatorOptions): Promise<PrinterSimulator> {
    const simulator = new PrinterSimulator(options);
    simulator.link = await SerialLink.open(
      { path: options.path, baudRate: options.baudRate ?? 9600, writeTimeoutMs: 1_000, closeTimeoutMs: 1_000 },
      {
        onData: (bytes) => simulator.onBytes(bytes),
        onUnexpectedClose: (error) => options.logger?.warn('printer simulator port closed', { error: error?.message }),
      },
    );
    return simulator;
  }

  async stop(): Promise<void> {
    clearTimeout(this.lateTimer);
    const link = this.link;
    this.link = undefined;
    await link?.close();
  }

  setPaper(paper: PaperState): void {
    this.paper = paper;
  }

  setCoverOpen(open: boolean): void {
    this.coverOpen = open;
  }

  /** Answer no status requests for this long (text is still printed). */
  goSilent(durationMs: number): void {
    this.silentUntilMs = Date.now() + durationMs;
  }

  /** Answer status requests late: those asked within `durationMs` are answered when it ends, in order,
   *  as a printer answers that was busy (the bytes come, but after the driver stopped waiting). */
  answerLate(durationMs: number): void {
    this.lateUntilMs = Date.now() + durationMs;
  }

  get unknownCommands(): number {
    return this.parser.unknownCommands;
  }

  /** Writes raw bytes to the host, for noise-on-the-line tests. */
  async injectBytes(bytes: Uint8Array): Promise<void> {
    await this.link?.write(bytes);
  }

  private onBytes(bytes: Uint8Array): void {
    for (const event of this.parser.push(bytes)) this.onEvent(event);
  }

  private onEvent(event: EscPosEvent): void {
    switch (event.kind) {
      case 'initialize':
        this.initializeCount += 1;
        return;
      case 'line':
        this.printLine(event.text);
        return;
      case 'feed':
        for (let i = 0; i < event.lines; i++) this.printLine('');
        return;
      case 'cut':
        if (this.paper === 'out') return;
        while (this.currentLines.at(-1) === '') this.currentLines.pop();
        this.receipts.push(this.currentLines);
        if (this.receipts.length > this.maxReceipts) this.receipts.shift();
        this.currentLines = [];
        return;
      case 'status-request':
        this.statusRequests += 1;
        if (Date.now() < this.silentUntilMs) return;
        this.answerStatus(event.n);
        return;
    }
  }

  private printLine(text: string): void {
    // A printer with no paper (or the cover open) prints nothing; the bytes are simply lost.
    if (this.paper === 'out' || this.coverOpen || this.currentLines.length >= this.maxLinesPerReceipt) {
      this.linesDroppedWithoutPaper += 1;
      return;
    }
    this.currentLines.push(text);
  }

  private answerStatus(n: number): void {
    const paperOut = this.paper === 'out';
    let byte: number;
    switch (n) {
      case 1:
        byte = STATUS_BASE | (paperOut || this.coverOpen ? PRINTER_STATUS_OFFLINE_BIT : 0);
        break;
      case 2:
        byte = STATUS_BASE | (this.coverOpen ? OFFLINE_COVER_OPEN_BIT : 0) | (paperOut ? OFFLINE_PAPER_END_STOP_BIT : 0);
        break;
      case 3:
        byte = STATUS_BASE;
        break;
      case 4:
        // A roll at its end also trips the near-end sensor, as on real mechanisms.
        byte = STATUS_BASE | (this.paper !== 'ok' ? PAPER_NEAR_END_BITS : 0) | (paperOut ? PAPER_END_BITS : 0);
        break;
      default:
        return; // Real printers ignore DLE EOT with an undefined n.
    }
    const delayMs = this.lateUntilMs - Date.now();
    if (delayMs > 0 || this.lateAnswers.length > 0) {
      // Behind the ones held: a serial line answers in order.
      this.lateAnswers.push(byte);
      this.lateTimer ??= setTimeout(() => this.sendLateAnswer(), Math.max(0, delayMs));
      return;
    }
    this.send(Uint8Array.of(byte));
  }

  /** The held answers one by one, a few ms apart, as a printer catching up answers each request. */
  private sendLateAnswer(): void {
    const byte = this.lateAnswers.shift();
    this.lateTimer = byte === undefined || this.lateAnswers.length === 0 ? undefined : setTimeout(() => this.sendLateAnswer(), LATE_ANSWER_GAP_MS);
    if (byte !== undefined) this.send(Uint8Array.of(byte));
  }

  private send(bytes: Uint8Array): void {
    this.link?.write(bytes).catch((error: unknown) => {
      this.writeErrors.push(describe(error));
    });
  }
}
