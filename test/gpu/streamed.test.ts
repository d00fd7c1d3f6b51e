// The linear model (y ~ linear(x1..xd) with mse) over a stream on the GPU (GpuFormulaEngine.createStreamed)
// against the same rows in memory in chunks of the same size (GpuFormulaEngine.create over a binding of that
// many rows): the same kernel on the same chunks in the same order, so the same bits, gradient and training.
// The stream hands out fresh copies, as a file reader does: the engine must not keep references.
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { bindingOfRows, gpuLinear, zeroTheta } from './linear-formula.ts';
import { GpuFormulaEngine } from '../../src/gpu/formula/gpu-formula-engine.ts';
import { linearFormulaModel, linearTheta, linearTrainOptions } from '../../src/models/linear-formula.ts';
import type { LinearData } from '../../src/models/linear.ts';
import type { RowStream } from '../../src/models/row-stream.ts';
import { leastSquares } from '../../src/cpu/least-squares.ts';
import { makeLinearData, makeWellConditioned, relativeError, thetaOf } from '../data-gen.ts';

/** A stream over an in-memory dataset that counts the passes and chunks it hands out. */
function countingStream(data: LinearData, chunkRows: number) {
  const counts = { passes: 0, chunks: 0 };
  const stream: RowStream = {
    n: data.n, d: data.d, chunkRows,
    async *pass() {
      counts.passes++;
      for (let start = 0; start < data.n; start += chunkRows) {
        const rows = Math.min(chunkRows, data.n - start);
        counts.chunks++;
        yield { x: data.x.slice(start * data.d, (start + rows) * data.d), y: data.y.slice(start, start + rows), rows };
      }
    },
  };
  return { stream, counts };
}

describe('streamed data on the GPU', () => {
  it('gradient and training over a stream equal the in-memory engine with the same chunks, bit for bit', async () => {
    const gpu = await testGpu();
    const data = makeLinearData(10_001, 5, 3);
    const chunkRows = 1_024; // 10 chunks, the last of 785 rows: a partial quad
    const { stream, counts } = countingStream(data, chunkRows);
    const streamed = await GpuFormulaEngine.createStreamed(gpu, linearFormulaModel(5), stream, zeroTheta(5), { tuning: false });
    const resident = await gpuLinear(bindingOfRows(gpu, chunkRows, 5), data);
    try {
      expect([streamed.kernelKind, resident.kernelKind]).toEqual(['linear-quad', 'linear-quad']);
      const theta = linearTheta({ w: [0.1, -0.2, 0.3, 0.05, 0], b: 0.5 });
      const a = await streamed.lossAndGradient(theta);
      const b = await resident.lossAndGradient(theta);
      expect([a.loss, ...a.grad]).toEqual([b.loss, ...b.grad]);
      const before = { ...counts };
      const again = await streamed.lossAndGradient(theta);
      expect([again.loss, ...again.grad]).toEqual([a.loss, ...a.grad]);
      // A full evaluation is one pass over the stream, every chunk once.
      expect([counts.passes - before.passes, counts.chunks - before.chunks]).toEqual([1, 10]);

      for (const batchSize of [undefined, 1_000]) {
        const o = linearTrainOptions({ lr: 0.01, maxEpochs: 12, batchSize, seed: 4, ...(batchSize ? {} : { tol: 0 }) }, data.n);
        const passes = counts.passes;
        const ts = await streamed.train(o);
        const tr = await resident.train(o);
        console.info(`batch ${batchSize ?? 'full'}: ${ts.updates} updates, ${counts.passes - passes} passes over the stream`);
        expect(Array.from(ts.theta)).toEqual(Array.from(tr.theta));
        expect([ts.loss, ts.gradNorm, ts.epochs]).toEqual([tr.loss, tr.gradNorm, tr.epochs]);
        expect(ts.epochs).toBe(12);
        // One pass per epoch and one for the final look; reading ahead must not start more.
        expect(counts.passes - passes).toBe(12 + 1);
      }
    } finally {
      streamed.dispose();
      resident.dispose();
    }
  });

  it('a validation error inside a streamed evaluation surfaces, naming the engine', async () => {
    const data = makeLinearData(4_000, 3, 2);
    const engine = await GpuFormulaEngine.createStreamed(await testGpu(), linearFormulaModel(3), countingStream(data, 1_000).stream, zeroTheta(3), { tuning: false });
    try {
      // A destroyed chunk buffer makes every submit that reads it invalid: the evaluation's scope reports it.
      (engine as unknown as { buffers: { x: GPUBuffer } }).buffers.x.destroy();
      await expect(engine.lossAndGradient([0, 0, 0, 0])).rejects.toThrow(/nabla\.formula/);
    } finally {
      engine.dispose();
    }
  });

  it('converges over a stream to the least-squares optimum', async () => {
    const data = makeWellConditioned(6_000, 3, 5);
    const { stream } = countingStream(data, 2_000);
    const engine = await GpuFormulaEngine.createStreamed(await testGpu(), linearFormulaModel(3), stream, zeroTheta(3), { tuning: false });
    try {
      const r = await engine.train(linearTrainOptions({ lr: 0.5, maxEpochs: 200, tol: 1e-6 }, data.n));
      const star = leastSquares(data);
      const e = relativeError(r.theta, thetaOf(star.w, star.b));
      console.info(`streamed: ${r.stopReason} after ${r.updates} updates, parameters rel ${e.rel.toExponential(2)} from the optimum`);
      expect(r.stopReason).toBe('tolerance');
      // As test/gpu/linear-train.test.ts: at |grad J| < 1e-6 within 1e-6 / lambda_min(H) = 1.5e-6 (~3e-7 relative).
      expect(e.rel, e.worst).toBeLessThanOrEqual(1e-6);
    } finally {
      engine.dispose();
    }
  });
});
