// An active attacker on the path between a kiosk and the host, who understands TLS framing but holds no
// key: it splits both byte streams into TLS records (5-byte header: content type, version, length) and
// hands each record to the current tamper function, which decides what goes on instead: the record as
// is, altered, twice, later, or with forged records around it. Everything the kiosk sends is recorded per
// connection, so a whole connection can be replayed later on a fresh TCP connection to the host.
import net from 'node:net';

export const TLS_RECORD_HEADER_BYTES = 5;
export const RECORD_TYPE = { changeCipherSpec: 0x14, alert: 0x15, handshake: 0x16, applicationData: 0x17 } as const;

export type Direction = 'to-host' | 'to-kiosk';

/** What the attacker has seen of one connection so far. */
export interface ConnectionTap {
  /** Every record the kiosk sent, in order, as sent (for whole-connection replays). */
  readonly recordsToHost: Buffer[];
  /** Application-data records seen so far in each direction. To the host, the first one is the kiosk's
   *  encrypted Finished; requests follow. */
  appDataToHost: number;
  appDataToKiosk: number;
  /** Scratch space for a tamper function that holds records back (reordering). */
  held: Buffer[];
}

/** Returns the bytes to send on in place of `record` (an empty list drops it). */
export type Tamper = (direction: Direction, record: Buffer, tap: ConnectionTap) => Buffer[];

export const passThrough: Tamper = (_direction, record) => [record];

export function recordType(record: Buffer): number {
  return record[0]!;
}

/** A TLS 1.3 record header (legacy version 0x0303) with `body`. */
export function tlsRecord(type: number, body: Buffer): Buffer {
  const header = Buffer.from([type, 0x03, 0x03, 0, 0]);
  header.writeUInt16BE(body.length, 3);
  return Buffer.concat([header, body]);
}

/** `record` with one bit flipped in its body (past the header, so the record is still framed). */
export function flipBit(record: Buffer, bitIndex: number): Buffer {
  const copy = Buffer.from(record);
  const bodyBits = (copy.length - TLS_RECORD_HEADER_BYTES) * 8;
  const bit = bitIndex % bodyBits;
  copy[TLS_RECORD_HEADER_BYTES + (bit >> 3)]! ^= 1 << (bit & 7);
  return copy;
}

class RecordSplitter {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const records: Buffer[] = [];
    while (this.buffered.length >= TLS_RECORD_HEADER_BYTES) {
      const total = TLS_RECORD_HEADER_BYTES + this.buffered.readUInt16BE(3);
      if (this.buffered.length < total) break;
      records.push(this.buffered.subarray(0, total));
      this.buffered = this.buffered.subarray(total);
    }
    return records;
  }
}

export class AttackerProxy {
  private tamper: Tamper = passThrough;
  private readonly sockets = new Set<net.Socket>();
  readonly connections: ConnectionTap[] = [];

  private constructor(
    private readonly server: net.Server,
    private readonly upstreamPort: number,
  ) {}

  static async start(upstreamPort: number): Promise<AttackerProxy> {
    const server = net.createServer();
    const proxy = new AttackerProxy(server, upstreamPort);
    server.on('connection', (kiosk) => proxy.relay(kiosk));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Applies to records from now on, on every connection. */
  setTamper(tamper: Tamper): void {
    this.tamper = tamper;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(kiosk: net.Socket): void {
    const host = net.connect(this.upstreamPort, '127.0.0.1');
    this.sockets.add(kiosk).add(host);
    const tap: ConnectionTap = { recordsToHost: [], appDataToHost: 0, appDataToKiosk: 0, held: [] };
    this.connections.push(tap);
    for (const [from, to, direction] of [
      [kiosk, host, 'to-host'],
      [host, kiosk, 'to-kiosk'],
    ] as const) {
      const splitter = new RecordSplitter();
      from.on('data', (chunk: Buffer) => {
        for (const record of splitter.push(chunk)) {
          if (direction === 'to-host') tap.recordsToHost.push(Buffer.from(record));
          if (recordType(record) === RECORD_TYPE.applicationData) {
            if (direction === 'to-host') tap.appDataToHost++;
            else tap.appDataToKiosk++;
          }
          for (const out of this.tamper(direction, record, tap)) if (!to.destroyed) to.write(out);
        }
      });
      from.on('error', () => {});
      from.on('close', () => {
        this.sockets.delete(from);
        to.end();
      });
    }
  }
}

/** Sends `records` to the host on a new TCP connection, as if they were live, and resolves when the host
 *  closes it (or after `waitMs`). Returns the bytes the host answered with. */
export function replayToHost(port: number, records: readonly Buffer[], waitMs: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const received: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => {
      for (const record of records) socket.write(record);
    });
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(received));
    });
  });
}
