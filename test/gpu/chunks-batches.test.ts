// The linear model (y ~ linear(x1..xd) with mse on GpuFormulaEngine) over in-memory rows larger than one
// storage binding, which run in chunks (a pretend binding of a few thousand rows, bindingOfRows), and on
// mini-batches, against float64: linearGradient (src/cpu/linear_partials.ts, derived by hand) and least
// squares for the gradient and the optimum, the float64 twin (CpuFormulaEngine) batch by batch.
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { bindingOfRows, cpuLinear, float32Params, gpuLinear } from './linear-formula.ts';
import { linearGradient } from '../../src/cpu/linear_partials.ts';
import { leastSquares } from '../../src/cpu/least-squares.ts';
import { linearTheta, linearTrainOptions, linearTrainResult } from '../../src/models/linear-formula.ts';
import type { EpochInfo, TrainOptions } from '../../src/models/linear.ts';
import { makeLinearData, makeWellConditioned, relativeError, thetaOf } from '../data-gen.ts';

// Chunking changes only which pass sums which samples (each chunk's sums are combined in float64): the same
// float32 error bound as one binding. Measured here 3e-8 to 7e-8 (printed); 1e-6 against float64 is what
// the data issue asked for.
const CHUNKED_REL_TOL = 1e-6;
// float32 gradients within ~1e-6 of float64 carried through a few hundred contractive updates of a
// well-conditioned problem; measured here ~5e-8 (printed).
const TRAJECTORY_REL_TOL = 1e-5;
// The optimum of the float32 data in float64 (as test/gpu/linear-train.test.ts): at |grad J| < 1e-6 the
// parameter error is below 1e-6 / lambda_min(H) = 1.5e-6, ~3e-7 of |theta*|.
const OPTIMUM_REL_TOL = 1e-6;

describe('chunked data on the GPU', () => {
  for (const d of [3, 40]) {
    it(`d = ${d}: 13 chunks of 4000 rows (ragged last one) give the float64 gradient to ${CHUNKED_REL_TOL}, bit-identical on rerun`, async () => {
      const gpu = await testGpu();
      const n = 50_001;
      const data = makeLinearData(n, d, 5 + d);
      const at = float32Params(Float64Array.from({ length: d }, (_, j) => 0.05 * (j - 1)), 0.2);
      const want = linearGradient(data, at);
      const chunked = await gpuLinear(bindingOfRows(gpu, 4_000, d), data);
      const whole = await gpuLinear(gpu, data);
      try {
        expect(Math.ceil(n / 4_000)).toBe(13);
        expect([chunked.kernelKind, whole.kernelKind]).toEqual(['linear-quad', 'linear-quad']);
        chunked.fillOutputs(NaN);
        const a = await chunked.lossAndGradient(linearTheta(at));
        const passes = chunked.streamPasses;
        expect(passes).toBeGreaterThan(0);
        expect(whole.streamPasses).toBe(0); // one binding: no chunks
        const again = await chunked.lossAndGradient(linearTheta(at));
        expect(chunked.streamPasses).toBe(passes + 1); // each evaluation is one pass over the chunks
        const u = await whole.lossAndGradient(linearTheta(at));
        for (const [label, g] of [['chunked', a], ['whole', u]] as const) {
          const e = relativeError(g.grad, thetaOf(want.gradW, want.gradB));
          const loss = Math.abs(g.loss - want.loss) / want.loss;
          console.info(`d = ${d}, ${label}: gradient rel ${e.rel.toExponential(2)}, loss rel ${loss.toExponential(2)}`);
          expect(e.rel, e.worst).toBeLessThanOrEqual(CHUNKED_REL_TOL);
          expect(loss).toBeLessThanOrEqual(CHUNKED_REL_TOL);
        }
        expect([again.loss, ...again.grad]).toEqual([a.loss, ...a.grad]);
      } finally {
        chunked.dispose();
        whole.dispose();
      }
    });
  }

  it('trains across chunks to the least-squares optimum', async () => {
    const data = makeWellConditioned(30_001, 4, 12);
    const engine = await gpuLinear(bindingOfRows(await testGpu(), 4_096, 4), data);
    try {
      const r = linearTrainResult(await engine.train(linearTrainOptions({ lr: 0.5, maxEpochs: 500, tol: 1e-6 }, data.n)));
      const star = leastSquares(data);
      const e = relativeError(thetaOf(r.w, r.b), thetaOf(star.w, star.b));
      console.info(`chunked: ${r.stopReason} after ${r.epochs} epochs, parameters rel ${e.rel.toExponential(2)} from the optimum`);
      expect(engine.streamPasses).toBeGreaterThan(1);
      expect(r.stopReason).toBe('tolerance');
      expect(e.rel, e.worst).toBeLessThanOrEqual(OPTIMUM_REL_TOL);
    } finally {
      engine.dispose();
    }
  });
});

describe('mini-batch SGD on the GPU', () => {
  // Batches of 512 in one binding, and in chunks of 700 rows (the batches cut inside each chunk: 512 + 188).
  for (const chunkRows of [undefined, 700]) {
    it(`matches the float64 twin batch by batch (same seeded order)${chunkRows ? `, in chunks of ${chunkRows} rows,` : ''} and is reproducible`, async () => {
      const gpu = await testGpu();
      const data = makeWellConditioned(10_000, 3, 4);
      const options: TrainOptions = { lr: 0.05, maxEpochs: 6, batchSize: 512, seed: 7, reportEvery: 2 };
      const engine = await gpuLinear(chunkRows ? bindingOfRows(gpu, chunkRows, 3) : gpu, data);
      const twin = cpuLinear(data);
      try {
        const gpuEpochs: EpochInfo[] = [];
        const cpuEpochs: EpochInfo[] = [];
        const g = await engine.train(linearTrainOptions({ ...options, onEpoch: (e) => gpuEpochs.push(e) }, data.n));
        const again = await engine.train(linearTrainOptions(options, data.n));
        const c = await twin.train({ ...linearTrainOptions({ ...options, onEpoch: (e) => cpuEpochs.push(e) }, data.n), chunkRows });
        expect(engine.kernelKind).toBe('linear-quad');
        expect([g.epochs, c.epochs]).toEqual([6, 6]);
        expect(g.updates).toBe(c.updates);
        expect(gpuEpochs.map((e) => e.epoch)).toEqual(cpuEpochs.map((e) => e.epoch));
        const losses = relativeError(gpuEpochs.map((e) => e.loss), cpuEpochs.map((e) => e.loss));
        const params = relativeError(g.theta, c.theta);
        console.info(`batches of 512${chunkRows ? ` in chunks of ${chunkRows}` : ''}: ${g.updates} updates, epoch losses rel ${losses.rel.toExponential(2)}, parameters rel ${params.rel.toExponential(2)}`);
        expect(losses.rel, losses.worst).toBeLessThanOrEqual(TRAJECTORY_REL_TOL);
        expect(params.rel, params.worst).toBeLessThanOrEqual(TRAJECTORY_REL_TOL);
        expect(Array.from(again.theta)).toEqual(Array.from(g.theta));
        // The loss reported at the end is the full-data loss at the returned parameters.
        expect(g.loss).toBe((await engine.lossAndGradient(g.theta)).loss);
        expect(g.loss).toBeLessThan(gpuEpochs[0].loss);
      } finally {
        engine.dispose();
        twin.dispose();
      }
    });
  }

  it('a different seed gives a different batch order and different parameters', async () => {
    const data = makeWellConditioned(4_096, 2, 9);
    const engine = await gpuLinear(await testGpu(), data);
    try {
      const run = (seed: number) => engine.train(linearTrainOptions({ lr: 0.1, maxEpochs: 2, batchSize: 256, seed }, data.n));
      const a = await run(1);
      const b = await run(2);
      const a2 = await run(1);
      expect(Array.from(a2.theta)).toEqual(Array.from(a.theta)); // the seed, not the run, makes the difference
      expect(Array.from(a.theta)).not.toEqual(Array.from(b.theta));
    } finally {
      engine.dispose();
    }
  });
});
