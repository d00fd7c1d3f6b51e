import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { LossSurfacePass } from '../../src/gpu/passes/loss-surface-pass.ts';
import { lossSurfaceGrid, lossSurfaceMoments, type SurfaceMoments } from '../../src/cpu/loss_surface.ts';
import { makeLinearData } from '../data-gen.ts';

// float32 sums (at most ceil(N / 65536) terms per thread, then fixed trees) against float64 on the same
// float32 data: moments to 1e-5 of the sum of their terms' magnitudes. A cell's J is a sum of six terms
// computed in float32 from those moments; it must match to 1e-5 of the sum of the terms' magnitudes.
const MOMENT_TOL = 1e-5;
const CELL_TOL = 1e-5;

async function compare(n: number, d: number, k: number) {
  const gpu = await testGpu();
  const data = makeLinearData(n, d, 100 + d);
  const ref = { w: Float64Array.from({ length: d }, (_, j) => 0.2 * j - 0.1), b: 0.3 };
  const spec = { w0: -3, b0: -2, dw: 0.11, db: 0.07, nx: 61, ny: 53 };
  const pass = await LossSurfacePass.create(gpu.device, data);
  try {
    const got = await pass.evaluate(ref, k, spec);
    const m = lossSurfaceMoments(data, k, ref);
    const abs = absMoments(data, k, ref);
    for (const key of ['r', 'rr', 'rx', 'x', 'xx'] as const) {
      expect(Math.abs(got.moments[key] - m[key]), `moment ${key}: gpu ${got.moments[key]} cpu ${m[key]}`).toBeLessThanOrEqual(MOMENT_TOL * abs[key]);
    }
    const want = lossSurfaceGrid(m, ref.w[k], ref.b, spec);
    let worst = 0;
    let at = '';
    for (let j = 0; j < spec.ny; j++) {
      for (let i = 0; i < spec.nx; i++) {
        const dw = spec.w0 + i * spec.dw - ref.w[k], db = spec.b0 + j * spec.db - ref.b;
        const scale = m.rr + 2 * Math.abs(dw * m.rx) + 2 * Math.abs(db * m.r) + dw * dw * m.xx + 2 * Math.abs(dw * db * m.x) + db * db;
        const c = j * spec.nx + i;
        const err = Math.abs(got.grid[c] - want[c]) / scale;
        if (err > worst) { worst = err; at = `cell (${i}, ${j}): gpu ${got.grid[c]} cpu ${want[c]}`; }
      }
    }
    expect(worst, at).toBeLessThanOrEqual(CELL_TOL);
    // The same grid again, after a different one: bit-identical (fixed summation order).
    await pass.evaluate(ref, k, { ...spec, nx: 7, ny: 3 });
    expect(Array.from((await pass.evaluate(ref, k, spec)).grid)).toEqual(Array.from(got.grid));
    // A new reference point reads the data again (the cached moments are for the old one).
    const moved = { w: ref.w.map((v) => v + 0.5), b: ref.b - 0.25 };
    const again = await pass.evaluate(moved, k, spec);
    const m2 = lossSurfaceMoments(data, k, moved);
    expect(Math.abs(again.moments.rr - m2.rr)).toBeLessThanOrEqual(MOMENT_TOL * m2.rr);
  } finally {
    pass.dispose();
  }
}

/** Means of the terms' magnitudes, the scale of each moment's rounding error. */
function absMoments(data: ReturnType<typeof makeLinearData>, k: number, ref: { w: ArrayLike<number>; b: number }): SurfaceMoments {
  const { x, y, n, d } = data;
  const out = { r: 0, rr: 0, rx: 0, x: 0, xx: 0 };
  for (let i = 0; i < n; i++) {
    let p = ref.b;
    for (let j = 0; j < d; j++) p += ref.w[j] * x[i * d + j];
    const r = p - y[i], xk = x[i * d + k];
    out.r += Math.abs(r); out.rr += r * r; out.rx += Math.abs(r * xk); out.x += Math.abs(xk); out.xx += xk * xk;
  }
  for (const key of Object.keys(out) as (keyof SurfaceMoments)[]) out[key] /= n;
  return out;
}

describe('loss surface: WGSL vs float64 CPU twin', () => {
  it('d = 1, N = 10^6 + 3: moments and a 61 x 53 grid', async () => {
    await compare(1_000_003, 1, 0);
  });

  it('d = 5, N = 20 011, contour feature 3; tiny N = 3', async () => {
    await compare(20_011, 5, 3);
    await compare(3, 2, 1);
  });
});
