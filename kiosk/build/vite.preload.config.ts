// Preload bundle: one CommonJS file, as sandboxed preloads must be (Forge's Vite plugin sets the format).
import { defineConfig } from 'vite';

export default defineConfig({
  build: { sourcemap: false },
});
