// One real connection to the bank host with the kiosk's identity and key: TCP, the TLS 1.3-PSK handshake,
// then a `ping`. Unlike the kiosk's ChannelClient (which hides failures behind reconnects), it reports at
// which step it failed, because the technician's next move differs: an unreachable host is a network or
// address problem; a refused handshake means the host does not accept this device id with this key (it
// deliberately does not say whether the id is unknown, revoked, or the key wrong).
import tls from 'node:tls';
import { clientTlsOptions } from '../protocol/channel.js';
import { newRequestId, parseResponseEnvelope } from '../protocol/envelope.js';
import { encodeFrame, FrameDecoder } from '../protocol/framing.js';
import { DEFAULT_CLIENT_LIMITS, MAX_FRAME_BYTES, PROTOCOL_VERSION } from '../protocol/limits.js';

export type ProbeResult =
  | { readonly outcome: 'ok'; readonly hostTimeMs: number; readonly roundTripMs: number }
  | { readonly outcome: 'unreachable'; readonly detail: string }
  | { readonly outcome: 'handshake-refused'; readonly detail: string }
  | { readonly outcome: 'ping-failed'; readonly detail: string };

export interface ProbeOptions {
  readonly host: string;
  readonly port: number;
  readonly deviceId: string;
  readonly kShared: Buffer;
  /** Bound on each step: TCP connect, handshake, ping answer. */
  readonly stepTimeoutMs?: number;
}

export function probeHost(options: ProbeOptions): Promise<ProbeResult> {
  const stepTimeoutMs = options.stepTimeoutMs ?? DEFAULT_CLIENT_LIMITS.connectTimeoutMs;
  return new Promise((resolve) => {
    let step: 'connect' | 'handshake' | 'ping' = 'connect';
    let settled = false;
    const startedMs = Date.now();
    const socket = tls.connect(clientTlsOptions(options.host, options.port, options.deviceId, options.kShared));
    const finish = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const failure = (detail: string): ProbeResult =>
      step === 'connect'
        ? { outcome: 'unreachable', detail }
        : step === 'handshake'
          ? { outcome: 'handshake-refused', detail }
          : { outcome: 'ping-failed', detail };
    let timer = setTimeout(() => finish(failure(`no answer within ${stepTimeoutMs} ms`)), stepTimeoutMs);
    const nextStep = (next: typeof step) => {
      step = next;
      clearTimeout(timer);
      timer = setTimeout(() => finish(failure(`no answer within ${stepTimeoutMs} ms`)), stepTimeoutMs);
    };
    // `connect` fires when TCP is up, before the TLS handshake: from here a failure is the host's refusal.
    socket.once('connect', () => nextStep('handshake'));
    const id = newRequestId();
    socket.once('secureConnect', () => {
      nextStep('ping');
      socket.write(encodeFrame({ v: PROTOCOL_VERSION, id, ts: Date.now(), type: 'ping', body: {} }, MAX_FRAME_BYTES));
    });
    const decoder = new FrameDecoder(MAX_FRAME_BYTES);
    socket.on('data', (chunk: Buffer) => {
      let documents: unknown[];
      try {
        documents = decoder.push(chunk);
      } catch (error) {
        finish(failure(`bad frame from the host: ${(error as Error).message}`));
        return;
      }
      for (const document of documents) {
        let response;
        try {
          response = parseResponseEnvelope(document);
        } catch (error) {
          finish(failure(`malformed answer: ${(error as Error).message}`));
          return;
        }
        // An empty id is an error the host could not tie to a request (it closes next): ours failed.
        if (response.id !== id && response.id !== '') continue;
        if (!response.ok) {
          finish(failure(`${response.error.code}: ${response.error.message}`));
          return;
        }
        const hostTimeMs = (response.result as { hostTimeMs?: unknown }).hostTimeMs;
        finish({ outcome: 'ok', hostTimeMs: typeof hostTimeMs === 'number' ? hostTimeMs : NaN, roundTripMs: Date.now() - startedMs });
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => finish(failure(error.code ?? error.message)));
    socket.on('close', () => finish(failure('the host closed the connection')));
  });
}
