// The EPP's link layer (docs/devices.md "Encrypting PIN pad"): one frame each way per command, and
// unsolicited key events from the pad.
//
//   STX (02) | SEQ | LEN (2 bytes, big-endian: CMD + DATA) | CMD | DATA | ETX (03) | CRC (2 bytes, big-endian)
//
// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) over SEQ through ETX. SEQ is 1..255 for a command and its
// reply, 0 for the pad's events. Pure code, so every bad-input case is tested without a port.

export const STX = 0x02;
export const ETX = 0x03;
/** The longest DATA: a key block or a certificate is a few hundred bytes. */
export const MAX_DATA_BYTES = 1_024;
const HEADER_BYTES = 4; // STX, SEQ, LEN×2
const TRAILER_BYTES = 3; // ETX, CRC×2

export interface EppFrame {
  readonly seq: number;
  readonly command: number;
  readonly data: Buffer;
}

export type EppFrameErrorCode = 'garbage' | 'bad-length' | 'bad-etx' | 'bad-crc' | 'truncated';

export type EppDecoded = { kind: 'frame'; frame: EppFrame } | { kind: 'error'; code: EppFrameErrorCode; seq: number; message: string };

export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i]! << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

export function encodeEppFrame(frame: EppFrame): Buffer {
  if (!Number.isInteger(frame.seq) || frame.seq < 0 || frame.seq > 0xff) throw new RangeError(`SEQ ${frame.seq} is not a byte`);
  if (!Number.isInteger(frame.command) || frame.command < 0 || frame.command > 0xff) throw new RangeError(`CMD ${frame.command} is not a byte`);
  if (frame.data.length > MAX_DATA_BYTES) throw new RangeError(`DATA of ${frame.data.length} bytes exceeds ${MAX_DATA_BYTES}`);
  const length = 1 + frame.data.length;
  const bytes = Buffer.alloc(HEADER_BYTES + length + TRAILER_BYTES);
  bytes[0] = STX;
  bytes[1] = frame.seq;
  bytes.writeUInt16BE(length, 2);
  bytes[4] = frame.command;
  frame.data.copy(bytes, 5);
  const etxAt = HEADER_BYTES + length;
  bytes[etxAt] = ETX;
  bytes.writeUInt16BE(crc16(bytes, 1, etxAt + 1), etxAt + 1);
  return bytes;
}

/** Turns a byte stream into frames and errors; after an error it resynchronises on the next STX. It holds
 *  at most one frame's bytes; a frame that stops arriving for `interByteTimeoutMs` is reported truncated. */
export class EppFrameDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private lastByteAtMs = 0;

  constructor(private readonly interByteTimeoutMs: number) {}

  push(chunk: Buffer, nowMs: number): EppDecoded[] {
    const out: EppDecoded[] = [];
    if (this.pending.length > 0 && nowMs - this.lastByteAtMs > this.interByteTimeoutMs) {
      out.push({ kind: 'error', code: 'truncated', seq: this.pending[1] ?? 0, message: `a frame stopped after ${this.pending.length} bytes` });
      this.pending = Buffer.alloc(0);
    }
    this.lastByteAtMs = nowMs;
    let bytes: Buffer = Buffer.concat([this.pending, chunk]);
    for (;;) {
      if (bytes.length === 0) break;
      if (bytes[0] !== STX) {
        const next = bytes.indexOf(STX);
        const dropped = next === -1 ? bytes.length : next;
        out.push({ kind: 'error', code: 'garbage', seq: 0, message: `${dropped} bytes outside a frame` });
        bytes = next === -1 ? Buffer.alloc(0) : bytes.subarray(next);
        continue;
      }
      if (bytes.length < HEADER_BYTES) break;
      const seq = bytes[1]!;
      const length = bytes.readUInt16BE(2);
      if (length < 1 || length > 1 + MAX_DATA_BYTES) {
        out.push({ kind: 'error', code: 'bad-length', seq, message: `LEN ${length} is outside 1..${1 + MAX_DATA_BYTES}` });
        bytes = skipToNextStx(bytes);
        continue;
      }
      const total = HEADER_BYTES + length + TRAILER_BYTES;
      if (bytes.length < total) break;
      const etxAt = HEADER_BYTES + length;
      if (bytes[etxAt] !== ETX) {
        out.push({ kind: 'error', code: 'bad-etx', seq, message: `byte ${etxAt} is ${bytes[etxAt]!.toString(16)}, not ETX` });
        bytes = skipToNextStx(bytes);
        continue;
      }
      if (bytes.readUInt16BE(etxAt + 1) !== crc16(bytes, 1, etxAt + 1)) {
        out.push({ kind: 'error', code: 'bad-crc', seq, message: 'the CRC does not match' });
        bytes = bytes.subarray(total);
        continue;
      }
      out.push({ kind: 'frame', frame: { seq, command: bytes[4]!, data: Buffer.from(bytes.subarray(5, etxAt)) } });
      bytes = bytes.subarray(total);
    }
    this.pending = Buffer.from(bytes);
    return out;
  }
}

function skipToNextStx(bytes: Buffer): Buffer {
  const next = bytes.indexOf(STX, 1);
  return next === -1 ? Buffer.alloc(0) : bytes.subarray(next);
}
