// Device loss for the network models: the same recovery loop as the formulas' (src/session/recovering-trainer.ts).
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { requestGpu } from '../../src/gpu/device.ts';
import { GpuModelEngine } from '../../src/gpu/models/gpu-model-engine.ts';
import { trainModelWithRecovery } from '../../src/session/recovering-trainer.ts';
import { mlpModel } from '../../src/models/mlp.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import type { EpochInfo } from '../../src/models/linear.ts';
import type { ModelTrainOptions } from '../../src/models/model-engine.ts';
import { makeBlobs } from '../model-data.ts';

const config = mlpModel(2, [16], 'tanh', 'ce', 3);
const data = makeBlobs(200, 3, 2);
// Mini-batches of 100 (6 per epoch), Adam: the snapshot must carry the moments and the batch position.
const options: ModelTrainOptions = { lr: 0.01, maxEpochs: 40, batchSize: 100, optimizer: optimizerConfig({ kind: 'adam' }), seed: 4, reportEvery: 6 };

describe('GPU reliability: models', () => {
  it('an MLP survives device loss mid-run and ends bit-identical to an uninterrupted run', async () => {
    const engine = await GpuModelEngine.create(await testGpu(), config, data, { maxBatchRows: 100 });
    const reference = await engine.train(options).finally(() => engine.dispose());

    const doomed = await requestGpu();
    const epochs: EpochInfo[] = [];
    const notices: string[] = [];
    const r = await trainModelWithRecovery(doomed, config, data, {
      ...options,
      onEpoch: (e) => {
        epochs.push(e);
        if (e.epoch === 17) doomed.device.destroy();
      },
    }, { acquire: () => requestGpu(), notice: (m) => notices.push(m), engine: { maxBatchRows: 100 } });

    expect(r.recoveries).toBe(1);
    expect(r.device).toBe('gpu');
    expect(notices.join('\n')).toMatch(/resuming from the snapshot at update \d+/);
    expect(Array.from(r.result.theta)).toEqual(Array.from(reference.theta));
    expect(r.result.loss).toBe(reference.loss);
    expect(r.result.epochs).toBe(reference.epochs);
    // No epoch is reported twice or skipped although the run restarted from a snapshot.
    expect(epochs.map((e) => e.epoch)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('continues on the CPU path when no new device can be had, and says so', async () => {
    const doomed = await requestGpu();
    const notices: string[] = [];
    const r = await trainModelWithRecovery(doomed, config, data, {
      ...options,
      onEpoch: (e) => { if (e.epoch === 10) doomed.device.destroy(); },
    }, { acquire: () => Promise.reject(new Error('adapter refused')), notice: (m) => notices.push(m), engine: { maxBatchRows: 100 } });
    expect(r.device).toBe('cpu');
    expect(r.adapter).toBeNull();
    expect(notices.join('\n')).toMatch(/adapter refused[\s\S]*CPU path from update \d+/);
    expect(r.result.epochs).toBe(40);
    expect(Number.isFinite(r.result.loss)).toBe(true);
  });
});
