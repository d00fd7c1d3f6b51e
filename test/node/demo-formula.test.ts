// The formula mode's pure helpers: which names are columns of generated data, compile errors located in the
// formula or the loss, the data generated at the true values, the per-axis window and J on the grid.
import { describe, expect, it } from 'vitest';
import {
  compileSpec, DEFAULT_FORMULA, EXAMPLES, exampleFor, fallbackValues, generatedColumns, keptAxes, lossArgument, missingStartMessage, namedLossText,
} from '../../src/demo/formula/formula-spec.ts';
import { generateFormulaData, startNotFinite, startNotFiniteInFloat32 } from '../../src/demo/formula/formula-data.ts';
import { formulaSurface, paramWindow, surfaceRows } from '../../src/demo/formula/formula-surface.ts';
import { formulaRowSums } from '../../src/models/formula.ts';

describe('demo formula mode helpers', () => {
  it('x-names and the target are the generated data\'s columns; everything else is a parameter', () => {
    expect(generatedColumns('y ~ b1*(1-exp(-b2*x))')).toEqual(['x', 'y']);
    expect(generatedColumns('z ~ a*x1 + b*x2 + xb')).toEqual(['x1', 'x2', 'z']);
    const c = compileSpec(DEFAULT_FORMULA, 'mse', generatedColumns(DEFAULT_FORMULA));
    expect(c.ok && c.model.params).toEqual(['b1', 'b2']);
  });

  it('an error names its field and column, and nothing is thrown', () => {
    const f = compileSpec('y ~ b1*(1-exq(-b2*x))', 'mse', ['x', 'y']);
    expect(f).toMatchObject({ ok: false, error: { field: 'formula', position: 10, reason: expect.stringMatching(/^unknown function "exq"/) } });
    const l = compileSpec(DEFAULT_FORMULA, '(yhat - q)^2', ['x', 'y']);
    expect(l).toMatchObject({ ok: false, error: { field: 'loss', position: 8, text: '(yhat - q)^2' } });
    expect(compileSpec('y ~ ', 'mse', ['y']).ok).toBe(false);
  });

  it('the contour keeps its two parameters by name when the formula changes, and shows two while it can', () => {
    // (b, c) chosen on a*x^2 + b*x + c; the a term goes: still (b, c), not the indices (1, 2) of [b, c].
    expect(keptAxes(['b', 'c'], 'b', 'c')).toEqual([0, 1]);
    expect(keptAxes(['d', 'a', 'b', 'c'], 'b', 'c')).toEqual([2, 3]);
    expect(keptAxes(['c', 'd'], 'b', 'c'), 'b gone: across takes the first that up does not show').toEqual([1, 0]);
    expect(keptAxes(['a', 'b'], 'x', 'y')).toEqual([0, 1]);
    expect(keptAxes(['a', 'b'], undefined, undefined), 'the first model').toEqual([0, 1]);
    expect(keptAxes(['a'], 'a', 'b'), 'one parameter: no map').toEqual([0, 0]);
    expect(keptAxes(['a', 'b'], 'b', 'b'), 'the user\'s own choice of one parameter twice stays').toEqual([1, 1]);
  });

  it('every example compiles on its own generated columns and has a true value per parameter', () => {
    for (const [formula, preset] of Object.entries(EXAMPLES)) {
      const c = compileSpec(formula, 'mse', generatedColumns(formula));
      expect(c.ok, formula).toBe(true);
      if (c.ok) expect(Object.keys(preset.truth).sort()).toEqual([...c.model.params].sort());
    }
    expect(exampleFor('y~b1*(1 - exp(-b2*x))')?.key).toBe(DEFAULT_FORMULA);
  });

  it('generated data lie on the model at the true values (noise 0), and J there is 0', () => {
    const c = compileSpec(DEFAULT_FORMULA, 'mse', ['x', 'y']);
    if (!c.ok) throw new Error('compile');
    const truth = Float64Array.of(500, 1);
    const ds = generateFormulaData(c.model, { n: 300, lo: 0, hi: 5, noise: 0, truth, seed: 7 });
    for (let i = 0; i < ds.data.n; i++) expect(ds.data.y[i]).toBeCloseTo(500 * (1 - Math.exp(-ds.data.x[i])), 2);
    const win = paramWindow([[100, 0.5], [500, 1]]);
    expect(win.w0).toBeLessThan(100);
    expect(win.w1).toBeGreaterThan(500);
    expect(win.b1 - win.b0).toBeLessThan(2); // each axis its own scale
    const spec = { w0: 500, b0: 1, dw: 10, db: 0.1, nx: 2, ny: 2 };
    const grid = formulaSurface(c.model, ds.data, truth, 0, 1, spec);
    expect(grid[0]).toBeLessThan(1e-6);
    const out = new Float64Array(3);
    formulaRowSums(c.model)(Float64Array.of(510, 1.1), ds.data.x, ds.data.y, 0, ds.data.n, out);
    expect(grid[3]).toBeCloseTo(out[2] / ds.data.n, 9);
    expect(surfaceRows(ds.data).sampled).toBe(false);
  });

  it('only the formula gives a parameter a start: any other name has none, and the message names it', () => {
    const c = compileSpec('y ~ a*x + b*x2 + linear(x1)', 'mse', ['x', 'x1', 'y']);
    if (!c.ok) throw new Error(c.error.reason);
    expect(c.model.params).toEqual(['a', 'b', 'x2', 'w_x1', 'bias']);
    expect(fallbackValues(c.model, 'x2')).toEqual({ start: null, truth: 1 });
    expect(fallbackValues(c.model, 'w_x1').start).toBe(0);
    expect(missingStartMessage(['x2'])).toBe('x2 has no starting value: a name that is not a column is a parameter; give it a value or check the column\'s spelling');
    expect(missingStartMessage(['a', 'b', 'x2'])).toMatch(/^a, b and x2 have no starting value: /);
  });

  it('a named loss\'s argument from its field, checked by the loss parser', () => {
    expect(lossArgument('huber')).toEqual({ name: 'δ', fallback: 1 });
    expect(lossArgument('quantile')).toEqual({ name: 'τ', fallback: 0.5 });
    expect(lossArgument('mse')).toBeNull();
    expect(namedLossText('huber', ' 2 ')).toEqual({ text: 'huber:2' });
    expect(namedLossText('mse', 'ignored')).toEqual({ text: 'mse' });
    expect(namedLossText('huber', '-1')).toEqual({ error: 'the huber loss\'s δ must be positive' });
    expect(namedLossText('huber', '')).toEqual({ error: 'the huber loss\'s δ must be a number' });
    expect(namedLossText('quantile', '1')).toEqual({ error: 'the quantile loss\'s τ must lie strictly between 0 and 1' });
    expect(namedLossText('cauchy', '0')).toEqual({ error: 'the cauchy loss\'s c must be positive' });
    const c = compileSpec('y ~ a*x', (namedLossText('quantile', '0.9') as { text: string }).text, ['x', 'y']);
    expect(c.ok && c.model.loss.text).toBe('quantile:0.9');
  });

  it('a start where J is not finite is named with the first row where the model or the loss is not', () => {
    const c = compileSpec('y ~ b1*log(x - b2)', 'mse', ['x', 'y']);
    if (!c.ok) throw new Error(c.error.reason);
    const data = { x: Float32Array.of(3, 0.5, 2), y: Float32Array.of(1, 2, 3), n: 3, d: 1 };
    const start = Float64Array.of(1, 1);
    expect(startNotFinite(c.model, start, data, NaN, [NaN, NaN])).toBe(
      'J is not finite at the starting values (J = NaN): first at row 2 of the data (x = 0.5, y = 2), where yhat = NaN, loss = NaN, ∂ℓ/∂b1 = NaN, ∂ℓ/∂b2 = NaN. Change the starting values (or the formula or the loss) to train.');
    expect(startNotFinite(c.model, Float64Array.of(1, -1), data, 4.2, [0.1, 0.2])).toBeNull();
    expect(startNotFinite(c.model, Float64Array.of(1, -1), data, 4.2, [0.1, Infinity])).toMatch(/^∂J\/∂b2 is not finite at the starting values\. /);
    const custom = compileSpec('y ~ a*x', 'log(yhat - y)', ['x', 'y']);
    if (!custom.ok) throw new Error(custom.error.reason);
    expect(startNotFinite(custom.model, Float64Array.of(1), { x: Float32Array.of(5, 1), y: Float32Array.of(2, 3), n: 2, d: 1 }, NaN, [NaN]))
      .toMatch(/first at row 2 of the data \(x = 1, y = 3\), where yhat = 1, loss = NaN/);
    // Finite J, a slope that is not: the row is named by its slope.
    const slope = compileSpec('y ~ sqrt(a)*x', 'mse', ['x', 'y']);
    if (!slope.ok) throw new Error(slope.error.reason);
    expect(startNotFinite(slope.model, Float64Array.of(0), { x: Float32Array.of(1), y: Float32Array.of(2), n: 1, d: 1 }, 4, [-Infinity]))
      .toBe('∂J/∂a is not finite at the starting values: first at row 1 of the data (x = 1, y = 2), where yhat = 0, loss = 4, ∂ℓ/∂a = -Infinity. Change the starting values (or the formula or the loss) to train.');
  });
  it('a start the GPU cannot compute in float32 names the row, or the sum over the rows, beyond float32', () => {
    const c = compileSpec('y ~ a*x', 'mse', ['x', 'y']);
    if (!c.ok) throw new Error(c.error.reason);
    const data = { x: Float32Array.of(0, 2, 1), y: Float32Array.of(1, 2, 3), n: 3, d: 1 };
    // Row 2: (1e30·2 − 2)² = 4e60, finite in float64.
    expect(startNotFiniteInFloat32(c.model, Float64Array.of(1e30), data)).toBe(
      'The GPU computes in float32, and at the starting values row 2 of the data (x = 2, y = 2) has loss = 4.000e+60, beyond float32\'s range (±3.4e38), though float64 holds it. Change the starting values (or the formula or the loss) to train on the GPU.');
    expect(startNotFiniteInFloat32(c.model, Float64Array.of(3), data)).toBeNull();
    expect(startNotFiniteInFloat32(c.model, Float64Array.of(1e39), data)).toMatch(/at the starting values a = 1e\+39 is beyond float32's range/);
    // Each row's loss (1.5e19·1 − y)² ≈ 2.25e38 is within float32; three of them sum beyond it.
    const rows = { x: Float32Array.of(1, 1, 1), y: Float32Array.of(0, 0, 0), n: 3, d: 1 };
    expect(startNotFiniteInFloat32(c.model, Float64Array.of(1.5e19), rows)).toMatch(/at the starting values every row's loss is within float32's range \(±3\.4e38\), but their sum over the 3 rows \(6\.750e\+38\) is beyond it\./);
    // A slope alone beyond float32: at x = 1e30, a = 1e-15 the residual is ~1e15 (loss ~1e30), ∂ℓ/∂a = 2·r·x ~ 2e45.
    const slope = { x: Float32Array.of(1e30), y: Float32Array.of(0), n: 1, d: 1 };
    expect(startNotFiniteInFloat32(c.model, Float64Array.of(1e-15), slope)).toMatch(/at the starting values row 1 .* has ∂ℓ\/∂a = 2\.000e\+45, beyond/);
    // Beyond float32 only inside the formula: a·a = 1e40 in sqrt(a·a·x), whose value 1e20 and mae loss fit.
    const inner = compileSpec('y ~ sqrt(a*a*x)', 'mae', ['x', 'y']);
    if (!inner.ok) throw new Error(inner.error.reason);
    expect(startNotFiniteInFloat32(inner.model, Float64Array.of(1e20), { x: Float32Array.of(1), y: Float32Array.of(0), n: 1, d: 1 })).toMatch(
      /at the starting values on row 1 of the data \(x = 1, y = 0\) a value inside the formula is beyond float32's range \(±3\.4e38\), though float64 holds the result \(yhat = 1\.000e\+20, ∂ℓ\/∂a = 1\.000, loss = 1\.000e\+20\)/);
  });
});
