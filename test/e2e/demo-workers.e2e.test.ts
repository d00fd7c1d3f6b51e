// The demo's CPU mode on Web Workers: the built site served cross-origin isolated (the headers vite.config.ts
// gives the dev and preview servers) trains on navigator.hardwareConcurrency threads and says so; served by a
// plain static server it trains on the page's thread and says why. Forced with ?cpu=1 (WebGPU exists here).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CHROMIUM_WEBGPU_ARGS, chromiumPath } from '../../src/cli/chromium-flags.ts';
import { ISOLATION_HEADERS, serveStatic, type StaticServer } from './static-server.ts';
import { generate, num, openPage, train, trainsToTheLine } from './page.ts';

const outDir = inject('siteDir'); // built once per run: test/setup/build-site.ts

let isolated: StaticServer;
let plain: StaticServer;
let browser: Browser;

beforeAll(async () => {
  isolated = await serveStatic(outDir, ISOLATION_HEADERS);
  plain = await serveStatic(outDir);
  browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_WEBGPU_ARGS, headless: true });
});

afterAll(async () => {
  await browser?.close();
  await isolated?.close();
  await plain?.close();
});

describe('demo CPU mode on Web Workers', () => {
  it('the build emits the worker as its own module', async () => {
    expect((await readdir(join(outDir, 'assets'))).filter((f) => /^web-worker-.*\.js$/.test(f))).toHaveLength(1);
  });

  it('isolated: hardwareConcurrency threads, named on the Device lines; the linear and the classifier mode train', async () => {
    const { page, problems, close } = await openPage(browser, `${isolated.url}?cpu=1`);
    try {
      const env = await page.evaluate(() => ({ isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency }));
      expect(env.isolated).toBe(true);
      // The linear mode's formula runs on the fast path's linear kernel, the classifier on the networks' kernels.
      const device = (await page.textContent('#device'))!;
      const threads = `on ${env.cores} thread${env.cores === 1 ? '' : 's'} (the page and ${env.cores - 1} Web Worker${env.cores === 2 ? '' : 's'})`;
      expect(device).toBe(`CPU: fast path (WebAssembly SIMD linear kernel) ${threads}`);
      expect(page.workers()).toHaveLength(env.cores - 1);
      await trainsToTheLine(page);
      // A new dataset releases the old one's task; the same workers serve the new one.
      await generate(page, 5_000, -1, 0.5, 0.1);
      expect(await train(page, 300)).toMatch(/done|converged/);
      expect(Math.abs((await num(page, '#param-w')) + 1)).toBeLessThan(0.05);
      expect(page.workers()).toHaveLength(env.cores - 1);

      await page.check('#mode-classifier');
      const clsState = (states: string[]) => page.waitForFunction(
        (s) => s.includes(document.getElementById('classifier-layout')?.dataset.state ?? ''), states, { timeout: 150_000 });
      await clsState(['ready']);
      expect(await page.textContent('#cls-device')).toBe(`CPU: fast path (WebAssembly SIMD kernels) ${threads}`);
      await page.selectOption('#cls-shape', 'spirals');
      await page.selectOption('#cls-model', 'mlp');
      await page.selectOption('#cls-activation', 'tanh');
      await page.waitForFunction(() => document.getElementById('cls-model-label')?.textContent?.startsWith('MLP 2 → 32 (tanh)'));
      await clsState(['ready']);
      await page.fill('#cls-epochs', '600');
      await page.click('#cls-train');
      await clsState(['running', 'done', 'diverged', 'error']);
      await clsState(['done', 'diverged', 'error']);
      expect(await page.getAttribute('#classifier-layout', 'data-state')).toBe('done');
      // As in demo.e2e.test.ts: the float64 twin is at 99 % after 500 epochs.
      expect(await num(page, '#cls-accuracy')).toBeGreaterThanOrEqual(0.95);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it('not isolated (a plain static server): the page\'s thread alone, and the Device line says why', async () => {
    const { page, problems, close } = await openPage(browser, `${plain.url}?cpu=1`);
    try {
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
      expect(await page.textContent('#device')).toMatch(/on the page's thread alone: the page is not cross-origin isolated.*Cross-Origin-Embedder-Policy: require-corp/);
      expect(page.workers()).toHaveLength(0);
      await trainsToTheLine(page);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });
});
