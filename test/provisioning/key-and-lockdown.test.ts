// `provision rotate --key-file` refuses a key that is not this kiosk's current one, and `provision check`
// names each part of the lock-down a root lacks. Real files in temporary roots; no bank host is needed (the
// checks run --offline, the keys arrive as the operator's transport files).
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeSecretFile } from '../../bank-host/keys.js';
import { keyCheckValue } from '../../protocol/key-block.js';
import { formatKeyTransport } from '../../protocol/key-transport.js';
import { main, type Io } from '../../provisioning/cli/main.js';
import { recordScenarioResult } from '../reliability/results.js';

let scratch: string;
let count = 0;
test.before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'provision-lockdown-'));
});
test.after.always(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function provision(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => (out += t + '\n'), err: (t) => (err += t + '\n') };
  return { code: await main(argv, io), out, err };
}

async function keyFile(deviceId: string, keyVersion: number, key: Buffer): Promise<string> {
  const file = path.join(scratch, `key-${++count}`);
  await writeSecretFile(file, await formatKeyTransport(deviceId, keyVersion, key));
  return file;
}

async function enrolledRoot(deviceId: string, key: Buffer, extra: string[] = []): Promise<string> {
  const root = path.join(scratch, `root-${++count}`);
  await mkdir(path.join(root, 'etc'), { recursive: true });
  const run = await provision('enroll', '--device-id', deviceId, '--host', '127.0.0.1:7443', '--root', root, '--key-file', await keyFile(deviceId, 1, key), ...extra);
  if (run.code !== 0) throw new Error(run.err);
  return root;
}

/** Every file under the root with its content and mode: what "changes nothing" is measured against. */
async function snapshot(root: string): Promise<string> {
  const entries = (await readdir(root, { recursive: true })).map(String).sort();
  const lines: string[] = [];
  for (const entry of entries) {
    const file = path.join(root, entry);
    const info = await stat(file).catch(() => undefined);
    lines.push(`${entry} ${info?.mode.toString(8)} ${info?.isFile() ? (await readFile(file)).toString('hex') : ''}`);
  }
  return lines.join('\n');
}

const STAGED = 'etc/atm-kiosk/k_shared.staged';

test("rotate --key-file refuses another kiosk's key, an older one, a conflicting one, a bare one and a damaged one, and changes nothing", async (t) => {
  const key = randomBytes(32);
  const root = await enrolledRoot('kiosk-rotate-a', key);
  const v2 = randomBytes(32);
  t.is((await provision('rotate', '--root', root, '--key-file', await keyFile('kiosk-rotate-a', 2, v2))).code, 0);
  const before = await snapshot(root);

  const bare = path.join(scratch, 'bare');
  await writeSecretFile(bare, randomBytes(32).toString('hex') + '\n');
  const damaged = path.join(scratch, 'damaged');
  await writeSecretFile(damaged, (await formatKeyTransport('kiosk-rotate-a', 3, randomBytes(32))).replace(/[0-9A-F]{10}\n$/, '0000000000\n'));
  const attempts: [string, string, RegExp][] = [
    ["another kiosk's key", await keyFile('kiosk-rotate-b', 3, randomBytes(32)), /holds the key of kiosk kiosk-rotate-b, not of kiosk-rotate-a/],
    ["another kiosk's key with the same version", await keyFile('kiosk-rotate-b', 2, randomBytes(32)), /holds the key of kiosk kiosk-rotate-b/],
    ['the older key', await keyFile('kiosk-rotate-a', 1, key), /key version 1 of kiosk-rotate-a, older than the installed version 2/],
    ['a different key under the installed version', await keyFile('kiosk-rotate-a', 2, randomBytes(32)), /version 2 is installed with KCV/],
    ['a bare key', bare, /a bare key without its device and check value/],
    ['a damaged file', damaged, /does not match its check value/],
  ];
  const accepted: string[] = [];
  for (const [what, file, message] of attempts) {
    const run = await provision('rotate', '--root', root, '--key-file', file);
    if (run.code === 0) accepted.push(what);
    t.is(run.code, 1, what);
    t.regex(run.err, message, what);
  }
  const unchanged = (await snapshot(root)) === before;
  await recordScenarioResult({
    scenario: 'a key of another kiosk installed by provision rotate',
    part: 'rotate --key-file',
    iterations: attempts.length,
    faultsInjected: attempts.length,
    acknowledged: accepted.length,
    lost: null,
    duplicated: null,
    invariantViolations: unchanged ? 0 : 1,
  });
  t.deepEqual(accepted, []);
  t.true(unchanged, 'no refused rotate changed a file of the root');
  t.is((await readFile(path.join(root, STAGED), 'utf8')).trim(), v2.toString('hex'));

  // The current key again is no change at all.
  const again = await provision('rotate', '--root', root, '--key-file', await keyFile('kiosk-rotate-a', 2, v2));
  t.is(again.code, 0, again.err);
  t.regex(again.out, /already installed for kiosk-rotate-a; nothing changed/);
  t.regex(again.out, new RegExp(`check value \\(KCV\\) ${await keyCheckValue(v2)}`));
});

test('after the kiosk sealed its key, rotate still refuses an older key, from what the root recorded', async (t) => {
  const root = await enrolledRoot('kiosk-sealed-a', randomBytes(32));
  t.is((await provision('rotate', '--root', root, '--key-file', await keyFile('kiosk-sealed-a', 2, randomBytes(32)))).code, 0);
  // What atm-kiosk-seal-key.service leaves: the sealed credential, no clear key.
  await writeFile(path.join(root, 'etc/credstore.encrypted/atm-kiosk.k_shared'), 'sealed\n', { mode: 0o600 });
  await unlink(path.join(root, STAGED));
  const older = await provision('rotate', '--root', root, '--key-file', await keyFile('kiosk-sealed-a', 1, randomBytes(32)));
  t.is(older.code, 1);
  t.regex(older.err, /older than the installed version 2/);
  const check = await provision('check', '--root', root, '--offline');
  t.is(check.code, 0, check.out);
  t.regex(check.out, /atm-kiosk\.k_shared: sealed with systemd-creds/);
  t.regex(check.out, /k_shared\.info: device kiosk-sealed-a, key version 2, check value \(KCV\) [0-9A-F]{10}\n/);
});

test('enroll writes the whole lock-down, a second run changes none of it, and check verifies it', async (t) => {
  const root = await enrolledRoot('kiosk-lock-a', randomBytes(32), ['--serial-adapter', '1a86:7523', '--touchscreen', '0eef:0001']);
  for (const unit of ['getty@.service', 'autovt@.service', 'serial-getty@.service', 'console-getty.service', 'ctrl-alt-del.target']) {
    t.is(await readlink(path.join(root, 'etc/systemd/system', unit)), '/dev/null', unit);
  }
  t.regex(await readFile(path.join(root, 'etc/sysctl.d/99-zz-atm-kiosk-lockdown.conf'), 'utf8'), /^kernel\.sysrq = 0$/m);
  t.regex(await readFile(path.join(root, 'etc/systemd/system.conf.d/atm-kiosk-lockdown.conf'), 'utf8'), /^CtrlAltDelBurstAction=none$/m);
  const rules = await readFile(path.join(root, 'etc/usbguard/rules.conf'), 'utf8');
  t.is((await stat(path.join(root, 'etc/usbguard/rules.conf'))).mode & 0o777, 0o600);
  t.deepEqual(rules.split('\n').filter((l) => l.startsWith('allow')), [
    'allow with-interface match-all { 09:00:* } label "atm-kiosk hub"',
    'allow id 0801:0001 with-interface match-all { 03:*:* } label "atm-kiosk card reader"',
    'allow id 1a86:7523 with-interface match-all { ff:*:* 02:*:* 0a:*:* } label "atm-kiosk serial adapter"',
    'allow id 0eef:0001 with-interface match-all { 03:*:* } label "atm-kiosk touchscreen"',
  ]);
  t.regex(await readFile(path.join(root, 'etc/usbguard/atm-kiosk-daemon.conf'), 'utf8'), /^ImplicitPolicyTarget=block$/m);
  t.regex(await readFile(path.join(root, 'etc/systemd/system/usbguard.service.d/atm-kiosk.conf'), 'utf8'), /^ExecStart=\/usr\/sbin\/usbguard-daemon -f -s -c \/etc\/usbguard\/atm-kiosk-daemon\.conf$/m);

  const before = await snapshot(root);
  const again = await provision('enroll', '--device-id', 'kiosk-lock-a', '--host', '127.0.0.1:7443', '--root', root, '--key-file', await keyFile('kiosk-lock-a', 1, Buffer.from((await readFile(path.join(root, STAGED), 'utf8')).trim(), 'hex')));
  t.is(again.code, 0, again.err);
  t.is(await snapshot(root), before, 'the adapters and touchscreen given once are kept');
  const check = await provision('check', '--root', root, '--offline');
  t.is(check.code, 0, check.out);
  t.regex(check.out, /rules\.conf: 4 rules/);
});

test('check names each part of the lock-down a root lacks', async (t) => {
  const damages: [string, (root: string) => Promise<void>, RegExp][] = [
    ['cage -s in the unit', async (r) => {
      const unit = path.join(r, 'usr/lib/systemd/system/atm-kiosk.service');
      await writeFile(unit, (await readFile(unit, 'utf8')).replace('/usr/bin/cage --', '/usr/bin/cage -s --'));
    }, /PROBLEM \S+atm-kiosk\.service: runs `\/usr\/bin\/cage -s -- .*cage -s lets a keyboard switch to another VT/],
    ['cage -s in a drop-in', async (r) => {
      await mkdir(path.join(r, 'etc/systemd/system/atm-kiosk.service.d'), { recursive: true });
      await writeFile(path.join(r, 'etc/systemd/system/atm-kiosk.service.d/vt.conf'), '[Service]\nExecStart=\nExecStart=/usr/bin/cage -ds -- /usr/lib/atm-kiosk/atm-kiosk\n');
    }, /PROBLEM \S+atm-kiosk\.service: runs `\/usr\/bin\/cage -ds --/],
    ...['getty@.service', 'autovt@.service', 'serial-getty@.service', 'console-getty.service', 'ctrl-alt-del.target'].map(
      (unit) => [`${unit} unmasked`, (r: string) => unlink(path.join(r, 'etc/systemd/system', unit)), new RegExp(`PROBLEM \\S+${unit.replace('.', '\\.')}: not masked`)] as [string, (r: string) => Promise<void>, RegExp],
    ),
    ['the burst action', (r) => unlink(path.join(r, 'etc/systemd/system.conf.d/atm-kiosk-lockdown.conf')), /PROBLEM \S+atm-kiosk-lockdown\.conf: missing or without CtrlAltDelBurstAction=none/],
    ['the sysctl file', (r) => unlink(path.join(r, 'etc/sysctl.d/99-zz-atm-kiosk-lockdown.conf')), /PROBLEM \S+99-zz-atm-kiosk-lockdown\.conf: missing: the magic SysRq key stays on/],
    ['a later sysctl file turning SysRq on', (r) => writeFile(path.join(r, 'etc/sysctl.d/zz-site.conf'), 'kernel.sysrq = 1\n'), /PROBLEM \S+99-zz-atm-kiosk-lockdown\.conf: \/etc\/sysctl\.d\/zz-site\.conf sets kernel\.sysrq = 1 after it/],
    ['the USB allowlist', (r) => unlink(path.join(r, 'etc/usbguard/rules.conf')), /PROBLEM \S+rules\.conf: missing: no USB allowlist/],
    ['an allow-everything rule', async (r) => writeFile(path.join(r, 'etc/usbguard/rules.conf'), (await readFile(path.join(r, 'etc/usbguard/rules.conf'), 'utf8')) + 'allow\n'), /PROBLEM \S+rules\.conf: is not the allowlist for this kiosk's devices/],
    ['a readable allowlist', (r) => chmod(path.join(r, 'etc/usbguard/rules.conf'), 0o644), /PROBLEM \S+rules\.conf: others may read or change it/],
    ['the daemon configuration', (r) => unlink(path.join(r, 'etc/usbguard/atm-kiosk-daemon.conf')), /PROBLEM \S+atm-kiosk-daemon\.conf: missing/],
    ['the daemon drop-in', (r) => unlink(path.join(r, 'etc/systemd/system/usbguard.service.d/atm-kiosk.conf')), /PROBLEM \S+usbguard\.service\.d\/atm-kiosk\.conf: missing/],
    ['USBGuard enabled', (r) => unlink(path.join(r, 'etc/systemd/system/basic.target.wants/usbguard.service')), /PROBLEM \S+basic\.target\.wants\/usbguard\.service: usbguard\.service is not enabled/],
    ['usbguard with the kiosk installed', async (r) => {
      await mkdir(path.join(r, 'usr/lib/atm-kiosk'), { recursive: true });
      await writeFile(path.join(r, 'usr/lib/atm-kiosk/atm-kiosk'), '');
    }, /PROBLEM \S+usbguard-daemon: missing although the kiosk app is installed/],
  ];
  for (const [what, damage, message] of damages) {
    const root = await enrolledRoot(`kiosk-damage-${++count}`, randomBytes(32));
    t.is((await provision('check', '--root', root, '--offline')).code, 0, `${what}: the undamaged root passes`);
    await damage(root);
    const check = await provision('check', '--root', root, '--offline');
    t.is(check.code, 1, what);
    t.regex(check.out, message, what);
    t.is(check.out.split('\n').filter((l) => l.startsWith('PROBLEM')).length, 1, `${what}: exactly one problem\n${check.out}`);
  }
});

test('a root from before sealing: check flags the clear key, enroll stages it and removes it, the same key', async (t) => {
  const key = randomBytes(32);
  const root = await enrolledRoot('kiosk-legacy-a', key);
  // The layout of an earlier version: the key in clear where the kiosk read it, no staging, no record.
  await rm(path.join(root, STAGED));
  await rm(path.join(root, 'etc/atm-kiosk/k_shared.info'));
  await writeFile(path.join(root, 'etc/atm-kiosk/k_shared.key'), key.toString('hex') + '\n', { mode: 0o400 });
  let check = await provision('check', '--root', root, '--offline');
  t.is(check.code, 1);
  t.regex(check.out, /PROBLEM \S+k_shared\.key: K_SHARED lies in clear where kiosks read it before keys were sealed/);
  const run = await provision('enroll', '--device-id', 'kiosk-legacy-a', '--host', '127.0.0.1:7443', '--root', root, '--key-file', await keyFile('kiosk-legacy-a', 1, key));
  t.is(run.code, 0, run.err);
  t.false(existsSync(path.join(root, 'etc/atm-kiosk/k_shared.key')));
  t.is((await readFile(path.join(root, STAGED), 'utf8')).trim(), key.toString('hex'));
  check = await provision('check', '--root', root, '--offline');
  t.is(check.code, 0, check.out);
});

test('an encrypting PIN pad is a serial device too: with the dispenser and printer simulated, USBGuard still allows the packaged adapters', async (t) => {
  const root = path.join(scratch, 'root-epp-only');
  await mkdir(path.join(root, 'etc'), { recursive: true });
  const settings = path.join(scratch, 'epp-only.json');
  await writeFile(settings, JSON.stringify({ devices: { cardReader: { kind: 'hid', vendorId: 0x0801, productId: 0x0001 }, pinPad: { kind: 'epp', path: '/dev/atm/pin-pad' }, dispenser: { kind: 'simulated' }, printer: { kind: 'simulated' } }, cassettes: [{ denominationCents: 2000, count: 0 }] }));
  const run = await provision('enroll', '--device-id', 'kiosk-epp-only-1', '--host', '127.0.0.1:7443', '--root', root, '--key-file', await keyFile('kiosk-epp-only-1', 1, randomBytes(32)), '--settings', settings);
  t.is(run.code, 0, run.err);
  const allowed = (await readFile(path.join(root, 'etc/usbguard/rules.conf'), 'utf8')).split('\n').filter((l) => l.includes('serial adapter'));
  t.deepEqual(
    allowed.map((l) => /allow id ([0-9a-f:]+) /.exec(l)?.[1]),
    ['0403:6001', '067b:2303', '10c4:ea60', '1a86:7523'],
    'the EPP\'s adapter (10c4:ea60, /dev/atm/pin-pad in the packaged udev rules) among them',
  );
});

test("a kiosk.json device named by its hidraw path is refused: USBGuard could not allow it", async (t) => {
  const root = path.join(scratch, 'root-hidpath');
  await mkdir(path.join(root, 'etc'), { recursive: true });
  const settings = path.join(scratch, 'hid-path.json');
  await writeFile(settings, JSON.stringify({ devices: { cardReader: { kind: 'hid-path', path: '/dev/hidraw0' }, pinPad: { kind: 'epp', path: '/dev/atm/pin-pad' }, dispenser: { kind: 'simulated' }, printer: { kind: 'simulated' } }, cassettes: [{ denominationCents: 2000, count: 0 }] }));
  const run = await provision('enroll', '--device-id', 'kiosk-hidpath-1', '--host', '127.0.0.1:7443', '--root', root, '--key-file', await keyFile('kiosk-hidpath-1', 1, randomBytes(32)), '--settings', settings);
  t.is(run.code, 1);
  t.regex(run.err, /devices\.cardReader is named by its hidraw path: the USBGuard allowlist needs its USB ids/);
  t.false(existsSync(path.join(root, 'etc/atm-kiosk')), 'nothing written');
});
