// The kiosk's image, enrolled by `provision enroll --root /` and then booted: systemd 252 runs as PID 1 of
// private namespaces (PID, mount, network, cgroup, UTS, IPC), with overlays on /etc and /usr so that what
// provisioning writes there, and everything systemd does, stays inside them. Then, with systemd's own
// eyes:
// - the sealed key: atm-kiosk.service pulls in atm-kiosk-seal-key.service, which seals the staged K_SHARED
//   with `systemd-creds encrypt --with-key=auto`, proves it decrypts and shreds the clear copy; the kiosk's
//   unit gets it through LoadCredentialEncrypted= in its credentials directory, as the kiosk's own loader
//   reads it. /var/lib/systemd is a folder on the test machine's disk, so `auto` finds it on persistent
//   media and uses the host key (there is no TPM2 here, and systemd never uses one in a container); the
//   unit runs unchanged.
// - the lock-down: the gettys, autovt and ctrl-alt-del.target are masked as systemd resolves them (starting
//   one is refused), Ctrl-Alt-Del pressed again and again (SIGINT to PID 1, what the kernel sends) neither
//   reboots nor stops anything, and systemd-sysctl, run by systemd, leaves kernel.sysrq at 0 although the
//   image's /etc/sysctl.conf turns it on. (/proc/sys is a tmpfs holding kernel/sysrq in the namespace: the
//   kernel's real settings are not namespaced, and the test must not change the machine's.)
//
// What is stood in, and why: the kiosk's unit gets one drop-in that runs `sleep` instead of cage and
// Electron (neither can run here) without a tty or PAM session (no logind here), and drops the default
// dependencies (so basic.target's wants, such as the machine's own usbguard.service, stay unstarted); the
// targets and services it is ordered against are empty stand-ins.
import test from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadKShared } from '../../kiosk/core/config.js';
import { keyCheckValue } from '../../protocol/key-block.js';
import { formatKeyTransport } from '../../protocol/key-transport.js';
import { cageAllowsVtSwitch, MASKED_UNITS } from '../../provisioning/lockdown.js';
import { recordScenarioResult } from '../reliability/results.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const STARTUP_TIMEOUT_MS = 90_000;
const DEVICE_ID = 'kiosk-image-1';
const KEY = Buffer.alloc(32, 0x5a);
const TEST_DIR = '/run/atm-test';
/** The repository as the booted image sees it: bound under TEST_DIR before the image gets its own /tmp, so a
 *  checkout under /tmp (a CI clone) stays reachable. */
const REPO_INSIDE = `${TEST_DIR}/repo`;
const inRepoInside = (file: string) => (file === repoRoot || file.startsWith(repoRoot + path.sep) ? REPO_INSIDE + file.slice(repoRoot.length) : file);
const MACHINE_UNITS = ['getty@.service', 'autovt@.service', 'serial-getty@.service', 'console-getty.service', 'ctrl-alt-del.target', 'systemd-sysctl.service', 'usbguard.service'];
const STAND_INS = ['sysinit.target', 'basic.target', 'shutdown.target', 'local-fs.target', 'network-online.target', 'graphical.target', 'atm-test.target', 'systemd-tmpfiles-setup.service', 'systemd-user-sessions.service', 'systemd-logind.service', 'dbus.socket'];

if (process.getuid?.() !== 0) {
  throw new Error('test/systemd/kiosk-image.test.ts boots systemd in private namespaces, which needs root: run the suite as root (npm test does, on Debian)');
}

interface Booted {
  readonly scratch: string;
  readonly unshare: ChildProcess;
  readonly systemdPid: number;
  readonly cgroup: string;
}
let booted: Booted | undefined;
let enrollOutput = '';
/** What systemd (PID 1 of the namespaces) printed: in a container it logs to its own output. */
let systemdOutput = '';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

function insidePath(file: string): string {
  if (!booted?.systemdPid) throw new Error('systemd is not running');
  return `/proc/${booted.systemdPid}/root${file}`;
}

function inside(args: string[]) {
  if (!booted) throw new Error('systemd is not running');
  return spawnSync('nsenter', ['-t', String(booted.systemdPid), '-m', '-n', '-p', '--wd=/', '--', ...args], {
    encoding: 'utf8',
    // A bound for a loaded machine: the provision check compiles its TypeScript on the way.
    timeout: 120_000,
    env: { PATH: process.env.PATH, LC_ALL: 'C.UTF-8', SYSTEMD_COLORS: '0', SYSTEMD_PAGER: 'cat' },
  });
}

function mustInside(args: string[]): string {
  const result = inside(args);
  if (result.status !== 0) {
    const status = inside(['systemctl', 'status', '--no-pager', 'atm-kiosk.service', 'atm-kiosk-seal-key.service']).stdout;
    throw new Error(`${args.join(' ')} failed (${result.status}): ${result.stdout}${result.stderr}\n--- systemctl status:\n${status}\n--- systemd's output:\n${systemdOutput.slice(-6000)}`);
  }
  return result.stdout;
}

const property = (unit: string, name: string) => mustInside(['systemctl', 'show', unit, '-p', name, '--value']).trim();

/** The states `systemctl is-system-running` prints once the manager answers (not "offline" or "unknown"). */
const SYSTEMD_ANSWERS = /^(initializing|starting|running|degraded|maintenance|stopping)$/;

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = STARTUP_TIMEOUT_MS): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) {
      throw new Error(`timed out waiting for ${what}\n--- systemd's output:\n${systemdOutput.slice(-6000)}`);
    }
    await sleep(100);
  }
}

test.before(async () => {
  for (const tool of ['unshare', 'nsenter', 'systemd-sysusers', 'systemd-creds']) {
    if (spawnSync(tool, ['--version']).error) throw new Error(`${tool} is not installed (apt-get install -y ${tool.startsWith('systemd') ? 'systemd' : 'util-linux'})`);
  }
  const systemdBinary = ['/lib/systemd/systemd', '/usr/lib/systemd/systemd'].find((file) => existsSync(file));
  if (!systemdBinary) throw new Error('systemd is not installed (apt-get install -y systemd)');
  const machineUnits = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((dir) => existsSync(path.join(dir, 'getty@.service')));
  if (!machineUnits) throw new Error('no getty@.service on this machine (apt-get install -y systemd)');
  if (!existsSync(path.join(machineUnits, 'usbguard.service'))) throw new Error('no usbguard.service on this machine (apt-get install -y usbguard)');

  const scratch = await mkdtemp(path.join(os.tmpdir(), 'atm-kiosk-image-'));
  await chmod(scratch, 0o755);
  // The operator's key file, as `bank-host device add --key-out` writes it.
  const keyFile = path.join(scratch, 'kiosk.key');
  await writeFile(keyFile, await formatKeyTransport(DEVICE_ID, 1, KEY), { mode: 0o600 });

  const units = path.join(scratch, 'units');
  await mkdir(path.join(units, 'atm-kiosk.service.d'), { recursive: true });
  for (const unit of MACHINE_UNITS) await copyFile(path.join(machineUnits, unit), path.join(units, unit));
  for (const unit of STAND_INS) {
    const kind = unit.endsWith('.service') ? '\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n' : unit.endsWith('.socket') ? '\n[Socket]\nListenStream=/run/atm-test/stand-in.sock\n' : '';
    await writeFile(path.join(units, unit), `[Unit]\nDescription=${unit} (stand-in)\nDefaultDependencies=no\n${kind}`);
  }
  await writeFile(
    path.join(units, 'atm-kiosk.service.d', 'test-stand-in.conf'),
    [
      '# cage and Electron cannot run here, nor a PAM session on tty1 (no logind): a process that holds the',
      '# unit open stands in for them. Everything else is the unit as packaged.',
      '[Unit]',
      'DefaultDependencies=no',
      '[Service]',
      'ExecStart=',
      'ExecStart=/bin/sleep infinity',
      'PAMName=',
      'TTYPath=',
      'StandardInput=null',
      'StandardOutput=null',
      'UtmpIdentifier=',
      '',
    ].join('\n'),
  );

  const layers = path.join(scratch, 'layers');
  for (const dir of ['etc-upper', 'etc-work', 'usr-upper', 'usr-work', 'var-lib-systemd', 'var-cache']) await mkdir(path.join(layers, dir), { recursive: true });
  const provision = ['node', '--import', 'tsx', path.join(repoRoot, 'provisioning/cli/main.ts')];
  const inner = path.join(scratch, 'inner.sh');
  await writeFile(
    inner,
    [
      'set -e',
      'mount -t cgroup2 none /sys/fs/cgroup',
      'mount -t tmpfs -o mode=0755 tmpfs /run',
      'mount -t tmpfs -o mode=0755 tmpfs /var/lib',
      `mkdir -p /var/lib/systemd && mount --bind ${layers}/var-lib-systemd /var/lib/systemd`,
      `mount --bind ${layers}/var-cache /var/cache`,
      `mount -t overlay overlay -o lowerdir=/etc,upperdir=${layers}/etc-upper,workdir=${layers}/etc-work /etc`,
      `mount -t overlay overlay -o lowerdir=/usr,upperdir=${layers}/usr-upper,workdir=${layers}/usr-work /usr`,
      // The kernel's settings as the image's systemd-sysctl would see them, without touching the machine's.
      // (systemd reads the boot id there, for PrivateTmp='s folders among others.)
      'boot_id=$(cat /proc/sys/kernel/random/boot_id)',
      'mount -t tmpfs -o mode=0755 tmpfs /proc/sys',
      'mkdir -p /proc/sys/kernel/random /proc/sys/net && echo 16 > /proc/sys/kernel/sysrq && echo "$boot_id" > /proc/sys/kernel/random/boot_id',
      // A site file that turns SysRq on, as an image may have; the kiosk's file must still win.
      "printf 'kernel.sysrq = 1\\n' > /etc/sysctl.conf",
      `install -d -m 0755 ${TEST_DIR} /run/user ${REPO_INSIDE}`,
      `mount --bind ${repoRoot} ${REPO_INSIDE}`,
      // A fresh image enables nothing of the machine's own (its timesyncd, pstore, …): only what
      // provisioning enables below.
      'rm -rf /etc/systemd/system && mkdir -m 0755 /etc/systemd/system',
      // The image: enrolled with the provision tool, as a technician does on the mounted card.
      `${provision.join(' ')} enroll --device-id ${DEVICE_ID} --host 127.0.0.1:7443 --root / --key-file ${keyFile} > ${TEST_DIR}/enroll.log 2>&1`,
      'systemd-sysusers /usr/lib/sysusers.d/atm-kiosk.conf',
      'systemd-tmpfiles --create /usr/lib/tmpfiles.d/atm-kiosk.conf 2>/dev/null || true',
      `cp -r ${units} ${TEST_DIR}/units`,
      // The kiosk's units as enroll installed them on the image (the machine's other units stay out of reach).
      `cp /usr/lib/systemd/system/atm-kiosk.service /usr/lib/systemd/system/atm-kiosk-seal-key.service ${TEST_DIR}/units/`,
      'mount -t tmpfs -o mode=1777 tmpfs /tmp',
      'mount -t tmpfs -o mode=1777 tmpfs /var/tmp',
      'mount --make-rshared /',
      // /etc/systemd/system first: provisioning's masks there override the units below, as on a kiosk.
      `export container=atm-test SYSTEMD_UNIT_PATH=/etc/systemd/system:${TEST_DIR}/units`,
      `exec ${systemdBinary} --system --unit=atm-test.target --log-target=console --log-level=notice`,
    ].join('\n') + '\n',
  );

  const cgroup = path.join(ownCgroup2(), `atm-kiosk-image-${process.pid}`);
  await mkdir(cgroup);
  const outer = `echo $$ > ${cgroup}/cgroup.procs && exec unshare --cgroup --pid --fork --kill-child --mount --net --uts --ipc --propagation private --mount-proc sh ${inner}`;
  const unshare = spawn('sh', ['-c', outer], { stdio: ['ignore', 'pipe', 'pipe'] });
  unshare.stdout!.on('data', (chunk: Buffer) => (systemdOutput += chunk.toString()));
  unshare.stderr!.on('data', (chunk: Buffer) => (systemdOutput += chunk.toString()));
  booted = { scratch, unshare, systemdPid: 0, cgroup };
  const systemdPid = await waitFor('systemd to start as PID 1 of the namespaces', () => {
    if (unshare.exitCode !== null) throw new Error(`the namespaces could not be set up (exit ${unshare.exitCode}):\n${systemdOutput}`);
    const children = readFileSync(`/proc/${unshare.pid}/task/${unshare.pid}/children`, 'utf8').trim();
    const pid = Number(children.split(/\s+/)[0]);
    if (!pid) return undefined;
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'systemd' ? pid : undefined;
  }, 60_000);
  booted = { ...booted, systemdPid };
  // systemctl prints "offline" when it cannot reach the manager yet (its bus socket is not there): only a
  // state the manager itself reports means it answers. Taking "offline" for an answer let a loaded run's
  // `systemctl start` find no bus.
  await waitFor('systemd to answer', () => (SYSTEMD_ANSWERS.test(inside(['systemctl', 'is-system-running']).stdout.trim()) ? true : undefined));
  enrollOutput = readFileSync(insidePath(`${TEST_DIR}/enroll.log`), 'utf8');
});

test.after.always(async () => {
  if (!booted) return;
  await writeFile(path.join(booted.cgroup, 'cgroup.kill'), '1').catch(() => booted!.unshare.kill('SIGKILL'));
  booted.unshare.kill('SIGKILL');
  await waitFor('the namespaces to end', () => (booted!.unshare.exitCode !== null || booted!.unshare.signalCode !== null ? true : undefined), 10_000).catch(() => undefined);
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

test.serial('the enrolled image holds the key staged root-only until the kiosk first starts', (t) => {
  t.regex(enrollOutput, new RegExp(`kiosk ${DEVICE_ID} is enrolled in /`), enrollOutput);
  t.is(mustInside(['stat', '-c', '%U %a', '/etc/atm-kiosk/k_shared.staged']).trim(), 'root 400');
  t.false(existsSync(insidePath('/etc/credstore.encrypted/atm-kiosk.k_shared')), 'not sealed before the kiosk starts');
});

test.serial("starting the kiosk seals its key first: the clear key is gone, the sealed one is root's, and the kiosk's unit gets it as a credential", async (t) => {
  mustInside(['systemctl', 'start', 'atm-kiosk.service']);
  t.is(property('atm-kiosk-seal-key.service', 'Result'), 'success');
  t.is(property('atm-kiosk-seal-key.service', 'ExecMainStatus'), '0');
  t.is(property('atm-kiosk.service', 'ActiveState'), 'active');

  t.false(existsSync(insidePath('/etc/atm-kiosk/k_shared.staged')), 'the clear key was shredded');
  t.false(existsSync(insidePath('/etc/credstore.encrypted/atm-kiosk.k_shared.new')));
  t.is(mustInside(['stat', '-c', '%U %a', '/etc/credstore.encrypted', '/etc/credstore.encrypted/atm-kiosk.k_shared']).trim(), 'root 700\nroot 600', 'root-only, in a root-only folder');
  const sealed = readFileSync(insidePath('/etc/credstore.encrypted/atm-kiosk.k_shared'));
  t.false(sealed.includes(KEY.toString('hex')), 'the sealed file does not hold the key in clear');
  t.false(sealed.includes(KEY), 'nor its raw bytes');
  t.true(existsSync(insidePath('/var/lib/systemd/credential.secret')), 'sealed with the host key (no TPM2 here)');

  // The kiosk's unit, running as atm-kiosk, holds the key in its credentials directory, readable by it alone,
  // and the kiosk's own loader accepts the file where kiosk.json points.
  const pid = property('atm-kiosk.service', 'MainPID');
  t.regex(mustInside(['stat', '-c', '%U', `/proc/${pid}`]), /^atm-kiosk$/m);
  const credential = `/run/credentials/atm-kiosk.service/k_shared`;
  t.is(mustInside(['stat', '-c', '%U %a', credential]).trim(), 'atm-kiosk 400');
  const config = JSON.parse(readFileSync(insidePath('/etc/atm-kiosk/kiosk.json'), 'utf8')) as { kSharedFile: string };
  t.is(config.kSharedFile, credential);
  t.true((await loadKShared(insidePath(config.kSharedFile))).equals(KEY), 'the kiosk reads the very key the operator issued');
  t.true(mustInside(['cat', `/proc/${pid}/environ`]).split('\0').includes('CREDENTIALS_DIRECTORY=/run/credentials/atm-kiosk.service'));
});

test.serial('provision check on the booted kiosk: no clear key left, the sealed key unseals to the recorded KCV, the lock-down is complete', async (t) => {
  // The same Node as the suite's (the project's Node 24), through the repository's path inside the image.
  // (nsenter changes folder before it enters the namespaces, so the folder is changed inside, by sh.)
  const command = [inRepoInside(process.execPath), '--import', 'tsx', `${REPO_INSIDE}/provisioning/cli/main.ts`, 'check', '--root', '/', '--offline'];
  const check = inside(['sh', '-c', `cd ${REPO_INSIDE} && exec "$@"`, 'sh', ...command]);
  t.is(check.status, 0, check.stdout + check.stderr);
  t.regex(check.stdout, new RegExp(`k_shared\\.info: device ${DEVICE_ID}, key version 1, check value \\(KCV\\) ${await keyCheckValue(KEY)} \\(matches the key\\)`));
  t.regex(check.stdout, /atm-kiosk\.k_shared: sealed with systemd-creds/);
  t.notRegex(check.stdout, /k_shared\.staged/);
  t.regex(check.stdout, /ready: nothing missing or wrong/);
  // A second start of the kiosk finds nothing to seal and keeps the sealed key.
  mustInside(['systemctl', 'restart', 'atm-kiosk.service']);
  t.is(property('atm-kiosk.service', 'ActiveState'), 'active');
  t.is(property('atm-kiosk-seal-key.service', 'ConditionResult'), 'no');
});

/** Each way in that the lock-down closes, tried on the booted image; an accepted one is a failure. */
const hostileAttempts: { what: string; accepted: boolean }[] = [];

test.serial('every console login and Ctrl-Alt-Del are masked, as systemd resolves them, and starting one is refused', (t) => {
  for (const unit of ['getty@tty1.service', 'getty@tty2.service', 'getty@tty6.service', 'autovt@tty3.service', 'serial-getty@ttyAMA0.service', 'serial-getty@ttyS0.service', 'console-getty.service', 'ctrl-alt-del.target']) {
    t.is(inside(['systemctl', 'is-enabled', unit]).stdout.trim(), 'masked', unit);
    const start = inside(['systemctl', 'start', unit]);
    t.not(start.status, 0, unit);
    t.regex(start.stderr, /masked/, unit);
    const accepted = property(unit, 'ActiveState') !== 'inactive';
    hostileAttempts.push({ what: `start ${unit}`, accepted });
    t.false(accepted, unit);
  }
  t.deepEqual([...MASKED_UNITS].sort(), ['autovt@.service', 'console-getty.service', 'ctrl-alt-del.target', 'getty@.service', 'serial-getty@.service']);
});

test.serial('Ctrl-Alt-Del pressed again and again (SIGINT to PID 1) neither reboots nor stops the kiosk', async (t) => {
  t.is(mustInside(['systemctl', 'show', '-p', 'CtrlAltDelBurstAction', '--value']).trim(), 'none');
  const before = property('atm-kiosk.service', 'MainPID');
  // systemd's burst rule: 7 within 2 s would force a reboot (in a container: PID 1 exits).
  for (let press = 0; press < 10; press++) {
    process.kill(booted!.systemdPid, 'SIGINT');
    await sleep(50);
  }
  await sleep(1_000);
  const alive = booted!.unshare.exitCode === null && readFileSync(`/proc/${booted!.systemdPid}/comm`, 'utf8').trim() === 'systemd';
  const jobs = alive ? mustInside(['systemctl', 'list-jobs', '--no-legend']).trim() : 'systemd is gone';
  const accepted = !alive || jobs !== '' || property('atm-kiosk.service', 'MainPID') !== before;
  hostileAttempts.push({ what: 'Ctrl-Alt-Del x10', accepted });
  t.true(alive, 'PID 1 is still running');
  t.is(jobs, '', 'no reboot, poweroff or stop job was queued');
  t.is(property('atm-kiosk.service', 'MainPID'), before);
});

test.serial("systemd-sysctl, run by systemd, leaves kernel.sysrq at 0 although the image's sysctl.conf turns it on", (t) => {
  mustInside(['systemctl', 'start', 'systemd-sysctl.service']);
  t.is(property('systemd-sysctl.service', 'Result'), 'success');
  const sysrq = mustInside(['cat', '/proc/sys/kernel/sysrq']).trim();
  hostileAttempts.push({ what: 'SysRq', accepted: sysrq !== '0' });
  t.is(sysrq, '0');
  t.regex(mustInside(['cat', '/etc/sysctl.d/99-sysctl.conf']), /kernel\.sysrq = 1/, 'the competing setting was there to lose');
});

test.serial('on the image, cage runs without VT switching and USBGuard is enabled with the kiosk configuration', (t) => {
  const unit = mustInside(['cat', '/usr/lib/systemd/system/atm-kiosk.service']);
  const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
  const vtSwitch = cageAllowsVtSwitch(execStart);
  hostileAttempts.push({ what: 'VT switch (Ctrl+Alt+F2)', accepted: vtSwitch });
  t.false(vtSwitch, execStart);
  t.true(cageAllowsVtSwitch('/usr/bin/cage -s -- /usr/lib/atm-kiosk/atm-kiosk --kiosk'), 'the check sees -s when it is there');
  t.is(inside(['systemctl', 'is-enabled', 'usbguard.service']).stdout.trim(), 'enabled');
  t.regex(property('usbguard.service', 'ExecStart'), /path=\/usr\/sbin\/usbguard-daemon ; argv\[\]=\/usr\/sbin\/usbguard-daemon -f -s -c \/etc\/usbguard\/atm-kiosk-daemon\.conf/);
  t.is(mustInside(['stat', '-c', '%U %a', '/etc/usbguard/rules.conf', '/etc/usbguard/atm-kiosk-daemon.conf']).trim(), 'root 600\nroot 600');
});

test.serial('the reliability row: hostile input at the kiosk, accepted on the image', async (t) => {
  const accepted = hostileAttempts.filter((attempt) => attempt.accepted);
  await recordScenarioResult({
    scenario: 'a USB keyboard or VT switch at the kiosk (checked on the image)',
    part: 'booted image',
    iterations: hostileAttempts.length,
    faultsInjected: hostileAttempts.length,
    acknowledged: accepted.length,
    lost: null,
    duplicated: null,
    invariantViolations: 0,
  });
  t.true(hostileAttempts.length >= 11, hostileAttempts.map((a) => a.what).join(', '));
  t.deepEqual(accepted, []);
});

