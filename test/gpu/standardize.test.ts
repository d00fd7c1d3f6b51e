import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { GpuLinearEngine, type ChunkStream } from '../../src/gpu/gpu-linear-engine.ts';
import { linearGradient } from '../../src/cpu/linear_partials.ts';
import { fitStandardizer, standardizeData } from '../../src/models/standardize.ts';
import { makeLinearData, relativeError, thetaOf } from '../data-gen.ts';

// The GPU standardizes in float32 ((x - mean) * (1 / std)), the reference in float64 then rounds: a few
// float32 ulps per value, far inside the gradient tolerance of the unstandardized kernels.
const REL_TOL = 1e-5;

describe('standardization on the GPU', () => {
  it('resident chunks: the gradient equals the float64 gradient on host-standardized data', async () => {
    const gpu = await testGpu();
    const data = makeLinearData(20_003, 6, 13);
    const stats = fitStandardizer(data);
    const engine = await GpuLinearEngine.create(gpu, data, { standardize: stats, chunkBytes: 6 * 4 * 4_000 });
    try {
      const at = { w: [0.3, -0.1, 0.2, 0, 0.5, -0.4], b: 0.1 };
      const got = await engine.gradient(at);
      const want = linearGradient(standardizeData(data, stats), at);
      const e = relativeError(thetaOf(got.gradW, got.gradB), thetaOf(want.gradW, want.gradB));
      expect(e.rel, e.worst).toBeLessThanOrEqual(REL_TOL);
      expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThanOrEqual(REL_TOL);
    } finally {
      engine.dispose();
    }
  });

  it('streamed chunks are standardized after each upload: bit-identical to resident standardized data', async () => {
    const gpu = await testGpu();
    const data = makeLinearData(9_001, 3, 14);
    const stats = fitStandardizer(data);
    const chunkRows = 2_000;
    const stream: ChunkStream = {
      n: data.n, d: 3, chunkRows,
      async *read() {
        for (let s = 0; s < data.n; s += chunkRows) {
          const rows = Math.min(chunkRows, data.n - s);
          yield { x: data.x.slice(s * 3, (s + rows) * 3), y: data.y.slice(s, s + rows), rows };
        }
      },
    };
    const resident = await GpuLinearEngine.create(gpu, data, { standardize: stats, chunkBytes: chunkRows * 3 * 4 });
    // The resident engine's (tuned) grid, so that both sum in the same order.
    const streamed = await GpuLinearEngine.createStreamed(gpu, stream, { standardize: stats, kernel: resident.kernel.config });
    try {
      const at = { w: [1, -1, 0.5], b: 0 };
      const a = await streamed.gradient(at);
      const b = await resident.gradient(at);
      expect(Array.from(a.gradW)).toEqual(Array.from(b.gradW));
      expect([a.gradB, a.loss]).toEqual([b.gradB, b.loss]);
      // Every evaluation standardizes fresh raw chunks: a second pass gives the same result.
      const again = await streamed.gradient(at);
      expect(again.loss).toBe(a.loss);
    } finally {
      streamed.dispose();
      resident.dispose();
    }
  });
});
