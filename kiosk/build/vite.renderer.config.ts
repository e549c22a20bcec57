// Builds the renderer (kiosk/renderer/). It lives here, beside the main and preload configs, because it
// runs in Node at build time: nothing under kiosk/renderer/ may import Node. Relative asset paths, so the
// same build loads from Electron's `atm://app/` and from the browser bridge on any loopback port. No
// module-preload polyfill: it would be an inline script, which the CSP forbids. Under Electron Forge its
// Vite plugin chooses the output folder; standalone (`npx vite build -c kiosk/build/vite.renderer.config.ts`)
// the build goes to dist/renderer/.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('../renderer/', import.meta.url));

export default defineConfig((env) => ({
  root,
  base: './',
  logLevel: 'warn',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    // Forge resolves its `.vite/renderer/<name>` against `root`, which is this folder; anchor it at the project.
    ...('forgeConfigSelf' in env
      ? {
          outDir: path.join(String((env as { root?: unknown }).root ?? process.cwd()), '.vite/renderer', String((env as { forgeConfigSelf: { name?: unknown } }).forgeConfigSelf.name ?? 'main_window')),
          // Outside Vite's root, so Vite would not empty it: stale assets of an earlier build must not be packaged.
          emptyOutDir: true,
        }
      : { outDir: fileURLToPath(new URL('../../dist/renderer', import.meta.url)), emptyOutDir: true }),
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
}));
