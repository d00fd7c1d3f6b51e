// Levenberg-Marquardt in float64 against NIST's certified nonlinear regressions (StRD): every problem from
// both of NIST's starts, to at least 6 significant digits in every estimate and standard deviation (the
// issue's bar; the measured minimum over these 20 fits is 6.4, on Lanczos3), and the certified residual sum
// of squares to 1e-9 relative (the certified values carry 11 digits).
import { describe, expect, it } from 'vitest';
import { readNist } from '../nist.ts';
import { compileFormula } from '../../src/formula/model.ts';
import { normalEquationsProgram } from '../../src/formula/program.ts';
import { compileRowSums } from '../../src/formula/emit-js.ts';
import { curveFit, normalEquationsLength } from '../../src/fit/curve-fit.ts';
import { FitError } from '../../src/fit/levenberg-marquardt.ts';

const PROBLEMS = ['Misra1a', 'DanWood', 'Chwirut2', 'BoxBOD', 'Eckerle4', 'Rat43', 'MGH09', 'MGH10', 'Thurber', 'Lanczos3'];
const TIGHT = { ftol: 1e-15, xtol: 1e-15 };

function float64Pass(formula: string, x: ArrayLike<number>, y: ArrayLike<number>, weights?: ArrayLike<number>) {
  const m = compileFormula({ formula, weights: weights ? 'w' : null }, { columns: weights ? ['x', 'y', 'w'] : ['x', 'y'] });
  const sums = compileRowSums(normalEquationsProgram(m));
  const rows = weights ? Float64Array.from({ length: 2 * x.length }, (_, k) => (k % 2 === 0 ? x[k >> 1] : weights[k >> 1])) : x;
  const pass = async (theta: Float64Array) => {
    const out = new Float64Array(normalEquationsLength(m.params.length));
    sums(theta, rows, y, 0, x.length, out);
    return out;
  };
  return { m, pass };
}

const digits = (got: number, want: number) => -Math.log10(Math.abs(got - want) / Math.abs(want));

describe('Levenberg-Marquardt on the NIST StRD problems (float64)', () => {
  for (const name of PROBLEMS) {
    const problem = readNist(name);
    for (const s of [0, 1] as const) {
      it(`${name} from start ${s + 1}`, async () => {
        const { m, pass } = float64Pass(problem.formula, problem.x, problem.y);
        expect(m.params).toEqual(problem.params);
        const fit = await curveFit(m, problem.x.length, pass, Float64Array.from(problem.starts[s]), TIGHT);
        problem.params.forEach((b, j) => {
          expect(digits(fit.params[b], problem.certified[j]), `${b} = ${fit.params[b]}, certified ${problem.certified[j]}`).toBeGreaterThanOrEqual(6);
          expect(digits(fit.standardErrors![b], problem.certifiedSd[j]), `se(${b})`).toBeGreaterThanOrEqual(6);
        });
        expect(digits(fit.rss, problem.rss)).toBeGreaterThanOrEqual(9);
        expect(fit.dof).toBe(problem.x.length - problem.params.length);
        expect(fit.covariance![0][0]).toBeCloseTo(fit.standardErrors![problem.params[0]] ** 2, 12);
      });
    }
  }
});

describe('curve fit: bad starts and special cases', () => {
  const x = Float64Array.from({ length: 50 }, (_, i) => i / 10);
  const y = Float64Array.from(x, (v) => 2 * Math.exp(-0.7 * v) + 0.01 * Math.sin(7 * v));

  it('names the parameter whose Jacobian column is zero at the start', async () => {
    const { m, pass } = float64Pass('y ~ a*exp(-k*x)', x, y);
    const err = await curveFit(m, x.length, pass, Float64Array.from([0, 1])).catch((e) => e);
    expect(err).toBeInstanceOf(FitError);
    expect(err.kind).toBe('singular');
    expect(err.message).toContain('k');
  });

  it('refuses a start where the model is not finite', async () => {
    const { m, pass } = float64Pass('y ~ log(a*x)', x.map((v) => v + 1), y);
    const err = await curveFit(m, x.length, pass, Float64Array.from([-1])).catch((e) => e);
    expect(err.kind).toBe('bad-start');
  });

  it('refuses more parameters than rows', async () => {
    const { m, pass } = float64Pass('y ~ a + b*x + c*x^2', [1, 2, 3], [1, 2, 3]);
    const err = await curveFit(m, 3, pass, Float64Array.from([0, 0, 0])).catch((e) => e);
    expect(err.message).toMatch(/3 parameters cannot be fitted to 3 rows/);
  });

  it('refuses a loss that is not a squared error', async () => {
    const m = compileFormula({ formula: 'y ~ a*x', loss: 'mae' }, { columns: ['x', 'y'] });
    await expect(curveFit(m, 10, async () => new Float64Array(3), Float64Array.from([1]))).rejects.toThrow(/squared errors/);
  });

  it('weights rows: doubling a row equals weight 2', async () => {
    const xs = [0.5, 1, 2, 3, 4];
    const ys = [1.6, 1.1, 0.5, 0.25, 0.12];
    const weighted = float64Pass('y ~ a*exp(-k*x)', xs, ys, [1, 2, 1, 1, 1]);
    const doubled = float64Pass('y ~ a*exp(-k*x)', [0.5, 1, 1, 2, 3, 4], [1.6, 1.1, 1.1, 0.5, 0.25, 0.12]);
    const a = await curveFit(weighted.m, 5, weighted.pass, Float64Array.from([1, 1]), TIGHT);
    const b = await curveFit(doubled.m, 6, doubled.pass, Float64Array.from([1, 1]), TIGHT);
    expect(a.params.a).toBeCloseTo(b.params.a, 10);
    expect(a.params.k).toBeCloseTo(b.params.k, 10);
    expect(a.rss).toBeCloseTo(b.rss, 12);
  });

  it('fits from a start 10^6 off in scale (the seed example: b1 = 500, b2 = 1e-4)', async () => {
    const xs = Float64Array.from({ length: 1000 }, (_, i) => 10 + i);
    const ys = Float64Array.from(xs, (v, i) => 240 * (1 - Math.exp(-5.5e-4 * v)) + 0.1 * Math.sin(i));
    const { m, pass } = float64Pass('y ~ b1*(1-exp(-b2*x))', xs, ys);
    const fit = await curveFit(m, xs.length, pass, Float64Array.from([500, 1e-4]), TIGHT);
    expect(fit.params.b1).toBeCloseTo(240, 0);
    expect(fit.params.b2).toBeCloseTo(5.5e-4, 5);
    expect(['relative-reduction', 'relative-step', 'both']).toContain(fit.stopReason);
  });
});

// The same solver over rows rounded to float32 (what every path but cpu64 holds): the rounding moves the optimum
// itself. Measured minimum digits over both starts: Misra1a 7.7 (estimates) and 5.6 (standard deviations),
// Lanczos3 4.2 and 3.7; the bounds below sit just under those (README, Curve fitting).
describe('Levenberg-Marquardt over float32-rounded rows', () => {
  for (const [name, estimates, sds] of [['Misra1a', 7.5, 5.5], ['Lanczos3', 4, 3.5]] as const) {
    it(`${name}: the digits float32 data leave`, async () => {
      const problem = readNist(name);
      const { m, pass } = float64Pass(problem.formula, Float32Array.from(problem.x), Float32Array.from(problem.y));
      for (const start of problem.starts) {
        const fit = await curveFit(m, problem.x.length, pass, Float64Array.from(start), TIGHT);
        const e = Math.min(...problem.params.map((b, j) => digits(fit.params[b], problem.certified[j])));
        const s = Math.min(...problem.params.map((b, j) => digits(fit.standardErrors![b], problem.certifiedSd[j])));
        expect(e).toBeGreaterThanOrEqual(estimates);
        expect(s).toBeGreaterThanOrEqual(sds);
        expect(e).toBeLessThan(9); // float32 rows do cost digits: a float64 result here would mean the rounding was skipped
      }
    });
  }
});
