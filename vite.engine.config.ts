// Builds the browser engine as one ES module with the WGSL inlined: the CLI loads it into headless
// Chromium, and Deno imports it for the headless benchmark on GPU servers.
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    outDir: 'dist/engine',
    emptyOutDir: true,
    minify: false,
    target: 'es2022',
    lib: {
      entry: 'src/session/engine-entry.ts',
      formats: ['es'],
      fileName: () => 'nabla-engine.js',
    },
  },
});
