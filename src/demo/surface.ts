// Pure helpers for the contour map: the (w, b) window, the grid inside it, contour levels, marching
// squares and the colour scale. Unit-tested in test/node/demo-surface.test.ts.
import type { SurfaceGridSpec } from '../core/loss-surface.ts';

export interface Point { w: number; b: number }

/** A square window (same units per pixel on both axes, so ∇J looks perpendicular to the contours). */
export interface Window { w0: number; w1: number; b0: number; b1: number }

/** The smallest square holding every point, widened by `margin` of its side on each side. */
export function windowAround(points: readonly Point[], margin = 0.2, minSide = 1): Window {
  const finite = points.filter((p) => Number.isFinite(p.w) && Number.isFinite(p.b));
  if (finite.length === 0) return { w0: -minSide / 2, w1: minSide / 2, b0: -minSide / 2, b1: minSide / 2 };
  let lw = Infinity, hw = -Infinity, lb = Infinity, hb = -Infinity;
  for (const p of finite) {
    lw = Math.min(lw, p.w); hw = Math.max(hw, p.w);
    lb = Math.min(lb, p.b); hb = Math.max(hb, p.b);
  }
  const side = Math.max(hw - lw, hb - lb, minSide) * (1 + 2 * margin);
  const cw = (lw + hw) / 2;
  const cb = (lb + hb) / 2;
  return { w0: cw - side / 2, w1: cw + side / 2, b0: cb - side / 2, b1: cb + side / 2 };
}

export function contains(win: Window, p: Point): boolean {
  return p.w >= win.w0 && p.w <= win.w1 && p.b >= win.b0 && p.b <= win.b1;
}

/**
 * A wider window when the path has left this one, or null: null too for a point more than `reach`
 * window sides away (a diverging run), which the map does not chase.
 */
export function followPoint(win: Window, p: Point, reach = 50): Window | null {
  if (contains(win, p)) return null;
  const side = win.w1 - win.w0;
  const cw = (win.w0 + win.w1) / 2, cb = (win.b0 + win.b1) / 2;
  if (!(Math.abs(p.w - cw) < reach * side && Math.abs(p.b - cb) < reach * side)) return null;
  return windowAround([{ w: win.w0, b: win.b0 }, { w: win.w1, b: win.b1 }, p], 0.05);
}

/** nx x ny cell centres covering the window. */
export function gridSpec(win: Window, nx: number, ny: number): SurfaceGridSpec {
  const dw = (win.w1 - win.w0) / nx;
  const db = (win.b1 - win.b0) / ny;
  return { w0: win.w0 + dw / 2, b0: win.b0 + db / 2, dw, db, nx, ny };
}

export function gridMinMax(values: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/**
 * `count` levels between min and max, geometric in J - min: for a quadratic bowl J - min grows with the
 * squared distance to the minimum, so these give rings spread evenly from the bottom to the rim.
 */
export function contourLevels(min: number, max: number, count: number, depth = 1e-3): number[] {
  const span = max - min;
  if (!(span > 0) || count < 1) return [];
  if (count === 1) return [min + span / 2];
  const lo = Math.log(span * depth);
  const hi = Math.log(span * 0.95);
  return Array.from({ length: count }, (_, i) => min + Math.exp(lo + ((hi - lo) * i) / (count - 1)));
}

/**
 * Marching squares on a row-major nx x ny grid: the line segments where the field crosses `level`,
 * as x0, y0, x1, y1 in grid coordinates (column i, row j). Saddles are split by the cell's mean.
 */
export function marchingSquares(values: ArrayLike<number>, nx: number, ny: number, level: number): number[] {
  const out: number[] = [];
  const at = (i: number, j: number) => values[j * nx + i];
  const lerp = (a: number, b: number) => (level - a) / (b - a);
  for (let j = 0; j + 1 < ny; j++) {
    for (let i = 0; i + 1 < nx; i++) {
      const v0 = at(i, j), v1 = at(i + 1, j), v2 = at(i + 1, j + 1), v3 = at(i, j + 1);
      const c = (v0 > level ? 1 : 0) | (v1 > level ? 2 : 0) | (v2 > level ? 4 : 0) | (v3 > level ? 8 : 0);
      if (c === 0 || c === 15) continue;
      // Edge crossing points: bottom (v0-v1), right (v1-v2), top (v3-v2), left (v0-v3).
      const e = [
        () => [i + lerp(v0, v1), j],
        () => [i + 1, j + lerp(v1, v2)],
        () => [i + lerp(v3, v2), j + 1],
        () => [i, j + lerp(v0, v3)],
      ];
      const seg = (a: number, b: number) => out.push(...e[a](), ...e[b]());
      switch (c) {
        case 1: case 14: seg(3, 0); break;
        case 2: case 13: seg(0, 1); break;
        case 3: case 12: seg(3, 1); break;
        case 4: case 11: seg(1, 2); break;
        case 6: case 9: seg(0, 2); break;
        case 7: case 8: seg(3, 2); break;
        case 5: case 10: {
          const centreAbove = (v0 + v1 + v2 + v3) / 4 > level;
          if ((c === 5) === centreAbove) { seg(3, 2); seg(0, 1); } else { seg(3, 0); seg(1, 2); }
          break;
        }
      }
    }
  }
  return out;
}

// A light sequential scale (pale yellow at the minimum to deep blue at the rim): dark arrows and path
// stay readable on every part of it.
const STOPS: Array<[number, number, number]> = [
  [255, 250, 215], [199, 233, 180], [127, 205, 187], [65, 182, 196], [44, 127, 184], [37, 52, 148],
];

/** t in [0, 1] to an RGB triple. */
export function colorScale(t: number): [number, number, number] {
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 1)) * (STOPS.length - 1);
  const k = Math.min(STOPS.length - 2, Math.floor(u));
  const f = u - k;
  const a = STOPS[k], b = STOPS[k + 1];
  return [0, 1, 2].map((c) => Math.round(a[c] + (b[c] - a[c]) * f)) as [number, number, number];
}

/** Where a value sits on the colour scale: log of J - min, relative to the grid's span. */
export function colorPosition(v: number, min: number, max: number, depth = 1e-3): number {
  const span = max - min;
  if (!(span > 0)) return 0;
  const rel = Math.max(v - min, span * depth) / span;
  return 1 - Math.log(rel) / Math.log(depth);
}

/** About `count` round tick values (1, 2 or 5 times a power of ten apart) inside [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  const raw = (hi - lo) / Math.max(1, count);
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  return out;
}
