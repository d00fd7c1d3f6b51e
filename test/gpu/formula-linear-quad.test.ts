// The quad kernel inside the GPU formula engine (src/gpu/formula/linear-quad-pass.ts): a model of the linear
// shape runs shaders/linear_partials_quad.wgsl (FORMULA) for batches starting on a multiple of 4 rows, the
// generated kernel for the others. Tolerances: the gradient within FORMULA_REL_TOL of each output's mean |term|
// against the float64 twin (formula-check.ts; the quad kernel sums in blocks of 64 rows with compensated folds,
// as the generated one does); training trajectories against the generated kernel's within 1e-4 relative,
// norm-wise, as formula-train.test.ts holds the GPU to the twin (two float32 gradients whose sums differ in
// order, each within ~1e-6 of mean |term|, through up to a few hundred well-posed updates).
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { CpuFormulaEngine } from '../../src/cpu/formula-engine.ts';
import { GpuFormulaEngine, FormulaKernelError, type GpuFormulaEngineOptions } from '../../src/gpu/formula/gpu-formula-engine.ts';
import { checkFormulaResult, formulaError, formulaReference } from '../../src/gpu/formula/formula-check.ts';
import { memoryRowStream } from '../../src/gpu/formula/formula-stream.ts';
import { LINEAR_QUAD_FAMILY, linearQuadWgsl, RoutedGradientPasses } from '../../src/gpu/formula/linear-quad-pass.ts';
import type { FormulaKernelConfig } from '../../src/gpu/formula/formula-grid.ts';
import { TuningCache } from '../../src/gpu/tuning/cache.ts';
import { compileFormula, startingParameters, type FormulaModel } from '../../src/formula/model.ts';
import { linearShape } from '../../src/formula/shapes.ts';
import type { FormulaData } from '../../src/models/formula.ts';
import type { ModelTrainOptions } from '../../src/models/model-engine.ts';
import type { EpochInfo } from '../../src/models/linear.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { seededUniform } from '../../src/data/shuffle.ts';
import { relativeError } from '../data-gen.ts';
import { CASES, gaussian, setupCase } from '../formula-cases.ts';

const TRAJECTORY_TOL = 1e-4;
/** An explicit grid: several groups, so that threads take whole blocks, a remainder and the partial last quad. */
const GRID = { workgroupSize: 64, groups: 5 };

/** y ~ linear(x1..xd) (or `formula`) with mse over n rows of standard normal features and a noisy linear target. */
function linearCase(d: number, n: number, formula = `y ~ linear(${Array.from({ length: d }, (_, k) => `x${k + 1}`).join(', ')})`, seed = 5) {
  const u = seededUniform(seed);
  const names = Array.from({ length: d }, (_, k) => `x${k + 1}`);
  const model = compileFormula({ formula, loss: 'mse', weights: null }, { columns: [...names, 'y'] });
  const x = new Float32Array(n * d);
  const y = new Float32Array(n);
  const truth = names.map((_, k) => 0.5 - 0.1 * (k % 7));
  for (let i = 0; i < n; i++) {
    let t = 0.7;
    model.features.forEach((name, c) => {
      x[i * d + c] = gaussian(u);
      t += truth[names.indexOf(name)] * x[i * d + c];
    });
    y[i] = t + 0.1 * gaussian(u);
  }
  const data: FormulaData = { x, y, n, d };
  const at = Float64Array.from(model.params, () => 2 * u() - 1); // a random theta, away from the optimum
  return { model, data, start: startingParameters(model, Object.fromEntries(model.params.map((p) => [p, 0]))), at };
}

async function expectTwin(engine: GpuFormulaEngine, c: { model: FormulaModel; data: FormulaData; start: Float64Array; at: Float64Array }, label: string) {
  const { model, data, start, at } = c;
  engine.fillOutputs(NaN);
  const got = await engine.lossAndGradient(at);
  const flat = [...got.grad, got.loss];
  const ref = formulaReference(model, at, data, { start: 0, rows: data.n });
  console.info(`${label}: max |error| / mean |term| = ${formulaError(flat, ref).toExponential(2)}`);
  expect(checkFormulaResult(flat, ref, model.params)).toBeNull();
  const twin = new CpuFormulaEngine(model, data, start);
  try {
    const want = await twin.lossAndGradient(Float64Array.from(at, Math.fround));
    for (let j = 0; j < model.params.length; j++) expect(ref.mean[j]).toBeCloseTo(want.grad[j], 12); // the reference is the twin's
  } finally {
    twin.dispose();
  }
}

describe('GPU formula engine: the quad kernel for the linear shape', () => {
  for (const [d, n] of [[1, 4093], [3, 4099], [16, 5003], [64, 1027]] as const) {
    it(`D = ${d}, ${n} rows: picks the quad kernel and matches the float64 twin, strided and blocked`, async () => {
      const c = linearCase(d, n);
      const { model, data, start } = c;
      for (const quadKernel of [GRID, { ...GRID, layout: 'blocked' }, { ...GRID, layout: 'blocked', span: 3 }] as FormulaKernelConfig[]) {
        const engine = await GpuFormulaEngine.create(await testGpu(), model, data, start, { tuning: false, quadKernel });
        try {
          expect(engine.kernelKind).toBe('linear-quad');
          expect(engine.quadKernel?.config).toEqual(quadKernel);
          await expectTwin(engine, c, `quad D=${d} n=${n} ${JSON.stringify(quadKernel)}`);
        } finally {
          engine.dispose();
        }
      }
    });
  }

  it("tunes the quad kernel's grid under its own family, validating every candidate; a second engine takes it from the table", async () => {
    const c = linearCase(16, 5003);
    const cache = new TuningCache();
    const first = await GpuFormulaEngine.create(await testGpu(), c.model, c.data, c.start, { tuning: cache });
    try {
      expect(first.quadKernel?.source).toBe('tuned');
      const trials = first.quadKernel!.result!.trials;
      console.info(`quad tuned ${JSON.stringify(first.quadKernel!.config)}: ${trials.map((t) => `${t.config.workgroupSize}x${t.config.groups} ${t.ms?.toFixed(2) ?? t.rejected}`).join(', ')}`);
      expect(trials.every((t) => !t.rejected || t.rejected.startsWith('skipped'))).toBe(true);
      const families = cache.toJSON().entries.map((e) => `${e.key.family} d=${e.key.shape.rowWidth}`).sort();
      // Only the quad kernel is tuned: the generated one beside it runs unaligned batches on its default grid.
      expect(families).toEqual([`${LINEAR_QUAD_FAMILY} d=16`]);
      expect(first.kernel.source).toBe('default');
      const second = await GpuFormulaEngine.create(await testGpu(), c.model, c.data, c.start, { tuning: cache });
      try {
        expect([second.kernel.source, second.quadKernel?.source]).toEqual(['default', 'table']);
        expect(second.quadKernel?.config).toEqual(first.quadKernel!.config);
      } finally {
        second.dispose();
      }
      await expectTwin(first, c, 'quad tuned');
    } finally {
      first.dispose();
    }
  });

  it('permuted parameter order (y ~ b + x2*w2 + x1*w1): each output goes to its own parameter', async () => {
    const c = linearCase(2, 2051, 'y ~ b + x2*w2 + x1*w1');
    const { model, data, start } = c;
    const shape = linearShape(model)!;
    console.info(`params ${model.params.join(', ')}, features ${model.features.join(', ')}: ${JSON.stringify(shape)}`);
    expect(shape.weights).toEqual(model.features.map((f) => model.params.indexOf(`w${f.slice(1)}`)));
    expect(shape.bias).toBe(model.params.indexOf('b'));
    expect(shape.bias).not.toBe(2); // not the linear engine's (w_1 .. w_d, b)
    for (const quadKernel of [GRID, { workgroupSize: 256, groups: 1 }]) {
      const engine = await GpuFormulaEngine.create(await testGpu(), model, data, start, { tuning: false, quadKernel });
      try {
        expect(engine.kernelKind).toBe('linear-quad');
        await expectTwin(engine, c, `permuted ${JSON.stringify(quadKernel)}`);
      } finally {
        engine.dispose();
      }
    }
  });

  it('streamed chunks of 1001 rows (each chunk a piece from its row 0, ending in a partial quad) match the twin', async () => {
    const c = linearCase(3, 4099);
    const { model, data, start } = c;
    const engine = await GpuFormulaEngine.createStreamed(await testGpu(), model, memoryRowStream(data, 1001), start, { tuning: false, quadKernel: GRID });
    try {
      expect(engine.kernelKind).toBe('linear-quad');
      await expectTwin(engine, c, 'streamed quad');
    } finally {
      engine.dispose();
    }
  });

  it('a faulty quad kernel is an error at creation, never a silent fallback', async () => {
    const { model, data, start } = linearCase(3, 4099);
    const good = linearQuadWgsl(linearShape(model)!);
    const faults = {
      // Drops the last whole quad of a thread's remainder: a plausible off-by-one.
      'off by one': good.replace('for (; q < whole; q = q + qs)', 'for (; q + qs < whole; q = q + qs)'),
      // Forgets the 2 of d(r²)/dr on the bias.
      'factor': good.replace(/2\.0 \* \(total\[3\] \+ comp\[3\]\)/, 'total[3] + comp[3]'),
      // Skips the partial last quad (over 4093 rows one row, within the tolerance; the short check batch has 3).
      'tail': good.replace('let s = accumulate_tail(first + q, bias, n - 4u * q);', 'let s = vec2<f32>(0.0);'),
    };
    for (const [name, bad] of Object.entries(faults)) {
      expect(bad, name).not.toBe(good);
      const options: GpuFormulaEngineOptions = { tuning: false, quadKernel: { workgroupSize: 64, groups: 4 }, quadCode: bad };
      await expect(GpuFormulaEngine.create(await testGpu(), model, data, start, options), name).rejects.toThrow(FormulaKernelError);
    }
  });

  it('keeps the generated kernel where the shape does not apply or is declined', async () => {
    const gpu = await testGpu();
    const huber = setupCase(CASES.find((c) => c.name.startsWith('16-feature'))!);
    const wide = linearCase(65, 33);
    const linear = linearCase(3, 99);
    const engines = [
      await GpuFormulaEngine.create(gpu, huber.model, huber.data, huber.start, { tuning: false }),
      await GpuFormulaEngine.create(gpu, wide.model, wide.data, wide.start, { tuning: false }),
      await GpuFormulaEngine.create(gpu, linear.model, linear.data, linear.start, { tuning: false, specialize: false }),
    ];
    try {
      for (const e of engines) {
        expect(e.kernelKind).toBe('generated');
        expect(e.quadKernel).toBeNull();
      }
    } finally {
      for (const e of engines) e.dispose();
    }
  });
});

describe('GPU formula engine: training on the quad kernel follows the generated kernel', () => {
  /** chunkRows: the rows streamed in chunks of that many (createStreamed), mini-batches cut inside each chunk. */
  async function trajectories(o: ModelTrainOptions, label: string, chunkRows?: number) {
    const { model, data, start } = linearCase(3, 4099, undefined, 9);
    const gpu = await testGpu();
    const run = async (options: GpuFormulaEngineOptions) => {
      const all = { tuning: false as const, maxReportEvery: 16, ...options };
      const engine = chunkRows
        ? await GpuFormulaEngine.createStreamed(gpu, model, memoryRowStream(data, chunkRows), start, all)
        : await GpuFormulaEngine.create(gpu, model, data, start, all);
      const epochs: EpochInfo[] = [];
      // Counts the steps each kernel records, whole or pass 1 alone before a fold step (the routed passes are
      // the engine's own, read through its private field).
      const records = { quad: 0, generic: 0 };
      const routed = engine['passes'];
      if (routed instanceof RoutedGradientPasses) {
        for (const k of ['quad', 'generic'] as const) {
          const record = routed[k].record.bind(routed[k]);
          routed[k].record = (pass, slot) => { records[k]++; record(pass, slot); };
          const recordPartials = routed[k].recordPartials.bind(routed[k]);
          routed[k].recordPartials = (pass, slot) => { records[k]++; recordPartials(pass, slot); };
        }
      }
      try {
        const r = await engine.train({ ...o, onEpoch: (i) => epochs.push(i) });
        return { r, epochs, kind: engine.kernelKind, records };
      } finally {
        engine.dispose();
      }
    };
    const quad = await run({ quadKernel: GRID });
    const generic = await run({ specialize: false, kernel: GRID });
    expect([quad.kind, generic.kind]).toEqual(['linear-quad', 'generated']);
    console.info(`${label}: steps recorded on the quad kernel ${quad.records.quad}, on the generated one ${quad.records.generic}`);
    const unaligned = o.batchSize !== undefined && o.batchSize % 4 !== 0;
    expect(quad.records.quad).toBeGreaterThan(0);
    expect(quad.records.generic > 0).toBe(unaligned);
    const losses = relativeError(quad.epochs.map((e) => e.loss), generic.epochs.map((e) => e.loss));
    const params = relativeError(quad.r.theta, generic.r.theta);
    console.info(`${label}: ${quad.r.updates} updates, epoch losses rel ${losses.rel.toExponential(2)}, parameters rel ${params.rel.toExponential(2)}`);
    expect(quad.r.updates).toBe(generic.r.updates);
    expect(quad.epochs.length).toBe(generic.epochs.length);
    expect(losses.rel, losses.worst).toBeLessThanOrEqual(TRAJECTORY_TOL);
    expect(params.rel, params.worst).toBeLessThanOrEqual(TRAJECTORY_TOL);
    expect(quad.r.loss).toBeLessThan(0.5 * quad.epochs[0].loss); // it learns
  }

  it('sgd, full batch', () => trajectories({ lr: 0.1, maxEpochs: 60, reportEvery: 10, optimizer: optimizerConfig({ kind: 'sgd' }) }, 'sgd full batch'));
  it('adam, mini-batches of 8 (every batch on the quad kernel)', () =>
    trajectories({ lr: 0.01, maxEpochs: 2, batchSize: 8, seed: 3, reportEvery: 1, optimizer: optimizerConfig({ kind: 'adam' }) }, 'adam batches of 8'));
  it('adam, mini-batches of 6 (every other batch starts off a whole quad: the generated kernel)', () =>
    trajectories({ lr: 0.01, maxEpochs: 2, batchSize: 6, seed: 3, reportEvery: 1, optimizer: optimizerConfig({ kind: 'adam' }) }, 'adam batches of 6'));
  it('streamed chunks of 1001 rows, adam, mini-batches of 6 inside each chunk', () =>
    trajectories({ lr: 0.01, maxEpochs: 2, batchSize: 6, seed: 3, reportEvery: 1, optimizer: optimizerConfig({ kind: 'adam' }) }, 'streamed adam batches of 6', 1001));
});
