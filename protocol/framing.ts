// The one framing codec of the channel: a 4-byte big-endian length, then that many bytes of UTF-8 JSON.
import { FRAME_HEADER_BYTES, MAX_FRAME_BYTES } from './limits.js';

export class FrameError extends Error {
  readonly code = 'BAD_FRAME';
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

export function encodeFrame(document: unknown, maxFrameBytes = MAX_FRAME_BYTES): Buffer {
  const json = JSON.stringify(document);
  const bodyBytes = Buffer.byteLength(json, 'utf8');
  if (bodyBytes > maxFrameBytes) throw new FrameError(`frame of ${bodyBytes} bytes exceeds the maximum of ${maxFrameBytes}`);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + bodyBytes);
  frame.writeUInt32BE(bodyBytes, 0);
  frame.write(json, FRAME_HEADER_BYTES, 'utf8');
  return frame;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Incremental decoder. Feed it the bytes as they arrive; it returns every complete document. It rejects
 *  an oversized frame as soon as its length prefix arrives, before buffering any of its body, and after
 *  any error the stream is unusable (the caller closes the connection: there is no safe resynchronisation). */
export class FrameDecoder {
  private buffered: Buffer = Buffer.alloc(0);
  private failed = false;

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  /** Bytes received but not yet part of a complete frame. */
  get pendingBytes(): number {
    return this.buffered.length;
  }

  push(chunk: Buffer): unknown[] {
    if (this.failed) throw new FrameError('the stream already failed');
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const documents: unknown[] = [];
    while (this.buffered.length >= FRAME_HEADER_BYTES) {
      const bodyBytes = this.buffered.readUInt32BE(0);
      if (bodyBytes === 0) this.fail('empty frame');
      if (bodyBytes > this.maxFrameBytes) this.fail(`frame of ${bodyBytes} bytes exceeds the maximum of ${this.maxFrameBytes}`);
      if (this.buffered.length < FRAME_HEADER_BYTES + bodyBytes) break;
      const body = this.buffered.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + bodyBytes);
      this.buffered = this.buffered.subarray(FRAME_HEADER_BYTES + bodyBytes);
      let text: string;
      try {
        text = utf8.decode(body);
      } catch {
        this.fail('frame body is not valid UTF-8');
      }
      try {
        documents.push(JSON.parse(text));
      } catch {
        this.fail('frame body is not valid JSON');
      }
    }
    return documents;
  }

  private fail(message: string): never {
    this.failed = true;
    this.buffered = Buffer.alloc(0);
    throw new FrameError(message);
  }
}
