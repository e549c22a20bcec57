// A TCP proxy that holds a kiosk's TLS 1.3 handshake in flight for as long as a test wants: it passes the
// ClientHello and everything the host sends, and holds back everything the kiosk sends from its first
// application-data record on (in TLS 1.3 that is the kiosk's encrypted Finished, then its requests). The
// kiosk has its `secureConnect` (it has the host's Finished) and sends requests; the host has run its
// `pskCallback` but has not finished the handshake, until `release()`.
import net from 'node:net';
import { RECORD_TYPE, TLS_RECORD_HEADER_BYTES } from './attacker-proxy.js';

interface HeldConnection {
  readonly host: net.Socket;
  held: Buffer[] | undefined;
  /** Bytes of a record not complete yet. */
  partial: Buffer;
}

export class FinishedHoldingProxy {
  private readonly sockets = new Set<net.Socket>();
  private readonly connections: HeldConnection[] = [];

  private constructor(
    private readonly server: net.Server,
    private readonly upstreamPort: number,
  ) {}

  static async start(upstreamPort: number): Promise<FinishedHoldingProxy> {
    const server = net.createServer();
    const proxy = new FinishedHoldingProxy(server, upstreamPort);
    server.on('connection', (kiosk) => proxy.relay(kiosk));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Records held back so far, over every connection. */
  get heldRecords(): number {
    return this.connections.reduce((sum, c) => sum + (c.held?.length ?? 0), 0);
  }

  /** Sends everything held, and passes the kiosk's bytes straight through from now on. */
  release(): void {
    for (const connection of this.connections) {
      const held = connection.held;
      connection.held = undefined;
      for (const record of [...(held ?? []), connection.partial]) if (!connection.host.destroyed) connection.host.write(record);
      connection.partial = Buffer.alloc(0);
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(kiosk: net.Socket): void {
    const host = net.connect(this.upstreamPort, '127.0.0.1');
    this.sockets.add(kiosk).add(host);
    const connection: HeldConnection = { host, held: [], partial: Buffer.alloc(0) };
    this.connections.push(connection);
    let holding = false;
    kiosk.on('data', (chunk: Buffer) => {
      if (connection.held === undefined) {
        host.write(chunk);
        return;
      }
      let buffered = Buffer.concat([connection.partial, chunk]);
      while (buffered.length >= TLS_RECORD_HEADER_BYTES) {
        const total = TLS_RECORD_HEADER_BYTES + buffered.readUInt16BE(3);
        if (buffered.length < total) break;
        const record = Buffer.from(buffered.subarray(0, total));
        buffered = buffered.subarray(total);
        if (record[0] === RECORD_TYPE.applicationData) holding = true;
        if (holding && connection.held !== undefined) connection.held.push(record);
        else host.write(record);
      }
      connection.partial = Buffer.from(buffered);
    });
    host.on('data', (chunk: Buffer) => kiosk.write(chunk));
    for (const [from, to] of [
      [kiosk, host],
      [host, kiosk],
    ] as const) {
      from.on('error', () => {});
      from.on('close', () => {
        this.sockets.delete(from);
        to.destroy();
      });
    }
  }
}
