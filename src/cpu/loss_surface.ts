// CPU twin of shaders/loss_surface_moments.wgsl + loss_surface_grid.wgsl, in float64: the loss J over a
// (w_k, b) grid, every other weight held at the reference point. Along that plane J is exactly quadratic,
// fixed by five means of the residual r = w.x + b - y at the reference and of the feature x_k:
//   J(ref + dw e_k + db e_b) = E[r^2] + 2 dw E[r x_k] + 2 db E[r] + dw^2 E[x_k^2] + 2 dw db E[x_k] + db^2.
// With one feature and the reference at (0, 0) these are the classic moments E[y^2], -E[xy], -E[y], E[x],
// E[x^2]: the whole surface from one pass over the data.
import type { LinearData, LinearParams } from '../models/linear.ts';
import type { SurfaceGridSpec, SurfaceMoments } from '../core/loss-surface.ts';

export type { SurfaceGridSpec, SurfaceMoments };

export function lossSurfaceMoments(data: LinearData, k: number, ref: LinearParams): SurfaceMoments {
  const { x, y, n, d } = data;
  if (!(Number.isInteger(k) && k >= 0 && k < d)) throw new RangeError(`feature index ${k} is out of range for ${d} features`);
  const w = Float64Array.from(ref.w);
  let r1 = 0, rr = 0, rx = 0, x1 = 0, xx = 0;
  if (d === 1) {
    // Its own loop, as in linear_partials.ts: the generic one is several times slower at N = 10^7.
    const w0 = w[0], b = ref.b;
    for (let i = 0; i < n; i++) {
      const xk = x[i];
      const r = w0 * xk + b - y[i];
      r1 += r; rr += r * r; rx += r * xk; x1 += xk; xx += xk * xk;
    }
    return { r: r1 / n, rr: rr / n, rx: rx / n, x: x1 / n, xx: xx / n };
  }
  for (let i = 0, row = 0; i < n; i++, row += d) {
    let p = ref.b;
    for (let j = 0; j < d; j++) p += w[j] * x[row + j];
    const r = p - y[i];
    const xk = x[row + k];
    r1 += r;
    rr += r * r;
    rx += r * xk;
    x1 += xk;
    xx += xk * xk;
  }
  return { r: r1 / n, rr: rr / n, rx: rx / n, x: x1 / n, xx: xx / n };
}

/** J at the reference point moved by dw along w_k and db along b. */
export function surfaceLoss(m: SurfaceMoments, dw: number, db: number): number {
  return m.rr + 2 * (dw * m.rx + db * m.r) + dw * (dw * m.xx + 2 * db * m.x) + db * db;
}

/** (dJ/dw_k, dJ/db) at the reference point moved by (dw, db). */
export function surfaceGradient(m: SurfaceMoments, dw: number, db: number): { gw: number; gb: number } {
  return { gw: 2 * (m.rx + dw * m.xx + db * m.x), gb: 2 * (m.r + dw * m.x + db) };
}

/** The offset (dw, db) of the plane's minimum; null when x_k is constant (the valley is flat along it). */
export function surfaceMinimum(m: SurfaceMoments): { dw: number; db: number } | null {
  const det = m.xx - m.x * m.x; // the variance of x_k
  if (!(det > 1e-12 * Math.max(m.xx, 1e-300))) return null;
  return { dw: (m.x * m.r - m.rx) / det, db: (m.x * m.rx - m.xx * m.r) / det };
}

/** The grid the WGSL evaluates, in float64; refW and refB are the reference's w_k and b. */
export function lossSurfaceGrid(m: SurfaceMoments, refW: number, refB: number, spec: SurfaceGridSpec): Float64Array {
  const out = new Float64Array(spec.nx * spec.ny);
  for (let j = 0; j < spec.ny; j++) {
    const db = spec.b0 + j * spec.db - refB;
    for (let i = 0; i < spec.nx; i++) out[j * spec.nx + i] = surfaceLoss(m, spec.w0 + i * spec.dw - refW, db);
  }
  return out;
}
