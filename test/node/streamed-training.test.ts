// Streamed training on the CPU path (issue 12, item 2): every model over rows read chunk by chunk, one pass
// per epoch, mini-batches cut inside chunks and shuffled from the seed, through the one loop. The reference
// for "streamed" is the same engine over the same rows in memory, told the same chunkRows (so that both take
// the same batches): mini-batches must agree bit for bit, the full batch (whose chunk means are combined in
// float64 in another order than one sum over all rows) to a stated tolerance.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mlpModel, softmaxModel } from '../../src/models/mlp.ts';
import type { ModelData } from '../../src/models/network.ts';
import type { RowChunk, RowStream } from '../../src/models/row-stream.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { CpuModelEngine } from '../../src/cpu/cpu-model-engine.ts';
import { FastCpuModelEngine } from '../../src/cpu-fast/fast-engines.ts';
import { trainModelStreamedOnCpu } from '../../src/cpu-fast/streamed-training.ts';
import { FastCpuFormulaEngine, trainFormulaStreamedOnCpu } from '../../src/cpu-fast/formula-engine.ts';
import { linearFormulaModel, linearTrainOptions } from '../../src/models/linear-formula.ts';
import { main } from '../../src/cli/main.ts';
import { makeBlobs, makeSpirals } from '../model-data.ts';
import { makeLinearData, relativeError } from '../data-gen.ts';
import { suiteTempDir } from '../temp-dir.ts';

/**
 * Full batch: the float64 sum of chunk means vs one mean over all rows: a few ulps per evaluation, through 30
 * Adam steps or a few hundred plain descent steps (a contraction at a stable rate: the difference does not grow).
 */
const FULL_BATCH_REL_TOL = 1e-9;

/** The rows of `data` as a stream of chunkRows-row chunks (fresh copies, as a file reader gives them). */
function streamOf(data: ModelData, chunkRows: number, passes = { count: 0 }): RowStream {
  const { n, d } = data;
  return {
    n, d, chunkRows,
    async *pass(): AsyncIterable<RowChunk> {
      passes.count++;
      for (let start = 0; start < n; start += chunkRows) {
        const rows = Math.min(chunkRows, n - start);
        yield { x: data.x.slice(start * d, (start + rows) * d), y: data.y.slice(start, start + rows), rows };
      }
    },
  };
}

describe('streamed training on the CPU path', () => {
  const spirals = makeSpirals(150, 4); // 300 rows, 2 features, 2 classes
  const mlp = mlpModel(2, [12, 8], 'tanh', 'ce', 2);
  const adam = { lr: 0.02, maxEpochs: 5, batchSize: 32, seed: 6, optimizer: optimizerConfig({ kind: 'adam' }) };

  it('mini-batches: the same bits as the engine over the rows in memory with the same chunks, one pass per epoch', async () => {
    // 300 rows in chunks of 70: 70, 70, 70, 70, 20; batches of 32 inside each (the last of a chunk ragged).
    for (const reference of [false, true]) {
      const passes = { count: 0 };
      const epochs: number[] = [];
      const got = await trainModelStreamedOnCpu(mlp, streamOf(spirals, 70, passes), { ...adam, onEpoch: (e) => epochs.push(e.loss) }, { reference });
      const wantEpochs: number[] = [];
      const engine = reference ? new CpuModelEngine(mlp, spirals) : new FastCpuModelEngine(mlp, spirals);
      const want = await engine.train({ ...adam, chunkRows: 70, onEpoch: (e) => wantEpochs.push(e.loss) });
      engine.dispose();
      expect(Array.from(got.result.theta), `reference ${reference}`).toEqual(Array.from(want.theta));
      expect(epochs).toEqual(wantEpochs);
      expect(got.result.updates).toBe(want.updates);
      // The final loss is a full evaluation: chunk means combined in float64.
      expect(Math.abs(got.result.loss - want.loss) / want.loss).toBeLessThanOrEqual(FULL_BATCH_REL_TOL);
      expect(got.result.updates).toBe(5 * 13); // per epoch: 4 chunks of 70 rows in 3 batches (32, 32, 6), one of 20 rows in 1
      expect(passes.count).toBe(5 + 1); // one per epoch, one for the final evaluation
    }
  });

  it('the chunked order differs from the unchunked one, and reruns are bit-identical', async () => {
    const a = await trainModelStreamedOnCpu(mlp, streamOf(spirals, 70), adam);
    const b = await trainModelStreamedOnCpu(mlp, streamOf(spirals, 70), adam);
    expect(Array.from(a.result.theta)).toEqual(Array.from(b.result.theta));
    const unchunked = await new FastCpuModelEngine(mlp, spirals).train(adam);
    expect(relativeError(a.result.theta, unchunked.theta).rel).toBeGreaterThan(1e-6);
  });

  it('full batch over chunks matches the full batch in memory (softmax, float64 twin)', async () => {
    const blobs = makeBlobs(40, 3, 2, 3);
    const c = softmaxModel(2, 3);
    const o = { lr: 0.05, maxEpochs: 30, optimizer: optimizerConfig({ kind: 'adam' }) };
    const got = await trainModelStreamedOnCpu(c, streamOf(blobs, 25), o, { reference: true });
    const want = await new CpuModelEngine(c, blobs).train(o);
    expect(relativeError(got.result.theta, want.theta).rel).toBeLessThanOrEqual(FULL_BATCH_REL_TOL);
    expect(got.passes).toBe(30 + 1);
  });

  it('the linear model streams full-batch descent with its rules: the stop, epochs and parameters of the run in memory', async () => {
    // Mini-batches of y ~ linear(...) over a stream: formula-linear-kernel.test.ts ('streamed').
    const data = makeLinearData(1000, 3, 5);
    const model = linearFormulaModel(3);
    const start = new Float64Array(4);
    const o = linearTrainOptions({ lr: 0.1, maxEpochs: 1000, tol: 1e-5 }, data.n); // converges in about 640 epochs
    const got = await trainFormulaStreamedOnCpu(model, start, streamOf(data, 128), o);
    const engine = new FastCpuFormulaEngine(model, data, start);
    const want = await engine.train(o);
    engine.dispose();
    expect(want.stopReason).toBe('tolerance');
    expect([got.result.stopReason, got.result.epochs]).toEqual([want.stopReason, want.epochs]);
    expect(got.passes).toBe(want.epochs + 1); // one per evaluation; the one that met the tolerance is the result's
    expect(relativeError(got.result.theta, want.theta).rel).toBeLessThanOrEqual(FULL_BATCH_REL_TOL);
  });

  it('a stream that changes between passes fails with a clear error, not a wrong result', async () => {
    let passes = 0;
    const stream: RowStream = { ...streamOf(spirals, 70), async *pass() {
      const rows = passes++ === 0 ? spirals.n : 200; // the file was cut after the first pass
      for (let start = 0; start < rows; start += 70) {
        const r = Math.min(70, rows - start);
        yield { x: spirals.x.slice(start * 2, (start + r) * 2), y: spirals.y.slice(start, start + r), rows: r };
      }
    } };
    await expect(trainModelStreamedOnCpu(mlp, stream, adam)).rejects.toThrow(/chunk 2 holds 60 rows, expected 70 \(did the file change between passes\?\)/);
  });
});

describe('nabla train --stream on the CPU path', () => {
  const dir = suiteTempDir('stream');
  const file = join(dir, 'spirals.csv');
  writeFileSync(file, ['x1,x2,label', ...Array.from({ length: spirals().n }, (_, i) => `${spirals().x[2 * i]},${spirals().x[2 * i + 1]},${spirals().y[i] ? 'b' : 'a'}`)].join('\n'));
  function spirals(): ModelData {
    return makeSpirals(100, 8);
  }
  const run = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const target = argv.includes('--target') ? [] : ['--target', 'label'];
    const code = await main(['train', '--data', file, ...target, ...argv], { out: (t) => out.push(t), err: (t) => err.push(t) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('trains every model by mini-batches over the stream, and reports the same metrics shape as in memory', async () => {
    const common = ['--model', 'mlp', '--hidden', '8', '--activation', 'tanh', '--optimizer', 'adam', '--lr', '0.02', '--epochs', '3', '--batch-size', '16', '--json', '--device', 'cpu'];
    const streamed = await run(...common, '--stream', '--chunk-mb', '0.001'); // 1048 bytes: 87 rows of 3 floats a chunk
    expect(streamed.code, streamed.err).toBe(0);
    const r = JSON.parse(streamed.out);
    const inMemory = JSON.parse((await run(...common)).out);
    expect(Object.keys(r).sort()).toEqual(Object.keys(inMemory).sort());
    expect([r.rows, r.epochs, r.updates, r.classes]).toEqual([200, 3, 3 * (6 + 6 + 2), ['a', 'b']]); // chunks 87, 87, 26 rows
    expect(r.metrics.accuracy).toBeGreaterThan(0.4);
    for (const model of ['logistic', 'softmax', 'linear']) {
      const extra = model === 'linear' ? ['--optimizer', 'sgd'] : [];
      const target = model === 'linear' ? ['--target', 'x2', '--features', 'x1'] : [];
      const m = await run('--model', model, ...extra, ...target, '--epochs', '2', '--batch-size', '8', '--stream', '--device', 'cpu64', '--json');
      expect(m.code, `${model}: ${m.err}`).toBe(0);
      expect(JSON.parse(m.out).updates).toBe(2 * 25);
    }
  });

  it('the linear model streams on the CPU path too: the run in memory\'s epochs, stop and weights', async () => {
    const common = ['--target', 'x2', '--features', 'x1', '--epochs', '50', '--json', '--device', 'cpu'];
    const streamed = await run(...common, '--stream', '--chunk-mb', '0.001');
    expect(streamed.code, streamed.err).toBe(0);
    const a = JSON.parse(streamed.out);
    const b = JSON.parse((await run(...common)).out);
    expect([a.epochs, a.stopReason]).toEqual([b.epochs, b.stopReason]);
    expect(Math.abs(a.weights.x1 - b.weights.x1)).toBeLessThanOrEqual(FULL_BATCH_REL_TOL * Math.abs(b.weights.x1)); // chunk means combined in another order
  });

  it('refuses a batch larger than a stream chunk, naming both', async () => {
    const r = await run('--model', 'softmax', '--stream', '--chunk-mb', '0.001', '--batch-size', '100', '--device', 'cpu');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--batch-size: 100 rows exceed a stream chunk of 87 rows .*--chunk-mb/);
  });
});

describe('streamed network training checks every chunk as rows in memory are checked', () => {
  it('refuses a label out of range in a later chunk, and a stream whose rows are not the model\'s width', async () => {
    const blobs = makeBlobs(30, 3, 2);
    const y = Float32Array.from(blobs.y);
    y[56] = 7; // the second chunk of 30, named by its row in the stream
    const bad = { ...blobs, y };
    const o = { lr: 0.05, maxEpochs: 2, optimizer: optimizerConfig({ kind: 'sgd' }) };
    for (const reference of [false, true]) {
      await expect(trainModelStreamedOnCpu(softmaxModel(2, 3), streamOf(bad, 30), o, { reference })).rejects.toThrow(/label of sample 56 is 7, expected a class index 0..2/);
      await expect(trainModelStreamedOnCpu(mlpModel(3, [4], 'tanh', 'mse'), streamOf(blobs, 30), o, { reference })).rejects.toThrow(/stream: 2 columns per row, the model takes 3/);
    }
  });
});
