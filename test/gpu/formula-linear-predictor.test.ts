// The linear predictor kernel inside the GPU formula engine (src/gpu/formula/linear-predictor-pass.ts): a
// generalised linear model yhat = F(η + b, q..) over rows wider than the generated kernel's quad loads runs
// shaders/formula_linear_predictor.wgsl for every batch. Against the float64 twin with the tolerance of every
// formula kernel (FORMULA_REL_TOL of each output's mean |term|, formula-check.ts), over every row and over a
// batch that starts off a tile; the layouts the kernel has: one chunk a thread (C <= WG, row slots) and
// several (C > WG), vec4 chunks (a width that is a multiple of 4) and scalar ones, weighted rows, parameters
// outside the linear predictor. Training trajectories against the generated kernel's within 1e-4 relative,
// norm-wise, as formula-linear-quad.test.ts holds the quad kernel. Tuned, the engine runs whichever of the
// two kernels its tuning timed faster.
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { GpuFormulaEngine, FormulaKernelError, type GpuFormulaEngineOptions } from '../../src/gpu/formula/gpu-formula-engine.ts';
import { checkFormulaResult, formulaError, formulaReference } from '../../src/gpu/formula/formula-check.ts';
import { LINEAR_PREDICTOR_FAMILY, linearPredictorWgsl, PREDICTOR_ALONE_WIDTH, PREDICTOR_MAX_CHUNKS, predictorGrid } from '../../src/gpu/formula/linear-predictor-pass.ts';
import { FORMULA_FAMILY, type FormulaKernelConfig } from '../../src/gpu/formula/formula-grid.ts';
import { TuningCache } from '../../src/gpu/tuning/cache.ts';
import { gradientProgram } from '../../src/formula/program.ts';
import { linearPredictor } from '../../src/formula/shapes.ts';
import { memoryRowStream } from '../../src/gpu/formula/formula-stream.ts';
import type { ModelTrainOptions, ModelTrainResult } from '../../src/models/model-engine.ts';
import type { EpochInfo } from '../../src/models/linear.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { relativeError } from '../data-gen.ts';
import { gaussian, setupCase, type FormulaCase } from '../formula-cases.ts';

const TRAJECTORY_TOL = 1e-4;

function columns(d: number): string[] {
  return Array.from({ length: d }, (_, k) => `f${k + 1}`);
}

/** `formula` over d standard normal features named f1..fd, its target from `target` of the row's linear predictor. */
function wideCase(name: string, d: number, n: number, formula: string, loss: string, target: (eta: number, u: () => number) => number, extra: Partial<FormulaCase> = {}): FormulaCase {
  const names = columns(d);
  return {
    name, formula, loss, n,
    row: (u) => {
      const row: Record<string, number> = {};
      let eta = 0.2;
      names.forEach((f, k) => {
        row[f] = gaussian(u);
        eta += (k % 5 === 0 ? 0.3 : -0.05) * row[f] / Math.sqrt(d);
      });
      if (extra.weights) row[extra.weights] = 0.5 + u();
      row.y = target(eta, u);
      return row;
    },
    at: {}, ...extra,
  };
}

const list = (d: number) => columns(d).join(', ');
const CASES_WIDE = [
  wideCase('linear(128 columns), mse: vec4 chunks, row slots', 128, 3001, `y ~ linear(${list(128)})`, 'mse', (eta, u) => eta + 0.1 * gaussian(u)),
  wideCase('exp(linear(97 columns)), poisson, weighted: scalar chunks, two a thread', 97, 1999, `y ~ exp(linear(${list(97)}))`, 'poisson',
    (eta, u) => Math.floor(Math.exp(eta) * 2 * u()), { weights: 'wt' }),
  wideCase('linear(300 columns), logistic: vec4 chunks, two a thread', 300, 1500, `y ~ linear(${list(300)})`, 'logistic', (eta, u) => (u() < 1 / (1 + Math.exp(-eta)) ? 1 : 0)),
  wideCase('a*tanh(linear(80 columns)) + c, huber:0.5: parameters outside η', 80, 2500, `y ~ a * tanh(linear(${list(80)})) + c`, 'huber:0.5',
    (eta, u) => 1.5 * Math.tanh(eta) + 0.3 + 0.2 * gaussian(u), { start: { a: 1, c: 0 } }),
];

/** The case's rows and a random point away from the optimum (the starting values where the case gives some). */
function setup(c: FormulaCase) {
  const s = setupCase(c);
  let k = 1;
  const at = Float64Array.from(s.model.params, (p) => Math.fround(((k++ * 7919) % 200) / 1000 - 0.1 + (c.start?.[p] ?? 0)));
  return { ...s, at };
}

async function expectTwin(engine: GpuFormulaEngine, c: ReturnType<typeof setup>, label: string, range = { start: 0, rows: c.data.n }) {
  engine.fillOutputs(NaN);
  const got = await engine.lossAndGradient(c.at);
  const flat = [...got.grad, got.loss];
  const ref = formulaReference(c.model, c.at, c.data, range);
  console.info(`${label}: max |error| / mean |term| = ${formulaError(flat, ref).toExponential(2)}`);
  expect(checkFormulaResult(flat, ref, c.model.params)).toBeNull();
}

describe('the linear predictor kernel on the GPU', () => {
  for (const c of CASES_WIDE) {
    it(`${c.name}: agrees with the float64 twin on every grid layout`, async () => {
      const s = setup(c);
      expect(linearPredictor(s.model)).not.toBeNull();
      const grids: (FormulaKernelConfig | undefined)[] = [undefined, { workgroupSize: 64, groups: 3 }, { workgroupSize: 256, groups: 2, layout: 'blocked', span: 2 }];
      for (const kernel of grids) {
        const engine = await GpuFormulaEngine.create(await testGpu(), s.model, s.data, s.start, { tuning: false, kernel, predictor: true });
        try {
          expect(engine.kernelKind).toBe('linear-predictor');
          await expectTwin(engine, s, `${c.name} ${JSON.stringify(engine.kernel.config)}`);
        } finally {
          engine.dispose();
        }
      }
    }, 240_000);
  }

  it('trains as the generated kernel does (Adam, mini-batches of 7 rows, streamed chunks of 1001)', async () => {
    const s = setup(CASES_WIDE[3]);
    const o: ModelTrainOptions = { lr: 0.01, maxEpochs: 2, batchSize: 7, seed: 3, reportEvery: 1, optimizer: optimizerConfig({ kind: 'adam' }) };
    const runs: { kind: string; r: ModelTrainResult; epochs: EpochInfo[] }[] = [];
    for (const specialize of [true, false]) {
      const all = { tuning: false as const, maxReportEvery: 16, predictor: specialize };
      const engine = await GpuFormulaEngine.createStreamed(await testGpu(), s.model, memoryRowStream(s.data, 1001), s.start, all);
      try {
        const epochs: EpochInfo[] = [];
        runs.push({ kind: engine.kernelKind, r: await engine.train({ ...o, onEpoch: (i) => epochs.push(i) }), epochs });
      } finally {
        engine.dispose();
      }
    }
    const [predicted, generic] = runs;
    expect([predicted.kind, generic.kind]).toEqual(['linear-predictor', 'generated']);
    const losses = relativeError(predicted.epochs.map((e) => e.loss), generic.epochs.map((e) => e.loss));
    const params = relativeError(predicted.r.theta, generic.r.theta);
    console.info(`${predicted.r.updates} updates, epoch losses rel ${losses.rel.toExponential(2)}, parameters rel ${params.rel.toExponential(2)}`);
    expect(predicted.r.updates).toBe(generic.r.updates);
    expect(losses.rel, losses.worst).toBeLessThanOrEqual(TRAJECTORY_TOL);
    expect(params.rel, params.worst).toBeLessThanOrEqual(TRAJECTORY_TOL);
    expect(predicted.r.loss).toBeLessThan(predicted.epochs[0].loss); // it learns
  }, 240_000);

  it('tuned, the faster of the generated and the linear predictor kernels runs; a second engine takes both from the table', async () => {
    const s = setup(CASES_WIDE[0]);
    const cache = new TuningCache();
    const first = await GpuFormulaEngine.create(await testGpu(), s.model, s.data, s.start, { tuning: cache });
    const entries = cache.toJSON().entries;
    try {
      const ms = Object.fromEntries(entries.map((e) => [e.key.family, e.ms]));
      console.info(`tuned: ${JSON.stringify(ms)}, runs ${first.kernelKind} ${JSON.stringify(first.kernel.config)}`);
      expect(Object.keys(ms).sort()).toEqual([FORMULA_FAMILY, LINEAR_PREDICTOR_FAMILY].sort());
      expect(first.kernelKind).toBe(ms[LINEAR_PREDICTOR_FAMILY] < ms[FORMULA_FAMILY] ? 'linear-predictor' : 'generated');
      await expectTwin(first, s, `tuned ${first.kernelKind}`);
      const second = await GpuFormulaEngine.create(await testGpu(), s.model, s.data, s.start, { tuning: cache });
      try {
        expect([second.kernelKind, second.kernel.source, second.kernel.config]).toEqual([first.kernelKind, 'table', first.kernel.config]);
      } finally {
        second.dispose();
      }
    } finally {
      first.dispose();
    }
  }, 240_000);

  it('keeps a workgroup within PREDICTOR_MAX_CHUNKS row chunks, whatever the grid tuned', () => {
    const rows = PREDICTOR_MAX_CHUNKS / 32; // of 128 columns: 32 vec4s a row
    expect(predictorGrid({ workgroupSize: 64, groups: 1 }, rows, 128)).toEqual({ workgroupSize: 64, groups: 1 });
    expect(predictorGrid({ workgroupSize: 64, groups: 1 }, rows + 1, 128)).toEqual({ workgroupSize: 64, groups: 2 });
    expect(predictorGrid({ workgroupSize: 64, groups: 3, layout: 'blocked', span: 16 }, 5 * rows, 128)).toEqual({ workgroupSize: 64, groups: 5, layout: 'blocked', span: 16 });
    expect(predictorGrid({ workgroupSize: 256, groups: 8 }, 5 * rows, 128)).toEqual({ workgroupSize: 256, groups: 8 });
    expect(predictorGrid({ workgroupSize: 64, groups: 1 }, rows, 130)).toEqual({ workgroupSize: 64, groups: 5 }); // 130 floats a row, not vec4s
  });

  it('predictor: true on a model it cannot take is an error, not ignored', async () => {
    const narrow = setup(wideCase('linear(16 columns)', 16, 100, `y ~ linear(${list(16)})`, 'huber:1', (eta) => eta));
    await expect(GpuFormulaEngine.create(await testGpu(), narrow.model, narrow.data, narrow.start, { tuning: false, predictor: true })).rejects.toThrow(/predictor: the linear predictor kernel takes/);
    const other = setup(wideCase('linear(80 columns) + c*f1', 80, 100, `y ~ linear(${list(80)}) + c * f1`, 'mse', (eta) => eta, { start: { c: 0 } }));
    await expect(GpuFormulaEngine.create(await testGpu(), other.model, other.data, other.start, { tuning: false, predictor: true })).rejects.toThrow(/is not one/);
  });

  it(`rows of ${PREDICTOR_ALONE_WIDTH} columns run the linear predictor kernel alone: the generated one is neither tuned nor built`, async () => {
    const s = setup(wideCase(`linear(${PREDICTOR_ALONE_WIDTH} columns), mse`, PREDICTOR_ALONE_WIDTH, 700, `y ~ linear(${list(PREDICTOR_ALONE_WIDTH)})`, 'mse', (eta, u) => eta + 0.1 * gaussian(u)));
    const cache = new TuningCache();
    for (const tuning of [cache, false as const]) {
      const engine = await GpuFormulaEngine.create(await testGpu(), s.model, s.data, s.start, { tuning });
      try {
        expect(engine.kernelKind).toBe('linear-predictor');
        await expectTwin(engine, s, `${PREDICTOR_ALONE_WIDTH} columns, tuning ${tuning ? 'on' : 'off'}`);
      } finally {
        engine.dispose();
      }
    }
    expect(cache.toJSON().entries.map((e) => e.key.family)).toEqual([LINEAR_PREDICTOR_FAMILY]);
  }, 240_000);

  it('a wrong kernel is an error at creation, not a fallback', async () => {
    const s = setup(CASES_WIDE[0]);
    const program = gradientProgram(s.model);
    const shape = linearPredictor(s.model)!;
    // The slope's sum left out of the column sums: every weight's partial is zero.
    const code = linearPredictorWgsl(program, shape, 64, (await testGpu()).device.limits.maxComputeWorkgroupStorageSize)
      .replace('acc = fma(Chunk(slope[r]), rows_x[(row0 + r) * C + c], acc);', 'acc = acc;');
    const options: GpuFormulaEngineOptions = { tuning: false, kernel: { workgroupSize: 64, groups: 2 }, code, predictor: true };
    await expect(GpuFormulaEngine.create(await testGpu(), s.model, s.data, s.start, options)).rejects.toThrow(FormulaKernelError);
  }, 240_000);
});
