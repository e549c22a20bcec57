// The systemd units, sysusers/tmpfiles files and udev rules, checked with systemd's own tools (systemd 252,
// Debian 12) rather than by pattern matching wherever a real checker exists:
//
// - Units: `systemd-analyze verify --root=ROOT`. On 252 verify insists that every Exec*= binary exists
//   and is executable, and /usr/bin/cage and /usr/lib/atm-kiosk/atm-kiosk do not exist on a build machine.
//   --root= makes verify resolve both the unit search path and the Exec*= binaries inside ROOT, so each
//   run builds a throwaway ROOT: the host's own unit directory (so dependencies such as
//   network-online.target and getty@.service resolve), our unit files unchanged in ROOT/etc/systemd/system,
//   and an empty executable at each Exec*= path the units name. 252's verify only *warns* about an
//   unknown directive or an unparsable value ("Unknown key 'ProtectHme'", "Failed to parse protect system
//   value") and still exits 0, so a clean result means exit status 0 *and* no output at all; a test below
//   proves a misspelled directive is caught.
// - Exposure: `systemd-analyze security --offline=yes`, parsing "Overall exposure level".
// - sysusers/tmpfiles: systemd-sysusers and systemd-tmpfiles run for real against a throwaway --root=.
// - udev rules: 252 has no `udevadm verify` (added in 253). `udevadm test` loads every rules file with
//   udev's real parser and reports each bad key, operator, group or GOTO as "FILE:LINE …", so it runs in a
//   private mount namespace (unshare) where a tmpfs over /etc/udev/rules.d holds only our file, a tmpfs over
//   /run takes udev's database writes, and /etc/group gains an atm-kiosk group; nothing leaks to the host.
//   Then udev's rule engine applies all the rules (Debian's and ours) to simulated USB devices (a sysfs tree
//   bound over /sys in the same kind of namespace): what it assigns is what a kiosk would get.
// - The bank host under a real systemd: test/systemd/bank-host-service.test.ts.
import test from 'ava';
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KEY_FILES } from '../../bank-host/keys.js';
import { DEFAULT_SITE_SETTINGS } from '../../provisioning/cli/main.js';
import { DEFAULT_SERIAL_ADAPTERS, formatUsbId } from '../../provisioning/lockdown.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const systemdDir = path.join(repoRoot, 'systemd');
const BANK_HOST_UNIT = 'bank-host.service';
const KIOSK_UNIT = 'atm-kiosk.service';
const SEAL_UNIT = 'atm-kiosk-seal-key.service';
const UDEV_RULES = '70-atm-kiosk.rules';
const BANK_HOST_EXPOSURE_MAX = 2.0;
// The kiosk is a GUI with a JIT, a namespace sandbox and device access; 2.7 measured. The bound catches a
// hardening line lost in an edit.
const KIOSK_EXPOSURE_MAX = 3.0;

type RunResult = { status: number | null; stdout: string; stderr: string; spawnError?: NodeJS.ErrnoException };

function run(command: string, args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: 'cat', LC_ALL: 'C.UTF-8' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 30_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', (error: NodeJS.ErrnoException) => resolve({ status: null, stdout, stderr, spawnError: error }));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Runs a tool that the suite cannot do without; a missing tool fails with the package that provides it. */
async function runTool(tool: string, debianPackage: string, args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const result = await run(tool, args, options);
  if (result.spawnError?.code === 'ENOENT') {
    throw new Error(`${tool} is not installed; install it with: apt-get install -y ${debianPackage}`);
  }
  if (result.spawnError) throw result.spawnError;
  return result;
}

function outputLines(result: RunResult): string[] {
  return `${result.stdout}\n${result.stderr}`.split('\n').map((line) => line.trim()).filter((line) => line !== '');
}

function scratchDir(t: { teardown: (fn: () => void) => void }, prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `atm-systemd-${prefix}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An empty root for systemd-sysusers --root= (it writes ROOT/etc/passwd and needs ROOT/etc to lock it). */
function sysusersRoot(t: { teardown: (fn: () => void) => void }, prefix: string): string {
  const root = scratchDir(t, prefix);
  mkdirSync(path.join(root, 'etc'));
  return root;
}

// ---- unit file parsing (only for the contract checks; systemd-analyze is the parser of record) ----

type UnitFile = Map<string, Array<{ key: string; value: string }>>;

function parseUnitText(text: string): UnitFile {
  const sections: UnitFile = new Map();
  let current: Array<{ key: string; value: string }> | undefined;
  let pending = '';
  for (const rawLine of text.split('\n')) {
    const line = pending + rawLine.trim();
    pending = '';
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.endsWith('\\')) {
      pending = line.slice(0, -1) + ' ';
      continue;
    }
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = [];
      sections.set(section[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0 || !current) throw new Error(`not a unit file line: ${line}`);
    current.push({ key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim() });
  }
  return sections;
}

function readUnit(name: string): UnitFile {
  return parseUnitText(readFileSync(path.join(systemdDir, name), 'utf8'));
}

function values(unit: UnitFile, section: string, key: string): string[] {
  return (unit.get(section) ?? []).filter((entry) => entry.key === key).map((entry) => entry.value);
}

function single(unit: UnitFile, section: string, key: string): string {
  const found = values(unit, section, key);
  if (found.length !== 1) throw new Error(`expected exactly one ${key}= in [${section}], found ${found.length}`);
  return found[0]!;
}

/** The binary an Exec*= line runs: its first word without systemd's prefixes (-, @, :, +, !). */
function execBinary(value: string): string {
  const first = value.split(/\s+/)[0] ?? '';
  return first.replace(/^[-@:+!]+/, '');
}

// ---- systemd-analyze verify in a throwaway root ----

function hostUnitDirectory(): string {
  for (const dir of ['/usr/lib/systemd/system', '/lib/systemd/system']) {
    if (existsSync(path.join(dir, 'multi-user.target'))) return dir;
  }
  throw new Error('no systemd unit directory with multi-user.target; install it with: apt-get install -y systemd');
}

/** Verifies unit files (name → text) in a root that has the host's units and stubs for every Exec*= binary. */
async function verifyUnits(t: { teardown: (fn: () => void) => void }, units: Record<string, string>): Promise<RunResult> {
  const root = scratchDir(t, 'verify-root');
  cpSync(hostUnitDirectory(), path.join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  const unitDir = path.join(root, 'etc/systemd/system');
  mkdirSync(unitDir, { recursive: true });
  for (const [name, text] of Object.entries(units)) {
    writeFileSync(path.join(unitDir, name), text);
    const service = parseUnitText(text).get('Service') ?? [];
    for (const { key, value } of service.filter((entry) => /^Exec[A-Za-z]+$/.test(entry.key))) {
      const binary = execBinary(value);
      if (!path.isAbsolute(binary)) throw new Error(`${name}: ${key}= must name an absolute path, got ${binary}`);
      const stub = path.join(root, binary);
      mkdirSync(path.dirname(stub), { recursive: true });
      writeFileSync(stub, '#!/bin/sh\nexit 0\n');
      chmodSync(stub, 0o755);
    }
  }
  return runTool('systemd-analyze', 'systemd', ['verify', `--root=${root}`, '--man=no', ...Object.keys(units)]);
}

function unitText(name: string): string {
  return readFileSync(path.join(systemdDir, name), 'utf8');
}

for (const unit of [BANK_HOST_UNIT, KIOSK_UNIT, SEAL_UNIT]) {
  test(`${unit} passes systemd-analyze verify with no warnings`, async (t) => {
    const result = await verifyUnits(t, { [unit]: unitText(unit) });
    t.deepEqual(outputLines(result), [], 'systemd-analyze verify printed warnings or errors');
    t.is(result.status, 0);
  });
}

test('the verify check catches a misspelled directive and a value systemd cannot parse', async (t) => {
  const original = unitText(BANK_HOST_UNIT);
  const misspelled = original.replace(/^ProtectHome=yes$/m, 'ProtectHme=yes');
  const badValue = original.replace(/^ProtectSystem=strict$/m, 'ProtectSystem=strictly');
  t.not(misspelled, original);
  t.not(badValue, original);
  const misspelledResult = await verifyUnits(t, { [BANK_HOST_UNIT]: misspelled });
  t.true(outputLines(misspelledResult).some((line) => line.includes("Unknown key 'ProtectHme'")), misspelledResult.stderr);
  const badValueResult = await verifyUnits(t, { [BANK_HOST_UNIT]: badValue });
  t.true(outputLines(badValueResult).some((line) => line.includes('strictly')), badValueResult.stderr);
});

// ---- exposure ----

async function exposure(unit: string): Promise<number> {
  const result = await runTool('systemd-analyze', 'systemd', ['security', '--offline=yes', '--no-pager', path.join(systemdDir, unit)]);
  const match = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(result.stdout);
  if (!match) throw new Error(`no overall exposure in systemd-analyze security output:\n${result.stdout}\n${result.stderr}`);
  return Number(match[1]);
}

test(`bank-host.service has a systemd-analyze security exposure of at most ${BANK_HOST_EXPOSURE_MAX}`, async (t) => {
  const level = await exposure(BANK_HOST_UNIT);
  t.log(`bank-host.service exposure: ${level}`);
  t.true(level <= BANK_HOST_EXPOSURE_MAX, `exposure ${level} > ${BANK_HOST_EXPOSURE_MAX}`);
});

test(`atm-kiosk.service keeps its GUI-compatible exposure of at most ${KIOSK_EXPOSURE_MAX}`, async (t) => {
  const level = await exposure(KIOSK_UNIT);
  t.log(`atm-kiosk.service exposure: ${level}`);
  t.true(level <= KIOSK_EXPOSURE_MAX, `exposure ${level} > ${KIOSK_EXPOSURE_MAX}`);
});

// ---- contracts between the units and the code ----

test('bank-host ExecStart runs the CLI as `serve --data --keys --listen --admin-socket` with the Node installed beside it', (t) => {
  const unit = readUnit(BANK_HOST_UNIT);
  const argv = single(unit, 'Service', 'ExecStart').split(/\s+/);
  t.deepEqual(argv.slice(0, 3), ['/usr/lib/atm-bank-host/node_modules/.bin/node', '/usr/lib/atm-bank-host/dist/bank-host/cli/main.js', 'serve']);
  const flags = new Map<string, string>();
  const rest = argv.slice(3);
  t.is(rest.length % 2, 0, `flags come in pairs: ${rest.join(' ')}`);
  for (let i = 0; i < rest.length; i += 2) {
    t.true(rest[i]!.startsWith('--'), `${rest[i]} is not a flag`);
    t.false(flags.has(rest[i]!), `${rest[i]} given twice`);
    flags.set(rest[i]!, rest[i + 1]!);
  }
  t.deepEqual(Object.fromEntries(flags), {
    '--data': '${STATE_DIRECTORY}',
    '--keys': '${CREDENTIALS_DIRECTORY}',
    '--listen': '0.0.0.0:7443',
    '--admin-socket': '/run/bank-host/admin.sock',
  });
  // The admin socket lives in the runtime directory systemd creates for the service user.
  t.is(single(unit, 'Service', 'RuntimeDirectory'), 'bank-host');
  t.is(single(unit, 'Service', 'StateDirectory'), 'bank-host');
  t.is(single(unit, 'Service', 'StateDirectoryMode'), '0700');
});

test('bank-host loads exactly the key files the host reads, from /etc/bank-host/keys', (t) => {
  const unit = readUnit(BANK_HOST_UNIT);
  const credentials = values(unit, 'Service', 'LoadCredential').map((value) => {
    const [name, source] = value.split(':');
    return { name, source };
  });
  const expected = Object.values(KEY_FILES).map((file) => ({ name: file, source: `/etc/bank-host/keys/${file}` }));
  t.deepEqual(
    [...credentials].sort((a, b) => String(a.name).localeCompare(String(b.name))),
    [...expected].sort((a, b) => a.name.localeCompare(b.name)),
  );
});

test('neither unit enables MemoryDenyWriteExecute, which V8 JIT cannot run under, and each says so', (t) => {
  for (const name of [BANK_HOST_UNIT, KIOSK_UNIT]) {
    t.deepEqual(values(readUnit(name), 'Service', 'MemoryDenyWriteExecute'), [], name);
    const comment = unitText(name)
      .split('\n')
      .filter((line) => line.startsWith('#'))
      .join(' ');
    t.regex(comment, /No MemoryDenyWriteExecute=yes: V8's JIT/, `${name} explains the missing setting`);
  }
});

test('atm-kiosk runs the packaged Electron app under cage on tty1 in a logind session as atm-kiosk', (t) => {
  const unit = readUnit(KIOSK_UNIT);
  // No -s: cage ignores Ctrl+Alt+F<n>, so no keyboard switches the kiosk's VT away.
  t.is(single(unit, 'Service', 'ExecStart'), '/usr/bin/cage -- /usr/lib/atm-kiosk/atm-kiosk --kiosk');
  // K_SHARED arrives sealed, after the seal unit has sealed what provisioning staged.
  t.deepEqual(values(unit, 'Service', 'LoadCredentialEncrypted'), ['k_shared:/etc/credstore.encrypted/atm-kiosk.k_shared']);
  t.true(values(unit, 'Unit', 'Wants').join(' ').split(/\s+/).includes(SEAL_UNIT));
  t.true(values(unit, 'Unit', 'After').join(' ').split(/\s+/).includes(SEAL_UNIT));
  t.is(single(unit, 'Service', 'User'), 'atm-kiosk');
  t.is(single(unit, 'Service', 'PAMName'), 'login');
  t.is(single(unit, 'Service', 'TTYPath'), '/dev/tty1');
  t.is(single(unit, 'Service', 'UtmpIdentifier'), 'tty1');
  t.is(single(unit, 'Service', 'Restart'), 'always');
  t.is(single(unit, 'Service', 'StateDirectory'), 'atm-kiosk');
  t.deepEqual(values(unit, 'Unit', 'Conflicts'), ['getty@tty1.service']);
  // Ordered after the network (and wanting it), restarted forever, started by the graphical target.
  t.true(values(unit, 'Unit', 'After').join(' ').split(/\s+/).includes('network-online.target'));
  t.true(values(unit, 'Unit', 'Wants').join(' ').split(/\s+/).includes('network-online.target'));
  t.is(single(unit, 'Unit', 'StartLimitIntervalSec'), '0');
  t.deepEqual(values(unit, 'Install', 'WantedBy'), ['graphical.target']);
  t.true(values(unit, 'Service', 'Environment').join(' ').split(/\s+/).includes('ELECTRON_OZONE_PLATFORM_HINT=wayland'), 'Electron draws through Wayland, under cage');
});

// ---- the system calls Node makes, against bank-host's SystemCallFilter= ----

/** Expands systemd syscall groups (@name) into call names with `systemd-analyze syscall-filter`. */
async function expandSyscalls(items: string[], seen = new Set<string>()): Promise<Set<string>> {
  const calls = new Set<string>();
  for (const item of items) {
    if (!item.startsWith('@')) {
      calls.add(item);
      continue;
    }
    if (seen.has(item)) continue;
    seen.add(item);
    const result = await runTool('systemd-analyze', 'systemd', ['syscall-filter', '--no-pager', item]);
    if (result.status !== 0) throw new Error(`systemd-analyze syscall-filter ${item} failed: ${result.stderr}`);
    const members = result.stdout.split('\n').slice(1).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
    for (const call of await expandSyscalls(members, seen)) calls.add(call);
  }
  return calls;
}

test(
  "every system call Node makes doing bank-host work is allowed by bank-host's SystemCallFilter=",
  async (t) => {
    const unit = readUnit(BANK_HOST_UNIT);
    const allowItems: string[] = [];
    const denyItems: string[] = [];
    for (const value of values(unit, 'Service', 'SystemCallFilter')) {
      if (value.startsWith('~')) denyItems.push(...value.slice(1).trim().split(/\s+/));
      else allowItems.push(...value.split(/\s+/));
    }
    t.true(allowItems.length > 0, 'bank-host.service has an allow list');
    const allowed = await expandSyscalls(allowItems);
    for (const call of await expandSyscalls(denyItems)) allowed.delete(call);

    const scratch = scratchDir(t, 'strace');
    const traceFile = path.join(scratch, 'trace.txt');
    const probe = path.join(repoRoot, 'test/systemd/syscall-probe.mjs');
    const result = await runTool('strace', 'strace', ['-f', '-qq', '-o', traceFile, process.execPath, probe, scratch], { timeoutMs: 50_000 });
    t.is(result.status, 0, result.stderr);
    t.true(result.stdout.includes('probe ok'));
    const made = new Set<string>();
    for (const line of readFileSync(traceFile, 'utf8').split('\n')) {
      const call = /^\d+\s+([a-z_0-9]+)\(/.exec(line);
      if (call) made.add(call[1]!);
    }
    t.true(made.size > 20, `trace parsed: ${made.size} distinct calls`);
    // execve is the exec of node itself, made by systemd before the filter applies to the service binary.
    const refused = [...made].filter((call) => call !== 'execve' && !allowed.has(call)).sort();
    t.deepEqual(refused, [], `calls that bank-host.service would refuse with EPERM: ${refused.join(' ')}`);
  },
);

// ---- sysusers and tmpfiles ----

for (const [file, user] of [['bank-host.sysusers.conf', 'bank-host'], ['atm-kiosk.sysusers.conf', 'atm-kiosk']] as const) {
  test(`${file} is accepted by systemd-sysusers and creates user ${user}`, async (t) => {
    const root = sysusersRoot(t, 'sysusers');
    const result = await runTool('systemd-sysusers', 'systemd', [`--root=${root}`, path.join(systemdDir, file)]);
    t.is(result.status, 0, result.stderr);
    t.deepEqual(outputLines(result).filter((line) => line.includes(file)), [], 'systemd-sysusers reported problems in the file');
    const passwd = readFileSync(path.join(root, 'etc/passwd'), 'utf8');
    t.regex(passwd, new RegExp(`^${user}:x:\\d+:\\d+:[^:]*:/var/lib/${user}:/usr/sbin/nologin$`, 'm'));
  });
}

test('atm-kiosk.sysusers.conf puts atm-kiosk in the GPU, input, serial and plugdev groups', async (t) => {
  const root = sysusersRoot(t, 'sysusers-groups');
  const result = await runTool('systemd-sysusers', 'systemd', [`--root=${root}`, path.join(systemdDir, 'atm-kiosk.sysusers.conf')]);
  t.is(result.status, 0, result.stderr);
  const groups = readFileSync(path.join(root, 'etc/group'), 'utf8');
  for (const group of ['input', 'video', 'render', 'dialout', 'plugdev']) {
    t.regex(groups, new RegExp(`^${group}:x:\\d+:(.*,)?atm-kiosk(,.*)?$`, 'm'), group);
  }
});

const isRoot = process.getuid?.() === 0;
test(
  'atm-kiosk.tmpfiles.conf keeps the staged K_SHARED root-only, makes the sealed-key folder and turns console blanking off',
  async (t) => {
    // tmpfiles gives files to another user, which only root may do.
    if (!isRoot) throw new Error('this check runs systemd-tmpfiles, which must change file owners: run the suite as root');
    const root = sysusersRoot(t, 'tmpfiles');
    const users = await runTool('systemd-sysusers', 'systemd', [`--root=${root}`, path.join(systemdDir, 'atm-kiosk.sysusers.conf')]);
    t.is(users.status, 0, users.stderr);
    // What provisioning leaves on the SD card: files owned by whoever ran it, with loose modes.
    mkdirSync(path.join(root, 'etc/atm-kiosk'), { recursive: true, mode: 0o755 });
    writeFileSync(path.join(root, 'etc/atm-kiosk/kiosk.json'), '{}\n', { mode: 0o644 });
    writeFileSync(path.join(root, 'etc/atm-kiosk/k_shared.staged'), '00'.repeat(32) + '\n', { mode: 0o644 });
    mkdirSync(path.join(root, 'sys/module/kernel/parameters'), { recursive: true });
    writeFileSync(path.join(root, 'sys/module/kernel/parameters/consoleblank'), '');

    const result = await runTool('systemd-tmpfiles', 'systemd', [`--root=${root}`, '--create', path.join(systemdDir, 'atm-kiosk.tmpfiles.conf')]);
    t.is(result.status, 0, result.stderr);
    t.deepEqual(outputLines(result), []);

    const passwd = readFileSync(path.join(root, 'etc/passwd'), 'utf8');
    const [, uid, gid] = /^atm-kiosk:x:(\d+):(\d+):/m.exec(passwd) ?? [];
    const key = statSync(path.join(root, 'etc/atm-kiosk/k_shared.staged'));
    t.is(key.mode & 0o777, 0o400);
    t.is(key.uid, 0, `root's alone, not atm-kiosk's (uid ${uid}): only the seal unit reads it`);
    const credstore = statSync(path.join(root, 'etc/credstore.encrypted'));
    t.is(credstore.mode & 0o777, 0o700);
    t.is(credstore.uid, 0);
    const config = statSync(path.join(root, 'etc/atm-kiosk/kiosk.json'));
    t.is(config.mode & 0o777, 0o640);
    t.is(config.uid, 0);
    t.is(config.gid, Number(gid));
    t.is(statSync(path.join(root, 'etc/atm-kiosk')).mode & 0o777, 0o750);
    t.is(readFileSync(path.join(root, 'sys/module/kernel/parameters/consoleblank'), 'utf8').trim(), '0');
  },
);

// ---- udev rules ----

/** Loads `rulesText` with udev's own parser (udevadm test) in a private mount namespace; returns the lines
 *  that name the rules file. */
async function udevParse(t: { teardown: (fn: () => void) => void }, rulesText: string): Promise<string[]> {
  const scratch = scratchDir(t, 'udev');
  chmodSync(scratch, 0o755);
  const rulesFile = path.join(scratch, UDEV_RULES);
  writeFileSync(rulesFile, rulesText, { mode: 0o644 });
  // GROUP="atm-kiosk" is checked against the group database; the build machine has no such group.
  const groupFile = path.join(scratch, 'group');
  writeFileSync(groupFile, readFileSync('/etc/group', 'utf8') + 'atm-kiosk:x:59999:\n', { mode: 0o644 });
  const script = [
    'set -e',
    'mount -t tmpfs tmpfs /etc/udev/rules.d',
    'mount -t tmpfs tmpfs /run',
    `mount --bind "${groupFile}" /etc/group`,
    `cp "${rulesFile}" /etc/udev/rules.d/`,
    // Any device will do: rules files are all parsed before the event runs. /sys/module/kernel has no
    // device node, so udev creates no /dev links even inside the namespace.
    'exec udevadm test --action=add /sys/module/kernel',
  ].join('\n');
  // As root a private mount namespace is enough; otherwise map ourselves to root in a user namespace.
  const unshareArgs = isRoot ? ['--mount', '--propagation', 'private'] : ['--map-root-user', '--mount', '--propagation', 'private'];
  // Run udevadm once outside the namespace so that a missing udev names its package.
  const check = await runTool('udevadm', 'udev', ['--version']);
  if (check.status !== 0) throw new Error(`udevadm --version failed: ${check.stderr}`);
  const result = await runTool('unshare', 'util-linux', [...unshareArgs, '--', 'sh', '-c', script]);
  const lines = outputLines(result);
  if (!lines.some((line) => line === `Reading rules file: /etc/udev/rules.d/${UDEV_RULES}`)) {
    throw new Error(`udevadm test did not load the rules (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  return lines.filter((line) => line.includes(UDEV_RULES) && !line.startsWith('Reading rules file:'));
}

test('70-atm-kiosk.rules loads in udev without a single complaint', async (t) => {
  t.deepEqual(await udevParse(t, readFileSync(path.join(systemdDir, UDEV_RULES), 'utf8')), []);
});

test('the udev check catches an unknown key, a wrong operator and a missing label', async (t) => {
  const original = readFileSync(path.join(systemdDir, UDEV_RULES), 'utf8');
  const broken = original
    .replace('ATTRS{idVendor}=="0801", ATTRS{idProduct}=="0001", GROUP=', 'ATTRZ{idVendor}=="0801", ATTRS{idProduct}=="0001", GROUP=')
    .replace('MODE="0660", SYMLINK+="atm/printer"', 'MODE=="0660", SYMLINK+="atm/printer"')
    .replace('LABEL="atm_kiosk_end"', 'LABEL="atm_kiosk_ende"');
  const complaints = await udevParse(t, broken);
  t.true(complaints.some((line) => line.includes("Invalid key 'ATTRZ'")), complaints.join('\n'));
  t.true(complaints.some((line) => line.includes('Invalid operator for MODE')), complaints.join('\n'));
  t.true(complaints.some((line) => /GOTO="atm_kiosk_end" has no matching label/i.test(line)), complaints.join('\n'));
});

// ---- the rules applied by udev's own rule engine to simulated devices ----
//
// `udevadm test` runs every rules file (Debian's and ours) against a device the way udevd would, and
// prints what it assigned: GROUP and MODE per rule line, then the device's properties (LIBINPUT_IGNORE_DEVICE,
// ID_INPUT_KEY, DEVLINKS, TAGS). The devices are a sysfs tree built in a scratch folder with the layout the
// kernel gives real USB devices (USB device → interface → HID → hidraw and input/event, or USB serial →
// tty), bound over /sys in a private mount namespace; SYSTEMD_DEVICE_VERIFY_SYSFS=0 lets sd-device accept a
// tree that is not the kernel's sysfs (systemd's own test suite does the same). /dev and /run are private
// tmpfs there, so the links udev creates go nowhere.

interface SimulatedDevice {
  readonly label: string;
  readonly vendorId: string;
  readonly productId: string;
  readonly kind: 'hid-keyboard' | 'usb-serial';
}

/** A USB keyboard's capabilities as the kernel reports them (EV_SYN, EV_KEY, EV_MSC, EV_LED, EV_REP). */
const KEYBOARD_EV = '120013';
const KEYBOARD_KEY = '1000000000007 ff9f207ac14057ff febeffdfffefffff fffffffffffffffe';

/** Builds the sysfs tree; returns, per device, the syspaths of the nodes the kiosk uses. */
function buildSysfs(sysRoot: string, devices: readonly SimulatedDevice[]): Map<string, { hidraw?: string; event?: string; tty?: string }> {
  const dir = (relative: string, subsystemLink?: string, uevent?: string, attributes: Record<string, string> = {}) => {
    const full = path.join(sysRoot, relative);
    mkdirSync(full, { recursive: true });
    if (subsystemLink) symlinkSync(`/sys/${subsystemLink}`, path.join(full, 'subsystem'));
    if (uevent !== undefined) writeFileSync(path.join(full, 'uevent'), uevent);
    for (const [name, value] of Object.entries(attributes)) {
      mkdirSync(path.dirname(path.join(full, name)), { recursive: true });
      writeFileSync(path.join(full, name), `${value}\n`);
    }
    return `/sys/${relative}`;
  };
  for (const shared of ['bus/usb', 'bus/hid', 'bus/usb-serial', 'class/hidraw', 'class/input', 'class/tty']) dir(shared);
  const nodes = new Map<string, { hidraw?: string; event?: string; tty?: string }>();
  let hidIndex = 0;
  let ttyIndex = 0;
  devices.forEach((device, index) => {
    const usb = `devices/pci0000:00/0000:00:14.0/usb1/1-${index + 1}`;
    dir(usb, 'bus/usb', `DEVTYPE=usb_device\nPRODUCT=${Number.parseInt(device.vendorId, 16).toString(16)}/${Number.parseInt(device.productId, 16).toString(16)}/100\n`, { idVendor: device.vendorId, idProduct: device.productId });
    const usbInterface = `${usb}/1-${index + 1}:1.0`;
    dir(usbInterface, 'bus/usb', 'DEVTYPE=usb_interface\n', { bInterfaceClass: device.kind === 'hid-keyboard' ? '03' : 'ff' });
    if (device.kind === 'hid-keyboard') {
      const n = hidIndex++;
      const hid = `${usbInterface}/0003:${device.vendorId.toUpperCase()}:${device.productId.toUpperCase()}.000${n + 1}`;
      dir(hid, 'bus/hid', `HID_ID=0003:0000${device.vendorId.toUpperCase()}:0000${device.productId.toUpperCase()}\n`);
      const hidraw = dir(`${hid}/hidraw/hidraw${n}`, 'class/hidraw', `MAJOR=243\nMINOR=${n}\nDEVNAME=hidraw${n}\n`);
      const input = `${hid}/input/input${n + 10}`;
      dir(input, 'class/input', `PRODUCT=3/${device.vendorId}/${device.productId}/110\nNAME="${device.label}"\nEV=${KEYBOARD_EV}\nKEY=${KEYBOARD_KEY}\n`, {
        name: device.label,
        'capabilities/ev': KEYBOARD_EV,
        'capabilities/key': KEYBOARD_KEY,
        'capabilities/abs': '0',
        'capabilities/rel': '0',
        'capabilities/sw': '0',
        properties: '0',
      });
      const event = dir(`${input}/event${n + 10}`, 'class/input', `MAJOR=13\nMINOR=${74 + n}\nDEVNAME=input/event${n + 10}\n`);
      nodes.set(device.label, { hidraw, event });
    } else {
      const n = ttyIndex++;
      const serial = `${usbInterface}/ttyUSB${n}`;
      dir(serial, 'bus/usb-serial', '');
      const tty = dir(`${serial}/tty/ttyUSB${n}`, 'class/tty', `MAJOR=188\nMINOR=${n}\nDEVNAME=ttyUSB${n}\n`);
      nodes.set(device.label, { tty });
    }
  });
  return nodes;
}

interface UdevResult {
  /** What a line of 70-atm-kiosk.rules assigned, e.g. "GROUP 59999", "MODE 0660". */
  readonly fromOurRules: string[];
  readonly properties: Map<string, string>;
}

const ATM_KIOSK_GID = 59999;

/** Runs `udevadm test --action=add` for each syspath with `rulesText` as /etc/udev/rules.d/70-atm-kiosk.rules. */
async function udevApply(t: { teardown: (fn: () => void) => void }, rulesText: string, devices: readonly SimulatedDevice[]) {
  const scratch = scratchDir(t, 'udev-apply');
  chmodSync(scratch, 0o755);
  const sysRoot = path.join(scratch, 'sys');
  const nodes = buildSysfs(sysRoot, devices);
  writeFileSync(path.join(scratch, UDEV_RULES), rulesText, { mode: 0o644 });
  writeFileSync(path.join(scratch, 'group'), readFileSync('/etc/group', 'utf8') + `atm-kiosk:x:${ATM_KIOSK_GID}:\n`, { mode: 0o644 });
  const syspaths = [...nodes.values()].flatMap((node) => [node.hidraw, node.event, node.tty]).filter((p): p is string => p !== undefined);
  const script = [
    'set -e',
    'mount -t tmpfs tmpfs /etc/udev/rules.d',
    'mount -t tmpfs tmpfs /run',
    'mount -t tmpfs tmpfs /dev',
    `mount --bind "${path.join(scratch, 'group')}" /etc/group`,
    `mount --bind "${sysRoot}" /sys`,
    `cp "${path.join(scratch, UDEV_RULES)}" /etc/udev/rules.d/`,
    'export SYSTEMD_DEVICE_VERIFY_SYSFS=0',
    ...syspaths.map((syspath) => `echo "@@@ simulated-device ${syspath}"; udevadm test --action=add "${syspath}" 2>&1`),
  ].join('\n');
  const unshareArgs = isRoot ? ['--mount', '--propagation', 'private'] : ['--map-root-user', '--mount', '--propagation', 'private'];
  const result = await runTool('unshare', 'util-linux', [...unshareArgs, '--', 'sh', '-c', script]);
  if (result.status !== 0) throw new Error(`udevadm test failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  const results = new Map<string, UdevResult>();
  for (const section of result.stdout.split(/^@@@ simulated-device /m).slice(1)) {
    const [syspath, ...lines] = section.split('\n');
    if (!lines.some((line) => line === `Reading rules file: /etc/udev/rules.d/${UDEV_RULES}`)) throw new Error(`udevadm test did not load our rules for ${syspath}:\n${section}`);
    const fromOurRules = lines.flatMap((line) => {
      const assigned = new RegExp(`/etc/udev/rules\\.d/${UDEV_RULES.replace(/\./g, '\\.')}:\\d+ (.*)$`).exec(line);
      return assigned ? [assigned[1]!] : [];
    });
    const properties = new Map<string, string>();
    const blurb = lines.findIndex((line) => line.startsWith('some values may be different'));
    for (const line of lines.slice(blurb + 1)) {
      const property = /^([A-Z_0-9]+)=(.*)$/.exec(line);
      if (property) properties.set(property[1]!, property[2]!);
    }
    if (!properties.has('DEVNAME')) throw new Error(`udevadm test printed no properties for ${syspath}:\n${section}`);
    results.set(syspath!, { fromOurRules, properties });
  }
  const of = (label: string, node: 'hidraw' | 'event' | 'tty'): UdevResult => {
    const syspath = nodes.get(label)?.[node];
    const found = syspath ? results.get(syspath) : undefined;
    if (!found) throw new Error(`no udev result for the ${node} node of ${label}`);
    return found;
  };
  return { of };
}

/** The devices the packaged rules name, and a USB keyboard they must leave alone. */
const SIMULATED: readonly SimulatedDevice[] = [
  { label: 'card reader', vendorId: '0801', productId: '0001', kind: 'hid-keyboard' },
  { label: 'PIN pad', vendorId: '04d9', productId: '1203', kind: 'hid-keyboard' },
  { label: 'dispenser', vendorId: '0403', productId: '6001', kind: 'usb-serial' },
  { label: 'printer', vendorId: '067b', productId: '2303', kind: 'usb-serial' },
  { label: 'encrypting PIN pad', vendorId: '10c4', productId: 'ea60', kind: 'usb-serial' },
  { label: 'note acceptor', vendorId: '1a86', productId: '7523', kind: 'usb-serial' },
  { label: 'technician keyboard', vendorId: '046d', productId: 'c31c', kind: 'hid-keyboard' },
];

test('udev gives the card reader and PIN pad hidraw nodes to atm-kiosk (0660) and hides their keys from libinput and logind', async (t) => {
  const udev = await udevApply(t, readFileSync(path.join(systemdDir, UDEV_RULES), 'utf8'), SIMULATED);
  for (const label of ['card reader', 'PIN pad']) {
    const hidraw = udev.of(label, 'hidraw');
    t.true(hidraw.fromOurRules.includes(`GROUP ${ATM_KIOSK_GID}`), `${label} hidraw: ${hidraw.fromOurRules.join(', ')}`);
    t.true(hidraw.fromOurRules.includes('MODE 0660'), `${label} hidraw: ${hidraw.fromOurRules.join(', ')}`);
    const event = udev.of(label, 'event');
    t.is(event.properties.get('LIBINPUT_IGNORE_DEVICE'), '1', `${label}: the compositor never reads its keys`);
    t.false(event.properties.has('ID_INPUT_KEY'), `${label}: ID_INPUT_KEY cleared after 60-input-id.rules set it`);
    t.false((event.properties.get('TAGS') ?? '').includes('power-switch'), `${label}: logind's 70-power-switch.rules did not tag it`);
  }
});

test('udev leaves an ordinary keyboard to the compositor and root, so the rules match only the kiosk hardware', async (t) => {
  const udev = await udevApply(t, readFileSync(path.join(systemdDir, UDEV_RULES), 'utf8'), SIMULATED);
  const hidraw = udev.of('technician keyboard', 'hidraw');
  t.deepEqual(hidraw.fromOurRules, []);
  const event = udev.of('technician keyboard', 'event');
  t.false(event.properties.has('LIBINPUT_IGNORE_DEVICE'));
  t.is(event.properties.get('ID_INPUT_KEY'), '1', 'the input_id builtin classified the simulated device as a keyboard');
  t.is(event.properties.get('ID_INPUT_KEYBOARD'), '1');
});

test('udev gives the serial devices to atm-kiosk (0660) under /dev/atm/: dispenser, printer, pin-pad (the default kiosk.json\'s EPP) and note-acceptor', async (t) => {
  const udev = await udevApply(t, readFileSync(path.join(systemdDir, UDEV_RULES), 'utf8'), SIMULATED);
  const links = [
    ['dispenser', '/dev/atm/dispenser'],
    ['printer', '/dev/atm/printer'],
    ['encrypting PIN pad', DEFAULT_SITE_SETTINGS.devices.pinPad.kind === 'epp' ? DEFAULT_SITE_SETTINGS.devices.pinPad.path : 'not an EPP'],
    ['note acceptor', '/dev/atm/note-acceptor'],
  ] as const;
  for (const [label, link] of links) {
    const tty = udev.of(label, 'tty');
    t.true(tty.fromOurRules.includes(`GROUP ${ATM_KIOSK_GID}`), `${label}: ${tty.fromOurRules.join(', ')}`);
    t.true(tty.fromOurRules.includes('MODE 0660'), `${label}: ${tty.fromOurRules.join(', ')}`);
    const devlinks = (tty.properties.get('DEVLINKS') ?? '').split(' ');
    t.true(devlinks.includes(link), `${label}: DEVLINKS=${tty.properties.get('DEVLINKS')}`);
    t.is(devlinks.filter((l) => l.startsWith('/dev/atm/')).length, 1, `${label}: one name only`);
  }
  // Every serial adapter the rules name is one USBGuard allows by default, and the other way round.
  const named = [...readFileSync(path.join(systemdDir, UDEV_RULES), 'utf8').matchAll(/SUBSYSTEM=="tty".*ATTRS\{idVendor\}=="([0-9a-f]{4})", ATTRS\{idProduct\}=="([0-9a-f]{4})"/g)].map((m) => `${m[1]}:${m[2]}`);
  t.deepEqual(named.sort(), DEFAULT_SERIAL_ADAPTERS.map(formatUsbId).sort());
});

test('the udev simulation can tell: a rule with the wrong product id assigns nothing to that device', async (t) => {
  const original = readFileSync(path.join(systemdDir, UDEV_RULES), 'utf8');
  const wrongPinPad = original.replaceAll('ATTRS{idProduct}=="1203"', 'ATTRS{idProduct}=="1204"');
  t.not(wrongPinPad, original);
  const udev = await udevApply(t, wrongPinPad, SIMULATED);
  t.deepEqual(udev.of('PIN pad', 'hidraw').fromOurRules, []);
  t.false(udev.of('PIN pad', 'event').properties.has('LIBINPUT_IGNORE_DEVICE'));
  t.is(udev.of('PIN pad', 'event').properties.get('ID_INPUT_KEY'), '1', 'an unmatched PIN pad would type its digits into the focused window');
});
