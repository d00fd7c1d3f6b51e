// The creation check of a generated kernel on cases where float32 itself, not the kernel, is far from the
// float64 twin: a fit near its optimum (the residual a small difference of large values) and sin, cos and tan
// (the kernels' own helpers, formula-trig.test.ts). A correct kernel must pass its check there (it was refused
// as an internal error), and the gradient must agree with the twin within the check's own allowance.
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { GpuFormulaEngine } from '../../src/gpu/formula/gpu-formula-engine.ts';
import { compileFormula } from '../../src/formula/model.ts';
import { checkFormulaResult, formulaReference } from '../../src/gpu/formula/formula-check.ts';
import { TuningCache } from '../../src/gpu/tuning/cache.ts';
import { optimizerConfig } from '../../src/optim/config.ts';

// NIST's Misra1a.
const MISRA_X = [77.6, 114.9, 141.1, 190.8, 239.9, 289.0, 332.8, 378.4, 434.8, 477.3, 536.8, 593.1, 689.1, 760.0];
const MISRA_Y = [10.07, 14.73, 17.94, 23.93, 29.61, 35.18, 40.02, 44.82, 50.76, 55.05, 61.01, 66.4, 75.47, 81.78];

const N = 3000;
const xs = Float32Array.from({ length: N }, (_, i) => (2 * i) / (N - 1));

describe('a correct kernel passes its creation check where float32 alone is far from float64', () => {
  it.each([
    ['y ~ b1*(1-exp(-b2*x)) at its certified optimum', 'y ~ b1*(1-exp(-b2*x))', { x: Float32Array.from(MISRA_X), y: Float32Array.from(MISRA_Y), n: 14, d: 1 }, [238.94212918, 5.5015643181e-4]],
    ['y ~ a*x + s*sin(x)', 'y ~ a*x + s*sin(x)', { x: xs, y: Float32Array.from(xs, (v) => 2 * v + 0.3 * Math.sin(v)), n: N, d: 1 }, [0, 0.1]],
    ['y ~ a*x + s*tan(x/2)', 'y ~ a*x + s*tan(x/2)', { x: xs, y: Float32Array.from(xs, (v) => 2 * v + 0.3 * Math.tan(v / 2)), n: N, d: 1 }, [0, 0.1]],
    ['y ~ a*cos(x) + c', 'y ~ a*cos(x) + c', { x: xs, y: Float32Array.from(xs, (v) => 3 * Math.cos(v) + 1), n: N, d: 1 }, [2.9, 1.05]],
  ] as const)('%s', async (_name, formula, data, at) => {
    const gpu = await testGpu();
    const model = compileFormula({ formula }, { columns: ['x', 'y'] });
    const start = Float64Array.from(at);
    for (const tuning of [false as const, new TuningCache()]) {
      const engine = await GpuFormulaEngine.create(gpu, model, data, start, { tuning });
      try {
        const got = await engine.lossAndGradient(start);
        expect(checkFormulaResult([...got.grad, got.loss], formulaReference(model, start, data, { start: 0, rows: data.n }), model.params), tuning ? 'tuned' : 'untuned').toBeNull();
      } finally {
        engine.dispose();
      }
    }
  });
});

describe('a start float32 cannot compute at', () => {
  it('is a RangeError naming the parameter or the row, before any kernel is tuned', async () => {
    const gpu = await testGpu();
    const model = compileFormula({ formula: 'y ~ a*x + c' }, { columns: ['x', 'y'] });
    const data = { x: xs, y: Float32Array.from(xs, (v) => 2 * v + 1), n: N, d: 1 };
    // ℓ = (1e20 x − y)² passes float32's 3.4e38 once 1e20 x > 1.84e19: from row 278 (x = 0.1847) on. Float64 holds it.
    await expect(GpuFormulaEngine.create(gpu, model, data, Float64Array.of(1e20, 0), { tuning: new TuningCache() }))
      .rejects.toThrow(/^start: at the starting parameters row 278 of the data \(x = 0\.1847\d*, y = 1\.369\d*\) has loss = 3\.4\d\de\+38, beyond float32's range .*train on the CPU/);
    await expect(GpuFormulaEngine.create(gpu, model, data, Float64Array.of(1e39, 0), { tuning: false }))
      .rejects.toThrow(RangeError);
    await expect(GpuFormulaEngine.create(gpu, model, data, Float64Array.of(1e39, 0), { tuning: false })).rejects.toThrow(/^start: at the starting parameters a = 1e\+39 is beyond float32's range/);
    // Every row's loss (1e18·1 − 0)² = 1e36 is within float32; their sum over 3000 rows is not.
    const flat = { x: new Float32Array(N).fill(1), y: new Float32Array(N), n: N, d: 1 };
    await expect(GpuFormulaEngine.create(gpu, model, flat, Float64Array.of(1e18, 0), { tuning: false }))
      .rejects.toThrow(/^start: at the starting parameters every row's loss is within float32's range \(±3\.4e38\), but their sum over the 3000 rows \(3\.000e\+39\) is beyond it/);
    const fine = await GpuFormulaEngine.create(gpu, model, data, Float64Array.of(1e15, 0), { tuning: false });
    fine.dispose();
  });

  it('past the rows checked at creation, stops training at the start naming the row', async () => {
    const gpu = await testGpu();
    const model = compileFormula({ formula: 'y ~ a*x + c' }, { columns: ['x', 'y'] });
    // x = 0 but on row 4501: the creation check's first rows are fine at a = 1e20, that row's loss (1e20 - 1)² is not.
    const n = 5000;
    const data = { x: Float32Array.from({ length: n }, (_, i) => (i === 4500 ? 1 : 0)), y: new Float32Array(n).fill(1), n, d: 1 };
    const engine = await GpuFormulaEngine.create(gpu, model, data, Float64Array.of(1e20, 0), { tuning: false });
    try {
      await expect(engine.train({ lr: 0.1, maxEpochs: 2, optimizer: optimizerConfig({ kind: 'sgd' }) })).rejects.toThrow(
        /^training diverged at the initial parameters: .*; row 4501 of the data \(x = 1, y = 1\) has loss = 1\.000e\+40, beyond float32's range \(±3\.4e38\), though float64 holds it; the GPU computes in float32;/);
    } finally {
      engine.dispose();
    }
  });
});
