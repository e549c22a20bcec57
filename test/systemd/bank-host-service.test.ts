// The bank host run the way the unit runs it, by systemd itself: systemd 252 boots as PID 1 of private
// namespaces (PID, mount, network, cgroup, UTS, IPC) and starts systemd/bank-host.service, unchanged, from
// the compiled build at the path its ExecStart= names. So the user, StateDirectory=, RuntimeDirectory=,
// LoadCredential= (the credentials directory), UMask=, the sandbox and the system call filter are systemd's
// own doing, not an imitation of it. A kiosk is then enrolled through the admin socket with the compiled
// `provision` tool and checked over TLS 1.3-PSK (handshake + ping), from inside the same network namespace.
//
// What the namespace provides, and why:
// - overlays on /etc and /usr, tmpfs on /run, /var/lib, /tmp and /var/tmp: the bank-host user (created by systemd-sysusers
//   from systemd/bank-host.sysusers.conf), /etc/bank-host/keys, /usr/lib/atm-bank-host (the build, with the
//   project's node_modules bound beside it, as the package would install it) and the state all live in
//   scratch folders; nothing on this machine changes;
// - `mount --make-rshared /`: what systemd does at boot outside a container; LoadCredential= relies on it
//   to carry the credentials mount into the service;
// - SYSTEMD_UNIT_PATH: only our unit and empty stand-ins for the targets it is ordered against, so this
//   systemd starts the bank host and nothing else;
// - one drop-in, bank-host.service.d/test-output.conf, sends stdout to a file: there is no journald here.
//   It changes nothing else (the unit's security score is measured on the file alone, in units.test.ts);
// - a network namespace: the unit listens on 0.0.0.0:7443, which stays private to it.
import test from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHostKeys, KEY_FILES } from '../../bank-host/keys.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const UNIT = 'bank-host.service';
const STARTUP_TIMEOUT_MS = 30_000;

if (process.getuid?.() !== 0) {
  throw new Error('test/systemd/bank-host-service.test.ts boots systemd in private namespaces, which needs root: run the suite as root (npm test does, on Debian)');
}

interface Booted {
  readonly scratch: string;
  readonly unshare: ChildProcess;
  readonly systemdPid: number;
  readonly cgroup: string;
}

/** Inside the namespaces these live on a private tmpfs; the test reads them through systemd's root. */
const LOG_FILE = '/run/atm-test/bank-host.log';
const KIOSK_ROOT = '/run/atm-test/kiosk-root';

/** A path inside the namespaces, as seen from this process. */
function insidePath(file: string): string {
  if (!booted?.systemdPid) throw new Error('systemd is not running');
  return `/proc/${booted.systemdPid}/root${file}`;
}

let booted: Booted | undefined;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The cgroup v2 hierarchy's mount point and this process's cgroup in it. */
function ownCgroup2(): string {
  const mount = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .find((fields) => fields[fields.indexOf('-') + 1] === 'cgroup2');
  if (!mount) throw new Error('no cgroup2 file system is mounted; systemd 252 needs one (mount -t cgroup2 none /sys/fs/cgroup/unified)');
  const own = /^0::(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
  if (own === undefined) throw new Error('this process has no cgroup v2 membership in /proc/self/cgroup');
  return path.join(mount[4]!, own);
}

/** Runs a command inside the booted namespaces (as root there). */
function inside(args: string[], options: { input?: string } = {}) {
  if (!booted) throw new Error('systemd is not running');
  return spawnSync('nsenter', ['-t', String(booted.systemdPid), '-m', '-n', '-p', `--wd=${repoRoot}`, '--', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { PATH: process.env.PATH, LC_ALL: 'C.UTF-8', SYSTEMD_COLORS: '0', SYSTEMD_PAGER: 'cat' },
    ...(options.input !== undefined ? { input: options.input } : {}),
  });
}

function mustInside(args: string[]): string {
  const result = inside(args);
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed (${result.status}): ${result.stdout}${result.stderr}`);
  return result.stdout;
}

function unitProperty(name: string): string {
  return mustInside(['systemctl', 'show', UNIT, '-p', name, '--value']).trim();
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = STARTUP_TIMEOUT_MS): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) {
      const log = booted?.systemdPid ? await readFile(insidePath(LOG_FILE), 'utf8').catch(() => '(no log)') : '';
      const status = booted ? inside(['systemctl', 'status', UNIT, '--no-pager']).stdout : '';
      throw new Error(`timed out waiting for ${what}\n--- bank host output:\n${log}\n--- systemctl status:\n${status}`);
    }
    await sleep(100);
  }
}

function logLines(): { msg: string; [key: string]: unknown }[] {
  return readFileSync(insidePath(LOG_FILE), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg: string });
}

test.before(async () => {
  for (const tool of ['unshare', 'nsenter', 'setpriv', 'systemd-sysusers']) {
    if (spawnSync(tool, ['--version']).error) throw new Error(`${tool} is not installed (apt-get install -y ${tool === 'systemd-sysusers' ? 'systemd' : 'util-linux'})`);
  }
  const systemdBinary = ['/lib/systemd/systemd', '/usr/lib/systemd/systemd'].find((file) => existsSync(file));
  if (!systemdBinary) throw new Error('systemd is not installed (apt-get install -y systemd)');

  const scratch = await mkdtemp(path.join(os.tmpdir(), 'atm-bank-host-unit-'));
  await chmod(scratch, 0o755);

  // The package's layout: /usr/lib/atm-bank-host/{dist,node_modules,package.json,systemd} (the provision
  // tool takes the kiosk's unit files from systemd/ beside dist/).
  const app = path.join(scratch, 'app');
  await mkdir(path.join(app, 'node_modules'), { recursive: true });
  const tsc = spawnSync(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', path.join(repoRoot, 'tsconfig.build.json'), '--outDir', path.join(app, 'dist')], { encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`build failed:\n${tsc.stdout}${tsc.stderr}`);
  await copyFile(path.join(repoRoot, 'package.json'), path.join(app, 'package.json'));
  await cp(path.join(repoRoot, 'systemd'), path.join(app, 'systemd'), { recursive: true });

  const keys = path.join(scratch, 'keys');
  await createHostKeys(keys);

  // Only our unit, unchanged, and empty stand-ins for what it is ordered against.
  const units = path.join(scratch, 'units');
  await mkdir(path.join(units, `${UNIT}.d`), { recursive: true });
  await copyFile(path.join(repoRoot, 'systemd', UNIT), path.join(units, UNIT));
  for (const target of ['sysinit.target', 'basic.target', 'shutdown.target', 'network-online.target', 'multi-user.target']) {
    await writeFile(path.join(units, target), `[Unit]\nDescription=${target} (stand-in: this systemd starts only ${UNIT})\n`);
  }
  await writeFile(path.join(units, 'system.slice'), '[Unit]\nDescription=System slice\n');
  await writeFile(path.join(units, `${UNIT}.d`, 'test-output.conf'), `# No journald in the test's namespaces.\n[Service]\nStandardOutput=append:${LOG_FILE}\nStandardError=inherit\n`);

  const layers = path.join(scratch, 'layers');
  for (const dir of ['etc-upper', 'etc-work', 'usr-upper', 'usr-work']) await mkdir(path.join(layers, dir), { recursive: true });
  const consoleLog = path.join(scratch, 'systemd-console.log');
  await writeFile(consoleLog, '');
  const inner = path.join(scratch, 'inner.sh');
  await writeFile(
    inner,
    [
      'set -e',
      'mount -t cgroup2 none /sys/fs/cgroup',
      'mount -t tmpfs -o mode=0755 tmpfs /run',
      'mount -t tmpfs -o mode=0755 tmpfs /var/lib',
      `mount -t overlay overlay -o lowerdir=/etc,upperdir=${layers}/etc-upper,workdir=${layers}/etc-work /etc`,
      `mount -t overlay overlay -o lowerdir=/usr,upperdir=${layers}/usr-upper,workdir=${layers}/usr-work /usr`,
      `systemd-sysusers ${path.join(repoRoot, 'systemd/bank-host.sysusers.conf')}`,
      `install -d -o root -g root -m 0700 /etc/bank-host /etc/bank-host/keys`,
      `install -o root -g root -m 0600 ${keys}/*.key /etc/bank-host/keys/`,
      'mkdir /usr/lib/atm-bank-host',
      `mount --bind ${app} /usr/lib/atm-bank-host`,
      `mount --bind ${path.join(repoRoot, 'node_modules')} /usr/lib/atm-bank-host/node_modules`,
      `mount --bind ${consoleLog} /dev/console`,
      // Our files on the private /run; then /tmp and /var/tmp become private too, so PrivateTmp='s folders
      // (systemd-private-*) vanish with the namespaces.
      `install -d -m 0755 /run/atm-test ${KIOSK_ROOT}`,
      `cp -r ${units} /run/atm-test/units`,
      `: > ${LOG_FILE}`,
      'mount -t tmpfs -o mode=1777 tmpfs /tmp',
      'mount -t tmpfs -o mode=1777 tmpfs /var/tmp',
      'mount --make-rshared /',
      'export container=atm-test SYSTEMD_UNIT_PATH=/run/atm-test/units',
      `exec ${systemdBinary} --system --unit=${UNIT} --log-target=console --log-level=notice`,
    ].join('\n') + '\n',
  );

  // A child cgroup of our own for the booted systemd: cgroup.kill ends everything in it at teardown.
  const cgroup = path.join(ownCgroup2(), `atm-bank-host-unit-${process.pid}`);
  await mkdir(cgroup);
  const outer = `echo $$ > ${cgroup}/cgroup.procs && exec unshare --cgroup --pid --fork --kill-child --mount --net --uts --ipc --propagation private --mount-proc sh ${inner}`;
  const unshare = spawn('sh', ['-c', outer], { stdio: ['ignore', 'pipe', 'pipe'] });
  let unshareOutput = '';
  unshare.stdout!.on('data', (chunk: Buffer) => (unshareOutput += chunk.toString()));
  unshare.stderr!.on('data', (chunk: Buffer) => (unshareOutput += chunk.toString()));
  booted = { scratch, unshare, systemdPid: 0, cgroup };

  const systemdPid = await waitFor('systemd to start as PID 1 of the namespaces', () => {
    if (unshare.exitCode !== null) throw new Error(`the namespaces could not be set up (exit ${unshare.exitCode}):\n${unshareOutput}`);
    const children = readFileSync(`/proc/${unshare.pid}/task/${unshare.pid}/children`, 'utf8').trim();
    const pid = Number(children.split(/\s+/)[0]);
    if (!pid) return undefined;
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    return comm === 'systemd' ? pid : undefined;
  });
  booted = { ...booted, systemdPid };
  await waitFor('the bank host to serve', () => (logLines().some((line) => line.msg === 'bank host serving') ? true : undefined));
});

test.after.always(async () => {
  if (!booted) return;
  await writeFile(path.join(booted.cgroup, 'cgroup.kill'), '1').catch(() => booted!.unshare.kill('SIGKILL'));
  booted.unshare.kill('SIGKILL');
  await waitFor('the namespaces to end', () => (booted!.unshare.exitCode !== null || booted!.unshare.signalCode !== null ? true : undefined), 10_000).catch(() => undefined);
  // Remove the cgroups systemd made inside ours, deepest first, once their processes are gone.
  const removeTree = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) if (entry.isDirectory()) await removeTree(path.join(dir, entry.name));
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        await rmdir(dir);
        return;
      } catch {
        await sleep(100);
      }
    }
  };
  await removeTree(booted.cgroup);
  await rm(booted.scratch, { recursive: true, force: true });
});

function status(pid: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of mustInside(['cat', `/proc/${pid}/status`]).split('\n')) {
    const [key, ...value] = line.split(':');
    if (key) fields[key] = value.join(':').trim();
  }
  return fields;
}

test.serial('systemd runs the host as the bank-host system user, without capabilities or new privileges, under a seccomp filter', (t) => {
  t.is(unitProperty('ActiveState'), 'active');
  const [, uid] = /^bank-host:x:(\d+):/m.exec(mustInside(['cat', '/etc/passwd'])) ?? [];
  t.truthy(uid, 'systemd-sysusers created bank-host');
  t.not(uid, '0');
  const fields = status(unitProperty('MainPID'));
  t.is(fields.Uid, `${uid}\t${uid}\t${uid}\t${uid}`);
  t.is(fields.CapEff, '0000000000000000');
  t.is(fields.CapPrm, '0000000000000000');
  t.is(fields.CapBnd, '0000000000000000');
  t.is(fields.NoNewPrivs, '1');
  t.is(fields.Seccomp, '2', 'SystemCallFilter= is in force');
  t.is(readFileSync(`/proc/${booted!.systemdPid}/comm`, 'utf8').trim(), 'systemd');
});

test.serial('the host runs on the Node 24 that npm ci installed beside it, the one its unit names', (t) => {
  const exe = mustInside(['readlink', '-f', `/proc/${unitProperty('MainPID')}/exe`]).trim();
  t.is(exe, `/usr/lib/atm-bank-host/node_modules/node-linux-${process.arch}/bin/node`);
  t.regex(mustInside([exe, '--version']).trim(), /^v24\./);
});

test.serial('systemd loaded every hardening setting the unit asks for, as it reads them', (t) => {
  // `systemctl show` is systemd's own parse of the unit file: a setting it ignored or read differently
  // shows up here, not only as a lower security score.
  const show = mustInside(['systemctl', 'show', UNIT, '--all', '--no-pager']);
  const property = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(show)?.[1];
  t.deepEqual(
    Object.fromEntries(
      ['User', 'Group', 'DynamicUser', 'StateDirectory', 'StateDirectoryMode', 'RuntimeDirectory', 'UMask', 'ProtectSystem', 'ProtectHome', 'PrivateTmp', 'PrivateDevices', 'PrivateUsers', 'NoNewPrivileges', 'CapabilityBoundingSet', 'AmbientCapabilities', 'RestrictNamespaces', 'SystemCallErrorNumber', 'SystemCallArchitectures', 'MemoryDenyWriteExecute', 'Restart', 'RestartUSec', 'Type'].map((name) => [name, property(name)]),
    ),
    {
      User: 'bank-host',
      Group: 'bank-host',
      DynamicUser: 'no',
      StateDirectory: 'bank-host',
      StateDirectoryMode: '0700',
      RuntimeDirectory: 'bank-host',
      UMask: '0077',
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      PrivateUsers: 'yes',
      NoNewPrivileges: 'yes',
      CapabilityBoundingSet: '',
      AmbientCapabilities: '',
      RestrictNamespaces: 'yes',
      SystemCallErrorNumber: '1', // EPERM
      SystemCallArchitectures: 'native',
      // Node's JIT needs memory that is written and then executed (see the unit's comment).
      MemoryDenyWriteExecute: 'no',
      Restart: 'on-failure',
      RestartUSec: '5s',
      Type: 'simple',
    },
  );
  t.deepEqual((property('RestrictAddressFamilies') ?? '').split(' ').sort(), ['AF_INET', 'AF_INET6', 'AF_UNIX']);
  // The allow list is @system-service (plus @pkey) minus @privileged and @resources, expanded by systemd.
  const filter = new Set((property('SystemCallFilter') ?? '').split(/\s+/));
  for (const call of ['read', 'write', 'openat', 'fsync', 'fdatasync', 'accept4', 'epoll_wait', 'pkey_alloc']) t.true(filter.has(call), `${call} is allowed`);
  for (const call of ['mount', 'ptrace', 'setuid', 'chown', 'reboot', 'kexec_load', 'setrlimit', 'bpf']) t.false(filter.has(call), `${call} is not allowed`);
  // (systemd 252 prints LoadCredential= as "[unprintable]"; the next test looks at the credentials themselves.)
});

test.serial('its keys arrive through LoadCredential= in a credentials directory only the service user can read', (t) => {
  const pid = unitProperty('MainPID');
  const credentials = `/proc/${pid}/root/run/credentials/${UNIT}`;
  const listing = mustInside(['stat', '-c', '%U %a %n', credentials, ...Object.values(KEY_FILES).map((file) => `${credentials}/${file}`)]).trim().split('\n');
  const [directory, ...files] = listing.map((line) => line.split(' '));
  t.is(directory![0], 'bank-host');
  t.is(Number.parseInt(directory![1]!, 8) & 0o077, 0, `the credentials directory is closed to others: ${directory![1]}`);
  t.is(files.length, Object.keys(KEY_FILES).length);
  for (const [owner, mode, name] of files) {
    t.is(owner, 'bank-host', name);
    t.is(Number.parseInt(mode!, 8) & 0o077, 0, `${name} mode ${mode}`);
  }
  // The originals stay root-only; the service never reads /etc/bank-host/keys.
  t.is(mustInside(['stat', '-c', '%U %a', '/etc/bank-host/keys']).trim(), 'root 700');
  t.true(mustInside(['cat', `/proc/${pid}/environ`]).split('\0').includes(`CREDENTIALS_DIRECTORY=/run/credentials/${UNIT}`));
});

test.serial('its state lives in the StateDirectory=, owner-only down to every file', (t) => {
  const pid = unitProperty('MainPID');
  t.true(mustInside(['cat', `/proc/${pid}/environ`]).split('\0').includes('STATE_DIRECTORY=/var/lib/bank-host'));
  const entries = mustInside(['find', '/var/lib/bank-host', '-printf', '%u %m %p\n']).trim().split('\n');
  t.true(entries.length > 3, entries.join('\n'));
  t.is(entries[0], 'bank-host 700 /var/lib/bank-host');
  for (const entry of entries) {
    const [owner, mode] = entry.split(' ');
    t.is(owner, 'bank-host', entry);
    t.is(Number.parseInt(mode!, 8) & 0o077, 0, `UMask=0077: ${entry}`);
  }
  t.is(mustInside(['stat', '-c', '%U %a', '/run/bank-host/admin.sock']).trim(), 'bank-host 600');
});

test.serial('a kiosk enrolled through the admin socket connects to it over TLS 1.3-PSK and gets an answer', (t) => {
  const kioskRoot = KIOSK_ROOT;
  const provision = '/usr/lib/atm-bank-host/dist/provisioning/cli/main.js';
  const enroll = inside(['node', provision, 'enroll', '--device-id', 'kiosk-unit-1', '--host', '127.0.0.1:7443', '--root', kioskRoot, '--admin-socket', '/run/bank-host/admin.sock']);
  t.is(enroll.status, 0, enroll.stderr);
  t.regex(enroll.stdout, /registered device kiosk-unit-1 on the bank host/);
  const check = inside(['node', provision, 'check', '--root', kioskRoot]);
  t.is(check.status, 0, check.stdout + check.stderr);
  t.regex(check.stdout, /ok {6}host: 127\.0\.0\.1:7443 accepted device kiosk-unit-1 with this key and answered ping/);
});

test.serial("the operator's admin command reaches the socket as the bank-host user, and nobody else's does", (t) => {
  const cli = ['node', '/usr/lib/atm-bank-host/dist/bank-host/cli/main.js', 'device', 'list', '--json', '--admin-socket', '/run/bank-host/admin.sock'];
  const asHost = inside(['setpriv', '--reuid=bank-host', '--regid=bank-host', '--clear-groups', '--', ...cli]);
  t.is(asHost.status, 0, asHost.stderr);
  t.deepEqual((JSON.parse(asHost.stdout) as { devices: { deviceId: string; status: string }[] }).devices.map((d) => [d.deviceId, d.status]), [['kiosk-unit-1', 'active']]);
  // Another local user cannot even connect: the socket is 0600 in a 0750 directory.
  const connect = `require('node:net').connect('/run/bank-host/admin.sock').on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); })`;
  t.is(inside(['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', 'node', '-e', connect]).stdout.trim(), 'EACCES');
  t.is(inside(['setpriv', '--reuid=bank-host', '--regid=bank-host', '--clear-groups', '--', 'node', '-e', connect]).stdout.trim(), 'connected');
  // And the operator who tries as the wrong user is told why, not that the host is down.
  const asNobody = inside(['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', ...cli]);
  t.not(asNobody.status, 0);
  t.regex(asNobody.stderr, /permission denied on \/run\/bank-host\/admin\.sock: the admin socket is owner-only; run this as the bank host's user or root/);
});

test.serial('after a crash systemd starts it again (Restart=on-failure), and the kiosk is served again', async (t) => {
  t.timeout(60_000);
  const before = unitProperty('MainPID');
  mustInside(['kill', '-KILL', before]);
  const after = await waitFor('the restarted host', () => {
    const pid = unitProperty('MainPID');
    return pid !== '0' && pid !== before && unitProperty('ActiveState') === 'active' ? pid : undefined;
  });
  t.not(after, before);
  t.is(unitProperty('NRestarts'), '1');
  await waitFor('the restarted host to serve', () => (logLines().filter((line) => line.msg === 'bank host serving').length >= 2 ? true : undefined));
  const check = inside(['node', '/usr/lib/atm-bank-host/dist/provisioning/cli/main.js', 'check', '--root', KIOSK_ROOT]);
  t.is(check.status, 0, check.stdout + check.stderr);
});

test.serial('systemctl stop ends it with SIGTERM and a clean exit, and no key ever reached its output', async (t) => {
  mustInside(['systemctl', 'stop', UNIT]);
  t.is(unitProperty('ActiveState'), 'inactive');
  t.is(unitProperty('Result'), 'success');
  t.is(unitProperty('ExecMainStatus'), '0');
  t.true(logLines().some((line) => line.msg === 'stopping' && line.signal === 'SIGTERM'));
  t.true(logLines().some((line) => line.msg === 'bank host stopped'));
  const output = await readFile(insidePath(LOG_FILE), 'utf8');
  for (const file of Object.values(KEY_FILES)) {
    const key = (await readFile(path.join(booted!.scratch, 'keys', file), 'utf8')).trim();
    t.false(output.includes(key), file);
  }
  const kShared = (await readFile(insidePath(`${KIOSK_ROOT}/etc/atm-kiosk/k_shared.staged`), 'utf8')).trim();
  t.false(output.includes(kShared), 'K_SHARED');
});
