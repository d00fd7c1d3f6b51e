// The curve fit's pass on the fast CPU path against the float64 twin: the same generated normal-equations
// sums over the same float32 rows, added in another order (shards), so they agree to the float64 rounding
// of a different summation order (1e-12 relative to the sums' magnitudes here), and whole fits agree to 1e-9.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFormula, startingParameters } from '../../src/formula/model.ts';
import { CpuFormulaEngine } from '../../src/cpu/formula-engine.ts';
import { FastCpuFormulaEngine } from '../../src/cpu-fast/formula-engine.ts';
import { NodeWorkerPool } from '../../src/cpu-fast/node-pool.ts';
import { curveFit } from '../../src/fit/curve-fit.ts';
import { streamedNormalEquations } from '../../src/fit/streamed-pass.ts';

const n = 20_000;
const x = Float32Array.from({ length: n }, (_, i) => 70 + (690 * i) / n);
const y = Float32Array.from(x, (v, i) => 240 * (1 - Math.exp(-5.5e-4 * v)) + 0.2 * Math.sin(i * 1.7));
const model = compileFormula({ formula: 'y ~ b1*(1-exp(-b2*x))' }, { columns: ['x', 'y'] });
const start = startingParameters(model, { b1: 500, b2: 1e-4 });
const data = { x, y, n, d: 1 };

describe('curve fit passes', () => {
  let pool: NodeWorkerPool;
  beforeAll(async () => {
    pool = await NodeWorkerPool.create(2);
  });
  afterAll(() => pool.dispose());

  it('the fast path sums the normal equations as the twin does', async () => {
    const twin = new CpuFormulaEngine(model, data, start);
    const fast = new FastCpuFormulaEngine(model, data, start, { pool });
    const a = await twin.normalEquations(start);
    const b = await fast.normalEquations(start);
    expect(b.length).toBe(a.length);
    a.forEach((v, k) => expect(Math.abs(b[k] - v)).toBeLessThanOrEqual(1e-12 * Math.abs(v) + 1e-300));
    fast.dispose();
  });

  it('fits on the fast path, on the twin and over a chunked stream to the same parameters', async () => {
    const twin = new CpuFormulaEngine(model, data, start);
    const fast = new FastCpuFormulaEngine(model, data, start, { pool });
    const options = { ftol: 1e-14, xtol: 1e-14 };
    const a = await curveFit(model, n, (t) => twin.normalEquations(t), start, options);
    const b = await curveFit(model, n, (t) => fast.normalEquations(t), start, options);
    const chunkRows = 3000;
    const stream = {
      n, d: 1, chunkRows,
      async *pass() {
        for (let s = 0; s < n; s += chunkRows) {
          const rows = Math.min(chunkRows, n - s);
          yield { x: x.slice(s, s + rows), y: y.slice(s, s + rows), rows };
        }
      },
    };
    const c = await curveFit(model, n, streamedNormalEquations(stream, 6, (chunk, t) => new CpuFormulaEngine(model, chunk, start).normalEquations(t)), start, options);
    for (const name of model.params) {
      expect(b.params[name]).toBeCloseTo(a.params[name], 9);
      expect(Math.abs(c.params[name] - a.params[name]) / Math.abs(a.params[name])).toBeLessThan(1e-9);
      expect(b.standardErrors![name] / a.standardErrors![name]).toBeCloseTo(1, 9);
    }
    expect(a.params.b1).toBeCloseTo(240, 0);
    fast.dispose();
  });
});
