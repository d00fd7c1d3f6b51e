// An engine's calls share its buffers (parameters, optimizer state, partials, read-back): calls made at once, as a
// server answering two requests makes them, run one after another and give what each gives alone, bit for bit.
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { GpuFormulaEngine } from '../../src/gpu/formula/gpu-formula-engine.ts';
import { GpuModelEngine } from '../../src/gpu/models/gpu-model-engine.ts';
import { compileFormula } from '../../src/formula/model.ts';
import { mlpModel } from '../../src/models/mlp.ts';
import { initParameters } from '../../src/models/network.ts';
import { optimizerConfig } from '../../src/optim/config.ts';

const n = 512;
const x = Float32Array.from({ length: n }, (_, i) => (i / n) * 2);
const y = Float32Array.from(x, (v, i) => 1.5 * (1 - Math.exp(-0.8 * v)) + 0.01 * Math.sin(i));
const data = { x, y, n, d: 1 };
const adam = { lr: 0.05, maxEpochs: 8, optimizer: optimizerConfig({ kind: 'adam' }), batchSize: 128 };
const sgd = { ...adam, optimizer: optimizerConfig({ kind: 'sgd' }), seed: 3 };

describe('calls made at once on one GPU engine', () => {
  it('GpuFormulaEngine: gradients, training runs and normal equations, each as alone; a failed call stops none', async () => {
    const model = compileFormula({ formula: 'y ~ b1*(1-exp(-b2*x))' }, { columns: ['x', 'y'] });
    const engine = await GpuFormulaEngine.create(await testGpu(), model, data, Float64Array.of(1, 0.5), { tuning: false });
    try {
      const thetas = [[1, 0.5], [2, 0.1], [0.5, 2]];
      const gradients = [];
      for (const t of thetas) gradients.push(await engine.lossAndGradient(t));
      const trained = [await engine.train(adam), await engine.train(sgd)];
      const normal = await engine.normalEquations([1, 0.5]);
      const bad = engine.lossAndGradient([NaN, 1]);
      // Every call below is made before any of them is awaited.
      const atOnce = { gradients: thetas.map((t) => engine.lossAndGradient(t)), trained: [engine.train(adam), engine.train(sgd)], normal: engine.normalEquations([1, 0.5]) };
      await expect(bad).rejects.toThrow(/theta: b1 = NaN/);
      expect(await Promise.all(atOnce.gradients)).toEqual(gradients);
      expect((await Promise.all(atOnce.trained)).map((r) => Array.from(r.theta))).toEqual(trained.map((r) => Array.from(r.theta)));
      expect(Array.from(await atOnce.normal)).toEqual(Array.from(normal));
    } finally {
      engine.dispose();
    }
  });

  it('GpuModelEngine: gradients and training runs, each as alone', async () => {
    const config = mlpModel(1, [8], 'tanh', 'mse');
    const engine = await GpuModelEngine.create(await testGpu(), config, data);
    try {
      const thetas = [1, 2, 3].map((seed) => initParameters(config, seed));
      const gradients = [];
      for (const t of thetas) gradients.push(await engine.lossAndGradient(t));
      const trained = [await engine.train(adam), await engine.train(sgd)];
      const atOnce = { gradients: thetas.map((t) => engine.lossAndGradient(t)), trained: [engine.train(adam), engine.train(sgd)] };
      expect(await Promise.all(atOnce.gradients)).toEqual(gradients);
      expect((await Promise.all(atOnce.trained)).map((r) => Array.from(r.theta))).toEqual(trained.map((r) => Array.from(r.theta)));
    } finally {
      engine.dispose();
    }
  });
});
