/// <reference types="vitest/config" />
// One config for the demo (vite dev/build) and the tests: a Node project for the CPU path, data and
// pure helpers, and a browser project that runs real WGSL in headless Chromium (SwiftShader here).
import { defineConfig } from 'vite';
import { playwright } from '@vitest/browser-playwright';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumPath, CHROMIUM_WEBGPU_ARGS } from './src/cli/chromium-flags.ts';

/**
 * Cross-origin isolation, so that the page has SharedArrayBuffer and the fast CPU path can run on Web
 * Workers (src/cpu-fast/web-pool.ts). Everything the demo loads is same-origin, so require-corp blocks nothing.
 */
const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  base: './',
  build: { outDir: 'dist/site', target: 'es2022' },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  // The fast CPU Web Worker is a module worker (src/cpu-fast/web-pool.ts).
  worker: { format: 'es' },
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: ['test/node/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/setup/build-cli.ts'],
          // The CLI keeps kernel tuning in ~/.cache: tests (and the CLIs they start) use a file of their own.
          env: { NABLA_TUNING_CACHE: join(tmpdir(), `nabla-test-tuning-${process.pid}.json`) },
          testTimeout: 60_000,
        },
      },
      {
        // Vitest's browser server sends server.headers with every response: the tests run isolated, as the demo.
        server: { headers: ISOLATION_HEADERS },
        // The page's libraries, bundled before the first test: found mid-run (a test importing the page's views),
        // Vite re-optimized them and reloaded, and the test file loading then failed to import.
        optimizeDeps: { include: ['uplot', 'papaparse', 'katex'] },
        test: {
          name: 'gpu',
          include: ['test/gpu/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({
              launchOptions: { executablePath: chromiumPath(), args: CHROMIUM_WEBGPU_ARGS },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
      {
        test: {
          // The demo page end to end: builds the site, serves it statically, drives headless Chromium
          // (playwright-core). Runs after the other projects so that two browsers never compete.
          name: 'e2e',
          include: ['test/e2e/**/*.e2e.test.ts'],
          environment: 'node',
          globalSetup: ['test/setup/build-site.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
