// Suite "linear-step": a full-batch gradient step (partials + reduce + update dispatches) per (N, d).
// Platform-agnostic: it takes a GpuContext, so the same module runs in the Chromium page and in Deno.
// Per row, on one page, adapter and dataset: validate against float64 first (a failure is reported and
// nothing is timed), then nabla's step, the plain read kernel, TF.js (when given), the CPU paths.
import type { GpuContext } from '../../src/gpu/device.ts';
import { GpuLinearEngine } from '../../src/gpu/gpu-linear-engine.ts';
import { paddedFeatureBytes, planLinearGrid } from '../../src/gpu/dispatch.ts';
import { linearPartialsWgsl } from '../../src/gpu/passes/linear-partials-pass.ts';
import { linearGradient } from '../../src/cpu/linear_partials.ts';
import type { GradientResult, LinearData, LinearParams } from '../../src/models/linear.ts';
import type { SuiteConfig } from '../args.ts';
import type { BenchRow, SkippedCase, SuiteResult } from '../report.ts';
import { checkGradient, evaluationPoint, GRADIENT_REL_TOL, makeBenchData } from './data.ts';
import { summarize, timeComputePasses } from './gpu-timer.ts';
import { ReadKernel } from './read-kernel.ts';
import { cpuReps, timeCpu } from './cpu-ref.ts';

export interface TfjsOutcome {
  ms: number | null;
  rel: number | null;
  /** Why ms is null, or a caveat. */
  note: string | null;
}

export interface TfjsRunner {
  run(data: LinearData, at: LinearParams, want: GradientResult, options: { lr: number; reps: number; warmup: number }): Promise<TfjsOutcome>;
}

/**
 * Above this the page (or Deno) would hold X several times over (the Float32Array, the GPU buffer,
 * the read kernel's copy, TF.js's copy): skip rather than swap.
 */
export const MAX_X_BYTES = 1.5 * 2 ** 30;
/**
 * Training options under which steps never stop: tol 0 (|grad| < 0 never holds), 2^31 updates, a loss
 * would have to grow 1e30-fold to count as divergence, and lr 1e-30 leaves theta, hence every step's
 * work, unchanged. A stopped run would make the passes return early and time nothing.
 */
export const ENDLESS = { lr: 1e-30, maxEpochs: 2 ** 31, tol: 0, explodeFactor: 1e30 } as const;
const WARMUP = 2;

/**
 * The residual line of every pass-1 variant: `r = p - y[row0 + i];` (tiled), `var r = p - y4[q];` (quad).
 * Found by pattern so the fault follows the kernels as they change.
 */
const RESIDUAL = /(\br\s*=\s*p\s*-\s*)(y4?\[[^\]]+\])/;

/** The fault: every residual uses 2y instead of y, so every component of the gradient is off by O(1). */
export function faultyPartialsWgsl(gpu: GpuContext, n: number, d: number): string {
  // The WGSL depends on d and the adapter only (N is a uniform), so this matches the engine's own plan.
  const good = linearPartialsWgsl(d, planLinearGrid(n, d, gpu.shape));
  const bad = good.replace(RESIDUAL, '$12.0 * $2');
  if (bad === good) throw new Error('--inject-fault: no residual line (r = p - y[...]) in the pass-1 WGSL; update RESIDUAL');
  return bad;
}

export function skipReason(gpu: GpuContext, n: number, d: number): string | null {
  const xBytes = paddedFeatureBytes(n, d);
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
  // Above one storage binding the engine splits X into chunks, so only host memory caps a case.
  if (xBytes > MAX_X_BYTES) return `X takes ${gib(xBytes)}, more than the harness's ${gib(MAX_X_BYTES)} cap (host memory)`;
  return null;
}

function emptyRow(n: number, d: number, reps: number): BenchRow {
  return {
    suite: 'linear-step', n, d, msMedian: null, msMin: null, msMax: null, samplesPerSec: null, gbps: null,
    readKernelGbps: null, fractionOfRead: null, tfjsMs: null, tfjsRatio: null, cpuMs: null, cpuRatio: null,
    cpuGbps: null, jsLoopGbps: null, validation: 'not run', repetitions: reps, timing: null,
    gradientRelError: null, tfjsRelError: null, notes: [],
  };
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

export async function benchCase(
  gpu: GpuContext, n: number, d: number, config: SuiteConfig, tfjs: TfjsRunner | null, log: (line: string) => void,
): Promise<BenchRow> {
  const row = emptyRow(n, d, config.reps);
  const t0 = performance.now();
  const phase = (what: string) => log(`  ${what} (${((performance.now() - t0) / 1e3).toFixed(1)} s)`);
  const bytes = (n * d + n) * 4; // what a step must read: X and y, once
  const gbpsOf = (ms: number) => bytes / (ms * 1e6);
  const data = makeBenchData(n, d);
  const at = evaluationPoint(d);
  phase('data made');

  // (1) Validate before timing.
  const want = linearGradient(data, at);
  phase('float64 reference');
  let engine: GpuLinearEngine;
  try {
    engine = await GpuLinearEngine.create(gpu, data, { partialsWgsl: config.injectFault ? faultyPartialsWgsl(gpu, n, d) : undefined });
  } catch (e) {
    row.validation = `failed: could not build the engine: ${errorText(e)}`;
    return row;
  }
  try {
    const check = checkGradient(await engine.gradient(at), want, GRADIENT_REL_TOL);
    row.validation = check.verdict;
    row.gradientRelError = check.rel;
    phase(`validation ${check.verdict} (relative error ${check.rel.toExponential(2)}, tolerance ${GRADIENT_REL_TOL})`);
    if (!check.ok) return row;

    // (2) nabla: one training step per compute pass.
    engine.prepareTraining({ ...ENDLESS, init: at });
    const t = await timeComputePasses(gpu, config.reps, WARMUP, (pass) => engine.recordStep(pass, true));
    const s = summarize(t.samples);
    Object.assign(row, { msMedian: s.median, msMin: s.min, msMax: s.max, samplesPerSec: n / (s.median / 1e3), gbps: gbpsOf(s.median), timing: t.method });
    row.repetitions = t.samples.length;
    row.notes.push(...t.notes);
    phase(`nabla step timed: ${s.median.toFixed(4)} ms`);
  } finally {
    engine.dispose(); // before the read kernel and TF.js allocate their copies
  }

  // (3) The plain read kernel over the same byte counts.
  try {
    const kernel = await ReadKernel.create(gpu, [n * d * 4, n * 4]);
    try {
      const wrong = await kernel.check(gpu.device); // validate before timing, like the gradient
      if (wrong) throw new Error(wrong);
      const t = await timeComputePasses(gpu, config.reps, WARMUP, (pass) => kernel.record(pass));
      row.readKernelGbps = gbpsOf(summarize(t.samples).median);
      row.fractionOfRead = row.gbps! / row.readKernelGbps;
      if (t.method !== row.timing) row.notes.push(`read kernel timed by ${t.method}`);
      phase(`read kernel timed: ${row.readKernelGbps.toFixed(1)} GB/s`);
    } finally {
      kernel.dispose();
    }
  } catch (e) {
    row.notes.push(`read kernel: ${errorText(e)}`);
  }

  // (4) TF.js on its own device.
  if (tfjs) {
    const r = await tfjs.run(data, at, want, { lr: ENDLESS.lr, reps: config.reps, warmup: WARMUP });
    row.tfjsMs = r.ms;
    row.tfjsRelError = r.rel;
    row.tfjsRatio = r.ms === null ? null : r.ms / row.msMedian!;
    if (r.note) row.notes.push(r.note);
    phase(`TF.js: ${r.ms === null ? 'no time' : `${r.ms.toFixed(3)} ms`}`);
  }

  // (5) CPU: the float64 twin and a plain JS read of the same arrays.
  const cpu = timeCpu(data, at, cpuReps(bytes));
  row.cpuMs = cpu.gradientMs;
  row.cpuRatio = cpu.gradientMs / row.msMedian!;
  row.cpuGbps = gbpsOf(cpu.gradientMs);
  row.jsLoopGbps = gbpsOf(cpu.loopMs);
  phase('CPU timed');
  return row;
}

export async function runLinearStepSuite(
  gpu: GpuContext, config: SuiteConfig, tfjs: TfjsRunner | null, log: (line: string) => void = () => {},
): Promise<SuiteResult> {
  const rows: BenchRow[] = [];
  const skipped: SkippedCase[] = [];
  for (const n of config.ns) {
    for (const d of config.ds) {
      const reason = skipReason(gpu, n, d);
      if (reason) {
        skipped.push({ suite: 'linear-step', n, d, reason });
        log(`linear-step N=${n} d=${d}: skipped (${reason})`);
        continue;
      }
      log(`linear-step N=${n} d=${d}${config.injectFault ? ' (fault injected)' : ''}`);
      rows.push(await benchCase(gpu, n, d, config, tfjs, log));
    }
  }
  return { adapter: gpu.summary, rows, skipped, mlp: [] };
}
