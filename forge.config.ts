// Electron Forge: builds the kiosk app (main, preload and renderer with Vite), flips Electron's fuses,
// and makes a .deb (arm64/armhf for the Raspberry Pi: `npm run make -- --arch arm64`) and a zip.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ForgeConfig } from '@electron-forge/shared-types';
import { MakerDeb } from '@electron-forge/maker-deb';
import { MakerZIP } from '@electron-forge/maker-zip';
import { FusesPlugin } from '@electron-forge/plugin-fuses';
import { VitePlugin } from '@electron-forge/plugin-vite';
import { FuseV1Options, FuseVersion } from '@electron/fuses';
import { copyNativeModules } from './kiosk/build/packaging/native-modules.js';
import { NATIVE_MODULES } from './kiosk/build/vite.main.config.js';

/** The project folder (this file's), whatever the working directory of the build. */
const projectDir = path.dirname(fileURLToPath(import.meta.url));

const config: ForgeConfig = {
  packagerConfig: {
    name: 'atm-kiosk',
    executableName: 'atm-kiosk',
    asar: { unpack: '**/*.node' },
    // The units, udev rules and their installer scripts ride along as resources (see kiosk/build/packaging/postinst.sh).
    extraResource: ['systemd'],
  },
  // Nothing is compiled: serialport, node-hid and classic-level ship Node-API prebuilds for linux-arm64 and
  // linux-arm, which Electron loads unchanged (kiosk/build/packaging/native-modules.ts copies the target's).
  // @electron/rebuild does not recognise their prebuild layouts and would compile them from source for the
  // target, which needs a cross toolchain, libudev headers and Electron's headers from the internet.
  rebuildConfig: { onlyModules: [] },
  makers: [
    new MakerDeb(
      {
        options: {
          name: 'atm-kiosk',
          productName: 'ATM kiosk',
          description: 'ATM kiosk: the customer interface, fullscreen under the cage Wayland compositor',
          productDescription:
            'The ATM kiosk app (Electron) with its systemd unit, sysusers and tmpfiles entries and udev rules. Enroll the kiosk with `provision enroll` to give it an identity and enable the unit.',
          bin: 'atm-kiosk',
          maintainer: 'ATM Team <dev@atm.invalid>',
          homepage: 'https://atm.invalid',
          section: 'misc',
          priority: 'optional',
          categories: ['Utility'],
          // usbguard enforces the USB allowlist `provision enroll` writes (docs/technician-guide.md).
          depends: ['cage', 'udev', 'usbguard', 'libusb-1.0-0', 'libudev1'],
          scripts: { postinst: 'kiosk/build/packaging/postinst.sh', prerm: 'kiosk/build/packaging/prerm.sh' },
        },
      },
      ['linux'],
    ),
    new MakerZIP({}, ['linux']),
  ],
  hooks: {
    // Forge's Vite plugin packages only the bundles; the native modules (and what they require) are
    // copied in beside them, with the target's prebuilds only, so `require('serialport')` resolves inside
    // the app.
    packageAfterCopy: async (_config, buildPath, _electronVersion, platform, arch) => {
      await copyNativeModules({ projectDir, buildPath, platform, arch, modules: NATIVE_MODULES });
    },
  },
  plugins: [
    new VitePlugin({
      build: [
        { entry: 'kiosk/main/main.ts', config: 'kiosk/build/vite.main.config.ts', target: 'main' },
        { entry: 'kiosk/main/preload.ts', config: 'kiosk/build/vite.preload.config.ts', target: 'preload' },
      ],
      renderer: [{ name: 'main_window', config: 'kiosk/build/vite.renderer.config.ts' }],
    }),
    // Flipped in the Electron binary itself. Electron enforces ASAR integrity on macOS and Windows only; on
    // Linux the fuse is set but has no effect (see docs/packaging.md), and the app's files are protected by
    // being root-owned under /usr/lib/atm-kiosk, read-only to the kiosk (ProtectSystem=strict).
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
