// The host's long-term keys. Each lives in its own file of 64 hex digits (32 bytes) in a key folder:
// the systemd credentials directory (`LoadCredential=`) in production, or a folder given with --keys.
// Files must be owner-only; a key is never logged or put in an error message.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { parseVendorCas, type VendorCa } from '../protocol/pin-key-delivery.js';
import { KeyError } from './errors.js';

export const KEY_FILES = {
  master: 'master.key',
  pinVerify: 'pin-verify.key',
  auditEnc: 'audit-enc.key',
  auditMac: 'audit-mac.key',
  auditSign: 'audit-sign.key',
} as const;

export type KeyName = keyof typeof KEY_FILES;
export type HostKeys = { readonly [K in KeyName]: Buffer };

const KEY_BYTES = 32;

async function readKeyFile(file: string, enforceOwnerOnly: boolean): Promise<Buffer> {
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new KeyError(`key file ${file} is missing (run \`bank-host init\`)`);
    throw new KeyError(`cannot read key file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (!info.isFile()) throw new KeyError(`key file ${file} is not a regular file`);
  if (enforceOwnerOnly && (info.mode & 0o077) !== 0) {
    throw new KeyError(`key file ${file} is readable by others (mode ${(info.mode & 0o777).toString(8)}); run \`chmod 600 ${file}\``);
  }
  const text = (await readFile(file, 'utf8')).trim();
  if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new KeyError(`key file ${file} must hold exactly 64 hex digits`);
  return Buffer.from(text, 'hex');
}

/** Loads every host key from `dir`. Systemd credentials are exempt from the mode check: systemd makes
 *  them readable only by the service, on a private mount. */
export async function loadHostKeys(dir: string, options: { fromCredentials?: boolean } = {}): Promise<HostKeys> {
  const entries = await Promise.all(
    (Object.entries(KEY_FILES) as [KeyName, string][]).map(
      async ([name, file]) => [name, await readKeyFile(path.join(dir, file), !options.fromCredentials)] as const,
    ),
  );
  return Object.fromEntries(entries) as HostKeys;
}

/** Passwords a credential file may hold. */
export const CREDENTIAL_TEXT_BYTES_MAX = 1_024;

/** A secret that is text (the store's database password): one line from a file of the key folder, with the
 *  key files' rules (owner-only unless it is a systemd credential). The error never quotes the content. */
export async function loadSecretText(dir: string, name: string, options: { fromCredentials?: boolean } = {}): Promise<string> {
  const file = path.join(dir, name);
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new KeyError(`credential file ${file} is missing (LoadCredential=${name}:… in the unit, or a file of that name in the key folder)`);
    throw new KeyError(`cannot read credential file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (!info.isFile()) throw new KeyError(`credential file ${file} is not a regular file`);
  if (!options.fromCredentials && (info.mode & 0o077) !== 0) throw new KeyError(`credential file ${file} is readable by others (mode ${(info.mode & 0o777).toString(8)}); run \`chmod 600 ${file}\``);
  if (info.size > CREDENTIAL_TEXT_BYTES_MAX) throw new KeyError(`credential file ${file} is over ${CREDENTIAL_TEXT_BYTES_MAX} bytes`);
  const text = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
  if (text.length === 0 || /[\r\n\u0000]/.test(text)) throw new KeyError(`credential file ${file} must hold one non-empty line`);
  return text;
}

/** Creates a key folder with fresh random keys, owner-only. Refuses to overwrite an existing key. */
export async function createHostKeys(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  for (const file of Object.values(KEY_FILES)) await writeSecretFile(path.join(dir, file), randomBytes(KEY_BYTES).toString('hex') + '\n');
}

/** Writes a new owner-only file and makes it durable (the file, then its folder's entry): fails if it
 *  exists, so a key is never silently replaced. A file it created but could not finish is removed. When it
 *  returns, the file is on disk, so a caller may then commit state that relies on it. */
export async function writeSecretFile(file: string, content: string, options: { overwrite?: boolean } = {}): Promise<void> {
  const handle = await open(file, options.overwrite ? 'w' : 'wx', 0o600).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EEXIST') throw Object.assign(new KeyError(`${file} already exists; refusing to overwrite it`), { systemCode: 'EEXIST' });
    throw error;
  });
  try {
    try {
      await handle.chmod(0o600);
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    const folder = await open(path.dirname(file), 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  } catch (error) {
    if (!options.overwrite) await unlink(file).catch(() => undefined);
    throw error;
  }
}

// A device's keys at rest (K_SHARED, and its PIN encryption key): AES-256-GCM under the master key, bound
// by AAD to what the key is for, the device id and the key version, so a wrapped key cannot be moved to
// another device record nor a K_SHARED taken for a PIN key.
const WRAP_IV_BYTES = 12;
const WRAP_TAG_BYTES = 16;

/** What a wrapped device key is for: the channel's K_SHARED or the PIN encryption key (docs/keys.md). */
export type DeviceKeyPurpose = 'k-shared' | 'pek';

function wrapAad(deviceId: string, keyVersion: number, purpose: DeviceKeyPurpose): Buffer {
  return Buffer.from(`atm-kiosk/${purpose}/v1|${deviceId}|${keyVersion}`, 'utf8');
}

export function wrapDeviceKey(master: Buffer, deviceId: string, keyVersion: number, kShared: Buffer, purpose: DeviceKeyPurpose = 'k-shared'): string {
  const iv = randomBytes(WRAP_IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', master, iv);
  cipher.setAAD(wrapAad(deviceId, keyVersion, purpose));
  const ciphertext = Buffer.concat([cipher.update(kShared), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64');
}

export function unwrapDeviceKey(master: Buffer, deviceId: string, keyVersion: number, wrapped: string, purpose: DeviceKeyPurpose = 'k-shared'): Buffer {
  const raw = Buffer.from(wrapped, 'base64');
  if (raw.length !== WRAP_IV_BYTES + WRAP_TAG_BYTES + KEY_BYTES) throw new KeyError(`wrapped key of device ${deviceId} is malformed`);
  const decipher = createDecipheriv('aes-256-gcm', master, raw.subarray(0, WRAP_IV_BYTES));
  decipher.setAAD(wrapAad(deviceId, keyVersion, purpose));
  decipher.setAuthTag(raw.subarray(WRAP_IV_BYTES, WRAP_IV_BYTES + WRAP_TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(raw.subarray(WRAP_IV_BYTES + WRAP_TAG_BYTES)), decipher.final()]);
  } catch {
    throw new KeyError(`wrapped key of device ${deviceId} does not verify under this master key`);
  }
}

/** The EPP vendors' certificate authorities the host trusts (protocol/pin-key-delivery.ts), one a line, in
 *  `epp-vendor-cas` beside the keys. Public keys, so not secret; but whoever may write the file may enroll
 *  a PIN pad of their making, so it must be writable by its owner only. No file: no vendor is trusted, and
 *  no kiosk can receive a PIN key. */
export const EPP_VENDOR_CAS_FILE = 'epp-vendor-cas';

export async function loadEppVendorCas(dir: string, options: { fromCredentials?: boolean } = {}): Promise<VendorCa[]> {
  const file = path.join(dir, EPP_VENDOR_CAS_FILE);
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new KeyError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (!info.isFile()) throw new KeyError(`${file} is not a regular file`);
  if (!options.fromCredentials && (info.mode & 0o022) !== 0) throw new KeyError(`${file} is writable by others (mode ${(info.mode & 0o777).toString(8)}); run \`chmod 644 ${file}\``);
  if (info.size > 64 * 1024) throw new KeyError(`${file} is larger than a list of vendor CAs`);
  try {
    return parseVendorCas(await readFile(file, 'utf8'));
  } catch (error) {
    throw new KeyError(`${file}: ${(error as Error).message}`);
  }
}
