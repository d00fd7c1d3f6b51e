// A seed orders mini-batches and draws a network's initial parameters: a full-batch run that starts from init
// has no use for it, and train refuses one rather than ignore it.
import { describe, expect, it } from 'vitest';
import { compileFormula } from '../../src/formula/model.ts';
import { CpuFormulaEngine } from '../../src/cpu/formula-engine.ts';
import { CpuModelEngine } from '../../src/cpu/cpu-model-engine.ts';
import { mlpModel } from '../../src/models/mlp.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import type { ModelTrainOptions } from '../../src/models/model-engine.ts';

const model = compileFormula({ formula: 'y ~ a*x + b' }, { columns: ['x', 'y'] });
const data = { x: Float32Array.of(0, 1, 2, 3), y: Float32Array.of(1, 3, 5, 7), n: 4, d: 1 };
const init = Float64Array.of(0.5, 0.5);
const base: ModelTrainOptions = { lr: 0.05, maxEpochs: 2, optimizer: optimizerConfig({ kind: 'sgd' }) };

describe('a seed at full batch', () => {
  it('is refused where the run starts from init, with the whole data as its batch or a batchSize that covers it', async () => {
    const engine = new CpuFormulaEngine(model, data, Float64Array.of(0, 0));
    await expect(engine.train({ ...base, init, seed: 3 })).rejects.toThrow(/^seed: .*full batches of all 4 samples, starting from init; drop seed, or give a batchSize below 4/);
    await expect(engine.train({ ...base, init, seed: 3, batchSize: 4 })).rejects.toThrow(/^seed: /);
  });

  it('is taken where it orders mini-batches or draws the initial parameters', async () => {
    const engine = new CpuFormulaEngine(model, data, Float64Array.of(0, 0));
    await expect(engine.train({ ...base, init, seed: 3, batchSize: 2 })).resolves.toMatchObject({ updates: 4 });
    await expect(engine.train({ ...base, init })).resolves.toMatchObject({ updates: 2 });
    const network = new CpuModelEngine(mlpModel(1, [3], 'tanh', 'mse', 1), { x: data.x, y: data.y, n: 4, d: 1 });
    const drawn = (seed: number) => network.train({ ...base, maxEpochs: 0, seed }).then((r) => Array.from(r.theta));
    expect(await drawn(1)).not.toEqual(await drawn(2));
  });
});
