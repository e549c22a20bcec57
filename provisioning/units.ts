// The kiosk's systemd units, sysusers/tmpfiles entries and udev rules in the target root, and enabling the
// unit the way `systemctl --root=ROOT enable` does (symlinks in ROOT/etc/systemd/system/<target>.wants/).
//
// Where the files go: to the same /usr/lib paths the .deb installs them to, and only when absent. dpkg
// replaces a file that no package owns without asking, so a later `apt install atm-kiosk` (and every
// upgrade after it) takes over these files; copies in /etc would instead shadow every future packaged
// version. The one file a site owns is /etc/udev/rules.d/70-atm-kiosk.rules (its hardware's USB ids,
// replacing the packaged rules entirely): written only when the technician passes --udev-rules FILE.
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, readlink, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { replaceFileAtomically, syncFolder } from './atomic-file.js';
import { inRoot, ProvisionError, type Change } from './target-root.js';

export const KIOSK_UNIT = 'atm-kiosk.service';
export const KIOSK_DEFAULT_TARGET = 'graphical.target';
export const SYSTEM_UNIT_DIR = '/usr/lib/systemd/system';
export const ADMIN_UNIT_DIR = '/etc/systemd/system';
export const SITE_UDEV_RULES = '/etc/udev/rules.d/70-atm-kiosk.rules';

/** Each packaged file: its name in the repository's systemd/ folder and its path on the kiosk. */
export const PACKAGED_FILES = [
  { source: 'atm-kiosk.service', target: `${SYSTEM_UNIT_DIR}/atm-kiosk.service` },
  { source: 'atm-kiosk-seal-key.service', target: `${SYSTEM_UNIT_DIR}/atm-kiosk-seal-key.service` },
  { source: 'atm-kiosk.sysusers.conf', target: '/usr/lib/sysusers.d/atm-kiosk.conf' },
  { source: 'atm-kiosk.tmpfiles.conf', target: '/usr/lib/tmpfiles.d/atm-kiosk.conf' },
  { source: '70-atm-kiosk.rules', target: '/usr/lib/udev/rules.d/70-atm-kiosk.rules' },
] as const;

/** The repository's systemd/ folder, from the sources (provisioning/) or the build (dist/provisioning/). */
export function packagedUnitsDir(): string {
  for (const up of ['../systemd/', '../../systemd/']) {
    const dir = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(path.join(dir, KIOSK_UNIT))) return dir;
  }
  throw new ProvisionError('UNITS_MISSING', `cannot find the kiosk's unit files (systemd/${KIOSK_UNIT}) next to this program`);
}

export interface FileChange {
  readonly path: string;
  readonly change: Change | 'kept';
}

/** Copies each packaged file into the root where it is absent ('kept' where one is there already). */
export async function installPackagedFiles(root: string, sourceDir = packagedUnitsDir()): Promise<FileChange[]> {
  const changes: FileChange[] = [];
  for (const file of PACKAGED_FILES) {
    const target = inRoot(root, file.target);
    if (await lstat(target).catch(() => undefined)) {
      changes.push({ path: file.target, change: 'kept' });
      continue;
    }
    await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
    await replaceFileAtomically(target, await readFile(path.join(sourceDir, file.source)), { mode: 0o644 });
    changes.push({ path: file.target, change: 'created' });
  }
  return changes;
}

/** Writes the site's own udev rules to /etc/udev/rules.d, replacing the packaged rules (udev's rule). */
export async function installSiteUdevRules(root: string, rulesFile: string): Promise<FileChange> {
  const text = await readFile(rulesFile, 'utf8');
  const target = inRoot(root, SITE_UDEV_RULES);
  const existing = await readFile(target, 'utf8').catch(() => undefined);
  if (existing === text) return { path: SITE_UDEV_RULES, change: 'unchanged' };
  await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
  await replaceFileAtomically(target, text, { mode: 0o644 });
  return { path: SITE_UDEV_RULES, change: existing === undefined ? 'created' : 'updated' };
}

/** The unit file systemd would load: /etc overrides /usr/lib, as on the kiosk. Its path on the kiosk. */
export function activeUnitPath(root: string, unit: string): string | undefined {
  for (const dir of [ADMIN_UNIT_DIR, '/run/systemd/system', SYSTEM_UNIT_DIR, '/lib/systemd/system']) {
    if (existsSync(inRoot(root, `${dir}/${unit}`))) return `${dir}/${unit}`;
  }
  return undefined;
}

/** `[Install]` WantedBy= and RequiredBy= of a unit file, as `<target>.wants` / `<target>.requires`. */
export function installDirectories(unitText: string): string[] {
  const dirs: string[] = [];
  let section = '';
  for (const raw of unitText.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    if (section !== 'Install') continue;
    const setting = /^(WantedBy|RequiredBy)\s*=\s*(.*)$/.exec(line);
    if (!setting) continue;
    const suffix = setting[1] === 'WantedBy' ? 'wants' : 'requires';
    for (const target of setting[2]!.split(/\s+/).filter(Boolean)) dirs.push(`${target}.${suffix}`);
  }
  return dirs;
}

export interface EnableLink {
  /** The link, on the kiosk: /etc/systemd/system/graphical.target.wants/atm-kiosk.service */
  readonly link: string;
  /** Where it points, on the kiosk: /usr/lib/systemd/system/atm-kiosk.service */
  readonly to: string;
}

/** The links `systemctl enable` would make for the unit, read from its [Install] section. */
export async function enableLinks(root: string, unit = KIOSK_UNIT): Promise<EnableLink[]> {
  const unitPath = activeUnitPath(root, unit);
  if (!unitPath) throw new ProvisionError('UNITS_MISSING', `${unit} is not installed in the root`);
  const dirs = installDirectories(await readFile(inRoot(root, unitPath), 'utf8'));
  if (dirs.length === 0) throw new ProvisionError('UNITS_MISSING', `${unitPath} has no [Install] WantedBy= or RequiredBy=; it cannot be enabled`);
  return dirs.map((dir) => ({ link: `${ADMIN_UNIT_DIR}/${dir}/${unit}`, to: unitPath }));
}

/** True when the link exists and names the unit (systemd resolves /lib and /usr/lib alike on a merged-/usr
 *  system, so only the file name is compared). */
export async function linkIsRight(root: string, link: EnableLink): Promise<boolean> {
  const current = await readlink(inRoot(root, link.link)).catch(() => undefined);
  return current !== undefined && path.basename(current) === path.basename(link.to);
}

export async function ensureLink(root: string, link: EnableLink): Promise<Change> {
  const at = inRoot(root, link.link);
  if (await linkIsRight(root, link)) return 'unchanged';
  const existed = (await lstat(at).catch(() => undefined)) !== undefined;
  await mkdir(path.dirname(at), { recursive: true, mode: 0o755 });
  if (existed) await unlink(at);
  await symlink(link.to, at);
  await syncFolder(path.dirname(at));
  return existed ? 'updated' : 'created';
}

/** Enables the kiosk unit and makes graphical.target the default (`systemctl set-default`): the kiosk is
 *  wanted by graphical.target, which Raspberry Pi OS Lite does not boot into by default. */
export async function enableKiosk(root: string): Promise<FileChange[]> {
  const changes: FileChange[] = [];
  for (const link of await enableLinks(root)) changes.push({ path: link.link, change: await ensureLink(root, link) });
  const defaultTarget = defaultTargetLink();
  changes.push({ path: defaultTarget.link, change: await ensureLink(root, defaultTarget) });
  return changes;
}

export function defaultTargetLink(): EnableLink {
  return { link: `${ADMIN_UNIT_DIR}/default.target`, to: `${SYSTEM_UNIT_DIR}/${KIOSK_DEFAULT_TARGET}` };
}

/** Drop-in that lets the kiosk's processes reach only the bank host (and loopback); see
 *  docs/operations-systemd.md. Only for a host given as an IP address: with a name the kiosk would also
 *  need its DNS servers, which provisioning cannot know. */
export const HOST_ADDRESS_DROP_IN = `${ADMIN_UNIT_DIR}/${KIOSK_UNIT}.d/host-address.conf`;

export function hostAddressDropIn(hostIps: readonly string[]): string {
  return [
    '# Written by `provision enroll --restrict-network`: the kiosk may reach only its bank hosts.',
    '[Service]',
    'IPAddressDeny=any',
    `IPAddressAllow=${[...new Set(hostIps)].join(' ')} localhost`,
    '',
  ].join('\n');
}

export async function writeHostAddressDropIn(root: string, hostIps: readonly string[]): Promise<FileChange> {
  const target = inRoot(root, HOST_ADDRESS_DROP_IN);
  const text = hostAddressDropIn(hostIps);
  const existing = await readFile(target, 'utf8').catch(() => undefined);
  if (existing === text) return { path: HOST_ADDRESS_DROP_IN, change: 'unchanged' };
  await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
  await replaceFileAtomically(target, text, { mode: 0o644 });
  return { path: HOST_ADDRESS_DROP_IN, change: existing === undefined ? 'created' : 'updated' };
}
