// The bench's pure parts added for issue 11 and jax-js's runner on its Wasm (CPU) backend, which Node can
// run: the read sweep's configuration space and tolerance, the peers' validation (a wrong reference is
// reported as a failure and nothing is timed), the report's provenance helpers and the table printer.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jaxLinearPeer } from '../../bench/suite/jax-linear.ts';
import { jaxMlpPeer } from '../../bench/suite/jax-mlp.ts';
import { checkParams, evaluationPoint, GD_LR, gdReference, makeBenchData } from '../../bench/suite/data.ts';
import {
  configKey, geometricGroups, maxGroupsFor, readVariantDefines, refineStages, sumTolerance, workgroupSizes,
} from '../../bench/suite/read-plan.ts';
import { benchMlpModel, dataRows, initialTheta, makeMlpData, MLP_LR, MLP_SEED } from '../../bench/suite/mlp-data.ts';
import { emptyRow, finishRow, GPU_TIMING_UNAVAILABLE, skipReason } from '../../bench/suite/linear-step.ts';
import { FAULT_KERNEL, faultyKernelOptions } from '../../bench/suite/faults.ts';
import { linearQuadWgsl } from '../../src/gpu/formula/linear-quad-pass.ts';
import { linearShape } from '../../src/formula/shapes.ts';
import { linearFormulaModel } from '../../src/models/linear-formula.ts';
import type { GpuContext } from '../../src/gpu/device.ts';
import { MIN_SAMPLES, wallSamples } from '../../bench/suite/peers.ts';
import { DEFAULT_MAX_X_GIB, parseBenchArgs, QUICK_BUDGET_MS } from '../../bench/args.ts';
import { commandLine } from '../../bench/run.ts';
import { exitCodeOf, formatFormulaTable, formatTable, makeReport } from '../../bench/report.ts';
import { FORMULA_CASES, formulaCase, setupFormulaCase } from '../../bench/suite/formula-cases.ts';
import { jaxFormulaPeer } from '../../bench/suite/jax-formula.ts';
import { emptyFormulaRow, finishFormulaRow } from '../../bench/suite/formula-step.ts';
import { formulaReference } from '../../src/gpu/formula/formula-check.ts';
import { validateFormulaData } from '../../src/models/formula.ts';
import { parseReport, tableOf } from '../../bench/table.ts';
import { linearGradient } from '../../src/cpu/linear_partials.ts';
import { modelLossAndGradient } from '../../src/cpu/mlp_gradient.ts';
import { CpuModelEngine } from '../../src/cpu/cpu-model-engine.ts';
import { optimizerConfig } from '../../src/optim/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'nabla-bench-peers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('read sweep plan', () => {
  it('variants by wgsl-preprocessor flags; workgroup sizes within the device limit; grids capped by the work', () => {
    expect(readVariantDefines(1, 1, false)).toEqual({ VTYPE: 'f32', SCALAR: true, UNROLL2: false, UNROLL4: false, FAULT: false });
    expect(readVariantDefines(4, 4, true)).toEqual({ VTYPE: 'vec4<f32>', SCALAR: false, UNROLL2: true, UNROLL4: true, FAULT: true });
    expect(workgroupSizes(256)).toEqual([64, 128, 256]);
    expect(workgroupSizes(128)).toEqual([64, 128]);
    expect(maxGroupsFor(2 ** 20, { wg: 64, vec: 4, unroll: 4 })).toBe(1024);
    expect(maxGroupsFor(2 ** 30, { wg: 64, vec: 1, unroll: 1 })).toBe(8192);
    expect(maxGroupsFor(100, { wg: 256, vec: 4, unroll: 4 })).toBe(1);
    expect(geometricGroups(1)).toEqual([1]);
    expect(geometricGroups(24)).toEqual([1, 2, 4, 8, 16, 24]);
    expect(configKey({ groups: 8, wg: 64, vec: 4, unroll: 2 })).toBe('8x64 vec4 unroll2');
  });

  it('tolerance: the positive-sum rounding bound, larger for longer serial chains, far below a missed share', () => {
    const few = sumTolerance(2 ** 24, { groups: 2, wg: 64, vec: 4, unroll: 4 });
    const many = sumTolerance(2 ** 24, { groups: 1024, wg: 256, vec: 4, unroll: 4 });
    expect(few).toBeGreaterThan(many);
    // 2^24 floats over 128 threads x 16 lanes: 8193 serial adds + 2 + 2 + 6 + 1, twice, in units of 2^-24.
    expect(few).toBeCloseTo(2 * (8193 + 2 + 2 + 6 + 1) * 2 ** -24, 15);
    expect(few).toBeLessThan(0.002); // a kernel that skips 1/4 (the injected fault reads a vector twice) is far outside
  });

  it('refinement stages stay within the space and the device', () => {
    const stages = refineStages({ groups: 8, wg: 64, vec: 4, unroll: 4 }, 2 ** 20, 128);
    for (const c of stages.flat()) {
      expect([64, 128]).toContain(c.wg);
      expect(c.groups).toBeGreaterThanOrEqual(1);
      expect(c.groups).toBeLessThanOrEqual(maxGroupsFor(2 ** 20, c));
    }
    expect(stages[1].map((c) => c.vec)).toEqual([1, 2, 4]);
    expect(stages[2].map((c) => c.unroll)).toEqual([1, 2, 4]);
    expect(stages[3].map((c) => c.groups).sort((a, b) => a - b)).toEqual([4, 6, 11, 16]);
  });
});

describe('jax-js peer on its wasm backend (validated against float64, then timed)', () => {
  const data = makeBenchData(4096, 3);
  const at = evaluationPoint(3);
  const want = linearGradient(data, at);
  const peer = jaxLinearPeer('wasm');

  it('gradient: passes within its tolerance and is timed; a wrong reference is reported and not timed', async () => {
    const good = await peer.gradient(data, at, want, { reps: 3, budgetMs: null });
    expect(good.validation, good.notes.join('; ')).toBe('passed');
    expect(good.rel!).toBeLessThan(1e-4);
    expect(good.ms!).toBeGreaterThan(0);
    const bad = await peer.gradient(data, at, { ...want, gradB: want.gradB + 0.5 }, { reps: 3, budgetMs: null });
    expect(bad.validation).toMatch(/^failed: relative error .* > 0\.0001 \(db got/);
    expect([bad.ms, bad.msMin, bad.msMax]).toEqual([null, null, null]);
  }, 60_000);

  it('gd: 100 jitted steps end at the float64 run\'s parameters; a wrong target is reported and not timed', async () => {
    const final = gdReference(data, at, 100, GD_LR, (p) => linearGradient(data, p));
    expect(checkParams(final, at, 1e-4).ok).toBe(false); // the run moves the parameters
    const good = await peer.gd(data, at, final, { steps: 100, lr: GD_LR, reps: 2, budgetMs: null });
    expect(good.validation).toBe('passed');
    expect(good.ms!).toBeGreaterThan(0);
    const bad = await peer.gd(data, at, { ...final, b: final.b + 0.1 }, { steps: 100, lr: GD_LR, reps: 2, budgetMs: null });
    expect(bad.validation).toMatch(/^failed: final parameters off by/);
    expect(bad.ms).toBeNull();
  }, 60_000);

  it('MLP with Adam: same start and batches as the float64 CPU engine, same loss; a wrong reference fails', async () => {
    const config = benchMlpModel();
    const mlp = makeMlpData(256);
    const theta0 = initialTheta(config);
    const optimizer = optimizerConfig({ kind: 'adam' });
    const wantMlp = modelLossAndGradient(config, theta0, dataRows(mlp, 0, 128));
    const task = { config, data: mlp, batch: 128, epochs: 1, theta0, seed: MLP_SEED, lr: MLP_LR, optimizer, want: wantMlp };
    const r = await jaxMlpPeer('wasm').run(task);
    expect(r.validation, r.notes.join('; ')).toBe('passed');
    expect(r.rel!).toBeLessThan(1e-4);
    expect(r.epochMs!).toBeGreaterThan(0);
    let cpuLoss = NaN;
    const cpu = new CpuModelEngine(config, mlp);
    await cpu.train({ lr: MLP_LR, maxEpochs: 2, optimizer, init: theta0, seed: MLP_SEED, batchSize: 128, onEpoch: ({ loss }) => { cpuLoss = loss; } });
    // Two epochs of four Adam updates from the same start in the same order: float32 vs float64 rounding only.
    expect(Math.abs(r.lastLoss! - cpuLoss)).toBeLessThan(1e-4 * cpuLoss);
    const bad = await jaxMlpPeer('wasm').run({ ...task, want: { ...wantMlp, loss: wantMlp.loss * 1.1 } });
    expect(bad.validation).toMatch(/^failed: relative error/);
    expect([bad.epochMs, bad.lastLoss]).toEqual([null, null]);
  }, 120_000);
});

describe('formula suite: cases, and jax-js on its wasm backend against the float64 twin', () => {
  it('each case compiles to the layout its rows are generated in, at a point away from the optimum', () => {
    expect(FORMULA_CASES.map((c) => [c.key, c.formula, c.loss])).toEqual([
      ['exp-decay', 'y ~ b1*(1-exp(-b2*x))', 'mse'],
      ['linear16-huber', `y ~ linear(${Array.from({ length: 16 }, (_, k) => `x${k + 1}`).join(', ')})`, 'huber:1.0'],
      ['poisson16', `y ~ exp(linear(${Array.from({ length: 16 }, (_, k) => `x${k + 1}`).join(', ')}))`, 'poisson'],
      ['linear16-mse', `y ~ linear(${Array.from({ length: 16 }, (_, k) => `x${k + 1}`).join(', ')})`, 'mse'],
    ]);
    for (const c of FORMULA_CASES) {
      const { model, at } = setupFormulaCase(c);
      const data = c.fill(1000);
      expect(() => validateFormulaData(model, data)).not.toThrow(); // Poisson counts >= 0, widths
      const ref = formulaReference(model, at, data, { start: 0, rows: data.n });
      const P = model.params.length;
      const norm = Math.hypot(...ref.mean.subarray(0, P));
      expect(norm, c.key).toBeGreaterThan(0.01); // not at the optimum: a relative check means something
    }
    // Huber's two regimes are both populated at the evaluation point (rows within δ = 1 and beyond it).
    const c = formulaCase('linear16-huber');
    const { at } = setupFormulaCase(c);
    const data = c.fill(4000);
    let beyond = 0;
    for (let i = 0; i < data.n; i++) {
      let r = at[16] - data.y[i];
      for (let j = 0; j < 16; j++) r += at[j] * data.x[i * 16 + j];
      if (Math.abs(r) > 1) beyond++;
    }
    expect(beyond / data.n).toBeGreaterThan(0.1);
    expect(beyond / data.n).toBeLessThan(0.9);
  });

  it('jit(valueAndGrad) of each formula and loss in jax ops agrees with the twin and is timed; a wrong reference fails untimed', async () => {
    const peer = jaxFormulaPeer('wasm');
    for (const c of FORMULA_CASES) {
      const { model, at } = setupFormulaCase(c);
      const data = c.fill(2048);
      const ref = formulaReference(model, at, data, { start: 0, rows: data.n });
      const good = await peer.gradient(c, model, data, at, ref, { reps: 2, budgetMs: null });
      expect(good.validation, `${c.key}: ${good.notes.join('; ')}`).toBe('passed');
      expect(good.rel!, c.key).toBeLessThan(1e-5);
      expect(good.ms!).toBeGreaterThan(0);
      const wrongMean = Float64Array.from(ref.mean);
      wrongMean[0] += 10 * 1e-4 * ref.magnitude[0];
      const bad = await peer.gradient(c, model, data, at, { ...ref, mean: wrongMean }, { reps: 2, budgetMs: null });
      expect(bad.validation, c.key).toMatch(new RegExp(`^failed: 1 of ${model.params.length + 1} components off .*d/d${model.params[0]}`));
      expect([bad.ms, bad.msMin, bad.msMax]).toEqual([null, null, null]);
    }
  }, 120_000);

  it('rows: ratios on one clock, targets met or not, exit code 1 for a failed formula row and 0 for a skipped one', () => {
    const c = formulaCase('linear16-mse');
    const read = { ms: 9, passes: 1, msMin: 8, msMax: 10, gbps: 0, config: { groups: 2, wg: 64, vec: 4 as const, unroll: 4 as const }, gpuMs: null, sweepTiming: 'wall-clock' as const, candidates: 9, rejected: 0, rejections: [], sweepSeconds: 1 };
    const row = finishFormulaRow({
      ...emptyFormulaRow(c, 2 ** 20, 10), ms: 10, msMin: 9, msMax: 12, validation: 'passed', jaxMs: 60, jaxValidation: 'passed', read,
      genericMs: 12, pickPairedMs: 10, genericValidation: 'passed', kernel: { kind: 'linear-quad', workgroupSize: 64, groups: 8, source: 'tuned' },
      genericKernel: { kind: 'generated', workgroupSize: 64, groups: 4, source: 'tuned' },
    });
    expect(row.bytes).toBe(2 ** 20 * 17 * 4);
    expect(row.gbps).toBeCloseTo(row.bytes / (10 * 1e6), 12);
    expect([row.fractionOfRead, row.vsJax, row.pickVsGeneric]).toEqual([0.9, 6, 1.2]);
    const text = formatFormulaTable([row]);
    expect(text).toContain('| generic kernel ms | pick vs generic |');
    expect(text).toMatch(/\| linear16-mse \| `y ~ linear\(x1\.\.x16\)` \| mse \| 2\^20 \| 16 \| 10\.000 \(9\.000–12\.000\) \| [\d.]+ \| linear-quad 8×64 \(tuned\) \| .* \| 12\.000 \| 1\.20× \| passed \|/);
    expect(text).toContain('- linear16-mse N = 2^20: vs jax-js met, vs read met\n');
    expect(text).not.toContain('hand-written');
    const skipped = { ...emptyFormulaRow(c, 2 ** 30, 10), validation: 'skipped: X takes too much' };
    expect(exitCodeOf({ rows: [], mlp: [], formula: [row, skipped] })).toBe(0);
    expect(exitCodeOf({ rows: [], mlp: [], formula: [{ ...row, validation: 'failed: could not build the engine' }] })).toBe(1);
    expect(exitCodeOf({ rows: [], mlp: [], formula: [{ ...row, jaxValidation: 'failed: 1 of 17 components off' }] })).toBe(1);
    expect(exitCodeOf({ rows: [], mlp: [], formula: [{ ...row, genericValidation: 'failed: 1 of 17 components off' }] })).toBe(1);
  });

  it('a result file written beside the hand-written linear engine still prints its columns and target', () => {
    // The row as the committed files hold it (2026-12-07T01-24-38-172Z-google-swiftshader.json): no kernel
    // kind, the hand-written columns on every row, none of the generic-kernel ones.
    const c = formulaCase('linear16-mse');
    const { genericMs, pickPairedMs, pickVsGeneric, genericValidation, genericKernel, ...old } = emptyFormulaRow(c, 2 ** 20, 10);
    expect([genericMs, pickPairedMs, pickVsGeneric, genericValidation, genericKernel]).toEqual([null, null, null, 'not run', null]);
    const row = {
      ...old, ms: 41.6, msMin: 40, msMax: 43, validation: 'passed', kernel: { workgroupSize: 64, groups: 1, source: 'tuned' },
      handMs: 41.2, genPairedMs: 49, vsHand: 41.2 / 49, handValidation: 'passed', handKernel: 'quad 1×64 (tuned)',
    };
    const text = formatFormulaTable([row]);
    expect(text).toContain('| hand-written ms | vs hand-written |');
    expect(text).toMatch(/\| 1×64 \(tuned\) \| .* \| 41\.200 \| 0\.84× \| passed \|/);
    expect(text).toContain('- linear16-mse N = 2^20: vs jax-js —, vs read —, vs hand-written NOT met');
    expect(exitCodeOf({ rows: [], mlp: [], formula: [{ ...row, handValidation: 'failed: relative error' }] })).toBe(1);
  });

  it('--formula-only, --no-formula, --formula-n; --quick runs 2^20, the full grid 2^20 and 2^22', () => {
    expect(parseBenchArgs([])).toMatchObject({ formula: true, formulaNs: [2 ** 20, 2 ** 22], linear: true });
    expect(parseBenchArgs(['--quick'])).toMatchObject({ formula: true, formulaNs: [2 ** 20] });
    expect(parseBenchArgs(['--quick', '--formula-only', '--formula-n', '2^20,2^22'])).toMatchObject({ formula: true, formulaNs: [2 ** 20, 2 ** 22], linear: false, mlp: null });
    expect(parseBenchArgs(['--no-formula'])).toMatchObject({ formula: false, formulaNs: [] });
    expect(parseBenchArgs(['--inject-fault']).formulaNs).toEqual([2 ** 14]);
    expect(() => parseBenchArgs(['--formula-only', '--no-formula'])).toThrow(/nothing left to run/);
    expect(() => parseBenchArgs(['--no-formula', '--formula-n', '4096'])).toThrow(/--formula-n given with --no-formula/);
    expect(() => parseBenchArgs(['--no-linear', '--no-mlp', '--no-formula'])).toThrow(/nothing left to run/);
  });
});

describe('--inject-fault kernels', () => {
  // Only the generated kernel's WGSL reads the device (its workgroup storage limit); the quad kernel's does not.
  const gpu = { device: { limits: { maxComputeWorkgroupStorageSize: 16384 } } } as unknown as GpuContext;

  it('the kernel the compiler picks gets the wrong residual: the quad kernel for a linear shape it takes, else the generated one', () => {
    const linear = linearFormulaModel(3);
    const quad = faultyKernelOptions(gpu, linear);
    expect(Object.keys(quad).sort()).toEqual(['quadCode', 'quadKernel']);
    expect(quad.quadKernel).toEqual(FAULT_KERNEL);
    const good = linearQuadWgsl(linearShape(linear)!);
    expect(good).toContain('var r = p - y4[q];');
    expect(quad.quadCode).toBe(good.replace('var r = p - y4[q];', 'var r = p - 2.0 * y4[q];'));
    // 65 columns: past the quad kernel's straight-line limit, the generated kernel runs and is the one faulted.
    const wide = faultyKernelOptions(gpu, linearFormulaModel(65));
    expect(Object.keys(wide).sort()).toEqual(['code', 'kernel']);
    expect(wide.code).toContain('let y_ = 2.0 * (rows_y[row]);');
    // One column: rows read a quad at a time; every lane's target is doubled, and the leftover rows'.
    const curve = faultyKernelOptions(gpu, setupFormulaCase(formulaCase('exp-decay')).model);
    expect(Object.keys(curve).sort()).toEqual(['code', 'kernel']);
    for (const lane of ['x', 'y', 'z', 'w']) expect(curve.code).toContain(`let y_ = 2.0 * (nabla_y.${lane});`);
    expect(curve.code).toContain('let y_ = 2.0 * (rows_y4[row >> 2u][row & 3u]);');
    expect(curve.code).not.toMatch(/let y_ = (?!2\.0)/);
  });
});

describe('timed calls', () => {
  it('reps calls, or at least MIN_SAMPLES within a time budget; --quick sets one, --budget 0 removes it', async () => {
    const slow = () => new Promise((r) => setTimeout(r, 4));
    expect(await wallSamples(slow, { reps: 5 })).toHaveLength(5);
    expect(await wallSamples(slow, { reps: 10, budgetMs: 1 })).toHaveLength(MIN_SAMPLES);
    expect(await wallSamples(slow, { reps: 2, budgetMs: 1 })).toHaveLength(2);
    expect(parseBenchArgs(['--quick']).budgetMs).toBe(QUICK_BUDGET_MS);
    expect(parseBenchArgs([]).budgetMs).toBeNull();
    expect(parseBenchArgs(['--quick', '--budget', '0']).budgetMs).toBeNull();
    expect(parseBenchArgs(['--budget', '2.5']).budgetMs).toBe(2500);
    expect(() => parseBenchArgs(['--budget', '-1'])).toThrow(/--budget: expected seconds/);
  });

  it('--max-x-gib caps the linear rows by the bytes of X (a GPU server with more memory raises it)', () => {
    expect(parseBenchArgs([]).maxXBytes).toBe(DEFAULT_MAX_X_GIB * 2 ** 30);
    expect(parseBenchArgs(['--max-x-gib', '12']).maxXBytes).toBe(12 * 2 ** 30);
    for (const bad of ['0', '-2', 'lots']) expect(() => parseBenchArgs(['--max-x-gib', bad]), bad).toThrow(/--max-x-gib: expected GiB/);
    // 2^26 x 16 features: 4 GiB of X.
    expect(skipReason(2 ** 26, 16, DEFAULT_MAX_X_GIB * 2 ** 30)).toMatch(/X takes 4\.00 GiB, more than the harness's 1\.50 GiB cap .*--max-x-gib/);
    expect(skipReason(2 ** 26, 16, 8 * 2 ** 30)).toBeNull();
  });
});

describe('report provenance and the table printer', () => {
  const adapter = { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader Device', isFallback: true, name: 'google swiftshader' };
  const config = {
    ns: [16], gdNs: [], ds: [1], reps: 10, budgetMs: null, injectFault: false, tfjs: true, jax: true, linear: true, mlp: null, maxXBytes: 2 ** 30,
    formula: false, formulaNs: [], quick: false,
  };
  const provenance = { commit: 'a'.repeat(40), dirty: false, command: 'npm run bench -- --n 16', date: '2026-11-30T00:00:00.000Z', browser: 'chromium 156', host: 'node 20' };

  it('ratios on one clock; exit code 1 for a failed path, 0 for a skipped one', () => {
    const row = finishRow({
      ...emptyRow('gd100', 1024, 1, 10), ms: 50, validation: 'passed', jaxMs: 100, jaxValidation: 'passed', tfjsValidation: 'skipped: too tall',
      read: { ms: 25, passes: 100, msMin: 0.2, msMax: 0.3, gbps: 0, config: { groups: 2, wg: 64, vec: 4, unroll: 4 }, gpuMs: null, sweepTiming: 'wall-clock', candidates: 9, rejected: 0, rejections: [], sweepSeconds: 1 },
    });
    expect(row.fractionOfRead).toBeCloseTo(25 / 50, 12);
    expect(row.vsJax).toBe(2);
    expect(row.gbps).toBeCloseTo((100 * 8192) / (50 * 1e6), 12);
    expect(exitCodeOf({ rows: [row], mlp: [] })).toBe(0);
    expect(exitCodeOf({ rows: [{ ...row, jaxValidation: 'failed: relative error 1 > 0.0001' }], mlp: [] })).toBe(1);
    expect(formatTable([row])).toMatch(/\| gd100 \| 2\^10 \| 1 \| 50\.000 .* \| 2x64 vec4 unroll4 \| 50% \| 100\.0 \| 2\.00× \| skipped \|/);
  });

  it('the linear table names the kernel the formula engine ran, and why the GPU-clock column is empty; older rows keep their grid', () => {
    const quad = finishRow({
      ...emptyRow('gradient', 4096, 16, 10), ms: 2, validation: 'passed', gpuTiming: GPU_TIMING_UNAVAILABLE,
      kernel: { kind: 'linear-quad', workgroupSize: 64, groups: 8, source: 'tuned' },
    });
    const text = formatTable([quad]);
    expect(text).toMatch(/\| gradient \| 2\^12 \| 16 \| 2\.000 .* \| linear-quad 8×64 \(tuned\) \|/);
    expect(text).toContain(`GPU ms (timestamps): ${GPU_TIMING_UNAVAILABLE}`);
    const old = { ...quad, gpuTiming: null, kernel: { workgroupSize: 64, numGroups: 4, variant: 'quad', unroll: 2, source: 'table' } };
    expect(formatTable([old])).toMatch(/\| quad 4×64 unroll2 \(table\) \|/);
    expect(formatTable([old])).not.toContain('GPU ms (timestamps):');
  });

  it('command lines are quoted to be typed again', () => {
    expect(commandLine(['--quick'])).toBe('npm run bench -- --quick');
    expect(commandLine([])).toBe('npm run bench');
    expect(commandLine(['--out', 'my file.json', '--n', '2^20'])).toBe("npm run bench -- --out 'my file.json' --n 2^20");
  });

  it('prints a result file\'s tables with its source; a file that is not a report is named with what is missing', () => {
    const file = join(dir, 'r.json');
    writeFileSync(file, JSON.stringify(makeReport({ adapter, rows: [], skipped: [], mlp: [] }, provenance, config)));
    const text = tableOf(file);
    expect(text).toMatch(/^adapter: google swiftshader \(software/);
    expect(text).toContain('command: npm run bench -- --n 16');
    expect(text).toContain('commit aaaaaaaaaaaa,');
    expect(text.endsWith(`source: ${file}`)).toBe(true);
    expect(() => parseReport('{"adapter": {}}', 'old.json')).toThrow(/old\.json: not a report of npm run bench or bench\/deno\.ts \(no "date"\)/);
    expect(() => parseReport('{', 'bad.json')).toThrow(/bad\.json: not JSON/);
  });
});
