// Build time only (Electron Forge's packageAfterCopy hook, in forge.config.ts): copies the native modules the
// main process loads, and every package they require, into the app being packaged.
//
// Why a copy at all: Forge's Vite plugin packages only the Vite bundles, and the bundles leave these modules
// external (kiosk/build/vite.main.config.ts) because their binaries cannot be bundled.
//
// Why only prebuilds: serialport (@serialport/bindings-cpp), node-hid and classic-level ship Node-API
// binaries for linux-arm64 and linux-arm, which Electron loads as they are (Node-API is ABI-stable across
// Node and Electron). Nothing is compiled for the Pi, so rebuilding is off in forge.config.ts. The copy keeps
// only the prebuilds for the target platform and architecture, drops any `build/` folder (a binary compiled
// on the build machine would be loaded first, and is for the wrong architecture), and fails the build when a
// native module has no prebuild for the target.
import { cp, readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

/** A package that was copied in, as a path under the app's node_modules, and its prebuilt binaries for the
 *  target (paths under the package folder); empty for a plain JavaScript package. */
export interface PackagedModule {
  readonly installPath: string;
  readonly nativePrebuilds: readonly string[];
}

/** Node's name for an Electron target architecture (Electron says armv7l where Node says arm). */
export function nodeArchOf(electronArch: string): string {
  return electronArch === 'armv7l' ? 'arm' : electronArch;
}

/** True when a `prebuilds/` sub-folder holds binaries for the target. The layouts in use:
 *  `linux-arm64` (prebuildify: serialport, classic-level), `darwin-x64+arm64` (a universal build),
 *  `HID-linux-arm64` and `HID_hidraw-linux-arm64` (pkg-prebuilds: node-hid), `HID-linux-x64-musl` (a musl
 *  libc build, which glibc systems such as Raspberry Pi OS cannot load). */
export function prebuildFolderMatches(folder: string, platform: string, nodeArch: string): boolean {
  const match = /^(?:.*-)?([a-z0-9]+)-([a-z0-9+]+?)(?:-(musl|glibc))?$/.exec(folder);
  if (!match) return false;
  const [, folderPlatform, arches, libc] = match;
  return folderPlatform === platform && arches!.split('+').includes(nodeArch) && libc !== 'musl';
}

interface FoundPackage {
  readonly dir: string;
  readonly installPath: string;
}

/** Every package `names` need at run time, following `dependencies` and the `optionalDependencies` that are
 *  installed. Install paths are taken relative to the project's real node_modules folder, so a symlinked
 *  node_modules (a CI cache, a copied checkout) still yields paths inside the app. */
export async function dependencyClosure(names: readonly string[], projectDir: string): Promise<FoundPackage[]> {
  const nodeModules = await realpath(path.join(projectDir, 'node_modules'));
  const found = new Map<string, FoundPackage>();
  const queue = names.map((name) => ({ name, fromDir: projectDir, optional: false }));
  while (queue.length > 0) {
    const { name, fromDir, optional } = queue.shift()!;
    const manifestPath = await findPackageManifest(name, fromDir);
    if (manifestPath === undefined) {
      if (optional) continue; // an optional dependency for another platform, not installed here
      throw new Error(`packaging: cannot find ${name} (needed from ${fromDir}) in any node_modules folder above it`);
    }
    const dir = await realpath(path.dirname(manifestPath));
    if (found.has(dir)) continue;
    const installPath = path.relative(nodeModules, dir);
    if (installPath.startsWith('..') || path.isAbsolute(installPath)) {
      throw new Error(`packaging: ${name} resolves to ${dir}, outside the project's node_modules (${nodeModules})`);
    }
    found.set(dir, { dir, installPath });
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const dependency of Object.keys(manifest.dependencies ?? {})) queue.push({ name: dependency, fromDir: dir, optional: false });
    for (const dependency of Object.keys(manifest.optionalDependencies ?? {})) queue.push({ name: dependency, fromDir: dir, optional: true });
  }
  return [...found.values()];
}

/** Where Node would find the package `name` from `fromDir`: the nearest node_modules/<name>/package.json
 *  walking up. (Not require.resolve('<name>/package.json'): a package whose `exports` leaves out its
 *  package.json, such as @serialport/binding-mock, would look missing.) */
async function findPackageManifest(name: string, fromDir: string): Promise<string | undefined> {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name, 'package.json');
    if ((await stat(candidate).catch(() => undefined))?.isFile()) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

async function isNativePackage(dir: string): Promise<boolean> {
  return (await stat(path.join(dir, 'binding.gyp')).catch(() => undefined)) !== undefined;
}

async function nodeFilesUnder(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await nodeFilesUnder(full)));
    else if (entry.name.endsWith('.node')) files.push(full);
  }
  return files;
}

export interface CopyNativeModulesOptions {
  /** The project: its node_modules is where the modules are found. */
  readonly projectDir: string;
  /** The app folder being packaged (Forge's buildPath): they are copied to its node_modules. */
  readonly buildPath: string;
  readonly platform: string;
  /** Electron's architecture name: arm64, armv7l, x64. */
  readonly arch: string;
  readonly modules: readonly string[];
}

export async function copyNativeModules(options: CopyNativeModulesOptions): Promise<PackagedModule[]> {
  const nodeArch = nodeArchOf(options.arch);
  const packaged: PackagedModule[] = [];
  for (const found of await dependencyClosure(options.modules, options.projectDir)) {
    const native = await isNativePackage(found.dir);
    const destination = path.join(options.buildPath, 'node_modules', found.installPath);
    await cp(found.dir, destination, {
      recursive: true,
      dereference: true,
      filter: (source) => {
        const relative = path.relative(found.dir, source);
        const parts = relative.split(path.sep);
        // Nested node_modules are packages of their own: the closure copies the ones that are needed.
        if (parts[0] === 'node_modules') return false;
        if (!native) return true;
        if (parts[0] === 'build') return false;
        if (parts[0] === 'prebuilds' && parts.length >= 2) return prebuildFolderMatches(parts[1]!, options.platform, nodeArch);
        return true;
      },
    });
    if (!native) {
      packaged.push({ installPath: found.installPath, nativePrebuilds: [] });
      continue;
    }
    const prebuildsDir = path.join(destination, 'prebuilds');
    const prebuilds = (await stat(prebuildsDir).catch(() => undefined)) ? await nodeFilesUnder(prebuildsDir) : [];
    if (prebuilds.length === 0) {
      throw new Error(
        `packaging: ${found.installPath} has no Node-API prebuild for ${options.platform}-${nodeArch}; the kiosk cannot load it on that architecture (use a version that ships one)`,
      );
    }
    packaged.push({ installPath: found.installPath, nativePrebuilds: prebuilds.map((file) => path.relative(destination, file)).sort() });
  }
  return packaged;
}
