// J over a grid of two parameters (the others held at their current values), by the float64 twin's row
// sums, for the contour view. Parameters of a formula have their own scales (b1 ~ 500 beside b2 ~ 1), so
// the window is sized per axis, not square as the linear mode's.
import type { FormulaModel } from '../../formula/model.ts';
import type { SurfaceGridSpec } from '../../core/loss-surface.ts';
import { formulaRowSums, type FormulaData } from '../../models/formula.ts';
import type { Window } from '../surface.ts';

/** Rows J is summed over on the grid: all of them up to this, else an even sample (the page says so). */
export const SURFACE_ROWS = 5000;

/** Every row up to SURFACE_ROWS, else every k-th: J on a sample keeps a grid of 48² cells interactive. */
export function surfaceRows(data: FormulaData): { data: FormulaData; sampled: boolean } {
  if (data.n <= SURFACE_ROWS) return { data, sampled: false };
  const step = Math.ceil(data.n / SURFACE_ROWS);
  const n = Math.ceil(data.n / step);
  const x = new Float32Array(n * data.d);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x.set(data.x.subarray(i * step * data.d, (i * step + 1) * data.d), i * data.d);
    y[i] = data.y[i * step];
  }
  return { data: { x, y, n, d: data.d }, sampled: true };
}

/**
 * The window over parameters a (across) and b (up) holding every point given, each axis with a margin and
 * at least `rel` of the parameter's own size, so that a run starting at its answer still shows a bowl.
 */
export function paramWindow(points: ReadonlyArray<readonly [number, number]>, rel = 0.25): Window {
  const axis = (k: 0 | 1) => {
    const vs = points.map((p) => p[k]).filter(Number.isFinite);
    if (vs.length === 0) return [-1, 1];
    const lo = Math.min(...vs), hi = Math.max(...vs);
    const mid = (lo + hi) / 2;
    const half = Math.max((hi - lo) / 2 * 1.3, rel * Math.max(Math.abs(lo), Math.abs(hi)), 1e-3);
    return [mid - half, mid + half];
  };
  const [w0, w1] = axis(0);
  const [b0, b1] = axis(1);
  return { w0, w1, b0, b1 };
}

/** J on the spec's cell centres (row-major, rows along b), with parameter a = index ia and b = index ib of theta. */
export function formulaSurface(m: FormulaModel, data: FormulaData, theta: Float64Array, ia: number, ib: number, spec: SurfaceGridSpec): Float64Array {
  const sums = formulaRowSums(m);
  const P = m.params.length;
  const out = new Float64Array(P + 1);
  const at = Float64Array.from(theta);
  const grid = new Float64Array(spec.nx * spec.ny);
  for (let j = 0; j < spec.ny; j++) {
    at[ib] = spec.b0 + j * spec.db;
    for (let i = 0; i < spec.nx; i++) {
      at[ia] = spec.w0 + i * spec.dw;
      out.fill(0);
      sums(at, data.x, data.y, 0, data.n, out);
      grid[j * spec.nx + i] = out[P] / data.n;
    }
  }
  return grid;
}
