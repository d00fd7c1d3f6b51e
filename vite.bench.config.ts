// Builds the benchmark bundles as single ES modules with the WGSL inlined (`?raw`):
//   default mode: dist/bench/nabla-bench.js, the suite plus TF.js, loaded into headless Chromium by bench/run.ts;
//   --mode core:  dist/bench/nabla-bench-core.js, the suite without TF.js, imported by bench/deno.ts.
// Two builds rather than two entries of one: each output stays one file, with no shared chunks to serve or copy.
import { defineConfig } from 'vite';

export default defineConfig(({ mode }) => {
  const core = mode === 'core';
  return {
    // TF.js reads process.env.NODE_ENV; a browser or Deno has no `process`.
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    logLevel: 'warn',
    build: {
      outDir: 'dist/bench',
      emptyOutDir: false, // the two modes share the folder
      minify: false,
      target: 'es2022',
      reportCompressedSize: false,
      // jax-js loads its WebGPU and WebGL backends with import(): keep them in the one file as well.
      rollupOptions: { output: { inlineDynamicImports: true } },
      lib: {
        entry: core ? 'bench/core-entry.ts' : 'bench/page-entry.ts',
        formats: ['es'],
        fileName: () => (core ? 'nabla-bench-core.js' : 'nabla-bench.js'),
      },
    },
  };
});
