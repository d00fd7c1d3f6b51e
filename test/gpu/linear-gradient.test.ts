import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { GpuLinearEngine } from '../../src/gpu/gpu-linear-engine.ts';
import { linearGradient } from '../../src/cpu/linear_partials.ts';
import { linearFiniteDifference } from '../../src/cpu/gradient-check.ts';
import { makeLinearData, relativeError, thetaOf } from '../data-gen.ts';
import type { LinearKernelConfig } from '../../src/gpu/dispatch.ts';
import type { LinearData } from '../../src/models/linear.ts';

// float32 arithmetic on float32 data against a float64 reference on the same (float32-rounded) data.
// Each thread sums blocks of at most 64 samples plainly and folds the block sums with compensated addition,
// then trees: error ~ (64 + 2 + log2 N) * 6e-8 of the sum of |terms| however many blocks a thread gets (the
// grid is tuned, not sized from N); at a point away from the optimum the gradient is O(that sum), so 1e-5
// has headroom.
const GRADIENT_REL_TOL = 1e-5;

async function compare(n: number, d: number, workgroupSize?: number, kernel?: LinearKernelConfig, data: LinearData = makeLinearData(n, d, 42 + d)) {
  const gpu = await testGpu();
  const at = { w: Float64Array.from({ length: d }, (_, j) => 0.1 * (j + 1)), b: -0.3 };
  const engine = await GpuLinearEngine.create(gpu, data, { workgroupSize, kernel });
  try {
    engine.fillOutputs(NaN); // a pass that skipped a value would leave NaN behind
    const got = await engine.gradient(at);
    const want = linearGradient(data, at);
    const g = relativeError(thetaOf(got.gradW, got.gradB), thetaOf(want.gradW, want.gradB));
    expect(g.rel, `d = ${d}, workgroup ${engine.plan.workgroupSize}: ${g.worst}`).toBeLessThanOrEqual(GRADIENT_REL_TOL);
    expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThanOrEqual(GRADIENT_REL_TOL);
    return engine.plan;
  } finally {
    engine.dispose();
  }
}

describe('GPU linear gradient vs float64 CPU', () => {
  for (const d of [1, 8, 64]) {
    it(`N = 10^6 + 3, d = ${d}: relative error of grad J and J <= ${GRADIENT_REL_TOL}`, async () => {
      await compare(1_000_003, d); // not a multiple of any workgroup or tile size
    });
  }

  it('tiled kernel: d = 300 on 128-invocation workgroups (several features per thread), d = 17 (15 lanes per feature)', async () => {
    const plan = await compare(20_011, 300, undefined, { workgroupSize: 128, numGroups: 4, variant: 'tiled' });
    expect(plan.variant).toBe('tiled');
    expect(plan.laneMode).toBe(false);
    expect(plan.featuresPerThread).toBe(3);
    const lanes = await compare(3_001, 17, undefined, { workgroupSize: 256, numGroups: 2, variant: 'tiled' });
    expect([lanes.variant, lanes.laneMode]).toEqual(['tiled', true]);
  });

  it('quad kernel: ragged last quad and tiny N (d = 3, 5, 16; N = 1, 5, 777)', async () => {
    expect((await compare(777, 3, 64)).variant).toBe('quad');
    await compare(5, 5);
    await compare(1, 16);
    await compare(4_099, 16, 128);
  });

  // The kernels the tuner weighs against the tiled one: quad from 17 to 64 features, wide above (whole vec4 rows).
  const alternatives = [
    { variant: 'quad', cases: [[3_001, 17, 64], [20_011, 33, 128], [4_099, 64, 256]], longRun: 48 },
    { variant: 'wide', cases: [[3_001, 68, 64], [20_011, 128, 128], [1_003, 512, 256]], longRun: 128 },
  ] as const;
  for (const { variant, cases, longRun } of alternatives) {
    it(`${variant} kernel (d = ${cases.map((c) => c[1]).join(', ')}): ragged quads, agrees with float64 as the tiled one does`, async () => {
      for (const [n, d, wg] of cases) {
        const plan = await compare(n, d, undefined, { workgroupSize: wg, numGroups: 3, variant });
        expect([plan.variant, plan.rowsPerTile]).toEqual([variant, 4 * wg]);
        expect((await compare(n, d, undefined, { workgroupSize: wg, numGroups: 3, variant: 'tiled' })).variant).toBe('tiled');
      }
      // One workgroup over 2 * 10^5 rows: 782 quads a thread, folded in blocks like the few-feature case.
      await compare(200_003, longRun, undefined, { workgroupSize: 64, numGroups: 1, variant });
    });
  }

  it('a tiny fixed grid (1 workgroup x 64 over 10^6 rows, 3907 quads a thread) keeps the bound', async () => {
    // Random data: within the same tolerance as the tuned grid.
    await compare(1_000_000, 1, undefined, { workgroupSize: 64, numGroups: 1 });
    await compare(1_000_000, 8, undefined, { workgroupSize: 64, numGroups: 1 });
    await compare(1_000_003, 17, undefined, { workgroupSize: 64, numGroups: 1 });
    // The same term 10^6 times (x = 1, y = -0.1): every rounding of a plain running sum errs the same way, so
    // a thread summing its 15,628 samples serially misses by ~1e-4 (computed below in float32, as the GPU
    // would); the blocks and compensated folds must stay within GRADIENT_REL_TOL.
    const n = 1_000_000;
    const hard = { n, d: 1, x: new Float32Array(n).fill(1), y: new Float32Array(n).fill(-0.1) };
    expect(plainSerialRelError(hard, 0.1, -0.3, 64)).toBeGreaterThan(5 * GRADIENT_REL_TOL);
    await compare(n, 1, undefined, { workgroupSize: 64, numGroups: 1 }, hard);
  });

  it('two quads per loop iteration (a tuned choice) give the same bits as one, whole blocks and ragged ones', async () => {
    const gpu = await testGpu();
    const at = { w: [0.4], b: -0.2 };
    for (const n of [100_003, 4096 * 3 + 5]) {
      const data = makeLinearData(n, 1, 11);
      for (const numGroups of [1, 3]) {
        const results = [];
        for (const unroll of [1, 2]) {
          const engine = await GpuLinearEngine.create(gpu, data, { kernel: { workgroupSize: 64, numGroups, unroll } });
          try {
            expect(engine.plan.unroll).toBe(unroll);
            engine.fillOutputs(NaN);
            results.push(await engine.gradient(at));
          } finally {
            engine.dispose();
          }
        }
        expect([results[1].gradW[0], results[1].gradB, results[1].loss], `n = ${n}, ${numGroups} groups`).toEqual([results[0].gradW[0], results[0].gradB, results[0].loss]);
        const want = linearGradient(data, at);
        expect(Math.abs(results[1].gradB - want.gradB) / Math.abs(want.gradB)).toBeLessThanOrEqual(GRADIENT_REL_TOL);
      }
    }
    await expect(GpuLinearEngine.create(gpu, makeLinearData(64, 1, 1), { kernel: { workgroupSize: 64, numGroups: 1, unroll: 3 } })).rejects.toThrow(/unroll must be one of 1, 2, got 3/);
  });

  it('is bit-identical when rerun on the same data', async () => {
    const gpu = await testGpu();
    const data = makeLinearData(300_001, 16, 7);
    const engine = await GpuLinearEngine.create(gpu, data);
    try {
      const at = { w: new Float64Array(16).fill(0.25), b: 1 };
      const first = await engine.gradient(at);
      engine.fillOutputs(NaN);
      const second = await engine.gradient(at);
      expect(Array.from(second.gradW)).toEqual(Array.from(first.gradW));
      expect(second.gradB).toBe(first.gradB);
      expect(second.loss).toBe(first.loss);
    } finally {
      engine.dispose();
    }
  });

  it('agrees with central finite differences of J (float64) on every parameter', async () => {
    const gpu = await testGpu();
    const data = makeLinearData(4_099, 6, 11);
    const at = { w: [0.5, -1, 0.25, 2, 0, -0.75], b: 0.4 };
    const engine = await GpuLinearEngine.create(gpu, data);
    try {
      const got = await engine.gradient(at);
      const numeric = linearFiniteDifference(data, at);
      // J is quadratic, so central differences are exact up to float64 rounding (~1e-10 here);
      // the bound is the GPU's float32 error.
      const g = relativeError(thetaOf(got.gradW, got.gradB), numeric);
      expect(g.rel, g.worst).toBeLessThanOrEqual(GRADIENT_REL_TOL);
    } finally {
      engine.dispose();
    }
  });
});

/**
 * Relative error of sum r_i x_i (d = 1) summed as a plain float32 kernel would with one workgroup of `wg`
 * threads: thread t sums quads t, t + wg, ... serially (fma: the product is exact in float64, one rounding),
 * then a tree over the threads. What the compensated folds are there to avoid.
 */
function plainSerialRelError(data: LinearData, w: number, b: number, wg: number): number {
  const f = Math.fround;
  const { n, x, y } = data;
  let exact = 0;
  for (let i = 0; i < n; i++) exact += (w * x[i] + b - y[i]) * x[i];
  const threads = new Array<number>(wg).fill(0);
  for (let q = 0; q < Math.ceil(n / 4); q++) {
    for (let i = 4 * q; i < Math.min(n, 4 * q + 4); i++) {
      const r = f(f(w * x[i] + f(b)) - y[i]);
      threads[q % wg] = f(threads[q % wg] + r * x[i]);
    }
  }
  for (let stride = wg >> 1; stride > 0; stride >>= 1) for (let t = 0; t < stride; t++) threads[t] = f(threads[t] + threads[t + stride]);
  return Math.abs(threads[0] - exact) / Math.abs(exact);
}
