import { describe, expect, it } from 'vitest';
import { CpuModelEngine } from '../../src/cpu/cpu-model-engine.ts';
import { accuracy } from '../../src/cpu/mlp_gradient.ts';
import { linearModel, logisticModel, mlpModel, softmaxModel } from '../../src/models/mlp.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import type { ModelSnapshot } from '../../src/models/model-engine.ts';
import { makeBlobs, makeCheckData, makeSeparable, makeSpirals, makeXor } from '../model-data.ts';

// Training accuracies on generated data with known answers (float64 CPU path). The GPU tests repeat them.
describe('CPU models learn', () => {
  it('logistic regression: 100 % on linearly separable data', async () => {
    const data = makeSeparable(400, 3);
    const c = logisticModel(3);
    const r = await new CpuModelEngine(c, data).train({ lr: 0.1, maxEpochs: 400, optimizer: optimizerConfig({ kind: 'adam' }) });
    expect(accuracy(c, r.theta, data)).toBe(1);
    expect(r.epochs).toBe(400);
  });

  it('softmax regression: >= 99 % on four well-separated Gaussian blobs', async () => {
    const data = makeBlobs(100, 4, 3);
    const c = softmaxModel(3, 4);
    const r = await new CpuModelEngine(c, data).train({ lr: 0.05, maxEpochs: 300, optimizer: optimizerConfig({ kind: 'momentum' }) });
    expect(accuracy(c, r.theta, data)).toBeGreaterThanOrEqual(0.99);
  });

  it('mlp learns XOR (100 %), which logistic regression cannot (<= 75 %)', async () => {
    const data = makeXor(25);
    const c = mlpModel(2, [8], 'tanh', 'bce');
    const r = await new CpuModelEngine(c, data).train({ lr: 0.05, maxEpochs: 500, optimizer: optimizerConfig({ kind: 'adam' }), seed: 3 });
    expect(accuracy(c, r.theta, data)).toBe(1);
    const lin = await new CpuModelEngine(logisticModel(2), data).train({ lr: 0.05, maxEpochs: 500, optimizer: optimizerConfig({ kind: 'adam' }) });
    expect(accuracy(logisticModel(2), lin.theta, data)).toBeLessThanOrEqual(0.75);
  });

  it('mlp separates two interleaved spirals (>= 99 %); a linear model does not (< 80 %)', async () => {
    const data = makeSpirals(100);
    const c = mlpModel(2, [32, 32], 'tanh', 'ce', 2);
    const r = await new CpuModelEngine(c, data).train({ lr: 0.01, maxEpochs: 2500, optimizer: optimizerConfig({ kind: 'adam' }), seed: 1 });
    const acc = accuracy(c, r.theta, data);
    console.info(`spirals (CPU): training accuracy ${acc}, loss ${r.loss}`);
    expect(acc).toBeGreaterThanOrEqual(0.99);
    const lin = await new CpuModelEngine(softmaxModel(2, 2), data).train({ lr: 0.05, maxEpochs: 500, optimizer: optimizerConfig({ kind: 'adam' }) });
    expect(accuracy(softmaxModel(2, 2), lin.theta, data)).toBeLessThan(0.8);
  });
});

describe('CPU training runs', () => {
  it('resume from a snapshot gives exactly the uninterrupted result (adam, cosine schedule with warm-up, L2)', async () => {
    const data = makeXor(10, 21);
    const c = mlpModel(2, [6, 5], 'relu', 'bce');
    const base = {
      lr: 0.05, maxEpochs: 60, seed: 4, optimizer: optimizerConfig({ kind: 'adam', weightDecay: 1e-3 }),
      schedule: { kind: 'cosine', total: 50, warmup: 5 } as const,
    };
    const whole = await new CpuModelEngine(c, data).train(base);
    let mid: ModelSnapshot | null = null;
    await new CpuModelEngine(c, data).train({ ...base, maxEpochs: 25, onSnapshot: (s) => { mid = s; }, reportEvery: 25 });
    expect(mid!.optim.t).toBe(25);
    const rest = await new CpuModelEngine(c, data).train({ ...base, resumeFrom: mid! });
    expect(Array.from(rest.theta)).toEqual(Array.from(whole.theta));
    expect(rest.epochs).toBe(60);
    expect(rest.snapshot.optim.t).toBe(60);
  });

  it('reports divergence with the last good parameters and rejects bad options by name', async () => {
    // Least squares with lr far above 2 / (largest Hessian eigenvalue): the loss grows geometrically.
    const reg = makeCheckData(30, 2, 'mse', 1);
    const r = await new CpuModelEngine(linearModel(2), reg).train({ lr: 50, maxEpochs: 50, optimizer: optimizerConfig({ kind: 'sgd' }), explodeFactor: 10 });
    expect(r.stopReason).toBe('diverged');
    expect(r.divergedAtEpoch).toBeGreaterThan(0);
    expect(r.epochs).toBe(r.divergedAtEpoch! - 1);
    expect(Number.isFinite(r.loss)).toBe(true);
    const data = makeBlobs(20, 3, 2, 3);
    const c = softmaxModel(2, 3);
    const e = new CpuModelEngine(c, data);
    await expect(e.train({ lr: -1, maxEpochs: 1, optimizer: optimizerConfig() })).rejects.toThrow(/lr/);
    await expect(e.train({ lr: 1, maxEpochs: 1.5, optimizer: optimizerConfig() })).rejects.toThrow(/^maxEpochs: /);
    await expect(e.train({ lr: 1, maxEpochs: 1, batchSize: 4, seed: -3, optimizer: optimizerConfig() })).rejects.toThrow(/seed: expected a non-negative integer, got -3/);
    await expect(e.lossAndGradient([1, 2])).rejects.toThrow(/parameters/);
    expect(() => new CpuModelEngine(c, { ...data, y: data.y.map(() => 7) })).toThrow(/label/);
    expect(() => new CpuModelEngine(mlpModel(2, [0], 'relu', 'mse'), data)).toThrow(/hidden/);
  });
});
