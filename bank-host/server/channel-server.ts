// The kiosk-facing listener: TLS 1.3-PSK, framed JSON requests, bounded in every direction.
import { randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { errorResponse, requestIdOf, type ResponseEnvelope } from '../../protocol/envelope.js';
import { ProtocolError } from '../../protocol/errors.js';
import { encodeFrame, FrameDecoder, FrameError } from '../../protocol/framing.js';
import { DEFAULT_HOST_LIMITS, MAX_FRAME_BYTES, PSK_BYTES, type HostLimits } from '../../protocol/limits.js';
import { isDeviceId, serverTlsOptions } from '../../protocol/channel.js';
import type { Logger } from '../../protocol/log.js';
import type { AuditEvent } from '../audit/event.js';
import type { DeviceRegistry } from '../devices/registry.js';
import type { ConnectionState } from '../operations/context.js';
import { describe } from '../errors.js';
import type { Dispatcher } from './dispatcher.js';
import { REFUSAL_SUMMARY_INTERVAL_MS, RefusalSummaries } from './refusal-summaries.js';

/** `stale-key`: the handshake completed with a key the device no longer has: its key was rotated (or the
 *  device revoked, counted as `revoked-device`) while the handshake was in flight. */
export type HandshakeFailureReason = 'unknown-device' | 'revoked-device' | 'stale-key' | 'wrong-key' | 'tampered' | 'timeout' | 'protocol' | 'aborted';
/** Why an established connection's TLS layer failed: a record from the kiosk that did not authenticate
 *  (altered, replayed, reordered or forged on the way), an alert from the kiosk refusing one of ours, or
 *  another TLS violation (a record of the wrong type or size). Network resets are not counted here. */
export type RecordFailureReason = 'bad-record' | 'peer-alert' | 'tls-error';

export interface ChannelStats {
  connectionsOpen: number;
  connectionsRefused: number;
  /** Connections still in their handshake, closed to make room for a new one when the host was full. */
  connectionsEvicted: number;
  /** A device's silent connections closed for its new one at its per-device limit (a path that died
   *  without a reset leaves its connection open until the idle timeout). */
  connectionsReplaced: number;
  handshakesCompleted: number;
  handshakeFailures: Record<HandshakeFailureReason, number>;
  recordFailures: Record<RecordFailureReason, number>;
  requests: number;
  protocolErrors: number;
}

/** When the host is full, a connection this long in its handshake may be closed for a new one. */
export const HANDSHAKE_EVICTABLE_AFTER_MS = 1_000;
/** Bound on the bytes queued for a slow reader before the host stops reading its requests. */
const MAX_QUEUED_WRITE_BYTES = 4 * MAX_FRAME_BYTES;

interface PskAttempt {
  identity: string;
  outcome: 'ok' | 'unknown' | 'revoked';
  /** The version of the key handed to TLS, when the identity was an active device. */
  keyVersion?: number;
}

export class ChannelServer {
  readonly stats: ChannelStats = {
    connectionsOpen: 0,
    connectionsRefused: 0,
    connectionsEvicted: 0,
    connectionsReplaced: 0,
    handshakesCompleted: 0,
    handshakeFailures: { 'unknown-device': 0, 'revoked-device': 0, 'stale-key': 0, 'wrong-key': 0, tampered: 0, timeout: 0, protocol: 0, aborted: 0 },
    recordFailures: { 'bad-record': 0, 'peer-alert': 0, 'tls-error': 0 },
    requests: 0,
    protocolErrors: 0,
  };
  private readonly server: tls.Server;
  private readonly limits: HostLimits;
  private readonly byDevice = new Map<string, Set<TLSSocket>>();
  private readonly states = new WeakMap<TLSSocket, ConnectionState>();
  private readonly pskAttempts = new WeakMap<TLSSocket, PskAttempt>();
  /** When each device connection last sent anything. */
  private readonly lastHeardMs = new WeakMap<TLSSocket, number>();
  private readonly rawSockets = new Set<Socket>();
  /** Connections that have not finished the handshake, oldest first, by remote endpoint (the raw and the
   *  TLS socket of one connection share it). */
  private readonly handshaking = new Map<string, { readonly raw: Socket; readonly sinceMs: number }>();
  private readonly pendingByConnection = new WeakMap<TLSSocket, number>();
  /** Connections paused because their reader has not taken its answers; resumed on 'drain'. */
  private readonly awaitingDrain = new WeakSet<TLSSocket>();
  // Unknown and revoked identities get a random key instead of a refusal, so their handshake fails the
  // same way a wrong key does: a client cannot learn which ids exist or are revoked.
  private readonly decoyKey = randomBytes(PSK_BYTES);
  private accepting = true;
  private connectionCounter = 0;
  private readonly refusals: RefusalSummaries<HandshakeFailureReason>;

  constructor(
    private readonly registry: DeviceRegistry,
    private readonly dispatcher: Dispatcher,
    private readonly log: Logger,
    private readonly recordSecurityEvent: (event: AuditEvent) => void,
    limits: Partial<HostLimits> = {},
    /** Per reason, at most one audit record of refused handshakes per this long (refusal-summaries.ts). */
    refusalSummaryIntervalMs = REFUSAL_SUMMARY_INTERVAL_MS,
  ) {
    this.refusals = new RefusalSummaries(recordSecurityEvent, log, refusalSummaryIntervalMs);
    this.limits = { ...DEFAULT_HOST_LIMITS, ...limits };
    this.server = tls.createServer(serverTlsOptions((socket, identity) => this.pskFor(socket, identity), this.limits.handshakeTimeoutMs));
    this.server.on('connection', (raw: Socket) => this.onRawConnection(raw));
    this.server.on('secureConnection', (socket: TLSSocket) => this.onSecureConnection(socket));
    this.server.on('tlsClientError', (error: Error & { code?: string }, socket: TLSSocket) => this.onHandshakeFailure(error, socket));
    this.server.on('error', (error) => this.log.error('listener error', { error: describe(error) }));
    registry.on('revoked', (deviceId) => this.closeDevice(deviceId, 'device revoked'));
    registry.on('rotated', (deviceId) => this.closeDevice(deviceId, 'device key rotated'));
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  connectionCount(deviceId: string): number {
    return this.byDevice.get(deviceId)?.size ?? 0;
  }

  /** Refuses new connections and new requests from now on (SHUTTING_DOWN, retryable); requests already
   *  running go on. The first step of a graceful stop, taken before anything else of the host stops. */
  stopAccepting(): void {
    if (this.listenerClosed !== undefined) return;
    this.accepting = false;
    this.listenerClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private listenerClosed: Promise<void> | undefined;

  /** Stops accepting, lets in-flight requests answer (bounded by `graceMs`), then closes every connection. */
  async close(graceMs = 5_000): Promise<void> {
    this.stopAccepting();
    const closed = this.listenerClosed!;
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && this.totalPending() > 0) await new Promise((r) => setTimeout(r, 20));
    for (const raw of this.rawSockets) raw.destroy();
    await closed;
    this.refusals.flush();
  }

  private totalPending(): number {
    let total = 0;
    for (const sockets of this.byDevice.values()) for (const socket of sockets) total += this.pendingByConnection.get(socket) ?? 0;
    return total;
  }

  private pskFor(socket: TLSSocket, identity: string): Buffer {
    const lookup = isDeviceId(identity) ? this.registry.lookupPsk(identity) : ({ outcome: 'unknown' } as const);
    this.pskAttempts.set(socket, { identity, outcome: lookup.outcome, ...(lookup.outcome === 'ok' && { keyVersion: lookup.keyVersion }) });
    return lookup.outcome === 'ok' ? lookup.key : this.decoyKey;
  }

  private onRawConnection(raw: Socket): void {
    if (this.accepting && this.rawSockets.size >= this.limits.maxConnections) this.evictStalledHandshake();
    if (!this.accepting || this.rawSockets.size >= this.limits.maxConnections) {
      this.stats.connectionsRefused++;
      raw.destroy();
      return;
    }
    this.rawSockets.add(raw);
    const endpoint = endpointOf(raw);
    this.handshaking.set(endpoint, { raw, sinceMs: Date.now() });
    // Requests and answers are small frames, several in flight per connection: Nagle's algorithm would
    // hold a second answer back until the first is acknowledged (a delayed ACK: tens of milliseconds).
    raw.setNoDelay(true);
    raw.on('close', () => {
      this.rawSockets.delete(raw);
      if (this.handshaking.get(endpoint)?.raw === raw) this.handshaking.delete(endpoint);
    });
    raw.on('error', () => {});
  }

  /** The host is full. Idle or dribbling connections that never finish a handshake could hold every slot
   *  (each for the handshake timeout, the attacker reopening them as they are cut), so that a kiosk could
   *  not reconnect. A kiosk's handshake takes milliseconds: the oldest connection that has been in its
   *  handshake for HANDSHAKE_EVICTABLE_AFTER_MS gives up its slot to the newcomer. */
  /** Closes the device's connection silent longest, if it has nothing in flight and has been silent for
   *  `limits.silentConnectionReplaceableAfterMs`: the kiosk has moved on (its client reconnects after a
   *  silent path), and only the same device, proven by K_SHARED, can cause it. */
  private replaceSilentConnection(deviceId: string, sockets: Set<TLSSocket>): void {
    const nowMs = Date.now();
    let silentLongest: TLSSocket | undefined;
    let silentSinceMs = nowMs - this.limits.silentConnectionReplaceableAfterMs;
    for (const candidate of sockets) {
      const heardMs = this.lastHeardMs.get(candidate) ?? 0;
      if ((this.pendingByConnection.get(candidate) ?? 0) === 0 && heardMs <= silentSinceMs) {
        silentLongest = candidate;
        silentSinceMs = heardMs;
      }
    }
    if (!silentLongest) return;
    this.stats.connectionsReplaced++;
    this.log.info('replacing a silent connection at the per-device limit', { deviceId, silentMs: nowMs - silentSinceMs, connectionId: this.states.get(silentLongest)?.connectionId ?? null });
    // destroy() emits 'close' on a later tick; the set is updated now so the newcomer fits.
    sockets.delete(silentLongest);
    silentLongest.destroy();
  }

  private evictStalledHandshake(): void {
    const oldest = this.handshaking.entries().next();
    if (oldest.done || Date.now() - oldest.value[1].sinceMs < HANDSHAKE_EVICTABLE_AFTER_MS) return;
    this.handshaking.delete(oldest.value[0]);
    this.rawSockets.delete(oldest.value[1].raw);
    this.stats.connectionsEvicted++;
    oldest.value[1].raw.destroy();
  }

  private onHandshakeFailure(error: Error & { code?: string }, socket: TLSSocket): void {
    this.handshaking.delete(endpointOf(socket));
    const attempt = this.pskAttempts.get(socket);
    this.refuseHandshake(socket, classifyHandshakeFailure(error, attempt), attempt);
  }

  private refuseHandshake(socket: TLSSocket, reason: HandshakeFailureReason, attempt: PskAttempt | undefined): void {
    this.stats.handshakeFailures[reason]++;
    socket.destroy();
    // A peer that hung up mid-handshake proved nothing and was refused nothing: counted, not audited.
    if (reason === 'aborted') return;
    // The claimed identity is attacker-controlled and proved nothing: it is never recorded as the device's
    // own (a replayed ClientHello carries a real kiosk's id). The audit log gets rate-limited summaries.
    const claimed = attempt && isDeviceId(attempt.identity) ? attempt.identity : undefined;
    this.log.debug('handshake refused', { reason, claimedDeviceId: claimed ?? null, remote: socket.remoteAddress ?? null });
    this.refusals.refused(reason, claimed !== undefined && this.registry.get(claimed) !== undefined ? claimed : undefined, socket.remoteAddress);
  }

  private onSecureConnection(socket: TLSSocket): void {
    this.handshaking.delete(endpointOf(socket));
    const attempt = this.pskAttempts.get(socket);
    if (!attempt || attempt.outcome !== 'ok' || !this.accepting) {
      // Cannot happen with a decoy key, but a connection without a verified identity must never be served.
      socket.destroy();
      return;
    }
    const deviceId = attempt.identity;
    // The key was looked up when the ClientHello arrived; the device may have been revoked, or its key
    // rotated, while the handshake was in flight (the command closed the device's connections before this
    // one existed). Such a connection is never served.
    if (!this.registry.isKeyCurrent(deviceId, attempt.keyVersion)) {
      this.refuseHandshake(socket, this.registry.isActive(deviceId) ? 'stale-key' : 'revoked-device', attempt);
      return;
    }
    const sockets = this.byDevice.get(deviceId) ?? new Set<TLSSocket>();
    if (sockets.size >= this.limits.maxConnectionsPerDevice) this.replaceSilentConnection(deviceId, sockets);
    if (sockets.size >= this.limits.maxConnectionsPerDevice) {
      this.stats.connectionsRefused++;
      this.log.warn('connection refused: per-device limit', { deviceId, limit: this.limits.maxConnectionsPerDevice });
      socket.end(encodeFrame(errorResponse('', new ProtocolError('TOO_MANY_CONNECTIONS', undefined, true))));
      socket.destroySoon();
      return;
    }
    sockets.add(socket);
    this.byDevice.set(deviceId, sockets);
    this.stats.handshakesCompleted++;
    this.stats.connectionsOpen++;
    const state: ConnectionState = { connectionId: `c${++this.connectionCounter}`, deviceId, keyVersion: attempt.keyVersion, session: undefined };
    this.states.set(socket, state);
    this.lastHeardMs.set(socket, Date.now());
    this.pendingByConnection.set(socket, 0);
    const log = this.log.child({ deviceId, connectionId: state.connectionId });
    log.info('device connected');

    const decoder = new FrameDecoder(MAX_FRAME_BYTES);
    let frameTimer: NodeJS.Timeout | undefined;
    socket.setTimeout(this.limits.idleTimeoutMs);
    socket.on('timeout', () => {
      log.info('closing idle connection', { idleTimeoutMs: this.limits.idleTimeoutMs });
      socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => {
      this.lastHeardMs.set(socket, Date.now());
      let documents: unknown[];
      try {
        documents = decoder.push(chunk);
      } catch (error) {
        // After a framing error the stream has no trustworthy boundary left: answer once, then close.
        this.stats.protocolErrors++;
        log.warn('closing connection: bad frame', { error: describe(error) });
        const message = error instanceof FrameError ? error.message : 'bad frame';
        socket.end(encodeFrame(errorResponse('', new ProtocolError('BAD_FRAME', message))));
        socket.destroySoon();
        return;
      }
      // The clock runs from the chunk a frame starts in, and more bytes of the same frame do not restart
      // it: a sender dribbling one byte at a time must still finish within frameCompletionTimeoutMs.
      const frameStartedHere = documents.length > 0 || frameTimer === undefined;
      if (decoder.pendingBytes === 0 || frameStartedHere) {
        if (frameTimer) clearTimeout(frameTimer);
        frameTimer = decoder.pendingBytes > 0
          ? setTimeout(() => {
              log.warn('closing connection: frame not completed in time', { frameCompletionTimeoutMs: this.limits.frameCompletionTimeoutMs });
              socket.destroy();
            }, this.limits.frameCompletionTimeoutMs)
          : undefined;
      }
      for (const document of documents) this.handleDocument(socket, state, document);
    });
    socket.on('error', (error: Error & { code?: string }) => {
      // A TLS error after the handshake leaves Node's socket open (measured: until the peer hangs up);
      // the record stream is unusable, so it is closed here rather than held until the idle timeout.
      socket.destroy();
      const reason = classifyRecordFailure(error);
      if (reason === undefined) {
        log.debug('connection error', { error: describe(error) });
        return;
      }
      // Someone on the path altered, replayed or injected TLS records (or the kiosk is broken): the
      // connection is gone, and the attempt is counted and audited like a refused handshake.
      this.stats.recordFailures[reason]++;
      log.warn('connection closed: TLS record refused', { reason, code: error.code ?? null });
      this.recordSecurityEvent({ action: 'channel.record', outcome: 'refused', reason, deviceId });
    });
    socket.on('close', () => {
      if (frameTimer) clearTimeout(frameTimer);
      sockets.delete(socket);
      if (sockets.size === 0) this.byDevice.delete(deviceId);
      this.stats.connectionsOpen--;
      if (state.session) {
        this.recordSecurityEvent({ action: 'session.end', outcome: 'ok', reason: 'disconnected', deviceId, customerId: state.session.customerId });
        state.session = undefined;
      }
      log.info('device disconnected');
    });
  }

  private handleDocument(socket: TLSSocket, state: ConnectionState, document: unknown): void {
    this.stats.requests++;
    const pending = this.pendingByConnection.get(socket) ?? 0;
    if (!this.accepting) {
      // Requests already running finish; new ones are told to come back, with the same id, later.
      this.send(socket, errorResponse(requestIdOf(document) ?? '', new ProtocolError('SHUTTING_DOWN', undefined, true)));
      return;
    }
    if (pending >= this.limits.maxPendingRequestsPerConnection) {
      this.send(socket, errorResponse(requestIdOf(document) ?? '', new ProtocolError('TOO_MANY_PENDING', undefined, true)));
      return;
    }
    this.pendingByConnection.set(socket, pending + 1);
    if (pending + 1 >= this.limits.maxPendingRequestsPerConnection) socket.pause();
    void this.dispatcher
      .dispatch(state, document)
      .then((response) => {
        // An answer for a connection whose key was revoked or replaced meanwhile is not sent: the
        // connection closes, and the kiosk retries the same id once it connects with its current key.
        if (state.keyRefused || !this.registry.isKeyCurrent(state.deviceId, state.keyVersion)) {
          socket.destroy();
          return;
        }
        if (!response.ok) this.stats.protocolErrors++;
        this.send(socket, response);
      })
      .finally(() => {
        this.pendingByConnection.set(socket, (this.pendingByConnection.get(socket) ?? 1) - 1);
        this.resumeIfBelowLimits(socket);
      });
  }

  private send(socket: TLSSocket, response: ResponseEnvelope): void {
    if (socket.destroyed || !socket.writable) return;
    let frame: Buffer;
    try {
      frame = encodeFrame(response);
    } catch (error) {
      // An answer too large for a frame is a host bug; the kiosk gets a clear error instead of silence.
      this.log.error('response could not be framed', { requestId: response.id, error: describe(error) });
      frame = encodeFrame(errorResponse(response.id, new ProtocolError('INTERNAL', 'the answer was too large to send', false)));
    }
    socket.write(frame);
    // A reader that does not drain its responses stops being read from, bounding the host's memory.
    if (socket.writableLength >= MAX_QUEUED_WRITE_BYTES) {
      socket.pause();
      if (!this.awaitingDrain.has(socket)) {
        // One listener per socket, however many answers are sent while it is over the bound.
        this.awaitingDrain.add(socket);
        socket.once('drain', () => {
          this.awaitingDrain.delete(socket);
          this.resumeIfBelowLimits(socket);
        });
      }
    }
  }

  /** Reads from the connection again once it has room for another request and its reader has caught up. */
  private resumeIfBelowLimits(socket: TLSSocket): void {
    const pending = this.pendingByConnection.get(socket) ?? 0;
    if (pending < this.limits.maxPendingRequestsPerConnection && !this.awaitingDrain.has(socket)) socket.resume();
  }

  private closeDevice(deviceId: string, why: string): void {
    const sockets = this.byDevice.get(deviceId);
    if (!sockets) return;
    this.log.info('closing device connections', { deviceId, why, count: sockets.size });
    for (const socket of sockets) socket.destroy();
  }
}

function endpointOf(socket: Socket): string {
  return `${socket.remoteAddress ?? ''}|${socket.remotePort ?? ''}`;
}

/** Why a handshake failed. Unknown and revoked ids are known from the PSK lookup; a binder that does not
 *  verify under a known device's key is a wrong key; a binder that verifies followed by handshake records
 *  that do not decrypt is a replayed (recorded earlier) or altered handshake: the ClientHello is genuine
 *  but the rest was not made for this server's key share. A connection reset is an abort, not a refusal. */
function classifyHandshakeFailure(error: Error & { code?: string }, attempt: PskAttempt | undefined): HandshakeFailureReason {
  if (error.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'timeout';
  if (error.code === 'ECONNRESET' || error.code === 'EPIPE') return 'aborted';
  if (attempt?.outcome === 'unknown') return 'unknown-device';
  if (attempt?.outcome === 'revoked') return 'revoked-device';
  if (attempt?.outcome === 'ok' && /BINDER/i.test(error.code ?? '')) return 'wrong-key';
  if (attempt?.outcome === 'ok' && /DECRYPT|BAD_RECORD_MAC/i.test(error.code ?? '')) return 'tampered';
  return 'protocol';
}

function classifyRecordFailure(error: Error & { code?: string }): RecordFailureReason | undefined {
  const code = error.code ?? '';
  // OpenSSL 3.5 (Node 24) names alerts ERR_SSL_SSL/TLS_ALERT_…, 3.0 ERR_SSL_SSLV3_ALERT_… or TLSV1_ALERT_….
  if (/^ERR_SSL_(SSLV3|TLSV1|SSL\/TLS)_ALERT_/.test(code)) return 'peer-alert';
  if (/DECRYPTION_FAILED|BAD_RECORD_MAC/.test(code)) return 'bad-record';
  if (code.startsWith('ERR_SSL_')) return 'tls-error';
  return undefined;
}
