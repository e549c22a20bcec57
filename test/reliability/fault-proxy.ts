// A TCP proxy on loopback that puts a bad network between kiosks and the host. For every chunk of bytes,
// in either direction, it draws from the seeded random source whether to pass it, delay it (order within
// a direction is kept, as TCP keeps it), duplicate it, cut the connection (both sides closed at once), or
// blackhole the connection (nothing more is forwarded either way, and neither side is told: a pulled
// cable or a dead NAT entry). Duplicated bytes inside TLS break the record stream, so the connection dies
// at the next record: that is the point, what matters is what the two ends make of it.
import net from 'node:net';
import type { SeededRandom } from './seeded-random.js';

export interface FaultRates {
  /** Probabilities per chunk; the rest pass untouched. */
  readonly delay: number;
  readonly duplicate: number;
  readonly cut: number;
  readonly blackhole: number;
}

export const NO_FAULTS: FaultRates = { delay: 0, duplicate: 0, cut: 0, blackhole: 0 };

export interface FaultCounts {
  connections: number;
  chunks: number;
  delayed: number;
  duplicated: number;
  cut: number;
  blackholed: number;
}

export interface FaultProxyOptions {
  readonly upstreamPort: number;
  readonly random: SeededRandom;
  readonly rates: FaultRates;
  /** Range of one delay. */
  readonly delayMs?: { readonly min: number; readonly max: number };
}

export function totalFaults(counts: FaultCounts): number {
  return counts.delayed + counts.duplicated + counts.cut + counts.blackholed;
}

export class FaultProxy {
  readonly counts: FaultCounts = { connections: 0, chunks: 0, delayed: 0, duplicated: 0, cut: 0, blackholed: 0 };
  private rates: FaultRates;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    private readonly options: FaultProxyOptions,
  ) {
    this.rates = options.rates;
  }

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const server = net.createServer();
    const proxy = new FaultProxy(server, options);
    server.on('connection', (downstream) => proxy.relay(downstream));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Changes the fault mix for chunks from now on (NO_FAULTS: a clean network). */
  setRates(rates: FaultRates): void {
    this.rates = rates;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(downstream: net.Socket): void {
    this.counts.connections++;
    const upstream = net.connect(this.options.upstreamPort, '127.0.0.1');
    this.sockets.add(downstream).add(upstream);
    let blackholed = false;
    const closeBoth = () => {
      downstream.destroy();
      upstream.destroy();
    };
    for (const [from, to] of [
      [downstream, upstream],
      [upstream, downstream],
    ] as const) {
      // One queue per direction: a delayed chunk holds back the ones behind it, as on a real link.
      let queue: Promise<void> = Promise.resolve();
      from.on('data', (chunk: Buffer) => {
        queue = queue.then(() => this.forward(chunk, to, closeBoth, () => blackholed, () => (blackholed = true)));
      });
      from.on('error', () => {});
      from.on('close', () => {
        this.sockets.delete(from);
        // A blackholed path does not tell the other side anything.
        if (!blackholed) to.end();
      });
    }
  }

  private async forward(chunk: Buffer, to: net.Socket, closeBoth: () => void, isBlackholed: () => boolean, blackhole: () => void): Promise<void> {
    if (isBlackholed() || to.destroyed) return;
    this.counts.chunks++;
    const { random } = this.options;
    const rates = this.rates;
    const roll = random.next();
    let threshold = rates.cut;
    if (roll < threshold) {
      this.counts.cut++;
      closeBoth();
      return;
    }
    if (roll < (threshold += rates.blackhole)) {
      this.counts.blackholed++;
      blackhole();
      return;
    }
    if (roll < (threshold += rates.duplicate)) {
      this.counts.duplicated++;
      to.write(chunk);
      to.write(chunk);
      return;
    }
    if (roll < (threshold += rates.delay)) {
      this.counts.delayed++;
      const { min, max } = this.options.delayMs ?? { min: 20, max: 400 };
      await new Promise((resolve) => setTimeout(resolve, random.int(min, max)));
      if (!isBlackholed() && !to.destroyed) to.write(chunk);
      return;
    }
    to.write(chunk);
  }
}
