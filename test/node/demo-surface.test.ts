import { describe, expect, it } from 'vitest';
import {
  colorPosition, colorScale, contains, contourLevels, followPoint, gridMinMax, gridSpec, marchingSquares, niceTicks, windowAround,
} from '../../src/demo/surface.ts';

describe('demo contour helpers', () => {
  it('windowAround: a square holding every point with a margin; empty and degenerate inputs', () => {
    const pts = [{ w: 0, b: 0 }, { w: 3, b: 2 }, { w: 4.9, b: 0.8 }];
    const win = windowAround(pts, 0.1);
    expect(win.w1 - win.w0).toBeCloseTo(win.b1 - win.b0, 12);
    expect(win.w1 - win.w0).toBeCloseTo(4.9 * 1.2, 12);
    for (const p of pts) expect(contains(win, p)).toBe(true);
    expect(contains(win, { w: 6, b: 0 })).toBe(false);
    const one = windowAround([{ w: 5, b: 5 }], 0, 2);
    expect(one).toEqual({ w0: 4, w1: 6, b0: 4, b1: 6 });
    expect(windowAround([{ w: NaN, b: 1 }], 0, 1)).toEqual({ w0: -0.5, w1: 0.5, b0: -0.5, b1: 0.5 });
  });

  it('followPoint: widens the window to a point that left it, not to a runaway one', () => {
    const win = { w0: 0, w1: 2, b0: 0, b1: 2 };
    expect(followPoint(win, { w: 1, b: 1 })).toBeNull();
    const wider = followPoint(win, { w: 3, b: 1 })!;
    expect(contains(wider, { w: 3, b: 1 }) && contains(wider, { w: 0, b: 0 }) && contains(wider, { w: 2, b: 2 })).toBe(true);
    expect(followPoint(win, { w: 1e30, b: 1 })).toBeNull();
    expect(followPoint(win, { w: NaN, b: 1 })).toBeNull();
  });

  it('gridSpec: cell centres covering the window', () => {
    const s = gridSpec({ w0: 0, w1: 4, b0: -2, b1: 2 }, 4, 8);
    expect(s).toEqual({ w0: 0.5, b0: -1.75, dw: 1, db: 0.5, nx: 4, ny: 8 });
  });

  it('contourLevels: increasing, inside (min, max), geometric in J - min', () => {
    const lv = contourLevels(1, 101, 5);
    expect(lv).toHaveLength(5);
    for (let i = 1; i < lv.length; i++) expect(lv[i]).toBeGreaterThan(lv[i - 1]);
    expect(lv[0]).toBeGreaterThan(1);
    expect(lv[4]).toBeLessThan(101);
    const r1 = (lv[1] - 1) / (lv[0] - 1), r2 = (lv[4] - 1) / (lv[3] - 1);
    expect(r1).toBeCloseTo(r2, 9);
    expect(contourLevels(2, 2, 5)).toEqual([]);
    expect(gridMinMax([3, NaN, -1, Infinity, 7])).toEqual({ min: -1, max: 7 });
  });

  it('marchingSquares: the level set of a paraboloid is a circle of the right radius', () => {
    const n = 41;
    const c = (n - 1) / 2;
    const v = new Float64Array(n * n);
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) v[j * n + i] = (i - c) ** 2 + (j - c) ** 2;
    const segs = marchingSquares(v, n, n, 100); // radius 10
    expect(segs.length).toBeGreaterThan(40 * 4);
    for (let q = 0; q < segs.length; q += 2) {
      expect(Math.hypot(segs[q] - c, segs[q + 1] - c)).toBeGreaterThan(9.7);
      expect(Math.hypot(segs[q] - c, segs[q + 1] - c)).toBeLessThan(10.05);
    }
    expect(marchingSquares(v, n, n, -1)).toEqual([]);
  });

  it('marchingSquares: a saddle cell gives two segments', () => {
    expect(marchingSquares([1, 0, 0, 1], 2, 2, 0.5)).toHaveLength(8);
  });

  it('colour scale: pale at the minimum, dark at the rim, clamped', () => {
    expect(colorScale(0)).toEqual([255, 250, 215]);
    expect(colorScale(1)).toEqual([37, 52, 148]);
    expect(colorScale(7)).toEqual(colorScale(1));
    expect(colorPosition(1, 1, 11)).toBe(0);
    expect(colorPosition(11, 1, 11)).toBeCloseTo(1, 12);
  });

  it('niceTicks: round steps inside the range', () => {
    expect(niceTicks(-0.75, 3.75, 5)).toEqual([0, 1, 2, 3]);
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(1, 1)).toEqual([]);
  });
});
