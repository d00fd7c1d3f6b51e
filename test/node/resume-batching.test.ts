// A snapshot records the batches it was trained with (batch size, chunk rows), and a resume that cuts other
// batches is refused even where its update count divides into whole epochs of them: the same count would
// mean another number of epochs. A snapshot without the record (rebuilt from an older file) is checked by its
// update count alone, as before.
import { describe, expect, it } from 'vitest';
import { CpuFormulaEngine } from '../../src/cpu/formula-engine.ts';
import { compileFormula } from '../../src/formula/model.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { fromPlainSnapshot, toPlainSnapshot } from '../../src/models/plain-snapshot.ts';
import type { ModelSnapshot, ModelTrainOptions } from '../../src/models/model-engine.ts';

const N = 500;

function engine(): CpuFormulaEngine {
  const model = compileFormula({ formula: 'y ~ a*x + b' }, { columns: ['x', 'y'] });
  const x = Float32Array.from({ length: N }, (_, i) => i / N);
  const y = x.map((v) => 2 * v + 1);
  return new CpuFormulaEngine(model, { x, y, n: N, d: 1 }, new Float64Array(2));
}

const sgd = { lr: 0.01, optimizer: optimizerConfig({ kind: 'sgd' }) };

async function snapshotAfterTwoEpochs(options: Partial<ModelTrainOptions>): Promise<{ taken: ModelSnapshot[]; result: ModelSnapshot }> {
  const taken: ModelSnapshot[] = [];
  const r = await engine().train({ ...sgd, maxEpochs: 2, reportEvery: 1, onSnapshot: (s) => taken.push(s), ...options });
  return { taken, result: r.snapshot };
}

describe('resume with other batches', () => {
  it('a snapshot of batchSize 100 resumes with 100 only: 50 and full batches are refused, naming both', async () => {
    const { taken, result } = await snapshotAfterTwoEpochs({ batchSize: 100 });
    expect(result.optim.t).toBe(10);
    expect(result.batching).toEqual({ batchSize: 100, chunkRows: null });
    expect(taken.at(-1)!.batching).toEqual({ batchSize: 100, chunkRows: null });
    const resume = (batchSize: number | undefined) => engine().train({ ...sgd, maxEpochs: 4, batchSize, resumeFrom: result });
    await expect(resume(50)).rejects.toThrow(/^resume: the snapshot was trained with batchSize 100, this run with batchSize 50: resume with the batch size and the chunkRows/);
    await expect(resume(undefined)).rejects.toThrow(/^resume: the snapshot was trained with batchSize 100, this run with full batches:/);
    const same = await resume(100);
    expect([same.epochs, same.updates]).toEqual([4, 20]);
  });

  it('a full-batch snapshot refuses mini-batches; a batch size covering every row is full batch', async () => {
    const { result } = await snapshotAfterTwoEpochs({});
    expect(result.batching).toEqual({ batchSize: null, chunkRows: null });
    await expect(engine().train({ ...sgd, maxEpochs: 4, batchSize: 250, resumeFrom: result })).rejects.toThrow(/trained with full batches, this run with batchSize 250/);
    const r = await engine().train({ ...sgd, maxEpochs: 4, batchSize: N, resumeFrom: result });
    expect([r.epochs, r.updates]).toEqual([4, 4]);
  });

  it('other chunk rows cut other batches and are refused; chunks of every row are one chunk', async () => {
    const { result } = await snapshotAfterTwoEpochs({ batchSize: 50, chunkRows: 250 });
    expect(result.batching).toEqual({ batchSize: 50, chunkRows: 250 });
    await expect(engine().train({ ...sgd, maxEpochs: 4, batchSize: 50, chunkRows: 100, resumeFrom: result }))
      .rejects.toThrow(/trained with batchSize 50 in chunks of 250 rows \(chunkRows\), this run with batchSize 50 in chunks of 100 rows/);
    await expect(engine().train({ ...sgd, maxEpochs: 4, batchSize: 50, resumeFrom: result })).rejects.toThrow(/this run with batchSize 50:/);
    const whole = await snapshotAfterTwoEpochs({ batchSize: 50, chunkRows: N });
    expect(whole.result.batching).toEqual({ batchSize: 50, chunkRows: null });
    const r = await engine().train({ ...sgd, maxEpochs: 3, batchSize: 50, resumeFrom: whole.result });
    expect([r.epochs, r.updates]).toEqual([3, 30]);
  });

  it('a snapshot without the record is checked by its update count alone', async () => {
    const { result } = await snapshotAfterTwoEpochs({ batchSize: 100 });
    const { batching: _b, ...older } = result;
    // 10 updates are 1 epoch of 10 batches of 50: accepted, as before the record.
    const r = await engine().train({ ...sgd, maxEpochs: 2, batchSize: 50, resumeFrom: older });
    expect([r.epochs, r.updates]).toEqual([2, 20]);
    await expect(engine().train({ ...sgd, maxEpochs: 4, batchSize: 150, resumeFrom: older })).rejects.toThrow(/resume: the snapshot has 10 updates, not a whole number of epochs of 4 batches/);
  });

  it('the record crosses to the page and back as a plain snapshot, and a damaged one is named', async () => {
    const { result } = await snapshotAfterTwoEpochs({ batchSize: 100 });
    expect(fromPlainSnapshot(JSON.parse(JSON.stringify(toPlainSnapshot(result)))).batching).toEqual({ batchSize: 100, chunkRows: null });
    const damaged = { ...result, batching: { batchSize: 0, chunkRows: null } };
    await expect(engine().train({ ...sgd, maxEpochs: 4, batchSize: 100, resumeFrom: damaged })).rejects.toThrow(/resumeFrom\.batching\.batchSize: expected a positive integer or null, got 0/);
  });
});
