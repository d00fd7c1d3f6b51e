// Suite "formula" (issue #18 item 8): per (formula and loss, N), the generated kernel's (∇J, J) at a point
// (GpuFormulaEngine.lossAndGradient), from the call to the values on the host, against
//   - the yardstick: the best plain read kernel over the same bytes, N (W + 1) 4 (read-sweep.ts), its calls
//     in alternation with nabla's;
//   - jax-js: jit(valueAndGrad) of the same formula and loss in jax ops, the rows captured (jax-formula.ts);
//   - for linear(...) with mse: today's hand-written linear engine (GpuLinearEngine.gradient) over the same
//     rows, the two timed in alternation.
// Every path is checked against the float64 twin over every row first (formulaReference: the generated row
// sums in float64 at the float32-rounded point); a path that disagrees is reported failed and not timed.
// Platform-agnostic: the same module runs in Deno.
import type { GpuContext } from '../../src/gpu/device.ts';
import { GpuFormulaEngine, type GpuFormulaEngineOptions } from '../../src/gpu/formula/gpu-formula-engine.ts';
import { formulaPartialsWgsl } from '../../src/gpu/formula/formula-passes.ts';
import { checkFormulaResult, formulaError, formulaReference } from '../../src/gpu/formula/formula-check.ts';
import { GpuLinearEngine } from '../../src/gpu/gpu-linear-engine.ts';
import { gradientProgram } from '../../src/formula/program.ts';
import type { FormulaModel } from '../../src/formula/model.ts';
import { linearGradient } from '../../src/cpu/linear_partials.ts';
import type { SuiteConfig } from '../args.ts';
import type { FormulaRow } from '../report.ts';
import { checkGradient, GRADIENT_REL_TOL } from './data.ts';
import { FORMULA_CASES, setupFormulaCase, type BenchFormulaCase } from './formula-cases.ts';
import { summarize, WARMUP_MS } from './gpu-timer.ts';
import type { FormulaPeer } from './jax-formula.ts';
import { errorText, wallSamples, warmCalls } from './peers.ts';
import { timeBesideRead } from './read-sweep.ts';

/** The grid --inject-fault's kernel is generated for and run at (the engine is told exactly this grid). */
const FAULT_KERNEL = { workgroupSize: 64, groups: 4 };
/** The target load of the generated row body, `rows_y[row]`: found by pattern so the fault follows the kernel as it changes. */
const TARGET_LOAD = /\brows_y\[([^\]]+)\]/;

/** The fault: every row's target read as 2y, so every component of (∇J, J) is off by O(1). */
export function faultyFormulaWgsl(gpu: GpuContext, model: FormulaModel): string {
  const good = formulaPartialsWgsl(gradientProgram(model), FAULT_KERNEL.workgroupSize, gpu.device.limits.maxComputeWorkgroupStorageSize);
  const bad = good.replace(TARGET_LOAD, '(2.0 * rows_y[$1])');
  if (bad === good) throw new Error('--inject-fault: no target load (rows_y[...]) in the generated formula WGSL; update TARGET_LOAD');
  return bad;
}

export function emptyFormulaRow(c: BenchFormulaCase, n: number, reps: number): FormulaRow {
  const width = c.features.length;
  return {
    suite: 'formula', case: c.key, formula: c.formula, loss: c.loss, n, width, bytes: n * (width + 1) * 4,
    ms: null, msMin: null, msMax: null, gbps: null, repetitions: reps, validation: 'not run', relError: null, kernel: null,
    read: null, fractionOfRead: null, jaxMs: null, vsJax: null, jaxValidation: 'not run', jaxRelError: null,
    handMs: null, genPairedMs: null, vsHand: null, handValidation: 'not run', handKernel: null, notes: [],
  };
}

/** Rates and ratios once the times are in (a peer's ratio: its ms over nabla's, higher = nabla faster). */
export function finishFormulaRow(row: FormulaRow): FormulaRow {
  const ms = row.ms;
  row.gbps = ms === null ? null : row.bytes / (ms * 1e6);
  row.fractionOfRead = row.read && ms !== null ? row.read.ms / ms : null;
  row.vsJax = row.jaxMs === null || ms === null ? null : row.jaxMs / ms;
  row.vsHand = row.handMs === null || row.genPairedMs === null ? null : row.handMs / row.genPairedMs;
  return row;
}

/**
 * Today's hand-written linear engine over the same rows, checked against float64 (linearGradient), then timed
 * in alternation with the generated kernel's call, one call each in turn after warm-up.
 */
async function handWritten(gpu: GpuContext, row: FormulaRow, c: BenchFormulaCase, data: { x: Float32Array; y: Float32Array; n: number }, at: Float64Array,
  generated: () => Promise<unknown>, reps: number): Promise<void> {
  const d = c.features.length;
  const linear = { x: data.x, y: data.y, n: data.n, d };
  const point = { w: at.subarray(0, d), b: at[d] };
  let engine: GpuLinearEngine | null = null;
  try {
    engine = await GpuLinearEngine.create(gpu, linear);
    const e = engine;
    row.handKernel = `${e.kernel.config.variant ? `${e.kernel.config.variant} ` : ''}${e.kernel.config.numGroups}×${e.kernel.config.workgroupSize} (${e.kernel.source})`;
    const check = checkGradient(await e.gradient(point), linearGradient(linear, point), GRADIENT_REL_TOL);
    row.handValidation = check.verdict;
    if (!check.ok) return;
    const hand = () => e.gradient(point);
    await warmCalls(hand, 2, WARMUP_MS);
    await warmCalls(generated, 1, 0);
    const h: number[] = [];
    const g: number[] = [];
    for (let i = 0; i < reps; i++) {
      let t = performance.now();
      await generated();
      g.push(performance.now() - t);
      t = performance.now();
      await hand();
      h.push(performance.now() - t);
    }
    row.handMs = summarize(h).median;
    row.genPairedMs = summarize(g).median;
    row.notes.push(`hand-written GpuLinearEngine ${row.handKernel}: ${row.handMs.toFixed(3)} ms beside the generated kernel's ${row.genPairedMs.toFixed(3)} ms (alternating, ${reps} calls each)`);
  } catch (e) {
    row.handValidation = `failed: ${errorText(e)}`;
  } finally {
    engine?.dispose();
  }
}

export async function benchFormulaCase(
  gpu: GpuContext, c: BenchFormulaCase, n: number, config: SuiteConfig, jax: FormulaPeer | null, log: (line: string) => void,
): Promise<FormulaRow> {
  const row = emptyFormulaRow(c, n, config.reps);
  const t0 = performance.now();
  const phase = (what: string) => log(`  ${what} (${((performance.now() - t0) / 1e3).toFixed(1)} s)`);
  const reps = config.reps;
  const { model, start, at } = setupFormulaCase(c);
  const data = c.fill(n);
  // (1) The float64 twin over every row at the float32-rounded point.
  const ref = formulaReference(model, at, data, { start: 0, rows: n });
  phase('float64 reference');

  // (2) nabla: the engine checks its own kernel on the first rows at creation (a mismatch throws); the bench
  // checks the call it times over every row.
  let engine: GpuFormulaEngine | null = null;
  try {
    const options: GpuFormulaEngineOptions = config.injectFault ? { kernel: FAULT_KERNEL, code: faultyFormulaWgsl(gpu, model) } : {};
    engine = await GpuFormulaEngine.create(gpu, model, data, start, options);
    row.kernel = { ...engine.kernel.config, source: engine.kernel.source };
  } catch (e) {
    row.validation = `failed: could not build the engine: ${errorText(e)}`;
  }
  let call: (() => Promise<unknown>) | undefined;
  if (engine) {
    const e = engine;
    try {
      const got = await e.lossAndGradient(at);
      const flat = [...got.grad, got.loss];
      row.relError = formulaError(flat, ref);
      const wrong = checkFormulaResult(flat, ref, model.params);
      row.validation = wrong === null ? 'passed' : `failed: ${wrong}`;
      phase(`nabla validation ${wrong === null ? 'passed' : 'FAILED'} (max |error| / mean |term| ${row.relError.toExponential(2)})`);
      if (wrong === null) {
        call = () => e.lossAndGradient(at);
        await warmCalls(call, 2, WARMUP_MS);
      }
    } catch (err) {
      row.validation = `failed: ${errorText(err)}`;
    }
  }

  // (3) The yardstick over the same bytes, its finalists' calls alternating with nabla's (measured even when nabla failed).
  await timeBesideRead(gpu, [n * c.features.length * 4, n * 4], config.injectFault, reps, 1, call, row, log, phase);
  try {
    if (call && row.ms === null) {
      const samples = await wallSamples(call, { reps, budgetMs: null });
      const s = summarize(samples);
      Object.assign(row, { ms: s.median, msMin: s.min, msMax: s.max, repetitions: samples.length });
    }
    // (4) linear(...) with mse: the hand-written engine beside the generated kernel.
    if (call && c.handWritten) {
      await handWritten(gpu, row, c, data, at, call, reps);
      phase(`hand-written linear engine: ${row.handMs === null ? row.handValidation : `${row.handMs.toFixed(3)} ms`}`);
    }
  } catch (e) {
    row.validation = `failed: ${errorText(e)}`;
  } finally {
    engine?.dispose(); // before jax-js allocates its copy
  }
  if (row.validation !== 'passed') return finishFormulaRow(row);

  // (5) jax-js on its own device, checked against the same twin first.
  if (jax) {
    const r = await jax.gradient(c, model, data, at, ref, { reps, budgetMs: config.budgetMs });
    Object.assign(row, { jaxMs: r.ms, jaxValidation: r.validation, jaxRelError: r.rel });
    if (r.ms !== null && r.samples < reps) row.notes.push(`${jax.label}: ${r.samples} of ${reps} timed calls (time budget)`);
    if (r.validation !== 'passed') row.notes.push(`${jax.label}: ${r.validation}`);
    row.notes.push(...r.notes.map((t) => `${jax.label}: ${t}`));
    phase(`${jax.label}: ${r.ms === null ? r.validation : `${r.ms.toFixed(3)} ms`}`);
  }
  return finishFormulaRow(row);
}

/** Every case at every N of config.formulaNs; a case whose rows exceed one storage binding is skipped with its reason. */
export async function runFormulaSuite(gpu: GpuContext, config: SuiteConfig, jax: FormulaPeer | null, log: (line: string) => void = () => {}): Promise<FormulaRow[]> {
  const rows: FormulaRow[] = [];
  for (const n of config.formulaNs) {
    for (const c of FORMULA_CASES) {
      const xBytes = n * c.features.length * 4;
      if (xBytes > gpu.maxBindingBytes || xBytes > config.maxXBytes) {
        const row = emptyFormulaRow(c, n, config.reps);
        row.validation = `skipped: X takes ${xBytes} bytes, more than ${xBytes > gpu.maxBindingBytes ? `one storage binding (${gpu.maxBindingBytes})` : `the --max-x-gib cap`}`;
        log(`formula ${c.key} N=${n}: ${row.validation}`);
        rows.push(row);
        continue;
      }
      log(`formula ${c.key} N=${n}${config.injectFault ? ' (fault injected)' : ''}`);
      rows.push(await benchFormulaCase(gpu, c, n, config, jax, log));
    }
  }
  return rows;
}
