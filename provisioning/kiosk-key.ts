// The kiosk's K_SHARED on its root filesystem, and the transport file it arrives in.
//
// The key never rests in clear on a kiosk that has booted. Provisioning runs on a laptop, which cannot
// seal a secret for the kiosk's TPM or host key, so it leaves the key once, root-only, in a staging file;
// at the kiosk's next start atm-kiosk-seal-key.service seals it with `systemd-creds encrypt` (TPM2 where
// present) into /etc/credstore.encrypted/, proves it decrypts to the same bytes, and shreds the staging file.
// atm-kiosk.service loads it with LoadCredentialEncrypted=, and the kiosk reads it from its credentials
// directory (kiosk.json's kSharedFile). Beside the key, a small info file records the device, key version
// and check value (KCV) the key was installed with: it holds no secret, so `provision check` can show the
// KCV and `provision rotate` can refuse an older key after the clear key is gone. See docs/keys.md.
import { spawnSync } from 'node:child_process';
import { chmod, chown, lstat, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { keyCheckValue } from '../protocol/key-block.js';
import { KEY_TRANSPORT_MAX_BYTES, KeyTransportError, parseKeyTransport, type TransportedKey } from '../protocol/key-transport.js';
import { KEY_FILE_HEX_CHARS } from '../kiosk/core/config.js';
import { type FileOwner, replaceFileAtomically, runningAsRoot, syncFolder } from './atomic-file.js';
import { inRoot, ProvisionError, type Change } from './root-paths.js';

/** The credential's name: LoadCredentialEncrypted=k_shared:… in atm-kiosk.service, --name= when sealing. */
export const KEY_CREDENTIAL_NAME = 'k_shared';

export const KEY_PATHS = {
  /** The clear key, root 0400, between provisioning and the kiosk's next start. */
  staged: '/etc/atm-kiosk/k_shared.staged',
  credstoreDir: '/etc/credstore.encrypted',
  /** The sealed key (systemd-creds), root 0400. */
  sealed: '/etc/credstore.encrypted/atm-kiosk.k_shared',
  /** Device id, key version and KCV of the installed key; no secret. */
  info: '/etc/atm-kiosk/k_shared.info',
  /** Where the kiosk reads the key: atm-kiosk.service's credentials directory. kiosk.json names it. */
  credential: `/run/credentials/atm-kiosk.service/${KEY_CREDENTIAL_NAME}`,
  /** A clear key from before sealing existed (read by the kiosk in place); enroll and rotate remove it. */
  legacy: '/etc/atm-kiosk/k_shared.key',
} as const;

export const STAGED_KEY_MODE = 0o400;
const INFO_FILE_MODE = 0o640;
const INFO_MAX_BYTES = 1024;

/** What the info file says about the installed key. */
export interface KeyInfo {
  readonly deviceId: string;
  readonly keyVersion: number;
  readonly kcv: string;
}

/** A key to install: K_SHARED with the device and version the bank host gave it. */
export interface KeyToInstall extends KeyInfo {
  readonly hex: string;
}

export interface RootKey {
  /** The clear staged key (hex), if one waits to be sealed and this user may read it. */
  readonly stagedHex: string | undefined;
  readonly stagedPresent: boolean;
  readonly stagedUnreadable: boolean;
  readonly sealedPresent: boolean;
  readonly legacyHex: string | undefined;
  readonly legacyPresent: boolean;
  readonly info: KeyInfo | undefined;
  readonly infoError: string | undefined;
}

/** K_SHARED as the kiosk's loadKShared accepts it: 64 hex characters and at most one trailing newline.
 *  Returned lowercase; undefined when the text is anything else. */
export function parseKeyText(text: string): string | undefined {
  const hex = text.replace(/\r?\n$/, '');
  return hex.length === KEY_FILE_HEX_CHARS && /^[0-9a-fA-F]+$/.test(hex) ? hex.toLowerCase() : undefined;
}

export async function kcvOfHex(hex: string): Promise<string> {
  const key = Buffer.from(hex, 'hex');
  try {
    return await keyCheckValue(key);
  } finally {
    key.fill(0);
  }
}

export async function readSmallFile(file: string, maxBytes: number): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const buffer = Buffer.alloc(maxBytes + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    buffer.fill(0);
    return text;
  } finally {
    await handle.close();
  }
}

/** Reads a clear key file: its hex (undefined if malformed), or that it exists but may not be read. */
async function readClearKey(file: string): Promise<{ hex: string | undefined; present: boolean; unreadable: boolean }> {
  const present = (await lstat(file).catch(() => undefined)) !== undefined;
  if (!present) return { hex: undefined, present, unreadable: false };
  try {
    const text = await readSmallFile(file, KEY_FILE_HEX_CHARS + 2);
    return { hex: text === undefined ? undefined : parseKeyText(text), present, unreadable: false };
  } catch (error) {
    // On a kiosk the files are root's: only root may read them.
    if ((error as NodeJS.ErrnoException).code !== 'EACCES') throw error;
    return { hex: undefined, present, unreadable: true };
  }
}

function parseKeyInfo(text: string): KeyInfo {
  const document = JSON.parse(text) as Partial<KeyInfo> | null;
  const { deviceId, keyVersion, kcv } = document ?? {};
  if (typeof deviceId !== 'string' || !Number.isSafeInteger(keyVersion) || (keyVersion as number) < 1 || typeof kcv !== 'string' || !/^[0-9A-F]{10}$/.test(kcv)) {
    throw new Error('must hold the device id, key version and check value of the installed key');
  }
  return { deviceId, keyVersion: keyVersion as number, kcv };
}

export async function readRootKey(root: string): Promise<RootKey> {
  const staged = await readClearKey(inRoot(root, KEY_PATHS.staged));
  const legacy = await readClearKey(inRoot(root, KEY_PATHS.legacy));
  const sealedPresent = (await lstat(inRoot(root, KEY_PATHS.sealed)).catch(() => undefined)) !== undefined;
  let info: KeyInfo | undefined;
  let infoError: string | undefined;
  const infoText = await readSmallFile(inRoot(root, KEY_PATHS.info), INFO_MAX_BYTES).catch((error: NodeJS.ErrnoException) => {
    infoError = `cannot read it (${error.code ?? error.message})`;
    return undefined;
  });
  if (infoText !== undefined) {
    try {
      info = parseKeyInfo(infoText);
    } catch (error) {
      infoError = error instanceof SyntaxError ? 'not valid JSON' : (error as Error).message;
    }
  }
  return {
    stagedHex: staged.hex,
    stagedPresent: staged.present,
    stagedUnreadable: staged.unreadable,
    sealedPresent,
    legacyHex: legacy.hex,
    legacyPresent: legacy.present,
    info,
    infoError,
  };
}

/** The key the root holds in clear (staged, else from before sealing), if any. */
export function clearKeyOf(key: RootKey): string | undefined {
  return key.stagedHex ?? key.legacyHex;
}

/** True when the root holds a key at all (clear or sealed). */
export function keyInstalled(key: RootKey): boolean {
  return key.stagedPresent || key.sealedPresent || key.legacyPresent;
}

/** Reads the transport file an operator made with `bank-host device add|rotate --key-out FILE`. Errors
 *  never quote the file's content. */
export async function readKeyTransportFile(file: string): Promise<TransportedKey> {
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    throw new ProvisionError('BAD_KEY_FILE', `--key-file ${file}: cannot read it (${error.code ?? error.message})`);
  });
  if (!info.isFile()) throw new ProvisionError('BAD_KEY_FILE', `--key-file ${file} is not a regular file`);
  const text = (await readSmallFile(file, KEY_TRANSPORT_MAX_BYTES + 1)) ?? '';
  try {
    return await parseKeyTransport(text);
  } catch (error) {
    if (error instanceof KeyTransportError) throw new ProvisionError('BAD_KEY_FILE', `--key-file ${file}: ${error.message}`);
    throw error;
  }
}

/** Refuses a transported key that is not for `deviceId`, or older than (or conflicting with) the key the
 *  root has for that device. Returns whether it is the very key already installed. */
export function checkKeyForRoot(key: KeyInfo, deviceId: string, installed: KeyInfo | undefined, source: string): 'new' | 'installed' {
  if (key.deviceId !== deviceId) {
    throw new ProvisionError('OTHER_DEVICE', `${source} holds the key of kiosk ${key.deviceId}, not of ${deviceId}; ask the operator for ${deviceId}'s key file (\`bank-host device rotate ${deviceId} --key-out FILE\`)`);
  }
  if (!installed || installed.deviceId !== deviceId) return 'new';
  if (key.keyVersion < installed.keyVersion) {
    throw new ProvisionError('OLD_KEY', `${source} holds key version ${key.keyVersion} of ${deviceId}, older than the installed version ${installed.keyVersion} (KCV ${installed.kcv}); the bank host no longer accepts it`);
  }
  if (key.keyVersion === installed.keyVersion) {
    if (key.kcv === installed.kcv) return 'installed';
    throw new ProvisionError('OLD_KEY', `${source} holds key version ${key.keyVersion} of ${deviceId} with KCV ${key.kcv}, but version ${key.keyVersion} is installed with KCV ${installed.kcv}: one of them is not the bank host's; ask the operator which KCV the host has`);
  }
  return 'new';
}

/** Installs K_SHARED for sealing: the staging file (root 0400), then the info file that describes it, then
 *  the removal of a clear key from before sealing. A key already installed (same device, version and KCV)
 *  changes nothing. */
export async function installKey(root: string, key: KeyToInstall, infoOwner: FileOwner): Promise<{ path: string; change: Change }[]> {
  const current = await readRootKey(root);
  const changes: { path: string; change: Change }[] = [];
  const sameAsInfo = current.info?.deviceId === key.deviceId && current.info.keyVersion === key.keyVersion && current.info.kcv === key.kcv;
  const alreadyThere = current.stagedHex === key.hex || (current.stagedHex === undefined && current.sealedPresent && sameAsInfo);
  if (!alreadyThere) {
    await mkdir(path.dirname(inRoot(root, KEY_PATHS.staged)), { recursive: true });
    await replaceFileAtomically(inRoot(root, KEY_PATHS.staged), key.hex + '\n', { owner: { uid: 0, gid: 0 }, mode: STAGED_KEY_MODE });
    changes.push({ path: KEY_PATHS.staged, change: current.stagedPresent ? 'updated' : 'created' });
  } else if (current.stagedPresent) {
    changes.push({ path: KEY_PATHS.staged, change: (await fixMode(inRoot(root, KEY_PATHS.staged), STAGED_KEY_MODE)) ? 'updated' : 'unchanged' });
  }
  const infoText = JSON.stringify({ deviceId: key.deviceId, keyVersion: key.keyVersion, kcv: key.kcv }) + '\n';
  const infoFile = inRoot(root, KEY_PATHS.info);
  const existingInfo = await readFile(infoFile, 'utf8').catch(() => undefined);
  if (existingInfo !== infoText) {
    await replaceFileAtomically(infoFile, infoText, { owner: infoOwner, mode: INFO_FILE_MODE });
    changes.push({ path: KEY_PATHS.info, change: existingInfo === undefined ? 'created' : 'updated' });
  } else {
    changes.push({ path: KEY_PATHS.info, change: 'unchanged' });
  }
  if (current.legacyPresent) {
    await destroyFile(inRoot(root, KEY_PATHS.legacy));
    changes.push({ path: `${KEY_PATHS.legacy} (removed: the kiosk now reads its key sealed)`, change: 'updated' });
  }
  return changes;
}

/** Creates the folder the sealed key goes in (root 0700), as atm-kiosk.tmpfiles.conf does at boot. */
export async function ensureCredstoreDir(root: string): Promise<void> {
  const dir = inRoot(root, KEY_PATHS.credstoreDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

async function fixMode(file: string, mode: number): Promise<boolean> {
  const info = await stat(file);
  let changed = false;
  if (runningAsRoot() && (info.uid !== 0 || info.gid !== 0)) {
    await chown(file, 0, 0);
    changed = true;
  }
  if ((info.mode & 0o7777) !== mode) {
    await chmod(file, mode);
    changed = true;
  }
  return changed;
}

/** Overwrites a file's bytes, syncs, and removes it. (Flash wear-levelling may keep old blocks; the real
 *  protection is that the host no longer accepts the key.) */
export async function destroyFile(file: string): Promise<boolean> {
  const info = await lstat(file).catch(() => undefined);
  if (!info) return false;
  if (info.isFile()) {
    await chmod(file, 0o600).catch(() => {});
    const handle = await open(file, 'r+');
    try {
      await handle.write(Buffer.alloc(info.size, 0), 0, info.size, 0);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  await unlink(file);
  await syncFolder(path.dirname(file));
  return true;
}

/** Removes every form of the key from the root (revoke): clear, sealed, legacy; the info file too. */
export async function destroyKey(root: string): Promise<string[]> {
  const removed: string[] = [];
  for (const file of [KEY_PATHS.staged, KEY_PATHS.sealed, KEY_PATHS.legacy, KEY_PATHS.info]) {
    if (await destroyFile(inRoot(root, file))) removed.push(file);
  }
  return removed;
}

/** On the running kiosk itself (root `/`, as root): the sealed key, decrypted with systemd-creds (only this
 *  machine's TPM or host key can). Undefined elsewhere, or with the reason it could not be read. */
export function unsealOnThisKiosk(root: string): { hex?: string; error?: string } {
  if (path.resolve(root) !== '/' || !runningAsRoot()) return {};
  const result = spawnSync('systemd-creds', ['decrypt', `--name=${KEY_CREDENTIAL_NAME}`, KEY_PATHS.sealed, '-'], { encoding: 'utf8', timeout: 30_000 });
  if (result.error) return { error: `systemd-creds: ${result.error.message}` };
  if (result.status !== 0) return { error: `systemd-creds decrypt failed: ${result.stderr.trim().split('\n').pop() ?? ''}` };
  const hex = parseKeyText(result.stdout);
  return hex ? { hex } : { error: 'the sealed credential does not hold 64 hex digits' };
}
