// Cholesky factorization A = LLᵀ of a small symmetric matrix in float64, and the solves built on it: what
// Levenberg-Marquardt's subproblem and the fit's covariance need. A pivot that is not positive, or that
// is below PIVOT_TOLERANCE of its diagonal entry (cancellation has eaten the digits: A is numerically
// singular), makes the factorization fail (null) rather than return a meaningless inverse.

const PIVOT_TOLERANCE = 1e-13;

/** L (row-major, lower) or null when A is not numerically positive definite. */
export function choleskyFactor(A: ArrayLike<number>, p: number): Float64Array | null {
  const L = new Float64Array(p * p);
  for (let j = 0; j < p; j++) {
    let d = A[j * p + j];
    for (let k = 0; k < j; k++) d -= L[j * p + k] ** 2;
    if (!(d > PIVOT_TOLERANCE * Math.abs(A[j * p + j])) || !Number.isFinite(d)) return null;
    const ljj = Math.sqrt(d);
    L[j * p + j] = ljj;
    for (let i = j + 1; i < p; i++) {
      let s = A[i * p + j];
      for (let k = 0; k < j; k++) s -= L[i * p + k] * L[j * p + k];
      L[i * p + j] = s / ljj;
    }
  }
  return L;
}

/** L⁻¹ b. */
export function forwardSolve(L: Float64Array, p: number, b: ArrayLike<number>): Float64Array {
  const y = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * p + k] * y[k];
    y[i] = s / L[i * p + i];
  }
  return y;
}

/** (LLᵀ)⁻¹ b. */
export function choleskySolve(L: Float64Array, p: number, b: ArrayLike<number>): Float64Array {
  const y = forwardSolve(L, p, b);
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < p; k++) s -= L[k * p + i] * x[k];
    x[i] = s / L[i * p + i];
  }
  return x;
}

/** A⁻¹ (row-major) from A's factor. */
export function choleskyInverse(L: Float64Array, p: number): Float64Array {
  const inv = new Float64Array(p * p);
  const e = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    e.fill(0);
    e[j] = 1;
    inv.set(choleskySolve(L, p, e), j * p);
  }
  return inv;
}
