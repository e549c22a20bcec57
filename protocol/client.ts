// The kiosk's end of the channel: one TLS 1.3-PSK connection kept up with backoff, typed requests with a
// per-request timeout, keep-alive pings, and retries that reuse the request id so nothing applies twice.
import { EventEmitter } from 'node:events';
import tls from 'node:tls';
import type { z } from 'zod';
import { assertPsk, clientTlsOptions } from './channel.js';
import { newRequestId, parseResponseEnvelope, type RequestEnvelope } from './envelope.js';
import { ProtocolError } from './errors.js';
import { encodeFrame, FrameDecoder } from './framing.js';
import { DEFAULT_CLIENT_LIMITS, MAX_FRAME_BYTES, PROTOCOL_VERSION, type ClientLimits } from './limits.js';
import { silentLogger, type Logger } from './log.js';
import { MESSAGES, type MessageType, type RequestBody, type ResultOf } from './messages.js';

export type ConnectionStatus = 'connecting' | 'connected' | 'disconnected' | 'closed';

/** Where a bank host listens for kiosks. */
export interface HostEndpoint {
  readonly host: string;
  readonly port: number;
}

/** A kiosk knows at most this many bank hosts. */
export const HOST_ADDRESSES_MAX = 8;

interface ChannelClientCommonOptions {
  readonly deviceId: string;
  readonly kShared: Buffer;
  readonly limits?: Partial<ClientLimits>;
  readonly log?: Logger;
  readonly now?: () => number;
}

/** One host (`host`, `port`), or several (`addresses`, tried in order): the client stays with the host it
 *  reached until that host fails, then moves to the next one, round the list, with the usual backoff
 *  between rounds. Every host must know this kiosk's key (they share one database). */
export type ChannelClientOptions = ChannelClientCommonOptions & (HostEndpoint | { readonly addresses: readonly HostEndpoint[] });

export interface RequestOptions {
  /** Reuse to retry a request; a fresh one is made otherwise. */
  readonly requestId?: string;
  readonly timeoutMs?: number;
}

interface Pending {
  readonly type: MessageType;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: ProtocolError) => void;
  readonly timer: NodeJS.Timeout;
}

/** The wait before reconnect attempt `attempt` (0 right after a working connection was lost): exponential
 *  backoff with full jitter, so a fleet of kiosks that lost the host together does not reconnect in
 *  lockstep. `random` is in [0, 1). */
export function reconnectDelayMs(
  attempt: number,
  limits: Pick<ClientLimits, 'reconnectDelayMinMs' | 'reconnectDelayMaxMs'>,
  random: () => number = Math.random,
): number {
  const ceilingMs = Math.min(limits.reconnectDelayMaxMs, limits.reconnectDelayMinMs * 2 ** Math.min(attempt, 16));
  return Math.max(limits.reconnectDelayMinMs, Math.floor(random() * ceilingMs));
}

export class ChannelClient extends EventEmitter<{ status: [ConnectionStatus]; connected: []; disconnected: [reason: string] }> {
  private readonly limits: ClientLimits;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly kShared: Buffer;
  private socket: tls.TLSSocket | undefined;
  private ready = false;
  private stopped = false;
  /** Rounds of the address list that failed since the last answer: the backoff's exponent. */
  private attempt = 0;
  /** Addresses that failed in the current round. */
  private failedInRound = 0;
  private readonly addresses: readonly HostEndpoint[];
  private addressIndex = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private lastSentMs = 0;
  /** Counts data events from the host: a connection that stays silent while a request waits is suspect. */
  private receivedChunks = 0;
  private probing = false;
  private readonly pending = new Map<string, Pending>();
  private readyWaiters: (() => void)[] = [];
  status: ConnectionStatus = 'disconnected';

  constructor(private readonly options: ChannelClientOptions) {
    super();
    assertPsk(options.kShared);
    this.addresses = 'addresses' in options ? [...options.addresses] : [{ host: options.host, port: options.port }];
    if (this.addresses.length < 1 || this.addresses.length > HOST_ADDRESSES_MAX) {
      throw new RangeError(`a kiosk knows 1 to ${HOST_ADDRESSES_MAX} host addresses, not ${this.addresses.length}`);
    }
    this.kShared = Buffer.from(options.kShared);
    this.limits = { ...DEFAULT_CLIENT_LIMITS, ...options.limits };
    this.log = options.log ?? silentLogger;
    this.now = options.now ?? Date.now;
  }

  get connected(): boolean {
    return this.ready;
  }

  /** The host this client is connected or connecting to. */
  get endpoint(): HostEndpoint {
    return this.addresses[this.addressIndex]!;
  }

  /** Starts connecting, and keeps reconnecting with backoff until `close()`. */
  start(): void {
    this.stopped = false;
    if (!this.socket && !this.reconnectTimer) this.connect();
  }

  /** Resolves when connected, or rejects after `timeoutMs`. */
  waitConnected(timeoutMs = this.limits.connectTimeoutMs): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== done);
        reject(new ProtocolError('DISCONNECTED', `not connected to the host within ${timeoutMs} ms`, true));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.readyWaiters.push(done);
    });
  }

  async request<T extends MessageType>(type: T, body: RequestBody<T>, options: RequestOptions = {}): Promise<ResultOf<T>> {
    if (!this.ready || !this.socket) throw new ProtocolError('DISCONNECTED', 'not connected to the host', true);
    if (this.pending.size >= this.limits.maxPendingRequests) throw new ProtocolError('TOO_MANY_PENDING', 'too many requests in flight', true);
    const id = options.requestId ?? newRequestId();
    if (this.pending.has(id)) throw new ProtocolError('REQUEST_ID_REUSED', 'that request id is already in flight');
    const envelope: RequestEnvelope = { v: PROTOCOL_VERSION, id, ts: this.now(), type, body };
    const frame = encodeFrame(envelope, MAX_FRAME_BYTES);
    const timeoutMs = options.timeoutMs ?? this.limits.requestTimeoutMs;
    const socket = this.socket;
    const receivedBefore = this.receivedChunks;
    const result = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ProtocolError('TIMEOUT', `no answer to ${type} within ${timeoutMs} ms`, true));
        if (this.receivedChunks === receivedBefore) this.suspectDeadConnection(socket, type);
      }, timeoutMs);
      this.pending.set(id, { type, resolve, reject, timer });
    });
    this.socket.write(frame);
    this.lastSentMs = this.now();
    return (await result) as ResultOf<T>;
  }

  /** Sends the request, and on a lost connection, a timeout or a retryable error sends it again with the
   *  SAME request id (the host answers a repeat with its first answer) until `deadlineMs` passes. */
  async requestWithRetry<T extends MessageType>(type: T, body: RequestBody<T>, options: { requestId?: string; deadlineMs: number; timeoutMs?: number }): Promise<ResultOf<T>> {
    const requestId = options.requestId ?? newRequestId();
    let delayMs = this.limits.reconnectDelayMinMs;
    for (;;) {
      try {
        if (!this.ready) await this.waitConnected(Math.max(1, Math.min(this.limits.connectTimeoutMs, options.deadlineMs - this.now())));
        return await this.request(type, body, { requestId, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
      } catch (error) {
        if (!(error instanceof ProtocolError) || !error.retryable || this.stopped) throw error;
        if (this.now() + delayMs >= options.deadlineMs) throw error;
        this.log.info('retrying request', { type, requestId, code: error.code });
        await new Promise((r) => setTimeout(r, delayMs));
        delayMs = Math.min(delayMs * 2, this.limits.reconnectDelayMaxMs);
      }
    }
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.socket?.destroy();
    this.socket = undefined;
    this.failPending('client closed');
    this.setStatus('closed');
  }

  private connect(): void {
    this.reconnectTimer = undefined;
    if (this.stopped) return;
    this.setStatus('connecting');
    const { host, port } = this.endpoint;
    const socket = tls.connect(clientTlsOptions(host, port, this.options.deviceId, this.kShared));
    // Small frames, sometimes several in flight (a request and a keep-alive ping): no Nagle delay.
    socket.setNoDelay(true);
    this.socket = socket;
    const decoder = new FrameDecoder(MAX_FRAME_BYTES);
    const connectTimer = setTimeout(() => socket.destroy(new Error('connect timeout')), this.limits.connectTimeoutMs);
    socket.on('secureConnect', () => {
      clearTimeout(connectTimer);
      this.ready = true;
      // The backoff is not reset here but at the first answer (onResponse): a host that completes the
      // handshake and then refuses the connection (TOO_MANY_CONNECTIONS while its old, dead connections
      // still count) must not be reconnected to in a tight loop.
      this.lastSentMs = this.now();
      if (this.addresses.length > 1) this.log.info('connected to a bank host', { host, port });
      this.setStatus('connected');
      this.emit('connected');
      for (const waiter of this.readyWaiters.splice(0)) waiter();
      this.keepAliveTimer = setInterval(() => this.keepAlive(), Math.max(100, Math.floor(this.limits.keepAliveIntervalMs / 4)));
    });
    socket.on('data', (chunk: Buffer) => {
      this.receivedChunks++;
      let documents: unknown[];
      try {
        documents = decoder.push(chunk);
      } catch (error) {
        this.log.warn('bad frame from host', { error: (error as Error).message });
        socket.destroy();
        return;
      }
      for (const document of documents) this.onResponse(document);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => this.log.debug('connection error', { code: error.code ?? null }));
    socket.on('close', () => {
      clearTimeout(connectTimer);
      clearInterval(this.keepAliveTimer);
      const wasReady = this.ready;
      this.ready = false;
      if (this.socket === socket) this.socket = undefined;
      this.failPending('connection closed');
      if (wasReady) this.emit('disconnected', 'connection closed');
      if (this.stopped) return;
      this.setStatus('disconnected');
      this.scheduleReconnect();
    });
  }

  /** After a failed attempt or a lost connection: the next address, at once within a round of the list
   *  (the next host is as good as this one), with the backoff once every address has failed. With one
   *  address every attempt is a round: the backoff of a single host, as before. */
  private scheduleReconnect(): void {
    this.addressIndex = (this.addressIndex + 1) % this.addresses.length;
    this.failedInRound++;
    let delayMs = this.limits.reconnectDelayMinMs;
    if (this.failedInRound >= this.addresses.length) {
      delayMs = reconnectDelayMs(this.attempt, this.limits);
      this.attempt++;
      this.failedInRound = 0;
    }
    this.reconnectTimer = setTimeout(() => this.connect(), delayMs);
  }

  private keepAlive(): void {
    if (!this.ready || this.now() - this.lastSentMs < this.limits.keepAliveIntervalMs) return;
    this.request('ping', {}).catch(() => {
      // A ping that times out closes a silent connection (suspectDeadConnection); nothing else to do here.
    });
  }

  /** A request timed out and the host sent nothing at all meanwhile. A blackholed path (a pulled cable, a
   *  dead NAT entry) looks exactly like that and TCP may not notice for many minutes, while every retry
   *  would wait on the same dead socket. The host answers a ping without touching its storage, so: if the
   *  silent request was itself a ping, drop the connection (the client reconnects and retries with the
   *  same ids); otherwise send one ping, and drop the connection if that is not answered either. A slow
   *  operation on a live host does not drop it: the ping comes back. */
  private suspectDeadConnection(socket: tls.TLSSocket | undefined, type: MessageType): void {
    if (!socket || socket !== this.socket || !this.ready) return;
    if (type === 'ping') {
      this.log.warn('no answer and nothing received from the host: reconnecting');
      socket.destroy();
      return;
    }
    if (this.probing) return;
    this.probing = true;
    // The probe is a ping: if it times out silently too, this same check drops the connection.
    this.request('ping', {}, { timeoutMs: this.limits.livenessProbeTimeoutMs })
      .catch(() => {
        // Other failures mean the connection is already gone, or too busy to probe now.
      })
      .finally(() => {
        this.probing = false;
      });
  }

  private onResponse(document: unknown): void {
    let response;
    try {
      response = parseResponseEnvelope(document);
    } catch (error) {
      this.log.warn('malformed response from host', { error: (error as Error).message });
      return;
    }
    if (response.id === '') {
      // An error the host could not tie to a request (a frame error, a full host): it closes next.
      this.log.warn('host reported a connection error', { code: response.ok ? null : response.error.code });
      return;
    }
    const pending = this.pending.get(response.id);
    if (!pending) return;
    this.attempt = 0;
    this.failedInRound = 0;
    this.pending.delete(response.id);
    clearTimeout(pending.timer);
    if (!response.ok) {
      pending.reject(new ProtocolError(response.error.code, response.error.message, response.error.retryable));
      return;
    }
    const parsed = (MESSAGES[pending.type].result as z.ZodTypeAny).safeParse(response.result);
    if (!parsed.success) {
      pending.reject(new ProtocolError('BAD_ENVELOPE', `the host's ${pending.type} result failed validation: ${parsed.error.issues[0]?.message ?? ''}`));
      return;
    }
    pending.resolve(parsed.data);
  }

  private failPending(why: string): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new ProtocolError('DISCONNECTED', `${why} before the answer arrived`, true));
      this.pending.delete(id);
    }
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.emit('status', status);
  }
}
