// A curve fit of a formula model by Levenberg-Marquardt: any backend that sums the normal-equations program
// (src/formula/program.ts: JᵀWJ's upper triangle, JᵀWr, Σ w r²) over the data in one pass drives the same
// float64 solver, and the fit reports what a user of curve_fit or nls expects: estimates, standard errors
// from s²(JᵀWJ)⁻¹ with s² = RSS/(n − p), the covariance, RSS, residual standard deviation, degrees of freedom.
import type { FormulaModel } from '../formula/model.ts';
import { upperIndex } from '../formula/program.ts';
import { choleskyFactor, choleskyInverse } from './cholesky.ts';
import { FitError, levenbergMarquardt, validateLmOptions, type LmOptions, type LmStopReason, type NormalEquations } from './levenberg-marquardt.ts';

/** Sums of the normal-equations program over every row at theta (p(p+1)/2 + p + 1 values). */
export type NormalEquationsPass = (theta: Float64Array) => Promise<Float64Array>;

export interface CurveFitResult {
  params: Record<string, number>;
  /** null where the covariance does not exist (n <= p, or JᵀJ singular at the solution). */
  standardErrors: Record<string, number> | null;
  covariance: number[][] | null;
  rss: number;
  residualStd: number | null;
  dof: number;
  iterations: number;
  /** Passes over the data (one per trial point). */
  passes: number;
  stopReason: LmStopReason;
  theta: Float64Array;
}

export function normalEquationsLength(p: number): number {
  return (p * (p + 1)) / 2 + p + 1;
}

export function unpackNormalEquations(sums: ArrayLike<number>, p: number): NormalEquations {
  if (sums.length !== normalEquationsLength(p)) throw new RangeError(`normal equations: ${sums.length} sums, expected ${normalEquationsLength(p)}`);
  const A = new Float64Array(p * p);
  for (let a = 0; a < p; a++) {
    for (let b = a; b < p; b++) {
      const v = sums[upperIndex(p, a, b)];
      A[a * p + b] = v;
      A[b * p + a] = v;
    }
  }
  const t = (p * (p + 1)) / 2;
  return { A, g: Float64Array.from({ length: p }, (_, j) => sums[t + j]), rss: sums[t + p] };
}

/**
 * Fits `m` from `start`. n is the number of rows that count in `pass`'s sums: every row (engine.n), or with row
 * weights those of positive weight (rowsThatCount). It sets the degrees of freedom n − p of the standard
 * errors, and curveFit cannot count the rows itself (a pass may stream them); a wrong n scales every standard
 * error by √((N − p)/(n − p)).
 */
export async function curveFit(m: FormulaModel, n: number, pass: NormalEquationsPass, start: Float64Array, options: LmOptions = {}): Promise<CurveFitResult> {
  if (!m.loss.squaredError) throw new RangeError(`curveFit fits squared errors: the model's loss ${m.loss.text} is not (yhat - y)^2 (compile it with the mse loss, and weights for row weights)`);
  if (!(Number.isSafeInteger(n) && n >= 1)) throw new RangeError(`n: expected the number of rows, a positive integer, got ${n}`);
  if (typeof pass !== 'function') throw new TypeError(`pass: expected a function of theta giving the normal-equations sums (e.g. theta => engine.normalEquations(theta)), got ${typeof pass}`);
  validateLmOptions(options);
  const p = m.params.length;
  if (typeof start !== 'object' || start === null || typeof start.length !== 'number') {
    throw new TypeError(`start: expected the ${p} starting values (${m.params.join(', ')}) as a Float64Array, e.g. from startingParameters, got ${start === null ? 'null' : typeof start}`);
  }
  if (start.length !== p) throw new RangeError(`start: expected ${p} values (${m.params.join(', ')}), got ${start.length}`);
  if (n <= p) throw new FitError(`${p} parameter${p === 1 ? '' : 's'} cannot be fitted to ${n} row${n === 1 ? '' : 's'}: a fit needs more rows than parameters`, 'bad-start');
  const evaluate = async (theta: Float64Array) => unpackNormalEquations(await pass(theta), p);
  const fit = await levenbergMarquardt(evaluate, start, m.params, options);
  const dof = n - p;
  const s2 = fit.rss / dof;
  const L = choleskyFactor(fit.at.A, p);
  const inv = L ? choleskyInverse(L, p) : null;
  const covariance = inv ? Array.from({ length: p }, (_, a) => Array.from({ length: p }, (_, b) => s2 * inv[a * p + b])) : null;
  const named = (v: (j: number) => number) => Object.fromEntries(m.params.map((name, j) => [name, v(j)]));
  return {
    params: named((j) => fit.theta[j]),
    standardErrors: covariance ? named((j) => Math.sqrt(covariance[j][j])) : null,
    covariance,
    rss: fit.rss,
    residualStd: Math.sqrt(s2),
    dof,
    iterations: fit.iterations,
    passes: fit.evaluations,
    stopReason: fit.stopReason,
    theta: fit.theta,
  };
}
