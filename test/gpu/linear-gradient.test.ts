import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { GpuLinearEngine } from '../../src/gpu/gpu-linear-engine.ts';
import { linearGradient } from '../../src/cpu/linear_partials.ts';
import { makeLinearData, relativeError, thetaOf } from '../data-gen.ts';

// float32 arithmetic on float32 data against a float64 reference on the same (float32-rounded) data.
// Each thread sums at most 8 tiles' worth of terms before a tree: error ~ (64 + log2 N) * 6e-8 of the
// sum of |terms|; at a point away from the optimum the gradient is O(that sum), so 1e-5 has headroom.
const GRADIENT_REL_TOL = 1e-5;

describe('GPU linear gradient vs float64 CPU', () => {
  for (const d of [1, 8, 64]) {
    it(`N = 10^6 + 3, d = ${d}: relative error of grad J and J <= ${GRADIENT_REL_TOL}`, async () => {
      const gpu = await testGpu();
      const n = 1_000_003; // not a multiple of any workgroup or tile size
      const data = makeLinearData(n, d, 42 + d);
      const at = { w: Float64Array.from({ length: d }, (_, j) => 0.1 * (j + 1)), b: -0.3 };
      const engine = await GpuLinearEngine.create(gpu, data);
      try {
        const got = await engine.gradient(at);
        const want = linearGradient(data, at);
        const g = relativeError(thetaOf(got.gradW, got.gradB), thetaOf(want.gradW, want.gradB));
        expect(g.rel, g.worst).toBeLessThanOrEqual(GRADIENT_REL_TOL);
        expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThanOrEqual(GRADIENT_REL_TOL);
      } finally {
        engine.dispose();
      }
    });
  }
});
