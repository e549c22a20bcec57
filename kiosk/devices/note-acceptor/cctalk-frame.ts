// The ccTalk link layer: [destination][N][source][header][N data bytes][checksum], with the simple
// 8-bit checksum. `CCTalkParser` (@serialport/parser-cctalk) cuts the byte stream into frames by the
// length byte and drops a partial frame after an inter-byte gap; it checks nothing else, so
// `CcTalkFrameReader` checks the checksum, the length bound, the addresses and the line echo here.
// docs/devices.md "Note acceptor (ccTalk)" is the specification.

import { CCTalkParser } from '@serialport/parser-cctalk';

/** ccTalk's own bound: a frame carries at most 252 data bytes. */
export const MAX_DATA_BYTES = 252;
/** Destination, length, source, header and checksum around the data. */
export const FRAME_OVERHEAD_BYTES = 5;
export const MAX_FRAME_BYTES = MAX_DATA_BYTES + FRAME_OVERHEAD_BYTES;

/** The host (the kiosk) is address 1 in ccTalk; a bill validator answers at 40 unless re-addressed. */
export const HOST_ADDRESS = 1;
export const BILL_VALIDATOR_ADDRESS = 40;

export interface CcTalkFrame {
  destination: number;
  source: number;
  header: number;
  data: Uint8Array;
}

/** The byte that makes the sum of every byte of the frame 0 mod 256. */
export function simpleChecksum(bytes: Uint8Array, endExclusive: number = bytes.length): number {
  let sum = 0;
  for (let i = 0; i < endExclusive; i++) sum = (sum + (bytes[i] ?? 0)) & 0xff;
  return (256 - sum) & 0xff;
}

export function encodeFrame(frame: CcTalkFrame): Uint8Array {
  for (const [name, value] of [['destination', frame.destination], ['source', frame.source], ['header', frame.header]] as const) {
    if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new RangeError(`${name} ${value} is not a byte`);
  }
  if (frame.data.length > MAX_DATA_BYTES) throw new RangeError(`${frame.data.length} data bytes exceed ${MAX_DATA_BYTES}`);
  const bytes = new Uint8Array(frame.data.length + FRAME_OVERHEAD_BYTES);
  bytes[0] = frame.destination;
  bytes[1] = frame.data.length;
  bytes[2] = frame.source;
  bytes[3] = frame.header;
  bytes.set(frame.data, 4);
  bytes[bytes.length - 1] = simpleChecksum(bytes, bytes.length - 1);
  return bytes;
}

export type FrameRejection =
  /** The checksum byte does not make the frame sum to 0 mod 256: corrupted, or garbage cut as a frame. */
  | 'bad-checksum'
  /** The length byte is above 252. */
  | 'too-long'
  /** A sound frame addressed to someone else (another device on the bus, or our own echo unasked). */
  | 'not-for-us'
  /** A sound frame for us from an address we do not talk to. */
  | 'wrong-source';

/** Checks one frame as CCTalkParser cut it. Pure, so every bad-input case is tested without a port. */
export function decodeFrame(bytes: Uint8Array): { ok: true; frame: CcTalkFrame } | { ok: false; reason: 'bad-checksum' | 'too-long' } {
  const dataBytes = bytes[1] ?? 0;
  if (dataBytes > MAX_DATA_BYTES) return { ok: false, reason: 'too-long' };
  if (bytes.length !== dataBytes + FRAME_OVERHEAD_BYTES) return { ok: false, reason: 'bad-checksum' };
  if (simpleChecksum(bytes) !== 0) return { ok: false, reason: 'bad-checksum' };
  return {
    ok: true,
    frame: { destination: bytes[0] ?? 0, source: bytes[2] ?? 0, header: bytes[3] ?? 0, data: bytes.slice(4, bytes.length - 1) },
  };
}

export interface FrameReaderOptions {
  /** Our address: frames to any other destination are not for us. */
  ownAddress: number;
  /** The one address we accept frames from. */
  peerAddress: number;
  /** A single-wire ccTalk bus hears its own transmission: drop the copy of each frame we sent. */
  lineEchoes: boolean;
  /** A gap longer than this inside a frame drops what was received of it (ccTalk allows 50 ms). */
  interByteGapMs: number;
}

export interface FrameReaderStats {
  framesAccepted: number;
  echoesDropped: number;
  /** lineEchoes is on and a frame arrived while the echo of our last frame had not. */
  echoesMissing: number;
  rejected: Record<FrameRejection, number>;
}

export class CcTalkFrameReader {
  private readonly parser: CCTalkParser;
  private expectedEcho: Uint8Array | undefined;
  readonly stats: FrameReaderStats = {
    framesAccepted: 0,
    echoesDropped: 0,
    echoesMissing: 0,
    rejected: { 'bad-checksum': 0, 'too-long': 0, 'not-for-us': 0, 'wrong-source': 0 },
  };

  constructor(
    private readonly options: FrameReaderOptions,
    onFrame: (frame: CcTalkFrame) => void,
    onRejected: (reason: FrameRejection, bytes: Uint8Array) => void = () => {},
  ) {
    this.parser = new CCTalkParser(options.interByteGapMs);
    this.parser.on('data', (bytes: Buffer) => {
      const result = this.classify(new Uint8Array(bytes));
      if (result === undefined) return;
      if (typeof result === 'string') {
        this.stats.rejected[result] += 1;
        onRejected(result, bytes);
        return;
      }
      this.stats.framesAccepted += 1;
      onFrame(result);
    });
  }

  /** Call just before writing a frame, so its echo is recognised. */
  sending(bytes: Uint8Array): void {
    if (this.options.lineEchoes) this.expectedEcho = Uint8Array.from(bytes);
  }

  push(bytes: Uint8Array): void {
    this.parser.write(Buffer.from(bytes));
  }

  /** Returns the frame, why it was rejected, or undefined for a dropped echo. */
  private classify(bytes: Uint8Array): CcTalkFrame | FrameRejection | undefined {
    const echo = this.expectedEcho;
    if (echo && sameBytes(echo, bytes)) {
      this.expectedEcho = undefined;
      this.stats.echoesDropped += 1;
      return undefined;
    }
    if (echo) {
      // The reply came first, or the echo was corrupted: either way that copy will not come now.
      this.expectedEcho = undefined;
      this.stats.echoesMissing += 1;
    }
    const decoded = decodeFrame(bytes);
    if (!decoded.ok) return decoded.reason;
    if (decoded.frame.destination !== this.options.ownAddress) return 'not-for-us';
    if (decoded.frame.source !== this.options.peerAddress) return 'wrong-source';
    return decoded.frame;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

export function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}
