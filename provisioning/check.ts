// `provision check`: what a prepared root lacks or has wrong, each finding with what to do about it. It
// reads only; it never prints the key.
import { lstat, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { sendAdminCommand } from '../bank-host/admin/socket.js';
import { endpointText, hostEndpoints, KEY_FILE_HEX_CHARS, type KioskConfig } from '../kiosk/core/config.js';
import { probeHost } from './reachability.js';
import { kcvOfHex, KEY_CREDENTIAL_NAME, KEY_PATHS, unsealOnThisKiosk } from './kiosk-key.js';
import { checkLockdown } from './lockdown.js';
import { inRoot, KIOSK_PATHS, readRootIdentity, type RootIdentity } from './target-root.js';
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
  else ok(KIOSK_PATHS.config, `valid, device ${identity.config!.deviceId}, ${hostsText(identity.config!)}`);

  const config = identity.config;
  if (config && config.kSharedFile !== KIOSK_PATHS.kShared) {
    problem(KIOSK_PATHS.config, `kSharedFile is ${config.kSharedFile}, but the kiosk's key is the credential ${KIOSK_PATHS.kShared} that atm-kiosk.service loads sealed: run \`provision enroll\` again`);
  }

  if (config) {
    const pinPad = config.devices.pinPad;
    // The demo setting, a demo pad or the EPP simulator: the PIN's digits are not kept inside a PIN pad.
    if (pinPad.kind !== 'epp' || config.demoPinEntry) {
      problem(KIOSK_PATHS.config, `the PIN pad is ${pinPad.kind}${config.demoPinEntry ? ' with the demo setting demoPinEntry' : ''}: a kiosk in service has an encrypting PIN pad ({ "kind": "epp", "path": … }) and no demoPinEntry, so no digit of a PIN passes through its software`);
    } else {
      ok(KIOSK_PATHS.config, `PIN pad: an encrypting PIN pad on ${pinPad.path}`);
    }
  }

  const clearHex = await checkKey(root, identity, ok, problem);
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

  findings.push(...(await checkLockdown(root, config, activeUnitPath(root, KIOSK_UNIT))));

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
  } else if (config && clearHex) {
    const kShared = Buffer.from(clearHex, 'hex');
    try {
      // Every host the kiosk may move to must accept it: a host that does not is found now, not at failover.
      for (const endpoint of hostEndpoints(config)) {
        const result = await probeHost({ ...endpoint, deviceId: config.deviceId, kShared, ...(options.stepTimeoutMs ? { stepTimeoutMs: options.stepTimeoutMs } : {}) });
        const where = endpointText(endpoint);
        if (result.outcome === 'ok') ok('host', `${where} accepted device ${config.deviceId} with this key and answered ping in ${result.roundTripMs} ms`);
        else if (result.outcome === 'unreachable') problem('host', `host unreachable: ${where} (${result.detail}); check the address, the network and that the bank host is running`);
        else if (result.outcome === 'handshake-refused') problem('host', `handshake refused by ${where}: the host does not accept device ${config.deviceId} with this key (unknown device, revoked, or a key from before a rotation) (${result.detail})`);
        else problem('host', `${where} accepted the handshake but did not answer ping: ${result.detail}`);
      }
    } finally {
      kShared.fill(0);
    }
  } else if (config && identity.key.sealedPresent) {
    ok('host', 'not contacted: the key is sealed for this kiosk alone; run `provision check --root /` as root on the kiosk, where systemd-creds unseals it');
  } else {
    problem('host', 'not contacted: needs a valid kiosk.json and key first');
  }
  return findings;
}

type Report = (subject: string, message: string) => void;

function hostsText(config: KioskConfig): string {
  const endpoints = hostEndpoints(config);
  return endpoints.length === 1 ? `host ${endpointText(endpoints[0]!)}` : `hosts ${endpoints.map(endpointText).join(', ')} (tried in this order)`;
}

/** The key in every form the root may hold it; returns the clear key when there is one to test against
 *  the bank host (staged, from before sealing, or unsealed on the kiosk itself). */
async function checkKey(root: string, identity: RootIdentity, ok: Report, problem: Report): Promise<string | undefined> {
  const { key } = identity;
  const live = path.resolve(root) === '/';
  let clearHex: string | undefined;
  if (key.legacyPresent) {
    problem(KEY_PATHS.legacy, 'K_SHARED lies in clear where kiosks read it before keys were sealed: run `provision enroll` again, which stages it for sealing and removes this file');
    clearHex = key.legacyHex;
  }
  if (key.stagedPresent) {
    const info = await lstat(inRoot(root, KEY_PATHS.staged));
    const mode = info.mode & 0o777;
    if (!info.isFile()) problem(KEY_PATHS.staged, 'not a regular file');
    else if ((mode & 0o077) !== 0) problem(KEY_PATHS.staged, `mode ${mode.toString(8).padStart(4, '0')} lets others read or change the key; it must be root-only (0400): run \`chmod 400\` on it, or \`provision enroll\` again`);
    else if (key.stagedUnreadable) problem(KEY_PATHS.staged, 'this user may not read the key; run the check as root (sudo)');
    else if (key.stagedHex === undefined) problem(KEY_PATHS.staged, `must hold exactly ${KEY_FILE_HEX_CHARS} hex characters`);
    else if (live) problem(KEY_PATHS.staged, 'K_SHARED lies in clear on this running kiosk: `systemctl restart atm-kiosk.service` seals it (atm-kiosk-seal-key.service) and removes this file');
    else ok(KEY_PATHS.staged, `root-only (${mode.toString(8).padStart(4, '0')}); the kiosk seals it with systemd-creds at its next start and then shreds it`);
    clearHex = key.stagedHex ?? clearHex;
  }
  if (key.sealedPresent) {
    ok(KEY_PATHS.sealed, 'sealed with systemd-creds; atm-kiosk.service loads it with LoadCredentialEncrypted=');
    if (clearHex === undefined) {
      const unsealed = unsealOnThisKiosk(root);
      if (unsealed.error) problem(KEY_PATHS.sealed, `cannot be unsealed on this kiosk: ${unsealed.error}`);
      clearHex = unsealed.hex;
    }
  }
  if (!key.stagedPresent && !key.sealedPresent && !key.legacyPresent) {
    problem(KEY_PATHS.sealed, 'missing: the kiosk cannot connect without K_SHARED (run `provision enroll` or `provision rotate`)');
  }
  if (key.infoError) {
    problem(KEY_PATHS.info, `${key.infoError}: run \`provision enroll\` or \`provision rotate\` again`);
  } else if (key.info) {
    const kcv = clearHex === undefined ? undefined : await kcvOfHex(clearHex);
    if (identity.deviceId !== undefined && key.info.deviceId !== identity.deviceId) problem(KEY_PATHS.info, `the key was installed for ${key.info.deviceId}, but kiosk.json names ${identity.deviceId}: enroll or rotate again`);
    else if (kcv !== undefined && kcv !== key.info.kcv) problem(KEY_PATHS.info, `the key's check value is ${kcv}, not the KCV ${key.info.kcv} recorded for key version ${key.info.keyVersion}: the key was changed; rotate it`);
    else ok(KEY_PATHS.info, `device ${key.info.deviceId}, key version ${key.info.keyVersion}, check value (KCV) ${key.info.kcv}${kcv === undefined ? '' : ' (matches the key)'}`);
  } else if (key.stagedPresent || key.sealedPresent) {
    problem(KEY_PATHS.info, 'missing: the key\'s version and check value are not recorded; run `provision enroll` or `provision rotate` again');
  }
  const unitPath = activeUnitPath(root, KIOSK_UNIT);
  if (unitPath) {
    const unitText = await readFile(inRoot(root, unitPath), 'utf8');
    if (unitText.includes(`\nLoadCredentialEncrypted=${KEY_CREDENTIAL_NAME}:${KEY_PATHS.sealed}\n`)) ok(unitPath, `loads the sealed key as credential ${KEY_CREDENTIAL_NAME}`);
    else problem(unitPath, `has no LoadCredentialEncrypted=${KEY_CREDENTIAL_NAME}:${KEY_PATHS.sealed}: the kiosk would not find its key; install the current atm-kiosk package`);
  }
  return clearHex;
}

export function formatFindings(findings: readonly Finding[], root: string): string {
  const lines = findings.map((f) => `${f.ok ? 'ok     ' : 'PROBLEM'} ${f.subject === 'host' ? 'host' : path.join(root, f.subject)}: ${f.message}`);
  const problems = findings.filter((f) => !f.ok).length;
  lines.push(problems === 0 ? 'ready: nothing missing or wrong' : `${problems} problem${problems === 1 ? '' : 's'} found`);
  return lines.join('\n');
}
