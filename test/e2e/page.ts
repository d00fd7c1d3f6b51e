// Helpers for driving the demo page: the built site served to headless Chromium, console capture, reading
// the outputs' data-value, waiting for the run state, and probing canvas pixels.
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_WEBGPU_ARGS, chromiumPath } from '../../src/cli/chromium-flags.ts';
import { serveStatic, type StaticServer } from './static-server.ts';

/** Where the e2e tests leave their screenshots. */
export const RESULTS = join(fileURLToPath(new URL('../../', import.meta.url)), 'test-results');

export interface Site {
  /** The built site (test/setup/build-site.ts), served by a plain static server. */
  server: StaticServer;
  /** Headless Chromium with WebGPU (SwiftShader here). */
  browser: Browser;
}

/**
 * Serves the built site and launches the browser before the file's tests (making RESULTS too), and closes
 * both after them. Read the fields inside the tests: they are set in beforeAll.
 */
export function useSite(): Site {
  const site = {} as Site;
  beforeAll(async () => {
    site.server = await serveStatic(inject('siteDir'));
    site.browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_WEBGPU_ARGS, headless: true });
    await mkdir(RESULTS, { recursive: true });
  });
  afterAll(async () => {
    await site.browser?.close();
    await site.server?.close();
  });
  return site;
}

/** Waits until the formula mode's layout (#formula-layout) is in one of `states`. */
export const formulaLayoutState = (page: Page, states: string[], timeout = 60_000) => page.waitForFunction(
  (s) => s.includes(document.getElementById('formula-layout')?.dataset.state ?? ''), states, { timeout });

/** The formula mode's states where it waits for the user. */
const SETTLED = ['invalid', 'ready', 'error'];

/** Types a formula and waits until the page has settled on it. */
export async function typeFormula(page: Page, text: string): Promise<void> {
  await page.fill('#f-formula', text);
  await page.waitForFunction(([t, settled]) => {
    const layout = document.getElementById('formula-layout')!;
    return layout.dataset.formula === t && settled.includes(layout.dataset.state ?? '');
  }, [text, SETTLED] as const, { timeout: 60_000 });
}

/** What a browser would call a file of this name (the page goes by the name, not by this). */
function mimeTypeOf(name: string): string {
  if (name.endsWith('.json')) return 'application/json';
  return name.endsWith('.csv') ? 'text/csv' : 'application/octet-stream';
}

/** A file for a picker: text, or bytes (Parquet, Arrow, raw). */
export const filePayload = (name: string, content: string | Uint8Array) => ({ name, mimeType: mimeTypeOf(name), buffer: Buffer.from(content) });

/** Uploads a file to the formula mode and waits until the page has settled on it (the Dataset line names it). */
export async function upload(page: Page, name: string, content: string | Uint8Array): Promise<void> {
  await page.setInputFiles('#f-file-input', filePayload(name, content));
  await page.waitForFunction(([n, settled]) => (document.getElementById('f-dataset-label')?.textContent ?? '').includes(n) &&
    settled.includes(document.getElementById('formula-layout')?.dataset.state ?? ''), [name, SETTLED] as const, { timeout: 60_000 });
}

export interface OpenPage {
  page: Page;
  /** Console errors and warnings and uncaught exceptions, in order. */
  problems: string[];
  close(): Promise<void>;
}

export async function openPage(browser: Browser, url: string, viewport = { width: 1500, height: 1250 }): Promise<OpenPage> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  await page.addInitScript(() => {
    const w = window as unknown as { maxLongTaskMs: number };
    w.maxLongTaskMs = 0;
    try {
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.maxLongTaskMs = Math.max(w.maxLongTaskMs, e.duration);
      }).observe({ type: 'longtask', buffered: true });
    } catch { /* no long-task timing in this browser */ }
  });
  await page.goto(`${url}${url.includes('?') ? '&' : '?'}n=10000`);
  if ((await waitForState(page, ['ready', 'error'], 90_000)) === 'error') {
    throw new Error(`the page failed to load: ${await page.textContent('#status')} ${problems.join('; ')}`);
  }
  await page.evaluate(() => { (window as unknown as { maxLongTaskMs: number }).maxLongTaskMs = 0; });
  return { page, problems, close: () => context.close() };
}

/** The longest main-thread task since the page was ready or since the last call, ms. */
export async function takeLongestTask(page: Page): Promise<number> {
  return page.evaluate(() => {
    const w = window as unknown as { maxLongTaskMs: number };
    const v = w.maxLongTaskMs;
    w.maxLongTaskMs = 0;
    return v;
  });
}

export async function waitForState(page: Page, states: string[], timeout = 120_000): Promise<string> {
  await page.waitForFunction((s) => s.includes(document.body.dataset.state ?? ''), states, { timeout });
  return (await page.getAttribute('body', 'data-state'))!;
}

export async function num(page: Page, selector: string): Promise<number> {
  return Number(await page.getAttribute(selector, 'data-value'));
}

/** Generates the seed dataset with the given size and line, and waits until it is loaded. */
export async function generate(page: Page, n: number, w: number, b: number, noise: number): Promise<void> {
  await page.fill('#gen-n', String(n));
  await page.fill('#gen-w', String(w));
  await page.fill('#gen-b', String(b));
  await page.fill('#gen-noise', String(noise));
  await page.click('#generate');
  // The click puts the page in 'loading' at once (the submit handler is synchronous); then the new label.
  await page.waitForFunction((label) => document.getElementById('dataset-label')?.textContent?.endsWith(label), `(σ = ${noise}), N = ${n}`);
  await waitForState(page, ['ready']);
}

/** Trains for `epochs` epochs from where the run stands and waits for it to stop. */
export async function train(page: Page, epochs: number): Promise<string> {
  await page.fill('#epochs', String(epochs));
  const before = await page.getAttribute('#epoch', 'data-value');
  await page.click('#train');
  // The page renders its state once a frame, so right after the click body[data-state] may still show the
  // previous run's 'done'. Wait (in one evaluation) for a final state reached after the epoch moved; a run
  // that diverges or fails may end where it started.
  const handle = await page.waitForFunction((start) => {
    const state = document.body.dataset.state ?? '';
    const moved = document.getElementById('epoch')?.dataset.value !== start;
    if (state === 'diverged' || state === 'error' || ((state === 'done' || state === 'converged') && moved)) return state;
    return false;
  }, before, { timeout: 150_000 });
  return (await handle.jsonValue()) as string;
}

/**
 * Generates 10^4 points on the line w = 3, b = 2 (noise 0.5), trains 500 epochs in linear mode and checks that
 * the run ends, the loss falls a hundredfold and the parameters land within 0.05 of the line. Returns the loss
 * at the start, (0, 0).
 */
export async function trainsToTheLine(page: Page): Promise<number> {
  await generate(page, 10_000, 3, 2, 0.5);
  const loss0 = await num(page, '#loss');
  expect(await train(page, 500)).toMatch(/done|converged/);
  expect(await num(page, '#loss')).toBeLessThan(loss0 / 100);
  expect(Math.abs((await num(page, '#param-w')) - 3)).toBeLessThan(0.05);
  expect(Math.abs((await num(page, '#param-b')) - 2)).toBeLessThan(0.05);
  return loss0;
}

export interface CanvasProbe {
  /** Fraction of the plot box's pixels that are not white. */
  inked: number;
  /** Distinct colours (quantized) in the plot box. */
  colours: number;
  /** For each segment: fraction of points along its middle, inside the box, with a pixel of the colour within 2 px. */
  segments: number[];
}

/** Reads a canvas once (copied to a read-friendly canvas, so Chromium warns about nothing). */
export async function probeCanvas(
  page: Page, selector: string, box: [number, number, number, number],
  segments: Array<{ from: [number, number]; to: [number, number]; colour: string }>,
): Promise<CanvasProbe> {
  return page.evaluate(({ selector, box, segments }) => {
    const src = document.querySelector(selector) as HTMLCanvasElement;
    const copy = document.createElement('canvas');
    copy.width = src.width;
    copy.height = src.height;
    const ctx = copy.getContext('2d', { willReadFrequently: true })!;
    ctx.drawImage(src, 0, 0);
    const img = ctx.getImageData(0, 0, copy.width, copy.height).data;
    const px = (x: number, y: number) => {
      const o = (Math.round(y) * copy.width + Math.round(x)) * 4;
      return [img[o], img[o + 1], img[o + 2]];
    };
    const [x0, y0, x1, y1] = box;
    let inked = 0, total = 0;
    const colours = new Set<number>();
    for (let y = y0; y < y1; y += 2) {
      for (let x = x0; x < x1; x += 2) {
        const [r, g, b] = px(x, y);
        total++;
        if (r < 245 || g < 245 || b < 245) inked++;
        colours.add(((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4));
      }
    }
    const hex = (c: string) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
    const near = (x: number, y: number, want: number[]) => {
      for (let dy = -2; dy <= 2; dy++) {
        for (let dx = -2; dx <= 2; dx++) {
          const got = px(x + dx, y + dy);
          if (got.every((v, i) => Math.abs(v - want[i]) < 40)) return true;
        }
      }
      return false;
    };
    const seg = segments.map(({ from, to, colour }) => {
      const want = hex(colour);
      let hits = 0;
      let inside = 0;
      const steps = 20;
      for (let s = 0; s < steps; s++) {
        const t = 0.25 + (0.5 * s) / (steps - 1); // the middle of the shaft
        const x = from[0] + (to[0] - from[0]) * t, y = from[1] + (to[1] - from[1]) * t;
        if (x < x0 + 3 || x > x1 - 3 || y < y0 + 3 || y > y1 - 3) continue; // clipped at the plot's edge
        inside++;
        if (near(x, y, want)) hits++;
      }
      return inside >= 5 ? hits / inside : 0;
    });
    return { inked: inked / total, colours: colours.size, segments: seg };
  }, { selector, box, segments });
}

export function xy(attr: string | null): [number, number] {
  expect(attr, 'a drawn position').toMatch(/^[\d.]+,[\d.]+$/);
  const [x, y] = attr!.split(',').map(Number);
  return [x, y];
}
