// The ccTalk headers the note acceptor uses and the bytes of their data, both directions. Parsing is
// strict: every length, range and character set is checked here, at the edge, so the driver and the
// simulator trust types. Numbers follow the ccTalk generic specification (part 2, command list).

export const HEADER = {
  /** Reply: ACK, with the reply's data. */
  REPLY: 0,
  RESET_DEVICE: 1,
  REQUEST_COMMS_REVISION: 4,
  /** Reply: NAK, the command was refused. */
  NAK: 5,
  ROUTE_BILL: 154,
  REQUEST_BILL_OPERATING_MODE: 152,
  MODIFY_BILL_OPERATING_MODE: 153,
  REQUEST_COUNTRY_SCALING_FACTOR: 156,
  REQUEST_BILL_ID: 157,
  READ_BUFFERED_BILL_EVENTS: 159,
  /** Reply: 3 bytes, LSB first, the notes the validator has accepted into its stacker. */
  REQUEST_ACCEPT_COUNTER: 225,
  REQUEST_MASTER_INHIBIT_STATUS: 227,
  MODIFY_MASTER_INHIBIT_STATUS: 228,
  REQUEST_INHIBIT_STATUS: 230,
  MODIFY_INHIBIT_STATUS: 231,
  REQUEST_SOFTWARE_REVISION: 241,
  REQUEST_SERIAL_NUMBER: 242,
  REQUEST_PRODUCT_CODE: 244,
  REQUEST_EQUIPMENT_CATEGORY_ID: 245,
  REQUEST_MANUFACTURER_ID: 246,
  SIMPLE_POLL: 254,
} as const;
export type HeaderCode = (typeof HEADER)[keyof typeof HEADER];

/** What header 245 answers for a bill validator. */
export const BILL_VALIDATOR_CATEGORY = 'Bill Validator';

/** Bill types are 1..16: the two bytes of the inhibit mask. */
export const MAX_BILL_TYPES = 16;
/** The buffered bill event reply: the counter, then 5 events of 2 bytes, newest first. */
export const EVENT_BUFFER_SIZE = 5;
export const EVENT_BUFFER_REPLY_BYTES = 1 + 2 * EVENT_BUFFER_SIZE;

export const ROUTE_CODE = { RETURN: 0, STACK: 1, EXTEND_ESCROW: 255 } as const;
export type RouteCode = (typeof ROUTE_CODE)[keyof typeof ROUTE_CODE];
/** The data byte of a route reply that is not a plain ACK. */
export const ROUTE_ERROR = { ESCROW_EMPTY: 254, FAILED_TO_ROUTE: 255 } as const;

/** Header 153/152 bits. */
export const OPERATING_MODE = { USE_STACKER: 0b01, USE_ESCROW: 0b10 } as const;

export class MessageFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MessageFormatError';
  }
}

export function expectLength(data: Uint8Array, length: number, what: string): void {
  if (data.length !== length) throw new MessageFormatError(`${what}: ${data.length} data bytes, expected ${length}`);
}

/** Identity strings (headers 241, 244, 245, 246) are printable ASCII; anything else is a bad reply. */
export function decodeAscii(data: Uint8Array, what: string): string {
  if (data.length < 1) throw new MessageFormatError(`${what}: empty`);
  for (const byte of data) {
    if (byte < 0x20 || byte > 0x7e) throw new MessageFormatError(`${what}: byte 0x${byte.toString(16)} is not printable ASCII`);
  }
  return Buffer.from(data).toString('latin1');
}

export function encodeAscii(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text, 'latin1'));
}

/** ccTalk's 3-byte numbers (headers 242, 225) run 0 .. 2^24 - 1. */
export const THREE_BYTE_MODULUS = 0x1000000;

function decodeThreeBytes(data: Uint8Array, what: string): number {
  expectLength(data, 3, what);
  return (data[0] ?? 0) + (data[1] ?? 0) * 0x100 + (data[2] ?? 0) * 0x10000;
}

function encodeThreeBytes(value: number, what: string): Uint8Array {
  if (!isThreeByteNumber(value)) throw new RangeError(`${what} is 3 bytes`);
  return Uint8Array.of(value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff);
}

export function isThreeByteNumber(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value < THREE_BYTE_MODULUS;
}

/** Header 242: three bytes, least significant first. */
export function decodeSerialNumber(data: Uint8Array): number {
  return decodeThreeBytes(data, 'serial number');
}

export function encodeSerialNumber(serialNumber: number): Uint8Array {
  return encodeThreeBytes(serialNumber, 'a serial number');
}

/** Header 225: the notes accepted into the stacker, three bytes, least significant first. The count
 *  wraps from 2^24 - 1 to 0; see interrupted-stack.ts for what the kiosk reads in it. */
export function decodeAcceptCounter(data: Uint8Array): number {
  return decodeThreeBytes(data, 'accept counter');
}

export function encodeAcceptCounter(acceptCounter: number): Uint8Array {
  return encodeThreeBytes(acceptCounter, 'the accept counter');
}

export interface CommsRevision {
  release: number;
  major: number;
  minor: number;
}

/** Header 4: ccTalk release, major and minor revision of the specification the device follows. */
export function decodeCommsRevision(data: Uint8Array): CommsRevision {
  expectLength(data, 3, 'comms revision');
  return { release: data[0] ?? 0, major: data[1] ?? 0, minor: data[2] ?? 0 };
}

/** Headers 231/230: bit n-1 set = bill type n enabled, bill types 1..8 in the first byte. */
export function encodeInhibitMask(enabledBillTypes: readonly number[]): Uint8Array {
  let mask = 0;
  for (const billType of enabledBillTypes) {
    if (!isBillType(billType)) throw new RangeError(`bill type ${billType} is not 1..${MAX_BILL_TYPES}`);
    mask |= 1 << (billType - 1);
  }
  return Uint8Array.of(mask & 0xff, (mask >> 8) & 0xff);
}

export function decodeInhibitMask(data: Uint8Array): number[] {
  expectLength(data, 2, 'inhibit status');
  const mask = (data[0] ?? 0) | ((data[1] ?? 0) << 8);
  const enabled: number[] = [];
  for (let billType = 1; billType <= MAX_BILL_TYPES; billType++) if (mask & (1 << (billType - 1))) enabled.push(billType);
  return enabled;
}

/** Headers 228/227: bit 0 = 1 is normal operation, 0 is master inhibit (nothing accepted). */
export function encodeMasterEnabled(enabled: boolean): Uint8Array {
  return Uint8Array.of(enabled ? 1 : 0);
}

export function decodeMasterEnabled(data: Uint8Array): boolean {
  expectLength(data, 1, 'master inhibit status');
  return ((data[0] ?? 0) & 1) === 1;
}

export interface OperatingMode {
  useStacker: boolean;
  useEscrow: boolean;
}

export function encodeOperatingMode(mode: OperatingMode): Uint8Array {
  return Uint8Array.of((mode.useStacker ? OPERATING_MODE.USE_STACKER : 0) | (mode.useEscrow ? OPERATING_MODE.USE_ESCROW : 0));
}

export function decodeOperatingMode(data: Uint8Array): OperatingMode {
  expectLength(data, 1, 'bill operating mode');
  const bits = data[0] ?? 0;
  return { useStacker: (bits & OPERATING_MODE.USE_STACKER) !== 0, useEscrow: (bits & OPERATING_MODE.USE_ESCROW) !== 0 };
}

/** Header 157: "CCVVVVI", country, value in units of the country's scaling factor, issue. */
export interface BillId {
  countryCode: string;
  value: number;
  issue: string;
}

const BILL_ID = /^([A-Z]{2})(\d{4})([A-Z])$/;
/** An empty bill type answers dots (or spaces / zeros on some validators). */
const UNPROGRAMMED_BILL_ID = /^[. \0]{7}$/;

export function decodeBillId(data: Uint8Array): BillId | undefined {
  expectLength(data, 7, 'bill id');
  const text = Buffer.from(data).toString('latin1');
  if (UNPROGRAMMED_BILL_ID.test(text)) return undefined;
  const match = BILL_ID.exec(text);
  if (!match) throw new MessageFormatError(`bill id ${JSON.stringify(text)} is not CCVVVVI`);
  const value = Number(match[2]);
  // "0000" is a programmed slot of no value: unusable for money, so treated as empty.
  if (value === 0) return undefined;
  return { countryCode: match[1] ?? '', value, issue: match[3] ?? '' };
}

export function encodeBillId(id: string): Uint8Array {
  if (!BILL_ID.test(id)) throw new RangeError(`bill id ${id} is not CCVVVVI`);
  return encodeAscii(id);
}

export function encodeCountryCode(countryCode: string): Uint8Array {
  if (!/^[A-Z]{2}$/.test(countryCode)) throw new RangeError(`country code ${countryCode} is not two letters`);
  return encodeAscii(countryCode);
}

export function decodeCountryCode(data: Uint8Array): string {
  expectLength(data, 2, 'country code');
  const text = Buffer.from(data).toString('latin1');
  if (!/^[A-Z]{2}$/.test(text)) throw new MessageFormatError(`country code ${JSON.stringify(text)} is not two letters`);
  return text;
}

/** Header 156: a bill's value in the major unit is value x scalingFactor / 10^decimalPlaces. */
export interface ScalingFactor {
  scalingFactor: number;
  decimalPlaces: number;
}

export function encodeScalingFactor(scaling: ScalingFactor): Uint8Array {
  const { scalingFactor, decimalPlaces } = scaling;
  if (!Number.isInteger(scalingFactor) || scalingFactor < 0 || scalingFactor > 0xffff) throw new RangeError('scaling factor is 16 bits');
  if (!Number.isInteger(decimalPlaces) || decimalPlaces < 0 || decimalPlaces > 0xff) throw new RangeError('decimal places is a byte');
  return Uint8Array.of(scalingFactor & 0xff, scalingFactor >> 8, decimalPlaces);
}

export function decodeScalingFactor(data: Uint8Array): ScalingFactor {
  expectLength(data, 3, 'country scaling factor');
  return { scalingFactor: (data[0] ?? 0) + (data[1] ?? 0) * 0x100, decimalPlaces: data[2] ?? 0 };
}

/** Largest value in cents we ever trust from a bill table: far above any banknote, far below 2^53. */
export const MAX_NOTE_VALUE_CENTS = 100_000_000;

/**
 * A bill's value in cents (hundredths of the major unit), or undefined when it is not a whole number
 * of cents or is out of range (an unknown country answers scaling 0). Integer arithmetic only.
 */
export function billValueCents(value: number, scaling: ScalingFactor): number | undefined {
  const units = value * scaling.scalingFactor;
  let cents: number;
  if (scaling.decimalPlaces <= 2) {
    cents = units * 10 ** (2 - scaling.decimalPlaces);
  } else {
    const divisor = 10 ** (scaling.decimalPlaces - 2);
    if (units % divisor !== 0) return undefined;
    cents = units / divisor;
  }
  if (!Number.isSafeInteger(cents) || cents < 1 || cents > MAX_NOTE_VALUE_CENTS) return undefined;
  return cents;
}

/** One entry of the header 159 reply: result A, result B. */
export interface RawBillEvent {
  resultA: number;
  resultB: number;
}

export interface EventBuffer {
  /** 0 only after power-up or reset; then 1..255, wrapping to 1. */
  eventCounter: number;
  /** Newest first. */
  events: RawBillEvent[];
}

export function decodeEventBuffer(data: Uint8Array): EventBuffer {
  expectLength(data, EVENT_BUFFER_REPLY_BYTES, 'buffered bill events');
  const events: RawBillEvent[] = [];
  for (let i = 0; i < EVENT_BUFFER_SIZE; i++) events.push({ resultA: data[1 + 2 * i] ?? 0, resultB: data[2 + 2 * i] ?? 0 });
  return { eventCounter: data[0] ?? 0, events };
}

export function encodeEventBuffer(buffer: EventBuffer): Uint8Array {
  if (buffer.events.length !== EVENT_BUFFER_SIZE) throw new RangeError(`the buffer holds ${EVENT_BUFFER_SIZE} events`);
  const bytes = new Uint8Array(EVENT_BUFFER_REPLY_BYTES);
  bytes[0] = buffer.eventCounter;
  buffer.events.forEach((event, i) => {
    bytes[1 + 2 * i] = event.resultA;
    bytes[2 + 2 * i] = event.resultB;
  });
  return bytes;
}

export function isBillType(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= MAX_BILL_TYPES;
}
