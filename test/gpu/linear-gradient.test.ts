// The linear model's gradient on the GPU (y ~ linear(x1..xd) with mse on GpuFormulaEngine: the quad kernel,
// shaders/linear_partials_quad.wgsl FORMULA, for D <= 64) against linearGradient (src/cpu/linear_partials.ts),
// the float64 gradient derived by hand: a reference the formula compiler had no part in.
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { gpuLinear, float32Params } from './linear-formula.ts';
import { linearGradient } from '../../src/cpu/linear_partials.ts';
import { linearFiniteDifference } from '../../src/cpu/gradient-check.ts';
import { linearTheta } from '../../src/models/linear-formula.ts';
import type { FormulaKernelConfig } from '../../src/gpu/formula/formula-grid.ts';
import type { LinearData, LinearParams } from '../../src/models/linear.ts';
import { makeLinearData, relativeError, thetaOf } from '../data-gen.ts';

// float32 arithmetic on float32 data against a float64 reference on the same data at the same (float32)
// parameters. Each thread sums blocks of at most 64 samples plainly and folds the block sums with compensated
// addition, then trees: error ~ (64 + 2 + log2 N) * 6e-8 of the sum of |terms| however many blocks a thread
// gets; at a point away from the optimum the gradient is O(that sum), so 1e-5 (norm-wise) has headroom.
const GRADIENT_REL_TOL = 1e-5;

/** The GPU's loss and gradient at `at` against linearGradient's; returns the kernel the engine ran. */
async function compare(data: LinearData, at: LinearParams, quadKernel?: FormulaKernelConfig) {
  const engine = await gpuLinear(await testGpu(), data, { quadKernel });
  try {
    engine.fillOutputs(NaN); // a pass that skipped a value would leave NaN behind
    const got = await engine.lossAndGradient(linearTheta(at));
    const want = linearGradient(data, at);
    const g = relativeError(got.grad, thetaOf(want.gradW, want.gradB));
    const label = `n = ${data.n}, d = ${data.d}, ${JSON.stringify(engine.quadKernel?.config)}`;
    console.info(`${label}: gradient rel ${g.rel.toExponential(2)}, loss rel ${(Math.abs(got.loss - want.loss) / want.loss).toExponential(2)}`);
    expect(g.rel, `${label}: ${g.worst}`).toBeLessThanOrEqual(GRADIENT_REL_TOL);
    expect(Math.abs(got.loss - want.loss) / want.loss, label).toBeLessThanOrEqual(GRADIENT_REL_TOL);
    return { kind: engine.kernelKind, config: engine.quadKernel?.config };
  } finally {
    engine.dispose();
  }
}

const pointFor = (d: number) => float32Params(Float64Array.from({ length: d }, (_, j) => 0.1 * (j + 1)), -0.3);

describe('GPU linear gradient vs the hand-derived float64 gradient', () => {
  for (const d of [1, 8, 64]) {
    it(`N = 10^6 + 3, d = ${d}: the quad kernel, relative error of grad J and J <= ${GRADIENT_REL_TOL}`, async () => {
      const data = makeLinearData(1_000_003, d, 42 + d); // not a multiple of any workgroup or block size
      expect((await compare(data, pointFor(d))).kind).toBe('linear-quad');
    });
  }

  it('ragged last quad and tiny N (d = 3, 5, 16; N = 777, 5, 1, 4099)', async () => {
    for (const [n, d, grid] of [[777, 3, 64], [5, 5, 64], [1, 16, 64], [4_099, 16, 256]] as const) {
      const r = await compare(makeLinearData(n, d, 42 + d), pointFor(d), { workgroupSize: grid, groups: 3 });
      expect(r.kind).toBe('linear-quad');
    }
  });

  it('a tiny fixed grid (1 workgroup x 64 over 10^6 rows, 3907 quads a thread) keeps the bound', async () => {
    const one = { workgroupSize: 64, groups: 1 };
    for (const d of [1, 8, 17]) await compare(makeLinearData(1_000_003, d, 42 + d), pointFor(d), one);
    // The same term 10^6 times (x = 1, y = -0.1): every rounding of a plain running sum errs the same way, so
    // a thread summing its 15,625 samples serially misses by ~1e-4 (computed below in float32, as the GPU
    // would); the blocks and compensated folds must stay within GRADIENT_REL_TOL.
    const n = 1_000_000;
    const hard = { n, d: 1, x: new Float32Array(n).fill(1), y: new Float32Array(n).fill(-0.1) };
    const at = float32Params([0.1], -0.3);
    expect(plainSerialRelError(hard, at.w[0], at.b, 64)).toBeGreaterThan(5 * GRADIENT_REL_TOL);
    await compare(hard, at, one);
  });

  it('is bit-identical when rerun on the same data', async () => {
    const data = makeLinearData(300_001, 16, 7);
    const engine = await gpuLinear(await testGpu(), data);
    try {
      const theta = linearTheta({ w: new Float64Array(16).fill(0.25), b: 1 });
      const first = await engine.lossAndGradient(theta);
      engine.fillOutputs(NaN);
      const second = await engine.lossAndGradient(theta);
      expect(engine.kernelKind).toBe('linear-quad');
      expect([second.loss, ...second.grad]).toEqual([first.loss, ...first.grad]);
    } finally {
      engine.dispose();
    }
  });

  it('agrees with central finite differences of J (float64) on every parameter', async () => {
    const data = makeLinearData(4_099, 6, 11);
    const at = { w: [0.5, -1, 0.25, 2, 0, -0.75], b: 0.375 }; // exact in float32
    const engine = await gpuLinear(await testGpu(), data);
    try {
      const got = await engine.lossAndGradient(linearTheta(at));
      const numeric = linearFiniteDifference(data, at);
      // J is quadratic, so central differences are exact up to float64 rounding (~1e-10 here);
      // the bound is the GPU's float32 error.
      const g = relativeError(got.grad, numeric);
      console.info(`finite differences: rel ${g.rel.toExponential(2)}`);
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
