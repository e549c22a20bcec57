// TLS 1.3 with an external pre-shared key: the standard form of the seeds' K_SHARED handshake.
// Both ends build their TLS options here so the settings cannot drift apart.
import { constants } from 'node:crypto';
import type { ConnectionOptions, TlsOptions, TLSSocket } from 'node:tls';
import { DEVICE_ID_PATTERN, PSK_BYTES, TLS_CIPHERSUITES, TLS_KEY_SHARE_GROUPS } from './limits.js';

export function isDeviceId(value: unknown): value is string {
  return typeof value === 'string' && DEVICE_ID_PATTERN.test(value);
}

export function assertPsk(kShared: Buffer): void {
  if (kShared.length !== PSK_BYTES) throw new Error(`K_SHARED must be ${PSK_BYTES} bytes, got ${kShared.length}`);
}

/** Server options. The listener deliberately has NO certificate: with one, OpenSSL would fall back to
 *  certificate authentication when the PSK does not match, letting a client with a wrong key complete a
 *  handshake. Tickets are off (`SSL_OP_NO_TICKET`, and the host installs no resumption listener), so every
 *  connection runs `pskCallback` and a revoked device cannot come back with a saved session. */
export function serverTlsOptions(pskCallback: (socket: TLSSocket, identity: string) => Buffer | null, handshakeTimeoutMs: number): TlsOptions {
  return {
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    ciphers: TLS_CIPHERSUITES,
    // psk_dhe_ke with X25519 only: forward secrecy from one well-understood curve.
    ecdhCurve: TLS_KEY_SHARE_GROUPS,
    secureOptions: constants.SSL_OP_NO_TICKET,
    pskCallback,
    handshakeTimeout: handshakeTimeoutMs,
    requestCert: false,
  };
}

/** Client options for device `deviceId` holding `kShared`. There is no certificate to check: the server
 *  proves it knows K_SHARED by completing the handshake (its Finished message is keyed from the PSK). */
export function clientTlsOptions(host: string, port: number, deviceId: string, kShared: Buffer): ConnectionOptions {
  assertPsk(kShared);
  return {
    host,
    port,
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    ciphers: TLS_CIPHERSUITES,
    ecdhCurve: TLS_KEY_SHARE_GROUPS,
    pskCallback: () => ({ psk: kShared, identity: deviceId }),
    checkServerIdentity: () => undefined,
  };
}
