// A network with a formula loss (config.loss): the GPU head runs WGSL generated from the loss and its
// derivative (src/gpu/models/head-stage.ts); loss and gradient against the float64 twin, which runs the same
// trees compiled to JavaScript (src/cpu/mlp_gradient.ts headLoss).
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { GpuModelEngine } from '../../src/gpu/models/gpu-model-engine.ts';
import { modelLossAndGradient } from '../../src/cpu/mlp_gradient.ts';
import { initParameters, type NetworkConfig } from '../../src/models/network.ts';
import { linearModel, logisticModel, mlpModel } from '../../src/models/mlp.ts';
import { makeCheckData } from '../model-data.ts';
import { mulberry32, relativeError } from '../data-gen.ts';

// As in models-gradient.test.ts: float32 forward, head and backward against float64, chunk sums of <= 256
// terms then a tree: ~sqrt((256 + depth)) eps typically. The generated head adds a few float32 operations per
// sample (ℓ and dℓ/dz of z), rounding each by a few eps relative. 1e-5 norm-wise; a wrong derivative is O(1).
const GRAD_REL_TOL = 1e-5;
const CUSTOM = '(yhat - y)^2 / 2 + 0.1 * (yhat - y)^4 + log(1 + exp(-yhat * y))';

async function compare(c: NetworkConfig, n: number, seed: number) {
  const gpu = await testGpu();
  const data = makeCheckData(n, c.inputs, c.head, c.outputs, seed);
  const theta = initParameters(c, seed);
  const rand = mulberry32(seed);
  for (let k = 0; k < theta.length; k++) theta[k] = Math.fround(theta[k] + 0.3 * (rand() * 2 - 1));
  const engine = await GpuModelEngine.create(gpu, c, data);
  try {
    engine.fillOutputs(NaN); // a skipped entry would stay NaN
    const got = await engine.lossAndGradient(theta);
    const want = modelLossAndGradient(c, theta, data);
    const e = relativeError(got.grad, want.grad);
    const lossRel = Math.abs(got.loss - want.loss) / Math.abs(want.loss);
    console.info(`${c.kind} [${c.hidden}] ${c.activation} loss ${c.loss} n=${n}: gradient rel ${e.rel.toExponential(2)}, loss rel ${lossRel.toExponential(2)}`);
    expect(e.rel, e.worst).toBeLessThanOrEqual(GRAD_REL_TOL);
    expect(lossRel).toBeLessThanOrEqual(GRAD_REL_TOL);
  } finally {
    engine.dispose();
  }
}

describe('GPU network with a formula loss vs float64 CPU', () => {
  it('mlp + huber:1, mae, logcosh and a custom formula', async () => {
    await compare({ ...mlpModel(3, [16], 'relu', 'mse'), loss: 'huber:1' }, 700, 4);
    await compare({ ...mlpModel(3, [12, 9], 'tanh', 'mse'), loss: 'mae' }, 513, 5);
    await compare({ ...mlpModel(2, [8, 6], 'sigmoid', 'mse'), loss: 'logcosh' }, 301, 6);
    await compare({ ...mlpModel(4, [10], 'tanh', 'mse'), loss: CUSTOM }, 1237, 7); // several chunks, ragged last
  });
  it('linear + cauchy, logistic + the logistic loss on its logit', async () => {
    await compare({ ...linearModel(5), loss: 'cauchy:0.5' }, 1000, 1);
    await compare({ ...logisticModel(6), loss: 'logistic' }, 999, 2);
  });
});
