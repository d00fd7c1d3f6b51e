// A streamed run stopped by its AbortSignal ends at once: it does not read every row once more to evaluate the
// parameters it returns. Its loss is then its last completed epoch's, and the result says so (lossOf).
import { describe, expect, it } from 'vitest';
import { mlpModel } from '../../src/models/mlp.ts';
import type { ModelData } from '../../src/models/network.ts';
import type { EpochInfo } from '../../src/models/linear.ts';
import type { ModelTrainOptions } from '../../src/models/model-engine.ts';
import type { RowStream } from '../../src/models/row-stream.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { FastCpuModelEngine } from '../../src/cpu-fast/fast-engines.ts';
import { trainModelStreamedOnCpu } from '../../src/cpu-fast/streamed-training.ts';
import { trainFormulaStreamedOnCpu } from '../../src/cpu-fast/formula-engine.ts';
import { linearFormulaModel } from '../../src/models/linear-formula.ts';
import { makeSpirals } from '../model-data.ts';
import { makeLinearData } from '../data-gen.ts';

/** data in chunkRows-row chunks; passes counts the passes begun. */
function streamOf(data: ModelData, chunkRows: number, passes: { count: number }): RowStream {
  const { n, d } = data;
  return {
    n, d, chunkRows,
    async *pass() {
      passes.count++;
      for (let start = 0; start < n; start += chunkRows) {
        const rows = Math.min(chunkRows, n - start);
        yield { x: data.x.slice(start * d, (start + rows) * d), y: data.y.slice(start, start + rows), rows };
      }
    },
  };
}

/** Options that abort the run from onEpoch once `epochs` epochs are reported, recording them. */
function abortingAfter(epochs: number, base: Omit<ModelTrainOptions, 'maxEpochs'>) {
  const controller = new AbortController();
  const seen: EpochInfo[] = [];
  const o: ModelTrainOptions = { ...base, maxEpochs: 50, signal: controller.signal, onEpoch: (e: EpochInfo) => {
    seen.push(e);
    if (seen.length === epochs) controller.abort();
  } };
  return { o, seen };
}

describe('an aborted streamed run stops without another pass', () => {
  const spirals = makeSpirals(150, 4); // 300 rows in chunks of 70
  const mlp = mlpModel(2, [6], 'tanh', 'ce', 2);
  const adam = { lr: 0.02, batchSize: 32, seed: 6, optimizer: optimizerConfig({ kind: 'adam' }) };

  for (const reference of [false, true]) {
    it(`mini-batches (${reference ? 'float64 twin' : 'fast engine'}): one pass per epoch run, the last epoch's loss, marked`, async () => {
      const passes = { count: 0 };
      const { o, seen } = abortingAfter(3, adam);
      const { result } = await trainModelStreamedOnCpu(mlp, streamOf(spirals, 70, passes), o, { reference });
      expect(result.stopReason).toBe('aborted');
      expect(result.epochs).toBe(3);
      expect(passes.count).toBe(3);
      expect(result.lossOf).toBe('last-epoch');
      expect([result.loss, result.gradNorm]).toEqual([seen[2].loss, seen[2].gradNorm]);
    });
  }

  it('aborted before the first epoch: no pass at all, and no loss to report', async () => {
    const passes = { count: 0 };
    const { result } = await trainModelStreamedOnCpu(mlp, streamOf(spirals, 70, passes), { ...adam, maxEpochs: 5, signal: AbortSignal.abort() });
    expect([result.stopReason, result.epochs, passes.count, result.lossOf]).toEqual(['aborted', 0, 0, 'last-epoch']);
    expect(result.loss).toBeNaN();
  });

  it('full batch, a formula with finalGradient: one pass per evaluation, none after the abort', async () => {
    const data = makeLinearData(400, 3, 5);
    const passes = { count: 0 };
    const { o, seen } = abortingAfter(4, { lr: 0.1, optimizer: optimizerConfig({ kind: 'sgd' }) });
    const got = await trainFormulaStreamedOnCpu(linearFormulaModel(3), new Float64Array(4), streamOf(data, 128, passes), o, { finalGradient: true });
    expect([got.result.stopReason, got.result.epochs, passes.count]).toEqual(['aborted', 4, 4]);
    expect(got.final).toBeUndefined();
    expect([got.result.loss, got.result.lossOf]).toEqual([seen[3].loss, 'last-epoch']);
  });

  it('rows in memory still evaluate the parameters an aborted run returns', async () => {
    const { o } = abortingAfter(2, adam);
    const engine = new FastCpuModelEngine(mlp, spirals);
    const result = await engine.train({ ...o, chunkRows: 70 });
    const at = await engine.lossAndGradient(result.theta);
    engine.dispose();
    expect(result.lossOf).toBeUndefined();
    expect(result.loss).toBe(at.loss);
  });
});
