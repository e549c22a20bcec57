// The dispenser's commands and the bytes of their DATA fields, both directions. Parsing is strict:
// every length, enum and count is checked here, at the edge, so the driver and simulator trust types.

import { MAX_NOTES_PER_WITHDRAWAL } from '../../../protocol/limits.js';
import { KioskError } from '../../common/errors.js';
import type { DispenseErrorCode, DispenserState } from './types.js';

export const COMMAND = {
  STATUS: 0x10,
  DISPENSE: 0x20,
  LAST_DISPENSE: 0x21,
  COUNTERS: 0x30,
  RESET: 0x40,
  /** Takes back notes the customer left in the presenter (dispense-related, beside DISPENSE and LAST_DISPENSE). */
  RETRACT: 0x22,
  /** A technician loaded cassettes (or took them out): the device's note count of each cassette is set. */
  SET_COUNTS: 0x50,
} as const;
export type CommandCode = (typeof COMMAND)[keyof typeof COMMAND];

/** A response's CMD is its command's CMD with the high bit set. */
export const RESPONSE_BIT = 0x80;
export function responseCommandOf(command: CommandCode): number {
  return command | RESPONSE_BIT;
}

export const HOST_COMMANDS: ReadonlySet<number> = new Set(Object.values(COMMAND));
export const DEVICE_RESPONSES: ReadonlySet<number> = new Set(Object.values(COMMAND).map((c) => c | RESPONSE_BIT));

export const MAX_CASSETTES = 8;
/** A real presenter holds a bundle of about 50 notes; the device refuses more in one dispense. */
export const MAX_NOTES_PER_DISPENSE = MAX_NOTES_PER_WITHDRAWAL;
/** Counts in a cassette travel as u16. */
export const MAX_NOTES_PER_CASSETTE = 0xffff;
/** Transaction numbers travel as u32; 0 is reserved for "none". */
export const MAX_TRANSACTION_ID = 0xffff_ffff;
/** Denominations travel as u32 cents. */
export const MAX_DENOMINATION_CENTS = 0xffff_ffff;

const STATE_CODES: readonly DispenserState[] = ['ready', 'dispensing', 'error', 'presenting'];

/** Result codes on the wire; index = byte. 0 = OK. */
const RESULT_CODES: readonly (DispenseErrorCode | 'ok')[] = [
  'ok',
  'jam',
  'pick-failure',
  'insufficient-notes',
  'invalid-request',
  'not-ready',
];
export type ResultCode = (typeof RESULT_CODES)[number];

/** What LAST_DISPENSE knows about a transaction number; index = byte. */
const OUTCOME_CODES = ['unknown', 'in-progress', 'completed', 'stopped'] as const;
export type OutcomeCode = (typeof OUTCOME_CODES)[number];

/** A message body that breaks the format (a short field, an unknown enum value, a count out of range). */
export class MessageFormatError extends KioskError<'DISPENSER_MESSAGE_MALFORMED'> {
  constructor(message: string) {
    super('DISPENSER_MESSAGE_MALFORMED', message);
    this.name = 'MessageFormatError';
  }
}

export interface CassetteReport {
  denominationCents: number;
  count: number;
  low: boolean;
}

export interface StatusReport {
  state: DispenserState;
  lastError: ResultCode;
  cassettes: CassetteReport[];
}

export interface DispenseCommand {
  transactionId: number;
  notes: number[];
}

/** The device's record of one transaction; the DISPENSE and LAST_DISPENSE responses both carry it. */
export interface DispenseRecord {
  transactionId: number;
  outcome: OutcomeCode;
  result: ResultCode;
  requested: number[];
  dispensed: number[];
}

/** What RETRACT did with a transaction's notes; index = byte. */
const RETRACT_OUTCOME_CODES = ['unknown', 'retracted', 'taken'] as const;
export type RetractOutcome = (typeof RETRACT_OUTCOME_CODES)[number];

/** The device's answer to RETRACT: what it took back of the transaction's notes, per cassette they came
 *  from, and how many notes its retract bin holds now. */
export interface RetractRecord {
  transactionId: number;
  outcome: RetractOutcome;
  retracted: number[];
  binCount: number;
}

export interface ResetReport {
  state: DispenserState;
  lastError: ResultCode;
}

const LOW_FLAG = 0x01;

class Writer {
  private readonly bytes: number[] = [];
  u8(value: number): this {
    this.bytes.push(value & 0xff);
    return this;
  }
  u16(value: number): this {
    return this.u8(value >>> 8).u8(value);
  }
  u32(value: number): this {
    return this.u16(Math.floor(value / 0x10000)).u16(value % 0x10000);
  }
  done(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

class Reader {
  private at = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {}
  u8(): number {
    if (this.at >= this.bytes.length) throw new MessageFormatError(`${this.what}: data ends after ${this.bytes.length} bytes`);
    return this.bytes[this.at++] ?? 0;
  }
  u16(): number {
    return this.u8() * 0x100 + this.u8();
  }
  u32(): number {
    return this.u16() * 0x10000 + this.u16();
  }
  end(): void {
    if (this.at !== this.bytes.length) {
      throw new MessageFormatError(`${this.what}: ${this.bytes.length - this.at} unexpected bytes after the data`);
    }
  }
  enumOf<T>(values: readonly T[], name: string): T {
    const byte = this.u8();
    const value = values[byte];
    if (value === undefined) throw new MessageFormatError(`${this.what}: unknown ${name} ${byte}`);
    return value;
  }
  cassetteCount(): number {
    const count = this.u8();
    if (count < 1 || count > MAX_CASSETTES) throw new MessageFormatError(`${this.what}: cassette count ${count} outside 1..${MAX_CASSETTES}`);
    return count;
  }
}

function checkCassettes(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_CASSETTES) {
    throw new RangeError(`cassette count ${count} outside 1..${MAX_CASSETTES}`);
  }
}

export function isValidTransactionId(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= MAX_TRANSACTION_ID;
}

// --- host -> device ---------------------------------------------------------------------------

export function encodeDispenseCommand(command: DispenseCommand): Uint8Array {
  checkCassettes(command.notes.length);
  const w = new Writer().u32(command.transactionId).u8(command.notes.length);
  for (const n of command.notes) w.u16(n);
  return w.done();
}

export function decodeDispenseCommand(data: Uint8Array): DispenseCommand {
  const r = new Reader(data, 'DISPENSE');
  const transactionId = r.u32();
  const notes = Array.from({ length: r.cassetteCount() }, () => r.u16());
  r.end();
  return { transactionId, notes };
}

export function encodeTransactionId(transactionId: number): Uint8Array {
  return new Writer().u32(transactionId).done();
}

export function decodeTransactionId(data: Uint8Array, what: string): number {
  const r = new Reader(data, what);
  const id = r.u32();
  r.end();
  return id;
}

export function decodeEmpty(data: Uint8Array, what: string): void {
  new Reader(data, what).end();
}

// --- device -> host ---------------------------------------------------------------------------

export function encodeStatusReport(report: StatusReport): Uint8Array {
  checkCassettes(report.cassettes.length);
  const w = new Writer()
    .u8(STATE_CODES.indexOf(report.state))
    .u8(RESULT_CODES.indexOf(report.lastError))
    .u8(report.cassettes.length);
  for (const c of report.cassettes) w.u32(c.denominationCents).u16(c.count).u8(c.low ? LOW_FLAG : 0);
  return w.done();
}

export function decodeStatusReport(data: Uint8Array): StatusReport {
  const r = new Reader(data, 'STATUS response');
  const state = r.enumOf(STATE_CODES, 'state');
  const lastError = r.enumOf(RESULT_CODES, 'error code');
  const cassettes = Array.from({ length: r.cassetteCount() }, (): CassetteReport => {
    const denominationCents = r.u32();
    const count = r.u16();
    const flags = r.u8();
    if (denominationCents < 1) throw new MessageFormatError('STATUS response: a cassette has denomination 0');
    if ((flags & ~LOW_FLAG) !== 0) throw new MessageFormatError(`STATUS response: unknown cassette flags 0x${flags.toString(16)}`);
    return { denominationCents, count, low: (flags & LOW_FLAG) !== 0 };
  });
  r.end();
  return { state, lastError, cassettes };
}

export function encodeDispenseRecord(record: DispenseRecord): Uint8Array {
  checkCassettes(record.requested.length);
  const w = new Writer()
    .u32(record.transactionId)
    .u8(OUTCOME_CODES.indexOf(record.outcome))
    .u8(RESULT_CODES.indexOf(record.result))
    .u8(record.requested.length);
  record.requested.forEach((n, i) => w.u16(n).u16(record.dispensed[i] ?? 0));
  return w.done();
}

export function decodeDispenseRecord(data: Uint8Array, what: string): DispenseRecord {
  const r = new Reader(data, what);
  const transactionId = r.u32();
  const outcome = r.enumOf(OUTCOME_CODES, 'outcome');
  const result = r.enumOf(RESULT_CODES, 'result code');
  const requested: number[] = [];
  const dispensed: number[] = [];
  const count = r.cassetteCount();
  for (let i = 0; i < count; i++) {
    requested.push(r.u16());
    dispensed.push(r.u16());
  }
  r.end();
  // Invariants of a record, checked where money is reported: nothing beyond what was asked, and a
  // completed dispense delivered exactly what was asked.
  dispensed.forEach((n, i) => {
    if (n > (requested[i] ?? 0)) throw new MessageFormatError(`${what}: cassette ${i} dispensed ${n} > requested ${requested[i]}`);
  });
  if (outcome === 'completed' && (result !== 'ok' || dispensed.some((n, i) => n !== requested[i]))) {
    throw new MessageFormatError(`${what}: completed record does not match its request`);
  }
  if (outcome === 'stopped' && result === 'ok') throw new MessageFormatError(`${what}: stopped record has no error code`);
  if (outcome === 'unknown' && dispensed.some((n) => n !== 0)) throw new MessageFormatError(`${what}: unknown transaction with notes`);
  return { transactionId, outcome, result, requested, dispensed };
}

/** SET_COUNTS DATA: u8 cassettes, then each cassette's new note count as u16. The answer is a STATUS report. */
export function encodeSetCounts(counts: number[]): Uint8Array {
  checkCassettes(counts.length);
  const w = new Writer().u8(counts.length);
  for (const n of counts) {
    if (!Number.isInteger(n) || n < 0 || n > MAX_NOTES_PER_CASSETTE) throw new RangeError(`cassette count ${n} outside 0..${MAX_NOTES_PER_CASSETTE}`);
    w.u16(n);
  }
  return w.done();
}

export function decodeSetCounts(data: Uint8Array): number[] {
  const r = new Reader(data, 'SET_COUNTS');
  const counts = Array.from({ length: r.cassetteCount() }, () => r.u16());
  r.end();
  return counts;
}

export function encodeCounters(lifetimeDispensed: number[]): Uint8Array {
  checkCassettes(lifetimeDispensed.length);
  const w = new Writer().u8(lifetimeDispensed.length);
  for (const n of lifetimeDispensed) w.u32(n);
  return w.done();
}

export function decodeCounters(data: Uint8Array): number[] {
  const r = new Reader(data, 'COUNTERS response');
  const counts = Array.from({ length: r.cassetteCount() }, () => r.u32());
  r.end();
  return counts;
}

export function encodeRetractRecord(record: RetractRecord): Uint8Array {
  checkCassettes(record.retracted.length);
  const w = new Writer().u32(record.transactionId).u8(RETRACT_OUTCOME_CODES.indexOf(record.outcome)).u8(record.retracted.length);
  for (const n of record.retracted) w.u16(n);
  return w.u32(record.binCount).done();
}

export function decodeRetractRecord(data: Uint8Array): RetractRecord {
  const r = new Reader(data, 'RETRACT response');
  const transactionId = r.u32();
  const outcome = r.enumOf(RETRACT_OUTCOME_CODES, 'retract outcome');
  const retracted = Array.from({ length: r.cassetteCount() }, () => r.u16());
  const binCount = r.u32();
  r.end();
  // Notes come back only from a retract, and a retract takes back at least one note.
  const total = retracted.reduce((sum, n) => sum + n, 0);
  if (outcome !== 'retracted' && total !== 0) throw new MessageFormatError(`RETRACT response: ${outcome} with ${total} notes retracted`);
  if (outcome === 'retracted' && total === 0) throw new MessageFormatError('RETRACT response: retracted with no notes');
  if (binCount < total) throw new MessageFormatError(`RETRACT response: the bin holds ${binCount} notes, fewer than the ${total} just retracted`);
  return { transactionId, outcome, retracted, binCount };
}

export function encodeResetReport(report: ResetReport): Uint8Array {
  return new Writer().u8(STATE_CODES.indexOf(report.state)).u8(RESULT_CODES.indexOf(report.lastError)).done();
}

export function decodeResetReport(data: Uint8Array): ResetReport {
  const r = new Reader(data, 'RESET response');
  const state = r.enumOf(STATE_CODES, 'state');
  const lastError = r.enumOf(RESULT_CODES, 'error code');
  r.end();
  return { state, lastError };
}
