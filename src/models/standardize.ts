// Standardization of features and target, and the exact maps between the two parameterizations.
// Gradient descent on raw features converges at a rate set by the spread of their scales; on
// z_j = (x_j - mu_j) / s_j and t = (y - yMean) / yStd one learning rate suits every dataset. Results
// are mapped back so that users only ever see weights, gradients and losses in their data's units.
//
// With prediction t^ = v.z + c, the original-unit prediction is y^ = yMean + yStd * t^ = w.x + b with
//   w_j = yStd v_j / s_j,   b = yMean + yStd c - sum_j w_j mu_j,
// and every residual scales by yStd, so J_orig(w, b) = yStd^2 J_std(v, c).
import { validateLinearData, type LinearData } from './linear.ts';

/** float64 statistics; population (1/N) standard deviations. */
export interface Standardizer {
  mean: Float64Array;
  std: Float64Array;
  yMean: number;
  yStd: number;
}

/** Throws for data whose shape is wrong or that holds a value that is not finite (the statistics would be NaN). */
export function fitStandardizer(data: LinearData): Standardizer {
  validateLinearData(data);
  const { x, y, n, d } = data;
  for (let k = 0; k < n * d; k++) {
    if (!Number.isFinite(x[k])) throw new RangeError(`dataset: x of sample ${Math.floor(k / d)}, feature ${k % d} is ${x[k]}, not a finite number`);
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(y[i])) throw new RangeError(`dataset: y of sample ${i} is ${y[i]}, not a finite number`);
  }
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  const min = new Float64Array(d).fill(Infinity);
  const max = new Float64Array(d).fill(-Infinity);
  for (let i = 0, row = 0; i < n; i++, row += d) {
    for (let j = 0; j < d; j++) {
      const v = x[row + j];
      mean[j] += v;
      if (v < min[j]) min[j] = v;
      if (v > max[j]) max[j] = v;
    }
  }
  for (let j = 0; j < d; j++) mean[j] /= n;
  // Two passes rather than E[x^2] - E[x]^2, which cancels catastrophically when |mean| >> std.
  for (let i = 0, row = 0; i < n; i++, row += d) {
    for (let j = 0; j < d; j++) {
      const r = x[row + j] - mean[j];
      std[j] += r * r;
    }
  }
  for (let j = 0; j < d; j++) {
    if (min[j] === max[j]) {
      // A constant column carries no information, and s_j = 0 would divide by zero. Worse, the float64
      // mean of identical values can differ from them by an ulp, leaving a "std" of ~1e-16 |x| that would
      // blow rounding noise up to O(1) features. So: centre exactly (z = 0) and leave the scale at 1.
      // The maps below stay exact: w_j = yStd v_j, and dJ/dv_j = 0 keeps v_j at its initial value.
      mean[j] = min[j];
      std[j] = 1;
    } else {
      std[j] = Math.sqrt(std[j] / n);
    }
  }
  const [yMean, yStd] = meanStd(y, n);
  return { mean, std, yMean, yStd };
}

function meanStd(v: Float32Array, n: number): [number, number] {
  let sum = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    sum += v[i];
    if (v[i] < lo) lo = v[i];
    if (v[i] > hi) hi = v[i];
  }
  // Same reasoning as for constant features: a constant target is fitted exactly by b, with scale 1.
  if (lo === hi) return [lo, 1];
  const m = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (v[i] - m) * (v[i] - m);
  return [m, Math.sqrt(ss / n)];
}

/** New float32 arrays: z = (x - mean) / std, t = (y - yMean) / yStd, computed in float64 then rounded. */
export function standardizeData(data: LinearData, s: Standardizer): LinearData {
  const { x, y, n, d } = data;
  checkDims(s, d);
  const zx = new Float32Array(n * d);
  const zy = new Float32Array(n);
  for (let i = 0, row = 0; i < n; i++, row += d) {
    for (let j = 0; j < d; j++) zx[row + j] = (x[row + j] - s.mean[j]) / s.std[j];
    zy[i] = (y[i] - s.yMean) / s.yStd;
  }
  return { x: zx, y: zy, n, d };
}

/** Standardized (v, c) to original-unit (w, b). */
export function paramsToOriginal(s: Standardizer, v: ArrayLike<number>, c: number): { w: Float64Array; b: number } {
  const d = checkDims(s, v.length);
  checkFinite(v, c, 'standardized parameters');
  const w = new Float64Array(d);
  let b = s.yMean + s.yStd * c;
  for (let j = 0; j < d; j++) {
    w[j] = (s.yStd * v[j]) / s.std[j];
    b -= w[j] * s.mean[j];
  }
  return { w, b };
}

/** Original-unit (w, b) to standardized (v, c): the inverse of paramsToOriginal, for initial points. */
export function paramsToStandardized(s: Standardizer, w: ArrayLike<number>, b: number): { w: Float64Array; b: number } {
  const d = checkDims(s, w.length);
  checkFinite(w, b, 'parameters');
  const v = new Float64Array(d);
  let shifted = b - s.yMean;
  for (let j = 0; j < d; j++) {
    v[j] = (w[j] * s.std[j]) / s.yStd;
    shifted += w[j] * s.mean[j];
  }
  return { w: v, b: shifted / s.yStd };
}

/**
 * The gradient of J_orig at (w, b) = paramsToOriginal(v, c), from the gradient of J_std at (v, c).
 * J_orig(w, b) = yStd^2 J_std(v(w, b), c(w, b)) with v_j = w_j s_j / yStd and
 * c = (b + sum_j w_j mu_j - yMean) / yStd, so by the chain rule
 *   dJ_orig/dw_j = yStd^2 (dJ_std/dv_j s_j / yStd + dJ_std/dc mu_j / yStd) = yStd (s_j g_v_j + mu_j g_c)
 *   dJ_orig/db   = yStd^2 dJ_std/dc / yStd                                  = yStd g_c
 */
export function gradientToOriginal(
  s: Standardizer,
  gradStd: { loss: number; gradW: ArrayLike<number>; gradB: number },
): { loss: number; gradW: Float64Array; gradB: number } {
  const d = checkDims(s, gradStd.gradW.length);
  const gradW = new Float64Array(d);
  for (let j = 0; j < d; j++) gradW[j] = s.yStd * (s.std[j] * gradStd.gradW[j] + s.mean[j] * gradStd.gradB);
  return { loss: s.yStd * s.yStd * gradStd.loss, gradW, gradB: s.yStd * gradStd.gradB };
}

function checkFinite(w: ArrayLike<number>, b: number, what: string): void {
  for (let j = 0; j < w.length; j++) {
    if (!Number.isFinite(w[j])) throw new RangeError(`${what}: weight ${j} is ${w[j]}, not a finite number`);
  }
  if (!Number.isFinite(b)) throw new RangeError(`${what}: the bias is ${b}, not a finite number`);
}

function checkDims(s: Standardizer, d: number): number {
  if (s.mean.length !== d || s.std.length !== d) {
    throw new RangeError(`standardizer: fitted for ${s.mean.length} features, got ${d}`);
  }
  return d;
}
