// Builds the published package: `vite build --config vite.lib.config.ts` gives the browser/Deno entry
// (dist/lib/index.js, WGSL inlined) and, with `--mode node`, the Node entry and the compiled CLI
// (dist/lib/node.js, dist/cli/nabla.js). Dependencies stay external: the consumer's bundler or Node resolves them.
import { defineConfig } from 'vite';
import { builtinModules } from 'node:module';
import pkg from './package.json' with { type: 'json' };

const external = [
  ...Object.keys(pkg.dependencies ?? {}),
  ...builtinModules, ...builtinModules.map((m) => `node:${m}`),
].map((name) => new RegExp(`^${name.replace(/[/.]/g, '\\$&')}(/.*)?$`));

export default defineConfig(({ mode }) => {
  const node = mode === 'node';
  return {
    // The fast CPU path's Web Worker (src/cpu-fast/web-pool.ts) is emitted next to the entry, dist/lib/, and
    // found relative to it (new URL('./web-worker-[hash].js', import.meta.url)), wherever the package sits.
    base: './',
    worker: { format: 'es' as const },
    build: {
      outDir: 'dist',
      assetsDir: 'lib',
      emptyOutDir: false,
      minify: false,
      target: node ? 'node20' : 'es2022',
      ssr: node,
      sourcemap: true,
      rollupOptions: {
        external,
        input: node ? { 'lib/node': 'src/node.ts', 'cli/nabla': 'src/cli/main.ts' } : { 'lib/index': 'src/index.ts' },
        output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: node ? 'lib/node-[name]-[hash].js' : 'lib/[name]-[hash].js' },
        preserveEntrySignatures: 'strict',
      },
    },
  };
});
