// curveFit's inputs: its options and n are checked, naming the bad one (a NaN factor used to run 300 passes
// without moving, a gtol of 2 to stop at the start claiming orthogonality), and Levenberg-Marquardt's
// subproblem survives a Jacobian with dependent columns from any start.
import { describe, expect, it } from 'vitest';
import { compileFormula } from '../../src/formula/model.ts';
import { normalEquationsProgram } from '../../src/formula/program.ts';
import { compileRowSums } from '../../src/formula/emit-js.ts';
import { curveFit, normalEquationsLength } from '../../src/fit/curve-fit.ts';
import { FitError, lmpar, type LmOptions } from '../../src/fit/levenberg-marquardt.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { suiteTempDir } from '../temp-dir.ts';

function passOf(formula: string, x: Float64Array, y: Float64Array) {
  const m = compileFormula({ formula }, { columns: ['x', 'y'] });
  const sums = compileRowSums(normalEquationsProgram(m));
  const pass = async (theta: Float64Array) => {
    const out = new Float64Array(normalEquationsLength(m.params.length));
    sums(theta, x, y, 0, x.length, out);
    return out;
  };
  return { m, pass };
}

// The audit's data: 200 rows, x = i/50, y = sin x + ((i % 7)/7 + 0.1)/2.
const x = Float64Array.from({ length: 200 }, (_, i) => i / 50);
const y = Float64Array.from(x, (v, i) => Math.sin(v) + ((i % 7) / 7 + 0.1) / 2);

describe('curveFit options', () => {
  const { m, pass } = passOf('y ~ b1*(1 - exp(-b2*x))', x, y);
  const start = Float64Array.of(1, 1);
  const fit = (o: object, n = x.length) => curveFit(m, n, pass, start, o as LmOptions);

  it('refuses each bad setting, naming it', async () => {
    for (const [o, name] of [
      [{ maxEvaluations: 0 }, 'maxEvaluations'], [{ maxEvaluations: -5 }, 'maxEvaluations'], [{ maxEvaluations: 2.5 }, 'maxEvaluations'],
      [{ factor: NaN }, 'factor'], [{ factor: 0 }, 'factor'], [{ gtol: 2 }, 'gtol'], [{ gtol: -0.1 }, 'gtol'],
      [{ ftol: NaN }, 'ftol'], [{ ftol: -1 }, 'ftol'], [{ xtol: NaN }, 'xtol'], [{ xtol: -1 }, 'xtol'],
    ] as const) {
      await expect(fit(o), JSON.stringify(o)).rejects.toThrow(new RegExp(`^${name}: expected`));
    }
  });

  it('refuses keys it does not read', async () => {
    await expect(fit({ maxIter: 1 })).rejects.toThrow(/unknown option "maxIter" \(.*maxEvaluations\)/);
    await expect(fit({ tol: 1e-3 })).rejects.toThrow(/unknown option "tol" \(the tolerances are ftol, xtol and gtol\)/);
  });

  it('refuses an n that is not a row count', async () => {
    for (const n of [NaN, 0, -3, 2.5, Infinity]) await expect(fit({}, n), String(n)).rejects.toThrow(/^n: expected the number of rows/);
  });

  it('fits with settings in range', async () => {
    const r = await fit({ maxEvaluations: 50, factor: 10, gtol: 0, ftol: 1e-10, xtol: 1e-10 });
    expect(r.dof).toBe(198);
    expect(Number.isFinite(r.rss)).toBe(true);
  });

  it('makes at most maxEvaluations passes, one included: the start\'s', async () => {
    for (const limit of [1, 2, 3, 5]) {
      let passes = 0;
      const counted = (theta: Float64Array) => (passes++, pass(theta));
      const r = await curveFit(m, x.length, counted, start, { maxEvaluations: limit });
      expect([r.passes, passes, r.stopReason], `maxEvaluations ${limit}`).toEqual([limit, limit, 'max-evaluations']);
    }
    const once = await curveFit(m, x.length, pass, start, { maxEvaluations: 1 });
    expect([once.iterations, Array.from(once.theta)]).toEqual([0, [1, 1]]);
  });

  it('names the library, not a CLI flag, when the loss is not a squared error', async () => {
    const mae = compileFormula({ formula: 'y ~ a*x', loss: 'mae' }, { columns: ['x', 'y'] });
    const err: Error = await curveFit(mae, 10, async () => new Float64Array(3), Float64Array.of(1)).then(() => new Error('fitted'), (e: Error) => e);
    expect(err.message).toMatch(/^curveFit fits squared errors/);
    expect(err.message).not.toContain('--');
  });

  it('says a Jacobian column is not finite (not zero) where the derivative is infinite at the start', async () => {
    // sqrt(p) at p = 0: the model is finite, its derivative 1/(2 sqrt p) is not.
    const { m: root, pass: rootPass } = passOf('y ~ a*x + sqrt(p)', x, y);
    const err = await curveFit(root, x.length, rootPass, Float64Array.of(1, 0)).catch((e) => e);
    expect(err).toBeInstanceOf(FitError);
    expect(err.message).toMatch(/JᵀJ is not finite at the start: the derivative with respect to p is not finite/);
  });
});

describe('Levenberg-Marquardt with dependent parameters', () => {
  it('a*x + b*x from a = b = 0 converges like the start a = 1 and reports no standard errors', async () => {
    const { m, pass } = passOf('y ~ a*x + b*x', x, y);
    const fromZero = await curveFit(m, x.length, pass, Float64Array.of(0, 0));
    const fromOne = await curveFit(m, x.length, pass, Float64Array.of(1, 0));
    // Only a + b is identified: the least-squares slope through the origin, Σxy / Σx².
    let sxy = 0;
    let sxx = 0;
    for (let i = 0; i < x.length; i++) {
      sxy += x[i] * y[i];
      sxx += x[i] * x[i];
    }
    for (const r of [fromZero, fromOne]) {
      expect(r.params.a + r.params.b).toBeCloseTo(sxy / sxx, 6);
      expect(r.standardErrors).toBeNull();
    }
    expect(fromZero.rss).toBeCloseTo(fromOne.rss, 8);
  });

  it('the CLI fits it from a = b = 0 on the float64 twin (it exited 2 with "JᵀJ is not finite")', async () => {
    const csv = join(suiteTempDir('fit-options'), 'pos.csv');
    writeFileSync(csv, `x,y\n${Array.from(x, (v, i) => `${v},${y[i]}`).join('\n')}\n`);
    const out: string[] = [];
    const err: string[] = [];
    const argv = ['train', '--formula', 'y ~ a*x + b*x', '--start', 'a=0,b=0', '--data', csv, '--device', 'cpu64', '--optimizer', 'lm', '--json'];
    const code = await main(argv, { out: (t: string) => out.push(t), err: (t: string) => err.push(t) });
    expect(code, err.join('\n')).toBe(0);
    expect(JSON.parse(out.join('\n')).standardErrors).toBeNull();
  });

  it('lmpar damps a singular JᵀJ enough to solve it even when the gradient makes its upper bound tiny', () => {
    // Rank one, with g along the identified direction and nearly zero: paru = ‖D⁻¹g‖/Δ is about 1e-14.
    const s = 1058.68;
    const A = Float64Array.of(s, s, s, s);
    const g = Float64Array.of(-8.3e-12, -8.3e-12);
    const diag = Float64Array.of(Math.sqrt(s), Math.sqrt(s));
    const { par, step } = lmpar(A, g, diag, 8.65, 4.3e-14);
    expect(par).toBeGreaterThan(0);
    for (const v of step) expect(Number.isFinite(v)).toBe(true);
    expect(Math.hypot(diag[0] * step[0], diag[1] * step[1])).toBeLessThanOrEqual(8.65 * 1.1);
  });
});
