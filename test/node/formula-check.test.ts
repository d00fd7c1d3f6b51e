// How a generated kernel's result is judged against the float64 twin (src/gpu/formula/formula-check.ts): within
// FORMULA_REL_TOL of each component's mean |term|, plus float32's smallest normal number, which a GPU may flush.
import { describe, expect, it } from 'vitest';
import { checkFormulaResult, F32_MIN_NORMAL, FORMULA_REL_TOL } from '../../src/gpu/formula/formula-check.ts';

const ref = (mean: number[], magnitude: number[]) => ({ mean: Float64Array.from(mean), magnitude: Float64Array.from(magnitude) });

describe('checkFormulaResult', () => {
  it('takes an error up to the relative tolerance of the terms\' magnitude, and refuses one beyond it', () => {
    expect(checkFormulaResult([1 + 0.9e-4, 2], ref([1, 2], [1, 2]), ['a'])).toBeNull();
    expect(checkFormulaResult([1 + 1.1e-4, 2], ref([1, 2], [1, 2]), ['a'])).toMatch(/1 of 2 components off .*d\/da: got 1\.00011, want 1/);
  });

  it('takes a difference below float32\'s smallest normal number where every term is that small (a GPU may flush them)', () => {
    // The audit's start: terms ~5.6e-36, the GPU's mean 7.4e-40 off, beyond 1e-4 of the magnitude alone.
    const want = -5.5973e-36;
    expect(Math.abs(7.42e-40)).toBeGreaterThan(FORMULA_REL_TOL * 5.6e-36);
    expect(checkFormulaResult([want + 7.42e-40, 1], ref([want, 1], [5.6e-36, 1]), ['a'])).toBeNull();
    expect(checkFormulaResult([want + 2 * F32_MIN_NORMAL, 1], ref([want, 1], [5.6e-36, 1]), ['a'])).toMatch(/d\/da/);
  });

  it('wants a component the twin finds not finite to be not finite on the GPU too', () => {
    expect(checkFormulaResult([NaN, 1], ref([NaN, 1], [NaN, 1]), ['a'])).toBeNull();
    expect(checkFormulaResult([3, 1], ref([NaN, 1], [NaN, 1]), ['a'])).toMatch(/d\/da: got 3, the float64 twin NaN/);
  });
});
