// Node's route to WebGPU: headless Chromium driven by Playwright, with the engine bundle and the data
// served from intercepted localhost URLs (a secure context, no server, no network).
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import type { LinearData, EpochInfo } from '../models/linear.ts';
import type { GpuJob, GpuJobResult } from '../gpu/gpu-job.ts';
import type { AdapterSummary } from '../gpu/device.ts';
import { chromiumPath, CHROMIUM_WEBGPU_ARGS } from './chromium-flags.ts';
import { ensureEngineBundle } from './engine-bundle.ts';

const ORIGIN = 'http://localhost';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class GpuSession {
  private data: Buffer | null = null;
  /** Streamed runs: one pass over the source, chunk by chunk, packed as the page expects. */
  private streamPass: (() => AsyncIterable<Buffer>) | null = null;
  private streamIterator: AsyncIterator<Buffer> | null = null;
  private streamError: Error | null = null;
  private onEpoch: ((info: EpochInfo) => void) | undefined;
  /** Device-loss recovery messages from the page. */
  onNotice: ((message: string) => void) | undefined;

  private constructor(private readonly browser: Browser, private readonly page: Page, readonly adapter: AdapterSummary) {}

  /** Starts Chromium and asks it for an adapter; throws with the reason when there is none. */
  static async open(): Promise<GpuSession> {
    const bundle = readFileSync(await ensureEngineBundle());
    const { chromium } = await import('playwright-core');
    let browser: Browser;
    try {
      browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_WEBGPU_ARGS, headless: true });
    } catch (e) {
      throw new Error(`could not start Chromium at ${chromiumPath()} (set NABLA_CHROMIUM or install Debian's chromium): ${(e as Error).message.split('\n')[0]}`);
    }
    try {
      const page = await browser.newPage();
      let session: GpuSession | null = null;
      await page.route(`${ORIGIN}/**`, async (route) => {
        const path = new URL(route.request().url()).pathname;
        if (path === '/') return route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>nabla</title>' });
        if (path === '/nabla-engine.js') return route.fulfill({ contentType: 'text/javascript', body: bundle });
        if (path === '/data.bin' && session?.data) return route.fulfill({ contentType: 'application/octet-stream', body: session.data });
        if (path === '/stream/start' && session?.streamPass) {
          session.streamIterator = session.streamPass()[Symbol.asyncIterator]();
          return route.fulfill({ status: 200, body: 'ok' });
        }
        if (path === '/stream/next' && session?.streamIterator) {
          try {
            const next = await session.streamIterator.next();
            if (next.done) return route.fulfill({ status: 204 });
            return route.fulfill({ contentType: 'application/octet-stream', body: next.value });
          } catch (e) {
            session.streamError = e as Error;
            return route.fulfill({ status: 500, body: (e as Error).message });
          }
        }
        return route.fulfill({ status: 404, body: 'not found' });
      });
      await page.exposeFunction('nablaEpoch', (info: EpochInfo) => session?.onEpoch?.(info));
      await page.exposeFunction('nablaNotice', (message: string) => session?.onNotice?.(message));
      await page.goto(`${ORIGIN}/`);
      const probe = await GpuSession.evaluate(page, { kind: 'probe' });
      session = new GpuSession(browser, page, probe.adapter);
      return session;
    } catch (e) {
      await browser.close();
      throw e;
    }
  }

  private static evaluate(page: Page, job: GpuJob): Promise<GpuJobResult> {
    return page.evaluate(async (j) => {
      // A module specifier in a variable: bundlers and test runners leave a non-literal import() alone.
      const url = '/nabla-engine.js';
      const engine = await import(/* @vite-ignore */ url);
      const g = globalThis as unknown as { nablaEpoch: (i: unknown) => void; nablaNotice: (m: string) => void };
      return engine.runGpuJob(j, g.nablaEpoch, g.nablaNotice);
    }, job);
  }

  async run(job: DistributiveOmit<Exclude<GpuJob, { kind: 'probe' }>, 'dataUrl' | 'n' | 'd'>, data: LinearData, onEpoch?: (info: EpochInfo) => void): Promise<GpuJobResult> {
    const packed = Buffer.alloc((data.n * data.d + data.n) * 4);
    Buffer.from(data.x.buffer, data.x.byteOffset, data.x.byteLength).copy(packed, 0);
    Buffer.from(data.y.buffer, data.y.byteOffset, data.y.byteLength).copy(packed, data.x.byteLength);
    this.data = packed;
    this.onEpoch = onEpoch;
    try {
      return await GpuSession.evaluate(this.page, { ...job, dataUrl: `${ORIGIN}/data.bin`, n: data.n, d: data.d } as GpuJob);
    } finally {
      this.data = null;
      this.onEpoch = undefined;
    }
  }

  /** Full-batch training where the page pulls every chunk from `pass()` for every evaluation. */
  async runStreamed(
    job: Omit<Extract<GpuJob, { kind: 'train-stream' }>, 'streamUrl'>,
    pass: () => AsyncIterable<{ x: Float32Array; y: Float32Array; rows: number }>,
    onEpoch?: (info: EpochInfo) => void,
  ): Promise<GpuJobResult> {
    this.streamPass = async function* () {
      for await (const c of pass()) {
        const packed = Buffer.alloc((c.x.length + c.rows) * 4);
        Buffer.from(c.x.buffer, c.x.byteOffset, c.x.byteLength).copy(packed, 0);
        Buffer.from(c.y.buffer, c.y.byteOffset, c.rows * 4).copy(packed, c.x.byteLength);
        yield packed;
      }
    };
    this.onEpoch = onEpoch;
    this.streamError = null;
    try {
      return await GpuSession.evaluate(this.page, { ...job, streamUrl: `${ORIGIN}/stream` });
    } catch (e) {
      // A data error on the Node side (a bad cell mid-file) is the real cause; the page saw only HTTP 500.
      throw this.streamError ?? e;
    } finally {
      this.streamPass = null;
      this.streamIterator = null;
      this.onEpoch = undefined;
    }
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}
