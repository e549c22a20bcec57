// Builds the operator console's browser code (bank-host/console/ui/) into dist/console/, which the host
// serves (`npm run build`; the tests build into a folder of their own). It lives here, beside the UI,
// because it runs in Node at build time: nothing under ui/ may import Node. Absolute asset paths (the
// console is served at the root of its own listener); no module-preload polyfill, which would be an inline
// script the console's CSP forbids.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('../ui/', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  publicDir: 'public',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: fileURLToPath(new URL('../../../dist/console', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
    rollupOptions: { input: { index: `${root}index.html`, login: `${root}login.html` } },
  },
});
