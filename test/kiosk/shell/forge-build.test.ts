// What `electron-forge package` builds, minus the Electron binary this machine cannot download: the
// Forge config loads and type-checks, and the main, preload and renderer bundles build through Forge's
// own Vite configuration generator from the plugin settings in forge.config.ts.
import test from 'ava';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build, type InlineConfig } from 'vite';
import forgeConfig from '../../../forge.config.js';

const require = createRequire(import.meta.url);
// Forge's plugin ships this class but does not export it from its entry point.
const { default: ViteConfigGenerator } = require('@electron-forge/plugin-vite/dist/ViteConfig.js') as {
  default: new (pluginConfig: unknown, projectDir: string, isProd: boolean) => { getBuildConfigs(): Promise<InlineConfig[]>; getRendererConfig(): Promise<InlineConfig[]> };
};

const root = path.resolve('.');

test.serial('the Forge config asks for the fuses and makers the kiosk needs', (t) => {
  const plugins = (forgeConfig.plugins ?? []) as { name?: string; config?: Record<string, unknown> }[];
  const fuses = plugins.find((p) => p.name === 'fuses')?.config as Record<string, unknown> | undefined;
  t.truthy(fuses, 'the fuses plugin is configured');
  // FuseV1Options: 0 RunAsNode, 1 EnableCookieEncryption, 2 EnableNodeOptionsEnvironmentVariable,
  // 3 EnableNodeCliInspectArguments, 4 EnableEmbeddedAsarIntegrityValidation, 5 OnlyLoadAppFromAsar.
  t.deepEqual([fuses![0], fuses![1], fuses![2], fuses![3], fuses![4], fuses![5]], [false, true, false, false, true, true]);
  const makers = (forgeConfig.makers ?? []) as { name?: string }[];
  t.deepEqual(makers.map((m) => m.name).sort(), ['deb', 'zip']);
  t.is((forgeConfig.packagerConfig as { executableName?: string }).executableName, 'atm-kiosk', 'the systemd unit runs /usr/lib/atm-kiosk/atm-kiosk');
});

test.serial('main, preload and renderer bundles build with Forge\'s Vite settings', async (t) => {
  const vite = (forgeConfig.plugins ?? []).find((p) => (p as { name?: string }).name === 'vite') as { config: unknown } | undefined;
  t.truthy(vite, 'the Vite plugin is configured');
  await rm(path.join(root, '.vite'), { recursive: true, force: true });
  const generator = new ViteConfigGenerator(vite!.config, root, true);
  const configs = [...(await generator.getBuildConfigs()), ...(await generator.getRendererConfig())];
  for (const config of configs) await build({ ...config, logLevel: 'error' });

  const main = await readFile(path.join(root, '.vite/build/main.js'), 'utf8');
  t.regex(main, /require\("electron"\)/, 'main is CommonJS and takes electron from the runtime');
  t.regex(main, /require\("serialport"\)/, "native modules stay external");
  t.regex(main, /import\("node-hid"\)/, "node-hid is loaded at run time, not bundled");
  const preload = await readFile(path.join(root, '.vite/build/preload.js'), 'utf8');
  t.regex(preload, /exposeInMainWorld\("atm"/, 'the preload exposes window.atm');
  t.false(/require\("\.\//.test(preload), 'the sandboxed preload is one file');
  t.true(existsSync(path.join(root, '.vite/renderer/main_window/index.html')), 'the renderer was built');
});
