// The page's streamed data (src/demo/data-source/): a Parquet file of several MB on another loopback origin,
// read by range requests with CORS, opened for its schema only, then trained on pass by pass with progress
// shown, the loss falling; a URL that 404s and a server without CORS headers give clear errors.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_WEBGPU_ARGS, chromiumPath } from '../../src/cli/chromium-flags.ts';
import { seededUniform } from '../../src/data/shuffle.ts';
import { parquetBytes } from '../node/data-parquet-writer.ts';
import { serveData, type DataServer } from './cors-data-server.ts';
import { ISOLATION_HEADERS, serveStatic, type StaticServer } from './static-server.ts';
import { openPage, takeLongestTask } from './page.ts';

const ROWS = 200_000; // 4 DOUBLE columns: 6.4 MB of values
let site: StaticServer;
let data: DataServer;
let bare: DataServer;
let browser: Browser;
let fileSize = 0;

/** y = 2 x1 - x2 + 0.5 x3 + 1 + noise (sigma 0.1), x ~ U[0, 1). */
function dataset(): Uint8Array {
  const rand = seededUniform(7);
  const cols = { x1: [] as number[], x2: [] as number[], x3: [] as number[], y: [] as number[] };
  for (let i = 0; i < ROWS; i++) {
    const [a, b, c] = [rand(), rand(), rand()];
    cols.x1.push(a);
    cols.x2.push(b);
    cols.x3.push(c);
    cols.y.push(2 * a - b + 0.5 * c + 1 + 0.1 * (rand() - 0.5) * 3.46);
  }
  return parquetBytes(Object.entries(cols).map(([name, values]) => ({ name, type: 'DOUBLE' as const, values })), 25_000);
}

beforeAll(async () => {
  const file = dataset();
  fileSize = file.length;
  site = await serveStatic(inject('siteDir'), ISOLATION_HEADERS);
  data = await serveData({ '/big.parquet': file });
  bare = await serveData({ '/big.parquet': file }, false);
  browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_WEBGPU_ARGS, headless: true });
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await data?.close();
  await bare?.close();
});

async function openUrl(page: Page, url: string, until: string[]): Promise<string> {
  await page.fill('#stream-url', url);
  await page.click('#stream-open');
  const state = await page.waitForFunction((s) => {
    const v = document.getElementById('stream-panel')?.dataset.state ?? '';
    return s.includes(v) ? v : false;
  }, until, { timeout: 60_000 });
  return (await state.jsonValue()) as string;
}

const served = (s: DataServer) => s.log.reduce((sum, r) => sum + r.bytes, 0);

describe('streamed data in the page', () => {
  for (const [path, query] of [['WebGPU', ''], ['the CPU path', '?cpu=1']] as const) it(`${path}: trains on a Parquet file at a URL by range requests: schema first, progress per pass, the loss falls`, async () => {
    const { page, problems, close } = await openPage(browser, `${site.url}${query}`);
    data.log.length = 0;
    try {
      expect(fileSize).toBeGreaterThan(5e6);
      expect(await openUrl(page, `${data.url}/big.parquet`, ['schema', 'error'])).toBe('schema');
      // The schema came from the footer alone: no row group was read.
      expect(served(data)).toBeLessThan(0.15 * fileSize);
      expect(await page.inputValue('#stream-target')).toBe('y');
      expect(await page.$$eval('#stream-features input', (els) => els.map((e) => (e as HTMLInputElement).value))).toEqual(['x1', 'x2', 'x3']);
      expect(await page.textContent('#stream-about')).toMatch(/Parquet.*200\u202f000 rows/);

      await page.fill('#stream-chunk', '1'); // 1 MiB chunks: 65 536 rows, 4 chunks a pass
      await page.fill('#stream-epochs', '4');
      await page.selectOption('#stream-batch', '4096');
      await page.fill('#stream-lr', '0.02'); // small enough that the fall spans the epochs
      await takeLongestTask(page);
      await page.click('#stream-train');
      // Progress while an epoch's pass reads: its number, bytes and rows.
      await page.waitForFunction(() => {
        const out = (id: string) => document.getElementById(id)!;
        return out('stream-epoch').dataset.phase === 'epoch' && Number(out('stream-rows').dataset.value) > 0
          && Number(out('stream-bytes').dataset.value) > 0 && Number(out('stream-rate').dataset.value) > 0;
      }, undefined, { timeout: 120_000 });
      const during = await page.textContent('#stream-epoch');
      expect(during).toMatch(/^epoch [1-4] of 4$/);
      // What the run was started with cannot change under it.
      const disabled = () => page.$$eval('#stream-url, #stream-target, #stream-chunk, #stream-lr, #stream-features input', (els) => els.map((e) => (e as HTMLInputElement).disabled));
      expect(new Set(await disabled())).toEqual(new Set([true]));
      await page.waitForFunction(() => ['done', 'error', 'stopped'].includes(document.getElementById('stream-panel')!.dataset.state!), undefined, { timeout: 150_000 });
      const status = await page.textContent('#stream-status');
      expect(await page.getAttribute('#stream-panel', 'data-state'), `${status} ${await page.textContent('#stream-error')}`).toBe('done');
      expect(status).toMatch(/Done after 4 epochs over 200\u202f000 rows/);
      expect(new Set(await disabled())).toEqual(new Set([false]));

      const losses = await page.$$eval('#stream-losses li', (els) => els.map((e) => Number((e as HTMLElement).dataset.value)));
      expect(losses).toHaveLength(4);
      const final = Number(await page.getAttribute('#stream-loss', 'data-value'));
      for (let k = 1; k < 4; k++) expect(losses[k]).toBeLessThan(losses[k - 1]);
      expect(final).toBeLessThan(losses[0] / 2);
      // Standardized units: the noise leaves 0.01 / var(y) = 0.028 of the target's variance unexplained.
      expect(final).toBeLessThan(0.1);
      // Every GET was a range request; 6 passes (statistics, 4 epochs, the final loss) read the file about 6 times:
      // opening (the schema, then the run) reads the footer's last 512 KiB twice.
      const gets = data.log.filter((r) => r.method === 'GET');
      expect(gets.every((r) => r.status === 206)).toBe(true);
      const passes = served(data) / fileSize;
      expect(passes).toBeGreaterThan(5.9);
      expect(passes).toBeLessThan(6.4);
      const longest = await takeLongestTask(page);
      console.info(`${path}: streamed 4 epochs over ${fileSize} bytes of Parquet (${passes.toFixed(2)} x the file served); losses ${losses.map((l) => l.toPrecision(3)).join(', ')}, final ${final.toPrecision(3)}; longest task ${longest} ms`);
      expect(longest).toBeLessThan(2000);
      expect(problems.filter((p) => !/nabla:/.test(p))).toEqual([]);
    } finally {
      await close();
    }
  });

  it('a CSV file from the picker: the header and first rows give the schema, then it trains in chunks', async () => {
    const { page, close } = await openPage(browser, site.url);
    try {
      const rand = seededUniform(3);
      const lines = ['a,b,label,y'];
      for (let i = 0; i < 50_000; i++) {
        const [a, b] = [rand(), rand()];
        lines.push(`${a.toFixed(5)},${b.toFixed(5)},r${i % 3},${(3 * a - 2 * b + 0.05 * rand()).toFixed(5)}`);
      }
      await page.setInputFiles('#stream-file', { name: 'small.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n')) });
      await page.waitForFunction(() => ['schema', 'error'].includes(document.getElementById('stream-panel')!.dataset.state!));
      expect(await page.textContent('#stream-about')).toMatch(/small\.csv: CSV/);
      // The text column is not offered; y is the default target.
      expect(await page.$$eval('#stream-target option', (els) => els.map((e) => (e as HTMLOptionElement).value))).toEqual(['a', 'b', 'y']);
      expect(await page.inputValue('#stream-target')).toBe('y');
      await page.fill('#stream-chunk', '1'); // 87 381 rows of 3 floats: one chunk, the last one short
      await page.selectOption('#stream-batch', 'full');
      await page.fill('#stream-lr', '0.5');
      await page.fill('#stream-epochs', '20');
      await page.click('#stream-train');
      await page.waitForFunction(() => ['done', 'error', 'stopped'].includes(document.getElementById('stream-panel')!.dataset.state!), undefined, { timeout: 120_000 });
      expect(await page.getAttribute('#stream-panel', 'data-state'), (await page.textContent('#stream-error'))!).toBe('done');
      const losses = await page.$$eval('#stream-losses li', (els) => els.map((e) => Number((e as HTMLElement).dataset.value)));
      expect(losses.length).toBeGreaterThanOrEqual(19);
      expect(Number(await page.getAttribute('#stream-loss', 'data-value'))).toBeLessThan(losses[0] / 10);
    } finally {
      await close();
    }
  });

  it('a URL that 404s and a server without CORS headers each say what is wrong', async () => {
    const { page, close } = await openPage(browser, site.url);
    try {
      const missing = `${data.url}/missing.parquet`;
      expect(await openUrl(page, missing, ['schema', 'error'])).toBe('error');
      const e404 = (await page.textContent('#stream-error'))!;
      expect(e404).toContain(missing);
      expect(e404).toMatch(/404/);
      expect(await page.isHidden('#stream-schema')).toBe(true);

      expect(await openUrl(page, `${bare.url}/big.parquet`, ['schema', 'error'])).toBe('error');
      const cors = (await page.textContent('#stream-error'))!;
      expect(cors).toContain(`${bare.url}/big.parquet`);
      expect(cors).toMatch(/Access-Control-Allow-Origin/);
      expect(cors).toMatch(/Access-Control-Expose-Headers: Content-Range/);
    } finally {
      await close();
    }
  });
});
