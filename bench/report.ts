// The benchmark's JSON shape and its text rendering, shared by the Chromium and the Deno runners.
// Every measured column is null where it does not apply (a failed validation, no TF.js under Deno).
import type { SuiteConfig } from './args.ts';
import type { ReadReference } from './suite/read-sweep.ts';
import { configKey } from './suite/read-plan.ts';
import { kernelCell, num, pct, peerMs, sizeLabel, times } from './format.ts';
import { formatFormulaTable, type FormulaKernelCell, type FormulaRow } from './formula-report.ts';

export { FORMULA_TARGETS, formatFormulaTable, type FormulaKernelCell, type FormulaRow } from './formula-report.ts';

export type LinearOp = 'gradient' | 'gd100';

/** Result files written before the formula engine ran the linear suite: GpuLinearEngine's pass-1 configuration. */
export interface LegacyLinearKernel {
  workgroupSize: number;
  numGroups: number;
  unroll?: number;
  variant?: string;
  source: string;
}

/**
 * Suite 'linear' (bench/suite/linear-step.ts): one row per (op, N, d). Every time is wall clock from the
 * call to the result on the host, median of `repetitions` after warm-up; null where a path did not run or
 * failed its check against float64. Ratios: the other path's ms over nabla's (higher = nabla faster).
 */
export interface BenchRow {
  suite: 'linear';
  op: LinearOp;
  n: number;
  d: number;
  /** Evaluations the op must make: 1 (gradient) or 100 (gd100). */
  steps: number;
  /** (n*d + n) * 4: the bytes one evaluation must read (X and y). */
  bytes: number;
  /**
   * nabla (GpuFormulaEngine over linearFormulaModel(d)): lossAndGradient() to its values on the host, or
   * train() of 100 plain-sgd steps to the final parameters.
   */
  ms: number | null;
  msMin: number | null;
  msMax: number | null;
  /** steps * bytes / ms. */
  gbps: number | null;
  samplesPerSec: number | null;
  repetitions: number;
  /** nabla's check: 'passed' or 'failed: ...' (then nothing of nabla is timed). */
  validation: string;
  relError: number | null;
  /**
   * Extra information, never a ratio: nabla's training step on the GPU clock (timestamp-query). gpuTiming
   * says how it was taken, or why it was not (then gpuMs is null).
   */
  gpuMs: number | null;
  gpuTiming: string | null;
  /** The gradient kernel the engine ran, its grid and where the grid came from (tuned now, the tuning table, ...). */
  kernel: FormulaKernelCell | LegacyLinearKernel | null;
  /** The best read kernel over the same bytes (bench/suite/read-sweep.ts), on the same wall clock. */
  read: ReadReference | null;
  /** read.ms / ms: nabla's speed as a fraction of the best plain read of the same bytes, as many times as the op evaluates (1 = as fast as a plain read). */
  fractionOfRead: number | null;
  jaxMs: number | null;
  vsJax: number | null;
  jaxValidation: string;
  jaxRelError: number | null;
  tfjsMs: number | null;
  vsTfjs: number | null;
  tfjsValidation: string;
  tfjsRelError: number | null;
  /** nabla's float64 twin (CpuFormulaEngine over the same model): lossAndGradient, or train() of 100 steps. */
  cpuMs: number | null;
  vsCpu: number | null;
  cpuGbps: number | null;
  /** A plain single-threaded JS sum over the same Float32Arrays: the CPU's read reference. */
  jsLoopGbps: number | null;
  notes: string[];
}

export interface SkippedCase {
  suite: 'linear';
  op: LinearOp;
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
  jaxEpochMs: number | null;
  jaxSamplesPerSec: number | null;
  /** gpuSamplesPerSec / tfjsSamplesPerSec (higher = nabla faster). */
  vsTfjs: number | null;
  /** gpuSamplesPerSec / jaxSamplesPerSec. */
  vsJax: number | null;
  /** gpuSamplesPerSec / cpuSamplesPerSec. */
  vsCpu: number | null;
  /** max(gradient, loss) relative error at the starting point on the first batch, vs float64. */
  gradientRelError: number | null;
  tfjsRelError: number | null;
  jaxRelError: number | null;
  /** The peers' own checks against float64: 'passed', 'failed: ...' (not timed), 'skipped: ...', 'not run'. */
  tfjsValidation: string;
  jaxValidation: string;
  /** Loss reported for the last timed epoch (nabla: the last batch's or epoch's, as train() reports it; TF.js: mean batch loss). */
  gpuLoss: number | null;
  cpuLoss: number | null;
  tfjsLoss: number | null;
  jaxLoss: number | null;
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
  /** The formula suite's rows, when it ran (absent from older result files). */
  formula?: FormulaRow[];
}

/** Where a result file came from: enough to run it again and to know what code ran. */
export interface Provenance {
  /** git HEAD when the run started, or null without git. */
  commit: string | null;
  /** Whether tracked files differed from that commit (then the numbers are from code no commit holds). */
  dirty: boolean | null;
  /** The exact command line, e.g. "npm run bench -- --quick". */
  command: string;
  date: string;
  /** e.g. "chromium 156.0.8078.108" or "deno 2.9.6". */
  browser: string;
  /** The JS runtime that drove the run, e.g. "node 20.19.2". */
  host: string;
}

export interface BenchReport extends Provenance {
  adapter: AdapterInfo & { name: string };
  rows: BenchRow[];
  skipped: SkippedCase[];
  mlp: MlpRow[];
  /** Absent from result files written before the formula suite. */
  formula?: FormulaRow[];
  config: SuiteConfig & { quick: boolean };
}

/** Never calls a software adapter a GPU. */
export function adapterLine(a: AdapterInfo & { name: string }): string {
  const detail = a.description && a.description !== a.name ? `, ${a.description}` : '';
  return a.isFallback
    ? `adapter: ${a.name} (software, isFallbackAdapter${detail}) — not a GPU: its GB/s measure a CPU running the shaders`
    : `adapter: ${a.name} (hardware${detail})`;
}

/**
 * The linear suite as one markdown table, `op | N | d | ms | GB/s` first like llm.c's dev/cuda, then
 * the yardstick and the ratios. Every ms is wall clock from the call to the result on the host.
 */
export function formatTable(rows: readonly BenchRow[], skipped: readonly SkippedCase[] = []): string {
  const head = ['op', 'N', 'd', 'nabla ms (min–max)', 'GB/s', 'nabla grid', 'best read ms', 'read config', 'vs read', 'jax-js ms', 'vs jax-js',
    'TF.js ms', 'vs TF.js', 'CPU ms', 'vs CPU', 'JS loop GB/s', 'GPU ms (timestamps)', 'check'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const ms = r.ms === null ? '—' : `${num(r.ms, 3)} (${num(r.msMin, 3)}–${num(r.msMax, 3)})`;
    const cells = [r.op, sizeLabel(r.n), String(r.d), ms, num(r.gbps), linearKernelCell(r.kernel), num(r.read?.ms ?? null, 3), r.read ? configKey(r.read.config) : '—',
      pct(r.fractionOfRead), peerMs(r.jaxMs, r.jaxValidation), times(r.vsJax), peerMs(r.tfjsMs, r.tfjsValidation), times(r.vsTfjs),
      num(r.cpuMs, 3), times(r.vsCpu), num(r.jsLoopGbps), num(r.gpuMs, 3), r.validation.split(' (')[0]];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const notes = rows.flatMap((r) => {
    const where = `${r.op} N = ${sizeLabel(r.n)}, d = ${r.d}`;
    const out = r.notes.map((t) => `- ${where}: ${t}`);
    if (r.validation.startsWith('failed')) out.unshift(`- ${where}: nabla ${r.validation}`);
    if (r.read) {
      out.push(`- ${where}: read sweep ${r.read.candidates} candidates, ${r.read.rejected} rejected, ${r.read.sweepSeconds.toFixed(1)} s; `
        + `winner ${num(r.read.gbps)} GB/s on the wall clock${r.read.gpuMs === null ? '' : `, ${num(r.read.gpuMs, 3)} ms per pass on the GPU clock`}`
        + (r.read.rejections.length ? `; e.g. ${r.read.rejections[0]}` : ''));
    }
    return out;
  });
  if (notes.length) lines.push('', 'notes:', ...notes);
  if (skipped.length) {
    lines.push('', 'skipped:', ...skipped.map((s) => `- ${s.op} N = ${sizeLabel(s.n)}, d = ${s.d}: ${s.reason}`));
  }
  const untimed = [...new Set(rows.filter((r) => r.gpuMs === null && r.gpuTiming !== null).map((r) => r.gpuTiming!))];
  if (untimed.length) lines.push('', ...untimed.map((why) => `GPU ms (timestamps): ${why}`));
  lines.push('', 'All ms: wall clock from the call to the result on the host, median after warm-up. "vs read" = the best read kernel\'s '
    + 'time over the same bytes (gd100: 100 chained reads, one read-back) / nabla\'s (100% = as fast as a plain read); other "vs" = that path\'s ms / nabla\'s (higher = nabla faster). '
    + 'GPU ms (timestamps) is extra information, never a ratio.');
  return lines.join('\n');
}

function linearKernelCell(k: BenchRow['kernel']): string {
  if (!k) return '—'; // older result files have no kernel field
  if ('numGroups' in k) return `${k.variant ? `${k.variant} ` : ''}${k.numGroups}×${k.workgroupSize}${(k.unroll ?? 1) > 1 ? ` unroll${k.unroll}` : ''} (${k.source})`;
  return kernelCell(k);
}

/** samples/s with its epoch time: '1.23e+4 (333.1 ms)'. */
function rate(samplesPerSec: number | null, epochMs: number | null): string {
  if (samplesPerSec === null || epochMs === null) return '—';
  return `${samplesPerSec >= 1e4 ? samplesPerSec.toExponential(2) : samplesPerSec.toFixed(0)} (${num(epochMs, 1)} ms)`;
}

/** The MLP suite: samples/s per epoch on each path, the ratios, the checks, then the stage profile. */
export function formatMlpTable(rows: readonly MlpRow[]): string {
  const head = ['suite', 'n', 'batch', 'epochs', 'nabla GPU samples/s (ms/epoch)', 'jax-js samples/s (ms/epoch)', 'TF.js samples/s (ms/epoch)',
    'CPU samples/s (ms/epoch)', 'GPU vs jax-js', 'GPU vs TF.js', 'GPU vs CPU', 'check'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  const exp = (v: number | null) => (v === null ? '—' : v.toExponential(1));
  for (const r of rows) {
    const cells = [r.suite, String(r.n), String(r.batch), String(r.epochs), rate(r.gpuSamplesPerSec, r.gpuEpochMs),
      rate(r.jaxSamplesPerSec, r.jaxEpochMs), rate(r.tfjsSamplesPerSec, r.tfjsEpochMs), rate(r.cpuSamplesPerSec, r.cpuEpochMs),
      times(r.vsJax), times(r.vsTfjs), times(r.vsCpu), r.validation.split(' (')[0]];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  for (const r of rows) {
    const loss = (v: number | null) => (v === null ? '—' : v.toFixed(4));
    lines.push('', `MLP ${r.d}-${r.hidden.join('-')}-${r.classes} (relu, cross-entropy), ${r.optimizer} lr ${r.lr}, batches of ${r.batch} consecutive rows;`
      + ` the CPU engine (float64) runs epochs of the first ${r.cpuN} rows.`);
    lines.push(`- starting-point check on batch 1 vs float64: nabla GPU ${exp(r.gradientRelError)}, jax-js ${exp(r.jaxRelError)}, TF.js ${exp(r.tfjsRelError)} (relative error of loss and gradient)`);
    lines.push(`- loss of the last timed epoch: nabla GPU ${loss(r.gpuLoss)}, jax-js ${loss(r.jaxLoss)}, TF.js ${loss(r.tfjsLoss)}, CPU ${loss(r.cpuLoss)}`);
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

export function makeReport(suite: SuiteResult, provenance: Provenance, config: BenchReport['config']): BenchReport {
  const { vendor, architecture, description, isFallback, name } = suite.adapter;
  return {
    ...provenance, adapter: { vendor, architecture, description, isFallback, name }, rows: suite.rows, skipped: suite.skipped, mlp: suite.mlp,
    formula: suite.formula ?? [], config,
  };
}

/** The whole report as text: adapter, provenance, the linear table, the MLP table. */
export function formatReport(r: BenchReport): string {
  const commit = r.commit ? `${r.commit.slice(0, 12)}${r.dirty ? ' + uncommitted changes' : ''}` : 'unknown';
  const parts = [adapterLine(r.adapter), `${r.browser}, ${r.host}, commit ${commit}, ${r.date}${r.config.injectFault ? ', FAULT INJECTED' : ''}`, `command: ${r.command}`, ''];
  if (r.rows.length || r.skipped.length) parts.push(formatTable(r.rows, r.skipped));
  if (r.mlp.length) parts.push(`${r.rows.length ? '\n' : ''}${formatMlpTable(r.mlp)}`);
  if (r.formula?.length) parts.push(`${r.rows.length || r.mlp.length ? '\n' : ''}${formatFormulaTable(r.formula)}`);
  return parts.join('\n');
}

/**
 * 1 when any path failed its check against float64 (nabla's rows, or a peer's 'failed: ...'; a peer that
 * cannot run a size is 'skipped', not a failure), else 0. With --inject-fault, 1 is the expected outcome.
 */
export function exitCodeOf(r: Pick<BenchReport, 'rows' | 'mlp' | 'formula'>): number {
  const formula = r.formula ?? [];
  const checks = [
    ...r.rows.flatMap((row) => [row.validation, row.jaxValidation, row.tfjsValidation]),
    ...r.mlp.flatMap((row) => [row.validation, row.jaxValidation, row.tfjsValidation]),
    ...formula.flatMap((row) => [row.validation, row.jaxValidation, row.genericValidation ?? 'not run', row.handValidation ?? 'not run']),
  ];
  const nablaFailed = [...r.rows, ...r.mlp].some((row) => row.validation !== 'passed')
    || formula.some((row) => row.validation !== 'passed' && !row.validation.startsWith('skipped'));
  return nablaFailed || checks.some((v) => v.startsWith('failed')) ? 1 : 0;
}
