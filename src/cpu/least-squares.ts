// Closed-form least squares by the normal equations in float64: [X 1]^T [X 1] theta = [X 1]^T y,
// solved by Cholesky. The optimum that gradient descent must reach in tests.
import type { LinearData } from '../models/linear.ts';

export function leastSquares(data: LinearData): { w: Float64Array; b: number } {
  const { x, y, n, d } = data;
  const m = d + 1;
  const a = new Float64Array(m * m);
  const rhs = new Float64Array(m);
  const row = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = x[i * d + j];
    row[d] = 1;
    for (let p = 0; p < m; p++) {
      rhs[p] += row[p] * y[i];
      for (let q = 0; q <= p; q++) a[p * m + q] += row[p] * row[q];
    }
  }
  // Cholesky a = L L^T in place (lower triangle).
  for (let p = 0; p < m; p++) {
    for (let q = 0; q <= p; q++) {
      let s = a[p * m + q];
      for (let k = 0; k < q; k++) s -= a[p * m + k] * a[q * m + k];
      if (p === q) {
        if (!(s > 0)) throw new Error('leastSquares: normal equations are singular (collinear or constant features)');
        a[p * m + p] = Math.sqrt(s);
      } else {
        a[p * m + q] = s / a[q * m + q];
      }
    }
  }
  const z = new Float64Array(m);
  for (let p = 0; p < m; p++) {
    let s = rhs[p];
    for (let k = 0; k < p; k++) s -= a[p * m + k] * z[k];
    z[p] = s / a[p * m + p];
  }
  const theta = new Float64Array(m);
  for (let p = m - 1; p >= 0; p--) {
    let s = z[p];
    for (let k = p + 1; k < m; k++) s -= a[k * m + p] * theta[k];
    theta[p] = s / a[p * m + p];
  }
  return { w: theta.slice(0, d), b: theta[d] };
}
