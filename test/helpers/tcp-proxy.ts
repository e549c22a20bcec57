// A TCP proxy on loopback that a client connects through instead of to a server, so a test can cut the
// network between them and restore it. A cut is a partition, not a refusal: nothing is closed or reset,
// bytes simply stop moving both ways (held by the proxy, the sockets paused), new connections are accepted
// but not forwarded, and a close on one side is not passed on. That is what a client sees when a switch or
// a whole machine goes away: no error, only silence, until its own timeouts fire. Restoring delivers what
// was held, passes on the closes, and forwards the connections that waited.
import net from 'node:net';

/** Connections one proxy carries at once: a test that leaks them fails here, not by exhausting the machine. */
export const PROXY_CONNECTIONS_MAX = 512;
/** How long a closing connection may take to deliver its last bytes before it is destroyed. */
const CLOSE_LINGER_MS = 1_000;

interface Side {
  readonly socket: net.Socket;
  /** Bytes read from this side while cut, for the other side. */
  readonly held: Buffer[];
  closed: boolean;
}

interface Pair {
  readonly client: Side;
  upstream: Side | undefined;
}

export class TcpProxy {
  private readonly pairs = new Set<Pair>();
  private cutState = false;
  private blackholed = false;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    readonly target: { readonly host: string; readonly port: number },
  ) {}

  static async start(target: { host: string; port: number }, listenPort = 0): Promise<TcpProxy> {
    const server = net.createServer({ pauseOnConnect: true });
    server.maxConnections = PROXY_CONNECTIONS_MAX;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, '127.0.0.1', () => resolve());
    });
    const proxy = new TcpProxy(server, (server.address() as net.AddressInfo).port, target);
    server.on('connection', (socket) => proxy.accept(socket));
    return proxy;
  }

  get isCut(): boolean {
    return this.cutState;
  }

  /** Connections open through the proxy now. */
  get connections(): number {
    return this.pairs.size;
  }

  /** Stops every byte in both directions; new connections wait. Nothing is closed. */
  cut(): void {
    this.cutState = true;
    for (const pair of this.pairs) {
      pair.client.socket.pause();
      pair.upstream?.socket.pause();
    }
  }

  /** A cut for good: the target is gone (its machine died), so the silence lasts until the proxy closes. */
  blackhole(): void {
    this.blackholed = true;
    this.cut();
  }

  /** Delivers what was held, passes on closes, resumes every connection and forwards the ones that waited. */
  restore(): void {
    if (this.blackholed) throw new Error('a blackholed proxy cannot be restored: its target is gone');
    this.cutState = false;
    for (const pair of [...this.pairs]) {
      if (pair.upstream === undefined) {
        this.forward(pair);
        continue;
      }
      for (const [from, to] of [
        [pair.client, pair.upstream],
        [pair.upstream, pair.client],
      ] as const) {
        for (const chunk of from.held.splice(0)) to.socket.write(chunk);
        if (from.closed) this.close1(pair);
        else from.socket.resume();
      }
    }
  }

  /** Closes every connection and stops listening. */
  async close(): Promise<void> {
    for (const pair of this.pairs) {
      pair.client.socket.destroy();
      pair.upstream?.socket.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    const pair: Pair = { client: { socket, held: [], closed: false }, upstream: undefined };
    this.pairs.add(pair);
    this.watchClose(pair, pair.client);
    if (!this.cutState) this.forward(pair);
  }

  private forward(pair: Pair): void {
    if (pair.client.closed) {
      this.close1(pair);
      return;
    }
    const upstream: Side = { socket: net.connect({ host: this.target.host, port: this.target.port }), held: [], closed: false };
    pair.upstream = upstream;
    this.watchClose(pair, upstream);
    upstream.socket.once('connect', () => {
      this.relay(pair.client, upstream);
      this.relay(upstream, pair.client);
      if (this.cutState) upstream.socket.pause();
      else pair.client.socket.resume();
    });
  }

  /** Moves bytes from one side to the other, holding them while cut and honouring back-pressure. */
  private relay(from: Side, to: Side): void {
    from.socket.on('data', (chunk: Buffer) => {
      if (this.cutState) {
        from.held.push(chunk);
        from.socket.pause();
        return;
      }
      if (!to.socket.write(chunk)) {
        from.socket.pause();
        to.socket.once('drain', () => {
          if (!this.cutState) from.socket.resume();
        });
      }
    });
  }

  private watchClose(pair: Pair, side: Side): void {
    side.socket.on('error', () => {});
    side.socket.on('close', () => {
      side.closed = true;
      // While cut, the partition hides the close from the other side until it is restored.
      if (!this.cutState) this.close1(pair);
    });
  }

  /** Passes a close on: what was already written still reaches the other side (a server's last error
   *  message, say), then both sockets go. */
  private close1(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    for (const side of [pair.client, pair.upstream]) {
      if (side === undefined) continue;
      side.socket.end();
      setTimeout(() => side.socket.destroy(), CLOSE_LINGER_MS).unref();
    }
  }
}
