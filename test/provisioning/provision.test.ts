// The technician's `provision` tool against real files in temporary roots and a real bank host on loopback.
// Serial: the tests share one host, and the last test reads everything every command printed.
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sendAdminCommand } from '../../bank-host/admin/socket.js';
import { main as bankHostCli } from '../../bank-host/cli/main.js';
import { writeSecretFile } from '../../bank-host/keys.js';
import { formatKeyTransport } from '../../protocol/key-transport.js';
import { keyCheckValue } from '../../protocol/key-block.js';
import { loadKShared, parseKioskConfig } from '../../kiosk/core/config.js';
import { main, type Io } from '../../provisioning/cli/main.js';
import { MASKED_UNITS } from '../../provisioning/lockdown.js';
import { probeHost } from '../../provisioning/reachability.js';
import { startTestHost, type TestHost } from '../helpers/host.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

/** Every line any command printed, to prove at the end that no key ever appeared in it. */
let everything = '';
const keysSeen = new Set<string>();

async function provision(...argv: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => (out += t + '\n'), err: (t) => (err += t + '\n') };
  const code = await main(argv, io);
  everything += out + err;
  return { code, out, err };
}

/** The clear key provisioning stages, root-only, for the kiosk to seal at its next start. */
const KEY = 'etc/atm-kiosk/k_shared.staged';
const KEY_INFO = 'etc/atm-kiosk/k_shared.info';
const CONFIG = 'etc/atm-kiosk/kiosk.json';
const UNIT_LINK = 'etc/systemd/system/graphical.target.wants/atm-kiosk.service';

let h: TestHost;
let scratch: string;
let rootCount = 0;

test.before(async () => {
  h = await startTestHost();
  scratch = await mkdtemp(path.join(os.tmpdir(), 'provision-'));
});
test.after.always(async () => {
  await h?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function newRoot(options: { kioskUid?: number } = {}): Promise<string> {
  const root = path.join(scratch, `root-${++rootCount}`);
  await mkdir(path.join(root, 'etc'), { recursive: true });
  if (options.kioskUid !== undefined) {
    await writeFile(path.join(root, 'etc/passwd'), `root:x:0:0:root:/root:/bin/bash\natm-kiosk:x:${options.kioskUid}:${options.kioskUid + 1}:ATM kiosk:/var/lib/atm-kiosk:/usr/sbin/nologin\n`);
    await writeFile(path.join(root, 'etc/group'), `root:x:0:\natm-kiosk:x:${options.kioskUid + 1}:\n`);
  }
  return root;
}

const host = () => `127.0.0.1:${h.port}`;

/** A unit file of this machine's systemd (to give a test root the targets a real root has). */
function hostUnit(name: string): string {
  const found = ['/usr/lib/systemd/system', '/lib/systemd/system'].map((dir) => path.join(dir, name)).find((file) => existsSync(file));
  if (!found) throw new Error(`no ${name} on this machine; install it with: apt-get install -y systemd`);
  return found;
}

/** The operator's side, with the real `bank-host` CLI against the running host's admin socket. */
async function bankHost(...argv: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const code = await bankHostCli([...argv, '--admin-socket', h.adminSocket], { out: (t) => (out += t + '\n'), err: (t) => (err += t + '\n'), env: {}, readSecret: async () => '' });
  everything += out + err;
  return { code, out, err };
}

async function keyOf(root: string): Promise<Buffer> {
  const key = await loadKShared(path.join(root, KEY));
  keysSeen.add(key.toString('hex'));
  return key;
}

async function enroll(t: ExecutionContext, root: string, deviceId: string, ...extra: string[]): Promise<Run> {
  const run = await provision('enroll', '--device-id', deviceId, '--host', host(), '--root', root, '--admin-socket', h.adminSocket, ...extra);
  t.is(run.code, 0, run.err);
  return run;
}

/** A real kiosk-side client (the kiosk's own ChannelClient) connects with the key and pings. */
async function hostAcceptsKey(deviceId: string, key: Buffer): Promise<boolean> {
  const client = h.client(deviceId, key, { connectTimeoutMs: 2_000 });
  client.start();
  try {
    await client.waitConnected(2_000);
    const pong = await client.request('ping', {});
    return typeof pong.hostTimeMs === 'number';
  } catch {
    return false;
  } finally {
    client.close();
  }
}

async function deviceOnHost(deviceId: string): Promise<{ status: string; keyVersion: number } | undefined> {
  const { devices } = (await sendAdminCommand(h.adminSocket, 'device.list', {})) as { devices: { deviceId: string; status: string; keyVersion: number }[] };
  return devices.find((d) => d.deviceId === deviceId);
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The operator's key file, as `bank-host device add|rotate --key-out` writes it. */
async function transportFile(name: string, deviceId: string, keyVersion: number, key: Buffer): Promise<string> {
  const file = path.join(scratch, name);
  await writeSecretFile(file, await formatKeyTransport(deviceId, keyVersion, key));
  return file;
}

test.serial('enroll with --admin-socket registers the device and writes an owner-only key the host accepts', async (t) => {
  const root = await newRoot({ kioskUid: 4242 });
  const run = await enroll(t, root, 'kiosk-lobby-1');
  t.regex(run.out, /registered device kiosk-lobby-1 on the bank host/);
  t.is((await deviceOnHost('kiosk-lobby-1'))?.status, 'active');

  const keyInfo = await stat(path.join(root, KEY));
  t.is(keyInfo.mode & 0o777, 0o400);
  t.is(keyInfo.uid, 0, 'root\'s alone: only the seal unit (root) reads it, never the kiosk user');
  t.is(keyInfo.gid, 0);
  const configInfo = await stat(path.join(root, CONFIG));
  t.is(configInfo.mode & 0o777, 0o640);
  t.is(configInfo.uid, 0);
  t.is(configInfo.gid, 4243, 'readable by the atm-kiosk group');
  t.is((await stat(path.join(root, 'etc/atm-kiosk'))).mode & 0o777, 0o750);
  t.is((await stat(path.join(root, 'etc'))).mode & 0o777, 0o755, 'only the kiosk folder is closed');

  const key = await keyOf(root);
  t.true(await hostAcceptsKey('kiosk-lobby-1', key), 'a real handshake and ping with the written key');
  // What the root records of it: device, version and check value, no secret; the same KCV is shown.
  const info = JSON.parse(await readFile(path.join(root, KEY_INFO), 'utf8')) as { deviceId: string; keyVersion: number; kcv: string };
  t.deepEqual(info, { deviceId: 'kiosk-lobby-1', keyVersion: 1, kcv: await keyCheckValue(key) });
  t.regex(run.out, new RegExp(`K_SHARED of kiosk-lobby-1: key version 1, check value \\(KCV\\) ${info.kcv}`));
});

test.serial("the config parses with the kiosk's own schema and points at the key the units protect", async (t) => {
  const root = await newRoot();
  await enroll(t, root, 'kiosk-schema-1');
  const config = parseKioskConfig(JSON.parse(await readFile(path.join(root, CONFIG), 'utf8')));
  t.is(config.deviceId, 'kiosk-schema-1');
  t.is(config.host, '127.0.0.1');
  t.is(config.port, h.port);
  t.is(config.kSharedFile, '/run/credentials/atm-kiosk.service/k_shared', "the credential atm-kiosk.service's LoadCredentialEncrypted= makes");
  t.is(config.journalDir, '/var/lib/atm-kiosk/journal');
  // The tmpfiles entry we rely on for the owner at first boot names the same file.
  const tmpfiles = await readFile(path.join(root, 'usr/lib/tmpfiles.d/atm-kiosk.conf'), 'utf8');
  t.regex(tmpfiles, /^z \/etc\/atm-kiosk\/k_shared\.staged 0400 root root -$/m);
  t.regex(tmpfiles, /^d \/etc\/credstore\.encrypted 0700 root root -$/m);
  const unit = await readFile(path.join(root, 'usr/lib/systemd/system/atm-kiosk.service'), 'utf8');
  t.regex(unit, /^LoadCredentialEncrypted=k_shared:\/etc\/credstore\.encrypted\/atm-kiosk\.k_shared$/m);
  t.regex(tmpfiles, /^z \/etc\/atm-kiosk\/kiosk\.json 0640 root atm-kiosk -$/m);
});

test.serial('enroll installs the units where absent and enables the kiosk like systemctl --root', async (t) => {
  const root = await newRoot();
  await enroll(t, root, 'kiosk-units-1');
  for (const file of ['usr/lib/systemd/system/atm-kiosk.service', 'usr/lib/systemd/system/atm-kiosk-seal-key.service', 'usr/lib/sysusers.d/atm-kiosk.conf', 'usr/lib/tmpfiles.d/atm-kiosk.conf', 'usr/lib/udev/rules.d/70-atm-kiosk.rules']) {
    const info = await stat(path.join(root, file));
    t.is(info.mode & 0o777, 0o644, file);
  }
  t.is(await readFile(path.join(root, 'usr/lib/systemd/system/atm-kiosk.service'), 'utf8'), await readFile('systemd/atm-kiosk.service', 'utf8'));
  t.is(await readlink(path.join(root, UNIT_LINK)), '/usr/lib/systemd/system/atm-kiosk.service');
  t.true(existsSync(path.join(root, 'usr/lib/systemd/system/atm-kiosk.service')), 'the link points at a unit that is in the root');
  t.is(await readlink(path.join(root, 'etc/systemd/system/default.target')), '/usr/lib/systemd/system/graphical.target');
});

/** Runs a systemd tool; a missing one fails the test with the package that provides it. */
function systemdTool(tool: string, args: string[]) {
  const result = spawnSync(tool, args, { encoding: 'utf8' });
  if (result.error) throw new Error(`${tool} is not available (${result.error.message}); install it with: apt-get install -y systemd`);
  return result;
}

test.serial('systemctl --root agrees: the enrolled unit is enabled and graphical.target is the default, with the links systemctl makes', async (t) => {
  const root = await newRoot();
  // What a Raspberry Pi OS root has: systemd's own targets.
  await mkdir(path.join(root, 'usr/lib/systemd/system'), { recursive: true });
  await writeFile(path.join(root, 'usr/lib/systemd/system/graphical.target'), await readFile(hostUnit('graphical.target')));
  await enroll(t, root, 'kiosk-systemctl-1');
  const isEnabled = systemdTool('systemctl', [`--root=${root}`, 'is-enabled', 'atm-kiosk.service']);
  t.is(isEnabled.stdout.trim(), 'enabled', isEnabled.stderr);
  const getDefault = systemdTool('systemctl', [`--root=${root}`, 'get-default']);
  t.is(getDefault.stdout.trim(), 'graphical.target', getDefault.stderr);

  // The same two operations done by systemctl itself on a root with the same files.
  const reference = await newRoot();
  await mkdir(path.join(reference, 'usr/lib/systemd/system'), { recursive: true });
  await writeFile(path.join(reference, 'usr/lib/systemd/system/atm-kiosk.service'), await readFile('systemd/atm-kiosk.service'));
  await writeFile(path.join(reference, 'usr/lib/systemd/system/graphical.target'), await readFile(hostUnit('graphical.target')));
  const enable = systemdTool('systemctl', [`--root=${reference}`, 'enable', 'atm-kiosk.service']);
  t.is(enable.status, 0, enable.stderr);
  const setDefault = systemdTool('systemctl', [`--root=${reference}`, 'set-default', 'graphical.target']);
  t.is(setDefault.status, 0, setDefault.stderr);
  // The lock-down's links: the masks, and USBGuard enabled (its unit from this machine's usbguard package).
  const mask = systemdTool('systemctl', [`--root=${reference}`, 'mask', ...MASKED_UNITS]);
  t.is(mask.status, 0, mask.stderr);
  const usbguardUnit = ['/usr/lib/systemd/system/usbguard.service', '/lib/systemd/system/usbguard.service'].find((file) => existsSync(file));
  if (!usbguardUnit) throw new Error('no usbguard.service on this machine; install it with: apt-get install -y usbguard');
  await writeFile(path.join(reference, 'usr/lib/systemd/system/usbguard.service'), await readFile(usbguardUnit));
  const enableUsbguard = systemdTool('systemctl', [`--root=${reference}`, 'enable', 'usbguard.service']);
  t.is(enableUsbguard.status, 0, enableUsbguard.stderr);
  for (const link of [UNIT_LINK, 'etc/systemd/system/default.target', ...MASKED_UNITS.map((unit) => `etc/systemd/system/${unit}`)]) {
    t.is(await readlink(path.join(root, link)), await readlink(path.join(reference, link)), link);
  }
  const usbguardLink = 'etc/systemd/system/basic.target.wants/usbguard.service';
  t.is(path.basename(await readlink(path.join(root, usbguardLink))), path.basename(await readlink(path.join(reference, usbguardLink))));
  const linksIn = async (r: string) => {
    const links: string[] = [];
    for (const entry of (await readdir(path.join(r, 'etc/systemd/system'), { recursive: true })).map(String)) {
      if ((await lstat(path.join(r, 'etc/systemd/system', entry))).isSymbolicLink()) links.push(entry);
    }
    return links.sort();
  };
  t.deepEqual(await linksIn(root), await linksIn(reference), 'no link more or less than systemctl makes');
});

test.serial("a unit the package installed is kept, not replaced", async (t) => {
  const root = await newRoot();
  const packaged = path.join(root, 'usr/lib/systemd/system/atm-kiosk.service');
  await mkdir(path.dirname(packaged), { recursive: true });
  const packagedText = (await readFile('systemd/atm-kiosk.service', 'utf8')).replace('RestartSec=2', 'RestartSec=3');
  await writeFile(packaged, packagedText);
  const run = await enroll(t, root, 'kiosk-packaged-1');
  t.regex(run.out, /kept\s+\S+usr\/lib\/systemd\/system\/atm-kiosk\.service/);
  t.is(await readFile(packaged, 'utf8'), packagedText);
  t.is(await readlink(path.join(root, UNIT_LINK)), '/usr/lib/systemd/system/atm-kiosk.service');
});

test.serial('enroll again changes nothing: same key, same files, no new key on the host', async (t) => {
  const root = await newRoot({ kioskUid: 4242 });
  await enroll(t, root, 'kiosk-rerun-1');
  const before = await Promise.all([KEY, CONFIG].map((f) => stat(path.join(root, f))));
  const keyBefore = await keyOf(root);
  const versionBefore = (await deviceOnHost('kiosk-rerun-1'))?.keyVersion;
  await new Promise((r) => setTimeout(r, 20));

  const again = await enroll(t, root, 'kiosk-rerun-1');
  const fileLines = again.out.split('\n').filter((l) => /^(created|updated|unchanged|kept)\s/.test(l));
  // The key and its record, kiosk.json, 5 packaged files, 2 enable links, and the lock-down: 5 masks,
  // 5 files and USBGuard's enable link.
  t.is(fileLines.length, 21, again.out);
  for (const line of fileLines) t.regex(line, /^(unchanged|kept) /, line);
  const after = await Promise.all([KEY, CONFIG].map((f) => stat(path.join(root, f))));
  t.deepEqual(after.map((s) => s.mtimeMs), before.map((s) => s.mtimeMs));
  t.true((await keyOf(root)).equals(keyBefore));
  t.is((await deviceOnHost('kiosk-rerun-1'))?.keyVersion, versionBefore);
  t.true(await hostAcceptsKey('kiosk-rerun-1', keyBefore));
});

test.serial("a different device's identity is refused without --force and replaced with it", async (t) => {
  const root = await newRoot();
  await enroll(t, root, 'kiosk-first-1');
  const firstKey = await keyOf(root);

  const refused = await provision('enroll', '--device-id', 'kiosk-second-1', '--host', host(), '--root', root, '--admin-socket', h.adminSocket);
  t.is(refused.code, 1);
  t.regex(refused.err, /already holds the identity of kiosk kiosk-first-1; refusing to replace it with kiosk-second-1.*--force/);
  t.is(await deviceOnHost('kiosk-second-1'), undefined, 'nothing was registered on the host');
  t.true((await keyOf(root)).equals(firstKey));
  t.is(JSON.parse(await readFile(path.join(root, CONFIG), 'utf8')).deviceId, 'kiosk-first-1');

  const forced = await enroll(t, root, 'kiosk-second-1', '--force');
  t.regex(forced.err, /replacing the identity of kiosk kiosk-first-1 with kiosk-second-1 \(--force\); kiosk-first-1 stays registered/);
  t.is(JSON.parse(await readFile(path.join(root, CONFIG), 'utf8')).deviceId, 'kiosk-second-1');
  const secondKey = await keyOf(root);
  t.false(secondKey.equals(firstKey));
  t.true(await hostAcceptsKey('kiosk-second-1', secondKey));
});

test.serial('enroll with --key-file installs the key an operator made with bank-host device add', async (t) => {
  const root = await newRoot();
  const key = await h.addDevice('kiosk-keyfile-1');
  keysSeen.add(key.toString('hex'));
  const keyFile = await transportFile('kiosk-keyfile-1.key', 'kiosk-keyfile-1', 1, key);

  const run = await provision('enroll', '--device-id', 'kiosk-keyfile-1', '--host', host(), '--root', root, '--key-file', keyFile);
  t.is(run.code, 0, run.err);
  t.regex(run.out, /delete .*kiosk-keyfile-1\.key now/);
  t.is((await stat(path.join(root, KEY))).mode & 0o777, 0o400);
  t.is((await stat(path.join(root, KEY))).uid, 0, 'root-owned');
  t.regex(run.out, /no atm-kiosk user yet/);
  t.true((await keyOf(root)).equals(key));
  const check = await provision('check', '--root', root);
  t.is(check.code, 0, check.out);
  t.regex(check.out, /accepted device kiosk-keyfile-1 with this key and answered ping/);
  t.regex(check.out, new RegExp(`ok +\\S+k_shared\\.info: device kiosk-keyfile-1, key version 1, check value \\(KCV\\) ${await keyCheckValue(key)} \\(matches the key\\)`));
});

test.serial('a key file that is not a transport file, a bare key, or a damaged one is refused without quoting it', async (t) => {
  const root = await newRoot();
  const keyFile = path.join(scratch, 'bad.key');
  await writeSecretFile(keyFile, 'secret-looking-text-that-is-not-a-key\n');
  let run = await provision('enroll', '--device-id', 'kiosk-badkey-1', '--host', host(), '--root', root, '--key-file', keyFile);
  t.is(run.code, 1);
  t.regex(run.err, /not a K_SHARED transport file/);
  t.false(run.err.includes('secret-looking'));

  const bare = path.join(scratch, 'bare.key');
  await writeSecretFile(bare, 'cd'.repeat(32) + '\n');
  run = await provision('enroll', '--device-id', 'kiosk-badkey-1', '--host', host(), '--root', root, '--key-file', bare);
  t.is(run.code, 1);
  t.regex(run.err, /a bare key without its device and check value/);

  const good = await formatKeyTransport('kiosk-badkey-1', 1, Buffer.alloc(32, 0xcd));
  const damaged = path.join(scratch, 'damaged.key');
  await writeSecretFile(damaged, good.replace(/ (\S+) (\S+)\n$/, (_all, hex: string, kcv: string) => ` ${hex.slice(0, -1)}${hex.endsWith('0') ? '1' : '0'} ${kcv}\n`));
  run = await provision('enroll', '--device-id', 'kiosk-badkey-1', '--host', host(), '--root', root, '--key-file', damaged);
  t.is(run.code, 1);
  t.regex(run.err, /does not match its check value: the file was changed or damaged/);
  t.false(existsSync(path.join(root, 'etc')) && existsSync(path.join(root, CONFIG)), 'nothing written');
  t.false(existsSync(path.join(root, KEY)));
});

test.serial("enroll --key-file refuses another kiosk's key and writes nothing", async (t) => {
  const root = await newRoot();
  const otherKey = await h.addDevice('kiosk-neighbour-1');
  keysSeen.add(otherKey.toString('hex'));
  const keyFile = await transportFile('neighbour.key', 'kiosk-neighbour-1', 1, otherKey);
  const run = await provision('enroll', '--device-id', 'kiosk-self-1', '--host', host(), '--root', root, '--key-file', keyFile);
  t.is(run.code, 1);
  t.regex(run.err, /holds the key of kiosk kiosk-neighbour-1, not of kiosk-self-1/);
  t.false(existsSync(path.join(root, 'etc/atm-kiosk')), 'nothing written');
});

test.serial('rotate through the admin socket: the old key is refused, the new one accepted', async (t) => {
  const root = await newRoot({ kioskUid: 4242 });
  await enroll(t, root, 'kiosk-rotate-1');
  const oldKey = await keyOf(root);
  const run = await provision('rotate', '--root', root, '--admin-socket', h.adminSocket);
  t.is(run.code, 0, run.err);
  t.regex(run.out, /rotated kiosk-rotate-1's key \(now version 2\)/);
  const newKey = await keyOf(root);
  t.false(newKey.equals(oldKey));
  t.is((await stat(path.join(root, KEY))).mode & 0o777, 0o400);
  t.is((await stat(path.join(root, KEY))).uid, 0);
  t.regex(run.out, new RegExp(`key version 2, check value \\(KCV\\) ${await keyCheckValue(newKey)}`));
  t.false(await hostAcceptsKey('kiosk-rotate-1', oldKey));
  t.true(await hostAcceptsKey('kiosk-rotate-1', newKey));
  t.is((await probeHost({ host: '127.0.0.1', port: h.port, deviceId: 'kiosk-rotate-1', kShared: oldKey })).outcome, 'handshake-refused');
});

test.serial('rotate with --key-file installs a key from bank-host device rotate', async (t) => {
  const root = await newRoot();
  await enroll(t, root, 'kiosk-rotate-2');
  const oldKey = await keyOf(root);
  const { kSharedHex, device } = (await sendAdminCommand(h.adminSocket, 'device.rotate', { deviceId: 'kiosk-rotate-2' })) as { kSharedHex: string; device: { keyVersion: number } };
  keysSeen.add(kSharedHex);
  const keyFile = await transportFile('rotate-2.key', 'kiosk-rotate-2', device.keyVersion, Buffer.from(kSharedHex, 'hex'));
  const run = await provision('rotate', '--root', root, '--key-file', keyFile);
  t.is(run.code, 0, run.err);
  t.regex(run.out, /installed the new key for kiosk-rotate-2/);
  t.is((await keyOf(root)).toString('hex'), kSharedHex);
  t.false(await hostAcceptsKey('kiosk-rotate-2', oldKey));
  t.true(await hostAcceptsKey('kiosk-rotate-2', Buffer.from(kSharedHex, 'hex')));
  const again = await provision('rotate', '--root', root, '--key-file', keyFile);
  t.regex(again.out, /already installed/);
});

test.serial('revoke: the host refuses the handshake and the local key is wiped', async (t) => {
  const root = await newRoot();
  await enroll(t, root, 'kiosk-revoke-1');
  const key = await keyOf(root);
  const run = await provision('revoke', '--root', root, '--admin-socket', h.adminSocket);
  t.is(run.code, 0, run.err);
  t.regex(run.out, /revoked kiosk-revoke-1 on the bank host/);
  t.regex(run.out, /wiped and removed/);
  t.is((await deviceOnHost('kiosk-revoke-1'))?.status, 'revoked');
  t.false(existsSync(path.join(root, KEY)));
  t.is((await probeHost({ host: '127.0.0.1', port: h.port, deviceId: 'kiosk-revoke-1', kShared: key })).outcome, 'handshake-refused');
  t.false(await hostAcceptsKey('kiosk-revoke-1', key));
  const check = await provision('check', '--root', root, '--admin-socket', h.adminSocket);
  t.is(check.code, 1);
  t.regex(check.out, /atm-kiosk\.k_shared: missing/);
  t.false(existsSync(path.join(root, KEY_INFO)), 'the record of the key goes with it');
  t.regex(check.out, /device kiosk-revoke-1 is revoked on the bank host/);

  const again = await provision('enroll', '--device-id', 'kiosk-revoke-1', '--host', host(), '--root', root, '--admin-socket', h.adminSocket);
  t.is(again.code, 1);
  t.regex(again.err, /already registered on the bank host/);
});

test.serial('revoke by device id alone (a lost kiosk), and --local-only leaves the host side to the CLI', async (t) => {
  await h.addDevice('kiosk-stolen-1');
  const byId = await provision('revoke', '--device-id', 'kiosk-stolen-1', '--admin-socket', h.adminSocket);
  t.is(byId.code, 0, byId.err);
  t.is((await deviceOnHost('kiosk-stolen-1'))?.status, 'revoked');

  const root = await newRoot();
  await enroll(t, root, 'kiosk-local-1');
  const local = await provision('revoke', '--root', root, '--local-only');
  t.is(local.code, 0, local.err);
  t.false(existsSync(path.join(root, KEY)));
  t.regex(local.err, /still accepts kiosk-local-1's key until you run `bank-host device revoke kiosk-local-1`/);
  t.is((await deviceOnHost('kiosk-local-1'))?.status, 'active');

  const mismatch = await provision('revoke', '--root', root, '--device-id', 'kiosk-other-1', '--admin-socket', h.adminSocket);
  t.is(mismatch.code, 1);
  t.regex(mismatch.err, /holds kiosk kiosk-local-1, not kiosk-other-1/);
});

test.serial("the operator's flow with the bank-host CLI: device add, then enroll; device rotate, then rotate; device revoke", async (t) => {
  const root = await newRoot({ kioskUid: 4242 });
  const firstKeyFile = path.join(scratch, 'kiosk-operator-1.key');
  const added = await bankHost('device', 'add', 'kiosk-operator-1', '--key-out', firstKeyFile);
  t.is(added.code, 0, added.err);
  t.is((await stat(firstKeyFile)).mode & 0o777, 0o600, 'the operator gets an owner-only key file');
  t.regex(await readFile(firstKeyFile, 'utf8'), /^atm-k-shared v1 kiosk-operator-1 1 [0-9a-f]{64} [0-9A-F]{10}\n$/, 'the transport format, naming the device and key version');
  const enrolled = await provision('enroll', '--device-id', 'kiosk-operator-1', '--host', host(), '--root', root, '--key-file', firstKeyFile);
  t.is(enrolled.code, 0, enrolled.err);
  const firstKey = await keyOf(root);
  t.is((await provision('check', '--root', root)).code, 0);

  const secondKeyFile = path.join(scratch, 'kiosk-operator-1.rotated.key');
  const rotatedOnHost = await bankHost('device', 'rotate', 'kiosk-operator-1', '--key-out', secondKeyFile);
  t.is(rotatedOnHost.code, 0, rotatedOnHost.err);
  let check = await provision('check', '--root', root);
  t.is(check.code, 1, 'the card still has the old key');
  t.regex(check.out, /handshake refused/);
  const rotated = await provision('rotate', '--root', root, '--key-file', secondKeyFile);
  t.is(rotated.code, 0, rotated.err);
  const secondKey = await keyOf(root);
  t.false(secondKey.equals(firstKey));
  t.is((await stat(path.join(root, KEY))).uid, 0);
  t.regex(rotated.out, new RegExp(`key version 2, check value \\(KCV\\) ${await keyCheckValue(secondKey)}`));
  check = await provision('check', '--root', root);
  t.is(check.code, 0, check.out);

  const revokedOnHost = await bankHost('device', 'revoke', 'kiosk-operator-1');
  t.is(revokedOnHost.code, 0, revokedOnHost.err);
  t.false(await hostAcceptsKey('kiosk-operator-1', secondKey));
  const local = await provision('revoke', '--root', root, '--local-only');
  t.is(local.code, 0, local.err);
  t.false(existsSync(path.join(root, KEY)));
  check = await provision('check', '--root', root, '--admin-socket', h.adminSocket);
  t.regex(check.out, /device kiosk-operator-1 is revoked on the bank host/);
});

test.serial('check passes on a freshly enrolled root', async (t) => {
  const root = await newRoot({ kioskUid: 4242 });
  await enroll(t, root, 'kiosk-check-ok');
  const check = await provision('check', '--root', root, '--admin-socket', h.adminSocket);
  t.is(check.code, 0, check.out);
  t.regex(check.out, /ready: nothing missing or wrong/);
  t.regex(check.out, new RegExp(`k_shared\\.info: device kiosk-check-ok, key version 1, check value \\(KCV\\) ${await keyCheckValue(await keyOf(root))}`));
});

test.serial('check reports a missing key, a loose mode, a missing unit link and a wrong default target', async (t) => {
  const root = await newRoot();
  await enroll(t, root, 'kiosk-check-files');
  await chmod(path.join(root, KEY), 0o644);
  let check = await provision('check', '--root', root, '--offline');
  t.is(check.code, 1);
  t.regex(check.out, /PROBLEM \S+k_shared\.staged: mode 0644 lets others read or change the key; it must be root-only/);

  await rm(path.join(root, KEY));
  await rm(path.join(root, UNIT_LINK));
  await rm(path.join(root, 'etc/systemd/system/default.target'));
  await symlink('/usr/lib/systemd/system/multi-user.target', path.join(root, 'etc/systemd/system/default.target'));
  await rm(path.join(root, 'usr/lib/tmpfiles.d/atm-kiosk.conf'));
  check = await provision('check', '--root', root, '--offline');
  t.is(check.code, 1);
  t.regex(check.out, /PROBLEM \S+atm-kiosk\.k_shared: missing/);
  t.regex(check.out, /PROBLEM \S+graphical\.target\.wants\/atm-kiosk\.service: atm-kiosk\.service is not enabled/);
  t.regex(check.out, /PROBLEM \S+default\.target: the default target is not graphical\.target/);
  t.regex(check.out, /PROBLEM \S+tmpfiles\.d\/atm-kiosk\.conf: missing/);

  // The host still has the device but the root lost its key: enroll cannot recover it, rotate can; then
  // enroll repairs the rest.
  const repair = await provision('enroll', '--device-id', 'kiosk-check-files', '--host', host(), '--root', root, '--admin-socket', h.adminSocket);
  t.is(repair.code, 1, 'the lost key cannot be recovered from the host');
  t.regex(repair.err, /bank-host device rotate kiosk-check-files --key-out FILE/);
  const rotated = await provision('rotate', '--root', root, '--admin-socket', h.adminSocket);
  t.is(rotated.code, 0, rotated.err);
  const fixed = await enroll(t, root, 'kiosk-check-files');
  t.regex(fixed.out, /updated\s+\S+default\.target/);
  check = await provision('check', '--root', root);
  t.is(check.code, 0, check.out);
});

test.serial('check reports a missing config', async (t) => {
  const root = await newRoot();
  const check = await provision('check', '--root', root);
  t.is(check.code, 1);
  t.regex(check.out, /PROBLEM \S+kiosk\.json: missing/);
  t.regex(check.out, /PROBLEM host: not contacted: needs a valid kiosk\.json and key first/);
});

test.serial('check tells an unknown device or wrong key (handshake refused) from an unreachable host', async (t) => {
  // A root prepared for a device the host never registered.
  const unknown = await newRoot();
  const key = Buffer.alloc(32, 0xab);
  const keyFile = await transportFile('unregistered.key', 'kiosk-unknown-1', 1, key);
  t.is((await provision('enroll', '--device-id', 'kiosk-unknown-1', '--host', host(), '--root', unknown, '--key-file', keyFile)).code, 0);
  let check = await provision('check', '--root', unknown);
  t.is(check.code, 1);
  t.regex(check.out, /PROBLEM host: handshake refused by 127\.0\.0\.1:\d+: the host does not accept device kiosk-unknown-1 with this key/);
  check = await provision('check', '--root', unknown, '--admin-socket', h.adminSocket);
  t.regex(check.out, /PROBLEM host: the bank host does not know device kiosk-unknown-1/);

  // A registered device with the wrong key.
  const wrong = await newRoot();
  await h.addDevice('kiosk-wrongkey-1');
  t.is((await provision('enroll', '--device-id', 'kiosk-wrongkey-1', '--host', host(), '--root', wrong, '--key-file', await transportFile('wrongkey.key', 'kiosk-wrongkey-1', 1, key))).code, 0);
  check = await provision('check', '--root', wrong);
  t.is(check.code, 1);
  t.regex(check.out, /handshake refused/);

  // The host address is a closed port.
  const closed = await newRoot();
  const port = await closedPort();
  t.is((await provision('enroll', '--device-id', 'kiosk-closed-1', '--host', `127.0.0.1:${port}`, '--root', closed, '--key-file', await transportFile('closed.key', 'kiosk-closed-1', 1, key))).code, 0);
  check = await provision('check', '--root', closed, '--timeout-ms', '2000');
  t.is(check.code, 1);
  t.regex(check.out, new RegExp(`PROBLEM host: host unreachable: 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
  t.notRegex(check.out, /handshake refused/);
});

test.serial('--settings supplies the site hardware; identity fields and invalid values are refused', async (t) => {
  const root = await newRoot();
  const settings = path.join(scratch, 'site.json');
  await writeFile(settings, JSON.stringify({
    devices: { cardReader: { kind: 'simulated' }, pinPad: { kind: 'epp', path: '/dev/ttyUSB7' }, dispenser: { kind: 'simulated' }, printer: { kind: 'simulated' } },
    cassettes: [{ denominationCents: 2000, count: 100 }, { denominationCents: 5000, count: 40 }],
    languages: ['fr', 'en'],
  }));
  await enroll(t, root, 'kiosk-site-1', '--settings', settings);
  const config = parseKioskConfig(JSON.parse(await readFile(path.join(root, CONFIG), 'utf8')));
  t.deepEqual(config.cassettes.map((c) => c.denominationCents), [2000, 5000]);
  t.deepEqual(config.devices.pinPad, { kind: 'epp', path: '/dev/ttyUSB7', baudRate: 9600 });
  // A later run without --settings keeps what the root has.
  const again = await enroll(t, root, 'kiosk-site-1');
  t.regex(again.out, /unchanged\s+\S+kiosk\.json/);

  // The PIN typed on screen is refused without the demo setting, and `check` refuses the demo setting.
  await writeFile(settings, JSON.stringify({ devices: { cardReader: { kind: 'simulated' }, pinPad: { kind: 'on-screen' }, dispenser: { kind: 'simulated' }, printer: { kind: 'simulated' } }, cassettes: [{ denominationCents: 2000, count: 100 }] }));
  const onScreen = await provision('enroll', '--device-id', 'kiosk-site-3', '--host', host(), '--root', await newRoot(), '--admin-socket', h.adminSocket, '--settings', settings);
  t.is(onScreen.code, 1);
  t.regex(onScreen.err, /devices\.pinPad: kind on-screen puts the PIN's digits in the kiosk's software/);
  const demoRoot = await newRoot();
  await writeFile(settings, JSON.stringify({ devices: { cardReader: { kind: 'simulated' }, pinPad: { kind: 'on-screen' }, dispenser: { kind: 'simulated' }, printer: { kind: 'simulated' } }, cassettes: [{ denominationCents: 2000, count: 100 }], demoPinEntry: { identityFile: 'epp-identity' } }));
  await enroll(t, demoRoot, 'kiosk-site-4', '--settings', settings);
  const demoCheck = await provision('check', '--root', demoRoot, '--timeout-ms', '2000');
  t.is(demoCheck.code, 1);
  t.regex(demoCheck.out, /PROBLEM \S*kiosk\.json: the PIN pad is on-screen with the demo setting demoPinEntry: a kiosk in service has an encrypting PIN pad/);

  await writeFile(settings, JSON.stringify({ deviceId: 'sneaky-1' }));
  let bad = await provision('enroll', '--device-id', 'kiosk-site-2', '--host', host(), '--root', await newRoot(), '--admin-socket', h.adminSocket, '--settings', settings);
  t.is(bad.code, 1);
  t.regex(bad.err, /sets deviceId: provisioning writes those from its own arguments/);
  await writeFile(settings, JSON.stringify({ cassettes: [] }));
  bad = await provision('enroll', '--device-id', 'kiosk-site-2', '--host', host(), '--root', await newRoot(), '--admin-socket', h.adminSocket, '--settings', settings);
  t.is(bad.code, 1);
  t.regex(bad.err, /cassettes: Array must contain at least 1 element/);
  t.is(await deviceOnHost('kiosk-site-2'), undefined, 'an invalid config registers nothing');
});

test.serial('--udev-rules writes the site rules to /etc/udev/rules.d', async (t) => {
  const root = await newRoot();
  const rules = path.join(scratch, 'site.rules');
  await writeFile(rules, 'SUBSYSTEM=="hidraw", ATTRS{idVendor}=="1234", GROUP="atm-kiosk", MODE="0660"\n');
  await enroll(t, root, 'kiosk-udev-1', '--udev-rules', rules);
  t.is(await readFile(path.join(root, 'etc/udev/rules.d/70-atm-kiosk.rules'), 'utf8'), await readFile(rules, 'utf8'));
});

test.serial('--restrict-network limits the kiosk to the bank host, and only for an IP address', async (t) => {
  const root = await newRoot();
  await enroll(t, root, 'kiosk-net-1', '--restrict-network');
  const dropIn = await readFile(path.join(root, 'etc/systemd/system/atm-kiosk.service.d/host-address.conf'), 'utf8');
  t.regex(dropIn, /^\[Service\]$/m);
  t.regex(dropIn, /^IPAddressDeny=any$/m);
  t.regex(dropIn, /^IPAddressAllow=127\.0\.0\.1 localhost$/m);
  const named = await provision('enroll', '--device-id', 'kiosk-net-2', '--host', 'bank.example:7443', '--root', await newRoot(), '--admin-socket', h.adminSocket, '--restrict-network');
  t.is(named.code, 2);
  t.regex(named.err, /--restrict-network needs every --host as an IP address/);
});

test.serial(
  "on a root without the kiosk user, the package's postinst (sysusers, then tmpfiles) gives kiosk.json to atm-kiosk and leaves the key root's",
  async (t) => {
    if (process.getuid?.() !== 0) throw new Error('systemd-tmpfiles must change file owners here: run this test as root');
    const root = await newRoot();
    await enroll(t, root, 'kiosk-firstboot-1');
    t.is((await stat(path.join(root, KEY))).uid, 0);
    // What kiosk/build/packaging/postinst.sh runs, here against the card's root.
    const sysusers = systemdTool('systemd-sysusers', [`--root=${root}`, path.join(root, 'usr/lib/sysusers.d/atm-kiosk.conf')]);
    t.is(sysusers.status, 0, sysusers.stderr);
    const tmpfiles = systemdTool('systemd-tmpfiles', [`--root=${root}`, '--create', path.join(root, 'usr/lib/tmpfiles.d/atm-kiosk.conf')]);
    t.is(tmpfiles.status, 0, tmpfiles.stderr);
    const gid = Number(/^atm-kiosk:x:(\d+):/m.exec(await readFile(path.join(root, 'etc/group'), 'utf8'))?.[1]);
    t.is((await stat(path.join(root, CONFIG))).gid, gid, 'the kiosk may read its configuration');
    const key = await stat(path.join(root, KEY));
    t.is(key.uid, 0, 'but never the clear key: only the seal unit, as root, reads it');
    t.is(key.mode & 0o777, 0o400);
    t.is((await stat(path.join(root, 'etc/credstore.encrypted'))).mode & 0o777, 0o700);
    // Enrolling again now that the user exists changes nothing of that, and check agrees.
    await enroll(t, root, 'kiosk-firstboot-1');
    t.is((await stat(path.join(root, KEY))).uid, 0);
    const check = await provision('check', '--root', root, '--offline');
    t.is(check.code, 0, check.out);
    t.regex(check.out, /k_shared\.staged: root-only \(0400\); the kiosk seals it with systemd-creds at its next start/);
  },
);

test.serial('--help works for every command', async (t) => {
  for (const argv of [['--help'], ['help'], ['enroll', '--help'], ['rotate', '--help'], ['revoke', '--help'], ['check', '--help'], ['enroll', '-h'], ['help', 'enroll'], ['help', 'rotate'], ['help', 'revoke'], ['help', 'check']]) {
    const run = await provision(...argv);
    t.is(run.code, 0, argv.join(' '));
    t.regex(run.out, /Usage/, argv.join(' '));
    t.is(run.err, '');
  }
  t.is((await provision()).code, 2, 'no command at all is a usage error');
  t.is((await provision('help', 'frobnicate')).code, 2);
});

test.serial('--version prints the package version, on both CLIs', async (t) => {
  const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
  const run = await provision('--version');
  t.is(run.code, 0);
  t.is(run.out, `provision ${version}\n`);
  let out = '';
  t.is(await bankHostCli(['--version'], { out: (text) => (out += text + '\n'), err: () => {}, env: {}, readSecret: async () => '' }), 0);
  t.is(out, `bank-host ${version}\n`);
});

test.serial('bad arguments exit 2 with a clear message', async (t) => {
  const root = await newRoot();
  const base = ['--root', root, '--admin-socket', h.adminSocket];
  const cases: [string[], RegExp][] = [
    [['enroll', '--device-id', 'Kiosk_1', '--host', host(), ...base], /--device-id "Kiosk_1" is not a device id: 3-63 characters of a-z, 0-9 and -/],
    [['enroll', '--device-id', 'k', '--host', host(), ...base], /is not a device id/],
    [['enroll', '--host', host(), ...base], /--device-id ID is required/],
    [['enroll', '--device-id', 'kiosk-args-1', '--host', 'bank.example', ...base], /--host must be HOST:PORT/],
    [['enroll', '--device-id', 'kiosk-args-1', '--host', 'bank.example:70000', ...base], /--host must be HOST:PORT .*port 1-65535/],
    [['enroll', '--device-id', 'kiosk-args-1', '--host', 'bad host:7443', ...base], /--host must be HOST:PORT/],
    [['enroll', '--device-id', 'kiosk-args-1', '--host', '2001:db8::1:7443', ...base], /IPv6 as \[addr\]:port/],
    [['enroll', '--device-id', 'kiosk-args-1', ...base], /--host HOST:PORT is required/],
    [['enroll', '--device-id', 'kiosk-args-1', '--host', host(), '--admin-socket', h.adminSocket], /--root DIR is required/],
    [['enroll', '--device-id', 'kiosk-args-1', '--host', host(), '--root', root], /give --key-file FILE .* or --admin-socket PATH/],
    [['enroll', '--device-id', 'kiosk-args-1', '--host', host(), ...base, '--key-file', '/nonexistent'], /either --key-file or --admin-socket, not both/],
    [['enroll', '--device-id', 'kiosk-args-1', '--host', host(), ...base, '--bogus'], /Unknown option '--bogus'/],
    [['enroll', 'stray', '--device-id', 'kiosk-args-1', '--host', host(), ...base], /unexpected argument "stray"/],
    [['rotate', '--root', root], /give --key-file FILE/],
    [['rotate', '--admin-socket', h.adminSocket], /--root DIR is required/],
    [['revoke', '--admin-socket', h.adminSocket], /give --root DIR or --device-id ID/],
    [['revoke', '--device-id', 'kiosk-args-1'], /either --admin-socket PATH .* or --local-only/],
    [['revoke', '--device-id', 'kiosk-args-1', '--local-only'], /--local-only needs --root DIR/],
    [['check'], /--root DIR is required/],
    [['check', '--root', root, '--timeout-ms', 'soon'], /--timeout-ms must be a whole number of milliseconds/],
    [['check', '--root', root, '--timeout-ms', '0'], /--timeout-ms must be a whole number of milliseconds from 1 to 60000/],
    [['check', '--root', root, '--timeout-ms', '60001'], /--timeout-ms must be a whole number of milliseconds from 1 to 60000/],
    [['check', '--root', root, '--timeout-ms', '-5'], /--timeout-ms/],
    [['check', '--root', root, '--offline=yes'], /--offline/],
    [['check', '--root', ''], /--root DIR is required/],
    [['enroll', '--device-id', 'kiosk-args-1', '--device-id', 'kiosk-args-2', '--host', host(), ...base], /--device-id is given more than once/],
    [['enroll', '--device-id', 'kiosk-args-1', '--host', host(), '--host', host(), ...base], /--host 127\.0\.0\.1:\d+ is given twice/],
    [['enroll', '--device-id', 'kiosk-args-1', '--host', host(), ...base, '--force', '--force'], /--force is given more than once/],
    [['enroll', '--device-id', 'kiosk-args-1', '--host', host(), ...base, '--force=yes'], /--force/],
    [['enroll', '--device-id', '-kiosk', '--host', host(), ...base], /Option '--device-id' argument is ambiguous/],
    [['enroll', '--device-id=-kiosk', '--host', host(), ...base], /--device-id "-kiosk" is not a device id/],
    [['enroll', '--device-id', 'kiosk-args-1', '--host', ':7443', ...base], /--host must be HOST:PORT/],
    [['enroll', '--device-id', 'kiosk-args-1', '--host', 'bank.example:0', ...base], /port 1-65535/],
    [['enroll', '--device-id', 'kiosk-args-1', '--host', '[not-an-ip]:7443', ...base], /--host must be HOST:PORT/],
    [['enroll', '--device-id', 'kiosk-args-1', '--host', host(), ...base, '--udev-rules', path.join(scratch, 'no-such.rules')], /--udev-rules .*no-such\.rules: cannot read it \(ENOENT\)/],
    [['enroll', '--device-id', 'kiosk-args-1', '--host', host(), ...base, '--udev-rules', scratch], /--udev-rules .*: cannot read it \(EISDIR\)/],
    [['enroll', '--device-id', 'kiosk-args-1', '--host', host(), ...base, '--udev-rules', '/dev/null'], /--udev-rules \/dev\/null is empty/],
    [['enroll', '--device-id', 'kiosk-args-1', '--host', 'bank.example:7443', ...base, '--restrict-network'], /--restrict-network needs every --host as an IP address/],
    [['rotate', '--root', root, '--key-file', '/nonexistent', '--admin-socket', h.adminSocket], /either --key-file or --admin-socket, not both/],
    [['rotate', '--root', root, '--admin-socket', h.adminSocket, 'extra'], /unexpected argument "extra"/],
    [['revoke', '--device-id', 'Bad_Id', '--admin-socket', h.adminSocket], /--device-id "Bad_Id" is not a device id/],
    [['revoke', '--device-id', 'kiosk-args-1', '--admin-socket', h.adminSocket, '--local-only'], /either --admin-socket PATH .* or --local-only/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['enroll', '--device-id', 'kiosk-args-1', '--host', host(), ...base, '--serial-adapter', '403:6001'], /--serial-adapter must be VID:PID/],
    [['enroll', '--device-id', 'kiosk-args-1', '--host', host(), ...base, '--touchscreen', 'touch'], /--touchscreen must be VID:PID/],
  ];
  for (const [argv, message] of cases) {
    const run = await provision(...argv);
    t.is(run.code, 2, argv.join(' '));
    t.regex(run.err, message, argv.join(' '));
  }
  t.false(existsSync(path.join(root, 'etc/atm-kiosk')), 'a refused command writes nothing');
  t.is(await deviceOnHost('kiosk-args-1'), undefined, 'and registers nothing');

  const missingRoot = await provision('enroll', '--device-id', 'kiosk-args-1', '--host', host(), '--root', path.join(scratch, 'no-such-card'), '--admin-socket', h.adminSocket);
  t.is(missingRoot.code, 1);
  t.regex(missingRoot.err, /is not a folder/);
  const deadSocket = await provision('enroll', '--device-id', 'kiosk-args-1', '--host', host(), '--root', root, '--admin-socket', path.join(scratch, 'no.sock'));
  t.is(deadSocket.code, 1);
  t.regex(deadSocket.err, /cannot reach the host at .*no\.sock/);

  // Files that exist but are not what they should be: exit 1, with what is wrong.
  const keyIsFolder = await provision('enroll', '--device-id', 'kiosk-args-1', '--host', host(), '--root', root, '--key-file', scratch);
  t.is(keyIsFolder.code, 1);
  t.regex(keyIsFolder.err, /--key-file .* is not a regular file/);
  const missingKey = await provision('enroll', '--device-id', 'kiosk-args-1', '--host', host(), '--root', root, '--key-file', path.join(scratch, 'no-such.key'));
  t.is(missingKey.code, 1);
  t.regex(missingKey.err, /--key-file .*no-such\.key: cannot read it \(ENOENT\)/);
  const missingSettings = await provision('enroll', '--device-id', 'kiosk-args-1', '--host', host(), '--root', root, '--admin-socket', h.adminSocket, '--settings', path.join(scratch, 'no-such.json'));
  t.is(missingSettings.code, 1);
  t.regex(missingSettings.err, /--settings .*no-such\.json: cannot read it \(ENOENT\)/);
  await writeFile(path.join(scratch, 'not-json.json'), '{ devices: ');
  const notJson = await provision('enroll', '--device-id', 'kiosk-args-1', '--host', host(), '--root', root, '--admin-socket', h.adminSocket, '--settings', path.join(scratch, 'not-json.json'));
  t.is(notJson.code, 1);
  t.regex(notJson.err, /not valid JSON/);
  await writeFile(path.join(scratch, 'array.json'), '[]');
  const notObject = await provision('enroll', '--device-id', 'kiosk-args-1', '--host', host(), '--root', root, '--admin-socket', h.adminSocket, '--settings', path.join(scratch, 'array.json'));
  t.is(notObject.code, 1);
  t.regex(notObject.err, /must be a JSON object/);
  const checkNoFolder = await provision('check', '--root', path.join(scratch, 'no-such-card'));
  t.is(checkNoFolder.code, 1);
  t.regex(checkNoFolder.err, /is not a folder/);
  const rotateNotEnrolled = await provision('rotate', '--root', root, '--admin-socket', h.adminSocket);
  t.is(rotateNotEnrolled.code, 1);
  t.regex(rotateNotEnrolled.err, /names no device: enroll the kiosk first/);
  t.false(existsSync(path.join(root, 'etc/atm-kiosk/kiosk.json')), 'none of these wrote a configuration');
  t.is(await deviceOnHost('kiosk-args-1'), undefined, 'or registered anything');
});

test.serial('no key ever appears in anything the commands printed', async (t) => {
  t.true(keysSeen.size >= 8, `keys collected: ${keysSeen.size}`);
  t.true(everything.length > 1000);
  for (const key of keysSeen) {
    t.false(everything.toLowerCase().includes(key), 'a K_SHARED in the output');
    t.false(everything.includes(Buffer.from(key, 'hex').toString('base64')), 'a K_SHARED in base64 in the output');
  }
  t.false(/[0-9a-f]{64}/i.test(everything), 'nothing key-shaped at all');
});
