// How a generated kernel's result is judged against the float64 twin (src/gpu/formula/formula-check.ts): within
// FORMULA_REL_TOL of each component's mean |term|, plus an absolute allowance for float32's underflow range.
import { describe, expect, it } from 'vitest';
import { checkFormulaResult, F32_UNDERFLOW_ALLOWANCE, FORMULA_REL_TOL } from '../../src/gpu/formula/formula-check.ts';

const ref = (mean: number[], magnitude: number[]) => ({ mean: Float64Array.from(mean), magnitude: Float64Array.from(magnitude) });

describe('checkFormulaResult', () => {
  it('takes an error up to the relative tolerance of the terms\' magnitude, and refuses one beyond it', () => {
    expect(checkFormulaResult([1 + 0.9e-4, 2], ref([1, 2], [1, 2]), ['a'])).toBeNull();
    expect(checkFormulaResult([1 + 1.1e-4, 2], ref([1, 2], [1, 2]), ['a'])).toMatch(/1 of 2 components off .*d\/da: got 1\.00011, want 1/);
  });

  it('takes a difference at float32\'s underflow edge where every term is that small (a GPU may flush a factor there)', () => {
    // The audit's start, y ~ a*exp(-k*x) at k = 1: d/dk's terms ~4.4e-34, the GPU's mean 6.6e-38 off, beyond 1e-4 of the magnitude alone.
    const want = 4.404490241941526e-34;
    expect(6.57e-38).toBeGreaterThan(FORMULA_REL_TOL * 4.4e-34);
    expect(checkFormulaResult([1, want + 6.57e-38, 1], ref([1, want, 1], [1, 4.4e-34, 1]), ['a', 'k'])).toBeNull();
    expect(checkFormulaResult([1, want + 2 * F32_UNDERFLOW_ALLOWANCE, 1], ref([1, want, 1], [1, 4.4e-34, 1]), ['a', 'k'])).toMatch(/d\/dk/);
    // At the scale formulas are fitted at, the allowance is nothing beside the relative tolerance.
    expect(checkFormulaResult([1e-20 * (1 + 2e-4), 1], ref([1e-20, 1], [1e-20, 1]), ['a'])).toMatch(/d\/da/);
  });

  it('wants a component the twin finds not finite to be not finite on the GPU too', () => {
    expect(checkFormulaResult([NaN, 1], ref([NaN, 1], [NaN, 1]), ['a'])).toBeNull();
    expect(checkFormulaResult([3, 1], ref([NaN, 1], [NaN, 1]), ['a'])).toMatch(/d\/da: got 3, the float64 twin NaN/);
  });
});
