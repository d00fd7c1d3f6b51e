// The library build's Web Worker: vite.lib.config.ts emits the fast CPU worker next to dist/lib/index.js and
// finds it relative to that file; a page bundled with Vite from that build (as a user's would be) starts
// the workers, served cross-origin isolated, and gets the same bits as on the page's thread alone.
// (test/e2e/package.e2e.test.ts covers the packed tarball itself.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'vite';
import { chromium, type Browser } from 'playwright-core';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumPath } from '../../src/cli/chromium-flags.ts';
import { ISOLATION_HEADERS, serveStatic } from './static-server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A user's page: the MLP's loss and gradient on a pool of 2 Web Workers and on the page's thread. */
const pageScript = (lib: string) => `import { WebWorkerPool, InlinePool, FastCpuModelEngine, mlpModel, initParameters } from ${JSON.stringify(lib)};
const n = 2000, x = new Float32Array(2 * n), y = new Float32Array(n);
for (let i = 0; i < n; i++) { x[2 * i] = Math.sin(i); x[2 * i + 1] = Math.cos(3 * i); y[i] = i % 2; }
const config = mlpModel(2, [16], 'tanh', 'bce');
const theta = initParameters(config, 1);
try {
  const pool = await WebWorkerPool.create({ threads: 2 });
  const a = await new FastCpuModelEngine(config, { x, y, n, d: 2 }, { pool }).lossAndGradient(theta);
  const b = await new FastCpuModelEngine(config, { x, y, n, d: 2 }, { pool: new InlinePool() }).lossAndGradient(theta);
  document.body.dataset.result = JSON.stringify({ threads: pool.threads, loss: [a.loss, b.loss], grad: [Array.from(a.grad), Array.from(b.grad)] });
} catch (e) {
  document.body.dataset.result = JSON.stringify({ error: e.message });
}
`;

let dir: string;
let browser: Browser | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nabla-lib-workers-'));
  await build({ root: ROOT, configFile: join(ROOT, 'vite.lib.config.ts'), logLevel: 'error', build: { outDir: join(dir, 'dist') } });
});

afterAll(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the library build\'s Web Worker', () => {
  it('sits next to the entry, as its own module', async () => {
    const files = await readdir(join(dir, 'dist', 'lib'));
    expect(files).toContain('index.js');
    expect(files.filter((f) => /^web-worker-.*\.js$/.test(f))).toHaveLength(1);
  });

  it('a page bundled with Vite from it runs the pool: 2 threads, the same bits as the page\'s thread alone', async () => {
    const page = join(dir, 'page');
    await mkdir(page);
    await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules')); // the build's external dependencies
    await writeFile(join(page, 'index.html'), '<!doctype html><link rel="icon" href="data:,"><script type="module" src="./main.js"></script>');
    await writeFile(join(page, 'main.js'), pageScript(join(dir, 'dist', 'lib', 'index.js')));
    await build({ root: page, configFile: false, logLevel: 'error', build: { outDir: join(page, 'site'), target: 'es2022' } });
    const server = await serveStatic(join(page, 'site'), ISOLATION_HEADERS);
    try {
      browser = await chromium.launch({ executablePath: chromiumPath(), headless: true });
      const tab = await browser.newPage();
      const problems: string[] = [];
      tab.on('pageerror', (e) => problems.push(e.message));
      tab.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
      await tab.goto(server.url);
      await tab.waitForFunction(() => document.body?.dataset.result, undefined, { timeout: 60_000 });
      const r = JSON.parse((await tab.getAttribute('body', 'data-result'))!);
      expect(r.error).toBeUndefined();
      expect(r.threads).toBe(2);
      expect(tab.workers()).toHaveLength(1);
      expect(r.loss[0]).toBe(r.loss[1]);
      expect(r.grad[0]).toEqual(r.grad[1]);
      expect(problems).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
