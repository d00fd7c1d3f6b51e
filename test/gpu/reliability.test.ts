import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { requestGpu } from '../../src/gpu/device.ts';
import { GpuDeviceLostError } from '../../src/gpu/device-io.ts';
import { trainFormulaWithRecovery } from '../../src/session/recovering-trainer.ts';
import { GpuFormulaEngine } from '../../src/gpu/formula/gpu-formula-engine.ts';
import { linearFormulaModel, linearTheta, linearTrainOptions } from '../../src/models/linear-formula.ts';
import { gpuLinear } from './linear-formula.ts';
import { GpuShaderError, createComputePipeline } from '../../src/gpu/resources.ts';
import { makeWellConditioned } from '../data-gen.ts';
import type { EpochInfo, LinearData, TrainOptions } from '../../src/models/linear.ts';
import type { ModelTrainOptions } from '../../src/models/model-engine.ts';

const options: TrainOptions = { lr: 0.05, maxEpochs: 120, tol: 0, reportEvery: 10 };

/** The linear model as the CLI trains it on the GPU: its formula on GpuFormulaEngine, through the recovering trainer. */
const formulaOptions = (data: LinearData, o: Partial<ModelTrainOptions> = {}): ModelTrainOptions => ({ ...linearTrainOptions(options, data.n), ...o });
const zeros = (data: LinearData) => new Float64Array(data.d + 1);

async function formulaReference(data: LinearData) {
  const engine = await GpuFormulaEngine.create(await testGpu(), linearFormulaModel(data.d), data, zeros(data));
  try {
    return await engine.train(formulaOptions(data));
  } finally {
    engine.dispose();
  }
}

describe('GPU reliability', () => {
  it('survives device loss mid-run: resumes from the last snapshot and ends bit-identical to an uninterrupted run', async () => {
    const data = makeWellConditioned(20_003, 3, 21);
    const reference = await formulaReference(data);
    const doomed = await requestGpu(); // its own device, destroyed mid-run
    const epochs: EpochInfo[] = [];
    const notices: string[] = [];
    const { result, device, recoveries } = await trainFormulaWithRecovery(doomed, linearFormulaModel(3), data, zeros(data), formulaOptions(data, {
      onEpoch: (e) => {
        epochs.push(e);
        if (e.epoch === 45) doomed.device.destroy();
      },
    }), { acquire: () => requestGpu(), notice: (m) => notices.push(m) });

    expect(recoveries).toBe(1);
    expect(device).toBe('gpu');
    expect(notices.join('\n')).toMatch(/device lost.*snapshot at update 50/i);
    expect(Array.from(result.theta)).toEqual(Array.from(reference.theta));
    expect(result.epochs).toBe(reference.epochs);
    // Every epoch reported exactly once, in order, although the run restarted.
    expect(epochs.map((e) => e.epoch)).toEqual(Array.from({ length: 121 }, (_, i) => i));
  });

  it('reports a lost device as GpuDeviceLostError, not as zeros', async () => {
    const gpu = await requestGpu();
    const engine = await gpuLinear(gpu, makeWellConditioned(1_000, 2));
    gpu.device.destroy();
    await expect(engine.lossAndGradient([0, 0, 0])).rejects.toBeInstanceOf(GpuDeviceLostError);
  });

  it('surfaces a WGSL compile error with the shader name and message', async () => {
    const { device } = await testGpu();
    const bad = '@compute @workgroup_size(1) fn main() { let x: f32 = undefined_thing; }';
    const err = await createComputePipeline(device, 'nabla.test.broken', bad).catch((e) => e);
    expect(err).toBeInstanceOf(GpuShaderError);
    expect(String(err.message)).toMatch(/nabla\.test\.broken.*undefined_thing/s);
  });

  it('two trainers on one device run side by side without interference', async () => {
    const gpu = await testGpu();
    const a = makeWellConditioned(8_001, 2, 1);
    const b = makeWellConditioned(6_003, 5, 2);
    const alone = async (data: LinearData) => {
      const e = await gpuLinear(gpu, data);
      try { return await e.train(formulaOptions(data)); } finally { e.dispose(); }
    };
    const [ra, rb] = await Promise.all([alone(a), alone(b)]);
    const sa = await alone(a);
    const sb = await alone(b);
    expect(Array.from(ra.theta)).toEqual(Array.from(sa.theta));
    expect(Array.from(rb.theta)).toEqual(Array.from(sb.theta));
  });

  it('is bit-identical after 100 epochs on a rerun, and cancels mid-run with a consistent state', async () => {
    const data = makeWellConditioned(12_345, 4, 8);
    const engine = await gpuLinear(await testGpu(), data);
    try {
      const run = formulaOptions(data, { maxEpochs: 100, reportEvery: 16 });
      const first = await engine.train(run);
      const second = await engine.train(run);
      expect(first.epochs).toBe(100);
      expect(Array.from(second.theta)).toEqual(Array.from(first.theta));

      const controller = new AbortController();
      const cancelled = await engine.train({ ...run, onEpoch: (e) => { if (e.epoch === 20) controller.abort(); }, signal: controller.signal });
      console.info(`aborted at epoch 20: returned after ${cancelled.epochs} epochs`);
      expect(cancelled.stopReason).toBe('aborted');
      // Seen after the chain that reported epoch 20 (updates 16..31, reportEvery 16): no further chain starts.
      expect(cancelled.epochs).toBe(32);
      const at = await engine.lossAndGradient(cancelled.theta);
      expect(at.loss).toBe(cancelled.loss);
      // An abort before any step returns the starting parameters.
      const init = { w: [0.5, -0.25, 0.125, 1], b: 0.75 };
      const early = await engine.train({ ...run, init: linearTheta(init), signal: AbortSignal.abort() });
      expect(early.stopReason).toBe('aborted');
      expect(Array.from(early.theta)).toEqual([0.5, -0.25, 0.125, 1, 0.75]);
    } finally {
      engine.dispose();
    }
  });
});

describe('GPU reliability: no device after a loss', () => {
  it('continues on the CPU path from the snapshot, saying so, and lands close to the GPU run', async () => {
    const data = makeWellConditioned(10_007, 2, 33);
    const doomed = await requestGpu();
    const notices: string[] = [];
    const { result, device } = await trainFormulaWithRecovery(doomed, linearFormulaModel(2), data, zeros(data), formulaOptions(data, {
      onEpoch: (e) => { if (e.epoch === 25) doomed.device.destroy(); },
    }), { acquire: () => Promise.reject(new Error('adapter refused')), notice: (m) => notices.push(m) });
    expect(device).toBe('cpu');
    expect(notices.join('\n')).toMatch(/adapter refused[\s\S]*CPU path from update 30/);
    const reference = await formulaReference(data);
    expect(result.epochs).toBe(reference.epochs);
    // float32 GPU steps then float64 ones from update 30, against float32 throughout: 1e-5, the bound of the GPU-vs-twin linear tests.
    for (let j = 0; j < 3; j++) expect(Math.abs(result.theta[j] - reference.theta[j])).toBeLessThan(1e-5);
  });
});
