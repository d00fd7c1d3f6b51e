// Streamed training of the model engine (GpuModelEngine.createStreamed): x and y hold one chunk of a
// RowStream, mini-batches are cut inside chunks and shuffled within each (BatchSchedule's chunkRows), one
// pass per epoch. Against the resident engine trained with the same chunkRows (the same batches in the same
// order: bit for bit), the float64 twin, and itself.
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { GpuModelEngine, type GpuModelEngineOptions } from '../../src/gpu/models/gpu-model-engine.ts';
import { CpuModelEngine } from '../../src/cpu/cpu-model-engine.ts';
import { linearModel, mlpModel } from '../../src/models/mlp.ts';
import { softmaxModel } from '../../src/models/softmax.ts';
import type { ModelData, NetworkConfig } from '../../src/models/network.ts';
import type { ModelTrainOptions, ModelTrainResult } from '../../src/models/model-engine.ts';
import type { EpochInfo } from '../../src/models/linear.ts';
import type { RowChunk, RowStream } from '../../src/models/row-stream.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { makeBlobs, makeCheckData, makeSpirals } from '../model-data.ts';
import { relativeError } from '../data-gen.ts';

/** A stream over an in-memory dataset that counts its passes; `changeAfter` passes, it loses its last rows. */
function streamOf(data: ModelData, chunkRows: number, changeAfter = Infinity) {
  const counts = { passes: 0 };
  const stream: RowStream = {
    n: data.n, d: data.d, chunkRows,
    async *pass(): AsyncGenerator<RowChunk> {
      counts.passes++;
      const n = counts.passes > changeAfter ? data.n - 3 : data.n;
      for (let start = 0; start < n; start += chunkRows) {
        const rows = Math.min(chunkRows, n - start);
        // Fresh copies, as a file reader hands out: the engine must not keep references.
        yield { x: data.x.slice(start * data.d, (start + rows) * data.d), y: data.y.slice(start, start + rows), rows };
      }
    },
  };
  return { stream, counts };
}

const pinned: GpuModelEngineOptions = { products: 'heuristic' };

async function streamed(c: NetworkConfig, data: ModelData, chunkRows: number, o: ModelTrainOptions, options: GpuModelEngineOptions = {}) {
  const { stream, counts } = streamOf(data, chunkRows);
  const epochs: EpochInfo[] = [];
  const engine = await GpuModelEngine.createStreamed(await testGpu(), c, stream, { ...pinned, ...options });
  try {
    const result = await engine.train({ ...o, onEpoch: (i) => epochs.push(i) });
    return { result, epochs, passes: counts.passes, cursorPasses: engine.streamPasses };
  } finally {
    engine.dispose();
  }
}

async function resident(c: NetworkConfig, data: ModelData, o: ModelTrainOptions, options: GpuModelEngineOptions = {}) {
  const epochs: EpochInfo[] = [];
  const engine = await GpuModelEngine.create(await testGpu(), c, data, { ...pinned, ...options });
  try {
    return { result: await engine.train({ ...o, onEpoch: (i) => epochs.push(i) }), epochs };
  } finally {
    engine.dispose();
  }
}

function bitsOf(r: { result: ModelTrainResult; epochs: EpochInfo[] }) {
  return { theta: Array.from(r.result.theta), epochs: r.epochs, loss: r.result.loss, updates: r.result.updates, optim: r.result.snapshot.optim };
}

describe('GPU streamed model training, mini-batches', () => {
  // 100 samples in chunks of 40: 40, 40 and a ragged 20; batches of 16 leave a ragged 8 in the full chunks
  // and a ragged 4 in the last. reportEvery 2: a chain holds two epochs, so it starts a new pass mid-chain.
  const chunkRows = 40;
  const base: ModelTrainOptions = { lr: 0.02, maxEpochs: 4, seed: 4, batchSize: 16, optimizer: optimizerConfig({ kind: 'adam' }), reportEvery: 2 };
  const cases: [string, NetworkConfig, ModelData, GpuModelEngineOptions][] = [
    ['MLP (tanh, ce)', mlpModel(2, [8, 6], 'tanh', 'ce', 2), makeSpirals(50, 5), pinned],
    ['softmax', softmaxModel(3, 4), makeBlobs(25, 4, 3), pinned],
    // The tiled products' WGSL is specialized for its operands' lengths, which differ (one chunk vs all rows).
    ['MLP (relu, bce) with tiled products', mlpModel(2, [32], 'relu', 'bce'), makeSpirals(50, 6), { products: 'tiled' }],
  ];

  for (const [name, c, data, kernels] of cases) {
    it(`${name}: equals the resident engine trained with the same chunkRows, bit for bit, one pass per epoch, reruns identical`, async () => {
      const a = await streamed(c, data, chunkRows, base, kernels);
      const b = await streamed(c, data, chunkRows, base, kernels);
      // Evaluations of at most 40 rows: the final full evaluation takes the same pieces (40, 40, 20).
      const r = await resident(c, data, { ...base, chunkRows }, { ...kernels, maxBatchRows: chunkRows });
      expect(a.result.updates).toBe(4 * 8);
      expect(a.epochs.map((e) => e.epoch)).toEqual([0, 1, 2, 3]);
      expect(bitsOf(a)).toEqual(bitsOf(r));
      expect(bitsOf(b)).toEqual(bitsOf(a));
      // One pass per epoch, and one for the final evaluation.
      expect(a.passes).toBe(base.maxEpochs + 1);
      expect(a.cursorPasses).toBe(base.maxEpochs + 1);
      // The chunked order is not the unchunked one: a resident run without chunkRows ends elsewhere.
      const unchunked = await resident(c, data, base, { ...kernels, maxBatchRows: 16 });
      expect(Array.from(unchunked.result.theta)).not.toEqual(Array.from(a.result.theta));
    });
  }

  it('follows the float64 twin trained with the same chunkRows', async () => {
    const [, c, data] = cases[0];
    const g = await streamed(c, data, chunkRows, base);
    const epochs: EpochInfo[] = [];
    const h = await new CpuModelEngine(c, data).train({ ...base, chunkRows, onEpoch: (i) => epochs.push(i) });
    // float32 vs float64 through 32 Adam updates: the bound models-batches.test.ts uses for resident mini-batches.
    const params = relativeError(g.result.theta, h.theta);
    const losses = relativeError(g.epochs.map((e) => e.loss), epochs.map((e) => e.loss));
    expect(params.rel, params.worst).toBeLessThanOrEqual(1e-4);
    expect(losses.rel, losses.worst).toBeLessThanOrEqual(1e-4);
    expect(relativeError([g.result.loss], [h.loss]).rel).toBeLessThanOrEqual(1e-4);
  });

  it('resumes at an epoch end to the bits of an uninterrupted run', async () => {
    const [, c, data] = cases[0];
    const whole = await streamed(c, data, chunkRows, base);
    const { stream } = streamOf(data, chunkRows);
    const engine = await GpuModelEngine.createStreamed(await testGpu(), c, stream, pinned);
    let mid: ModelTrainResult['snapshot'] | null = null;
    try {
      await engine.train({ ...base, maxEpochs: 2, reportEvery: 1, onSnapshot: (s) => { mid = s; } });
      expect(mid!.optim.t).toBe(16);
      const rest = await engine.train({ ...base, resumeFrom: mid! });
      expect(Array.from(rest.theta)).toEqual(Array.from(whole.result.theta));
    } finally {
      engine.dispose();
    }
  });
});

describe('GPU streamed model training, full batch', () => {
  const c = mlpModel(2, [8, 6], 'tanh', 'ce', 2);
  const data = makeSpirals(50, 5);
  const base: ModelTrainOptions = { lr: 0.02, maxEpochs: 10, seed: 4, optimizer: optimizerConfig({ kind: 'adam' }), reportEvery: 4 };

  it('matches the resident full batch (gradients combined chunk by chunk), one pass per update', async () => {
    const s = await streamed(c, data, 40, base);
    const r = await resident(c, data, base);
    expect(s.result.updates).toBe(10);
    expect(s.epochs.map((e) => e.epoch)).toEqual([...Array.from({ length: 10 }, (_, i) => i), 10]);
    // The same float32 gradient summed in another order: three chunk means combined in float64 instead of one
    // reduction over 100 rows, a few float32 ulps (~1e-7 relative) per gradient; ten Adam updates, whose
    // step is about lr whatever the gradient's size, carry that into the parameters at ~1e-6. 1e-5 leaves room.
    const params = relativeError(s.result.theta, r.result.theta);
    const losses = relativeError(s.epochs.map((e) => e.loss), r.epochs.map((e) => e.loss));
    const norms = relativeError(s.epochs.map((e) => e.gradNorm), r.epochs.map((e) => e.gradNorm));
    expect(params.rel, params.worst).toBeLessThanOrEqual(1e-5);
    expect(losses.rel, losses.worst).toBeLessThanOrEqual(1e-5);
    expect(norms.rel, norms.worst).toBeLessThanOrEqual(1e-5);
    // Ten updates, each a pass, then the final evaluation.
    expect(s.passes).toBe(11);
    // One chunk holding every row: the resident engine's single evaluation, bit for bit.
    const one = await streamed(c, data, 100, base);
    expect(bitsOf(one)).toEqual(bitsOf(r));
    expect(one.passes).toBe(1);
  });

  it('stops at the tolerance like the resident run: no update after the evaluation that met it', async () => {
    const free = await streamed(c, data, 40, { ...base, maxEpochs: 12 });
    // A tolerance the 7th evaluation meets first (Adam's norms need not fall every update).
    const norms = free.epochs.map((e) => e.gradNorm);
    const firstAtOrBelow = (tol: number) => norms.findIndex((g) => g <= tol);
    const tol = norms[6] * (1 + 1e-6);
    const at = firstAtOrBelow(tol);
    expect(at).toBeGreaterThan(0);
    const s = await streamed(c, data, 40, { ...base, maxEpochs: 12, reportEvery: 12, tol });
    expect(s.result.stopReason).toBe('tolerance');
    expect(s.result.updates).toBe(at);
    expect(s.result.gradNorm).toBe(norms[at]);
    // Stopped in the middle of a chain: the later updates of that chain took no pass.
    expect(s.passes).toBe(at + 1);
  });
});

describe('GPU streamed model training, linear model through the network', () => {
  it('mini-batches equal the resident engine with the same chunkRows, bit for bit', async () => {
    const c = linearModel(3);
    const data = makeCheckData(90, 3, 'mse', 1);
    const o: ModelTrainOptions = { lr: 0.05, maxEpochs: 3, seed: 2, batchSize: 12, optimizer: optimizerConfig({ kind: 'momentum' }) };
    const s = await streamed(c, data, 32, o);
    const r = await resident(c, data, { ...o, chunkRows: 32 }, { maxBatchRows: 32 });
    expect(bitsOf(s)).toEqual(bitsOf(r));
    expect(s.passes).toBe(4);
  });
});

describe('GPU streamed model training, divergence', () => {
  const c = linearModel(3);
  const data = makeCheckData(90, 3, 'mse', 1);
  const sgd = optimizerConfig({ kind: 'sgd' });

  it('mini-batches: keeps the same last good parameters as the resident engine, bit for bit', async () => {
    const o: ModelTrainOptions = { lr: 4, maxEpochs: 30, seed: 2, batchSize: 12, optimizer: sgd, reportEvery: 3 };
    const s = await streamed(c, data, 32, o);
    const r = await resident(c, data, { ...o, chunkRows: 32 }, { maxBatchRows: 32 });
    expect(s.result.stopReason).toBe('diverged');
    expect(bitsOf(s)).toEqual(bitsOf(r));
    expect(s.result.divergedAtEpoch).toBe(r.result.divergedAtEpoch);
  });

  it('full batch over chunks: returns the state before the diverging update, as a run that stops there does', async () => {
    // One update per chain: the last good state is the one evaluated just before the diverging evaluation.
    const o: ModelTrainOptions = { lr: 4, maxEpochs: 40, seed: 2, optimizer: sgd, reportEvery: 1 };
    const s = await streamed(c, data, 32, o);
    expect(s.result.stopReason).toBe('diverged');
    expect(s.result.updates).toBeGreaterThan(0);
    expect(s.result.updates).toBe(s.result.divergedAtEpoch! - 1);
    expect(s.result.divergedAtEpoch).toBe((await resident(c, data, o)).result.divergedAtEpoch);
    const stopped = await streamed(c, data, 32, { ...o, maxEpochs: s.result.updates });
    expect(stopped.result.stopReason).toBe('max-epochs');
    expect(Array.from(s.result.theta)).toEqual(Array.from(stopped.result.theta));
  });
});

describe('GPU streamed model training, errors', () => {
  const c = mlpModel(2, [8, 6], 'tanh', 'ce', 2);
  const data = makeSpirals(50, 5);
  const base: ModelTrainOptions = { lr: 0.02, maxEpochs: 3, seed: 4, batchSize: 16, optimizer: optimizerConfig({ kind: 'adam' }) };

  it('refuses a chunk larger than one storage binding, and batches larger than a chunk or an evaluation', async () => {
    const gpu = await testGpu();
    const small = { ...gpu, maxBindingBytes: 1024 };
    await expect(GpuModelEngine.createStreamed(small, c, streamOf(makeSpirals(100, 5), 200).stream, pinned))
      .rejects.toThrow(/stream: a chunk of 200 rows x 2 features takes 1600 bytes, more than one storage binding \(1024\); use chunks of at most 128 rows/);
    await expect(streamed(c, data, 40, { ...base, batchSize: 41 })).rejects.toThrow(/batch size: 41 samples exceed a chunk of 40 rows/);
    await expect(streamed(c, data, 40, { ...base, batchSize: 20 }, { maxBatchRows: 16 })).rejects.toThrow(/batch size: 20 samples exceed the 16/);
    await expect(streamed(c, data, 40, { ...base, chunkRows: 20 })).rejects.toThrow(/chunk rows: 20 asked for, the stream comes in chunks of 40 rows/);
  });

  it('says so when the stream changes between passes or holds a bad label', async () => {
    const gpu = await testGpu();
    const { stream } = streamOf(data, 40, 1);
    const engine = await GpuModelEngine.createStreamed(gpu, c, stream, pinned);
    try {
      await expect(engine.train(base)).rejects.toThrow(/stream: chunk 2 holds 17 rows, expected 20 \(did the file change between passes\?\)/);
    } finally {
      engine.dispose();
    }
    const bad = { ...data, y: data.y.map((v, i) => (i === 57 ? 2 : v)) };
    const e2 = await GpuModelEngine.createStreamed(gpu, c, streamOf(bad, 40).stream, pinned);
    try {
      await expect(e2.train(base)).rejects.toThrow(/stream: chunk 1 \(rows 40\.\.79\): dataset: label of sample 57 is 2, expected a class index 0\.\.1/);
    } finally {
      e2.dispose();
    }
  });
});
