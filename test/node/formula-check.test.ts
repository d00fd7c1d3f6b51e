// How a generated kernel's result is judged against the float64 twin (src/gpu/formula/formula-check.ts): within
// FORMULA_REL_TOL of each component's mean |term|, plus an absolute allowance for float32's underflow range.
import { describe, expect, it } from 'vitest';
import { checkFormulaResult, F32_ROUNDING_FACTOR, F32_UNDERFLOW_ALLOWANCE, FORMULA_REL_TOL, formulaReference } from '../../src/gpu/formula/formula-check.ts';
import { compileFormula } from '../../src/formula/model.ts';
import { parseExpression } from '../../src/formula/parse.ts';
import { jsExpression } from '../../src/formula/emit-js.ts';

const ref = (mean: number[], magnitude: number[], rounding = mean.map(() => 0)) => ({
  mean: Float64Array.from(mean), magnitude: Float64Array.from(magnitude), rounding: Float64Array.from(rounding), firstOverflowRow: -1,
});

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

  it('allows a multiple of what float32 itself costs a component, and no more', () => {
    expect(checkFormulaResult([1 + 1e-3, 2], ref([1, 2], [1, 2], [1e-3 / F32_ROUNDING_FACTOR, 0]), ['a'])).toBeNull();
    expect(checkFormulaResult([1 + 1.2e-3, 2], ref([1, 2], [1, 2], [1e-3 / F32_ROUNDING_FACTOR, 0]), ['a'])).toMatch(/d\/da/);
  });
});

describe('formulaReference\'s float32 estimate', () => {
  // NIST's Misra1a at its certified optimum: ŷ ~ 10..240 and residuals ~0.1, so float32's rounding of ŷ alone
  // moves each gradient term by up to ~1e-4 of itself, where the relative tolerance allows 1e-4 of the mean |term|.
  const x = Float32Array.of(77.6, 114.9, 141.1, 190.8, 239.9, 289.0, 332.8, 378.4, 434.8, 477.3, 536.8, 593.1, 689.1, 760.0);
  const y = Float32Array.of(10.07, 14.73, 17.94, 23.93, 29.61, 35.18, 40.02, 44.82, 50.76, 55.05, 61.01, 66.4, 75.47, 81.78);
  const model = compileFormula({ formula: 'y ~ b1*(1-exp(-b2*x))' }, { columns: ['x', 'y'] });
  const data = { x, y, n: 14, d: 1 };

  it('is of float32\'s order where terms cancel, and counts no row where float32 holds every value', () => {
    const r = formulaReference(model, [238.94212918, 5.5015643181e-4], data, { start: 0, rows: 14 });
    expect(r.firstOverflowRow).toBe(-1);
    for (let k = 0; k < 3; k++) {
      expect(r.rounding[k]).toBeGreaterThan(1e-9 * r.magnitude[k]);
      expect(r.rounding[k]).toBeLessThan(1e-3 * r.magnitude[k]);
    }
    // Near the optimum float32's cost of the gradient is a sizeable share of what the relative tolerance allows.
    expect(F32_ROUNDING_FACTOR * r.rounding[0]).toBeGreaterThan(0.1 * FORMULA_REL_TOL * r.magnitude[0]);
  });

  it('names the first row whose values float32 cannot hold', () => {
    const r = formulaReference(compileFormula({ formula: 'y ~ a*x + c' }, { columns: ['x', 'y'] }), [1e20, 0], data, { start: 0, rows: 14 });
    expect(r.firstOverflowRow).toBe(0);
    expect(Array.from(r.mean).every(Number.isFinite)).toBe(true);
  });

  it('rounds every operation to float32, sin, cos and tan as any other (the kernels\' helpers are within a few ulps)', () => {
    const f32 = (text: string, x0: number) => new Function('x0', 'nabla_sq', `return ${jsExpression(parseExpression(text), true)};`)(x0, (v: number) => v * v);
    expect(f32('sin(x0)', 0.5)).toBe(Math.fround(Math.sin(0.5)));
    expect(f32('tan(x0 / 3)', 0.5)).toBe(Math.fround(Math.tan(Math.fround(0.5 / 3))));
    expect(f32('x0 / 3', 1)).toBe(Math.fround(1 / 3));
    expect(f32('exp(x0) * 3', 0.1)).toBe(Math.fround(Math.fround(Math.exp(0.1)) * 3));
  });
});
