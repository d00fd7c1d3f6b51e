// The fast CPU path for formula models against the float64 twin (CpuFormulaEngine). Both run the same
// generated row sums on the same float32 rows, so every per-row term is the same float64 value; the two
// differ only in the order the terms are added (the twin: one running sum; the fast path: 16 shard sums,
// then the shards in order). Every ordering of a float64 sum of n terms is within (n - 1)·ε·Σ|t| of the
// exact sum, so two orderings are within 2(n - 1)·ε·Σ|t| of each other: SUM_ORDER_TOL below, with Σ|t|
// measured per output by evaluating each row alone. For the 5003-row cases that is about 1e-12 of the
// mean |term|; observed differences are a few ulps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FormulaData } from '../../src/models/formula.ts';
import type { RowChunk, RowStream } from '../../src/models/row-stream.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { CpuFormulaEngine } from '../../src/cpu/formula-engine.ts';
import { FastCpuFormulaEngine, trainFormulaStreamedOnCpu } from '../../src/cpu-fast/formula-engine.ts';
import { NodeWorkerPool } from '../../src/cpu-fast/node-pool.ts';
import { formulaThreadsAgree } from '../formula-pool-check.ts';
import { DECAY, LINEAR16_HUBER, LOGISTIC, ONE_ROW, POISSON, WEIGHTED_SATURATION, meanAbsTerms, setupCase, type FormulaCase } from '../formula-cases.ts';

const EPS = 2 ** -52;

/** Two orderings of a float64 sum of n terms differ by at most 2(n - 1)·ε·Σ|t| (each is within (n - 1)·ε·Σ|t| of the exact sum). */
const SUM_ORDER_TOL = (n: number, sumAbs: number) => 2 * Math.max(1, n - 1) * EPS * sumAbs;

/**
 * Training: each update's gradient differs from the twin's by the bound above (≤ ~1e-12 relative), and
 * 40 to 60 Adam updates carry that difference forward without amplifying it much on these well-posed
 * problems; 1e-9 relative leaves room (observed: a few ulps, ~1e-16).
 */
const TRAIN_REL_TOL = 1e-9;

const CASES: FormulaCase[] = [
  { ...DECAY, name: 'exponential decay, mse', n: 5003 },
  LINEAR16_HUBER,
  POISSON,
  LOGISTIC,
  WEIGHTED_SATURATION,
  {
    name: 'ragged: 7 rows over 16 shards (9 shards empty)', formula: 'y ~ a * exp(-k * t) + c', loss: 'mse', n: 7,
    row: (u) => { const t = 5 * u(); return { t, y: 3 * Math.exp(-0.7 * t) + 0.5 }; },
    start: { a: 1, k: 0.1, c: 0 }, at: { a: 2.5, k: 0.9, c: 0.2 },
  },
  ONE_ROW,
];

const pools: NodeWorkerPool[] = [];
beforeAll(async () => {
  for (const threads of [2, 3]) pools.push(await NodeWorkerPool.create(threads));
}, 60_000);
afterAll(() => pools.forEach((p) => p.dispose()));

const bits = (g: { loss: number; grad: ArrayLike<number> }) => [g.loss, ...Array.from(g.grad)];

describe('fast CPU formula engine vs the float64 twin', () => {
  it.each(CASES)('$name: loss and gradient within the summation-order bound', async (c) => {
    const { model, data, start, at } = setupCase(c);
    const twin = new CpuFormulaEngine(model, data, start);
    const fast = new FastCpuFormulaEngine(model, data, start);
    const want = await twin.lossAndGradient(at);
    const got = await fast.lossAndGradient(at);
    const scale = meanAbsTerms(model, data, at);
    const P = model.params.length;
    const wanted = [...Array.from(want.grad), want.loss];
    const found = [...Array.from(got.grad), got.loss];
    let worst = 0;
    for (let k = 0; k <= P; k++) {
      const diff = Math.abs(found[k] - wanted[k]);
      const tol = SUM_ORDER_TOL(data.n, scale[k]);
      expect(diff, `${k < P ? model.params[k] : 'loss'}: fast ${found[k]} twin ${wanted[k]} (tolerance ${tol})`).toBeLessThanOrEqual(tol);
      if (scale[k] > 0) worst = Math.max(worst, diff / scale[k]);
    }
    expect(Number.isFinite(got.loss)).toBe(true);
    // One row or few rows per shard: the same additions in the same order as the twin.
    if (data.n <= 16) expect(found).toEqual(wanted);
    expect(worst, 'largest difference relative to the mean |term|').toBeLessThanOrEqual(1e-12);
    twin.dispose();
    fast.dispose();
  });

  it('identical bits on the calling thread and with 2 and 3 worker threads, on every rerun', async () => {
    for (const c of CASES) {
      const { model, data, start, at } = setupCase(c);
      const inline = await new FastCpuFormulaEngine(model, data, start).lossAndGradient(at);
      for (const pool of pools) {
        const engine = new FastCpuFormulaEngine(model, data, start, { pool });
        expect(engine.threads).toBe(pool.threads);
        for (let rerun = 0; rerun < 2; rerun++) expect(bits(await engine.lossAndGradient(at)), c.name).toEqual(bits(inline));
        engine.dispose();
      }
    }
    for (const pool of pools) await formulaThreadsAgree(pool); // the check the Web Worker pool runs too
  });

  it('training (Adam, mini-batches; and full batch with tol): the twin\'s parameters within TRAIN_REL_TOL, the same bits for every thread count', async () => {
    const runs = [
      { c: CASES[0], o: { lr: 0.05, maxEpochs: 8, batchSize: 700, seed: 3, optimizer: optimizerConfig({ kind: 'adam' }) } },
      { c: CASES[1], o: { lr: 0.02, maxEpochs: 6, batchSize: 512, seed: 4, optimizer: optimizerConfig({ kind: 'adam' }) } },
      { c: CASES[2], o: { lr: 0.05, maxEpochs: 5, batchSize: 1000, seed: 5, optimizer: optimizerConfig({ kind: 'adam' }) } },
      { c: CASES[4], o: { lr: 0.02, maxEpochs: 60, tol: 1e-6, optimizer: optimizerConfig({ kind: 'adam' }) } },
    ];
    for (const { c, o } of runs) {
      const { model, data, start } = setupCase(c);
      const want = await new CpuFormulaEngine(model, data, start).train(o);
      const got = await new FastCpuFormulaEngine(model, data, start).train(o);
      expect(got.updates, c.name).toBe(want.updates);
      const size = Math.max(...Array.from(want.theta, Math.abs));
      for (let j = 0; j < want.theta.length; j++) {
        expect(Math.abs(got.theta[j] - want.theta[j]), `${c.name}: ${model.params[j]}`).toBeLessThanOrEqual(TRAIN_REL_TOL * size);
      }
      expect(Math.abs(got.loss - want.loss)).toBeLessThanOrEqual(TRAIN_REL_TOL * Math.abs(want.loss));
      expect(got.loss).toBeLessThan((await new CpuFormulaEngine(model, data, start).lossAndGradient(start)).loss);
      for (const pool of pools) {
        const threaded = await new FastCpuFormulaEngine(model, data, start, { pool }).train(o);
        expect(Array.from(threaded.theta), `${c.name}, ${pool.threads} threads`).toEqual(Array.from(got.theta));
        expect(threaded.loss).toBe(got.loss);
      }
    }
  });

  it('rejects what the twin rejects: wrong row width, a bad target, wrong parameter count; used after dispose', async () => {
    const { model, data, start, at } = setupCase(CASES[2]);
    expect(() => new FastCpuFormulaEngine(model, { ...data, d: data.d + 1 }, start)).toThrow(/columns per row/);
    const y = Float32Array.from(data.y);
    y[5] = -1;
    expect(() => new FastCpuFormulaEngine(model, { ...data, y }, start)).toThrow(/poisson loss cannot use target y = -1 in row 6/);
    const fast = new FastCpuFormulaEngine(model, data, start);
    await expect(fast.lossAndGradient(at.subarray(1))).rejects.toThrow(/expected 3 values/);
    fast.dispose();
    await expect(fast.lossAndGradient(at)).rejects.toThrow(/after dispose/);
  });
});

/** The rows of `data` as a stream of chunkRows-row chunks (fresh copies, as a file reader gives them). */
function streamOf(data: FormulaData, chunkRows: number): RowStream {
  const { n, d } = data;
  return {
    n, d, chunkRows,
    async *pass(): AsyncIterable<RowChunk> {
      for (let start = 0; start < n; start += chunkRows) {
        const rows = Math.min(chunkRows, n - start);
        yield { x: data.x.slice(start * d, (start + rows) * d), y: data.y.slice(start, start + rows), rows };
      }
    },
  };
}

describe('streamed formula training on the CPU path', () => {
  it('mini-batches inside chunks: the same bits as the engine over the rows in memory told the same chunks (fast and reference)', async () => {
    const { model, data, start } = setupCase(CASES[0]);
    const o = { lr: 0.05, maxEpochs: 4, batchSize: 300, seed: 8, optimizer: optimizerConfig({ kind: 'adam' }) };
    for (const reference of [false, true]) {
      const got = await trainFormulaStreamedOnCpu(model, start, streamOf(data, 1200), o, { reference, pool: pools[0] });
      const engine = reference ? new CpuFormulaEngine(model, data, start) : new FastCpuFormulaEngine(model, data, start);
      const want = await engine.train({ ...o, chunkRows: 1200 });
      engine.dispose();
      expect(Array.from(got.result.theta), `reference ${reference}`).toEqual(Array.from(want.theta));
      expect(got.result.updates).toBe(want.updates);
      expect(got.passes).toBe(o.maxEpochs + 1); // one per epoch, one for the final evaluation
      // The final loss is a full evaluation: chunk means combined in float64, in another order.
      expect(Math.abs(got.result.loss - want.loss)).toBeLessThanOrEqual(TRAIN_REL_TOL * want.loss);
    }
  });

  it('a chunk with a bad target stops the run with the loss\'s reason', async () => {
    const { model, data, start } = setupCase(CASES[2]);
    const y = Float32Array.from(data.y);
    y[2500] = -3;
    const o = { lr: 0.05, maxEpochs: 2, optimizer: optimizerConfig({ kind: 'adam' }) };
    await expect(trainFormulaStreamedOnCpu(model, start, streamOf({ ...data, y }, 1000), o)).rejects.toThrow(/cannot use target y = -3/);
  });
});
