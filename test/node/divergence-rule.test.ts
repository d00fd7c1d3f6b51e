// The divergence rule for losses that may be negative (Poisson's ŷ − y ln ŷ, custom formulas): a loss falling
// below zero is progress, not an explosion; a loss rising by more than (factor − 1)·|best| still diverges.
import { describe, expect, it } from 'vitest';
import { explodes } from '../../src/models/linear.ts';
import { compileFormula, startingParameters } from '../../src/formula/model.ts';
import { CpuFormulaEngine } from '../../src/cpu/formula-engine.ts';
import { optimizerConfig } from '../../src/optim/config.ts';

describe('explodes', () => {
  it('is loss > factor x best for a positive best', () => {
    expect(explodes(10.1, 1, 10)).toBe(true);
    expect(explodes(9.9, 1, 10)).toBe(false);
  });
  it('measures a negative best by its magnitude', () => {
    expect(explodes(-20, -10, 10)).toBe(false); // falling
    expect(explodes(-5, -10, 10)).toBe(false); // risen by 5 < 9 x 10
    expect(explodes(81, -10, 10)).toBe(true); // risen by 91 > 90
  });
  it('never fires before a best exists', () => {
    expect(explodes(1e300, Infinity, 10)).toBe(false);
  });
});

describe('a Poisson fit whose loss goes negative', () => {
  it('trains to the mean count instead of stopping as diverged', async () => {
    const model = compileFormula({ formula: 'y ~ exp(a)', loss: 'poisson' }, { columns: ['y'] });
    const y = Float32Array.from([10, 10, 10]);
    const engine = new CpuFormulaEngine(model, { x: new Float32Array(0), y, n: 3, d: 0 }, startingParameters(model, { a: 0 }));
    const fit = await engine.train({ lr: 0.01, maxEpochs: 3000, optimizer: optimizerConfig({ kind: 'sgd' }) });
    expect(fit.stopReason).toBe('max-epochs');
    expect(fit.loss).toBeLessThan(0);
    expect(fit.theta[0]).toBeCloseTo(Math.log(10), 3);
  });
});
