// The benchmark's JSON shape and its text rendering, shared by the Chromium and the Deno runners.
// Every measured column is null where it does not apply (a failed validation, no TF.js under Deno).

export interface BenchRow {
  suite: 'linear-step';
  n: number;
  d: number;
  /** Per training step (partials + reduce + update dispatches), over `repetitions` timed steps. */
  msMedian: number | null;
  msMin: number | null;
  msMax: number | null;
  samplesPerSec: number | null;
  /** (n*d + n) * 4 bytes / msMedian: the bytes a step must read, whatever else it does. */
  gbps: number | null;
  /** The plain vec4 read kernel over the same byte count, timed the same way. */
  readKernelGbps: number | null;
  fractionOfRead: number | null;
  tfjsMs: number | null;
  /** tfjsMs / msMedian: how many times faster nabla's step is. */
  tfjsRatio: number | null;
  cpuMs: number | null;
  cpuRatio: number | null;
  cpuGbps: number | null;
  jsLoopGbps: number | null;
  validation: string; // 'passed' | 'failed: ...'
  repetitions: number;
  /** How the GPU times were taken: 'timestamp-query' (GPU clock) or 'wall-clock' (submit to idle). */
  timing: string | null;
  /** Norm-wise relative error of (grad w, grad b) against float64, and of the loss. */
  gradientRelError: number | null;
  tfjsRelError: number | null;
  /** Why a column is null, or what was dropped (e.g. "2 impossible timestamp samples dropped"). */
  notes: string[];
}

export interface SkippedCase {
  suite: 'linear-step';
  n: number;
  d: number;
  reason: string;
}

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  isFallback: boolean;
}

/** What the suite itself returns (in the page or in Deno). */
export interface SuiteResult {
  adapter: AdapterInfo & { name: string };
  rows: BenchRow[];
  skipped: SkippedCase[];
}

export interface BenchReport {
  adapter: AdapterInfo;
  /** e.g. "chromium 156.0.8078.108" or "deno 2.9.6". */
  browser: string;
  commit: string | null;
  date: string;
  rows: BenchRow[];
  skipped: SkippedCase[];
  config: { quick: boolean; reps: number; injectFault: boolean; tfjs: boolean };
}

/** Never calls a software adapter a GPU. */
export function adapterLine(a: AdapterInfo & { name: string }): string {
  const detail = a.description && a.description !== a.name ? `, ${a.description}` : '';
  return a.isFallback
    ? `adapter: ${a.name} (software, isFallbackAdapter${detail}) — not a GPU: its GB/s measure a CPU running the shaders`
    : `adapter: ${a.name} (hardware${detail})`;
}

function sizeLabel(v: number): string {
  const k = Math.log2(v);
  return Number.isInteger(k) && k >= 10 ? `2^${k}` : String(v);
}

function num(v: number | null, digits = 2): string {
  if (v === null) return '—';
  if (Math.abs(v) >= 1e6) return v.toExponential(2);
  return v.toFixed(Math.abs(v) >= 100 ? Math.max(0, digits - 2) : digits);
}

function times(v: number | null): string {
  return v === null ? '—' : `${num(v)}×`;
}

/** One markdown table, `size | ms | GB/s` first like llm.c's dev/cuda, then the comparisons. */
export function formatTable(rows: readonly BenchRow[], skipped: readonly SkippedCase[] = []): string {
  const head = ['suite', 'N', 'd', 'ms (min–max)', 'GB/s', 'samples/s', 'read GB/s', 'of read', 'TF.js ms', 'vs TF.js',
    'CPU ms', 'vs CPU', 'CPU GB/s', 'JS loop GB/s', 'check'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const ms = r.msMedian === null ? '—' : `${num(r.msMedian, 3)} (${num(r.msMin, 3)}–${num(r.msMax, 3)})`;
    const frac = r.fractionOfRead === null ? '—' : `${Math.round(r.fractionOfRead * 100)}%`;
    const cells = [r.suite, sizeLabel(r.n), String(r.d), ms, num(r.gbps), num(r.samplesPerSec), num(r.readKernelGbps), frac,
      num(r.tfjsMs, 3), times(r.tfjsRatio), num(r.cpuMs, 3), times(r.cpuRatio), num(r.cpuGbps), num(r.jsLoopGbps), r.validation];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const notes = rows.flatMap((r) => r.notes.map((t) => `- N = ${sizeLabel(r.n)}, d = ${r.d}: ${t}`));
  if (notes.length) lines.push('', 'notes:', ...notes);
  if (skipped.length) {
    lines.push('', 'skipped:', ...skipped.map((s) => `- ${s.suite} N = ${sizeLabel(s.n)}, d = ${s.d}: ${s.reason}`));
  }
  lines.push('', '"vs" columns: how many times longer the other path takes per gradient step (higher = nabla faster).');
  return lines.join('\n');
}

/** bench/results/<date>-<adapter>.json: a name safe on every file system. */
export function resultFileName(date: string, adapter: AdapterInfo & { name: string }): string {
  const label = /^\d*$/.test(adapter.name) ? adapter.description || adapter.name : adapter.name;
  const slug = label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'adapter';
  return `${date.replace(/[:.]/g, '-')}-${slug}.json`;
}

export function makeReport(
  suite: SuiteResult, browser: string, commit: string | null, date: string, config: BenchReport['config'],
): BenchReport {
  const { vendor, architecture, description, isFallback } = suite.adapter;
  return { adapter: { vendor, architecture, description, isFallback }, browser, commit, date, rows: suite.rows, skipped: suite.skipped, config };
}
