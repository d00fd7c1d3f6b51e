// Benchmark data, the point the gradient is taken at, and the check against the float64 reference.
// Data is made where it is used (in the page, in Deno): gigabytes never cross a process boundary.
import type { GradientResult, LinearData, LinearParams } from '../../src/models/linear.ts';

/**
 * GPU vs float64: norm-wise relative error of (grad w, grad b), and of the loss. float32 data and
 * arithmetic with a bounded summation depth (each thread sums at most 8 tiles, then fixed trees):
 * error ~ (64 + log2 N) * 6e-8 of sum |terms|, and at a point away from the optimum the gradient is of
 * that order, so 1e-5 has headroom at N = 2^28. The same bound as test/gpu/linear-gradient.test.ts.
 */
export const GRADIENT_REL_TOL = 1e-5;

/**
 * TF.js vs float64: ten times looser. Its WebGPU reductions are float32 too, but sum long serial runs per
 * thread (a full reduce is one workgroup), so rounding can grow like sqrt(N) * eps rather than log N.
 * Measured on SwiftShader: at most 2.2e-7 up to N = 2^20 (at 2^22 TF.js's matMul exceeds the dispatch
 * limit and does not run). A wrong gradient (the injected fault) is off by O(1).
 */
export const TFJS_REL_TOL = 1e-4;

/**
 * Features with non-zero means (0.1 .. 2.5) and a noisy linear target, as in test/data-gen.ts, from an
 * inlined xorshift32. The state is a local, not a closure variable: V8 boxes a closure's uint32 (it does
 * not fit a small integer) on every update, which made 2^28 values take minutes instead of seconds.
 */
export function makeBenchData(n: number, d: number, seed = 42 + d): LinearData {
  let s = Math.imul(seed, 0x9e3779b1) | 1;
  const w = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    w[j] = ((s >>> 0) / 4294967296 - 0.5) * 4;
  }
  const x = new Float32Array(n * d);
  const y = new Float32Array(n);
  for (let i = 0, k = 0; i < n; i++) {
    let p = 0.7;
    for (let j = 0; j < d; j++, k++) {
      s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
      const v = 0.5 + ((s >>> 0) / 4294967296) * 2 - (j % 3) * 0.4;
      x[k] = v;
      p += w[j] * v;
    }
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    y[i] = p + 0.1 * ((s >>> 0) / 4294967296 - 0.5);
  }
  return { x, y, n, d };
}

/** Away from the optimum, so the gradient is far from zero and a relative error means something. */
export function evaluationPoint(d: number): LinearParams {
  return { w: Float64Array.from({ length: d }, (_, j) => 0.1 * (j + 1)), b: -0.3 };
}

export interface Check {
  ok: boolean;
  rel: number;
  /** 'passed' or 'failed: ...' with the worst components, llm.c style. */
  verdict: string;
}

export function checkGradient(got: GradientResult, want: GradientResult, tol: number): Check {
  const g = [...got.gradW, got.gradB];
  const r = [...want.gradW, want.gradB];
  let num = 0;
  let den = 0;
  for (let i = 0; i < r.length; i++) {
    num += (g[i] - r[i]) ** 2;
    den += r[i] ** 2;
  }
  const rel = Math.sqrt(num / den);
  const lossRel = Math.abs(got.loss - want.loss) / Math.abs(want.loss);
  const worstRel = Math.max(Number.isNaN(rel) ? Infinity : rel, Number.isNaN(lossRel) ? Infinity : lossRel);
  if (worstRel <= tol) return { ok: true, rel: worstRel, verdict: 'passed' };
  const worst = r.map((v, i) => [i, g[i], v] as const)
    .sort((a, b) => Math.abs(b[1] - b[2]) - Math.abs(a[1] - a[2]) || 0)
    .slice(0, 3)
    .map(([i, a, b]) => `${i < r.length - 1 ? `dw[${i}]` : 'db'} got ${a.toPrecision(6)} want ${b.toPrecision(6)}`);
  const lossText = `loss got ${got.loss.toPrecision(6)} want ${want.loss.toPrecision(6)}`;
  return {
    ok: false,
    rel: worstRel,
    verdict: `failed: relative error ${worstRel.toExponential(2)} > ${tol} (${[...worst, lossText].join('; ')})`,
  };
}

/**
 * A 100-step gradient-descent run vs the same run in float64: norm-wise relative error of the final
 * (w, b). Each step's gradient is within GRADIENT_REL_TOL (1e-5) and theta is rounded to float32 once per
 * step (100 x 6e-8); with GD_LR the errors of the steps add up to ~1e-5 of |theta| at worst along
 * directions the descent does not damp. 1e-4 keeps that headroom; a wrong step is off by O(lr |grad|).
 */
export const GD_REL_TOL = 1e-4;
/** Steps of the "gd100" rows. */
export const GD_STEPS = 100;
/**
 * Stable for every d the bench runs: the loss's curvature is at most ~2(1 + sum of squared feature means)
 * (~170 at d = 64, with means 0.7 to 1.5), and 0.005 x 170 < 2.
 */
export const GD_LR = 0.005;

/** The float64 reference run: theta <- theta - lr * grad, `steps` times, from `at`. */
export function gdReference(data: LinearData, at: LinearParams, steps: number, lr: number, gradient: (p: LinearParams) => GradientResult): LinearParams {
  let w = Float64Array.from(at.w);
  let b = at.b;
  for (let s = 0; s < steps; s++) {
    const g = gradient({ w, b });
    w = w.map((v, j) => v - lr * g.gradW[j]);
    b -= lr * g.gradB;
  }
  return { w, b };
}

/** Final parameters vs the float64 run: norm-wise relative error over (w, b). */
export function checkParams(got: LinearParams, want: LinearParams, tol: number): Check {
  const g = [...Array.from(got.w), got.b];
  const r = [...Array.from(want.w), want.b];
  let num = 0;
  let den = 0;
  for (let i = 0; i < r.length; i++) {
    num += (g[i] - r[i]) ** 2;
    den += r[i] ** 2;
  }
  const rel = g.length === r.length ? Math.sqrt(num / den) : Infinity;
  const safe = Number.isNaN(rel) ? Infinity : rel;
  if (safe <= tol) return { ok: true, rel: safe, verdict: 'passed' };
  const worst = r.map((v, i) => [i, g[i], v] as const)
    .sort((a, b) => Math.abs(b[1] - b[2]) - Math.abs(a[1] - a[2]) || 0)
    .slice(0, 3)
    .map(([i, a, b]) => `${i < r.length - 1 ? `w[${i}]` : 'b'} got ${Number(a).toPrecision(6)} want ${b.toPrecision(6)}`);
  return { ok: false, rel: safe, verdict: `failed: final parameters off by ${safe.toExponential(2)} > ${tol} (${worst.join('; ')})` };
}
