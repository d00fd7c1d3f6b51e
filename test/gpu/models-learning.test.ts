import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { GpuModelEngine } from '../../src/gpu/models/gpu-model-engine.ts';
import { CpuModelEngine } from '../../src/cpu/cpu-model-engine.ts';
import { accuracy } from '../../src/cpu/mlp_gradient.ts';
import { logisticModel, mlpModel, softmaxModel } from '../../src/models/mlp.ts';
import type { ModelData, NetworkConfig } from '../../src/models/network.ts';
import type { ModelSnapshot, ModelTrainOptions } from '../../src/models/model-engine.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { makeBlobs, makeSeparable, makeSpirals, makeXor } from '../model-data.ts';
import { relativeError } from '../data-gen.ts';

async function trainGpu(c: NetworkConfig, data: ModelData, o: ModelTrainOptions) {
  const engine = await GpuModelEngine.create(await testGpu(), c, data);
  try {
    return await engine.train(o);
  } finally {
    engine.dispose();
  }
}

describe('GPU models learn (accuracy measured with the float64 forward pass)', () => {
  it('logistic regression: 100 % on separable data; softmax: >= 99 % on Gaussian blobs', async () => {
    const sep = makeSeparable(400, 3);
    const r1 = await trainGpu(logisticModel(3), sep, { lr: 0.1, maxEpochs: 400, optimizer: optimizerConfig({ kind: 'adam' }) });
    expect(accuracy(logisticModel(3), r1.theta, sep)).toBe(1);
    const blobs = makeBlobs(100, 4, 3);
    const r2 = await trainGpu(softmaxModel(3, 4), blobs, { lr: 0.05, maxEpochs: 300, optimizer: optimizerConfig({ kind: 'momentum' }) });
    expect(accuracy(softmaxModel(3, 4), r2.theta, blobs)).toBeGreaterThanOrEqual(0.99);
  });

  it('mlp learns XOR: 100 %', async () => {
    const xor = makeXor(25);
    const cx = mlpModel(2, [8], 'tanh', 'bce');
    const r1 = await trainGpu(cx, xor, { lr: 0.05, maxEpochs: 500, optimizer: optimizerConfig({ kind: 'adam' }), seed: 3 });
    expect(accuracy(cx, r1.theta, xor)).toBe(1);
  });
});

describe('GPU training runs', () => {
  const c = mlpModel(2, [8, 6], 'tanh', 'ce', 2);
  const data = makeSpirals(40, 5);
  const base: ModelTrainOptions = {
    lr: 0.02, maxEpochs: 40, seed: 2, optimizer: optimizerConfig({ kind: 'adamw', weightDecay: 0.01 }),
    schedule: { kind: 'cosine', total: 40, warmup: 4 }, reportEvery: 8,
  };

  it('follows the float64 run step by step (loss history and final parameters)', async () => {
    const gpuLoss: number[] = [];
    const cpuLoss: number[] = [];
    const g = await trainGpu(c, data, { ...base, onEpoch: (e) => gpuLoss.push(e.loss) });
    const h = await new CpuModelEngine(c, data).train({ ...base, onEpoch: (e) => cpuLoss.push(e.loss) });
    expect(gpuLoss.length).toBe(41); // epochs 0..39, then the evaluation at the returned parameters
    // float32 vs float64 through 40 updates of a non-convex model: differences grow slowly from ~1e-7.
    const losses = relativeError(gpuLoss, cpuLoss);
    const params = relativeError(g.theta, h.theta);
    console.info(`40 adamw steps: loss history rel ${losses.rel.toExponential(2)}, parameters rel ${params.rel.toExponential(2)}`);
    expect(losses.rel, losses.worst).toBeLessThanOrEqual(1e-4);
    expect(params.rel, params.worst).toBeLessThanOrEqual(1e-4);
    expect(g.epochs).toBe(40);
  });

  it('resumes exactly: 16 + 24 steps give the bits of 40 uninterrupted steps', async () => {
    const whole = await trainGpu(c, data, base);
    let mid: ModelSnapshot | null = null;
    await trainGpu(c, data, { ...base, maxEpochs: 16, onSnapshot: (s) => { mid = s; } });
    expect(mid!.optim.t).toBe(16);
    const rest = await trainGpu(c, data, { ...base, resumeFrom: mid! });
    expect(Array.from(rest.theta)).toEqual(Array.from(whole.theta));
    expect(rest.epochs).toBe(40);
  });
});
