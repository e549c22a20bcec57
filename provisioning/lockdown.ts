// The kiosk's lock-down, written by `provision enroll` and verified by `provision check`: no VT switching
// (cage without -s, in the packaged unit), no consoles (the getty units masked), no Ctrl-Alt-Del (its target
// masked, its burst action off), no SysRq (kernel.sysrq = 0), and USB devices by allowlist (USBGuard, with
// the kiosk's own devices only). Every file is written whole (atomic-file.ts) and only when it differs, so a
// second run changes nothing. See docs/technician-guide.md and docs/operations-systemd.md.
import { lstat, mkdir, readdir, readFile, readlink, stat, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { KioskConfig } from '../kiosk/core/config.js';
import { replaceFileAtomically, syncFolder } from './atomic-file.js';
import { inRoot, ProvisionError, type Change } from './root-paths.js';

const ADMIN_UNIT_DIR = '/etc/systemd/system';

/** Units masked (linked to /dev/null) so that no console login can start on any VT or serial line, and
 *  Ctrl-Alt-Del starts nothing. Masking a template masks every instance (getty@tty2.service, …). */
export const MASKED_UNITS = ['getty@.service', 'autovt@.service', 'serial-getty@.service', 'console-getty.service', 'ctrl-alt-del.target'] as const;

export const LOCKDOWN_PATHS = {
  sysctl: '/etc/sysctl.d/99-zz-atm-kiosk-lockdown.conf',
  systemConf: '/etc/systemd/system.conf.d/atm-kiosk-lockdown.conf',
  usbguardRules: '/etc/usbguard/rules.conf',
  usbguardDaemonConf: '/etc/usbguard/atm-kiosk-daemon.conf',
  usbguardDropIn: `${ADMIN_UNIT_DIR}/usbguard.service.d/atm-kiosk.conf`,
  usbguardEnableLink: `${ADMIN_UNIT_DIR}/basic.target.wants/usbguard.service`,
  usbguardUnit: '/lib/systemd/system/usbguard.service',
  usbguardDaemon: '/usr/sbin/usbguard-daemon',
} as const;

export const SYSCTL_TEXT = `# Written by \`provision enroll\` (ATM kiosk lock-down): no magic SysRq key, from any keyboard.
# The name sorts after every other sysctl.d file (99-sysctl.conf, the Pi's 98-rpi.conf), so this is the
# value systemd-sysctl applies last.
kernel.sysrq = 0
`;

export const SYSTEM_CONF_TEXT = `# Written by \`provision enroll\` (ATM kiosk lock-down). ctrl-alt-del.target is masked, which covers one
# press; seven presses within 2 s would still force a reboot unless the burst action is off too.
[Manager]
CtrlAltDelBurstAction=none
`;

export const USBGUARD_DAEMON_CONF_TEXT = `# USBGuard for the ATM kiosk, written by \`provision enroll\`. usbguard.service runs the daemon with this
# file (the drop-in usbguard.service.d/atm-kiosk.conf), so the package's usbguard-daemon.conf stays as
# shipped. A device no rule in rules.conf allows is blocked: the kernel never binds a driver to it.
RuleFile=${LOCKDOWN_PATHS.usbguardRules}
ImplicitPolicyTarget=block
PresentDevicePolicy=apply-policy
PresentControllerPolicy=keep
InsertedDevicePolicy=apply-policy
AuthorizedDefault=none
RestoreControllerDeviceState=false
DeviceManagerBackend=uevent
IPCAllowedUsers=root
IPCAllowedGroups=root
DeviceRulesWithPort=false
AuditBackend=FileAudit
AuditFilePath=/var/log/usbguard/usbguard-audit.log
HidePII=false
`;

export const USBGUARD_DROP_IN_TEXT = `# Written by \`provision enroll\`: USBGuard reads the kiosk's own daemon configuration.
[Service]
ExecStart=
ExecStart=${LOCKDOWN_PATHS.usbguardDaemon} -f -s -c ${LOCKDOWN_PATHS.usbguardDaemonConf}
`;

export interface UsbId {
  readonly vendorId: number;
  readonly productId: number;
}

/** The kiosk's own USB devices that kiosk.json does not name by USB id. */
export interface UsbExtras {
  /** USB serial adapters (dispenser, printer): vendor-specific or CDC interfaces only. */
  readonly serialAdapters: readonly UsbId[];
  /** USB touchscreens: HID interfaces only. */
  readonly touchscreens: readonly UsbId[];
}

/** The packaged udev rules' serial adapters (FTDI FT232R on the dispenser, Prolific PL2303 on the printer,
 *  Silicon Labs CP2102 on the encrypting PIN pad, WCH CH340 on the note acceptor). */
export const DEFAULT_SERIAL_ADAPTERS: readonly UsbId[] = [
  { vendorId: 0x0403, productId: 0x6001 },
  { vendorId: 0x067b, productId: 0x2303 },
  { vendorId: 0x10c4, productId: 0xea60 },
  { vendorId: 0x1a86, productId: 0x7523 },
];

const hex4 = (n: number) => n.toString(16).padStart(4, '0');
export const formatUsbId = (id: UsbId) => `${hex4(id.vendorId)}:${hex4(id.productId)}`;

export function parseUsbId(text: string): UsbId | undefined {
  const match = /^([0-9a-fA-F]{4}):([0-9a-fA-F]{4})$/.exec(text);
  return match ? { vendorId: parseInt(match[1]!, 16), productId: parseInt(match[2]!, 16) } : undefined;
}

/** Interface classes each kind of device may have (usbguard's match-all: every interface the device has
 *  must match one). A device that clones an allowed id but adds a keyboard or storage interface is blocked. */
const INTERFACES = {
  hid: '{ 03:*:* }',
  serial: '{ ff:*:* 02:*:* 0a:*:* }',
  hub: '{ 09:00:* }',
} as const;
const LABEL = { hub: 'atm-kiosk hub', cardReader: 'atm-kiosk card reader', pinPad: 'atm-kiosk PIN pad', serial: 'atm-kiosk serial adapter', touchscreen: 'atm-kiosk touchscreen' } as const;

/** The HID devices kiosk.json names by USB id. A device named only by its hidraw path cannot be allowed
 *  by id: refused, because USBGuard would block it and the kiosk would be out of service. */
function hidDevicesOf(config: KioskConfig): { label: string; id: UsbId }[] {
  const devices: { label: string; id: UsbId }[] = [];
  for (const [field, label] of [['cardReader', LABEL.cardReader], ['pinPad', LABEL.pinPad]] as const) {
    const device = config.devices[field];
    if (device.kind === 'hid') devices.push({ label, id: { vendorId: device.vendorId, productId: device.productId } });
    if (device.kind === 'hid-path') {
      throw new ProvisionError('BAD_SETTINGS', `devices.${field} is named by its hidraw path: the USBGuard allowlist needs its USB ids; give it as { "kind": "hid", "vendorId": …, "productId": … }`);
    }
  }
  return devices;
}

/** /etc/usbguard/rules.conf for this kiosk: its hubs, its HID devices, its serial adapters and
 *  touchscreens, each held to its interface classes; everything else is blocked. */
export function usbguardRulesText(config: KioskConfig, extras: UsbExtras): string {
  const lines = [
    '# The ATM kiosk\'s USB allowlist, written by `provision enroll` (change it with --serial-adapter and',
    '# --touchscreen, or the devices in kiosk.json, then enroll again). USBGuard blocks every device that no',
    '# rule allows (ImplicitPolicyTarget=block): a USB keyboard, a memory stick, a network adapter. Each rule',
    '# holds its device to its interface classes (match-all), so a device that copies an allowed id but also',
    '# offers a keyboard or storage interface is blocked as well.',
    `allow with-interface match-all ${INTERFACES.hub} label "${LABEL.hub}"`,
    ...hidDevicesOf(config).map(({ label, id }) => `allow id ${formatUsbId(id)} with-interface match-all ${INTERFACES.hid} label "${label}"`),
    ...extras.serialAdapters.map((id) => `allow id ${formatUsbId(id)} with-interface match-all ${INTERFACES.serial} label "${LABEL.serial}"`),
    ...extras.touchscreens.map((id) => `allow id ${formatUsbId(id)} with-interface match-all ${INTERFACES.hid} label "${LABEL.touchscreen}"`),
  ];
  return lines.join('\n') + '\n';
}

/** The serial adapters and touchscreens an existing rules file allows (the lines this module wrote). */
export function usbExtrasOf(rulesText: string): UsbExtras {
  const of = (label: string) =>
    rulesText
      .split('\n')
      .map((line) => new RegExp(`^allow id ([0-9a-f]{4}:[0-9a-f]{4}) .*label "${label}"$`).exec(line.trim())?.[1])
      .filter((id): id is string => id !== undefined)
      .map((id) => parseUsbId(id)!);
  return { serialAdapters: of(LABEL.serial), touchscreens: of(LABEL.touchscreen) };
}

/** The extras for this run: what the technician gave, else what the root's rules already allow, else the
 *  packaged serial adapters (when any device is on a serial port: the dispenser, the printer, an encrypting
 *  PIN pad, a note acceptor). */
export async function usbExtrasFor(root: string, config: KioskConfig, given: Partial<UsbExtras>): Promise<UsbExtras> {
  const existing = await readFile(inRoot(root, LOCKDOWN_PATHS.usbguardRules), 'utf8').catch(() => undefined);
  const kept = existing === undefined ? undefined : usbExtrasOf(existing);
  const { dispenser, printer, pinPad, noteAcceptor } = config.devices;
  const serialDevices = dispenser.kind === 'serial' || printer.kind === 'serial' || pinPad.kind === 'epp' || noteAcceptor?.kind === 'serial';
  return {
    serialAdapters: given.serialAdapters ?? kept?.serialAdapters ?? (serialDevices ? DEFAULT_SERIAL_ADAPTERS : []),
    touchscreens: given.touchscreens ?? kept?.touchscreens ?? [],
  };
}

export interface LockdownChange {
  readonly path: string;
  readonly change: Change;
}

async function writeIfDifferent(root: string, kioskPath: string, text: string, mode: number): Promise<LockdownChange> {
  const target = inRoot(root, kioskPath);
  const existing = await readFile(target, 'utf8').catch(() => undefined);
  const info = existing === undefined ? undefined : await stat(target);
  if (existing === text && info && (info.mode & 0o7777) === mode) return { path: kioskPath, change: 'unchanged' };
  await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
  await replaceFileAtomically(target, text, { owner: { uid: 0, gid: 0 }, mode });
  return { path: kioskPath, change: existing === undefined ? 'created' : 'updated' };
}

async function linkTo(root: string, kioskPath: string, to: string): Promise<LockdownChange> {
  const at = inRoot(root, kioskPath);
  const current = await readlink(at).catch(() => undefined);
  if (current === to) return { path: kioskPath, change: 'unchanged' };
  const existed = (await lstat(at).catch(() => undefined)) !== undefined;
  await mkdir(path.dirname(at), { recursive: true, mode: 0o755 });
  if (existed) await unlink(at);
  await symlink(to, at);
  await syncFolder(path.dirname(at));
  return { path: kioskPath, change: existed ? 'updated' : 'created' };
}

/** Writes the whole lock-down into the root. */
export async function writeLockdown(root: string, config: KioskConfig, extras: UsbExtras): Promise<LockdownChange[]> {
  const rules = usbguardRulesText(config, extras);
  const changes: LockdownChange[] = [];
  for (const unit of MASKED_UNITS) changes.push(await linkTo(root, `${ADMIN_UNIT_DIR}/${unit}`, '/dev/null'));
  changes.push(await writeIfDifferent(root, LOCKDOWN_PATHS.systemConf, SYSTEM_CONF_TEXT, 0o644));
  changes.push(await writeIfDifferent(root, LOCKDOWN_PATHS.sysctl, SYSCTL_TEXT, 0o644));
  // USBGuard refuses rule and configuration files that others may read or change.
  changes.push(await writeIfDifferent(root, LOCKDOWN_PATHS.usbguardRules, rules, 0o600));
  changes.push(await writeIfDifferent(root, LOCKDOWN_PATHS.usbguardDaemonConf, USBGUARD_DAEMON_CONF_TEXT, 0o600));
  changes.push(await writeIfDifferent(root, LOCKDOWN_PATHS.usbguardDropIn, USBGUARD_DROP_IN_TEXT, 0o644));
  changes.push(await linkTo(root, LOCKDOWN_PATHS.usbguardEnableLink, LOCKDOWN_PATHS.usbguardUnit));
  return changes;
}

// ---- verification ----

export interface LockdownFinding {
  readonly ok: boolean;
  readonly subject: string;
  readonly message: string;
}

const AGAIN = 'run `provision enroll` again';

/** The value systemd-sysctl ends up giving `key`: files from every sysctl.d folder, one per name (/etc
 *  before /run before /usr/lib), read in name order, the last assignment winning. */
export async function effectiveSysctl(root: string, key: string): Promise<{ value: string; file: string } | undefined> {
  const byName = new Map<string, string>();
  for (const dir of ['/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d', '/lib/sysctl.d']) {
    for (const name of await readdir(inRoot(root, dir)).catch(() => [] as string[])) {
      if (name.endsWith('.conf') && !byName.has(name)) byName.set(name, `${dir}/${name}`);
    }
  }
  let found: { value: string; file: string } | undefined;
  for (const name of [...byName.keys()].sort()) {
    const file = byName.get(name)!;
    const text = await readFile(inRoot(root, file), 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      const assignment = /^\s*-?\s*([^#;=\s]+)\s*=\s*(.*?)\s*$/.exec(line);
      if (assignment && assignment[1]!.replaceAll('/', '.') === key) found = { value: assignment[2]!, file };
    }
  }
  return found;
}

/** ExecStart= of a unit as systemd reads it: the unit file, then its drop-ins in /etc (an empty
 *  ExecStart= resets the list). */
async function effectiveExecStart(root: string, unitPath: string, unit: string): Promise<string[]> {
  let execStart: string[] = [];
  const apply = (text: string) => {
    for (const line of text.split('\n')) {
      const setting = /^\s*ExecStart\s*=\s*(.*?)\s*$/.exec(line);
      if (setting) execStart = setting[1] === '' ? [] : [...execStart, setting[1]!];
    }
  };
  apply(await readFile(inRoot(root, unitPath), 'utf8'));
  const dropInDir = `${ADMIN_UNIT_DIR}/${unit}.d`;
  for (const name of (await readdir(inRoot(root, dropInDir)).catch(() => [] as string[])).filter((n) => n.endsWith('.conf')).sort()) {
    apply(await readFile(inRoot(root, `${dropInDir}/${name}`), 'utf8'));
  }
  return execStart;
}

/** True when a cage command line lets the keyboard switch VTs (-s, alone or among other short options). */
export function cageAllowsVtSwitch(execStart: string): boolean {
  const words = execStart.split(/\s+/);
  if (!/(^|\/)cage$/.test(words[0] ?? '')) return false;
  for (const word of words.slice(1)) {
    if (word === '--') break;
    if (/^-[a-zA-Z]+$/.test(word) && word.includes('s')) return true;
  }
  return false;
}

/** Checks every part of the lock-down in the root; `kioskUnitPath` is the kiosk unit systemd would load. */
export async function checkLockdown(root: string, config: KioskConfig | undefined, kioskUnitPath: string | undefined): Promise<LockdownFinding[]> {
  const findings: LockdownFinding[] = [];
  const ok = (subject: string, message: string) => findings.push({ ok: true, subject, message });
  const problem = (subject: string, message: string) => findings.push({ ok: false, subject, message });

  if (kioskUnitPath) {
    const execStart = await effectiveExecStart(root, kioskUnitPath, 'atm-kiosk.service');
    const command = execStart.at(-1) ?? '';
    if (cageAllowsVtSwitch(command)) problem(kioskUnitPath, `runs \`${command}\`: cage -s lets a keyboard switch to another VT; install the current atm-kiosk package (its unit runs cage without -s)`);
    else ok(kioskUnitPath, 'cage without VT switching');
  }
  for (const unit of MASKED_UNITS) {
    const link = `${ADMIN_UNIT_DIR}/${unit}`;
    if ((await readlink(inRoot(root, link)).catch(() => undefined)) === '/dev/null') ok(link, 'masked');
    else problem(link, `not masked: ${unit.startsWith('ctrl-alt-del') ? 'Ctrl-Alt-Del would reboot the kiosk' : 'a console login could start'}; ${AGAIN}`);
  }
  const systemConf = await readFile(inRoot(root, LOCKDOWN_PATHS.systemConf), 'utf8').catch(() => undefined);
  if (systemConf !== undefined && /^CtrlAltDelBurstAction=none$/m.test(systemConf)) ok(LOCKDOWN_PATHS.systemConf, 'Ctrl-Alt-Del pressed repeatedly does nothing');
  else problem(LOCKDOWN_PATHS.systemConf, `missing or without CtrlAltDelBurstAction=none; ${AGAIN}`);
  const sysrq = await effectiveSysctl(root, 'kernel.sysrq');
  if (sysrq?.file === LOCKDOWN_PATHS.sysctl && sysrq.value === '0') ok(LOCKDOWN_PATHS.sysctl, 'kernel.sysrq = 0, applied last');
  else if (sysrq && sysrq.value === '0') problem(LOCKDOWN_PATHS.sysctl, `kernel.sysrq is 0 only through ${sysrq.file}; ${AGAIN}`);
  else problem(LOCKDOWN_PATHS.sysctl, sysrq ? `${sysrq.file} sets kernel.sysrq = ${sysrq.value} after it; the kiosk's file must come last (${AGAIN})` : `missing: the magic SysRq key stays on; ${AGAIN}`);

  await checkUsbguard(root, config, ok, problem);
  return findings;
}

async function checkUsbguard(root: string, config: KioskConfig | undefined, ok: (s: string, m: string) => void, problem: (s: string, m: string) => void): Promise<void> {
  const rulesFile = inRoot(root, LOCKDOWN_PATHS.usbguardRules);
  const rules = await readFile(rulesFile, 'utf8').catch(() => undefined);
  if (rules === undefined) {
    problem(LOCKDOWN_PATHS.usbguardRules, `missing: no USB allowlist; ${AGAIN}`);
  } else if (((await stat(rulesFile)).mode & 0o077) !== 0) {
    problem(LOCKDOWN_PATHS.usbguardRules, 'others may read or change it; USBGuard refuses such a file: it must be 0600');
  } else if (config) {
    let expected: string | undefined;
    try {
      expected = usbguardRulesText(config, usbExtrasOf(rules));
    } catch (error) {
      problem(LOCKDOWN_PATHS.usbguardRules, (error as Error).message);
    }
    const allowed = rules.split('\n').filter((line) => line.startsWith('allow')).length;
    if (expected === rules) ok(LOCKDOWN_PATHS.usbguardRules, `${allowed} rules: the kiosk's hubs and devices; every other USB device is blocked`);
    else if (expected !== undefined) problem(LOCKDOWN_PATHS.usbguardRules, `is not the allowlist for this kiosk's devices (changed by hand, or kiosk.json changed since); ${AGAIN}`);
  }
  const daemonConf = await readFile(inRoot(root, LOCKDOWN_PATHS.usbguardDaemonConf), 'utf8').catch(() => undefined);
  if (daemonConf === USBGUARD_DAEMON_CONF_TEXT) ok(LOCKDOWN_PATHS.usbguardDaemonConf, 'ImplicitPolicyTarget=block');
  else problem(LOCKDOWN_PATHS.usbguardDaemonConf, `${daemonConf === undefined ? 'missing' : 'changed'}; ${AGAIN}`);
  const dropIn = await readFile(inRoot(root, LOCKDOWN_PATHS.usbguardDropIn), 'utf8').catch(() => undefined);
  if (dropIn === USBGUARD_DROP_IN_TEXT) ok(LOCKDOWN_PATHS.usbguardDropIn, 'usbguard.service uses the kiosk\'s configuration');
  else problem(LOCKDOWN_PATHS.usbguardDropIn, `${dropIn === undefined ? 'missing' : 'changed'}; ${AGAIN}`);
  const link = await readlink(inRoot(root, LOCKDOWN_PATHS.usbguardEnableLink)).catch(() => undefined);
  if (link !== undefined && path.basename(link) === 'usbguard.service') ok(LOCKDOWN_PATHS.usbguardEnableLink, 'enabled');
  else problem(LOCKDOWN_PATHS.usbguardEnableLink, `usbguard.service is not enabled; ${AGAIN}`);
  const daemonInstalled = (await lstat(inRoot(root, LOCKDOWN_PATHS.usbguardDaemon)).catch(() => undefined)) !== undefined;
  const kioskInstalled = (await lstat(inRoot(root, '/usr/lib/atm-kiosk/atm-kiosk')).catch(() => undefined)) !== undefined;
  if (daemonInstalled) ok(LOCKDOWN_PATHS.usbguardDaemon, 'installed');
  else if (!kioskInstalled) ok(LOCKDOWN_PATHS.usbguardDaemon, 'not installed yet: the atm-kiosk package depends on usbguard and brings it');
  else problem(LOCKDOWN_PATHS.usbguardDaemon, 'missing although the kiosk app is installed: USB devices are not filtered (`apt install usbguard`)');
}
