// An abort mid-epoch (library train with an AbortSignal): the run returns the state at the last whole epoch, and
// a resume from its snapshot continues to the same parameters as a run without a break. Before, the snapshot
// held the updates of the unfinished epoch, which no resume accepts (its t is not a whole number of epochs).
import { describe, expect, it } from 'vitest';
import { compileFormula } from '../../src/formula/model.ts';
import { formulaRowSums } from '../../src/models/formula.ts';
import { formulaGradient, formulaSource } from '../../src/cpu/formula-engine.ts';
import { CpuProgram } from '../../src/cpu/cpu-program.ts';
import { runTraining } from '../../src/train/loop.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import type { BatchRange } from '../../src/models/batches.ts';
import type { ModelTrainOptions } from '../../src/models/model-engine.ts';

const model = compileFormula({ formula: 'y ~ a*x + b' }, { columns: ['x', 'y'] });
const n = 12;
const data = { x: Float32Array.from({ length: n }, (_, i) => i / 4), y: Float32Array.from({ length: n }, (_, i) => 2 * (i / 4) - 1 + (i % 3) * 0.1), n, d: 1 };
const start = Float64Array.of(0, 0);
const sums = formulaRowSums(model);
// Batches of 3 make 4 updates an epoch; the CPU program runs one update per chain, so an abort can fall inside an epoch.
const options: ModelTrainOptions = { lr: 0.05, maxEpochs: 6, batchSize: 3, seed: 5, optimizer: optimizerConfig({ kind: 'adam' }) };

/** The CPU program over the rows, calling `each` before every gradient it computes. */
function program(each: () => void) {
  return new CpuProgram(formulaSource(model, start, n, (theta: Float64Array, r: BatchRange) => {
    each();
    return formulaGradient(sums, model, theta, data, r);
  }));
}

describe('an abort mid-epoch', () => {
  it('returns the last whole epoch, and its snapshot resumes to the parameters of a run without a break', async () => {
    const straight = await runTraining(program(() => {}), options);
    const controller = new AbortController();
    let gradients = 0;
    // Aborted during the 10th update, the 2nd of epoch 2: the loop sees the signal before the 11th.
    const aborted = await runTraining(program(() => { if (++gradients === 10) controller.abort(); }), { ...options, signal: controller.signal });
    expect(aborted.stopReason).toBe('aborted');
    expect(aborted.updates).toBe(8);
    expect(aborted.epochs).toBe(2);
    expect(aborted.snapshot.optim.t).toBe(8);
    expect(Array.from(aborted.theta)).toEqual(Array.from(aborted.snapshot.theta));
    // The reported loss is the full data's at the parameters returned, not at those of the dropped updates.
    expect(aborted.loss).toBe(formulaGradient(sums, model, aborted.theta, data, { start: 0, rows: n }).loss);
    const resumed = await runTraining(program(() => {}), { ...options, resumeFrom: aborted.snapshot });
    expect(resumed.updates).toBe(24);
    expect(Array.from(resumed.theta)).toEqual(Array.from(straight.theta));
  });

  it('on an epoch end keeps every update', async () => {
    const controller = new AbortController();
    let gradients = 0;
    const aborted = await runTraining(program(() => { if (++gradients === 8) controller.abort(); }), { ...options, signal: controller.signal });
    expect(aborted.updates).toBe(8);
  });
});
