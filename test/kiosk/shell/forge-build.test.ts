// What `npm run make -- --arch arm64` produces, as far as this machine can go, and it goes all the way.
//
// The one thing missing here is Electron's binary: it is downloaded from GitHub, which this network cannot
// reach. So a stand-in Electron zip (the release's layout; its `electron` is a shell script that carries
// Electron's fuse sentinel and fuse wire, so the fuses plugin has real bytes to flip) is served from a
// loopback mirror through ELECTRON_MIRROR, and everything else is the real thing: Forge, its Vite plugin
// building main, preload and renderer, @electron/packager, asar, the fuses plugin, the native-module hook,
// electron-installer-debian with dpkg-deb and fakeroot, and the zip maker. The outputs are then checked the
// way a Pi would use them: the .deb's control fields and files, the packaged prebuilds (architecture read
// from their ELF headers, and the path each module's own loader would pick on the Pi), the fuses in the
// packaged binary, and the package's postinst run for real in a private mount namespace.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { build, type InlineConfig } from 'vite';
import forgeConfig from '../../../forge.config.js';
import { copyNativeModules, dependencyClosure, prebuildFolderMatches } from '../../../kiosk/build/packaging/native-modules.js';
import { NATIVE_MODULES } from '../../../kiosk/build/vite.main.config.js';

const require = createRequire(import.meta.url);
// Forge's plugin ships this class but does not export it from its entry point.
const { default: ViteConfigGenerator } = require('@electron-forge/plugin-vite/dist/ViteConfig.js') as {
  default: new (pluginConfig: unknown, projectDir: string, isProd: boolean) => { getBuildConfigs(): Promise<InlineConfig[]>; getRendererConfig(): Promise<InlineConfig[]> };
};
const asar = require('@electron/asar') as { listPackage(archive: string, options: { isPack: boolean }): string[]; extractAll(archive: string, dest: string): void };
const fuses = require('@electron/fuses') as { getCurrentFuseWire(binary: string): Promise<Record<number, number>>; FuseV1Options: Record<string, number> };
/** A fuse's state is one byte of the wire: the character '1' (on) or '0' (off). */
const FUSE_ON = '1'.charCodeAt(0);
const FUSE_OFF = '0'.charCodeAt(0);

const root = path.resolve('.');
const electronVersion = (JSON.parse(await readFile(path.join(root, 'node_modules/electron/package.json'), 'utf8')) as { version: string }).version;
const appVersion = (JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
const isRoot = process.getuid?.() === 0;

/** Electron's architecture names, Debian's, the ELF machine and class each one's binaries must have, and
 *  what node-gyp-build is told to resolve (ARM_VERSION: the armhf Electron reports arm_version 7). */
const TARGETS = [
  { electronArch: 'arm64', debArch: 'arm64', elfMachine: 183 /* EM_AARCH64 */, elfClass: 2, loaderEnv: { npm_config_arch: 'arm64' } },
  { electronArch: 'armv7l', debArch: 'armhf', elfMachine: 40 /* EM_ARM */, elfClass: 1, loaderEnv: { npm_config_arch: 'arm', ARM_VERSION: '7' } },
] as const;

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) {
  const result = spawnSync(command, args, { cwd: options.cwd ?? root, env: options.env ?? process.env, encoding: 'utf8', timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 });
  if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(`${command} is not installed (see test/debian-packages.txt: apt-get install -y ${command === 'dpkg-deb' ? 'dpkg' : command})`);
  }
  return result;
}

function mustRun(command: string, args: string[], options: Parameters<typeof run>[2] = {}): string {
  const result = run(command, args, options);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

let scratch: string;
test.before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'atm-forge-'));
});
test.after.always(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

test.serial('the Forge config asks for the fuses, makers and rebuild policy the kiosk needs', (t) => {
  const plugins = (forgeConfig.plugins ?? []) as { name?: string; config?: Record<string, unknown> }[];
  const fuseConfig = plugins.find((p) => p.name === 'fuses')?.config as Record<string, unknown> | undefined;
  t.truthy(fuseConfig, 'the fuses plugin is configured');
  const { FuseV1Options } = fuses;
  t.deepEqual(
    {
      RunAsNode: fuseConfig![FuseV1Options.RunAsNode!],
      EnableNodeOptionsEnvironmentVariable: fuseConfig![FuseV1Options.EnableNodeOptionsEnvironmentVariable!],
      EnableNodeCliInspectArguments: fuseConfig![FuseV1Options.EnableNodeCliInspectArguments!],
      EnableCookieEncryption: fuseConfig![FuseV1Options.EnableCookieEncryption!],
      EnableEmbeddedAsarIntegrityValidation: fuseConfig![FuseV1Options.EnableEmbeddedAsarIntegrityValidation!],
      OnlyLoadAppFromAsar: fuseConfig![FuseV1Options.OnlyLoadAppFromAsar!],
    },
    { RunAsNode: false, EnableNodeOptionsEnvironmentVariable: false, EnableNodeCliInspectArguments: false, EnableCookieEncryption: true, EnableEmbeddedAsarIntegrityValidation: true, OnlyLoadAppFromAsar: true },
  );
  const makers = (forgeConfig.makers ?? []) as { name?: string }[];
  t.deepEqual(makers.map((m) => m.name).sort(), ['deb', 'zip']);
  t.is((forgeConfig.packagerConfig as { executableName?: string }).executableName, 'atm-kiosk', 'the systemd unit runs /usr/lib/atm-kiosk/atm-kiosk');
  t.deepEqual(forgeConfig.rebuildConfig, { onlyModules: [] }, 'nothing is compiled: the native modules load their Node-API prebuilds');
});

test.serial("main, preload and renderer bundles build with Forge's Vite settings", async (t) => {
  const vite = (forgeConfig.plugins ?? []).find((p) => (p as { name?: string }).name === 'vite') as { config: unknown } | undefined;
  t.truthy(vite, 'the Vite plugin is configured');
  await rm(path.join(root, '.vite'), { recursive: true, force: true });
  const generator = new ViteConfigGenerator(vite!.config, root, true);
  const configs = [...(await generator.getBuildConfigs()), ...(await generator.getRendererConfig())];
  for (const config of configs) await build({ ...config, logLevel: 'error' });

  const main = await readFile(path.join(root, '.vite/build/main.js'), 'utf8');
  t.regex(main, /require\("electron"\)/, 'main is CommonJS and takes electron from the runtime');
  t.regex(main, /require\("serialport"\)/, 'native modules stay external');
  t.regex(main, /import\("node-hid"\)/, 'node-hid is loaded at run time, not bundled');
  const preload = await readFile(path.join(root, '.vite/build/preload.js'), 'utf8');
  t.regex(preload, /exposeInMainWorld\("atm"/, 'the preload exposes window.atm');
  t.false(/require\("\.\//.test(preload), 'the sandboxed preload is one file');
  t.true(existsSync(path.join(root, '.vite/renderer/main_window/index.html')), 'the renderer was built');
});

test.serial('prebuild folders are chosen by platform, architecture and libc', (t) => {
  for (const folder of ['linux-arm64', 'HID-linux-arm64', 'HID_hidraw-linux-arm64']) t.true(prebuildFolderMatches(folder, 'linux', 'arm64'), folder);
  for (const folder of ['linux-arm', 'HID_hidraw-linux-arm', 'android-arm64', 'darwin-x64+arm64', 'HID-linux-x64-musl', 'win32-arm64']) t.false(prebuildFolderMatches(folder, 'linux', 'arm64'), folder);
  t.true(prebuildFolderMatches('darwin-x64+arm64', 'darwin', 'arm64'));
  t.false(prebuildFolderMatches('linux-x64-musl', 'linux', 'x64'), 'musl builds do not load on a glibc system');
  t.true(prebuildFolderMatches('linux-x64', 'linux', 'x64'));
});

test.serial('the installed serialport, node-hid and classic-level ship Node-API prebuilds for linux-arm64 and linux-arm', async (t) => {
  const expected: Record<string, { arm64: string; arm: string }> = {
    '@serialport/bindings-cpp': { arm64: 'prebuilds/linux-arm64/@serialport+bindings-cpp.armv8.glibc.node', arm: 'prebuilds/linux-arm/@serialport+bindings-cpp.armv7.glibc.node' },
    'node-hid': { arm64: 'prebuilds/HID_hidraw-linux-arm64/node-napi-v4.node', arm: 'prebuilds/HID_hidraw-linux-arm/node-napi-v4.node' },
    'classic-level': { arm64: 'prebuilds/linux-arm64/classic-level.armv8.node', arm: 'prebuilds/linux-arm/classic-level.armv7.node' },
  };
  for (const [name, files] of Object.entries(expected)) {
    t.true(existsSync(path.join(root, 'node_modules', name, files.arm64)), `${name}: ${files.arm64}`);
    t.true(existsSync(path.join(root, 'node_modules', name, files.arm)), `${name}: ${files.arm}`);
  }
});

test.serial('the native-module hook copies only the target prebuilds, drops local builds, and refuses a target without one', async (t) => {
  // A project whose node_modules is a symlink (as in the make below) with a local x64 build in one module.
  const project = path.join(scratch, 'hook-project');
  const fakeModules = path.join(scratch, 'hook-store/node_modules');
  await mkdir(path.join(fakeModules, 'native-thing/prebuilds/linux-arm64'), { recursive: true });
  await mkdir(path.join(fakeModules, 'native-thing/prebuilds/linux-x64'), { recursive: true });
  await mkdir(path.join(fakeModules, 'native-thing/build/Release'), { recursive: true });
  await mkdir(path.join(fakeModules, 'plain-dep'), { recursive: true });
  await writeFile(path.join(fakeModules, 'native-thing/package.json'), JSON.stringify({ name: 'native-thing', version: '1.0.0', dependencies: { 'plain-dep': '1' } }));
  await writeFile(path.join(fakeModules, 'native-thing/binding.gyp'), '{}');
  await writeFile(path.join(fakeModules, 'native-thing/prebuilds/linux-arm64/native-thing.armv8.node'), 'arm64');
  await writeFile(path.join(fakeModules, 'native-thing/prebuilds/linux-x64/native-thing.node'), 'x64');
  await writeFile(path.join(fakeModules, 'native-thing/build/Release/native-thing.node'), 'local x64 build');
  await writeFile(path.join(fakeModules, 'plain-dep/package.json'), JSON.stringify({ name: 'plain-dep', version: '1.0.0' }));
  await mkdir(project, { recursive: true });
  await symlink(fakeModules, path.join(project, 'node_modules'));

  const buildPath = path.join(scratch, 'hook-app');
  const packaged = await copyNativeModules({ projectDir: project, buildPath, platform: 'linux', arch: 'arm64', modules: ['native-thing'] });
  t.deepEqual(packaged, [
    { installPath: 'native-thing', nativePrebuilds: ['prebuilds/linux-arm64/native-thing.armv8.node'] },
    { installPath: 'plain-dep', nativePrebuilds: [] },
  ]);
  t.true(existsSync(path.join(buildPath, 'node_modules/plain-dep/package.json')), 'dependencies come along, inside the app');
  t.false(existsSync(path.join(buildPath, 'node_modules/native-thing/build')), 'a local build would be loaded before the prebuild');
  t.false(existsSync(path.join(buildPath, 'node_modules/native-thing/prebuilds/linux-x64')));

  const error = await t.throwsAsync(copyNativeModules({ projectDir: project, buildPath: path.join(scratch, 'hook-app-arm'), platform: 'linux', arch: 'armv7l', modules: ['native-thing'] }));
  t.regex(error!.message, /native-thing has no Node-API prebuild for linux-arm/);
  const missing = await t.throwsAsync(copyNativeModules({ projectDir: project, buildPath: path.join(scratch, 'hook-app-x'), platform: 'linux', arch: 'arm64', modules: ['no-such-module'] }));
  t.regex(missing!.message, /cannot find no-such-module/);
});

// ---- electron-forge make, end to end ----

/** The release zip's layout with a stand-in `electron`: a script that says what it is, followed by
 *  Electron's fuse sentinel, the fuse wire version (1), its length and Electron 38's default states. */
async function standInElectronZip(arch: string, into: string): Promise<string> {
  const stage = path.join(scratch, `electron-${arch}`);
  await mkdir(path.join(stage, 'resources'), { recursive: true });
  const defaultWire = '10110001'; // RunAsNode, cookie encryption, NODE_OPTIONS, inspect, ASAR integrity, only ASAR, V8 snapshot, file protocol
  const binary = Buffer.concat([
    Buffer.from('#!/bin/sh\necho "stand-in for the Electron binary, which the test machine cannot download" >&2\nexit 1\n# '),
    Buffer.from('dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX'),
    Buffer.from([1, defaultWire.length]),
    Buffer.from(defaultWire),
    Buffer.from('\n'),
  ]);
  await writeFile(path.join(stage, 'electron'), binary, { mode: 0o755 });
  await writeFile(path.join(stage, 'chrome-sandbox'), '', { mode: 0o755 });
  await writeFile(path.join(stage, 'LICENSE'), 'stand-in\n');
  await writeFile(path.join(stage, 'LICENSES.chromium.html'), '<!doctype html>\n');
  await writeFile(path.join(stage, 'version'), electronVersion);
  await writeFile(path.join(stage, 'resources/default_app.asar'), '');
  const zip = path.join(into, `electron-v${electronVersion}-linux-${arch}.zip`);
  mustRun('zip', ['-qry', zip, '.'], { cwd: stage });
  return zip;
}

/** Serves the stand-in zips and their SHASUMS256.txt on 127.0.0.1, the way @electron/get expects a mirror. */
async function startMirror(files: Map<string, Buffer>): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((request, response) => {
    requests.push(request.url ?? '');
    const body = files.get(request.url ?? '');
    if (!body) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

interface MakeResult {
  readonly project: string;
  readonly output: string;
  readonly mirrorRequests: readonly string[];
}

let made: Promise<MakeResult> | undefined;

/** Runs `electron-forge make --platform linux --arch arm64,armv7l` once, in a copy of the project (its own
 *  .vite and out folders) whose node_modules is a link to this checkout's. */
function makeOnce(): Promise<MakeResult> {
  made ??= (async () => {
    const project = path.join(scratch, 'project');
    const generated = new Set(['node_modules', '.git', 'dist', 'out', '.vite', 'demo', 'test-artifacts', '.scratch', '.probe-tmp']);
    await mkdir(project);
    for (const entry of await readdir(root)) {
      // Regular files, folders and links only: another test may have a socket or FIFO in the checkout.
      const copyable = (source: string) => {
        const info = lstatSync(source);
        return info.isFile() || info.isDirectory() || info.isSymbolicLink();
      };
      if (!generated.has(entry)) await cp(path.join(root, entry), path.join(project, entry), { recursive: true, filter: copyable });
    }
    await symlink(path.join(root, 'node_modules'), path.join(project, 'node_modules'));

    const zipDir = path.join(scratch, 'mirror');
    await mkdir(zipDir);
    const files = new Map<string, Buffer>();
    const sums: string[] = [];
    for (const { electronArch } of TARGETS) {
      const zip = await standInElectronZip(electronArch, zipDir);
      const bytes = await readFile(zip);
      files.set(`/v${electronVersion}/${path.basename(zip)}`, bytes);
      sums.push(`${createHash('sha256').update(bytes).digest('hex')} *${path.basename(zip)}`);
    }
    files.set(`/v${electronVersion}/SHASUMS256.txt`, Buffer.from(sums.join('\n') + '\n'));
    const mirror = await startMirror(files);
    try {
      const forge = path.join(root, 'node_modules/@electron-forge/cli/dist/electron-forge.js');
      const env = { ...process.env, ELECTRON_MIRROR: mirror.url, XDG_CACHE_HOME: path.join(scratch, 'cache'), CI: '1', FORCE_COLOR: '0' };
      const child = spawn(process.execPath, [forge, 'make', '--platform=linux', `--arch=${TARGETS.map((target) => target.electronArch).join(',')}`], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
      if (status !== 0) throw new Error(`electron-forge make exited ${status}:\n${output}`);
      return { project, output, mirrorRequests: [...mirror.requests] };
    } finally {
      await mirror.close();
    }
  })();
  return made;
}

function debFile(project: string, target: (typeof TARGETS)[number]): string {
  return path.join(project, 'out/make/deb', target.electronArch, `atm-kiosk_${appVersion}_${target.debArch}.deb`);
}

/** The .deb's data unpacked (dpkg-deb -x) and its app.asar extracted beside it, once per architecture. */
const unpacked = new Map<string, Promise<{ dataRoot: string; app: string }>>();
function unpackDeb(project: string, target: (typeof TARGETS)[number]): Promise<{ dataRoot: string; app: string }> {
  let result = unpacked.get(target.debArch);
  if (!result) {
    result = (async () => {
      const dataRoot = path.join(scratch, `deb-${target.debArch}`);
      mustRun('dpkg-deb', ['-x', debFile(project, target), dataRoot]);
      const app = path.join(scratch, `app-${target.debArch}`);
      asar.extractAll(path.join(dataRoot, 'usr/lib/atm-kiosk/resources/app.asar'), app);
      return { dataRoot, app };
    })();
    unpacked.set(target.debArch, result);
  }
  return result;
}

test.serial('electron-forge make builds a .deb for arm64 and armhf and a zip, with only the Electron download stood in', async (t) => {
  t.timeout(180_000);
  const { project, output, mirrorRequests } = await makeOnce();
  t.log(output.replace(/\x1b\[[0-9;]*m/g, '').split('\n').filter((line) => /Artifacts available/.test(line)).join('\n').trim());
  for (const target of TARGETS) {
    t.true(mirrorRequests.includes(`/v${electronVersion}/electron-v${electronVersion}-linux-${target.electronArch}.zip`), `Electron for ${target.electronArch} came from the loopback mirror`);
    t.true(existsSync(debFile(project, target)), debFile(project, target));
    const zip = path.join(project, 'out/make/zip/linux', target.electronArch, `atm-kiosk-linux-${target.electronArch}-${appVersion}.zip`);
    t.true(existsSync(zip), zip);
    const listing = mustRun('unzip', ['-l', zip]);
    t.regex(listing, new RegExp(`atm-kiosk-linux-${target.electronArch}/atm-kiosk\\n`), 'the zip holds the app');
    t.regex(listing, /resources\/app\.asar\n/);
  }
});

test.serial('each .deb is for its architecture and depends on cage, udev, usbguard and the USB libraries', async (t) => {
  t.timeout(180_000);
  const { project } = await makeOnce();
  for (const target of TARGETS) {
    const fields = mustRun('dpkg-deb', ['-f', debFile(project, target), 'Package', 'Architecture', 'Depends']);
    t.regex(fields, /^Package: atm-kiosk$/m);
    t.regex(fields, new RegExp(`^Architecture: ${target.debArch}$`, 'm'));
    const depends = /^Depends: (.*)$/m.exec(fields)?.[1]?.split(/,\s*/) ?? [];
    for (const dependency of ['cage', 'udev', 'usbguard', 'libusb-1.0-0', 'libudev1']) t.true(depends.includes(dependency), `${target.debArch} depends on ${dependency}: ${depends.join(', ')}`);
  }
});

test.serial('each .deb installs the app at the path the unit runs, with the units and udev rules as resources', async (t) => {
  t.timeout(180_000);
  const { project } = await makeOnce();
  for (const target of TARGETS) {
    const { dataRoot, app } = await unpackDeb(project, target);
    const binary = await stat(path.join(dataRoot, 'usr/lib/atm-kiosk/atm-kiosk'));
    t.true(binary.isFile() && (binary.mode & 0o111) !== 0, 'ExecStart= of atm-kiosk.service: /usr/lib/atm-kiosk/atm-kiosk');
    for (const file of ['atm-kiosk.service', 'atm-kiosk-seal-key.service', 'atm-kiosk.sysusers.conf', 'atm-kiosk.tmpfiles.conf', '70-atm-kiosk.rules']) {
      t.is(await readFile(path.join(dataRoot, 'usr/lib/atm-kiosk/resources/systemd', file), 'utf8'), await readFile(path.join(root, 'systemd', file), 'utf8'), file);
    }
    const manifest = JSON.parse(await readFile(path.join(app, 'package.json'), 'utf8')) as { main: string };
    t.is(manifest.main, '.vite/build/main.js');
    for (const file of ['.vite/build/main.js', '.vite/build/preload.js', '.vite/renderer/main_window/index.html']) t.true(existsSync(path.join(app, file)), file);
    t.false(existsSync(path.join(app, 'kiosk')), 'sources stay out of the package: only the bundles');
  }
});

test.serial('the packaged native modules carry only the target prebuilds, unpacked from the asar, and their loaders pick them', async (t) => {
  t.timeout(180_000);
  const { project } = await makeOnce();
  for (const target of TARGETS) {
    const { dataRoot, app } = await unpackDeb(project, target);
    const listing = asar.listPackage(path.join(dataRoot, 'usr/lib/atm-kiosk/resources/app.asar'), { isPack: false });
    const nodeFiles = listing.filter((file) => file.endsWith('.node')).map((file) => file.replace(/^[/\\]/, ''));
    t.true(nodeFiles.length >= 3, nodeFiles.join('\n'));
    for (const file of nodeFiles) {
      // asar keeps .node files outside the archive (dlopen needs a real file): packagerConfig.asar.unpack.
      const unpackedFile = path.join(dataRoot, 'usr/lib/atm-kiosk/resources/app.asar.unpacked', file);
      const header = await readFile(unpackedFile).then((bytes) => bytes.subarray(0, 20));
      t.is(header.subarray(0, 4).toString('latin1'), '\x7fELF', file);
      t.is(header[4], target.elfClass, `${file}: ELF class`);
      t.is(header.readUInt16LE(18), target.elfMachine, `${file} is built for ${target.debArch}`);
    }

    // Everything the native modules require at run time is inside the app (the closure walk throws on a
    // dependency it cannot find from the package that needs it).
    const closure = await dependencyClosure(NATIVE_MODULES, app);
    t.true(closure.some((found) => found.installPath === path.join('@serialport', 'binding-mock')), 'serialport requires @serialport/binding-mock, whose exports hide its package.json');

    // Each module's own loader, told it runs on the target, must find its binary in the packaged app.
    const loaderScript = `
      const path = require('node:path');
      const app = process.argv[1];
      const gyp = require(path.join(app, 'node_modules/node-gyp-build'));
      const pkgPrebuilds = require(path.join(app, 'node_modules/pkg-prebuilds/bindings.js'));
      console.log(JSON.stringify({
        serialport: gyp.resolve(path.join(app, 'node_modules/@serialport/bindings-cpp')),
        classicLevel: gyp.resolve(path.join(app, 'node_modules/classic-level')),
        nodeHid: pkgPrebuilds.resolve(path.join(app, 'node_modules/node-hid'), { name: 'HID_hidraw', napi_versions: [4] }, true, true),
      }));`;
    const resolved = JSON.parse(mustRun(process.execPath, ['-e', loaderScript, app], { env: { PATH: process.env.PATH, ...target.loaderEnv } })) as Record<string, string>;
    for (const [module, file] of Object.entries(resolved)) {
      t.true(nodeFiles.includes(path.relative(app, file)), `${module} on ${target.debArch} loads ${path.relative(app, file)}, which is packaged`);
    }
    t.regex(resolved.serialport!, target.debArch === 'arm64' ? /linux-arm64\/@serialport\+bindings-cpp\.armv8\.glibc\.node$/ : /linux-arm\/@serialport\+bindings-cpp\.armv7\.glibc\.node$/);
    t.regex(resolved.nodeHid!, target.debArch === 'arm64' ? /HID_hidraw-linux-arm64\/node-napi-v4\.node$/ : /HID_hidraw-linux-arm\/node-napi-v4\.node$/);
  }
});

test.serial('the fuses are flipped in the packaged Electron binary', async (t) => {
  t.timeout(180_000);
  const { project } = await makeOnce();
  const { FuseV1Options } = fuses;
  for (const target of TARGETS) {
    const { dataRoot } = await unpackDeb(project, target);
    const wire = await fuses.getCurrentFuseWire(path.join(dataRoot, 'usr/lib/atm-kiosk/atm-kiosk'));
    const state = (option: string) => (wire[FuseV1Options[option]!] === FUSE_ON ? 'on' : wire[FuseV1Options[option]!] === FUSE_OFF ? 'off' : String(wire[FuseV1Options[option]!]));
    t.deepEqual(
      Object.fromEntries(['RunAsNode', 'EnableNodeOptionsEnvironmentVariable', 'EnableNodeCliInspectArguments', 'EnableCookieEncryption', 'EnableEmbeddedAsarIntegrityValidation', 'OnlyLoadAppFromAsar'].map((option) => [option, state(option)])),
      { RunAsNode: 'off', EnableNodeOptionsEnvironmentVariable: 'off', EnableNodeCliInspectArguments: 'off', EnableCookieEncryption: 'on', EnableEmbeddedAsarIntegrityValidation: 'on', OnlyLoadAppFromAsar: 'on' },
      target.debArch,
    );
  }
});

test.serial("the package's postinst installs the unit, sysusers, tmpfiles and udev files and creates the kiosk user", async (t) => {
  t.timeout(180_000);
  const { project } = await makeOnce();
  const target = TARGETS[0];
  const { dataRoot } = await unpackDeb(project, target);
  const control = path.join(scratch, 'control');
  mustRun('dpkg-deb', ['-e', debFile(project, target), control]);
  // In a private mount namespace: /usr and /etc are overlays whose changes land in scratch folders, /run is
  // empty but for the marker that says systemd runs (so the script takes its systemd branch), and the one
  // sysfs file tmpfiles writes is a scratch file. Nothing on this machine changes.
  const layer = path.join(scratch, 'postinst');
  for (const dir of ['usr-upper', 'usr-work', 'etc-upper', 'etc-work', 'sysparams']) await mkdir(path.join(layer, dir), { recursive: true });
  await chmod(layer, 0o755);
  const script = [
    'set -e',
    `mount -t overlay overlay -o lowerdir=/usr,upperdir=${layer}/usr-upper,workdir=${layer}/usr-work /usr`,
    `mount -t overlay overlay -o lowerdir=/etc,upperdir=${layer}/etc-upper,workdir=${layer}/etc-work /etc`,
    'mount -t tmpfs tmpfs /run',
    'mkdir -p /run/systemd/system /usr/lib/atm-kiosk',
    `mount --bind ${dataRoot}/usr/lib/atm-kiosk /usr/lib/atm-kiosk`,
    `: > ${layer}/sysparams/consoleblank`,
    `mount --bind ${layer}/sysparams/consoleblank /sys/module/kernel/parameters/consoleblank`,
    `exec sh ${control}/postinst configure`,
  ].join('\n');
  const unshare = isRoot ? ['--mount', '--propagation', 'private'] : ['--map-root-user', '--mount', '--propagation', 'private'];
  const result = run('unshare', [...unshare, '--', 'sh', '-c', script], { env: { PATH: process.env.PATH } });
  t.is(result.status, 0, `${result.stdout}\n${result.stderr}`);
  const installed: Record<string, string> = {
    'lib/systemd/system/atm-kiosk.service': 'atm-kiosk.service',
    'lib/systemd/system/atm-kiosk-seal-key.service': 'atm-kiosk-seal-key.service',
    'lib/sysusers.d/atm-kiosk.conf': 'atm-kiosk.sysusers.conf',
    'lib/tmpfiles.d/atm-kiosk.conf': 'atm-kiosk.tmpfiles.conf',
    'lib/udev/rules.d/70-atm-kiosk.rules': '70-atm-kiosk.rules',
  };
  for (const [underUsr, source] of Object.entries(installed)) {
    const file = path.join(layer, 'usr-upper', underUsr);
    t.is(await readFile(file, 'utf8'), await readFile(path.join(root, 'systemd', source), 'utf8'), `/usr/${underUsr}`);
    t.is((await stat(file)).mode & 0o777, 0o644, `/usr/${underUsr}`);
  }
  t.regex(await readFile(path.join(layer, 'etc-upper/passwd'), 'utf8'), /^atm-kiosk:x:\d+:\d+:ATM kiosk:\/var\/lib\/atm-kiosk:\/usr\/sbin\/nologin$/m, 'systemd-sysusers created the kiosk user');
  t.is((await stat(path.join(layer, 'etc-upper/atm-kiosk'))).mode & 0o777, 0o750, 'systemd-tmpfiles made /etc/atm-kiosk');
  t.is((await stat(path.join(layer, 'etc-upper/credstore.encrypted'))).mode & 0o777, 0o700, 'and the root-only folder the sealed key goes in');
  t.is((await readFile(path.join(layer, 'sysparams/consoleblank'), 'utf8')).trim(), '0', 'console blanking off');
});
