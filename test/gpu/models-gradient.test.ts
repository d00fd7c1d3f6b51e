import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { GpuModelEngine } from '../../src/gpu/models/gpu-model-engine.ts';
import type { ProductKernels } from '../../src/gpu/models/mlp-passes.ts';
import { modelLossAndGradient } from '../../src/cpu/mlp_gradient.ts';
import { initParameters, type NetworkConfig } from '../../src/models/network.ts';
import { linearModel, logisticModel, mlpModel, softmaxModel } from '../../src/models/mlp.ts';
import { makeCheckData } from '../model-data.ts';
import { mulberry32, relativeError } from '../data-gen.ts';

// float32 forward, head and backward against float64 on the same float32 data and parameters. Each
// partial is a chunk sum (<= 256 terms) then a 32-lane tree, after at most a few float32 products per
// layer: ~(256 + depth) eps ~ 1.6e-5 of sum |terms| at worst, ~sqrt of that typically (measured on
// SwiftShader: <= 2.3e-7). 1e-5 norm-wise leaves headroom; a wrong index or missing slope gives O(1).
const GRAD_REL_TOL = 1e-5;

async function compare(c: NetworkConfig, n: number, seed: number, workgroupSize?: number, products?: ProductKernels) {
  const gpu = await testGpu();
  const data = makeCheckData(n, c.inputs, c.head, c.outputs, seed);
  const theta = initParameters(c, seed);
  const rand = mulberry32(seed);
  for (let k = 0; k < theta.length; k++) theta[k] = Math.fround(theta[k] + 0.3 * (rand() * 2 - 1));
  const engine = await GpuModelEngine.create(gpu, c, data, { workgroupSize, products });
  try {
    engine.fillOutputs(NaN); // a skipped entry would stay NaN
    const got = await engine.lossAndGradient(theta);
    const want = modelLossAndGradient(c, theta, data);
    const e = relativeError(got.grad, want.grad);
    console.info(`${c.kind} [${c.hidden}] ${c.activation} ${c.head} n=${n} ${typeof products === 'object' ? JSON.stringify(products) : products ?? 'auto'}: gradient rel ${e.rel.toExponential(2)}, loss rel ${(Math.abs(got.loss - want.loss) / want.loss).toExponential(2)}`);
    expect(e.rel, e.worst).toBeLessThanOrEqual(GRAD_REL_TOL);
    expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThanOrEqual(GRAD_REL_TOL);
    return { engine, got };
  } finally {
    engine.dispose();
  }
}

describe('GPU model loss and gradient vs float64 CPU', () => {
  it('linear (mse), logistic (bce) and softmax (ce, K = 7) regression', async () => {
    await compare(linearModel(5), 1000, 1);
    await compare(logisticModel(6), 1237, 2); // several chunks, ragged last chunk
    await compare(softmaxModel(4, 7), 999, 3);
  });
  it('mlps: relu / tanh / sigmoid, every head, one to three hidden layers', async () => {
    await compare(mlpModel(3, [16], 'relu', 'mse'), 700, 4);
    await compare(mlpModel(3, [12, 9], 'tanh', 'ce', 4), 513, 5, 64);
    await compare(mlpModel(2, [8, 8, 6], 'sigmoid', 'bce'), 301, 6);
    await compare(mlpModel(5, [40], 'relu', 'ce', 3), 2000, 7, 128);
  });
  it('tiled and one-thread-per-output products, wide and narrow layers, ragged tiles and splits', async () => {
    // 37 inputs, 70 and 33 units: every 64 x 64 tile of the products is partly padding; 300 samples
    // make two splits of the weight gradient (256 + 44).
    const wide = mlpModel(37, [70, 33], 'relu', 'ce', 5);
    const tiled = await compare(wide, 300, 9, undefined, 'tiled');
    const simple = await compare(wide, 300, 9, undefined, 'simple');
    expect(relativeError(tiled.got.grad, simple.got.grad).rel).toBeLessThanOrEqual(GRAD_REL_TOL);
    await compare(mlpModel(3, [12, 9], 'tanh', 'ce', 4), 513, 5, undefined, 'tiled');
    await compare(mlpModel(64, [96], 'sigmoid', 'mse'), 130, 10); // auto: tiled first layer, simple head layer
  });
  it('register-blocked products (mlp_gemm_blocked.wgsl), with and without quad row sharing, on every layer', async () => {
    const gpu = await testGpu();
    const wide = mlpModel(37, [70, 33], 'relu', 'ce', 5);
    const plain = { kernel: 'blocked', rm: 8, rn: 8, quad: false, wg: 64, groups: 4 } as const;
    await compare(wide, 300, 9, undefined, plain);
    await compare(mlpModel(3, [12, 9], 'tanh', 'ce', 4), 513, 5, undefined, { ...plain, rm: 4, rn: 4, groups: 4096 });
    if (gpu.device.features.has('subgroups')) {
      await compare(wide, 300, 9, undefined, { ...plain, rm: 8, rn: 4, quad: true });
      await compare(mlpModel(2, [8, 8, 6], 'sigmoid', 'bce'), 301, 6, undefined, { ...plain, rm: 16, rn: 4, quad: true, groups: 1 });
    }
  });
  it('is bit-identical when rerun', async () => {
    const gpu = await testGpu();
    const c = mlpModel(3, [10, 6], 'tanh', 'ce', 3);
    const data = makeCheckData(777, 3, 'ce', 3, 8);
    const engine = await GpuModelEngine.create(gpu, c, data);
    try {
      const theta = initParameters(c, 8);
      const a = await engine.lossAndGradient(theta);
      engine.fillOutputs(NaN);
      const b = await engine.lossAndGradient(theta);
      expect(Array.from(b.grad)).toEqual(Array.from(a.grad));
      expect(b.loss).toBe(a.loss);
    } finally {
      engine.dispose();
    }
  });
  it('rejects bad input naming it', async () => {
    const gpu = await testGpu();
    const c = softmaxModel(2, 3);
    const data = makeCheckData(10, 2, 'ce', 3, 9);
    await expect(GpuModelEngine.create(gpu, c, { ...data, d: 3 })).rejects.toThrow(/features/);
    await expect(GpuModelEngine.create(gpu, c, { ...data, y: data.y.map(() => 3) })).rejects.toThrow(/label/);
    const engine = await GpuModelEngine.create(gpu, c, data);
    try {
      await expect(engine.lossAndGradient([1])).rejects.toThrow(/parameters/);
    } finally {
      engine.dispose();
    }
  });
});
