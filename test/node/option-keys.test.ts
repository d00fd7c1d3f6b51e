// Options objects of the library API: a misspelt or foreign key is an error naming it and listing the known
// ones (a misspelt batchSize would otherwise run full batch without a word), and an option that cannot
// apply with another is an error rather than silently ignored or clamped.
import { describe, expect, it } from 'vitest';
import { rejectUnknownKeys } from '../../src/core/options.ts';
import { compileFormula } from '../../src/formula/model.ts';
import { CpuFormulaEngine } from '../../src/cpu/formula-engine.ts';
import { FastCpuFormulaEngine, trainFormulaStreamedOnCpu } from '../../src/cpu-fast/formula-engine.ts';
import { FastCpuModelEngine } from '../../src/cpu-fast/fast-engines.ts';
import { CpuModelEngine } from '../../src/cpu/cpu-model-engine.ts';
import { trainModelStreamedOnCpu } from '../../src/cpu-fast/streamed-training.ts';
import type { RowChunk, RowStream } from '../../src/models/row-stream.ts';
import { mlpModel } from '../../src/models/mlp.ts';
import type { ModelTrainOptions } from '../../src/models/model-engine.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { parseSchedule, validateSchedule, type Schedule } from '../../src/optim/schedule.ts';
import { GpuFormulaEngine } from '../../src/gpu/formula/gpu-formula-engine.ts';
import { GpuModelEngine } from '../../src/gpu/models/gpu-model-engine.ts';
import type { GpuContext } from '../../src/gpu/device.ts';

const model = compileFormula({ formula: 'y ~ a*x + b' }, { columns: ['x', 'y'] });
const data = { x: Float32Array.of(0, 1, 2, 3), y: Float32Array.of(1, 3, 5, 7), n: 4, d: 1 };
const start = Float64Array.of(0, 0);
const base: ModelTrainOptions = { lr: 0.05, maxEpochs: 3, optimizer: optimizerConfig({ kind: 'sgd' }) };
const loose = (o: object) => o as ModelTrainOptions;

describe('rejectUnknownKeys', () => {
  it('names every unknown key, lists the known ones, explains a key it has a reason for, and skips undefined values', () => {
    expect(() => rejectUnknownKeys({ a: 1, bb: 2, c: 3 }, ['a', 'b'], 'f options')).toThrow('f options: unknown options "bb", "c"; the options are a, b');
    expect(() => rejectUnknownKeys({ t: 1 }, ['a'], 'f', { t: 'use a' })).toThrow('f: unknown option "t" (use a); the options are a');
    expect(() => rejectUnknownKeys({ a: 1, zz: undefined }, ['a'], 'f')).not.toThrow();
    expect(() => rejectUnknownKeys(undefined, ['a'], 'f options')).toThrow(TypeError);
    expect(() => rejectUnknownKeys('x', ['a'], 'f options')).toThrow('f options: expected an options object, got string');
  });
});

describe('train options', () => {
  for (const [name, make] of [
    ['the float64 twin', () => new CpuFormulaEngine(model, data, start)],
    ['the fast CPU engine', () => new FastCpuFormulaEngine(model, data, start)],
  ] as const) {
    it(`${name} refuses misspelt keys, naming them`, async () => {
      const engine = make();
      await expect(engine.train(loose({ ...base, batchsize: 2 }))).rejects.toThrow(/unknown option "batchsize".*batchSize/);
      await expect(engine.train(loose({ ...base, lerningRate: 3 }))).rejects.toThrow(/"lerningRate"/);
      await expect(engine.train(loose({ ...base, maxEpoch: 10 }))).rejects.toThrow(/"maxEpoch".*maxEpochs/);
      await expect(engine.train(loose({ ...base, epochs: 10 }))).rejects.toThrow(/"epochs" \(the option is maxEpochs/);
      await expect(engine.train(base)).resolves.toMatchObject({ epochs: 3 });
    });
  }

  it('refuses init with resumeFrom, a cosine minLr above lr, a signal that is not one and a callback that is not a function', async () => {
    const engine = new CpuFormulaEngine(model, data, start);
    const first = await engine.train(base);
    await expect(engine.train({ ...base, maxEpochs: 5, init: Float64Array.of(1, 1), resumeFrom: first.snapshot })).rejects.toThrow(/init or resumeFrom, not both/);
    await expect(engine.train({ ...base, schedule: { kind: 'cosine', total: 10, minLr: 5 } })).rejects.toThrow(/minLr 5 exceeds lr 0.05/);
    await expect(engine.train(loose({ ...base, signal: 'x' }))).rejects.toThrow(/signal: expected an AbortSignal/);
    await expect(engine.train(loose({ ...base, onEpoch: 5 }))).rejects.toThrow(/onEpoch: expected a function/);
    await expect(engine.train({ ...base, schedule: { kind: 'cosine', total: 10, minLr: 0.01 } })).resolves.toBeDefined();
  });

  it('names the snapshot\'s update count when it is negative, not the learning rate it would make', async () => {
    const engine = new CpuFormulaEngine(model, data, start);
    const { snapshot } = await engine.train(base);
    const bad = { ...snapshot, optim: { ...snapshot.optim, t: -2 } };
    await expect(engine.train({ ...base, resumeFrom: bad })).rejects.toThrow(/resumeFrom\.optim\.t: .* got -2/);
  });

  it('checks a snapshot\'s fields before reading them: a NaN best loss would turn the divergence rule off', async () => {
    const engine = new CpuFormulaEngine(model, data, start);
    const { snapshot } = await engine.train(base);
    const resume = (resumeFrom: unknown) => engine.train({ ...base, maxEpochs: 6, resumeFrom: resumeFrom as typeof snapshot });
    await expect(resume({ ...snapshot, bestLoss: NaN })).rejects.toThrow(/resumeFrom\.bestLoss: expected a number or Infinity, got NaN/);
    await expect(resume({})).rejects.toThrow(/resumeFrom\.theta: expected finite numbers/);
    await expect(resume({ ...snapshot, optim: { ...snapshot.optim, v: Float64Array.of(-1, 0) } })).rejects.toThrow(/second moment cannot be negative/);
    await expect(resume({ ...snapshot, theta: Float64Array.of(NaN, 1) })).rejects.toThrow(/resumeFrom\.theta/);
    expect((await resume({ ...snapshot, bestLoss: Infinity })).stopReason).toBe('max-epochs');
  });
});

describe('optimizer and schedule settings', () => {
  it('optimizerConfig refuses keys it would copy and never use', () => {
    expect(() => optimizerConfig({ kind: 'adam', beta_1: 0.5 } as object)).toThrow(/unknown option "beta_1".*beta1/);
    expect(() => optimizerConfig({ weightdecay: 0.1 } as object)).toThrow(/"weightdecay"/);
    expect(() => optimizerConfig({ lr: 0.1 } as object)).toThrow(/"lr" \(the learning rate is a train option\)/);
    expect(optimizerConfig({ kind: 'adam', beta1: 0.5 })).not.toHaveProperty('beta_1');
  });

  it('a schedule refuses keys its kind does not read', () => {
    expect(() => validateSchedule({ kind: 'step', every: 10, gamma: 0.5, extra: 1 } as Schedule)).toThrow(/schedule step: unknown option "extra"/);
    expect(() => validateSchedule({ kind: 'cosine', total: 10, gamma: 0.5 } as Schedule)).toThrow(/"gamma"/);
  });

  it('parseSchedule refuses a second warm-up and numbers that are not decimal', () => {
    expect(() => parseSchedule('cosine:100,warmup:10,warmup:20')).toThrow(/warmup given twice/);
    expect(() => parseSchedule('step:0x10:0.5')).toThrow(/EVERY missing or not a decimal number/);
    expect(() => parseSchedule('step:10:0b1')).toThrow(/GAMMA/);
    expect(parseSchedule('step:1e1:0.5')).toEqual({ kind: 'step', every: 10, gamma: 0.5 });
  });
});

/** `data` as a stream of two-row chunks. */
const stream: RowStream = {
  n: 4, d: 1, chunkRows: 2,
  async *pass(): AsyncIterable<RowChunk> {
    for (const at of [0, 2]) yield { x: data.x.slice(at, at + 2), y: data.y.slice(at, at + 2), rows: 2 };
  },
};

describe('fast CPU engine options', () => {
  it('the formula engine refuses threads (it runs on the pool it is given), the networks\' kernels and misspelt keys', () => {
    const make = (o: object) => () => new FastCpuFormulaEngine(model, data, start, o);
    expect(make({ threads: 4 })).toThrow(/unknown option "threads" \(an engine computes on the threads of the pool it is given: pass pool/);
    expect(make({ kernels: 'js' })).toThrow(/"kernels" \(the networks' product kernels; a formula engine's choice is kernel\)/);
    expect(make({ kernal: 'generated' })).toThrow(/unknown option "kernal"; the options are kernel, pool, shards/);
    expect(make({ kernel: 'generated', shards: 4 })()).toMatchObject({ kernel: 'generated', threads: 1 });
  });

  it('the network engine refuses threads and a formula engine\'s kernel', () => {
    const config = mlpModel(1, [2], 'tanh', 'mse', 1);
    expect(() => new FastCpuModelEngine(config, data, { threads: 2 } as object)).toThrow(/"threads"/);
    expect(() => new FastCpuModelEngine(config, data, { kernel: 'js' } as object)).toThrow(/"kernel" \(a formula engine's choice; a network engine's is kernels\)/);
    expect(new FastCpuModelEngine(config, data, { kernels: 'js' }).kernels).toBe('js');
  });

  it('streamed training refuses chunkRows among the train options (the stream sets the chunks) and unknown options', async () => {
    const withChunk = loose({ ...base, chunkRows: 1 });
    await expect(trainFormulaStreamedOnCpu(model, start, stream, withChunk)).rejects.toThrow(/chunkRows: a streamed run takes its chunks from the stream/);
    await expect(trainFormulaStreamedOnCpu(model, start, stream, base, { threads: 2 } as object)).rejects.toThrow(/"threads"/);
    const done = await trainFormulaStreamedOnCpu(model, start, stream, base, { reference: false, finalGradient: true, kernel: 'generated' });
    expect(done.final).toBeDefined();
    const config = mlpModel(1, [2], 'tanh', 'mse', 1);
    await expect(trainModelStreamedOnCpu(config, stream, withChunk)).rejects.toThrow(/chunkRows/);
    await expect(trainModelStreamedOnCpu(config, stream, base, { kernel: 'js' } as object)).rejects.toThrow(/"kernel"/);
    await expect(trainModelStreamedOnCpu(config, stream, base, { kernels: 'js' })).resolves.toBeDefined();
  });
});

describe('mlpModel', () => {
  it('refuses a class count that a one-output head cannot model, and keeps the counts it can', () => {
    expect(() => mlpModel(1, [2], 'tanh', 'mse', 5)).toThrow(/one output.*5 classes/);
    expect(() => mlpModel(1, [2], 'tanh', 'bce', 3)).toThrow(/one output/);
    expect(mlpModel(1, [2], 'tanh', 'bce', 2).outputs).toBe(1);
    expect(mlpModel(1, [2], 'tanh', 'mse', 1).outputs).toBe(1);
    expect(mlpModel(1, [2], 'tanh', 'ce', 5).outputs).toBe(5);
  });
});

describe('the GPU engines\' options', () => {
  // The check comes before any use of the device, so a context that is never touched stands in for one.
  const noGpu = {} as GpuContext;
  it('a misspelt key is refused before any GPU work', async () => {
    await expect(GpuFormulaEngine.create(noGpu, model, data, start, loose({ tunning: false }) as object)).rejects.toThrow(/GpuFormulaEngine options: unknown option "tunning"; the options are .*tuning/);
    await expect(GpuModelEngine.create(noGpu, mlpModel(1, [2], 'tanh', 'mse'), { x: data.x, y: data.y, n: 4, d: 1 }, { maxBatch: 4 } as object)).rejects.toThrow(/GpuModelEngine options: unknown option "maxBatch"; the options are .*maxBatchRows/);
  });
});

describe('a network config', () => {
  it('refuses a misspelt key, as every options object does', () => {
    const data = { x: Float32Array.of(0, 1, 2, 3), y: Float32Array.of(1, 3, 5, 7), n: 4, d: 1 };
    expect(() => new CpuModelEngine({ ...mlpModel(1, [4], 'tanh', 'mse'), hiden: [64] } as ReturnType<typeof mlpModel>, data)).toThrow(/network config: unknown option "hiden"; the options are/);
  });
});
