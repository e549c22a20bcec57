// Main-process bundle (merged by Forge's Vite plugin with its own CommonJS library settings).
import { defineConfig } from 'vite';

/** Native modules load their prebuilt binaries at run time: they are shipped as node_modules, not bundled. */
export const NATIVE_MODULES = ['serialport', 'node-hid', 'level', 'classic-level'];

export default defineConfig({
  build: {
    rollupOptions: { external: NATIVE_MODULES.flatMap((name) => [name, new RegExp(`^${name}/`)]) },
    sourcemap: true,
  },
});
