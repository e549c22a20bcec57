// An attacker who stole a kiosk's K_SHARED and sits on its network path: it completes the kiosk's TLS 1.3
// handshake as the host would (the PSK is all either side proves), opens its own to the real host as the
// kiosk, relays every byte and reads every message in clear. What it learns is what a stolen K_SHARED gives.
import net from 'node:net';
import tls from 'node:tls';
import { clientTlsOptions, serverTlsOptions } from '../../protocol/channel.js';
import { FrameDecoder } from '../../protocol/framing.js';

export interface InterceptedMessage {
  readonly direction: 'kiosk-to-host' | 'host-to-kiosk';
  readonly document: Record<string, unknown>;
}

export interface KSharedMitm {
  readonly port: number;
  readonly messages: InterceptedMessage[];
  close(): Promise<void>;
}

export async function startKSharedMitm(hostPort: number, deviceId: string, kShared: Buffer): Promise<KSharedMitm> {
  const messages: InterceptedMessage[] = [];
  const sockets = new Set<net.Socket>();
  const tap = (direction: InterceptedMessage['direction']) => {
    const decoder = new FrameDecoder();
    return (bytes: Buffer) => {
      try {
        for (const document of decoder.push(bytes)) messages.push({ direction, document: document as Record<string, unknown> });
      } catch {
        // Not ours to judge: the relay goes on.
      }
    };
  };
  const server = tls.createServer(serverTlsOptions((_socket, identity) => (identity === deviceId ? kShared : null), 5_000), (kiosk) => {
    const host = tls.connect(clientTlsOptions('127.0.0.1', hostPort, deviceId, kShared));
    sockets.add(kiosk);
    sockets.add(host);
    const fromKiosk = tap('kiosk-to-host');
    const fromHost = tap('host-to-kiosk');
    kiosk.on('data', (bytes: Buffer) => {
      fromKiosk(bytes);
      host.write(bytes);
    });
    host.on('data', (bytes: Buffer) => {
      fromHost(bytes);
      kiosk.write(bytes);
    });
    const end = () => {
      kiosk.destroy();
      host.destroy();
    };
    kiosk.on('close', end).on('error', end);
    host.on('close', end).on('error', end);
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    messages,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
