// Electron Forge: builds the kiosk app (main, preload and renderer with Vite), flips Electron's fuses,
// and makes a .deb (arm64/armhf for the Raspberry Pi: `npm run make -- --arch arm64`) and a zip.
import { cp, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ForgeConfig } from '@electron-forge/shared-types';
import { MakerDeb } from '@electron-forge/maker-deb';
import { MakerZIP } from '@electron-forge/maker-zip';
import { FusesPlugin } from '@electron-forge/plugin-fuses';
import { VitePlugin } from '@electron-forge/plugin-vite';
import { FuseV1Options, FuseVersion } from '@electron/fuses';
import { NATIVE_MODULES } from './kiosk/main/vite.main.config.js';

/** Every package `names` need at run time, following `dependencies` (and optional ones that are present). */
async function dependencyClosure(names: readonly string[], fromDir: string): Promise<string[]> {
  const found = new Map<string, string>();
  const queue = names.map((name) => ({ name, fromDir }));
  while (queue.length > 0) {
    const { name, fromDir: from } = queue.shift()!;
    let manifestPath: string;
    try {
      manifestPath = createRequire(path.join(from, 'noop.js')).resolve(`${name}/package.json`);
    } catch {
      continue; // an optional dependency for another platform
    }
    const dir = path.dirname(manifestPath);
    if (found.has(dir)) continue;
    found.set(dir, name);
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const dependency of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) queue.push({ name: dependency, fromDir: dir });
  }
  return [...found.keys()];
}

const config: ForgeConfig = {
  packagerConfig: {
    name: 'atm-kiosk',
    executableName: 'atm-kiosk',
    asar: { unpack: '**/*.node' },
    // The units, udev rules and their installer scripts ride along as resources (see packaging/postinst.sh).
    extraResource: ['systemd'],
  },
  rebuildConfig: {},
  makers: [
    new MakerDeb(
      {
        options: {
          name: 'atm-kiosk',
          productName: 'ATM kiosk',
          bin: 'atm-kiosk',
          maintainer: 'ATM Team <dev@atm.invalid>',
          homepage: 'https://atm.invalid',
          section: 'misc',
          priority: 'optional',
          categories: ['Utility'],
          depends: ['cage', 'udev', 'libusb-1.0-0', 'libudev1'],
          scripts: { postinst: 'kiosk/main/packaging/postinst.sh', prerm: 'kiosk/main/packaging/prerm.sh' },
        },
      },
      ['linux'],
    ),
    new MakerZIP({}, ['linux']),
  ],
  hooks: {
    // Forge's Vite plugin packages only the bundles; the native modules (and what they require) are
    // copied in beside them so `require('serialport')` resolves inside the app.
    packageAfterCopy: async (_config, buildPath) => {
      const root = path.resolve('.');
      for (const dir of await dependencyClosure(NATIVE_MODULES, root)) {
        await cp(dir, path.join(buildPath, path.relative(root, dir)), { recursive: true, dereference: true });
      }
    },
  },
  plugins: [
    new VitePlugin({
      build: [
        { entry: 'kiosk/main/main.ts', config: 'kiosk/main/vite.main.config.ts', target: 'main' },
        { entry: 'kiosk/main/preload.ts', config: 'kiosk/main/vite.preload.config.ts', target: 'preload' },
      ],
      renderer: [{ name: 'main_window', config: 'kiosk/renderer/vite.config.ts' }],
    }),
    new FusesPlugin({
      version: FuseVersion.V1,
      [FuseV1Options.RunAsNode]: false,
      [FuseV1Options.EnableCookieEncryption]: true,
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      [FuseV1Options.EnableNodeCliInspectArguments]: false,
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
    }),
  ],
};

export default config;
