// Model mini-batches and the tolerance stop on the GPU, against the float64 twin that takes the same
// batches in the same order (src/models/batches.ts).
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { GpuModelEngine, type GpuModelEngineOptions } from '../../src/gpu/models/gpu-model-engine.ts';
import { CpuModelEngine } from '../../src/cpu/cpu-model-engine.ts';
import { accuracy } from '../../src/cpu/mlp_gradient.ts';
import { linearModel as linearModelFor, logisticModel, mlpModel } from '../../src/models/mlp.ts';
import type { ModelData, NetworkConfig } from '../../src/models/network.ts';
import type { ModelSnapshot, ModelTrainOptions } from '../../src/models/model-engine.ts';
import type { EpochInfo } from '../../src/models/linear.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { makeCheckData, makeSeparable, makeSpirals } from '../model-data.ts';
import { relativeError } from '../data-gen.ts';

async function withGpu<T>(c: NetworkConfig, data: ModelData, options: GpuModelEngineOptions, f: (e: GpuModelEngine) => Promise<T>): Promise<T> {
  const engine = await GpuModelEngine.create(await testGpu(), c, data, options);
  try {
    return await f(engine);
  } finally {
    engine.dispose();
  }
}

describe('GPU model mini-batches', () => {
  const c = mlpModel(2, [8, 6], 'tanh', 'ce', 2);
  const data = makeSpirals(50, 5); // 100 samples: batches of 24 leave a ragged 4
  const base: ModelTrainOptions = { lr: 0.02, maxEpochs: 6, seed: 4, batchSize: 24, optimizer: optimizerConfig({ kind: 'adam' }), reportEvery: 7 };

  it('follows the float64 run batch by batch (epoch losses, parameters)', async () => {
    const gpu: EpochInfo[] = [];
    const cpu: EpochInfo[] = [];
    const g = await withGpu(c, data, { maxBatchRows: 24 }, (e) => e.train({ ...base, onEpoch: (i) => gpu.push(i) }));
    const h = await new CpuModelEngine(c, data).train({ ...base, onEpoch: (i) => cpu.push(i) });
    expect(g.updates).toBe(30);
    expect(h.updates).toBe(30);
    expect([g.epochs, h.epochs]).toEqual([6, 6]);
    expect(gpu.map((e) => e.epoch)).toEqual([0, 1, 2, 3, 4, 5]);
    // float32 vs float64 through 30 updates (same tolerance as the full-batch comparison).
    const losses = relativeError(gpu.map((e) => e.loss), cpu.map((e) => e.loss));
    const params = relativeError(g.theta, h.theta);
    expect(losses.rel, losses.worst).toBeLessThanOrEqual(1e-4);
    expect(params.rel, params.worst).toBeLessThanOrEqual(1e-4);
    // The reported final loss is the full-data one, not a batch's.
    expect(relativeError([g.loss], [h.loss]).rel).toBeLessThanOrEqual(1e-4);
    // Mini-batches are not the full batch: the same 6 epochs at full batch end elsewhere.
    const full = await new CpuModelEngine(c, data).train({ ...base, batchSize: undefined });
    expect(relativeError(full.theta, h.theta).rel).toBeGreaterThan(1e-2);
  });

  it('resumes at an epoch end to the bits of an uninterrupted run, whatever the slots per submit', async () => {
    const whole = await withGpu(c, data, { maxBatchRows: 24 }, (e) => e.train(base));
    let mid: ModelSnapshot | null = null;
    // One epoch per submit here, seven (as many as 64 slots hold) in the uninterrupted run.
    await withGpu(c, data, { maxBatchRows: 24 }, (e) => e.train({ ...base, maxEpochs: 2, reportEvery: 1, onSnapshot: (s) => { mid = s; } }));
    expect(mid!.optim.t).toBe(10);
    const rest = await withGpu(c, data, { maxBatchRows: 32 }, (e) => e.train({ ...base, resumeFrom: mid! }));
    expect(Array.from(rest.theta)).toEqual(Array.from(whole.theta));
    await expect(withGpu(c, data, {}, (e) => e.train({ ...base, batchSize: 32, resumeFrom: mid! }))).rejects.toThrow(/resume: the snapshot was trained with batchSize \d+, this run with batchSize 32: resume with the batch size/);
  });

  it('evaluates the full gradient piece by piece when the data exceed one evaluation', async () => {
    const theta = new CpuModelEngine(c, data);
    const ref = await theta.lossAndGradient(await withGpu(c, data, {}, async (e) => (await e.train({ ...base, maxEpochs: 1 })).theta));
    const at = Float64Array.from(ref.grad.map((_, k) => Math.sin(k))); // any parameters
    const whole = await withGpu(c, data, {}, (e) => e.lossAndGradient(at));
    const pieces = await withGpu(c, data, { maxBatchRows: 24 }, (e) => e.lossAndGradient(at));
    const f64 = await theta.lossAndGradient(at);
    // float32 sums over 100 samples: 1e-5 as for every GPU gradient.
    expect(relativeError(pieces.grad, f64.grad).rel).toBeLessThanOrEqual(1e-5);
    expect(relativeError([pieces.loss], [f64.loss]).rel).toBeLessThanOrEqual(1e-5);
    expect(relativeError(pieces.grad, whole.grad).rel).toBeLessThanOrEqual(1e-5);
    await expect(withGpu(c, data, { maxBatchRows: 24 }, (e) => e.train({ ...base, batchSize: 25 }))).rejects.toThrow(/batch size: 25 samples exceed the 24/);
    await expect(withGpu(c, data, { maxBatchRows: 24 }, (e) => e.train({ ...base, batchSize: undefined }))).rejects.toThrow(/batch size: 100 samples exceed/);
  });
});

describe('GPU tolerance stop', () => {
  it('stops at the first update whose |grad J| <= tol, with no update after it, like the float64 run', async () => {
    const c = logisticModel(3);
    const data = makeSeparable(200, 3);
    const o: ModelTrainOptions = { lr: 0.5, maxEpochs: 2000, optimizer: optimizerConfig({ kind: 'sgd' }), tol: 0.02, reportEvery: 16 };
    const gpu: EpochInfo[] = [];
    const cpu: EpochInfo[] = [];
    const g = await withGpu(c, data, {}, (e) => e.train({ ...o, onEpoch: (i) => gpu.push(i) }));
    const h = await new CpuModelEngine(c, data).train({ ...o, onEpoch: (i) => cpu.push(i) });
    expect(g.stopReason).toBe('tolerance');
    expect(h.stopReason).toBe('tolerance');
    expect(g.updates).toBeLessThan(2000);
    // The last reported step met the tolerance, no earlier one did, and theta is that step's.
    expect(gpu.at(-1)!.gradNorm).toBeLessThanOrEqual(0.02);
    expect(gpu.slice(0, -1).every((e) => e.gradNorm > 0.02)).toBe(true);
    expect(gpu.length).toBe(g.updates + 1);
    expect(g.gradNorm).toBeLessThanOrEqual(0.02 * (1 + 1e-4));
    // float32 norms may cross the threshold one step from float64's.
    expect(Math.abs(g.updates - h.updates)).toBeLessThanOrEqual(1);
    expect(accuracy(c, g.theta, data)).toBe(1);
  });
});

describe('GPU divergence', () => {
  it('keeps the parameters before the failing update, as the float64 twin does, with no state read back between submits', async () => {
    // mse regression with sgd at lr 3: each update multiplies the error by about (1 - 3 lambda), lambda up
    // to ~1 on these features, so the loss passes 1e6 x its best within a few epochs of 4 batches.
    const c = linearModelFor(3);
    const data = makeCheckData(64, 3, 'mse', 1, 3);
    const init = new Float64Array(c.inputs + 1).fill(0.1);
    const snapshots: ModelSnapshot[] = [];
    const o: ModelTrainOptions = { lr: 3, maxEpochs: 200, batchSize: 16, seed: 2, optimizer: optimizerConfig({ kind: 'sgd' }), init, reportEvery: 1 };
    const g = await withGpu(c, data, {}, (e) => e.train({ ...o, onSnapshot: (s) => snapshots.push(s) }));
    expect(g.stopReason).toBe('diverged');
    expect(g.divergedAtEpoch).toBeGreaterThan(0);
    expect(snapshots.length).toBe(g.divergedAtEpoch);
    // The GPU keeps each submit's start (an epoch here); the loop runs the updates from there to the one before
    // the failing update again. The twin, one update a chain, keeps that update's parameters itself.
    const twin = await new CpuModelEngine(c, data).train(o);
    expect([g.divergedAtEpoch, g.updates]).toEqual([twin.divergedAtEpoch, twin.updates]);
    // float32 steps that multiply the error by up to ~2 each: a few updates from a float64 snapshot agree to 1e-4.
    const apart = relativeError(g.theta, twin.theta);
    expect(apart.rel, apart.worst).toBeLessThan(1e-4);
    expect(g.theta.every(Number.isFinite)).toBe(true);
    // Without onSnapshot the same run ends on the same parameters (read from the copy made on the GPU).
    const quiet = await withGpu(c, data, {}, (e) => e.train(o));
    expect(quiet.stopReason).toBe('diverged');
    expect(Array.from(quiet.theta)).toEqual(Array.from(g.theta));
  });
});
