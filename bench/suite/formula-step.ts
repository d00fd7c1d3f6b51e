// Suite "formula" (issue #18 item 8): per (formula and loss, N), (∇J, J) at a point from the kernel the compiler
// picks (GpuFormulaEngine.lossAndGradient), from the call to the values on the host, against
//   - the yardstick: the best plain read kernel over the same bytes, N (W + 1) 4 (read-sweep.ts), its calls
//     in alternation with nabla's;
//   - jax-js: jit(valueAndGrad) of the same formula and loss in jax ops, the rows captured (jax-formula.ts);
//   - where the compiler specialises (linear(...) with mse: the quad kernel), its other choice, the generic
//     generated kernel (an engine built with specialize: false) over the same rows, the two timed in alternation.
// Every path is checked against the float64 twin over every row first (formulaReference: the generated row
// sums in float64 at the float32-rounded point); a path that disagrees is reported failed and not timed.
// Platform-agnostic: the same module runs in Deno.
import type { GpuContext } from '../../src/gpu/device.ts';
import { GpuFormulaEngine } from '../../src/gpu/formula/gpu-formula-engine.ts';
import { checkFormulaResult, formulaError, formulaReference, type FormulaReference } from '../../src/gpu/formula/formula-check.ts';
import type { FormulaModel } from '../../src/formula/model.ts';
import type { FormulaData } from '../../src/models/formula.ts';
import type { SuiteConfig } from '../args.ts';
import type { FormulaKernelCell, FormulaRow } from '../report.ts';
import { kernelCell } from '../format.ts';
import { FORMULA_CASES, setupFormulaCase, type BenchFormulaCase } from './formula-cases.ts';
import { faultyKernelOptions } from './faults.ts';
import { summarize, WARMUP_MS } from './gpu-timer.ts';
import type { FormulaPeer } from './jax-formula.ts';
import { errorText, wallSamples, warmCalls } from './peers.ts';
import { timeBesideRead } from './read-sweep.ts';

/** The gradient kernel an engine runs (the quad kernel where it picked it), its grid and where the grid came from. */
export function engineKernel(e: GpuFormulaEngine): FormulaKernelCell {
  const choice = e.kernelKind === 'linear-quad' && e.quadKernel ? e.quadKernel : e.kernel;
  return { kind: e.kernelKind, ...choice.config, source: choice.source };
}

export function emptyFormulaRow(c: BenchFormulaCase, n: number, reps: number): FormulaRow {
  const width = c.features.length;
  return {
    suite: 'formula', case: c.key, formula: c.formula, loss: c.loss, n, width, bytes: n * (width + 1) * 4,
    ms: null, msMin: null, msMax: null, gbps: null, repetitions: reps, validation: 'not run', relError: null, kernel: null,
    read: null, fractionOfRead: null, jaxMs: null, vsJax: null, jaxValidation: 'not run', jaxRelError: null,
    genericMs: null, pickPairedMs: null, pickVsGeneric: null, genericValidation: 'not run', genericKernel: null, notes: [],
  };
}

/** Rates and ratios once the times are in (a peer's ratio: its ms over nabla's, higher = nabla faster). */
export function finishFormulaRow(row: FormulaRow): FormulaRow {
  const ms = row.ms;
  row.gbps = ms === null ? null : row.bytes / (ms * 1e6);
  row.fractionOfRead = row.read && ms !== null ? row.read.ms / ms : null;
  row.vsJax = row.jaxMs === null || ms === null ? null : row.jaxMs / ms;
  row.pickVsGeneric = row.genericMs == null || row.pickPairedMs == null ? null : row.genericMs / row.pickPairedMs;
  return row;
}

/** The engine's (∇J, J) at `at` against the float64 twin over every row: 'passed' or 'failed: ...', and the error. */
async function checkEngine(e: GpuFormulaEngine, model: FormulaModel, at: Float64Array, ref: FormulaReference): Promise<{ verdict: string; rel: number }> {
  const got = await e.lossAndGradient(at);
  const flat = [...got.grad, got.loss];
  const wrong = checkFormulaResult(flat, ref, model.params);
  return { verdict: wrong === null ? 'passed' : `failed: ${wrong}`, rel: formulaError(flat, ref) };
}

/**
 * The compiler's other choice where it specialised: an engine of the generic generated kernel (specialize:
 * false) over the same rows, checked against the twin over every row, then timed in alternation with the
 * pick's call, one call each in turn after warm-up.
 */
async function genericBeside(
  gpu: GpuContext, row: FormulaRow, model: FormulaModel, data: FormulaData, start: Float64Array, at: Float64Array, ref: FormulaReference,
  pick: () => Promise<unknown>, reps: number,
): Promise<void> {
  let engine: GpuFormulaEngine | null = null;
  try {
    engine = await GpuFormulaEngine.create(gpu, model, data, start, { specialize: false });
    const e = engine;
    row.genericKernel = engineKernel(e);
    const check = await checkEngine(e, model, at, ref);
    row.genericValidation = check.verdict;
    if (check.verdict !== 'passed') return;
    const generic = () => e.lossAndGradient(at);
    await warmCalls(generic, 2, WARMUP_MS);
    await warmCalls(pick, 1, 0);
    const g: number[] = [];
    const p: number[] = [];
    for (let i = 0; i < reps; i++) {
      let t = performance.now();
      await pick();
      p.push(performance.now() - t);
      t = performance.now();
      await generic();
      g.push(performance.now() - t);
    }
    row.genericMs = summarize(g).median;
    row.pickPairedMs = summarize(p).median;
    const k = row.genericKernel;
    row.notes.push(`generic generated kernel ${kernelCell(k)}: ${row.genericMs.toFixed(3)} ms beside the `
      + `${row.kernel?.kind ?? 'picked'} kernel's ${row.pickPairedMs.toFixed(3)} ms (alternating, ${reps} calls each)`);
  } catch (e) {
    row.genericValidation = `failed: ${errorText(e)}`;
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
    engine = await GpuFormulaEngine.create(gpu, model, data, start, config.injectFault ? faultyKernelOptions(gpu, model) : {});
    row.kernel = engineKernel(engine);
  } catch (e) {
    row.validation = `failed: could not build the engine: ${errorText(e)}`;
  }
  let call: (() => Promise<unknown>) | undefined;
  if (engine) {
    const e = engine;
    try {
      const check = await checkEngine(e, model, at, ref);
      row.relError = check.rel;
      row.validation = check.verdict;
      phase(`nabla validation ${check.verdict === 'passed' ? 'passed' : 'FAILED'} (max |error| / mean |term| ${check.rel.toExponential(2)})`);
      if (check.verdict === 'passed') {
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
    // (4) Where the compiler specialised the model: its generic kernel beside its pick.
    if (call && engine && engine.kernelKind !== 'generated') {
      await genericBeside(gpu, row, model, data, start, at, ref, call, reps);
      phase(`generic generated kernel: ${row.genericMs == null ? row.genericValidation : `${row.genericMs.toFixed(3)} ms`}`);
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
