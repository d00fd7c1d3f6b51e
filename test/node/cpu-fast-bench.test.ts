// The CPU bench's yardsticks are honest: the plain Float32Array MLP computes the float64 twin's gradient
// (to float32 rounding) and trains the same job as the fast engine; the read loop sums what it reads.
import { describe, expect, it } from 'vitest';
import { PlainMlp, plainSum } from '../../bench/suite/cpu-plain.ts';
import { makeSpiralData } from '../../bench/suite/cpu-suite.ts';
import { MLP_GRAD_REL_TOL } from '../../bench/suite/mlp-data.ts';
import { FastCpuModelEngine } from '../../src/cpu-fast/fast-engines.ts';
import { modelLossAndGradient } from '../../src/cpu/mlp_gradient.ts';
import { mlpModel } from '../../src/models/mlp.ts';
import { initParameters } from '../../src/models/network.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { makeBlobs } from '../model-data.ts';
import { relativeError } from '../data-gen.ts';

describe('bench:cpu yardsticks', () => {
  it('plain MLP: the float64 gradient (bce and ce heads), to float32 rounding', () => {
    for (const [c, data] of [[mlpModel(2, [16, 8], 'tanh', 'bce'), makeSpiralData(300)], [mlpModel(5, [12], 'relu', 'ce', 4), makeBlobs(50, 4, 5)]] as const) {
      const theta = initParameters(c, 2);
      const plain = new PlainMlp(c, theta);
      const loss = plain.lossAndGradient(data, 0, data.n);
      const want = modelLossAndGradient(c, theta, data);
      expect(relativeError(plain.gradient(), want.grad).rel).toBeLessThanOrEqual(MLP_GRAD_REL_TOL);
      expect(Math.abs(loss - want.loss) / want.loss).toBeLessThanOrEqual(MLP_GRAD_REL_TOL);
    }
  });

  it('plain MLP trains the same job as the fast engine (Adam, mini-batches in BatchSchedule order)', async () => {
    const c = mlpModel(2, [16, 8], 'tanh', 'bce');
    const data = makeSpiralData(400);
    const theta0 = initParameters(c, 2).map(Math.fround);
    const optimizer = optimizerConfig({ kind: 'adam' });
    const plain = new PlainMlp(c, theta0).train(data, 100, 3, 4, optimizer, 0.01);
    let fastLoss = NaN;
    await new FastCpuModelEngine(c, data).train({ lr: 0.01, maxEpochs: 5, batchSize: 100, seed: 3, init: theta0, optimizer, onEpoch: (i) => (fastLoss = i.loss) });
    expect(Math.abs(plain.lastLoss - fastLoss) / fastLoss).toBeLessThanOrEqual(1e-4);
  });

  it('spiral data: two classes, interleaved, radius up to 1', () => {
    const d = makeSpiralData(2000);
    expect([d.n, d.d, d.x.length]).toEqual([2000, 2, 4000]);
    expect(d.y.reduce((s, v) => s + v, 0)).toBe(1000);
    expect(Math.max(...Array.from(d.x, Math.abs))).toBeLessThanOrEqual(1.02);
  });

  it('the read loop sums every value', () => {
    const a = Float32Array.from({ length: 1_003 }, (_, i) => i);
    expect(plainSum(a)).toBe((1_002 * 1_003) / 2);
  });
});
