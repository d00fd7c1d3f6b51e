// `npm run bench`: builds the bench bundle when stale, runs the suites in headless Chromium (the bundle
// is served from intercepted http://localhost URLs, as src/cli/gpu-session.ts does), prints the adapter
// and a table (or JSON) and writes bench/results/<date>-<adapter>.json.
// runBench() is the whole command as a function, for test/node/bench.test.ts.
import { commandLine, gitState } from './provenance.ts';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { chromiumPath, CHROMIUM_WEBGPU_ARGS } from '../src/cli/chromium-flags.ts';
import { BenchUsageError, parseBenchArgs, type BenchArgs, type SuiteConfig } from './args.ts';
import { isMain, writeResultFile } from './node-cli.ts';
import { exitCodeOf, formatReport, makeReport, resultFileName, type BenchReport, type Provenance, type SuiteResult } from './report.ts';

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const benchBundlePath = join(projectRoot, 'dist', 'bench', 'nabla-bench.js');
const ORIGIN = 'http://localhost';

/**
 * Bench-only flag: Chromium quantizes timestamp queries to 100 µs unless WebGPU developer features are
 * on, which would zero out (and so drop) every short pass.
 */
const BENCH_CHROMIUM_ARGS = [...CHROMIUM_WEBGPU_ARGS, '--enable-webgpu-developer-features'];

export interface BenchIo {
  out(text: string): void;
  err(text: string): void;
}

export interface BenchOutcome {
  exitCode: number;
  report: BenchReport | null;
  file: string | null;
}

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === 'results') continue; // bench/results changes on every run
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

/** Rebuilds dist/bench/nabla-bench.js with Vite when it is missing or older than what it is built from. */
export async function ensureBenchBundle(): Promise<string> {
  // All of src: the page bundle reaches core, data, optim and train too, and a folder left out here would let
  // a change there be timed as the old code.
  const sources = ['bench', 'shaders', 'src', 'vite.bench.config.ts'].map((p) => join(projectRoot, p));
  const stale = !existsSync(benchBundlePath) || Math.max(...sources.map(newestMtime)) > statSync(benchBundlePath).mtimeMs;
  if (stale) {
    const { build } = await import('vite');
    await build({ configFile: join(projectRoot, 'vite.bench.config.ts'), root: projectRoot, logLevel: 'error' });
  }
  return benchBundlePath;
}

export { commandLine, gitState };

/** Runs the suite in a fresh headless Chromium; progress lines go to `log`. */
export async function runInChromium(config: SuiteConfig, log: (line: string) => void): Promise<{ suite: SuiteResult; browser: string }> {
  const bundle = readFileSync(await ensureBenchBundle());
  const { chromium } = await import('playwright-core');
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: chromiumPath(), args: BENCH_CHROMIUM_ARGS, headless: true });
  } catch (e) {
    throw new Error(`could not start Chromium at ${chromiumPath()} (set NABLA_CHROMIUM or install Debian's chromium): ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    const page = await browser.newPage();
    // Cross-origin isolation: performance.now() then ticks in 5 µs steps instead of 100 µs.
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
    await page.route(`${ORIGIN}/**`, (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path === '/') return route.fulfill({ headers, contentType: 'text/html', body: '<!doctype html><title>nabla bench</title>' });
      if (path === '/nabla-bench.js') return route.fulfill({ headers, contentType: 'text/javascript', body: bundle });
      return route.fulfill({ status: 404, body: 'not found' });
    });
    await page.exposeFunction('nablaBenchLog', (line: string) => log(line));
    await page.goto(`${ORIGIN}/`);
    // A string, not a function: under Vitest a function's import() would be rewritten into a helper
    // (__vite_ssr_dynamic_import__) that does not exist in the page.
    const script = `import('/nabla-bench.js').then((m) => m.runPageBench(${JSON.stringify(config)}, (line) => globalThis.nablaBenchLog(line)))`;
    const suite = (await page.evaluate(script)) as SuiteResult;
    return { suite, browser: `chromium ${browser.version()}` };
  } finally {
    await browser.close();
  }
}

export async function runBench(argv: readonly string[], io: BenchIo): Promise<BenchOutcome> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(argv);
  } catch (e) {
    if (!(e instanceof BenchUsageError)) throw e;
    io.err(`bench: ${e.message}`);
    return { exitCode: 2, report: null, file: null };
  }
  const { ns, gdNs, ds, reps, budgetMs, injectFault, tfjs, jax, linear, mlp, maxXBytes, formula, formulaNs } = args;
  const config = { ns, gdNs, ds, reps, budgetMs, injectFault, tfjs, jax, linear, mlp, maxXBytes, formula, formulaNs };
  const date = new Date().toISOString();
  const state = gitState(); // before the run: the code that ran
  const { suite, browser } = await runInChromium(config, (line) => io.err(line));
  const provenance: Provenance = { ...state, command: commandLine(argv), date, browser, host: `node ${process.versions.node}` };
  const report = makeReport(suite, provenance, { ...config, quick: args.quick });

  const file = resolve(args.out ?? join(projectRoot, 'bench', 'results', resultFileName(date, suite.adapter)));
  mkdirSync(dirname(file), { recursive: true });
  writeResultFile(file, report);

  if (args.json) {
    io.out(JSON.stringify(report, null, 2));
  } else {
    io.out(formatReport(report));
  }
  io.err(`wrote ${file}`);
  return { exitCode: exitCodeOf(report), report, file };
}

if (isMain(import.meta.url)) {
  const io: BenchIo = { out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`) };
  process.exitCode = (await runBench(process.argv.slice(2), io)).exitCode;
}
