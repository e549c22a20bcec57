// `provision check`: what a prepared root lacks or has wrong, each finding with what to do about it. It
// reads only; it never prints the key.
import { existsSync } from 'node:fs';
import { lstat, stat } from 'node:fs/promises';
import path from 'node:path';
import { sendAdminCommand } from '../bank-host/admin/socket.js';
import { KEY_FILE_HEX_CHARS } from '../kiosk/core/config.js';
import { probeHost } from './reachability.js';
import { inRoot, KIOSK_PATHS, kioskUserInRoot, readRootIdentity } from './target-root.js';
import { activeUnitPath, defaultTargetLink, enableLinks, KIOSK_DEFAULT_TARGET, KIOSK_UNIT, linkIsRight, PACKAGED_FILES, SITE_UDEV_RULES } from './units.js';

export interface Finding {
  readonly ok: boolean;
  /** What was checked: a path on the kiosk, or `host`. */
  readonly subject: string;
  readonly message: string;
}

export interface CheckOptions {
  readonly root: string;
  /** Skip the connection to the bank host (preparing a card away from the bank's network). */
  readonly offline: boolean;
  /** When given, also ask the host whether it knows the device (a refused handshake does not say). */
  readonly adminSocket?: string;
  readonly stepTimeoutMs?: number;
}

export async function checkRoot(options: CheckOptions): Promise<Finding[]> {
  const { root } = options;
  const findings: Finding[] = [];
  const ok = (subject: string, message: string) => findings.push({ ok: true, subject, message });
  const problem = (subject: string, message: string) => findings.push({ ok: false, subject, message });

  const identity = await readRootIdentity(root);
  if (identity.configText === undefined) problem(KIOSK_PATHS.config, 'missing: run `provision enroll`');
  else if (identity.configError) problem(KIOSK_PATHS.config, identity.configError);
  else ok(KIOSK_PATHS.config, `valid, device ${identity.config!.deviceId}, host ${identity.config!.host}:${identity.config!.port}`);

  const config = identity.config;
  if (config && config.kSharedFile !== KIOSK_PATHS.kShared) {
    problem(KIOSK_PATHS.config, `kSharedFile is ${config.kSharedFile}, but the kiosk's tmpfiles entry protects ${KIOSK_PATHS.kShared}`);
  }

  const kioskUser = await kioskUserInRoot(root);
  const tmpfilesPresent = PACKAGED_FILES.filter((f) => f.source.endsWith('.tmpfiles.conf')).every((f) => existsSync(inRoot(root, f.target)));
  const keyInfo = await lstat(inRoot(root, KIOSK_PATHS.kShared)).catch(() => undefined);
  if (!keyInfo) {
    problem(KIOSK_PATHS.kShared, 'missing: the kiosk cannot connect without K_SHARED (run `provision enroll` or `provision rotate`)');
  } else if (!keyInfo.isFile()) {
    problem(KIOSK_PATHS.kShared, 'not a regular file');
  } else {
    const mode = keyInfo.mode & 0o777;
    if ((mode & 0o077) !== 0) problem(KIOSK_PATHS.kShared, `mode ${mode.toString(8).padStart(4, '0')} lets others read or change the key; it must be owner-only (0400): run \`chmod 400\` on it, or \`provision enroll\` again`);
    else if (identity.keyUnreadable) problem(KIOSK_PATHS.kShared, 'this user may not read the key; run the check as root (sudo)');
    else if (identity.keyHex === undefined) problem(KIOSK_PATHS.kShared, `must hold exactly ${KEY_FILE_HEX_CHARS} hex characters`);
    else if (kioskUser && keyInfo.uid !== kioskUser.uid && !tmpfilesPresent) problem(KIOSK_PATHS.kShared, `owned by uid ${keyInfo.uid}, not by atm-kiosk (uid ${kioskUser.uid}), and no tmpfiles entry fixes it at boot: the kiosk cannot read it (run \`provision enroll\` again as root)`);
    else {
      const owner = kioskUser && keyInfo.uid === kioskUser.uid
        ? ', owned by atm-kiosk'
        : kioskUser
          ? ', systemd-tmpfiles gives it to atm-kiosk at every boot'
          : ', root-owned until the atm-kiosk package creates the atm-kiosk user and gives it the key';
      ok(KIOSK_PATHS.kShared, `owner-only (${mode.toString(8).padStart(4, '0')})${owner}`);
    }
  }

  const configInfo = await stat(inRoot(root, KIOSK_PATHS.config)).catch(() => undefined);
  if (configInfo && (configInfo.mode & 0o022) !== 0) {
    problem(KIOSK_PATHS.config, `mode ${(configInfo.mode & 0o777).toString(8).padStart(4, '0')} lets others change the configuration; it must be 0640`);
  }

  for (const file of PACKAGED_FILES) {
    const present = (await lstat(inRoot(root, file.target)).catch(() => undefined)) !== undefined;
    const overridden = file.target.endsWith('.rules') && (await lstat(inRoot(root, SITE_UDEV_RULES)).catch(() => undefined)) !== undefined;
    if (present || overridden) ok(file.target, overridden && !present ? `replaced by ${SITE_UDEV_RULES}` : 'present');
    else if (file.target.endsWith(KIOSK_UNIT) && activeUnitPath(root, KIOSK_UNIT)) ok(file.target, `unit found at ${activeUnitPath(root, KIOSK_UNIT)}`);
    else problem(file.target, 'missing: run `provision enroll` (or install the atm-kiosk package)');
  }

  if (activeUnitPath(root, KIOSK_UNIT)) {
    for (const link of await enableLinks(root)) {
      if (await linkIsRight(root, link)) ok(link.link, 'enabled');
      else problem(link.link, `${KIOSK_UNIT} is not enabled: run \`provision enroll\` again (or \`systemctl --root=ROOT enable ${KIOSK_UNIT}\`)`);
    }
    const defaultTarget = defaultTargetLink();
    if (await linkIsRight(root, defaultTarget)) ok(defaultTarget.link, KIOSK_DEFAULT_TARGET);
    else problem(defaultTarget.link, `the default target is not ${KIOSK_DEFAULT_TARGET}, which starts the kiosk: \`systemctl --root=ROOT set-default ${KIOSK_DEFAULT_TARGET}\``);
  }

  if (options.adminSocket && identity.deviceId) {
    try {
      const { devices } = (await sendAdminCommand(options.adminSocket, 'device.list', {})) as { devices: { deviceId: string; status: string; keyVersion: number }[] };
      const device = devices.find((d) => d.deviceId === identity.deviceId);
      if (!device) problem('host', `the bank host does not know device ${identity.deviceId}: enroll it (\`provision enroll … --admin-socket\`)`);
      else if (device.status !== 'active') problem('host', `device ${identity.deviceId} is ${device.status} on the bank host; enroll the kiosk under a new id`);
      else ok('host', `device ${identity.deviceId} is registered and active (key version ${device.keyVersion})`);
    } catch (error) {
      problem('host', `cannot ask the bank host about the device: ${(error as Error).message}`);
    }
  }

  if (options.offline) {
    ok('host', 'not contacted (--offline)');
  } else if (config && identity.keyHex) {
    const kShared = Buffer.from(identity.keyHex, 'hex');
    try {
      const result = await probeHost({ host: config.host, port: config.port, deviceId: config.deviceId, kShared, ...(options.stepTimeoutMs ? { stepTimeoutMs: options.stepTimeoutMs } : {}) });
      const where = `${config.host}:${config.port}`;
      if (result.outcome === 'ok') ok('host', `${where} accepted device ${config.deviceId} with this key and answered ping in ${result.roundTripMs} ms`);
      else if (result.outcome === 'unreachable') problem('host', `host unreachable: ${where} (${result.detail}); check the address, the network and that the bank host is running`);
      else if (result.outcome === 'handshake-refused') problem('host', `handshake refused by ${where}: the host does not accept device ${config.deviceId} with this key (unknown device, revoked, or a key from before a rotation) (${result.detail})`);
      else problem('host', `${where} accepted the handshake but did not answer ping: ${result.detail}`);
    } finally {
      kShared.fill(0);
    }
  } else {
    problem('host', 'not contacted: needs a valid kiosk.json and key first');
  }
  return findings;
}

export function formatFindings(findings: readonly Finding[], root: string): string {
  const lines = findings.map((f) => `${f.ok ? 'ok     ' : 'PROBLEM'} ${f.subject === 'host' ? 'host' : path.join(root, f.subject)}: ${f.message}`);
  const problems = findings.filter((f) => !f.ok).length;
  lines.push(problems === 0 ? 'ready: nothing missing or wrong' : `${problems} problem${problems === 1 ? '' : 's'} found`);
  return lines.join('\n');
}
