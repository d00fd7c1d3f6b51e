// Node's route to WebGPU: headless Chromium driven by Playwright. A loopback HTTP server of this process
// serves the page, the engine bundle and the samples (one origin: loopback is a secure context, and
// Chromium's local-network checks allow same-origin requests). Playwright's request interception would
// carry the data across the DevTools protocol as base64, several times slower.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { constants as osConstants } from 'node:os';
import type { Browser, Page } from 'playwright-core';
import type { LinearData, EpochInfo } from '../models/linear.ts';
import type { GpuJob, GpuJobResult } from '../session/gpu-job.ts';
import type { FitProgress } from '../session/formula-jobs.ts';
import type { AdapterSummary } from '../gpu/device.ts';
import { StartDivergenceError } from '../models/model-engine.ts';
import { chromiumPath, CHROMIUM_WEBGPU_ARGS } from './chromium-flags.ts';
import { ensureEngineBundle } from './engine-bundle.ts';
import { readTuningFile, tuningFilePath, writeTuningFile } from './tuning-file.ts';


type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class GpuSession {
  private data: Buffer | null = null;
  /** Streamed runs: one pass over the source, chunk by chunk, packed as the page expects. */
  private streamPass: (() => AsyncIterable<Buffer>) | null = null;
  private streamIterator: AsyncIterator<Buffer> | null = null;
  private streamError: Error | null = null;
  /** The running job's progress: epochs, or a formula fit's iterations. */
  private onEpoch: ((info: EpochInfo & FitProgress) => void) | undefined;
  /** Device-loss recovery messages from the page. */
  onNotice: ((message: string) => void) | undefined;

  private dataOrigin = '';
  /** The kernel tuning table on disk (src/cli/tuning-file.ts) and the page's table as last written. */
  private tuningFile: string | null = null;
  private tuningWritten = '';
  private warn: (message: string) => void = (m) => process.stderr.write(`${m}\n`);

  private constructor(private readonly browser: Browser, private readonly page: Page, readonly adapter: AdapterSummary, private readonly server: Server) {}

  private static bundle: Buffer | null = null;

  /** Serves /data.bin and /stream/{start,next} to the page (loopback only, any origin may read). */
  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const headers = { 'content-type': 'application/octet-stream' };
    // The file input hands a raw file to the page by path (Playwright's setInputFiles): read with no copy here.
    if (path === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>nabla</title><input type="file" id="nabla-file">');
    if (path === '/nabla-engine.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(GpuSession.bundle);
    if (path === '/data.bin' && this.data) return void res.writeHead(200, headers).end(this.data);
    if (path === '/stream/start' && this.streamPass) {
      await this.streamIterator?.return?.();
      this.streamIterator = this.streamPass()[Symbol.asyncIterator]();
      return void res.writeHead(200, headers).end();
    }
    if (path === '/stream/next' && this.streamIterator) {
      try {
        const next = await this.streamIterator.next();
        if (next.done) return void res.writeHead(204, headers).end();
        return void res.writeHead(200, headers).end(next.value);
      } catch (e) {
        this.streamError = e as Error;
        return void res.writeHead(500, headers).end((e as Error).message);
      }
    }
    res.writeHead(404, headers).end('not found');
  }

  /**
   * Starts Chromium and asks it for an adapter; throws with the reason when there is none. The page starts
   * with the tuning table of `tuningFile` (default tuningFilePath(); null: none), and every job's new
   * entries are written back to it. `warn` (default: stderr) hears about a table ignored or not saved.
   */
  static async open(options: { tuningFile?: string | null; warn?: (message: string) => void } = {}): Promise<GpuSession> {
    const bundle = readFileSync(await ensureEngineBundle());
    const { chromium } = await import('playwright-core');
    let browser: Browser;
    try {
      // Playwright's own SIGINT/SIGTERM handlers exit the process: exitOnSignal does so only where no training run stops on it.
      browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_WEBGPU_ARGS, headless: true, handleSIGINT: false, handleSIGTERM: false });
    } catch (e) {
      throw new Error(`could not start Chromium at ${chromiumPath()} (set NABLA_CHROMIUM or install Debian's chromium): ${(e as Error).message.split('\n')[0]}`);
    }
    GpuSession.bundle = bundle;
    let session: GpuSession | null = null;
    let pending: GpuSession | null = null;
    const server = createServer((req, res) => {
      const owner = session ?? pending;
      if (!owner) return void res.writeHead(503).end();
      owner.serve(req, res).catch((e) => res.destroy(e as Error));
    });
    try {
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
      const page = await browser.newPage();
      await page.exposeFunction('nablaEpoch', (info: EpochInfo & FitProgress) => session?.onEpoch?.(info));
      await page.exposeFunction('nablaNotice', (message: string) => session?.onNotice?.(message));
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      // The page and bundle are served before the adapter is known: a provisional session serves them.
      pending = new GpuSession(browser, page, { vendor: '', architecture: '', description: '', isFallback: false, name: '' }, server);
      await page.goto(`${origin}/`);
      // Loaded once, from source text: an import() written in a function here would be rewritten by
      // whatever transforms this module (Vitest's SSR turns it into a helper the page does not have).
      await page.evaluate("import('/nabla-engine.js').then((engine) => { globalThis.nablaEngine = engine; })");
      const probe = await GpuSession.evaluate(page, { kind: 'probe' });
      session = new GpuSession(browser, page, probe.adapter, server);
      session.dataOrigin = origin;
      process.on('SIGINT', exitOnSignal);
      process.on('SIGTERM', exitOnSignal);
      if (options.warn) session.warn = options.warn;
      await session.loadTuning(options.tuningFile === undefined ? tuningFilePath() : options.tuningFile);
      return session;
    } catch (e) {
      server.close();
      await browser.close();
      throw e;
    }
  }

  /** Calls one of the engine bundle's tuning-table exports in the page (src/gpu/tuning/page-table.ts). */
  private tuningCall(name: 'loadTuningTable' | 'tuningTable', table?: unknown): Promise<unknown> {
    return this.page.evaluate(([fn, arg]) => {
      const engine = (globalThis as unknown as { nablaEngine: Record<string, (a: unknown) => unknown> }).nablaEngine;
      return engine[fn as string](arg);
    }, [name, table] as const);
  }

  private async loadTuning(file: string | null): Promise<void> {
    if (file === null) return;
    const { table, warning } = readTuningFile(file);
    if (warning) this.warn(`warning: ${warning}`);
    try {
      if (table) await this.tuningCall('loadTuningTable', table);
      this.tuningWritten = JSON.stringify(await this.tuningCall('tuningTable'));
      this.tuningFile = file;
    } catch (e) {
      // Only a cache: the session runs untuned-from-disk rather than not at all.
      this.warn(`warning: tuning cache ${file} not used: ${(e as Error).message.split('\n')[0]}`);
    }
  }

  /** Writes the page's table to disk when a job added to it; a failure to write is a warning, never an error. */
  private async saveTuning(): Promise<void> {
    if (this.tuningFile === null) return;
    let table: unknown;
    try {
      table = await this.tuningCall('tuningTable');
    } catch {
      return; // the page is gone (the job's own error says why)
    }
    const text = JSON.stringify(table);
    if (text === this.tuningWritten) return;
    try {
      writeTuningFile(this.tuningFile, table as Parameters<typeof writeTuningFile>[1]);
      this.tuningWritten = text;
    } catch (e) {
      this.warn(`warning: tuning cache ${this.tuningFile} not saved: ${(e as Error).message}`);
      this.tuningFile = null;
    }
  }

  private static evaluate(page: Page, job: GpuJob): Promise<GpuJobResult> {
    return page.evaluate(async (j) => {
      const g = globalThis as unknown as {
        nablaEngine: { runGpuJob: (job: unknown, e: unknown, n: unknown) => Promise<GpuJobResult> };
        nablaEpoch: (i: unknown) => void; nablaNotice: (m: string) => void;
      };
      return g.nablaEngine.runGpuJob(j, g.nablaEpoch, g.nablaNotice);
    }, job).catch((e: unknown) => {
      throw hostError(e);
    });
  }

  /**
   * The page's job, stopped when `signal` aborts: abortGpuJob in the page aborts the signal the job trains or
   * fits under, so it returns its state at the last whole epoch (or accepted step) as on the CPU.
   */
  private async evaluateJob(job: GpuJob, signal: AbortSignal | undefined): Promise<GpuJobResult> {
    const running = GpuSession.evaluate(this.page, job);
    const abort = () => {
      // Page functions run in the order they are called: this one finds the job above already started.
      this.page.evaluate(() => (globalThis as unknown as { nablaEngine: { abortGpuJob: () => void } }).nablaEngine.abortGpuJob()).catch(() => undefined);
    };
    if (signal?.aborted) abort();
    signal?.addEventListener('abort', abort, { once: true });
    try {
      return await running;
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  /** onEpoch: the job's epochs (FitProgress for formula-fit). */
  async run(
    job: DistributiveOmit<Exclude<GpuJob, { kind: 'probe' }>, 'dataUrl' | 'n' | 'd'>, data: LinearData, onEpoch?: ((info: EpochInfo) => void) | ((info: FitProgress) => void),
    signal?: AbortSignal,
  ): Promise<GpuJobResult> {
    const packed = Buffer.alloc((data.n * data.d + data.n) * 4);
    Buffer.from(data.x.buffer, data.x.byteOffset, data.x.byteLength).copy(packed, 0);
    Buffer.from(data.y.buffer, data.y.byteOffset, data.y.byteLength).copy(packed, data.x.byteLength);
    this.data = packed;
    this.onEpoch = onEpoch;
    try {
      return await this.evaluateJob({ ...job, dataUrl: `${this.dataOrigin}/data.bin`, n: data.n, d: data.d } as GpuJob, signal);
    } finally {
      this.data = null;
      this.onEpoch = undefined;
      await this.saveTuning();
    }
  }

  /**
   * Training where the page pulls every chunk from `pass()` (the linear model: every evaluation; any model:
   * every epoch), or, with `file`, reads the raw file's records itself (handed over by path, never read here).
   * `signal` stops the job as in run().
   */
  async runStreamed(
    job: DistributiveOmit<Extract<GpuJob, { kind: 'train-stream' | 'model-train-stream' | 'formula-train-stream' | 'formula-fit-stream' }>, 'streamUrl'>,
    pass: () => AsyncIterable<{ x: Float32Array; y: Float32Array; rows: number }>,
    onEpoch?: ((info: EpochInfo) => void) | ((info: FitProgress) => void),
    { signal, file }: { signal?: AbortSignal; file?: string } = {},
  ): Promise<GpuJobResult> {
    if (file !== undefined) await this.page.setInputFiles('#nabla-file', file);
    this.streamPass = async function* () {
      for await (const c of pass()) {
        // The chunk's own rows only: a reader may hand out views into longer buffers.
        const xBytes = c.rows * job.d * 4;
        const packed = Buffer.alloc(xBytes + c.rows * 4);
        Buffer.from(c.x.buffer, c.x.byteOffset, xBytes).copy(packed, 0);
        Buffer.from(c.y.buffer, c.y.byteOffset, c.rows * 4).copy(packed, xBytes);
        yield packed;
      }
    };
    this.onEpoch = onEpoch;
    this.streamError = null;
    try {
      return await this.evaluateJob({ ...job, streamUrl: `${this.dataOrigin}/stream` } as GpuJob, signal);
    } catch (e) {
      // A data error on the Node side (a bad cell mid-file) is the real cause; the page saw only HTTP 500.
      throw this.streamError ?? e;
    } finally {
      this.streamPass = null;
      this.streamIterator = null;
      this.onEpoch = undefined;
      if (file !== undefined) await this.page.setInputFiles('#nabla-file', []).catch(() => undefined);
      await this.saveTuning();
    }
  }

  async close(): Promise<void> {
    process.off('SIGINT', exitOnSignal);
    process.off('SIGTERM', exitOnSignal);
    await this.browser.close();
    // Keep-alive sockets from the page would otherwise hold the process open.
    this.server.closeAllConnections();
    this.server.close();
  }
}

/**
 * Chromium runs in a process group of its own, so a Ctrl-C reaches this process alone, and Node's default
 * (death by the signal) would skip Playwright's exit hook, which kills Chromium: this exits instead, with the
 * code a shell reports for that signal (128 + its number), unless another listener owns the signal (a
 * training run stopping at an epoch, interrupt.ts).
 */
function exitOnSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  process.exit(128 + osConstants.signals[signal]);
}

/**
 * A validator's RangeError (or a StartDivergenceError, one too) thrown in the page comes back from Playwright as
 * an Error whose message is "page.evaluate: RangeError: <message>" and then the page's stack: the same error on
 * the host (a StartDivergenceError with the page's message, its loss not carried), so that the CLI reports it as
 * bad input (exit 2) as it does the host's own. Any other error passes unchanged.
 */
export function hostError(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  const m = /^page\.evaluate: (RangeError|StartDivergenceError): ([\s\S]*?)(?:\n\s+at |$)/.exec(e.message);
  if (!m) return e;
  const message = m[2].trimEnd();
  // A start that is not finite stays one, so that the CLI can name its row in the file's units.
  const error = m[1] === 'StartDivergenceError' ? new StartDivergenceError(/at the resumed parameters/.test(message) ? 1 : 0, NaN, NaN) : new RangeError(message);
  error.message = message;
  error.stack = e.stack;
  return error;
}
