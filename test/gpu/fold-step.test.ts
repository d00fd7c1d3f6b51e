// The fold step (shaders/fold_step.wgsl: a training step's fold of pass 1's partial rows, its history record,
// tolerance stop and optimizer update in one dispatch) against the three passes it stands for (mlp_reduce,
// mlp_history, optim_update): the same bits, exactly, with every optimizer, with mini-batches routed to the
// quad and the generated kernels, over streamed chunks and at the tolerance stop; and one dispatch a step
// where there were three.
import { afterEach, describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { bindingOfRows, gpuLinear } from './linear-formula.ts';
import { GpuFormulaEngine, type GpuFormulaEngineOptions } from '../../src/gpu/formula/gpu-formula-engine.ts';
import type { ModelTrainOptions, ModelTrainResult } from '../../src/models/model-engine.ts';
import type { EpochInfo } from '../../src/models/linear.ts';
import { optimizerConfig, OPTIMIZER_KINDS } from '../../src/optim/config.ts';
import { makeLinearData } from '../data-gen.ts';
import { CASES, setupCase } from '../formula-cases.ts';

type Make = (options: GpuFormulaEngineOptions) => Promise<GpuFormulaEngine>;

interface Run {
  result: ModelTrainResult;
  epochs: EpochInfo[];
  dispatches: number;
}

const dispatch = GPUComputePassEncoder.prototype.dispatchWorkgroups;
afterEach(() => {
  GPUComputePassEncoder.prototype.dispatchWorkgroups = dispatch;
});

/** Trains with and without the fold step on engines made alike; counts the dispatches of each train(). */
async function foldedAndNot(make: Make, o: ModelTrainOptions): Promise<{ folded: Run; three: Run }> {
  const run = async (foldStep: boolean): Promise<Run> => {
    const engine = await make({ foldStep });
    const epochs: EpochInfo[] = [];
    let dispatches = 0;
    GPUComputePassEncoder.prototype.dispatchWorkgroups = function (this: GPUComputePassEncoder, ...args: Parameters<GPUComputePassEncoder['dispatchWorkgroups']>) {
      dispatches++;
      return dispatch.apply(this, args);
    };
    try {
      const result = await engine.train({ ...o, onEpoch: (e) => epochs.push(e) });
      return { result, epochs, dispatches };
    } finally {
      GPUComputePassEncoder.prototype.dispatchWorkgroups = dispatch;
      engine.dispose();
    }
  };
  return { folded: await run(true), three: await run(false) };
}

function expectSameBits({ folded, three }: { folded: Run; three: Run }, label: string): void {
  expect(folded.result.updates, label).toBe(three.result.updates);
  expect(folded.result.stopReason, label).toBe(three.result.stopReason);
  expect(Array.from(folded.result.theta), label).toEqual(Array.from(three.result.theta));
  expect(folded.epochs.map((e) => [e.loss, e.gradNorm]), label).toEqual(three.epochs.map((e) => [e.loss, e.gradNorm]));
}

const huber16 = CASES.find((c) => c.name.startsWith('16-feature'))!;

describe('the fold step against the three passes it stands for', () => {
  it('every optimizer, with weight decay and a schedule, on chained mini-batches of a generated kernel', async () => {
    const { model, data, start } = setupCase(huber16);
    const gpu = await testGpu();
    for (const kind of OPTIMIZER_KINDS) {
      const o: ModelTrainOptions = {
        lr: kind === 'sgd' || kind === 'momentum' ? 0.05 : 0.01, maxEpochs: 3, batchSize: 500, seed: 5, reportEvery: 3,
        optimizer: optimizerConfig({ kind, weightDecay: 0.01, momentum: 0.9 }), schedule: { kind: 'cosine', total: 3 * 11, minLr: 0.001 },
      };
      const runs = await foldedAndNot((options) => GpuFormulaEngine.create(gpu, model, data, start, { tuning: false, maxReportEvery: 8, ...options }), o);
      expectSameBits(runs, kind);
      // Three dispatches a step become one; the final evaluation is the same in both.
      expect(runs.three.dispatches - runs.folded.dispatches, kind).toBe(2 * runs.folded.result.updates);
    }
  });

  it('the linear model: mini-batches starting on and off whole quads (quad and generated kernels)', async () => {
    const data = makeLinearData(3001, 5, 7);
    const gpu = await testGpu();
    const o: ModelTrainOptions = { lr: 0.02, maxEpochs: 4, batchSize: 333, seed: 3, reportEvery: 4, optimizer: optimizerConfig({ kind: 'adam' }) };
    const runs = await foldedAndNot((options) => gpuLinear(gpu, data, options), o);
    expectSameBits(runs, 'linear, batches of 333');
    expect(runs.three.dispatches - runs.folded.dispatches).toBe(2 * runs.folded.result.updates);
  });

  it('stops at the tolerance on the same update, inside a chain', async () => {
    const data = makeLinearData(4096, 2, 11);
    const gpu = await testGpu();
    const o: ModelTrainOptions = { lr: 0.1, maxEpochs: 500, tol: 0.05, reportEvery: 64, optimizer: optimizerConfig({ kind: 'sgd' }) };
    const runs = await foldedAndNot((options) => gpuLinear(gpu, data, options), o);
    expect(runs.folded.result.stopReason).toBe('tolerance');
    expect(runs.folded.result.updates % 64).not.toBe(0);
    expectSameBits(runs, 'tolerance');
  });

  it('streamed chunks: mini-batches on each resident chunk', async () => {
    const data = makeLinearData(6000, 3, 5);
    const gpu = bindingOfRows(await testGpu(), 2048, 3);
    const o: ModelTrainOptions = { lr: 0.01, maxEpochs: 2, batchSize: 512, seed: 9, reportEvery: 2, optimizer: optimizerConfig({ kind: 'momentum', momentum: 0.9 }) };
    const runs = await foldedAndNot((options) => gpuLinear(gpu, data, options), o);
    expectSameBits(runs, 'streamed');
    expect(runs.three.dispatches - runs.folded.dispatches).toBe(2 * runs.folded.result.updates);
  });
});
