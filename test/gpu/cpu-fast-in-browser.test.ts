// The fast CPU path in the page (the browser project runs this in headless Chromium): the demo's CPU mode uses
// it on the page's thread (InlinePool), so its WebAssembly SIMD kernels must build and agree with the float64
// twin there too. Tolerance as test/node/cpu-fast.test.ts: 2e-5 of the distance travelled after training.
import { describe, expect, it } from 'vitest';
import { FastCpuModelEngine } from '../../src/cpu-fast/fast-engines.ts';
import { FastCpuFormulaEngine } from '../../src/cpu-fast/formula-engine.ts';
import { linearFormulaModel, linearTheta } from '../../src/models/linear-formula.ts';
import { CpuModelEngine } from '../../src/cpu/cpu-model-engine.ts';
import { linearGradient } from '../../src/cpu/linear_partials.ts';
import { mlpModel } from '../../src/models/mlp.ts';
import { initParameters } from '../../src/models/network.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { makeSpirals } from '../model-data.ts';
import { makeLinearData } from '../data-gen.ts';

describe('fast CPU path in the browser', () => {
  it('an MLP trains to the float64 twin\'s parameters (WebAssembly SIMD in the page)', async () => {
    expect(WebAssembly.validate).toBeTypeOf('function');
    const config = mlpModel(2, [16, 16], 'tanh', 'bce');
    const data = makeSpirals(100);
    const options = { lr: 0.01, maxEpochs: 20, optimizer: optimizerConfig({ kind: 'adam' }), seed: 3 };
    const engine = new FastCpuModelEngine(config, data);
    expect(engine.kernels).toBe('wasm'); // Chromium has WebAssembly SIMD: 'auto' must pick it
    const fast = await engine.train(options);
    const ref = await new CpuModelEngine(config, data).train(options);
    const start = initParameters(config, 3);
    let travelled = 0, diff = 0;
    for (let k = 0; k < start.length; k++) {
      travelled = Math.max(travelled, Math.abs(ref.theta[k] - start[k]));
      diff = Math.max(diff, Math.abs(fast.theta[k] - ref.theta[k]));
    }
    expect(travelled).toBeGreaterThan(0);
    expect(diff).toBeLessThanOrEqual(2e-5 * travelled);
  });

  it('the linear model\'s gradient (the WebAssembly SIMD linear kernel in the page) equals the hand-derived float64 one to 1e-12', async () => {
    // Both sum in float64 over the same float32 rows; only the order of the additions differs.
    const data = makeLinearData(10_001, 5, 2);
    const at = { w: [0.1, -0.2, 0.3, 0.4, -0.5], b: 0.25 };
    const engine = new FastCpuFormulaEngine(linearFormulaModel(5), data, new Float64Array(6));
    try {
      expect(engine.kernel).toBe('linear-wasm'); // Chromium has WebAssembly SIMD: 'auto' must pick it
      const g = await engine.lossAndGradient(linearTheta(at));
      const ref = linearGradient(data, at);
      expect(Math.abs(g.loss - ref.loss)).toBeLessThanOrEqual(1e-12 * ref.loss);
      for (let j = 0; j < 5; j++) expect(Math.abs(g.grad[j] - ref.gradW[j])).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(ref.gradW[j])));
      expect(Math.abs(g.grad[5] - ref.gradB)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(ref.gradB)));
    } finally {
      engine.dispose();
    }
  });
});
