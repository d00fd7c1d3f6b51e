import { describe, expect, it } from 'vitest';
import { lossSurfaceGrid, lossSurfaceMoments, surfaceGradient, surfaceLoss, surfaceMinimum } from '../../src/cpu/loss_surface.ts';
import { linearGradient, linearLoss } from '../../src/cpu/linear_partials.ts';
import { leastSquares } from '../../src/cpu/least-squares.ts';
import { makeLinearData } from '../data-gen.ts';

// J is exactly quadratic along the (w_k, b) plane, so the moments reproduce it up to float64 rounding.
const EXACT = 1e-9;

describe('CPU twin of the loss-surface shaders', () => {
  it('one feature, reference (0, 0): the moments are the classic sums of x and y', () => {
    const data = makeLinearData(5_000, 1, 3);
    const m = lossSurfaceMoments(data, 0, { w: [0], b: 0 });
    let sy = 0, syy = 0, sxy = 0, sx = 0, sxx = 0;
    for (let i = 0; i < data.n; i++) {
      const x = data.x[i], y = data.y[i];
      sy += y; syy += y * y; sxy += x * y; sx += x; sxx += x * x;
    }
    const n = data.n;
    expect(m.r).toBeCloseTo(-sy / n, 12);
    expect(m.rr).toBeCloseTo(syy / n, 10);
    expect(m.rx).toBeCloseTo(-sxy / n, 10);
    expect(m.x).toBeCloseTo(sx / n, 12);
    expect(m.xx).toBeCloseTo(sxx / n, 10);
  });

  for (const d of [1, 4]) {
    it(`d = ${d}: the grid equals J evaluated directly, the gradient equals linearGradient`, () => {
      const data = makeLinearData(3_001, d, 7 + d);
      const k = d - 1;
      const ref = { w: Float64Array.from({ length: d }, (_, j) => 0.3 * j - 0.2), b: 0.4 };
      const m = lossSurfaceMoments(data, k, ref);
      const spec = { w0: -2, b0: -1.5, dw: 0.5, db: 0.75, nx: 9, ny: 5 };
      const grid = lossSurfaceGrid(m, ref.w[k], ref.b, spec);
      for (let j = 0; j < spec.ny; j++) {
        for (let i = 0; i < spec.nx; i++) {
          const w = Float64Array.from(ref.w);
          w[k] = spec.w0 + i * spec.dw;
          const want = linearLoss(data, { w, b: spec.b0 + j * spec.db });
          expect(Math.abs(grid[j * spec.nx + i] - want) / want).toBeLessThan(EXACT);
        }
      }
      const g = surfaceGradient(m, 0.25, -0.5);
      const w = Float64Array.from(ref.w);
      w[k] += 0.25;
      const want = linearGradient(data, { w, b: ref.b - 0.5 });
      expect(g.gw).toBeCloseTo(want.gradW[k], 9);
      expect(g.gb).toBeCloseTo(want.gradB, 9);
      expect(surfaceLoss(m, 0.25, -0.5)).toBeCloseTo(want.loss, 9);
    });
  }

  it('one feature: the minimum of the plane is the least-squares fit; a constant feature has none', () => {
    const data = makeLinearData(2_000, 1, 11);
    const o = leastSquares(data);
    const s = surfaceMinimum(lossSurfaceMoments(data, 0, { w: [1], b: -1 }))!;
    expect(1 + s.dw).toBeCloseTo(o.w[0], 8);
    expect(-1 + s.db).toBeCloseTo(o.b, 8);
    const flat = { x: new Float32Array(10).fill(2), y: new Float32Array(10).fill(1), n: 10, d: 1 };
    expect(surfaceMinimum(lossSurfaceMoments(flat, 0, { w: [0], b: 0 }))).toBeNull();
  });

  it('rejects a feature index outside the data', () => {
    expect(() => lossSurfaceMoments(makeLinearData(4, 2), 2, { w: [0, 0], b: 0 })).toThrow(/out of range/);
  });
});
