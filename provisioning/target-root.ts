// The kiosk's root filesystem as provisioning sees it: a mounted SD card or any folder. Paths are the ones
// the kiosk's units read (systemd/atm-kiosk.service, atm-kiosk.tmpfiles.conf), joined under the root.
// Files are written whole or not at all (atomic-file.ts).
import { chmod, chown, lstat, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { KEY_FILE_HEX_CHARS, parseKioskConfig, type KioskConfig } from '../kiosk/core/config.js';
import { type FileOwner, replaceFileAtomically, runningAsRoot, syncFolder } from './atomic-file.js';

/** Where the kiosk looks, as absolute paths on the kiosk itself. */
export const KIOSK_PATHS = {
  configDir: '/etc/atm-kiosk',
  config: '/etc/atm-kiosk/kiosk.json',
  kShared: '/etc/atm-kiosk/k_shared.key',
  /** Under the unit's StateDirectory=atm-kiosk (0700, owned by atm-kiosk): the dispense journal. */
  journalDir: '/var/lib/atm-kiosk/journal',
  passwd: '/etc/passwd',
  group: '/etc/group',
} as const;

export const KIOSK_USER = 'atm-kiosk';
/** Modes the kiosk's tmpfiles.d entry sets at every boot; provisioning writes the same from the start. */
export const CONFIG_DIR_MODE = 0o750;
export const CONFIG_FILE_MODE = 0o640;
export const KEY_FILE_MODE = 0o400;
/** A kiosk.json bigger than this is not one we wrote; reading stops there. */
const MAX_CONFIG_BYTES = 256 * 1024;

export class ProvisionError extends Error {
  constructor(
    readonly code: 'ROOT_MISSING' | 'OTHER_DEVICE' | 'BAD_KEY_FILE' | 'BAD_SETTINGS' | 'NOT_ENROLLED' | 'UNITS_MISSING' | 'HOST_REFUSED',
    message: string,
  ) {
    super(message);
    this.name = 'ProvisionError';
  }
}

export type Change = 'created' | 'updated' | 'unchanged';

/** A path on the kiosk (absolute) as a path under the root. */
export function inRoot(root: string, kioskPath: string): string {
  return path.join(root, kioskPath);
}

export async function assertRootFolder(root: string): Promise<void> {
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw new ProvisionError('ROOT_MISSING', `--root ${root} is not a folder (mount the SD card's root partition and give its mount point)`);
}

export type Owner = FileOwner;

/** The kiosk user's uid and gid in the TARGET's /etc/passwd (never this machine's); undefined when the
 *  user does not exist there yet (a fresh image: systemd-sysusers creates it at first boot). */
export async function kioskUserInRoot(root: string): Promise<Owner | undefined> {
  const passwd = await readFile(inRoot(root, KIOSK_PATHS.passwd), 'utf8').catch(() => '');
  const line = passwd.split('\n').find((l) => l.startsWith(`${KIOSK_USER}:`));
  const fields = line?.split(':');
  const uid = Number(fields?.[2]);
  const gid = Number(fields?.[3]);
  if (!fields || !Number.isSafeInteger(uid) || !Number.isSafeInteger(gid) || fields[2] === '' || fields[3] === '') return undefined;
  return { uid, gid };
}

/** The kiosk group's gid in the target's /etc/group, or undefined. */
export async function kioskGroupInRoot(root: string): Promise<number | undefined> {
  const group = await readFile(inRoot(root, KIOSK_PATHS.group), 'utf8').catch(() => '');
  const fields = group.split('\n').find((l) => l.startsWith(`${KIOSK_USER}:`))?.split(':');
  const gid = Number(fields?.[2]);
  return fields && fields[2] !== '' && Number.isSafeInteger(gid) ? gid : undefined;
}

/** Owners for the config folder and file (root:atm-kiosk) and the key (atm-kiosk:atm-kiosk), as far as the
 *  target knows them; root (0) where it does not. */
export async function targetOwners(root: string): Promise<{ config: Owner; key: Owner; kioskUserExists: boolean }> {
  const user = await kioskUserInRoot(root);
  const gid = (await kioskGroupInRoot(root)) ?? user?.gid ?? 0;
  return { config: { uid: 0, gid }, key: user ?? { uid: 0, gid: 0 }, kioskUserExists: user !== undefined };
}

/** What a root currently holds: the config as text and parsed (if it parses), and whether a key exists. */
export interface RootIdentity {
  readonly configText: string | undefined;
  /** The device id kiosk.json names, even if the rest of it does not validate. */
  readonly deviceId: string | undefined;
  readonly config: KioskConfig | undefined;
  readonly configError: string | undefined;
  readonly keyHex: string | undefined;
  readonly keyPresent: boolean;
  /** The key exists but this user may not read it (run as root). */
  readonly keyUnreadable: boolean;
}

export async function readRootIdentity(root: string): Promise<RootIdentity> {
  const configText = await readSmallFile(inRoot(root, KIOSK_PATHS.config), MAX_CONFIG_BYTES);
  let deviceId: string | undefined;
  let config: KioskConfig | undefined;
  let configError: string | undefined;
  if (configText !== undefined) {
    try {
      const document: unknown = JSON.parse(configText);
      const named = (document as { deviceId?: unknown } | null)?.deviceId;
      if (typeof named === 'string') deviceId = named;
      config = parseKioskConfig(document, KIOSK_PATHS.config);
    } catch (error) {
      configError = error instanceof SyntaxError ? `${KIOSK_PATHS.config}: not valid JSON (${error.message})` : (error as Error).message;
    }
  }
  const keyFile = inRoot(root, KIOSK_PATHS.kShared);
  const keyPresent = (await lstat(keyFile).catch(() => undefined)) !== undefined;
  let keyText: string | undefined;
  let keyUnreadable = false;
  try {
    keyText = keyPresent ? await readSmallFile(keyFile, KEY_FILE_HEX_CHARS + 2) : undefined;
  } catch (error) {
    // On a kiosk that has booted, the key belongs to atm-kiosk (0400): only root or that user may read it.
    if ((error as NodeJS.ErrnoException).code !== 'EACCES') throw error;
    keyUnreadable = true;
  }
  const keyHex = keyText === undefined ? undefined : parseKeyText(keyText);
  return { configText, deviceId, config, configError, keyHex, keyPresent, keyUnreadable };
}

async function readSmallFile(file: string, maxBytes: number): Promise<string | undefined> {
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
    const text = buffer.subarray(0, Math.min(bytesRead, maxBytes + 1)).toString('utf8');
    buffer.fill(0);
    return text;
  } finally {
    await handle.close();
  }
}

/** K_SHARED as the kiosk's loadKShared accepts it: 64 hex characters and at most one trailing newline.
 *  Returned lowercase; undefined when the text is anything else. */
export function parseKeyText(text: string): string | undefined {
  const hex = text.replace(/\r?\n$/, '');
  return hex.length === KEY_FILE_HEX_CHARS && /^[0-9a-fA-F]+$/.test(hex) ? hex.toLowerCase() : undefined;
}

/** Reads a key file an operator made with `bank-host device add|rotate --key-out FILE`. The error never
 *  quotes the file's content. */
export async function readOperatorKeyFile(file: string): Promise<string> {
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    throw new ProvisionError('BAD_KEY_FILE', `--key-file ${file}: cannot read it (${error.code ?? error.message})`);
  });
  if (!info.isFile()) throw new ProvisionError('BAD_KEY_FILE', `--key-file ${file} is not a regular file`);
  const text = await readSmallFile(file, KEY_FILE_HEX_CHARS + 2);
  const hex = text === undefined ? undefined : parseKeyText(text);
  if (hex === undefined) throw new ProvisionError('BAD_KEY_FILE', `--key-file ${file} must hold exactly ${KEY_FILE_HEX_CHARS} hex characters (a key written by \`bank-host device add ID --key-out FILE\`)`);
  return hex;
}

/** Creates the config folder with the owner and mode tmpfiles gives it. */
export async function ensureConfigDir(root: string, owner: Owner): Promise<void> {
  const dir = inRoot(root, KIOSK_PATHS.configDir);
  // Only the last folder is the kiosk's: /etc (when a bare folder is the root) is made like any /etc.
  await mkdir(path.dirname(dir), { recursive: true, mode: 0o755 });
  await mkdir(dir, { recursive: true, mode: CONFIG_DIR_MODE });
  await applyOwnerAndMode(dir, owner, CONFIG_DIR_MODE);
}

/** Writes the config if its content differs; fixes owner and mode either way. */
export async function writeConfig(root: string, config: KioskConfig, owner: Owner): Promise<Change> {
  const file = inRoot(root, KIOSK_PATHS.config);
  const text = JSON.stringify(config, null, 2) + '\n';
  const existing = await readSmallFile(file, MAX_CONFIG_BYTES);
  if (existing === text) return (await applyOwnerAndMode(file, owner, CONFIG_FILE_MODE)) ? 'updated' : 'unchanged';
  await replaceFileAtomically(file, text, { owner, mode: CONFIG_FILE_MODE });
  return existing === undefined ? 'created' : 'updated';
}

/** Writes K_SHARED (hex) if it differs from the installed key; fixes owner and mode either way. The file is
 *  never readable by anyone but its owner, not even for the moment between create and rename. */
export async function writeKey(root: string, keyHex: string, owner: Owner): Promise<Change> {
  const file = inRoot(root, KIOSK_PATHS.kShared);
  const existingText = await readSmallFile(file, KEY_FILE_HEX_CHARS + 2);
  const existing = existingText === undefined ? undefined : parseKeyText(existingText);
  if (existing === keyHex) return (await applyOwnerAndMode(file, owner, KEY_FILE_MODE)) ? 'updated' : 'unchanged';
  await replaceFileAtomically(file, keyHex + '\n', { owner, mode: KEY_FILE_MODE });
  return existingText === undefined ? 'created' : 'updated';
}

/** Overwrites the key's bytes, syncs, and removes the file. (Flash wear-levelling may keep old blocks; the
 *  real protection is that the host no longer accepts the key.) */
export async function destroyKey(root: string): Promise<boolean> {
  const file = inRoot(root, KIOSK_PATHS.kShared);
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

/** Sets owner (only when running as root: nobody else may give a file away) and mode; true if it changed
 *  anything. */
async function applyOwnerAndMode(file: string, owner: Owner, mode: number): Promise<boolean> {
  const info = await stat(file);
  let changed = false;
  if (runningAsRoot() && (info.uid !== owner.uid || info.gid !== owner.gid)) {
    await chown(file, owner.uid, owner.gid);
    changed = true;
  }
  if ((info.mode & 0o7777) !== mode) {
    await chmod(file, mode);
    changed = true;
  }
  return changed;
}

export { runningAsRoot };
