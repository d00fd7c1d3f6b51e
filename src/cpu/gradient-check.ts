// The definition of a partial derivative made executable: perturb one parameter by +-h with all
// others held constant and take the central difference (J(t + h) - J(t - h)) / 2h, in float64.
import type { LinearData, LinearParams } from '../models/linear.ts';
import { linearLoss } from './linear_partials.ts';

export interface GradientCheck {
  /** Central differences: d weights, then the bias. */
  numeric: Float64Array;
}

export function finiteDifferenceGradient(
  loss: (theta: Float64Array) => number,
  theta: ArrayLike<number>,
  relStep = 1e-5,
): Float64Array {
  const t = Float64Array.from(theta);
  const out = new Float64Array(t.length);
  for (let k = 0; k < t.length; k++) {
    const saved = t[k];
    // A step relative to the parameter's size keeps truncation and rounding error balanced.
    const h = relStep * Math.max(1, Math.abs(saved));
    t[k] = saved + h;
    const up = loss(t);
    t[k] = saved - h;
    const down = loss(t);
    t[k] = saved;
    out[k] = (up - down) / (2 * h);
  }
  return out;
}

export function linearFiniteDifference(data: LinearData, at: LinearParams, relStep = 1e-5): Float64Array {
  const d = data.d;
  const theta = new Float64Array(d + 1);
  theta.set(Array.from(at.w));
  theta[d] = at.b;
  return finiteDifferenceGradient((t) => linearLoss(data, { w: t.subarray(0, d), b: t[d] }), theta, relStep);
}
