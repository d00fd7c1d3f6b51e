// The GPU's streamed engine stopped by its AbortSignal ends at once, as the CPU path does (node/streamed-abort):
// no pass over the stream to evaluate the result; its loss is the last completed epoch's, and says so.
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { GpuModelEngine } from '../../src/gpu/models/gpu-model-engine.ts';
import { mlpModel } from '../../src/models/mlp.ts';
import type { EpochInfo } from '../../src/models/linear.ts';
import type { RowChunk, RowStream } from '../../src/models/row-stream.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { makeSpirals } from '../model-data.ts';

describe('an aborted streamed GPU run', () => {
  it('reads one pass per epoch it ran and none after, reporting the last epoch\'s loss, marked', async () => {
    const data = makeSpirals(100, 5); // 200 rows in chunks of 40
    let passes = 0;
    const stream: RowStream = {
      n: data.n, d: data.d, chunkRows: 40,
      async *pass(): AsyncGenerator<RowChunk> {
        passes++;
        for (let start = 0; start < data.n; start += 40) yield { x: data.x.slice(start * 2, (start + 40) * 2), y: data.y.slice(start, start + 40), rows: 40 };
      },
    };
    const engine = await GpuModelEngine.createStreamed(await testGpu(), mlpModel(2, [8], 'tanh', 'ce', 2), stream, { products: 'heuristic' });
    try {
      const controller = new AbortController();
      const seen: EpochInfo[] = [];
      const result = await engine.train({
        lr: 0.02, maxEpochs: 50, batchSize: 20, seed: 3, reportEvery: 1, optimizer: optimizerConfig({ kind: 'adam' }), signal: controller.signal,
        onEpoch: (e) => {
          seen.push(e);
          if (seen.length === 2) controller.abort();
        },
      });
      expect([result.stopReason, result.epochs, passes, result.lossOf]).toEqual(['aborted', 2, 2, 'last-epoch']);
      expect(result.loss).toBe(seen[1].loss);
    } finally {
      engine.dispose();
    }
  });
});
