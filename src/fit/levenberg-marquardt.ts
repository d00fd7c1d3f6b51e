// Levenberg-Marquardt for nonlinear least squares, after MINPACK's lmder (Moré 1978): diagonal scaling D
// from the Jacobian's column norms (never decreasing), a trust region of radius Δ in the scaled variables,
// the damping λ found by Moré's safeguarded Newton iteration so that ‖Dδ‖ ≈ Δ, the step accepted when the
// actual reduction is at least 1e-4 of the predicted one, and lmder's three convergence tests (relative
// reduction of the sum of squares, relative step, orthogonality of the residual to the Jacobian's columns).
// lmder works on a QR factorization of the n x p Jacobian; here the data pass returns JᵀJ, Jᵀr and Σr²
// (a pass over millions of rows cannot keep J), so the same subproblems are solved on the normal equations
// by Cholesky in float64. Each trial point costs one pass, which also brings the next iteration's JᵀJ.
import { choleskyFactor, choleskySolve, forwardSolve } from './cholesky.ts';
import { rejectUnknownKeys } from '../core/options.ts';

/** One pass over the data at theta: A = JᵀWJ (p x p, row-major, symmetric), g = JᵀWr, rss = Σ w r². */
export interface NormalEquations {
  A: Float64Array;
  g: Float64Array;
  rss: number;
}

export type LmStopReason = 'relative-reduction' | 'relative-step' | 'both' | 'orthogonality' | 'max-evaluations' | 'no-further-reduction' | 'no-further-step' | 'no-further-orthogonality' | 'aborted';

export interface LmOptions {
  /** Relative reduction of the sum of squares (lmder's ftol), >= 0; default √ε. */
  ftol?: number;
  /** Relative step (xtol), >= 0; default √ε. */
  xtol?: number;
  /** Cosine of the angle between r and J's columns (gtol), in [0, 1); default 0. */
  gtol?: number;
  /** Passes over the data at most, a positive integer; default 100 (p + 1). */
  maxEvaluations?: number;
  /** Initial trust radius as a multiple of ‖D θ0‖ (lmder's factor), > 0; default 100. */
  factor?: number;
  onIteration?: (info: LmIteration) => void;
  signal?: AbortSignal;
}

export interface LmIteration {
  iteration: number;
  evaluations: number;
  theta: Float64Array;
  rss: number;
  lambda: number;
  radius: number;
}

export interface LmResult {
  theta: Float64Array;
  rss: number;
  /** JᵀJ and Jᵀr at theta (for the covariance). */
  at: NormalEquations;
  iterations: number;
  evaluations: number;
  stopReason: LmStopReason;
}

/** A fit that cannot start or continue (the CLI's exit 2 or 3); best holds the best parameters when there are some. */
export class FitError extends Error {
  constructor(message: string, readonly kind: 'bad-start' | 'singular' | 'no-progress', readonly best?: { theta: Float64Array; rss: number }) {
    super(message);
    this.name = 'FitError';
  }
}

const LM_OPTION_KEYS = ['ftol', 'xtol', 'gtol', 'maxEvaluations', 'factor', 'onIteration', 'signal'];

/**
 * lmder's own input checks, and more: a tolerance that is NaN or negative never lets a test pass, a gtol of
 * 1 or more passes at once (a cosine is at most 1), and a factor that is not positive gives no trust region.
 */
export function validateLmOptions(o: LmOptions): void {
  rejectUnknownKeys(o, LM_OPTION_KEYS, 'curve fit options', { maxIter: 'the limit counts passes over the data: maxEvaluations', tol: 'the tolerances are ftol, xtol and gtol' });
  for (const name of ['ftol', 'xtol'] as const) {
    const v = o[name];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new RangeError(`${name}: expected a non-negative number, got ${v}`);
  }
  if (o.gtol !== undefined && !(o.gtol >= 0 && o.gtol < 1)) throw new RangeError(`gtol: expected a number in [0, 1) (a cosine), got ${o.gtol}`);
  if (o.maxEvaluations !== undefined && !(Number.isSafeInteger(o.maxEvaluations) && o.maxEvaluations >= 1)) {
    throw new RangeError(`maxEvaluations: expected a positive integer, got ${o.maxEvaluations}`);
  }
  if (o.factor !== undefined && !(Number.isFinite(o.factor) && o.factor > 0)) throw new RangeError(`factor: expected a positive number, got ${o.factor}`);
  if (o.onIteration !== undefined && typeof o.onIteration !== 'function') throw new TypeError(`onIteration: expected a function, got ${typeof o.onIteration}`);
  if (o.signal !== undefined && typeof (o.signal as { aborted?: unknown } | null)?.aborted !== 'boolean') throw new TypeError('signal: expected an AbortSignal');
}

const EPS = 2.220446049250313e-16;
const DWARF = 2.2250738585072014e-308;
/**
 * Damping that makes A + λD² solvable for any finite positive semi-definite A: scaled by D (diag >= the
 * columns' norms) it has eigenvalues >= λ and a diagonal <= 1 + λ, so every Cholesky pivot passes
 * choleskyFactor's relative tolerance of 1e-13 from about λ = 1e-13; 1e-10 leaves room for rounding.
 */
const SINGULAR_DAMPING = 1e-10;

export async function levenbergMarquardt(
  evaluate: (theta: Float64Array) => Promise<NormalEquations>,
  theta0: ArrayLike<number>,
  names: readonly string[],
  o: LmOptions = {},
): Promise<LmResult> {
  validateLmOptions(o);
  const p = theta0.length;
  const ftol = o.ftol ?? Math.sqrt(EPS);
  const xtol = o.xtol ?? Math.sqrt(EPS);
  const gtol = o.gtol ?? 0;
  const maxfev = o.maxEvaluations ?? 100 * (p + 1);
  const factor = o.factor ?? 100;
  let x = Float64Array.from(theta0);
  let cur = await evaluate(x);
  let nfev = 1;
  if (!Number.isFinite(cur.rss)) throw new FitError('the model is not finite at the starting values', 'bad-start');
  for (let j = 0; j < p; j++) {
    if (!Number.isFinite(cur.A[j * p + j])) {
      throw new FitError(`JᵀJ is not finite at the start: the derivative with respect to ${names[j]} is not finite on some row; change the starting values or the model`, 'bad-start', { theta: x, rss: cur.rss });
    }
    if (!(cur.A[j * p + j] > 0)) {
      throw new FitError(`JᵀJ is singular at the start: the model does not depend on ${names[j]} there (its column of J is zero); change its starting value or remove it`, 'singular', { theta: x, rss: cur.rss });
    }
  }
  let fnorm = Math.sqrt(cur.rss);
  const diag = new Float64Array(p);
  let delta = 0;
  let xnorm = 0;
  let par = 0;
  let iter = 1;
  const scaledNorm = (v: Float64Array) => Math.hypot(...Array.from(v, (vj, j) => diag[j] * vj));
  const result = (stopReason: LmStopReason): LmResult => ({ theta: x, rss: cur.rss, at: cur, iterations: iter - 1, evaluations: nfev, stopReason });
  for (;;) {
    const colnorm = Float64Array.from({ length: p }, (_, j) => Math.sqrt(cur.A[j * p + j]));
    if (iter === 1) {
      for (let j = 0; j < p; j++) diag[j] = colnorm[j] === 0 ? 1 : colnorm[j];
      xnorm = scaledNorm(x);
      delta = factor * xnorm || factor;
    }
    let gnorm = 0;
    if (fnorm !== 0) for (let j = 0; j < p; j++) if (colnorm[j] !== 0) gnorm = Math.max(gnorm, Math.abs(cur.g[j] / fnorm) / colnorm[j]);
    if (gnorm <= gtol) return result('orthogonality');
    for (let j = 0; j < p; j++) diag[j] = Math.max(diag[j], colnorm[j]);
    for (;;) {
      if (o.signal?.aborted) return result('aborted');
      // lmder tests maxfev only after a trial, so maxfev = 1 made two passes; this holds the limit exactly, and
      // the test after each trial below still stops every larger limit where lmder does.
      if (nfev >= maxfev) return result('max-evaluations');
      const sub = lmpar(cur.A, cur.g, diag, delta, par);
      par = sub.par;
      const step = sub.step;
      const pnorm = scaledNorm(step);
      if (iter === 1) delta = Math.min(delta, pnorm);
      const xt = Float64Array.from(x, (xj, j) => xj + step[j]);
      const trial = await evaluate(xt);
      nfev++;
      const fnorm1 = Number.isFinite(trial.rss) ? Math.sqrt(trial.rss) : Infinity;
      const actred = 0.1 * fnorm1 < fnorm ? 1 - (fnorm1 / fnorm) ** 2 : -1;
      const temp1 = Math.sqrt(Math.max(0, quadratic(cur.A, step))) / fnorm;
      const temp2 = (Math.sqrt(par) * pnorm) / fnorm;
      const prered = temp1 * temp1 + temp2 * temp2 / 0.5;
      const dirder = -(temp1 * temp1 + temp2 * temp2);
      const ratio = prered !== 0 ? actred / prered : 0;
      if (ratio <= 0.25) {
        let temp = actred >= 0 ? 0.5 : (0.5 * dirder) / (dirder + 0.5 * actred);
        if (0.1 * fnorm1 >= fnorm || temp < 0.1) temp = 0.1;
        delta = temp * Math.min(delta, pnorm / 0.1);
        par /= temp;
      } else if (par === 0 || ratio >= 0.75) {
        delta = pnorm / 0.5;
        par *= 0.5;
      }
      if (ratio >= 1e-4) {
        x = xt;
        cur = trial;
        fnorm = fnorm1;
        xnorm = scaledNorm(x);
        iter++;
        o.onIteration?.({ iteration: iter - 1, evaluations: nfev, theta: Float64Array.from(x), rss: cur.rss, lambda: par, radius: delta });
      }
      const reduced = Math.abs(actred) <= ftol && prered <= ftol && 0.5 * ratio <= 1;
      const stepped = delta <= xtol * xnorm;
      if (reduced || stepped) return result(reduced && stepped ? 'both' : reduced ? 'relative-reduction' : 'relative-step');
      if (nfev >= maxfev) return result('max-evaluations');
      if (Math.abs(actred) <= EPS && prered <= EPS && 0.5 * ratio <= 1) return result('no-further-reduction');
      if (delta <= EPS * xnorm) return result('no-further-step');
      if (gnorm <= EPS) return result('no-further-orthogonality');
      if (ratio >= 1e-4) break;
    }
  }
}

function quadratic(A: Float64Array, v: Float64Array): number {
  const p = v.length;
  let s = 0;
  for (let a = 0; a < p; a++) {
    let row = 0;
    for (let b = 0; b < p; b++) row += A[a * p + b] * v[b];
    s += v[a] * row;
  }
  return s;
}

/**
 * Moré's lmpar on the normal equations: the step δ = −(A + λD²)⁻¹ g with λ >= 0 such that ‖Dδ‖ is within
 * 10 % of Δ, or λ = 0 when the Gauss-Newton step is already inside the region. φ(λ) = ‖Dδ‖ − Δ has
 * φ'(λ) = −‖L⁻¹ D(Dδ)‖² / ‖Dδ‖ with A + λD² = LLᵀ; the Newton iteration is kept within [parl, paru].
 */
export function lmpar(A: Float64Array, g: Float64Array, diag: Float64Array, delta: number, parIn: number): { par: number; step: Float64Array } {
  const p = g.length;
  const solve = (par: number) => {
    const M = Float64Array.from(A);
    for (let j = 0; j < p; j++) M[j * p + j] += par * diag[j] * diag[j];
    const L = choleskyFactor(M, p);
    if (!L) return null;
    const step = choleskySolve(L, p, g).map((v) => -v);
    const dx = Float64Array.from(step, (s, j) => diag[j] * s);
    const dxnorm = Math.hypot(...dx);
    const wa = Float64Array.from(dx, (v, j) => (diag[j] * v) / dxnorm);
    const slope = forwardSolve(L, p, wa).reduce((s, v) => s + v * v, 0); // ‖L⁻¹ wa‖²
    return { step, dxnorm, slope };
  };
  const gn = solve(0);
  if (gn && gn.dxnorm - delta <= 0.1 * delta) return { par: 0, step: gn.step };
  let fp = gn ? gn.dxnorm - delta : Infinity;
  let parl = gn && gn.slope > 0 ? fp / (delta * gn.slope) : 0;
  const gnorm = Math.hypot(...Array.from(g, (gj, j) => gj / diag[j]));
  let paru = gnorm / delta;
  if (paru === 0) paru = DWARF / Math.min(delta, 0.1);
  let par = Math.min(Math.max(parIn, parl), paru);
  if (par === 0) par = gn ? gnorm / gn.dxnorm : 0.001 * paru;
  let last = gn;
  for (let it = 1; it <= 10; it++) {
    if (par === 0) par = Math.max(DWARF, 0.001 * paru);
    const s = solve(par);
    if (!s) {
      // A + λD² is numerically singular (J's columns dependent, λ too small to tell): more damping. The bound
      // paru may lie below the λ that makes it solvable (a gradient near zero makes paru tiny), so it moves up
      // with λ: a larger λ only shortens the step, which stays inside the trust region.
      parl = par;
      par = Math.max(par * 10, SINGULAR_DAMPING);
      paru = Math.max(paru, par);
      continue;
    }
    last = s;
    const temp = fp;
    fp = s.dxnorm - delta;
    if (Math.abs(fp) <= 0.1 * delta || (parl === 0 && fp <= temp && temp < 0) || it === 10) break;
    const parc = fp / (delta * s.slope);
    if (fp > 0) parl = Math.max(parl, par);
    if (fp < 0) paru = Math.min(paru, par);
    par = Math.max(parl, par + parc);
  }
  if (!last) throw new FitError('the damped normal equations could not be solved (JᵀJ is not finite)', 'singular');
  return { par, step: last.step };
}
