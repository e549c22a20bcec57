#!/usr/bin/env node
// `provision`: the technician's tool. It enrolls a kiosk onto its root filesystem (a mounted SD card or any
// folder): identity and K_SHARED, configuration, units; rotates and revokes keys; checks a prepared root.
// Same conventions as the bank-host CLI: parseArgs, UsageError → exit 2, other errors → exit 1, --help on
// every command. K_SHARED is never printed, on success or on error.
import { readdir, readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { sendAdminCommand } from '../../bank-host/admin/socket.js';
import { parseKioskConfig, type KioskConfig, type KioskConfigInput } from '../../kiosk/core/config.js';
import { parseDeviceId, parseHostAddresses, parsePositiveMs, requirePath, UsageError, type HostAddress } from '../arguments.js';
import { checkRoot, formatFindings } from '../check.js';
import { checkKeyForRoot, destroyKey, ensureCredstoreDir, installKey, kcvOfHex, readKeyTransportFile, type KeyToInstall } from '../kiosk-key.js';
import { parseUsbId, usbExtrasFor, usbguardRulesText, writeLockdown, type UsbExtras, type UsbId } from '../lockdown.js';
import {
  assertRootFolder,
  ensureConfigDir,
  inRoot,
  KIOSK_PATHS,
  ProvisionError,
  readRootIdentity,
  runningAsRoot,
  targetOwners,
  writeConfig,
  type RootIdentity,
} from '../target-root.js';
import { enableKiosk, installPackagedFiles, installSiteUdevRules, packagedUnitsDir, writeHostAddressDropIn, type FileChange } from '../units.js';
import { CHECK_HELP, COMMAND_HELP, ENROLL_HELP, MAIN_HELP, packageVersion, REVOKE_HELP, ROTATE_HELP } from './help.js';

export { UsageError } from '../arguments.js';

export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** The most a check waits at each step of the connection (TCP, handshake, ping). */
const CHECK_STEP_TIMEOUT_MS_MAX = 60_000;
const SETTINGS_FILE_BYTES_MAX = 256 * 1024;
const UDEV_RULES_BYTES_MAX = 64 * 1024;

/** The hardware part of kiosk.json when the technician gives no --settings and the root has no config yet:
 *  the devices the packaged udev rules (systemd/70-atm-kiosk.rules) recognise, one cassette of $20 notes
 *  (the dispenser reports the real counts at start). */
export const DEFAULT_SITE_SETTINGS: SiteSettings = {
  devices: {
    cardReader: { kind: 'hid', vendorId: 0x0801, productId: 0x0001 },
    // An encrypting PIN pad on a USB serial adapter (the site's udev rules name it /dev/atm/pin-pad).
    pinPad: { kind: 'epp', path: '/dev/atm/pin-pad', baudRate: 9600 },
    dispenser: { kind: 'serial', path: '/dev/atm/dispenser', baudRate: 9600 },
    printer: { kind: 'serial', path: '/dev/atm/printer', baudRate: 9600 },
  },
  cassettes: [{ denominationCents: 2000, count: 0 }],
};

/** Fields of kiosk.json that provisioning owns; everything else is the site's (--settings). */
const IDENTITY_FIELDS = ['deviceId', 'host', 'port', 'kSharedFile'] as const;
type SiteSettings = Omit<KioskConfigInput, (typeof IDENTITY_FIELDS)[number] | 'journalDir'> & { journalDir?: string };

function parse(argv: string[], options: Options, help: string): { values: Record<string, unknown>; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true, tokens: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${help}`);
  }
  if (!parsed.values.help && parsed.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[0])}\n\n${help}`);
  // parseArgs keeps the last of a repeated option; with an identity or a key source at stake, two values
  // are a mistake to point out, not a choice to make silently.
  const seen = new Set<string>();
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== 'option' || (options[token.name] as { multiple?: boolean } | undefined)?.multiple) continue;
    if (seen.has(token.name)) throw new UsageError(`--${token.name} is given more than once\n\n${help}`);
    seen.add(token.name);
  }
  return parsed;
}

/** Exactly one of --key-file and --admin-socket: where the key comes from must never be a guess. */
function keySource(values: Record<string, unknown>, help: string): { keyFile: string } | { adminSocket: string } {
  const keyFile = values['key-file'];
  const adminSocket = values['admin-socket'];
  if (keyFile !== undefined && adminSocket !== undefined) {
    throw new UsageError(`give either --key-file or --admin-socket, not both: the key comes from a file an operator made, or from the bank host\n\n${help}`);
  }
  if (keyFile === undefined && adminSocket === undefined) {
    throw new UsageError(`give --key-file FILE (made by \`bank-host device add\`) or --admin-socket PATH (register the device on the host now)\n\n${help}`);
  }
  return keyFile !== undefined
    ? { keyFile: path.resolve(requirePath(keyFile, '--key-file', 'FILE')) }
    : { adminSocket: path.resolve(requirePath(adminSocket, '--admin-socket', 'PATH')) };
}

function reportChanges(io: Io, root: string, changes: readonly FileChange[]): void {
  for (const c of changes) io.out(`${c.change.padEnd(9)} ${inRoot(root, c.path)}`);
}

async function readSettings(file: string): Promise<SiteSettings> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ProvisionError('BAD_SETTINGS', `--settings ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (text.length > SETTINGS_FILE_BYTES_MAX) throw new ProvisionError('BAD_SETTINGS', `--settings ${file} is larger than ${SETTINGS_FILE_BYTES_MAX} bytes`);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ProvisionError('BAD_SETTINGS', `--settings ${file}: not valid JSON (${(error as Error).message})`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new ProvisionError('BAD_SETTINGS', `--settings ${file} must be a JSON object`);
  const owned = IDENTITY_FIELDS.filter((field) => field in document);
  if (owned.length > 0) throw new ProvisionError('BAD_SETTINGS', `--settings ${file} sets ${owned.join(', ')}: provisioning writes those from its own arguments`);
  return document as SiteSettings;
}

/** The site's udev rules replace the packaged ones on the card: a readable, non-empty text file of sane size. */
async function assertUdevRulesFile(file: string): Promise<void> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`--udev-rules ${file}: cannot read it (${error.code ?? error.message})`);
  });
  if (text.length > UDEV_RULES_BYTES_MAX) throw new UsageError(`--udev-rules ${file} is larger than ${UDEV_RULES_BYTES_MAX} bytes; it should be a udev rules file`);
  if (text.trim() === '') throw new UsageError(`--udev-rules ${file} is empty: it would replace the packaged rules with none, and the kiosk could not open its devices`);
}

function siteSettingsOf(config: KioskConfig): SiteSettings {
  const { deviceId: _d, host: _h, port: _p, hosts: _hs, kSharedFile: _k, ...site } = config;
  return site;
}

/** The whole kiosk.json, validated by the kiosk's own schema before anything is written or registered. */
function buildConfig(deviceId: string, addresses: readonly HostAddress[], site: SiteSettings, source: string): KioskConfig {
  // One host keeps kiosk.json's simple form; several are a list, tried in order.
  const where = addresses.length === 1 ? { host: addresses[0]!.host, port: addresses[0]!.port } : { hosts: addresses.map(({ host, port }) => ({ host, port })) };
  const document = { ...site, deviceId, ...where, kSharedFile: KIOSK_PATHS.kShared, journalDir: site.journalDir ?? KIOSK_PATHS.journalDir };
  try {
    return parseKioskConfig(document, source);
  } catch (error) {
    throw new ProvisionError('BAD_SETTINGS', (error as Error).message);
  }
}

function refuseOtherIdentity(root: string, existing: RootIdentity, deviceId: string, force: boolean, io: Io): void {
  const other = existing.deviceId !== undefined && existing.deviceId !== deviceId;
  const orphanKey = existing.deviceId === undefined && existing.keyPresent;
  if (!other && !orphanKey) return;
  const whose = other ? `the identity of kiosk ${existing.deviceId}` : `a key (${KIOSK_PATHS.kShared}) that no kiosk.json names`;
  if (!force) {
    throw new ProvisionError('OTHER_DEVICE', `${root} already holds ${whose}; refusing to replace it with ${deviceId}. If this card really is to become ${deviceId}, run again with --force`);
  }
  io.err(`provision: replacing ${whose} with ${deviceId} (--force)${other ? `; ${existing.deviceId} stays registered on the bank host until you run \`provision revoke --device-id ${existing.deviceId} --admin-socket PATH\`` : ''}`);
}

async function warnAboutJournal(root: string, journalDir: string, io: Io): Promise<void> {
  const entries = await readdir(inRoot(root, journalDir)).catch(() => []);
  if (entries.length > 0) {
    io.err(`provision: warning: ${inRoot(root, journalDir)} holds the previous kiosk's withdrawal journal; if it has unfinished withdrawals, settle them on the bank host (\`bank-host holds list --all\`) before this kiosk starts`);
  }
}

interface DeviceView {
  deviceId: string;
  status: string;
  keyVersion: number;
}

/** A key the bank host just made, as the root will record it. */
async function keyFromHostAnswer(deviceId: string, answer: { device: DeviceView; kSharedHex: string }): Promise<KeyToInstall> {
  return { hex: answer.kSharedHex, deviceId, keyVersion: answer.device.keyVersion, kcv: await kcvOfHex(answer.kSharedHex) };
}

/** With the admin socket: registers the device and returns its new key; or, when the root already holds
 *  this device's current key and the host knows the device as active, keeps that key (a re-run changes
 *  nothing; undefined when the key is sealed and there is nothing to rewrite). */
async function keyFromHost(adminSocket: string, deviceId: string, existing: RootIdentity, io: Io): Promise<KeyToInstall | undefined> {
  if (existing.deviceId === deviceId && existing.keyPresent) {
    const { devices } = (await sendAdminCommand(adminSocket, 'device.list', {})) as { devices: DeviceView[] };
    const device = devices.find((d) => d.deviceId === deviceId);
    if (device?.status === 'active') {
      const info = existing.key.info;
      if (info && info.deviceId === deviceId && info.keyVersion !== device.keyVersion) {
        throw new ProvisionError('HOST_REFUSED', `the bank host has key version ${device.keyVersion} for ${deviceId}, but this root holds version ${info.keyVersion} (KCV ${info.kcv}): give it the current key with \`provision rotate\``);
      }
      io.out(`device ${deviceId} is registered on the bank host (key version ${device.keyVersion}); keeping the key in the root`);
      if (existing.keyHex === undefined) return undefined;
      return { hex: existing.keyHex, deviceId, keyVersion: device.keyVersion, kcv: await kcvOfHex(existing.keyHex) };
    }
    if (device) throw new ProvisionError('HOST_REFUSED', `device ${deviceId} is ${device.status} on the bank host; enroll this kiosk under a new device id`);
  }
  let result: { device: DeviceView; kSharedHex: string };
  try {
    result = (await sendAdminCommand(adminSocket, 'device.add', { deviceId })) as typeof result;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'DEVICE_EXISTS') {
      const rotateHere = existing.deviceId === deviceId ? `\`provision rotate --root ROOT --admin-socket ${adminSocket}\`, then enroll again; or ` : '';
      throw new ProvisionError(
        'HOST_REFUSED',
        `device ${deviceId} is already registered on the bank host, and this root does not hold its key. To give it a new key: ${rotateHere}\`bank-host device rotate ${deviceId} --key-out FILE\`, then enroll with --key-file FILE`,
      );
    }
    throw error;
  }
  io.out(`registered device ${deviceId} on the bank host (key version ${result.device.keyVersion})`);
  return keyFromHostAnswer(deviceId, result);
}

function parseUsbIds(value: unknown, flag: string, help: string): UsbId[] | undefined {
  if (value === undefined) return undefined;
  return (value as string[]).map((text) => {
    const id = parseUsbId(text);
    if (!id) throw new UsageError(`${flag} must be VID:PID, four hex digits each as lsusb shows them (e.g. 0403:6001), got ${JSON.stringify(text)}\n\n${help}`);
    return id;
  });
}

const kcvLine = (key: { deviceId: string; keyVersion: number; kcv: string }) =>
  `K_SHARED of ${key.deviceId}: key version ${key.keyVersion}, check value (KCV) ${key.kcv}; the operator sees the same KCV on the bank host`;

async function runEnroll(argv: string[], io: Io): Promise<number> {
  const { values } = parse(
    argv,
    {
      'device-id': { type: 'string' },
      host: { type: 'string', multiple: true },
      root: { type: 'string' },
      'key-file': { type: 'string' },
      'admin-socket': { type: 'string' },
      settings: { type: 'string' },
      'udev-rules': { type: 'string' },
      'serial-adapter': { type: 'string', multiple: true },
      touchscreen: { type: 'string', multiple: true },
      'restrict-network': { type: 'boolean' },
      force: { type: 'boolean' },
    },
    ENROLL_HELP,
  );
  if (values.help) return io.out(ENROLL_HELP), 0;
  const deviceId = parseDeviceId(values['device-id']);
  const addresses = parseHostAddresses(values.host);
  const root = path.resolve(requirePath(values.root, '--root', 'DIR'));
  const source = keySource(values, ENROLL_HELP);
  const settingsFile = values.settings === undefined ? undefined : path.resolve(requirePath(values.settings, '--settings', 'FILE'));
  const udevRules = values['udev-rules'] === undefined ? undefined : path.resolve(requirePath(values['udev-rules'], '--udev-rules', 'FILE'));
  const serialAdapters = parseUsbIds(values['serial-adapter'], '--serial-adapter', ENROLL_HELP);
  const touchscreens = parseUsbIds(values.touchscreen, '--touchscreen', ENROLL_HELP);
  const force = values.force === true;
  const restrictNetwork = values['restrict-network'] === true;
  const named = addresses.find((address) => isIP(address.host) === 0);
  if (restrictNetwork && named) {
    throw new UsageError(`--restrict-network needs every --host as an IP address: with a name (${named.host}) the kiosk would also need its DNS servers, which provisioning cannot know\n\n${ENROLL_HELP}`);
  }

  // Everything that can be checked is checked before the bank host is asked to register anything, and
  // before anything is written.
  await assertRootFolder(root);
  const unitsDir = packagedUnitsDir();
  const existing = await readRootIdentity(root);
  refuseOtherIdentity(root, existing, deviceId, force, io);
  const site = settingsFile ? await readSettings(settingsFile) : existing.config ? siteSettingsOf(existing.config) : DEFAULT_SITE_SETTINGS;
  const config = buildConfig(deviceId, addresses, site, settingsFile ? `--settings ${settingsFile}` : KIOSK_PATHS.config);
  const transported = 'keyFile' in source ? await readKeyTransportFile(source.keyFile) : undefined;
  if (transported) {
    const installed = existing.deviceId === deviceId ? existing.key.info : undefined;
    checkKeyForRoot(transported, deviceId, installed, `--key-file ${(source as { keyFile: string }).keyFile}`);
  }
  if (udevRules) await assertUdevRulesFile(udevRules);
  const extras: UsbExtras = await usbExtrasFor(root, config, { ...(serialAdapters ? { serialAdapters } : {}), ...(touchscreens ? { touchscreens } : {}) });
  usbguardRulesText(config, extras);
  if (force && existing.deviceId !== undefined && existing.deviceId !== deviceId) await warnAboutJournal(root, config.journalDir, io);

  const owners = await targetOwners(root);
  await ensureConfigDir(root, owners.config);
  await ensureCredstoreDir(root);
  let key: KeyToInstall | undefined;
  if (transported) {
    key = { hex: transported.key.toString('hex'), deviceId, keyVersion: transported.keyVersion, kcv: transported.kcv };
    transported.key.fill(0);
  } else {
    key = await keyFromHost((source as { adminSocket: string }).adminSocket, deviceId, existing, io);
  }
  if (key) {
    try {
      reportChanges(io, root, await installKey(root, key, owners.config));
    } catch (error) {
      if (transported) throw error;
      // The host has the new key and nothing else does: say how to recover rather than leave a dead device.
      throw new Error(`the bank host registered ${deviceId}, but its key could not be written to ${root} (${(error as Error).message}); fix that, then run \`provision rotate --root ${root} --admin-socket …\``);
    }
  }
  reportChanges(io, root, [{ path: KIOSK_PATHS.config, change: await writeConfig(root, config, owners.config) }]);
  reportChanges(io, root, await installPackagedFiles(root, unitsDir));
  if (udevRules) reportChanges(io, root, [await installSiteUdevRules(root, udevRules)]);
  if (restrictNetwork) reportChanges(io, root, [await writeHostAddressDropIn(root, addresses.map((address) => address.host))]);
  reportChanges(io, root, await enableKiosk(root));
  reportChanges(io, root, await writeLockdown(root, config, extras));
  const shown = key ?? existing.key.info;
  if (shown) io.out(kcvLine(shown));
  if (!owners.kioskUserExists) {
    io.out(`note: ${root} has no atm-kiosk user yet; the atm-kiosk package creates it when it is installed on the kiosk`);
  } else if (!runningAsRoot()) {
    io.out('note: not running as root, so the files are owned by you; at every boot systemd-tmpfiles gives kiosk.json to the atm-kiosk group');
  }
  io.out('the key waits root-only until the kiosk\'s next start, which seals it with systemd-creds (TPM2 where present) and shreds the clear copy');
  if (transported) io.out(`the key is installed; delete ${(source as { keyFile: string }).keyFile} now (\`shred -u\` it): no other copy is needed`);
  io.out(`kiosk ${deviceId} is enrolled in ${root}; check it with \`provision check --root ${root}\``);
  return 0;
}

async function enrolledIdentity(root: string): Promise<RootIdentity & { deviceId: string }> {
  const identity = await readRootIdentity(root);
  if (identity.deviceId === undefined) throw new ProvisionError('NOT_ENROLLED', `${inRoot(root, KIOSK_PATHS.config)} names no device: enroll the kiosk first (\`provision enroll\`)`);
  return identity as RootIdentity & { deviceId: string };
}

async function runRotate(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { root: { type: 'string' }, 'key-file': { type: 'string' }, 'admin-socket': { type: 'string' } }, ROTATE_HELP);
  if (values.help) return io.out(ROTATE_HELP), 0;
  const root = path.resolve(requirePath(values.root, '--root', 'DIR'));
  const source = keySource(values, ROTATE_HELP);
  await assertRootFolder(root);
  const identity = await enrolledIdentity(root);
  const { deviceId } = identity;
  let key: KeyToInstall;
  if ('keyFile' in source) {
    const transported = await readKeyTransportFile(source.keyFile);
    try {
      if (checkKeyForRoot(transported, deviceId, identity.key.info, `--key-file ${source.keyFile}`) === 'installed') {
        io.out(kcvLine(transported));
        io.out(`that key is already installed for ${deviceId}; nothing changed`);
        return 0;
      }
      key = { hex: transported.key.toString('hex'), deviceId, keyVersion: transported.keyVersion, kcv: transported.kcv };
    } finally {
      transported.key.fill(0);
    }
  }
  const owners = await targetOwners(root);
  await ensureConfigDir(root, owners.config);
  await ensureCredstoreDir(root);
  if ('keyFile' in source) {
    reportChanges(io, root, await installKey(root, key!, owners.config));
    io.out(kcvLine(key!));
    io.out(`installed the new key for ${deviceId}; delete ${source.keyFile} now (\`shred -u\` it)`);
  } else {
    const result = (await sendAdminCommand(source.adminSocket, 'device.rotate', { deviceId })) as { device: DeviceView; kSharedHex: string };
    key = await keyFromHostAnswer(deviceId, result);
    try {
      reportChanges(io, root, await installKey(root, key, owners.config));
    } catch (error) {
      throw new Error(`the bank host rotated ${deviceId}'s key, but the new key could not be written to ${root} (${(error as Error).message}); fix that and rotate again`);
    }
    io.out(kcvLine(key));
    io.out(`rotated ${deviceId}'s key (now version ${result.device.keyVersion}); the old key no longer works`);
  }
  io.out(path.resolve(root) === '/' ? 'restart the kiosk to seal it and use it: `systemctl restart atm-kiosk.service`' : 'the kiosk seals the new key at its next start');
  return 0;
}

async function runRevoke(argv: string[], io: Io): Promise<number> {
  const { values } = parse(
    argv,
    { root: { type: 'string' }, 'device-id': { type: 'string' }, 'admin-socket': { type: 'string' }, 'local-only': { type: 'boolean' } },
    REVOKE_HELP,
  );
  if (values.help) return io.out(REVOKE_HELP), 0;
  if (values.root === undefined && values['device-id'] === undefined) throw new UsageError(`give --root DIR or --device-id ID\n\n${REVOKE_HELP}`);
  if ((values['admin-socket'] !== undefined) === (values['local-only'] === true)) {
    throw new UsageError(`give either --admin-socket PATH (revoke on the bank host) or --local-only (only wipe the root's key)\n\n${REVOKE_HELP}`);
  }
  if (values['local-only'] && values.root === undefined) throw new UsageError(`--local-only needs --root DIR: there is nothing else to do locally\n\n${REVOKE_HELP}`);
  const named = values['device-id'] === undefined ? undefined : parseDeviceId(values['device-id']);
  const root = values.root === undefined ? undefined : path.resolve(requirePath(values.root, '--root', 'DIR'));
  if (root) await assertRootFolder(root);
  const inTheRoot = root ? (await readRootIdentity(root)).deviceId : undefined;
  if (named && inTheRoot && named !== inTheRoot) throw new ProvisionError('OTHER_DEVICE', `${root} holds kiosk ${inTheRoot}, not ${named}`);
  const deviceId = named ?? inTheRoot;
  if (!deviceId) throw new ProvisionError('NOT_ENROLLED', `${inRoot(root!, KIOSK_PATHS.config)} names no device; give --device-id ID`);

  if (values['admin-socket'] !== undefined) {
    const adminSocket = path.resolve(requirePath(values['admin-socket'], '--admin-socket', 'PATH'));
    const { device } = (await sendAdminCommand(adminSocket, 'device.revoke', { deviceId })) as { device: DeviceView };
    io.out(`revoked ${device.deviceId} on the bank host: its handshakes are refused from now on`);
  }
  if (root) {
    const removed = await destroyKey(root);
    for (const file of removed) io.out(`wiped and removed ${inRoot(root, file)}`);
    if (removed.length === 0) io.out(`no key in ${root} to remove`);
  }
  if (values['local-only']) io.err(`provision: the bank host still accepts ${deviceId}'s key until you run \`bank-host device revoke ${deviceId}\``);
  return 0;
}

async function runCheck(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { root: { type: 'string' }, offline: { type: 'boolean' }, 'admin-socket': { type: 'string' }, 'timeout-ms': { type: 'string' } }, CHECK_HELP);
  if (values.help) return io.out(CHECK_HELP), 0;
  const root = path.resolve(requirePath(values.root, '--root', 'DIR'));
  const stepTimeoutMs = values['timeout-ms'] === undefined ? undefined : parsePositiveMs(values['timeout-ms'], '--timeout-ms', CHECK_STEP_TIMEOUT_MS_MAX);
  const adminSocket = values['admin-socket'] === undefined ? undefined : path.resolve(requirePath(values['admin-socket'], '--admin-socket', 'PATH'));
  await assertRootFolder(root);
  const findings = await checkRoot({ root, offline: values.offline === true, ...(adminSocket ? { adminSocket } : {}), ...(stepTimeoutMs ? { stepTimeoutMs } : {}) });
  io.out(formatFindings(findings, root));
  return findings.every((f) => f.ok) ? 0 : 1;
}

const COMMANDS: Record<string, (argv: string[], io: Io) => Promise<number>> = {
  enroll: runEnroll,
  rotate: runRotate,
  revoke: runRevoke,
  check: runCheck,
};

export async function main(argv: string[], io: Io): Promise<number> {
  try {
    const [first] = argv;
    if (first === undefined || first === '--help' || first === '-h') return io.out(MAIN_HELP), first === undefined ? 2 : 0;
    if (first === '--version' || first === '-V') return io.out(`provision ${packageVersion()}`), 0;
    if (first === 'help') {
      const [, topic, ...rest] = argv;
      if (rest.length > 0) throw new UsageError(`help takes at most one command\n\n${MAIN_HELP}`);
      if (topic === undefined) return io.out(MAIN_HELP), 0;
      const help = COMMAND_HELP[topic];
      if (!help) throw new UsageError(`unknown command ${JSON.stringify(topic)}\n\n${MAIN_HELP}`);
      return io.out(help), 0;
    }
    const command = COMMANDS[first];
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(first)}\n\n${MAIN_HELP}`);
    return await command(argv.slice(1), io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`provision: ${error.message}`);
      return 2;
    }
    const code = (error as { code?: unknown }).code;
    io.err(`provision: ${(error as Error).message ?? String(error)}${typeof code === 'string' ? ` [${code}]` : ''}`);
    return 1;
  }
}

// Run when executed directly (node dist/provisioning/cli/main.js, tsx provisioning/cli/main.ts, or a
// `provision` bin link).
const invokedPath = process.argv[1] ? path.resolve(process.argv[1]) : '';
if (invokedPath.endsWith(path.join('provisioning', 'cli', 'main.js')) || invokedPath.endsWith(path.join('provisioning', 'cli', 'main.ts')) || invokedPath.endsWith('provision')) {
  const io: Io = { out: (t) => process.stdout.write(t + '\n'), err: (t) => process.stderr.write(t + '\n') };
  main(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
  });
}
