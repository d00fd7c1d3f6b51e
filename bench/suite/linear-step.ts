// Suite "linear": per (N, d), on one page, adapter and dataset, two operations on the linear model as the
// compiler runs it (GpuFormulaEngine over linearFormulaModel(d): `y ~ linear(x1..xd)` with mse; the engine
// picks its kernel, the quad kernel for d <= QUAD_MAX_FEATURES, and row.kernel says which ran):
//   gradient: ∇J and J of the MSE at a point (lossAndGradient), from the call to the values on the host;
//   gd100:    a 100-step full-batch gradient-descent run, from the call to the final parameters on the host,
//             each library chaining its steps its own way (nabla: train() with plain sgd; jax-js: a jitted
//             step; TF.js: sgd.applyGradients).
// Each path is validated against float64 first (a failure is reported and not timed), then timed by the
// wall clock, median of `reps` after warm-up: nabla and the best read kernel over the same bytes (the
// yardstick, read-sweep.ts) in alternation, then the peers (TF.js, jax-js, when given), the CPU paths.
// Platform-agnostic: the same module runs in Deno.
import type { GpuContext } from '../../src/gpu/device.ts';
import { GpuFormulaEngine } from '../../src/gpu/formula/gpu-formula-engine.ts';
import { formulaXBytes } from '../../src/gpu/formula/formula-stream.ts';
import { linearGradient } from '../../src/cpu/linear_partials.ts';
import { CpuFormulaEngine } from '../../src/cpu/formula-engine.ts';
import type { FormulaEngine } from '../../src/models/formula.ts';
import type { LinearData, LinearParams } from '../../src/models/linear.ts';
import {
  linearFormulaModel, linearGradient as asLinearGradient, linearTheta, linearTrainOptions, linearTrainResult,
} from '../../src/models/linear-formula.ts';
import type { ModelTrainOptions } from '../../src/models/model-engine.ts';
import type { SuiteConfig } from '../args.ts';
import type { BenchRow, LinearOp, SkippedCase, SuiteResult } from '../report.ts';
import {
  checkGradient, checkParams, evaluationPoint, GD_LR, GD_REL_TOL, GD_STEPS, gdReference, GRADIENT_REL_TOL, makeBenchData,
} from './data.ts';
import { engineKernel } from './formula-step.ts';
import { faultyKernelOptions } from './faults.ts';
import { summarize, WARMUP_MS } from './gpu-timer.ts';
import { timeBesideRead } from './read-sweep.ts';
import { cpuReps, timeCpu } from './cpu-ref.ts';
import { errorText, wallSamples, warmCalls, type LinearPeer } from './peers.ts';

/**
 * Why the GPU-clock column stays empty: gpu-timer.ts times passes a caller records, and GpuFormulaEngine
 * records its gradient and update passes only inside lossAndGradient() and train().
 */
export const GPU_TIMING_UNAVAILABLE = 'not measured: GpuFormulaEngine records its passes only inside its own calls, so gpu-timer.ts has no pass to time';

/**
 * Why a case is not run: X above the config's cap (the page or Deno would hold it several times over: the
 * Float32Array, the GPU buffer, the read kernel's copy, TF.js's copy; skip rather than swap). Above one
 * storage binding the engine streams X in chunks (GpuFormulaEngine.create), so only host memory caps a case.
 */
export function skipReason(n: number, d: number, maxXBytes: number): string | null {
  const xBytes = formulaXBytes(n, d);
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
  if (xBytes > maxXBytes) return `X takes ${gib(xBytes)}, more than the harness's ${gib(maxXBytes)} cap (host memory; --max-x-gib)`;
  return null;
}

/**
 * gd100's run on the one loop, as the float64 reference takes it (gdReference): plain sgd at GD_LR for
 * GD_STEPS full-batch steps from `at`, never stopping early (tol 0: |grad| <= 0 does not hold; a loss would
 * have to grow 1e30-fold to count as divergence), all steps chained before the one read-back.
 */
export function gdOptions(data: LinearData, at: LinearParams): ModelTrainOptions {
  return linearTrainOptions({ lr: GD_LR, maxEpochs: GD_STEPS, tol: 0, explodeFactor: 1e30, init: at, reportEvery: GD_STEPS }, data.n);
}

/** The engine's gradient at `at`, or its gd100 run's final parameters, as the linear model reports them. */
function linearCalls(engine: FormulaEngine, data: LinearData, at: LinearParams) {
  const theta = linearTheta(at);
  return {
    gradient: async () => asLinearGradient(await engine.lossAndGradient(theta)),
    gd: async (): Promise<LinearParams> => linearTrainResult(await engine.train(gdOptions(data, at))),
  };
}

export function emptyRow(op: LinearOp, n: number, d: number, reps: number): BenchRow {
  return {
    suite: 'linear', op, n, d, steps: op === 'gd100' ? GD_STEPS : 1, bytes: (n * d + n) * 4,
    ms: null, msMin: null, msMax: null, gbps: null, samplesPerSec: null, repetitions: reps, validation: 'not run', relError: null,
    gpuMs: null, gpuTiming: null, kernel: null, read: null, fractionOfRead: null,
    jaxMs: null, vsJax: null, jaxValidation: 'not run', jaxRelError: null,
    tfjsMs: null, vsTfjs: null, tfjsValidation: 'not run', tfjsRelError: null,
    cpuMs: null, vsCpu: null, cpuGbps: null, jsLoopGbps: null, notes: [],
  };
}

/** Ratios and rates once the times are in (the peers' ratios: their ms over nabla's, higher = nabla faster). */
export function finishRow(row: BenchRow): BenchRow {
  const ms = row.ms;
  const work = row.steps * row.bytes;
  row.gbps = ms === null ? null : work / (ms * 1e6);
  row.samplesPerSec = ms === null ? null : (row.steps * row.n) / (ms / 1e3);
  const over = (other: number | null) => (other === null || ms === null ? null : other / ms);
  row.fractionOfRead = row.read ? over(row.read.ms) : null;
  row.vsJax = over(row.jaxMs);
  row.vsTfjs = over(row.tfjsMs);
  row.vsCpu = over(row.cpuMs);
  row.cpuGbps = row.cpuMs === null ? null : work / (row.cpuMs * 1e6);
  return row;
}

export interface LinearPeers {
  tfjs: LinearPeer | null;
  jax: LinearPeer | null;
}

export async function benchCase(
  gpu: GpuContext, op: LinearOp, n: number, d: number, config: SuiteConfig, peers: LinearPeers, log: (line: string) => void,
): Promise<BenchRow> {
  const row = emptyRow(op, n, d, config.reps);
  const t0 = performance.now();
  const phase = (what: string) => log(`  ${what} (${((performance.now() - t0) / 1e3).toFixed(1)} s)`);
  const data = makeBenchData(n, d);
  const at = evaluationPoint(d);
  const reps = config.reps;
  const sampling = { reps, budgetMs: config.budgetMs };
  const sampled = (who: string, count: number) => {
    if (count < reps) row.notes.push(`${who}: ${count} of ${reps} timed calls (time budget of ${(config.budgetMs! / 1e3).toFixed(0)} s per path and row)`);
  };
  // (1) The float64 references: the gradient at `at`, or the 100-step run from it.
  const want = linearGradient(data, at);
  const wantFinal = op === 'gd100' ? gdReference(data, at, GD_STEPS, GD_LR, (p) => linearGradient(data, p)) : null;
  phase('float64 reference');

  // (2) nabla: validate; then (3) the yardstick, the best read kernel over the same bytes (`steps` chained
  // reads per call, like the op's evaluations), swept for this adapter; its finalists are timed on the wall
  // clock in alternation with nabla's call, so the two share the machine's state (read-sweep.ts). The read is
  // measured even when nabla failed. The engine checks its kernels against the float64 twin when it is
  // built, so --inject-fault's kernel fails there.
  const model = linearFormulaModel(d);
  let engine: GpuFormulaEngine | null = null;
  let kind = '';
  try {
    const options = { maxReportEvery: GD_STEPS, ...(config.injectFault ? faultyKernelOptions(gpu, model) : {}) };
    engine = await GpuFormulaEngine.create(gpu, model, data, linearTheta(at), options);
    row.kernel = engineKernel(engine);
    kind = `${engine.kernelKind} kernel `;
  } catch (e) {
    row.validation = `failed: could not build the engine: ${errorText(e)}`;
  }
  let call: (() => Promise<unknown>) | undefined;
  if (engine) {
    const nabla = linearCalls(engine, data, at);
    try {
      const check = wantFinal ? checkParams(await nabla.gd(), wantFinal, GD_REL_TOL) : checkGradient(await nabla.gradient(), want, GRADIENT_REL_TOL);
      row.validation = check.verdict;
      row.relError = check.rel;
      phase(`nabla ${kind}validation ${check.verdict} (relative error ${check.rel.toExponential(2)})`);
      if (check.ok) {
        call = wantFinal ? nabla.gd : nabla.gradient;
        await warmCalls(call, wantFinal ? 1 : 2, wantFinal ? 0 : WARMUP_MS);
      }
    } catch (e) {
      row.validation = `failed: ${errorText(e)}`;
    }
  }
  await timeBesideRead(gpu, [n * d * 4, n * 4], config.injectFault, reps, row.steps, call, row, log, phase);
  if (engine) {
    try {
      if (call && row.ms === null) {
        // The read sweep failed: nabla on its own.
        const samples = await wallSamples(call, sampling);
        const s = summarize(samples);
        Object.assign(row, { ms: s.median, msMin: s.min, msMax: s.max, repetitions: samples.length });
        sampled('nabla', samples.length);
      }
      if (call && !wantFinal) row.gpuTiming = GPU_TIMING_UNAVAILABLE;
    } catch (e) {
      row.validation = `failed: ${errorText(e)}`;
    } finally {
      engine.dispose(); // before the peers allocate their copies
    }
  }

  // A row nabla failed stays untimed: the peers and the CPU would only be ratios to nothing.
  if (row.validation !== 'passed') return finishRow(row);

  // (4) The peers, each on its own device, each checked against float64 first.
  for (const key of ['jax', 'tfjs'] as const) {
    const peer = peers[key];
    if (!peer) continue;
    const r = op === 'gd100'
      ? await peer.gd(data, at, wantFinal!, { steps: GD_STEPS, lr: GD_LR, ...sampling })
      : await peer.gradient(data, at, want, sampling);
    if (r.ms !== null) sampled(peer.label, r.samples);
    if (key === 'jax') Object.assign(row, { jaxMs: r.ms, jaxValidation: r.validation, jaxRelError: r.rel });
    else Object.assign(row, { tfjsMs: r.ms, tfjsValidation: r.validation, tfjsRelError: r.rel });
    if (r.validation !== 'passed') row.notes.push(`${peer.label}: ${r.validation}`);
    row.notes.push(...r.notes.map((t) => `${peer.label}: ${t}`));
    phase(`${peer.label}: ${r.ms === null ? r.validation : `${r.ms.toFixed(3)} ms`}`);
  }

  // (5) CPU: nabla's float64 twin over the same model (its gradient, or its 100-step train()), and a plain JS
  // read of the arrays.
  const twin = linearCalls(new CpuFormulaEngine(model, data, linearTheta(at)), data, at);
  const cpu = await timeCpu(data, op === 'gradient' ? async () => (await twin.gradient()).loss : null, cpuReps(row.bytes));
  row.jsLoopGbps = row.bytes / (cpu.loopMs * 1e6);
  if (op === 'gradient') {
    row.cpuMs = cpu.gradientMs;
  } else {
    row.cpuMs = summarize(await wallSamples(twin.gd, { reps: row.bytes * GD_STEPS >= 2 ** 28 ? 3 : 5, budgetMs: null })).median;
  }
  phase('CPU timed');
  return finishRow(row);
}

export async function runLinearSuite(
  gpu: GpuContext, config: SuiteConfig, peers: LinearPeers, log: (line: string) => void = () => {},
): Promise<SuiteResult> {
  const rows: BenchRow[] = [];
  const skipped: SkippedCase[] = [];
  const cases: [LinearOp, number[]][] = [['gradient', config.ns], ['gd100', config.gdNs]];
  for (const [op, ns] of cases) {
    for (const n of ns) {
      for (const d of config.ds) {
        const reason = skipReason(n, d, config.maxXBytes);
        if (reason) {
          skipped.push({ suite: 'linear', op, n, d, reason });
          log(`linear ${op} N=${n} d=${d}: skipped (${reason})`);
          continue;
        }
        log(`linear ${op} N=${n} d=${d}${config.injectFault ? ' (fault injected)' : ''}`);
        rows.push(await benchCase(gpu, op, n, d, config, peers, log));
      }
    }
  }
  return { adapter: gpu.summary, rows, skipped, mlp: [] };
}
