import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { GpuModelEngine } from '../../src/gpu/models/gpu-model-engine.ts';
import { accuracy } from '../../src/cpu/mlp_gradient.ts';
import { mlpModel } from '../../src/models/mlp.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { makeSpirals } from '../model-data.ts';

// Its own file: 400 chained steps of 10 dispatches each are slow on SwiftShader with two cores.
describe('GPU mlp on two interleaved spirals', () => {
  it('reaches >= 99 % training accuracy (2-[16,16]-2 tanh, adam)', async () => {
    const data = makeSpirals(50);
    const c = mlpModel(2, [16, 16], 'tanh', 'ce', 2);
    const engine = await GpuModelEngine.create(await testGpu(), c, data);
    try {
      const started = performance.now();
      const r = await engine.train({ lr: 0.03, maxEpochs: 400, optimizer: optimizerConfig({ kind: 'adam' }), seed: 1 });
      const acc = accuracy(c, r.theta, data);
      console.info(`spirals (GPU): training accuracy ${acc}, loss ${r.loss}, ${((performance.now() - started) / 1000).toFixed(1)} s`);
      expect(acc).toBeGreaterThanOrEqual(0.99);
    } finally {
      engine.dispose();
    }
  });
});
