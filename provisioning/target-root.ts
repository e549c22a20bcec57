// The kiosk's root filesystem as provisioning sees it: a mounted SD card or any folder. Paths are the ones
// the kiosk's units read (systemd/atm-kiosk.service, atm-kiosk.tmpfiles.conf), joined under the root.
// Files are written whole or not at all (atomic-file.ts).
import { chmod, chown, mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseKioskConfig, type KioskConfig } from '../kiosk/core/config.js';
import { type FileOwner, replaceFileAtomically, runningAsRoot } from './atomic-file.js';
import { clearKeyOf, KEY_PATHS, keyInstalled, readRootKey, readSmallFile, type RootKey } from './kiosk-key.js';
import { inRoot, ProvisionError, type Change } from './root-paths.js';

/** Where the kiosk looks, as absolute paths on the kiosk itself. */
export const KIOSK_PATHS = {
  configDir: '/etc/atm-kiosk',
  config: '/etc/atm-kiosk/kiosk.json',
  /** What kiosk.json names as its key: the credential atm-kiosk.service loads (kiosk-key.ts). */
  kShared: KEY_PATHS.credential,
  /** Under the unit's StateDirectory=atm-kiosk (0700, owned by atm-kiosk): the dispense journal. */
  journalDir: '/var/lib/atm-kiosk/journal',
  passwd: '/etc/passwd',
  group: '/etc/group',
} as const;

export const KIOSK_USER = 'atm-kiosk';
/** Modes the kiosk's tmpfiles.d entry sets at every boot; provisioning writes the same from the start. */
export const CONFIG_DIR_MODE = 0o750;
export const CONFIG_FILE_MODE = 0o640;
/** A kiosk.json bigger than this is not one we wrote; reading stops there. */
const MAX_CONFIG_BYTES = 256 * 1024;

export { inRoot, ProvisionError, type Change } from './root-paths.js';

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

/** Owners for the config folder and file (root:atm-kiosk), as far as the target knows them; root (0) where
 *  it does not. (The key is root's alone: kiosk-key.ts.) */
export async function targetOwners(root: string): Promise<{ config: Owner; kioskUserExists: boolean }> {
  const user = await kioskUserInRoot(root);
  const gid = (await kioskGroupInRoot(root)) ?? user?.gid ?? 0;
  return { config: { uid: 0, gid }, kioskUserExists: user !== undefined };
}

/** What a root currently holds: the config as text and parsed (if it parses), and its key. */
export interface RootIdentity {
  readonly configText: string | undefined;
  /** The device id kiosk.json names, even if the rest of it does not validate. */
  readonly deviceId: string | undefined;
  readonly config: KioskConfig | undefined;
  readonly configError: string | undefined;
  readonly key: RootKey;
  /** The key in clear (staged for sealing, or from before sealing), when this user may read it. */
  readonly keyHex: string | undefined;
  /** A key in any form: clear, sealed or from before sealing. */
  readonly keyPresent: boolean;
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
  const key = await readRootKey(root);
  return { configText, deviceId, config, configError, key, keyHex: clearKeyOf(key), keyPresent: keyInstalled(key) };
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
