// The file that carries a kiosk's K_SHARED from the operator (`bank-host device add|rotate --key-out`) to
// the technician (`provision enroll|rotate --key-file`). It names the device and key version it belongs to
// and the key's check value, so the technician's tool refuses another kiosk's key, an old key, or a key
// that was damaged on the way, and both sides can compare the check value aloud without seeing the key:
//
//   atm-k-shared v1 <device id> <key version> <64 hex digits> <check value, 10 hex digits>\n
//
// (The key file the kiosk itself reads holds the 64 hex digits alone: kiosk/core/config.ts.)
import { DEVICE_ID_PATTERN, PSK_BYTES } from './limits.js';
import { keyCheckValue } from './key-block.js';

export const KEY_TRANSPORT_MAGIC = 'atm-k-shared v1';
/** A transport file larger than this is not one we wrote; reading stops there. */
export const KEY_TRANSPORT_MAX_BYTES = 512;

export class KeyTransportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyTransportError';
  }
}

export interface TransportedKey {
  readonly deviceId: string;
  readonly keyVersion: number;
  /** K_SHARED. The caller zeroes it when done. */
  readonly key: Buffer;
  /** AES-CMAC key check value, 10 hex digits. */
  readonly kcv: string;
}

export async function formatKeyTransport(deviceId: string, keyVersion: number, key: Buffer): Promise<string> {
  if (!DEVICE_ID_PATTERN.test(deviceId)) throw new KeyTransportError(`device id ${JSON.stringify(deviceId)} is not a device id`);
  if (!Number.isSafeInteger(keyVersion) || keyVersion < 1) throw new KeyTransportError('the key version is a positive integer');
  if (key.length !== PSK_BYTES) throw new KeyTransportError(`K_SHARED is ${PSK_BYTES} bytes`);
  return `${KEY_TRANSPORT_MAGIC} ${deviceId} ${keyVersion} ${key.toString('hex')} ${await keyCheckValue(key)}\n`;
}

/** Parses and checks a transport file's text: its form, and that the check value matches the key (a key
 *  changed on the way is refused). Messages never contain the key. */
export async function parseKeyTransport(text: string): Promise<TransportedKey> {
  if (text.length > KEY_TRANSPORT_MAX_BYTES) throw new KeyTransportError('not a K_SHARED transport file: too long');
  const line = text.replace(/\r?\n$/, '');
  if (!line.startsWith(`${KEY_TRANSPORT_MAGIC} `)) {
    throw new KeyTransportError(
      /^[0-9a-fA-F]{64}$/.test(line)
        ? 'this is a bare key without its device and check value; ask the operator for the file `bank-host device add|rotate --key-out` writes'
        : `not a K_SHARED transport file (it must start with "${KEY_TRANSPORT_MAGIC}")`,
    );
  }
  const fields = line.slice(KEY_TRANSPORT_MAGIC.length + 1).split(' ');
  if (fields.length !== 4) throw new KeyTransportError('a K_SHARED transport file has a device id, a key version, the key and its check value');
  const [deviceId, version, hex, kcv] = fields as [string, string, string, string];
  if (!DEVICE_ID_PATTERN.test(deviceId)) throw new KeyTransportError('the transport file names no valid device id');
  if (!/^[1-9][0-9]{0,8}$/.test(version)) throw new KeyTransportError('the transport file names no valid key version');
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new KeyTransportError('the key in the transport file is not 64 lowercase hex digits');
  if (!/^[0-9A-F]{10}$/.test(kcv)) throw new KeyTransportError('the check value in the transport file is not 10 hex digits');
  const key = Buffer.from(hex, 'hex');
  if ((await keyCheckValue(key)) !== kcv) {
    key.fill(0);
    throw new KeyTransportError('the key does not match its check value: the file was changed or damaged');
  }
  return { deviceId, keyVersion: Number(version), key, kcv };
}
