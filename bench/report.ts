// The benchmark's JSON shape and its text rendering, shared by the Chromium and the Deno runners.
// Every measured column is null where it does not apply (a failed validation, no TF.js under Deno).
import type { MlpSuiteConfig } from './args.ts';

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

/** Suite 'mlp-epoch' (bench/suite/mlp-step.ts): one row per run, samples/s per training epoch. */
export interface MlpRow {
  suite: 'mlp-epoch';
  /** Samples per epoch on the GPU and TF.js (the CPU engine runs the first cpuN of them). */
  n: number;
  d: number;
  hidden: number[];
  classes: number;
  batch: number;
  /** Epochs timed (after one warm-up epoch). */
  epochs: number;
  cpuN: number;
  optimizer: string;
  lr: number;
  gpuEpochMs: number | null;
  gpuSamplesPerSec: number | null;
  cpuEpochMs: number | null;
  cpuSamplesPerSec: number | null;
  tfjsEpochMs: number | null;
  tfjsSamplesPerSec: number | null;
  /** gpuSamplesPerSec / tfjsSamplesPerSec (higher = nabla faster). */
  vsTfjs: number | null;
  /** gpuSamplesPerSec / cpuSamplesPerSec. */
  vsCpu: number | null;
  /** max(gradient, loss) relative error at the starting point on the first batch, vs float64. */
  gradientRelError: number | null;
  tfjsRelError: number | null;
  /** Loss reported for the last timed epoch (nabla: the last batch's or epoch's, as train() reports it; TF.js: mean batch loss). */
  gpuLoss: number | null;
  cpuLoss: number | null;
  tfjsLoss: number | null;
  validation: string;
  timing: 'wall-clock';
  stages: MlpStageProfile | null;
  notes: string[];
}

/** --mlp-profile: the GPU time of each dispatch of one gradient evaluation. */
export interface MlpStageProfile {
  method: 'timestamp-query' | 'wall-clock';
  stages: { name: string; ms: number; workgroups: number }[];
  totalMs: number;
  notes: string[];
}

/** What the suite itself returns (in the page or in Deno). */
export interface SuiteResult {
  adapter: AdapterInfo & { name: string };
  rows: BenchRow[];
  skipped: SkippedCase[];
  /** The MLP suite's row, when it ran. */
  mlp: MlpRow[];
}

export interface BenchReport {
  adapter: AdapterInfo;
  /** e.g. "chromium 156.0.8078.108" or "deno 2.9.6". */
  browser: string;
  commit: string | null;
  date: string;
  rows: BenchRow[];
  skipped: SkippedCase[];
  mlp: MlpRow[];
  config: { quick: boolean; reps: number; injectFault: boolean; tfjs: boolean; linear: boolean; mlp: MlpSuiteConfig | null };
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

/** samples/s with its epoch time: '1.23e+4 (333.1 ms)'. */
function rate(samplesPerSec: number | null, epochMs: number | null): string {
  if (samplesPerSec === null || epochMs === null) return '—';
  return `${samplesPerSec >= 1e4 ? samplesPerSec.toExponential(2) : samplesPerSec.toFixed(0)} (${num(epochMs, 1)} ms)`;
}

/** The MLP suite: samples/s per epoch on each path, the ratios, the checks, then the stage profile. */
export function formatMlpTable(rows: readonly MlpRow[]): string {
  const head = ['suite', 'n', 'batch', 'epochs', 'nabla GPU samples/s (ms/epoch)', 'TF.js samples/s (ms/epoch)', 'CPU samples/s (ms/epoch)',
    'GPU vs TF.js', 'GPU vs CPU', 'check'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  const exp = (v: number | null) => (v === null ? '—' : v.toExponential(1));
  for (const r of rows) {
    const cells = [r.suite, String(r.n), String(r.batch), String(r.epochs), rate(r.gpuSamplesPerSec, r.gpuEpochMs),
      rate(r.tfjsSamplesPerSec, r.tfjsEpochMs), rate(r.cpuSamplesPerSec, r.cpuEpochMs), times(r.vsTfjs), times(r.vsCpu), r.validation];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  for (const r of rows) {
    const loss = (v: number | null) => (v === null ? '—' : v.toFixed(4));
    lines.push('', `MLP ${r.d}-${r.hidden.join('-')}-${r.classes} (relu, cross-entropy), ${r.optimizer} lr ${r.lr}, batches of ${r.batch} consecutive rows;`
      + ` the CPU engine (float64) runs epochs of the first ${r.cpuN} rows.`);
    lines.push(`- starting-point check on batch 1 vs float64: nabla GPU ${exp(r.gradientRelError)}, TF.js ${exp(r.tfjsRelError)} (relative error of loss and gradient)`);
    lines.push(`- loss of the last timed epoch: nabla GPU ${loss(r.gpuLoss)}, TF.js ${loss(r.tfjsLoss)}, CPU ${loss(r.cpuLoss)}`);
    lines.push(...r.notes.map((t) => `- ${t}`));
    if (r.stages) {
      const total = r.stages.totalMs;
      lines.push('', `GPU stages of one gradient evaluation (${r.batch} samples; ${r.stages.method}, median of each dispatch alone):`, '',
        '| stage | ms | share | workgroups |', '|---|---|---|---|');
      for (const s of r.stages.stages) lines.push(`| ${s.name} | ${num(s.ms, 3)} | ${Math.round((100 * s.ms) / total)}% | ${s.workgroups} |`);
      lines.push(`| total | ${num(total, 3)} | 100% | |`);
      lines.push(...r.stages.notes.map((t) => `- ${t}`));
    }
  }
  lines.push('', '"vs" columns: nabla GPU samples/s over the other path\'s (higher = nabla faster).');
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
  return { adapter: { vendor, architecture, description, isFallback }, browser, commit, date, rows: suite.rows, skipped: suite.skipped, mlp: suite.mlp, config };
}
