// Builds the renderer. Relative asset paths, so the same build loads from Electron's `atm://app/` and
// from the browser bridge on any loopback port. No module-preload polyfill: it would be an inline script,
// which the CSP forbids. Under Electron Forge its Vite plugin chooses the output folder; standalone
// (`npx vite build -c kiosk/renderer/vite.config.ts`) the build goes to dist/renderer/.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig((env) => ({
  root,
  base: './',
  logLevel: 'warn',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    ...('forgeConfigSelf' in env ? {} : { outDir: fileURLToPath(new URL('../../dist/renderer', import.meta.url)), emptyOutDir: true }),
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
}));
