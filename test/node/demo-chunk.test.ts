import { describe, expect, it } from 'vitest';
import { CpuFormulaEngine } from '../../src/cpu/formula-engine.ts';
import { FastCpuFormulaEngine } from '../../src/cpu-fast/formula-engine.ts';
import { InlinePool } from '../../src/cpu-fast/pool.ts';
import { leastSquares } from '../../src/cpu/least-squares.ts';
import { engineChunk, EXPLODE, isMiniBatch, TOL } from '../../src/demo/chunk.ts';
import { createEngines, linearDeviceText } from '../../src/demo/linear-engines.ts';
import { linearFormulaModel as linearFormula } from '../../src/models/linear-formula.ts';
import type { FormulaData } from '../../src/models/formula.ts';
import { makeLinearData, relativeError } from '../data-gen.ts';

/**
 * Both sides sum the same float64 terms of the same float32 rows, only in another order: 4,000 rows give at
 * most ~4e3 · 1.1e-16 relative round-off per sum, so 1e-12 leaves room and still catches any other step
 * (a momentum term, weight decay, a factor 2 in the gradient are all > 1e-3 off after a few epochs).
 */
const SAME_STEPS = 1e-12;

/** Plain full-batch gradient descent on J = (1/N) Σ (w·x + b − y)² in float64: θ ← θ − lr ∇J. */
function descend(data: FormulaData, theta0: ArrayLike<number>, lr: number, epochs: number): Float64Array {
  const { x, y, n, d } = data;
  const theta = Float64Array.from(theta0);
  for (let e = 0; e < epochs; e++) {
    const g = new Float64Array(d + 1);
    for (let i = 0; i < n; i++) {
      let r = theta[d] - y[i];
      for (let j = 0; j < d; j++) r += theta[j] * x[i * d + j];
      for (let j = 0; j < d; j++) g[j] += (2 / n) * r * x[i * d + j];
      g[d] += (2 / n) * r;
    }
    for (let j = 0; j <= d; j++) theta[j] -= lr * g[j];
  }
  return theta;
}

describe('the linear mode\'s model: y ~ linear(x1, ..., xd) with mse', () => {
  it('θ = (w_1 .. w_d, b) in that order, the layout the page reads', () => {
    const m = linearFormula(3);
    expect(m.params).toEqual(['w_x1', 'w_x2', 'w_x3', 'b']);
    expect(m.features).toEqual(['x1', 'x2', 'x3']);
    expect(m.loss.name).toBe('mse');
    expect(() => linearFormula(0)).toThrow(/at least one feature/);
  });

  it('its gradient is (2/N) Σ r x_j, (2/N) Σ r', async () => {
    const data = makeLinearData(1_000, 2, 3);
    const theta = Float64Array.of(0.3, -1.2, 0.5);
    const engine = new CpuFormulaEngine(linearFormula(2), data, new Float64Array(3));
    const g = await engine.lossAndGradient(theta);
    const stepped = descend(data, theta, 1, 1); // θ − ∇J
    const want = Array.from(theta, (t, j) => t - stepped[j]);
    expect(relativeError(g.grad, want).rel).toBeLessThan(SAME_STEPS);
  });
});

describe('demo training chunks through FormulaEngine.train', () => {
  const data = makeLinearData(4_000, 2, 5);
  const twin = () => new CpuFormulaEngine(linearFormula(2), data, new Float64Array(3));

  it('full batch: k plain descent steps from the given point, one loss per epoch after the start', async () => {
    const engine = twin();
    const seen: number[] = [];
    const losses: number[] = [];
    const r = await engineChunk(engine, {
      lr: 0.1, epochs: 5, init: new Float64Array(3), batchSize: null, seed: 0,
      onLoss: (offset, loss) => { seen.push(offset); losses.push(loss); },
    });
    expect(r.epochs).toBe(5);
    expect(r.stop).toBe('max-epochs');
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThan(losses[i - 1]);
    expect(relativeError(r.theta, descend(data, [0, 0, 0], 0.1, 5)).rel).toBeLessThan(SAME_STEPS);
    // The next chunk starts where this one ended: two chunks of 5 = one of 10.
    const r2 = await engineChunk(engine, { lr: 0.1, epochs: 5, init: r.theta, batchSize: null, seed: 5, onLoss: () => {} });
    const once = await engineChunk(engine, { lr: 0.1, epochs: 10, init: new Float64Array(3), batchSize: null, seed: 0, onLoss: () => {} });
    expect(relativeError(r2.theta, once.theta).rel).toBeLessThan(SAME_STEPS);
    expect(r.samplesPerSec).toBeGreaterThan(0);
  });

  it('the page\'s CPU engine (the fast path) takes the same steps as the float64 twin', async () => {
    const backend = { kind: 'cpu' as const, reason: 'test', threads: { pool: new InlinePool(), fallback: 'no workers in this test' } };
    const { engine, surface } = await createEngines(backend, data);
    try {
      expect(engine).toBeInstanceOf(FastCpuFormulaEngine);
      const kernel = (engine as FastCpuFormulaEngine).kernel;
      expect(linearDeviceText(backend, engine)).toMatch(kernel === 'generated' ? /\(JavaScript generated from the formula\)/ : /\((WebAssembly SIMD|JavaScript) linear kernel\)/);
      const request = { lr: 0.1, epochs: 20, init: Float64Array.of(0.5, -0.5, 1), batchSize: null, seed: 0, onLoss: () => {} };
      const fast = await engineChunk(engine, request);
      const reference = await engineChunk(twin(), request);
      expect(fast.epochs).toBe(20);
      expect(relativeError(fast.theta, reference.theta).rel).toBeLessThan(SAME_STEPS);
    } finally {
      engine.dispose();
      surface.dispose();
    }
  });

  it('mini-batches: one mean batch loss per finished epoch, numbered from 1; a batch of N or more is full batch', async () => {
    const engine = twin();
    const seen: number[] = [];
    const r = await engineChunk(engine, {
      lr: 0.05, epochs: 3, init: new Float64Array(3), batchSize: 256, seed: 7, onLoss: (offset) => seen.push(offset),
    });
    expect(seen).toEqual([1, 2, 3]);
    expect(r.epochs).toBe(3);
    expect(isMiniBatch(256, 4_000)).toBe(true);
    expect(isMiniBatch(4_000, 4_000)).toBe(false);
    expect(isMiniBatch(null, 4_000)).toBe(false);
  });

  it('full batch stops at the tolerance: from the least-squares point, before any step', async () => {
    const o = leastSquares(data);
    const init = Float64Array.of(o.w[0], o.w[1], o.b);
    const grad = (await twin().lossAndGradient(init)).grad;
    expect(Math.hypot(...grad)).toBeLessThan(TOL); // the premise: the optimum is within the tolerance
    const r = await engineChunk(twin(), { lr: 0.1, epochs: 50, init, batchSize: null, seed: 0, onLoss: () => {} });
    expect(r.stop).toBe('tolerance');
    expect(r.epochs).toBe(0);
  });

  it(`a learning rate past the stable range stops at ${EXPLODE}x the best loss and keeps the last good point`, async () => {
    const losses: number[] = [];
    const r = await engineChunk(twin(), { lr: 2, epochs: 100, init: new Float64Array(3), batchSize: null, seed: 0, onLoss: (_, l) => losses.push(l) });
    expect(r.stop).toBe('diverged');
    expect(r.failedAt).toBeGreaterThan(0);
    expect(r.epochs).toBeLessThan(r.failedAt + 1);
    const kept = (await twin().lossAndGradient(r.theta)).loss;
    const best = Math.min((await twin().lossAndGradient(new Float64Array(3))).loss, ...losses);
    expect(kept).toBeLessThanOrEqual(EXPLODE * best);
  });

  it('an aborted chunk returns where it stood', async () => {
    const ctl = new AbortController();
    ctl.abort();
    const r = await engineChunk(twin(), { lr: 0.1, epochs: 50, init: Float64Array.of(1, 2, 3), batchSize: null, seed: 0, signal: ctl.signal, onLoss: () => {} });
    expect(r.stop).toBe('aborted');
    expect(Array.from(r.theta)).toEqual([1, 2, 3]);
  });
});
