// The dispenser's link layer: STX | LEN | SEQ | CMD | DATA | ETX | BCC, with single-byte ACK and NAK
// between frames. Pure code (time is passed in) so every bad-input case is tested without a port.
// docs/devices.md "Cash dispenser (serial)" is the specification.

export const STX = 0x02;
export const ETX = 0x03;
export const ACK = 0x06;
export const NAK = 0x15;

/** LEN counts CMD + DATA. The largest message (STATUS with 8 cassettes) is 60 bytes. */
export const MAX_FRAME_BODY_BYTES = 64;
/** STX, LEN, SEQ, ETX, BCC around the body. */
export const FRAME_OVERHEAD_BYTES = 5;
export const MAX_FRAME_BYTES = MAX_FRAME_BODY_BYTES + FRAME_OVERHEAD_BYTES;

export interface Frame {
  /** 0..255, one per new command, unchanged on retransmission; a response carries its command's SEQ. */
  seq: number;
  command: number;
  data: Uint8Array;
}

export type FrameErrorCode =
  /** Bytes outside any frame that are neither STX, ACK nor NAK. */
  | 'garbage'
  /** LEN is 0 or above MAX_FRAME_BODY_BYTES. */
  | 'bad-length'
  /** The byte where LEN puts ETX is something else: a lost or extra byte. */
  | 'bad-etx'
  | 'bad-bcc'
  /** A well-formed frame whose CMD this side does not know. */
  | 'unknown-command'
  /** A frame that stopped arriving for longer than the inter-byte timeout. */
  | 'truncated';

export type DecodedItem =
  | { kind: 'ack' }
  | { kind: 'nak' }
  | { kind: 'frame'; frame: Frame }
  | { kind: 'error'; code: FrameErrorCode; message: string; byteCount: number };

export function blockCheck(bytes: Uint8Array, start: number, endExclusive: number): number {
  let bcc = 0;
  for (let i = start; i < endExclusive; i++) bcc ^= bytes[i] ?? 0;
  return bcc;
}

export function encodeFrame(frame: Frame): Uint8Array {
  const bodyBytes = 1 + frame.data.length;
  if (!Number.isInteger(frame.seq) || frame.seq < 0 || frame.seq > 0xff) throw new RangeError(`SEQ ${frame.seq} is not a byte`);
  if (!Number.isInteger(frame.command) || frame.command < 0 || frame.command > 0xff) {
    throw new RangeError(`CMD ${frame.command} is not a byte`);
  }
  if (bodyBytes > MAX_FRAME_BODY_BYTES) throw new RangeError(`frame body of ${bodyBytes} bytes exceeds ${MAX_FRAME_BODY_BYTES}`);
  const bytes = new Uint8Array(bodyBytes + FRAME_OVERHEAD_BYTES);
  bytes[0] = STX;
  bytes[1] = bodyBytes;
  bytes[2] = frame.seq;
  bytes[3] = frame.command;
  bytes.set(frame.data, 4);
  const etxAt = 3 + bodyBytes;
  bytes[etxAt] = ETX;
  bytes[etxAt + 1] = blockCheck(bytes, 1, etxAt + 1);
  return bytes;
}

export interface FrameDecoderOptions {
  /** Commands this side accepts; a valid frame with any other CMD is reported, never delivered. */
  knownCommands: ReadonlySet<number>;
  /** A gap longer than this inside a frame means the rest is lost (9600 baud sends a byte per ~1 ms). */
  interByteTimeoutMs: number;
}

/**
 * Turns a byte stream into frames, ACKs, NAKs and errors. After any error it resynchronises on the
 * next STX; it never holds more than one frame's worth of bytes.
 */
export class FrameDecoder {
  private pending: number[] = [];
  private lastByteAtMs = 0;

  constructor(private readonly options: FrameDecoderOptions) {}

  /** True while part of a frame is buffered. */
  get hasPartialFrame(): boolean {
    return this.pending.length > 0;
  }

  push(chunk: Uint8Array, nowMs: number): DecodedItem[] {
    const items = this.expire(nowMs);
    this.lastByteAtMs = nowMs;
    for (const byte of chunk) {
      this.pending.push(byte);
      // Outside a frame each byte is decided at once; inside, we wait for the whole frame.
      this.drain(items);
    }
    return items;
  }

  /** Reports and drops a partial frame whose bytes stopped arriving; call when a wait times out. */
  expire(nowMs: number): DecodedItem[] {
    if (this.pending.length === 0 || nowMs - this.lastByteAtMs < this.options.interByteTimeoutMs) return [];
    const byteCount = this.pending.length;
    // The tail of a broken frame is not trusted, not even an ACK-looking byte inside it.
    this.pending = [];
    return [{ kind: 'error', code: 'truncated', message: `frame stopped after ${byteCount} bytes`, byteCount }];
  }

  private drain(items: DecodedItem[]): void {
    while (this.pending.length > 0) {
      const first = this.pending[0];
      if (first === ACK || first === NAK) {
        this.pending.shift();
        items.push({ kind: first === ACK ? 'ack' : 'nak' });
        continue;
      }
      if (first !== STX) {
        this.pending.shift();
        const last = items[items.length - 1];
        // One report per run of garbage, not one per byte.
        if (last?.kind === 'error' && last.code === 'garbage') {
          last.byteCount += 1;
          last.message = `${last.byteCount} bytes outside a frame`;
        } else {
          items.push({ kind: 'error', code: 'garbage', message: '1 bytes outside a frame', byteCount: 1 });
        }
        continue;
      }
      if (this.pending.length < 2) return;
      const bodyBytes = this.pending[1] ?? 0;
      if (bodyBytes < 1 || bodyBytes > MAX_FRAME_BODY_BYTES) {
        items.push({ kind: 'error', code: 'bad-length', message: `LEN ${bodyBytes} is outside 1..${MAX_FRAME_BODY_BYTES}`, byteCount: 1 });
        this.resyncAfterStx();
        continue;
      }
      const frameBytes = bodyBytes + FRAME_OVERHEAD_BYTES;
      if (this.pending.length < frameBytes) return;
      const bytes = Uint8Array.from(this.pending.slice(0, frameBytes));
      const etxAt = 3 + bodyBytes;
      if (bytes[etxAt] !== ETX) {
        items.push({ kind: 'error', code: 'bad-etx', message: `expected ETX at byte ${etxAt}, found 0x${hex(bytes[etxAt])}`, byteCount: 1 });
        // LEN may be the corrupted byte, so a real frame can start anywhere after this STX.
        this.resyncAfterStx();
        continue;
      }
      const expected = blockCheck(bytes, 1, etxAt + 1);
      const actual = bytes[etxAt + 1];
      if (actual !== expected) {
        items.push({ kind: 'error', code: 'bad-bcc', message: `BCC 0x${hex(actual)} should be 0x${hex(expected)}`, byteCount: 1 });
        // The bytes under this STX may be the tail of a cut frame with a whole frame inside, so rescan
        // them; a phantom frame inside DATA must still pass LEN, ETX and BCC to be accepted.
        this.resyncAfterStx();
        continue;
      }
      this.pending.splice(0, frameBytes);
      const command = bytes[3] ?? 0;
      if (!this.options.knownCommands.has(command)) {
        // BCC proves the frame arrived as sent; only its CMD is foreign, so skip all of it.
        items.push({ kind: 'error', code: 'unknown-command', message: `unknown CMD 0x${hex(command)}`, byteCount: frameBytes });
        continue;
      }
      items.push({ kind: 'frame', frame: { seq: bytes[2] ?? 0, command, data: bytes.slice(4, etxAt) } });
    }
  }

  private resyncAfterStx(): void {
    this.pending.shift();
    const nextStx = this.pending.indexOf(STX);
    const dropped = nextStx === -1 ? this.pending.length : nextStx;
    // Bytes between the bad STX and the next STX are part of the broken frame, already reported.
    this.pending.splice(0, dropped);
  }
}

function hex(byte: number | undefined): string {
  return (byte ?? 0).toString(16).padStart(2, '0');
}
