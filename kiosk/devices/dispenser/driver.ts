// The cash dispenser driver over a real serial port. The property that matters most: a DISPENSE
// frame leaves this process at most once per call. Every failure after it is sent is resolved by
// asking the device (LAST_DISPENSE) what that transaction did, never by sending it again.
// The link layer (frames, ACK/NAK, retransmission) is link.ts; this file is what each command means.

import type { Logger } from '../../../protocol/log.js';
import { describe } from '../../common/errors.js';
import { SerialCommandQueue } from '../serial/command-queue.js';
import { sleepMs } from '../serial/deferred.js';
import { DeviceError } from '../serial/device-error.js';
import { DispenserLink, type DispenserLinkStats } from './link.js';
import {
  COMMAND,
  MAX_CASSETTES,
  MAX_NOTES_PER_DISPENSE,
  MessageFormatError,
  decodeCounters,
  decodeDispenseRecord,
  decodeResetReport,
  decodeRetractRecord,
  decodeStatusReport,
  encodeDispenseCommand,
  encodeSetCounts,
  encodeTransactionId,
  isValidTransactionId,
  type DispenseRecord,
  type ResultCode,
} from './messages.js';
import type {
  AvailabilityChange,
  CashDispenser,
  DeviceAvailability,
  DispenseErrorCode,
  DispenseQueryResult,
  DispenseRequest,
  DispenseResult,
  DispenserCounters,
  DispenserStatus,
  RetractResult,
} from './types.js';

export const DEFAULT_DISPENSER_LIMITS = {
  /** The device ACKs a frame within a few ms; 500 ms covers a busy microcontroller. */
  ackTimeoutMs: 500,
  /** STATUS, COUNTERS, LAST_DISPENSE and RESET answer at once. */
  commandResponseTimeoutMs: 2_000,
  /** The wait for a DISPENSE response is this, plus `dispenseResponsePerNoteMs` for each note asked for
   *  (picking runs at about a note a second), up to `dispenseResponseTimeoutMs`: a customer whose response
   *  was lost waits seconds for a small withdrawal, not the minute that 50 notes may take. */
  dispenseResponseBaseMs: 10_000,
  dispenseResponsePerNoteMs: 1_000,
  /** The bound on that wait: 50 notes at about one per second plus presenting the bundle. */
  dispenseResponseTimeoutMs: 60_000,
  /** Sends of one non-dispense command (first + retransmissions) on NAK or a missing ACK/response. */
  maxTransmitAttempts: 3,
  /** A gap this long inside a frame means the frame is lost (a byte takes ~1 ms at 9600 baud). */
  interByteTimeoutMs: 100,
  /** Rounds of LAST_DISPENSE after a lost dispense response, each a full retransmit budget. */
  outcomeQueryAttempts: 10,
  /** Pause between those rounds: lets a silent device come back or finish moving notes. */
  outcomeQueryIntervalMs: 1_000,
  writeTimeoutMs: 1_000,
  closeTimeoutMs: 1_000,
  /** RETRACT moves the bundle back through the presenter into the bin: seconds, not milliseconds. */
  retractResponseTimeoutMs: 15_000,
  /** Callers waiting behind the command in progress; more means something upstream is looping. */
  maxQueuedCommands: 4,
} as const;

export type DispenserLimits = { -readonly [K in keyof typeof DEFAULT_DISPENSER_LIMITS]: number };

export interface SerialCashDispenserOptions {
  path: string;
  baudRate?: number;
  limits?: Partial<DispenserLimits>;
  logger?: Logger;
}

export class SerialCashDispenser implements CashDispenser {
  private readonly limits: DispenserLimits;
  private readonly link: DispenserLink;
  private readonly queue: SerialCommandQueue;
  private currentAvailability: DeviceAvailability = 'closed';
  private readonly listeners = new Set<(change: AvailabilityChange) => void>();

  constructor(private readonly options: SerialCashDispenserOptions) {
    this.limits = { ...DEFAULT_DISPENSER_LIMITS, ...options.limits };
    this.link = new DispenserLink({
      path: options.path,
      baudRate: options.baudRate ?? 9600,
      limits: this.limits,
      logger: options.logger,
      onAvailability: (availability, reason) => this.setAvailability(availability, reason),
    });
    this.queue = new SerialCommandQueue({ device: 'dispenser', commandNoun: 'commands', maxQueued: this.limits.maxQueuedCommands, isOpen: () => this.link.isOpen });
  }

  /** Statistics of the link, for diagnostics and tests. */
  get stats(): DispenserLinkStats {
    return this.link.stats;
  }

  get availability(): DeviceAvailability {
    return this.currentAvailability;
  }

  onAvailabilityChange(listener: (change: AvailabilityChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async open(): Promise<void> {
    if (this.link.isOpen) return;
    await this.link.open();
    // Availability is proven by an answer, not by an open fd.
    try {
      const status = await this.status();
      if (status.state === 'error') this.setAvailability('unavailable', `dispenser in error state (${status.error ?? 'unspecified'})`);
    } catch (error) {
      // Open succeeds with the device unavailable: the kiosk shows out-of-service and retries later.
      this.options.logger?.warn('dispenser did not answer STATUS after open', { error: describe(error) });
    }
  }

  async close(): Promise<void> {
    await this.link.close();
    this.setAvailability('closed', 'closed by the kiosk');
  }

  status(): Promise<DispenserStatus> {
    return this.queue.run(async () => {
      const frame = await this.link.request(COMMAND.STATUS, new Uint8Array(0));
      const report = this.parse(() => decodeStatusReport(frame.data));
      const status: DispenserStatus = {
        state: report.state,
        cassettes: report.cassettes.map((c, index) => ({ index, ...c })),
      };
      const error = errorOf(report.lastError);
      if (error) status.error = error;
      if (report.state === 'error') this.setAvailability('unavailable', `dispenser in error state (${error ?? 'unspecified'})`);
      return status;
    });
  }

  setCassetteCounts(counts: readonly number[]): Promise<DispenserStatus> {
    let data: Uint8Array;
    try {
      data = encodeSetCounts([...counts]);
    } catch (error) {
      return Promise.reject(new DeviceError('BAD_ARGUMENT', describe(error)));
    }
    return this.queue.run(async () => {
      const frame = await this.link.request(COMMAND.SET_COUNTS, data);
      const report = this.parse(() => decodeStatusReport(frame.data));
      const set = report.cassettes.map((c) => c.count);
      if (set.length !== counts.length || set.some((n, i) => n !== counts[i])) throw new DeviceError('DISPENSER_REFUSED', `the dispenser reports counts ${set.join(',')} after SET_COUNTS ${counts.join(',')}`);
      return { state: report.state, cassettes: report.cassettes.map((c, index) => ({ index, ...c })), ...(errorOf(report.lastError) !== undefined && { error: errorOf(report.lastError)! }) };
    });
  }

  counters(): Promise<DispenserCounters> {
    return this.queue.run(async () => {
      const frame = await this.link.request(COMMAND.COUNTERS, new Uint8Array(0));
      return { lifetimeDispensed: this.parse(() => decodeCounters(frame.data)) };
    });
  }

  reset(): Promise<void> {
    return this.queue.run(async () => {
      const frame = await this.link.request(COMMAND.RESET, new Uint8Array(0));
      const report = this.parse(() => decodeResetReport(frame.data));
      if (report.state === 'error') {
        this.setAvailability('unavailable', `dispenser still in error state after RESET (${report.lastError})`);
        throw new DeviceError('DISPENSER_REFUSED', `dispenser stayed in error state after RESET (${report.lastError})`);
      }
    });
  }

  retract(transactionId: number): Promise<RetractResult> {
    if (!isValidTransactionId(transactionId)) {
      return Promise.reject(new DeviceError('BAD_ARGUMENT', `transaction id ${transactionId} is not an integer in 1..2^32-1`));
    }
    // Retransmitted like any query: the device answers a repeated RETRACT with what it did the first time.
    return this.queue.run(async () => {
      const frame = await this.link.request(COMMAND.RETRACT, encodeTransactionId(transactionId), this.limits.retractResponseTimeoutMs);
      const record = this.parse(() => decodeRetractRecord(frame.data));
      if (record.transactionId !== transactionId) {
        throw new DeviceError('DISPENSER_BAD_RESPONSE', `RETRACT answered for transaction ${record.transactionId}, asked ${transactionId}`);
      }
      return { transactionId, outcome: record.outcome, retracted: record.retracted, retractBinCount: record.binCount };
    });
  }

  queryDispense(transactionId: number): Promise<DispenseQueryResult> {
    if (!isValidTransactionId(transactionId)) {
      return Promise.reject(new DeviceError('BAD_ARGUMENT', `transaction id ${transactionId} is not an integer in 1..2^32-1`));
    }
    return this.queue.run(() => this.queryOnce(transactionId));
  }

  dispense(request: DispenseRequest): Promise<DispenseResult> {
    try {
      checkDispenseRequest(request);
    } catch (error) {
      return Promise.reject(error);
    }
    // Copy: the caller's array must not change what we compare the device's answer with.
    const notes = [...request.notes];
    return this.queue.run(() => this.dispenseOnce(request.transactionId, notes));
  }

  private async dispenseOnce(transactionId: number, notes: number[]): Promise<DispenseResult> {
    const data = encodeDispenseCommand({ transactionId, notes });
    let lost: string;
    try {
      // Sent once. A NAK, missing ACK or missing response all fall through to the query below.
      this.link.stats.dispenseFramesSent += 1;
      const noteCount = notes.reduce((sum, n) => sum + n, 0);
      const responseTimeoutMs = Math.min(this.limits.dispenseResponseTimeoutMs, this.limits.dispenseResponseBaseMs + this.limits.dispenseResponsePerNoteMs * noteCount);
      const answer = await this.link.sendOnce(COMMAND.DISPENSE, data, responseTimeoutMs);
      if (typeof answer !== 'string') {
        const record = this.parse(() => decodeDispenseRecord(answer.data, 'DISPENSE response'));
        return this.resultFromRecord(record, transactionId, notes, 'response');
      }
      lost = answer;
    } catch (error) {
      // A write error may still have put the whole frame on the wire, and a response that does not make
      // sense says nothing reliable: both are treated like a lost response.
      lost = describe(error);
    }
    this.options.logger?.warn('dispense response lost; asking the device what it did', { transactionId, reason: lost });
    return this.recoverDispenseOutcome(transactionId, notes, lost);
  }

  private async recoverDispenseOutcome(transactionId: number, notes: number[], lostReason: string): Promise<DispenseResult> {
    let lastProblem = lostReason;
    for (let attempt = 1; attempt <= this.limits.outcomeQueryAttempts; attempt++) {
      if (attempt > 1) await sleepMs(this.limits.outcomeQueryIntervalMs);
      let query: DispenseQueryResult;
      try {
        query = await this.queryOnce(transactionId);
      } catch (error) {
        lastProblem = describe(error);
        continue;
      }
      if (!query.found) {
        // The query travels on the same line after the DISPENSE frame and the device records a
        // transaction before moving its first note, so "unknown" proves nothing moved.
        return { transactionId, requested: notes, dispensed: notes.map(() => 0), complete: false, error: 'not-received', source: 'query' };
      }
      if (query.inProgress) {
        lastProblem = 'dispense still in progress';
        continue;
      }
      if (!sameCounts(query.requested, notes)) {
        throw new DeviceError('DISPENSER_REFUSED', `transaction ${transactionId} was used before for a different dispense; nothing was sent again`);
      }
      const result: DispenseResult = { transactionId, requested: notes, dispensed: query.dispensed, complete: query.complete, source: 'query' };
      if (query.error) result.error = query.error;
      return result;
    }
    this.setAvailability('unavailable', 'dispense outcome unknown');
    throw new DeviceError(
      'DISPENSE_OUTCOME_UNKNOWN',
      `transaction ${transactionId}: no answer to LAST_DISPENSE after ${this.limits.outcomeQueryAttempts} rounds (${lastProblem}); keep it open and query again`,
    );
  }

  private async queryOnce(transactionId: number): Promise<DispenseQueryResult> {
    const frame = await this.link.request(COMMAND.LAST_DISPENSE, encodeTransactionId(transactionId));
    const record = this.parse(() => decodeDispenseRecord(frame.data, 'LAST_DISPENSE response'));
    if (record.transactionId !== transactionId) {
      throw new DeviceError('DISPENSER_BAD_RESPONSE', `LAST_DISPENSE answered for transaction ${record.transactionId}, asked ${transactionId}`);
    }
    if (record.outcome === 'unknown') return { transactionId, found: false };
    const result: DispenseQueryResult = {
      transactionId,
      found: true,
      inProgress: record.outcome === 'in-progress',
      requested: record.requested,
      dispensed: record.dispensed,
      complete: record.outcome === 'completed',
    };
    const error = errorOf(record.result);
    if (error) result.error = error;
    return result;
  }

  private resultFromRecord(record: DispenseRecord, transactionId: number, notes: number[], source: 'response' | 'query'): DispenseResult {
    if (record.transactionId !== transactionId) {
      throw new DeviceError('DISPENSER_BAD_RESPONSE', `DISPENSE answered for transaction ${record.transactionId}, sent ${transactionId}`);
    }
    if (record.outcome === 'in-progress' || record.outcome === 'unknown') {
      // A DISPENSE answer is final by definition; anything else is resolved by LAST_DISPENSE.
      throw new DeviceError('DISPENSER_BAD_RESPONSE', `DISPENSE answered with outcome ${record.outcome}`);
    }
    if (!sameCounts(record.requested, notes)) {
      // The device kept an older dispense under this number and answered with it instead.
      throw new DeviceError('DISPENSER_REFUSED', `transaction ${transactionId} was used before for a different dispense`);
    }
    const result: DispenseResult = {
      transactionId,
      requested: notes,
      dispensed: record.dispensed,
      complete: record.outcome === 'completed',
      source,
    };
    const error = errorOf(record.result);
    if (error) result.error = error;
    if (error === 'jam' || error === 'not-ready') this.setAvailability('unavailable', `dispenser reported ${error}`);
    return result;
  }

  private parse<T>(decode: () => T): T {
    try {
      return decode();
    } catch (error) {
      if (error instanceof MessageFormatError) throw new DeviceError('DISPENSER_BAD_RESPONSE', error.message, { cause: error });
      throw error;
    }
  }

  private setAvailability(availability: DeviceAvailability, reason: string): void {
    if (this.currentAvailability === availability) return;
    // 'closed' is left only by open(); a late event from the port must not revive a closed driver.
    if (this.currentAvailability === 'closed' && !this.link.isAttached) return;
    this.currentAvailability = availability;
    for (const listener of this.listeners) {
      try {
        listener({ availability, reason });
      } catch (error) {
        this.options.logger?.error('availability listener threw', { error: describe(error) });
      }
    }
  }
}

function checkDispenseRequest(request: DispenseRequest): void {
  if (!isValidTransactionId(request.transactionId)) {
    throw new DeviceError('BAD_ARGUMENT', `transaction id ${request.transactionId} is not an integer in 1..2^32-1`);
  }
  const { notes } = request;
  if (!Array.isArray(notes) || notes.length < 1 || notes.length > MAX_CASSETTES) {
    throw new DeviceError('BAD_ARGUMENT', `notes must list 1..${MAX_CASSETTES} cassettes`);
  }
  let total = 0;
  for (const n of notes) {
    if (!Number.isSafeInteger(n) || n < 0) throw new DeviceError('BAD_ARGUMENT', `note count ${n} is not a non-negative integer`);
    total += n;
  }
  if (total < 1 || total > MAX_NOTES_PER_DISPENSE) {
    throw new DeviceError('BAD_ARGUMENT', `a dispense moves 1..${MAX_NOTES_PER_DISPENSE} notes, not ${total}`);
  }
}

function errorOf(result: ResultCode): DispenseErrorCode | undefined {
  return result === 'ok' ? undefined : result;
}

function sameCounts(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}
