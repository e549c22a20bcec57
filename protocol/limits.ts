// Every bound of the channel, in one place, named with its unit. Both ends import these.

export const PROTOCOL_VERSION = 1;

/** Largest frame body either side accepts. A history page of 50 postings fits with room to spare. */
export const MAX_FRAME_BYTES = 64 * 1024;
/** Length prefix of a frame: 4 bytes, big-endian, counting the JSON body that follows. */
export const FRAME_HEADER_BYTES = 4;
/** The host rejects requests whose timestamp is further than this from its clock (the seeds' 2 minutes). */
export const TIMESTAMP_SKEW_MS = 120_000;
/** Longest error message the host sends. Messages may quote what was wrong with a request, and a hostile
 *  request must not have its 60 KiB field name echoed back at it (nor push the answer past a frame). */
export const ERROR_MESSAGE_MAX_CHARS = 200;
/** Request ids are 128-bit random values written as 32 lowercase hex digits. */
export const REQUEST_ID_HEX_LENGTH = 32;
/** Device ids: what a technician can type and a filename can hold. */
export const DEVICE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{2,62}$/;
/** `K_SHARED` is 32 random bytes per device. */
export const PSK_BYTES = 32;
/** TLS 1.3 suites allowed on the channel: AEAD suites whose hash is SHA-256, as external PSKs require. */
export const TLS_CIPHERSUITES = 'TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256';
/** The most notes one withdrawal pays out: the dispenser's presenter holds a bundle of at most 50. */
export const MAX_NOTES_PER_WITHDRAWAL = 50;
/** The (EC)DHE group of psk_dhe_ke. */
export const TLS_KEY_SHARE_GROUPS = 'X25519';

export const DEFAULT_HOST_LIMITS = {
  maxConnections: 1024,
  maxConnectionsPerDevice: 4,
  /** At that limit, a device's connection silent this long with nothing in flight gives way to its new one. */
  silentConnectionReplaceableAfterMs: 5_000,
  maxPendingRequestsPerConnection: 32,
  handshakeTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
  /** A frame that has started must finish within this time, or its sender is too slow to keep. */
  frameCompletionTimeoutMs: 10_000,
} as const;

export type HostLimits = { -readonly [K in keyof typeof DEFAULT_HOST_LIMITS]: number };

export const DEFAULT_CLIENT_LIMITS = {
  requestTimeoutMs: 10_000,
  connectTimeoutMs: 5_000,
  /** The client pings when it has sent nothing for this long, well inside the host's idle timeout. */
  keepAliveIntervalMs: 20_000,
  /** After a request times out on a silent connection, a ping must come back within this or the
   *  connection is dropped and re-made (a blackholed path sends no reset). */
  livenessProbeTimeoutMs: 3_000,
  reconnectDelayMinMs: 250,
  reconnectDelayMaxMs: 15_000,
  maxPendingRequests: 32,
} as const;

export type ClientLimits = { -readonly [K in keyof typeof DEFAULT_CLIENT_LIMITS]: number };

/** An EPP's certificate line is about 250 characters; more is not one (protocol/pin-key-delivery.ts). */
export const EPP_CERTIFICATE_MAX_CHARS = 400;
/** A PEK key block (AES-256 under an AES-256 KBPK with KC, KP and LB) is under 200 characters. */
export const PEK_KEY_BLOCK_MAX_CHARS = 400;
