// The divergence rule for losses that may be negative (Poisson's ŷ − y ln ŷ, custom formulas): a loss falling
// below zero is progress, not an explosion; a loss rising by more than (factor − 1)·|best| still diverges.
import { describe, expect, it } from 'vitest';
import { explodes } from '../../src/models/linear.ts';
import { compileFormula, startingParameters } from '../../src/formula/model.ts';
import { CpuFormulaEngine } from '../../src/cpu/formula-engine.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { StartDivergenceError } from '../../src/models/model-engine.ts';
import { describeNonFinite, firstNonFiniteRow } from '../../src/models/formula.ts';
import { CpuModelEngine } from '../../src/cpu/cpu-model-engine.ts';
import { linearModel } from '../../src/models/mlp.ts';
import * as entry from '../../src/index.ts';

describe('explodes', () => {
  it('is loss > factor x best for a positive best', () => {
    expect(explodes(10.1, 1, 10)).toBe(true);
    expect(explodes(9.9, 1, 10)).toBe(false);
  });
  it('measures a negative best by its magnitude', () => {
    expect(explodes(-20, -10, 10)).toBe(false); // falling
    expect(explodes(-5, -10, 10)).toBe(false); // risen by 5 < 9 x 10
    expect(explodes(81, -10, 10)).toBe(true); // risen by 91 > 90
  });
  it('never fires before a best exists', () => {
    expect(explodes(1e300, Infinity, 10)).toBe(false);
  });
});

describe('a Poisson fit whose loss goes negative', () => {
  it('trains to the mean count instead of stopping as diverged', async () => {
    const model = compileFormula({ formula: 'y ~ exp(a)', loss: 'poisson' }, { columns: ['y'] });
    const y = Float32Array.from([10, 10, 10]);
    const engine = new CpuFormulaEngine(model, { x: new Float32Array(0), y, n: 3, d: 0 }, startingParameters(model, { a: 0 }));
    const fit = await engine.train({ lr: 0.01, maxEpochs: 3000, optimizer: optimizerConfig({ kind: 'sgd' }) });
    expect(fit.stopReason).toBe('max-epochs');
    expect(fit.loss).toBeLessThan(0);
    expect(fit.theta[0]).toBeCloseTo(Math.log(10), 3);
  });
});

describe('divergence at the last update', () => {
  const xs = Float32Array.from({ length: 50 }, (_, i) => 1 + i / 5);
  const data = (y: (x: number) => number) => ({ x: xs, y: Float32Array.from(xs, y), n: xs.length, d: 1 });
  const sgd = optimizerConfig({ kind: 'sgd' });

  it('is judged like any other: a run of N epochs stops where a longer one does, with the same parameters', async () => {
    const model = compileFormula({ formula: 'y ~ a*x' }, { columns: ['x', 'y'] });
    const d = data((x) => 3 * x);
    const run = (maxEpochs: number) => new CpuFormulaEngine(model, d, Float64Array.of(0)).train({ lr: 5, maxEpochs, optimizer: sgd });
    const long = await run(50);
    expect(long.stopReason).toBe('diverged');
    const short = await run(long.divergedAtEpoch!);
    expect(short.stopReason).toBe('diverged');
    expect(short.divergedAtEpoch).toBe(long.divergedAtEpoch);
    expect(Array.from(short.theta)).toEqual(Array.from(long.theta));
    expect(short.loss).toBe(long.loss);
  });

  it('a last step outside the formula\'s domain keeps the parameters before it', async () => {
    const model = compileFormula({ formula: 'y ~ 10*log(x - a)' }, { columns: ['x', 'y'] });
    const fit = await new CpuFormulaEngine(model, data(() => 0), Float64Array.of(-1)).train({ lr: 1, maxEpochs: 1, optimizer: sgd });
    expect(fit.stopReason).toBe('diverged');
    expect(fit.divergedAtEpoch).toBe(1);
    expect(Array.from(fit.theta)).toEqual([-1]);
    expect(Number.isFinite(fit.loss)).toBe(true);
    // The parameters it stepped to are reported, and there the formula is undefined from the first row on.
    expect(fit.divergedTheta![0]).toBeGreaterThan(xs[0]);
    expect(firstNonFiniteRow(model, fit.divergedTheta!, data(() => 0))?.row).toBe(0);
  });

  it('the package exports firstNonFiniteRow: a library user names the row a run diverged on, as the CLI does', async () => {
    const model = compileFormula({ formula: 'y ~ sqrt(a + b*x)' }, { columns: ['x', 'y'] });
    const rows = { x: Float32Array.of(1, 0.5, -0.2, 2), y: Float32Array.of(3, 1.5, -0.6, 6), n: 4, d: 1 };
    const fit = await new CpuFormulaEngine(model, rows, Float64Array.of(1, 1)).train({ lr: 2, maxEpochs: 100, optimizer: sgd });
    expect(fit.stopReason).toBe('diverged');
    const bad = entry.firstNonFiniteRow(model, fit.divergedTheta!, rows);
    expect(bad).toMatchObject({ row: 2 });
    expect(Number.isNaN(bad!.yhat)).toBe(true);
    expect(entry.firstNonFiniteRow(model, fit.theta, rows)).toBeNull();
  });

  it('not finite at the start is a StartDivergenceError, saying whether only the gradient is', async () => {
    const model = compileFormula({ formula: 'y ~ a*x^p' }, { columns: ['x', 'y'] });
    // x^p at x < 0 is not finite for p = 1.5: the loss is NaN on those rows.
    const d = { x: Float32Array.of(-1, 1, 2), y: Float32Array.of(1, 1, 2), n: 3, d: 1 };
    const error = await new CpuFormulaEngine(model, d, Float64Array.of(1, 1.5)).train({ lr: 0.1, maxEpochs: 3, optimizer: sgd }).catch((e) => e);
    expect(error).toBeInstanceOf(StartDivergenceError);
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toMatch(/initial parameters: loss NaN; the model is not finite on row 1 \(yhat = NaN, loss = NaN.*; x = -1, y = 1\); check the starting parameters/);
  });
});

describe('firstNonFiniteRow', () => {
  it('finds a row where only a slope is not finite, and says so', () => {
    // sqrt(a*x) at x = 0 is 0, its slope in a is x / (2 sqrt(a x)) = 0/0.
    const model = compileFormula({ formula: 'y ~ sqrt(a*x)' }, { columns: ['x', 'y'] });
    const bad = firstNonFiniteRow(model, [2], { x: Float32Array.of(1, 0, 4), y: Float32Array.of(1, 0, 3), n: 3, d: 1 });
    expect(bad).toMatchObject({ row: 1, yhat: 0, loss: 0 });
    expect(Number.isNaN(bad!.partials.a)).toBe(true);
    expect(describeNonFinite(bad!)).toEqual({ what: 'the gradient', values: 'yhat = 0, loss = 0, ∂ℓ/∂a = NaN' });
  });
});

describe('dispose during a run', () => {
  it('stops the float64 twins\' runs, as it stops the fast engines\'', async () => {
    const model = compileFormula({ formula: 'y ~ a*x' }, { columns: ['x', 'y'] });
    const xs = Float32Array.from({ length: 20 }, (_, i) => i);
    const engine = new CpuFormulaEngine(model, { x: xs, y: xs, n: 20, d: 1 }, Float64Array.of(0));
    let epochs = 0;
    const run = engine.train({ lr: 1e-4, maxEpochs: 100_000, reportEvery: 1, optimizer: optimizerConfig({ kind: 'sgd' }), onEpoch: () => { if (++epochs === 10) engine.dispose(); } });
    await expect(run).rejects.toThrow(/used after dispose/);
    const net = new CpuModelEngine(linearModel(1), { x: xs, y: xs, n: 20, d: 1 });
    epochs = 0;
    const netRun = net.train({ lr: 1e-4, maxEpochs: 100_000, reportEvery: 1, optimizer: optimizerConfig({ kind: 'sgd' }), onEpoch: () => { if (++epochs === 10) net.dispose(); } });
    await expect(netRun).rejects.toThrow(/used after dispose/);
  });
});

describe('explosions under mini-batches', () => {
  const sgd = optimizerConfig({ kind: 'sgd' });
  // y = 2x + 1 on 256 rows; rows 64 on carry ±0.01 of noise: from the true parameters the first batch (64 rows in
  // shuffled order) may hold almost no noise, its loss ~1e-11, and every other batch's ~1e-5 is 10^6 times that.
  const xs = Float32Array.from({ length: 256 }, (_, i) => i / 64);
  const ys = Float32Array.from(xs, (x, i) => 2 * x + 1 + (i >= 64 ? 0.01 * Math.sin(7 * i) : 0));
  const model = compileFormula({ formula: 'y ~ a*x + b' }, { columns: ['x', 'y'] });

  it('are judged against the best epoch mean, not the best single batch: a good fit with noisy batches trains on', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const fit = await new CpuFormulaEngine(model, { x: xs, y: ys, n: 256, d: 1 }, Float64Array.of(2, 1)).train({ lr: 1e-4, maxEpochs: 20, batchSize: 16, seed, optimizer: sgd });
      expect(fit.stopReason, `seed ${seed}`).toBe('max-epochs');
    }
  });

  it('still stop a run whose batch loss explodes past the best epoch mean, with the parameters before it', async () => {
    const fit = await new CpuFormulaEngine(model, { x: xs, y: ys, n: 256, d: 1 }, Float64Array.of(0, 0)).train({ lr: 2, maxEpochs: 50, batchSize: 16, seed: 1, optimizer: sgd, explodeFactor: 100 });
    expect(fit.stopReason).toBe('diverged');
    expect(fit.theta.every(Number.isFinite)).toBe(true);
    expect(fit.divergedAtEpoch).toBeGreaterThanOrEqual(1);
  });
});
