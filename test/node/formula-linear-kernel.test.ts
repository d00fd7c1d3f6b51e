// The fast CPU formula engine on a linear shape (Σ θ·x + b with mse) runs the linear task (WebAssembly SIMD,
// or its float64 JS loop) instead of the generated row sums, behind the same API. It is held to the float64
// twin (CpuFormulaEngine) with a bound computed from the data (linearTolerance below), to the generated kernel in
// training, and to itself across thread counts, bit for bit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFormula, startingParameters, type FormulaModel } from '../../src/formula/model.ts';
import { compileRowSums } from '../../src/formula/emit-js.ts';
import { gradientProgram, normalEquationsProgram } from '../../src/formula/program.ts';
import { linearShape } from '../../src/formula/shapes.ts';
import { formulaColumns, type FormulaData } from '../../src/models/formula.ts';
import type { ModelTrainOptions } from '../../src/models/model-engine.ts';
import type { BatchRange } from '../../src/models/batches.ts';
import type { RowChunk, RowStream } from '../../src/models/row-stream.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { seededUniform } from '../../src/data/shuffle.ts';
import { CpuFormulaEngine, formulaGradient } from '../../src/cpu/formula-engine.ts';
import { FastCpuFormulaEngine, trainFormulaStreamedOnCpu, type FormulaKernel } from '../../src/cpu-fast/formula-engine.ts';
import { NodeWorkerPool } from '../../src/cpu-fast/node-pool.ts';
import { wasmSimdAvailable } from '../../src/cpu-fast/wasm-gemm.ts';

const EPS = 2 ** -52;
const gamma = (k: number) => (k * EPS) / (1 - k * EPS);

/**
 * Training: each gradient is within linearTolerance of the generated kernel's (observed: ~4e-15 relative); a few
 * epochs of sgd or adam at a moderate rate on these well-conditioned problems carry that forward without
 * amplifying it much (observed after 5 Adam epochs: <= 6e-17 of the largest parameter). 1e-12 relative to
 * the largest parameter (or to the loss) leaves three orders of room; the sgd runs still fail a bias gradient
 * scaled by 1 + 1e-11 (Adam's steps do not see a constant scale of one coordinate's gradient).
 */
const TRAIN_REL_TOL = 1e-12;

/** A linear problem: d columns x1..xd of mixed scale, y = a linear function plus noise, float32 rows. */
function linearCase(formula: string, d: number, n: number, seed = 5): { model: FormulaModel; data: FormulaData; start: Float64Array; at: Float64Array } {
  const u = seededUniform(seed);
  const columns = Array.from({ length: d }, (_, k) => `x${k + 1}`);
  const model = compileFormula({ formula, loss: 'mse' }, { columns: [...columns, 'y'] });
  const layout = formulaColumns(model);
  const x = new Float32Array(n * d);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let value = 0.5;
    for (let k = 0; k < d; k++) {
      const v = (u() * 2 - 1) * (1 + k);
      x[i * d + layout.indexOf(`x${k + 1}`)] = v;
      value += v * (k % 2 ? -0.7 : 1.3);
    }
    y[i] = value + (u() - 0.5) * 0.3;
  }
  const start = startingParameters(model, Object.fromEntries(model.params.map((p) => [p, 0])));
  // Random parameters away from the optimum: the gradient is not all cancellation there.
  const at = Float64Array.from(model.params, () => u() * 4 - 2);
  return { model, data: { x, y, n, d }, start, at };
}

/**
 * The most the linear kernel's loss and gradient may differ from the twin's, per output (gradient in
 * model.params order, then the loss), over rows `range`. Two parts:
 * - per row, r = θ·x + b − y is computed by each in its own order (the formula's tree; the kernel's SIMD
 *   pairs): each is within γ(d+2)·S of the exact value, S = Σ|θ_c x_c| + |b| + |y|, so they differ by
 *   δ ≤ 2γ(d+2)·S, and a term 2r·x_c by 2|x_c|δ (plus a rounding of each product), r² by (2|r| + δ)δ;
 * - the sums: two orderings of n float64 terms differ by at most 2(n − 1)·ε·Σ|t|.
 * The final scaling by 1/n may round each once more: 2ε of the value.
 */
function linearTolerance(model: FormulaModel, data: FormulaData, theta: Float64Array, want: number[], range: BatchRange): number[] {
  const shape = linearShape(model)!;
  const d = shape.weights.length;
  const P = model.params.length;
  const rowPart = new Float64Array(P + 1);
  const absTerms = new Float64Array(P + 1);
  for (let i = range.start; i < range.start + range.rows; i++) {
    let r = theta[shape.bias] - data.y[i];
    let S = Math.abs(theta[shape.bias]) + Math.abs(data.y[i]);
    for (let c = 0; c < d; c++) {
      const t = theta[shape.weights[c]] * data.x[i * d + c];
      r += t;
      S += Math.abs(t);
    }
    const delta = 2 * gamma(d + 2) * S;
    for (let c = 0; c < d; c++) {
      const xc = Math.abs(data.x[i * d + c]);
      rowPart[shape.weights[c]] += 2 * xc * delta * (1 + EPS) + 2 * EPS * Math.abs(2 * r * xc);
      absTerms[shape.weights[c]] += Math.abs(2 * r * xc);
    }
    rowPart[shape.bias] += 2 * delta;
    absTerms[shape.bias] += Math.abs(2 * r);
    rowPart[P] += (2 * Math.abs(r) + delta) * delta + 2 * EPS * r * r;
    absTerms[P] += r * r;
  }
  const n = range.rows;
  return want.map((v, k) => (rowPart[k] + 2 * Math.max(1, n - 1) * EPS * absTerms[k]) / n + 2 * EPS * Math.abs(v));
}

const flat = (g: { loss: number; grad: ArrayLike<number> }) => [...Array.from(g.grad), g.loss];

function expectWithinLinearTol(model: FormulaModel, data: FormulaData, theta: Float64Array, got: number[], want: number[], range: BatchRange, label: string): number {
  const tol = linearTolerance(model, data, theta, want, range);
  let worst = 0;
  for (let k = 0; k < want.length; k++) {
    const name = k < model.params.length ? model.params[k] : 'loss';
    expect(Math.abs(got[k] - want[k]), `${label}, ${name}: kernel ${got[k]} twin ${want[k]} (tolerance ${tol[k]})`).toBeLessThanOrEqual(tol[k]);
    worst = Math.max(worst, Math.abs(got[k] - want[k]) / tol[k]);
  }
  return worst;
}

const KERNELS: FormulaKernel[] = wasmSimdAvailable() ? ['linear-wasm', 'linear-js'] : ['linear-js'];

let pool: NodeWorkerPool;
beforeAll(async () => {
  pool = await NodeWorkerPool.create(2);
}, 60_000);
afterAll(() => pool.dispose());

describe('the linear kernel vs the float64 twin', () => {
  const shapes = [1, 2, 3, 16, 40].flatMap((d) => [5003, 7].map((n) => ({ d, n })));
  it.each(shapes)('y ~ linear(x1..x$d), $n rows: loss and gradient within linearTolerance, full batch and mini-batch ranges', async ({ d, n }) => {
    const columns = Array.from({ length: d }, (_, k) => `x${k + 1}`);
    const { model, data, start, at } = linearCase(`y ~ linear(${columns.join(', ')})`, d, n);
    const twin = new CpuFormulaEngine(model, data, start);
    const sums = compileRowSums(gradientProgram(model));
    const ranges = [{ start: 0, rows: n }, { start: 1, rows: Math.max(1, n >> 1) }, { start: n - 3, rows: 3 }];
    for (const kernel of KERNELS) {
      const engine = new FastCpuFormulaEngine(model, data, start, { kernel });
      expect(engine.kernel).toBe(kernel);
      const whole = await engine.lossAndGradient(at);
      expectWithinLinearTol(model, data, at, flat(whole), flat(await twin.lossAndGradient(at)), ranges[0], kernel);
      for (const range of ranges) {
        const got = flat(await engine.gradientOver(at, range));
        expectWithinLinearTol(model, data, at, got, flat(formulaGradient(sums, model, at, data, range)), range, `${kernel}, rows ${range.start}+${range.rows}`);
      }
      engine.dispose();
    }
    twin.dispose();
  });

  it('the default picks the SIMD kernel for linear(...), hand-written or permuted, and keeps the generated one otherwise', () => {
    const picked = (formula: string, loss = 'mse', weights: string | null = null) => {
      const model = compileFormula({ formula, loss, weights }, { columns: ['x1', 'x2', 'wt', 'y'] });
      const n = 9;
      const data = { x: new Float32Array(n * (model.features.length + (weights ? 1 : 0))).fill(1), y: new Float32Array(n), n, d: model.features.length + (weights ? 1 : 0) };
      const engine = new FastCpuFormulaEngine(model, data, startingParameters(model, Object.fromEntries(model.params.map((p) => [p, 0.5]))));
      engine.dispose();
      return engine.kernel;
    };
    const linear = wasmSimdAvailable() ? 'linear-wasm' : 'linear-js';
    expect(picked('y ~ linear(x1, x2)')).toBe(linear);
    expect(picked('y ~ b + x2*w2 + x1*w1')).toBe(linear);
    expect(picked('y ~ linear(x1, x2)', 'huber:1')).toBe('generated');
    expect(picked('y ~ linear(x1, x2)', 'mse', 'wt')).toBe('generated');
    expect(picked('y ~ exp(linear(x1, x2))')).toBe('generated');
    expect(picked('y ~ w*x1^2 + b')).toBe('generated');
  });

  it('a kernel by name: linear ones refuse a model that is not linear; generated runs a linear model as before', () => {
    const { model, data, start } = linearCase('y ~ exp(a*x1) + b', 1, 9);
    expect(() => new FastCpuFormulaEngine(model, data, start, { kernel: 'linear-js' })).toThrow(/needs a linear model/);
    expect(() => new FastCpuFormulaEngine(model, data, start, { kernel: 'tiled' as FormulaKernel })).toThrow(/kernel: expected/);
    const linear = linearCase('y ~ linear(x1)', 1, 9);
    const engine = new FastCpuFormulaEngine(linear.model, linear.data, linear.start, { kernel: 'generated' });
    expect(engine.kernel).toBe('generated');
    engine.dispose();
  });
});

describe('permuted parameter order: y ~ b + x2*w2 + x1*w1', () => {
  it('each gradient lands on its own parameter, within linearTolerance of the twin', async () => {
    const { model, data, start, at } = linearCase('y ~ b + x2*w2 + x1*w1', 2, 4099);
    expect(model.params).toEqual(['b', 'w2', 'w1']);
    const want = flat(await new CpuFormulaEngine(model, data, start).lossAndGradient(at));
    for (const kernel of KERNELS) {
      const engine = new FastCpuFormulaEngine(model, data, start, { kernel });
      expectWithinLinearTol(model, data, at, flat(await engine.lossAndGradient(at)), want, { start: 0, rows: data.n }, kernel);
      engine.dispose();
    }
  });
});

describe('training on the linear kernel', () => {
  const runs: Array<{ name: string; formula: string; d: number; o: ModelTrainOptions }> = [
    { name: 'sgd, full batch, d = 1', formula: 'y ~ linear(x1)', d: 1, o: { lr: 0.1, maxEpochs: 20, optimizer: optimizerConfig({ kind: 'sgd' }) } },
    { name: 'sgd, mini-batches of 333, d = 3', formula: 'y ~ linear(x1, x2, x3)', d: 3, o: { lr: 0.02, maxEpochs: 4, batchSize: 333, seed: 2, optimizer: optimizerConfig({ kind: 'sgd' }) } },
    { name: 'adam, mini-batches of 700, permuted', formula: 'y ~ b + x2*w2 + x1*w1', d: 2, o: { lr: 0.05, maxEpochs: 5, batchSize: 700, seed: 3, optimizer: optimizerConfig({ kind: 'adam' }) } },
    { name: 'adam, mini-batches of 512, d = 16', formula: `y ~ linear(${Array.from({ length: 16 }, (_, k) => `x${k + 1}`).join(', ')})`, d: 16, o: { lr: 0.02, maxEpochs: 4, batchSize: 512, seed: 4, optimizer: optimizerConfig({ kind: 'adam' }) } },
  ];
  it.each(runs)('$name: the generated kernel\'s trajectory within TRAIN_REL_TOL; 1 and 2 threads the same bits', async ({ formula, d, o }) => {
    const { model, data, start } = linearCase(formula, d, 5003);
    const trajectory = async (engine: FastCpuFormulaEngine) => {
      const losses: number[] = [];
      const result = await engine.train({ ...o, onEpoch: (e) => losses.push(e.loss) });
      engine.dispose();
      return { result, losses };
    };
    const want = await trajectory(new FastCpuFormulaEngine(model, data, start, { kernel: 'generated' }));
    expect(want.result.loss).toBeLessThan(want.losses[0]);
    for (const kernel of KERNELS) {
      const got = await trajectory(new FastCpuFormulaEngine(model, data, start, { kernel }));
      expect(got.result.updates, kernel).toBe(want.result.updates);
      expect(got.losses.length).toBe(want.losses.length);
      got.losses.forEach((loss, e) => expect(Math.abs(loss - want.losses[e]), `${kernel}, epoch ${e}`).toBeLessThanOrEqual(TRAIN_REL_TOL * want.losses[e]));
      const size = Math.max(...Array.from(want.result.theta, Math.abs));
      for (let j = 0; j < model.params.length; j++) {
        expect(Math.abs(got.result.theta[j] - want.result.theta[j]), `${kernel}: ${model.params[j]}`).toBeLessThanOrEqual(TRAIN_REL_TOL * size);
      }
      const threaded = await trajectory(new FastCpuFormulaEngine(model, data, start, { kernel, pool }));
      expect(Array.from(threaded.result.theta), `${kernel}, 2 threads`).toEqual(Array.from(got.result.theta));
      expect(threaded.losses).toEqual(got.losses);
    }
  });

  it('loss and gradient: the same bits on the calling thread and on 2 threads, on every rerun', async () => {
    for (const d of [1, 3, 16]) {
      const { model, data, start, at } = linearCase(`y ~ linear(${Array.from({ length: d }, (_, k) => `x${k + 1}`).join(', ')})`, d, 5003);
      for (const kernel of KERNELS) {
        const inline = flat(await new FastCpuFormulaEngine(model, data, start, { kernel }).lossAndGradient(at));
        const engine = new FastCpuFormulaEngine(model, data, start, { kernel, pool });
        for (let rerun = 0; rerun < 2; rerun++) expect(flat(await engine.lossAndGradient(at)), `d = ${d}, ${kernel}`).toEqual(inline);
        engine.dispose();
      }
    }
  });
});

/** The rows of `data` as a stream of chunkRows-row chunks (fresh copies, as a file reader gives them). */
function streamOf(data: FormulaData, chunkRows: number): RowStream {
  const { n, d } = data;
  return {
    n, d, chunkRows,
    async *pass(): AsyncIterable<RowChunk> {
      for (let begin = 0; begin < n; begin += chunkRows) {
        const rows = Math.min(chunkRows, n - begin);
        yield { x: data.x.slice(begin * d, (begin + rows) * d), y: data.y.slice(begin, begin + rows), rows };
      }
    },
  };
}

describe('what runs beside the linear kernel', () => {
  it('normalEquations (the curve fit\'s pass) runs the generated sums over the same rows: the generated engine\'s bits, over all rows and a range', async () => {
    const { model, data, start, at } = linearCase('y ~ b + x2*w2 + x1*w1', 2, 3001);
    const generated = new FastCpuFormulaEngine(model, data, start, { kernel: 'generated', pool });
    const range = { start: 1000, rows: 1001 };
    for (const kernel of KERNELS) {
      const engine = new FastCpuFormulaEngine(model, data, start, { kernel, pool });
      expect(Array.from(await engine.normalEquations(at))).toEqual(Array.from(await generated.normalEquations(at)));
      expect(Array.from(await engine.normalEquations(at, range))).toEqual(Array.from(await generated.normalEquations(at, range)));
      engine.dispose();
    }
    // And the pass itself against one float64 sum over the range, within the summation-order bound.
    const program = normalEquationsProgram(model);
    const want = new Float64Array(program.outputs.length);
    compileRowSums(program)(at, data.x, data.y, range.start, range.start + range.rows, want);
    const got = await generated.normalEquations(at, range);
    const absTerms = new Float64Array(want.length);
    const one = new Float64Array(want.length);
    for (let i = range.start; i < range.start + range.rows; i++) {
      one.fill(0);
      compileRowSums(program)(at, data.x, data.y, i, i + 1, one);
      one.forEach((v, k) => (absTerms[k] += Math.abs(v)));
    }
    want.forEach((v, k) => expect(Math.abs(got[k] - v)).toBeLessThanOrEqual(2 * (range.rows - 1) * EPS * absTerms[k]));
    generated.dispose();
  });

  it('streamed: chunks copied into the kernel\'s rows give the bits of the engine over the rows in memory told the same chunks', async () => {
    const { model, data, start } = linearCase('y ~ linear(x1, x2, x3)', 3, 5003);
    const o = { lr: 0.05, maxEpochs: 3, batchSize: 300, seed: 8, optimizer: optimizerConfig({ kind: 'adam' }) };
    const got = await trainFormulaStreamedOnCpu(model, start, streamOf(data, 1200), o, { pool });
    const engine = new FastCpuFormulaEngine(model, data, start);
    expect(engine.kernel).not.toBe('generated');
    const want = await engine.train({ ...o, chunkRows: 1200 });
    engine.dispose();
    expect(Array.from(got.result.theta)).toEqual(Array.from(want.theta));
    expect(got.result.updates).toBe(want.updates);
  });
});
