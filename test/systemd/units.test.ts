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
import test from 'ava';
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KEY_FILES } from '../../bank-host/keys.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const systemdDir = path.join(repoRoot, 'systemd');
const BANK_HOST_UNIT = 'bank-host.service';
const KIOSK_UNIT = 'atm-kiosk.service';
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

for (const unit of [BANK_HOST_UNIT, KIOSK_UNIT]) {
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

test('bank-host ExecStart runs the CLI as `serve --data --keys --listen --admin-socket` with absolute node', (t) => {
  const unit = readUnit(BANK_HOST_UNIT);
  const argv = single(unit, 'Service', 'ExecStart').split(/\s+/);
  t.deepEqual(argv.slice(0, 3), ['/usr/bin/node', '/usr/lib/atm-bank-host/dist/bank-host/cli/main.js', 'serve']);
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

test('neither unit enables MemoryDenyWriteExecute, which V8 JIT cannot run under', (t) => {
  for (const name of [BANK_HOST_UNIT, KIOSK_UNIT]) {
    t.deepEqual(values(readUnit(name), 'Service', 'MemoryDenyWriteExecute'), [], name);
  }
});

test('atm-kiosk runs the packaged Electron app under cage on tty1 in a logind session as atm-kiosk', (t) => {
  const unit = readUnit(KIOSK_UNIT);
  t.is(single(unit, 'Service', 'ExecStart'), '/usr/bin/cage -s -- /usr/lib/atm-kiosk/atm-kiosk --kiosk');
  t.is(single(unit, 'Service', 'User'), 'atm-kiosk');
  t.is(single(unit, 'Service', 'PAMName'), 'login');
  t.is(single(unit, 'Service', 'TTYPath'), '/dev/tty1');
  t.is(single(unit, 'Service', 'UtmpIdentifier'), 'tty1');
  t.is(single(unit, 'Service', 'Restart'), 'always');
  t.is(single(unit, 'Service', 'StateDirectory'), 'atm-kiosk');
  t.deepEqual(values(unit, 'Unit', 'Conflicts'), ['getty@tty1.service']);
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

const straceAvailable = (() => {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    try {
      if (statSync(path.join(dir, 'strace')).isFile()) return true;
    } catch {
      // not in this directory
    }
  }
  return false;
})();

// strace is not in test/debian-packages.txt (this change may not touch it), so without it this check is
// reported as skipped rather than passed.
(straceAvailable ? test : test.skip)(
  `every system call Node makes doing bank-host work is allowed by bank-host's SystemCallFilter=${straceAvailable ? '' : ' (needs strace: apt-get install -y strace)'}`,
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
    const result = await run('strace', ['-f', '-qq', '-o', traceFile, process.execPath, probe, scratch], { timeoutMs: 50_000 });
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

// tmpfiles changes owners, which needs root; as another user this check is reported as skipped.
const isRoot = process.getuid?.() === 0;
(isRoot ? test : test.skip)(
  `atm-kiosk.tmpfiles.conf makes K_SHARED owner-only for atm-kiosk and turns console blanking off${isRoot ? '' : ' (needs root)'}`,
  async (t) => {
    const root = sysusersRoot(t, 'tmpfiles');
    const users = await runTool('systemd-sysusers', 'systemd', [`--root=${root}`, path.join(systemdDir, 'atm-kiosk.sysusers.conf')]);
    t.is(users.status, 0, users.stderr);
    // What provisioning leaves on the SD card: files owned by whoever ran it, with loose modes.
    mkdirSync(path.join(root, 'etc/atm-kiosk'), { recursive: true, mode: 0o755 });
    writeFileSync(path.join(root, 'etc/atm-kiosk/kiosk.json'), '{}\n', { mode: 0o644 });
    writeFileSync(path.join(root, 'etc/atm-kiosk/k_shared.key'), '00'.repeat(32) + '\n', { mode: 0o644 });
    mkdirSync(path.join(root, 'sys/module/kernel/parameters'), { recursive: true });
    writeFileSync(path.join(root, 'sys/module/kernel/parameters/consoleblank'), '');

    const result = await runTool('systemd-tmpfiles', 'systemd', [`--root=${root}`, '--create', path.join(systemdDir, 'atm-kiosk.tmpfiles.conf')]);
    t.is(result.status, 0, result.stderr);
    t.deepEqual(outputLines(result), []);

    const passwd = readFileSync(path.join(root, 'etc/passwd'), 'utf8');
    const [, uid, gid] = /^atm-kiosk:x:(\d+):(\d+):/m.exec(passwd) ?? [];
    const key = statSync(path.join(root, 'etc/atm-kiosk/k_shared.key'));
    t.is(key.mode & 0o777, 0o400);
    t.is(key.uid, Number(uid));
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

type UdevRule = { line: number; matches: Map<string, string>; assignments: Map<string, string> };

/** Splits each rule into matches (==) and assignments (=, +=); udevadm above is the syntax check of record. */
function udevRules(text: string): UdevRule[] {
  const rules: UdevRule[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const rule: UdevRule = { line: index + 1, matches: new Map(), assignments: new Map() };
    for (const token of line.matchAll(/([A-Z_]+(?:\{[^}]+\})?)\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"/g)) {
      const [, key, op, value] = token;
      if (op === '==' || op === '!=') rule.matches.set(`${key}${op === '!=' ? '!' : ''}`, value!);
      else rule.assignments.set(`${key}${op === '+=' ? '+' : ''}`, value!);
    }
    rules.push(rule);
  });
  return rules;
}

test('card reader and PIN pad: hidraw for atm-kiosk only, evdev hidden from libinput and logind', (t) => {
  const rules = udevRules(readFileSync(path.join(systemdDir, UDEV_RULES), 'utf8'));
  const hidraw = rules.filter((rule) => rule.matches.get('SUBSYSTEM') === 'hidraw');
  t.is(hidraw.length, 2, 'one hidraw rule each for the card reader and the PIN pad');
  for (const rule of hidraw) {
    t.regex(rule.matches.get('ATTRS{idVendor}') ?? '', /^[0-9a-f]{4}$/);
    t.regex(rule.matches.get('ATTRS{idProduct}') ?? '', /^[0-9a-f]{4}$/);
    t.is(rule.assignments.get('GROUP'), 'atm-kiosk', `line ${rule.line}`);
    t.is(rule.assignments.get('MODE'), '0660', `line ${rule.line}`);
    const input = rules.find(
      (other) =>
        other.matches.get('SUBSYSTEM') === 'input' &&
        other.matches.get('ATTRS{idVendor}') === rule.matches.get('ATTRS{idVendor}') &&
        other.matches.get('ATTRS{idProduct}') === rule.matches.get('ATTRS{idProduct}'),
    );
    t.truthy(input, `an input rule for the device of line ${rule.line}`);
    t.is(input?.matches.get('KERNEL'), 'event*');
    t.is(input?.assignments.get('ENV{LIBINPUT_IGNORE_DEVICE}'), '1');
    t.is(input?.assignments.get('ENV{ID_INPUT_KEY}'), '');
  }
});

test('dispenser and printer serial ports get atm-kiosk access and stable /dev/atm names', (t) => {
  const rules = udevRules(readFileSync(path.join(systemdDir, UDEV_RULES), 'utf8'));
  const serial = rules.filter((rule) => rule.matches.get('SUBSYSTEM') === 'tty');
  t.deepEqual(serial.map((rule) => rule.assignments.get('SYMLINK+')).sort(), ['atm/dispenser', 'atm/printer']);
  for (const rule of serial) {
    t.is(rule.assignments.get('GROUP'), 'atm-kiosk', `line ${rule.line}`);
    t.is(rule.assignments.get('MODE'), '0660', `line ${rule.line}`);
  }
});

test('the rules run after udev sets ID_INPUT_* and before logind and seat rules read them', (t) => {
  // udev orders all rules files by name, across /usr/lib, /run and /etc.
  const order = ['60-input-id.rules', '60-persistent-input.rules', UDEV_RULES, '70-power-switch.rules', '70-uaccess.rules', '71-seat.rules'];
  t.deepEqual([...order].sort(), order);
});
