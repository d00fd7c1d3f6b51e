// The page on a Parquet file far larger than a chunk, from a loopback URL on another origin (issue #20's
// "Done when"): the built demo in headless Chromium opens the URL in its "Data larger than memory" panel,
// trains E epochs, and this script samples, every 250 ms while it runs, the panel's progress (pass, rows,
// bytes, rows/s), the page's JS heap (CDP Performance.getMetrics) and the resident memory of the largest
// Chromium renderer process (/proc: the heap leaves out ArrayBuffers' backing stores, where chunks live).
// Run: npm run bench:page-remote -- [--mb 300] [--d 4] [--epochs 2] [--chunk-mb 16] [--codec ZSTD] [--gpu] [--out FILE]
import { mkdtemp, readFile, readdir, rm, mkdir } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { chromium } from 'playwright-core';
import { CHROMIUM_WEBGPU_ARGS, chromiumPath } from '../src/cli/chromium-flags.ts';
import { serveData } from '../test/e2e/cors-data-server.ts';
import { ISOLATION_HEADERS, serveStatic } from '../test/e2e/static-server.ts';
import { rowsForBytes, writeParquetFile, type ParquetCodec } from './data-files.ts';
import { commandLine, gitState } from './provenance.ts';
import { BenchUsageError, intFlag, readFlags } from './args.ts';
import { isMain, runCli, writeResultFile } from './node-cli.ts';

const MiB = 2 ** 20;

export interface PageRemoteOptions { mb: number; d: number; epochs: number; chunkMb: number; codec: ParquetCodec; gpu: boolean; out: string | null }

const CODECS: readonly ParquetCodec[] = ['UNCOMPRESSED', 'GZIP', 'ZSTD'];

export const PAGE_REMOTE_USAGE = 'usage: npm run bench:page-remote -- [--mb 300] [--d 4] [--epochs 2] [--chunk-mb 16] [--codec ZSTD] [--gpu] [--out FILE]';

/** Flags, checked before the site is built and the file written (minutes): the page would refuse a bad value only then. */
export function parsePageRemoteArgs(argv: readonly string[]): PageRemoteOptions {
  const { values, switches } = readFlags(argv, ['--mb', '--d', '--epochs', '--chunk-mb', '--codec', '--out'], ['--gpu'], PAGE_REMOTE_USAGE);
  const codec = values.get('--codec') ?? 'ZSTD';
  if (!CODECS.includes(codec as ParquetCodec)) throw new BenchUsageError(`--codec: expected one of ${CODECS.join(', ')}, got '${codec}'`);
  const o: PageRemoteOptions = {
    mb: intFlag(values.get('--mb') ?? '300', '--mb'),
    d: intFlag(values.get('--d') ?? '4', '--d'),
    // The panel's own limits (src/demo/data-source/stream-panel.ts, readPlan).
    epochs: intFlag(values.get('--epochs') ?? '2', '--epochs', 1, 1000),
    chunkMb: intFlag(values.get('--chunk-mb') ?? '16', '--chunk-mb', 1, 256),
    codec: codec as ParquetCodec,
    gpu: switches.has('--gpu'),
    out: values.get('--out') ?? null,
  };
  if (rowsForBytes(o.mb * MiB, o.d) < 1) throw new BenchUsageError(`--mb: ${o.mb} MiB holds no row of ${o.d} features (--d)`);
  return o;
}

const root = fileURLToPath(new URL('..', import.meta.url));

/** Resident bytes of the largest Chromium renderer started by this process (the tab). */
async function rendererRss(ancestorPid: number): Promise<number> {
  let max = 0;
  for (const pid of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes('--type=renderer')) continue;
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const ppid = Number(/PPid:\s+(\d+)/.exec(status)?.[1]);
      const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
      // Renderers are children of the zygote, itself a child of the browser: accept any descendant.
      if (ppid > 0 && (await isDescendant(ppid, ancestorPid))) max = Math.max(max, rss);
    } catch { /* the process ended */ }
  }
  return max;
}

async function isDescendant(pid: number, ancestor: number): Promise<boolean> {
  for (let p = pid, hops = 0; p > 1 && hops < 12; hops++) {
    if (p === ancestor) return true;
    const status = await readFile(`/proc/${p}/status`, 'utf8').catch(() => '');
    p = Number(/PPid:\s+(\d+)/.exec(status)?.[1] ?? 0);
  }
  return false;
}

async function main(o: PageRemoteOptions): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nabla-page-remote-'));
  try {
    const siteDir = join(dir, 'site');
    await build({ root, configFile: join(root, 'vite.config.ts'), logLevel: 'error', build: { outDir: siteDir, emptyOutDir: true } });
    const file = join(dir, 'big.parquet');
    const n = rowsForBytes(o.mb * MiB, o.d);
    await writeParquetFile(file, n, o.d, o.codec);
    const body = new Uint8Array(await readFile(file));
    await rm(file); // served from memory; the file on disk is not needed any more
    const site = await serveStatic(siteDir, ISOLATION_HEADERS);
    const data = await serveData({ '/big.parquet': body });
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_WEBGPU_ARGS, headless: true });
    const samples: { t: number; phase: string; epoch: number; rows: number; bytes: number; rate: number; heapUsed: number; heapTotal: number; rss: number }[] = [];
    let outcome = '';
    let losses: number[] = [];
    let seconds = 0;
    try {
      const page = await browser.newPage({ viewport: { width: 1500, height: 1250 } });
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Performance.enable');
      // n=10000: the page's own generated example stays small, as in the e2e tests, so it is ready at once.
      await page.goto(`${site.url}?n=10000${o.gpu ? '' : '&cpu=1'}`);
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
      await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state ?? ''), undefined, { timeout: 120_000 }).catch(async (e) => {
        throw new Error(`the page did not get ready (state ${await page.getAttribute('body', 'data-state')}, status ${await page.textContent('#status').catch(() => '?')}; ${problems.join('; ')}): ${(e as Error).message}`);
      });
      await page.fill('#stream-url', `${data.url}/big.parquet`);
      await page.click('#stream-open');
      await page.waitForFunction(() => ['schema', 'error'].includes(document.getElementById('stream-panel')!.dataset.state!), undefined, { timeout: 120_000 });
      await page.fill('#stream-chunk', String(o.chunkMb));
      await page.fill('#stream-epochs', String(o.epochs));
      await page.selectOption('#stream-batch', 'full');
      const t0 = performance.now();
      await page.click('#stream-train');
      const pid = process.pid; // Chromium runs under this process (playwright's launch)
      for (;;) {
        const state = await page.getAttribute('#stream-panel', 'data-state');
        // A string, not a function: tsx's transform wraps nested functions in __name(), which the page lacks.
        const p = await page.evaluate<{ phase: string; epoch: number; rows: number; bytes: number; rate: number }>(`(() => {
          const v = (id) => Number(document.getElementById(id)?.dataset.value ?? 0);
          return { phase: document.getElementById('stream-epoch')?.dataset.phase ?? '', epoch: v('stream-epoch'), rows: v('stream-rows'), bytes: v('stream-bytes'), rate: v('stream-rate') };
        })()`);
        const { metrics } = await cdp.send('Performance.getMetrics');
        const m = (name: string) => metrics.find((x) => x.name === name)?.value ?? 0;
        samples.push({ t: (performance.now() - t0) / 1000, ...p, heapUsed: m('JSHeapUsedSize'), heapTotal: m('JSHeapTotalSize'), rss: pid ? await rendererRss(pid) : 0 });
        if (['done', 'error', 'stopped'].includes(state ?? '')) {
          outcome = `${state}: ${await page.textContent('#stream-status')} ${await page.textContent('#stream-error') ?? ''}`.trim();
          break;
        }
        if (performance.now() - t0 > 3_600_000) throw new Error('no end after an hour');
        await new Promise((r) => setTimeout(r, 250));
      }
      seconds = (performance.now() - t0) / 1000;
      losses = await page.$$eval('#stream-losses li', (els) => els.map((e) => Number((e as HTMLElement).dataset.value)));
    } finally {
      await browser.close();
      await site.close();
      await data.close();
    }
    // Rows/s per epoch: the panel's own figure at the last sample of that epoch's pass.
    const perEpoch = Array.from({ length: o.epochs }, (_, k) => {
      const s = samples.filter((x) => x.phase === 'epoch' && x.epoch === k + 1);
      return s.length ? Math.round(s[s.length - 1].rate) : null;
    });
    const max = (key: 'heapUsed' | 'heapTotal' | 'rss') => Math.max(...samples.map((s) => s[key]));
    const result = {
      command: commandLine(process.argv.slice(2), 'bench:page-remote'),
      date: new Date().toISOString(),
      ...gitState(),
      machine: { cpu: cpus()[0]?.model, cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
      settings: { path: o.gpu ? 'WebGPU' : 'CPU (?cpu=1)', d: o.d, epochs: o.epochs, chunkMb: o.chunkMb, codec: o.codec, batch: 'full' },
      file: { MiB: Number((body.length / MiB).toFixed(1)), rows: n, servedMiB: Number((data.log.reduce((s, r) => s + r.bytes, 0) / MiB).toFixed(1)) },
      outcome, seconds: Number(seconds.toFixed(1)), losses, rowsPerSecondByEpoch: perEpoch,
      peak: { jsHeapUsedMiB: Number((max('heapUsed') / MiB).toFixed(1)), jsHeapTotalMiB: Number((max('heapTotal') / MiB).toFixed(1)), rendererRssMiB: Number((max('rss') / MiB).toFixed(1)) },
      samples: samples.filter((_, i) => i % 4 === 0).map((s) => ({ ...s, t: Number(s.t.toFixed(2)), rate: Math.round(s.rate), heapUsed: Math.round(s.heapUsed / MiB), heapTotal: Math.round(s.heapTotal / MiB), rss: Math.round(s.rss / MiB) })),
    };
    const out = o.out ?? join(root, 'bench/results', `${result.date.slice(0, 10)}-page-remote.json`);
    await mkdir(dirname(out), { recursive: true });
    // Temporary file then rename: an interrupted write never leaves half a JSON file behind.
    writeResultFile(out, result);
    console.log(JSON.stringify({ ...result, samples: undefined }, null, 2));
    console.log(`wrote ${out}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) await runCli('bench:page-remote', parsePageRemoteArgs, main);
