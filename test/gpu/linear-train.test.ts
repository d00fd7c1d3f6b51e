// Gradient descent on the linear model as it is trained (y ~ linear(x1..xd) with mse on GpuFormulaEngine,
// the linear model's options: plain sgd at a constant rate, linearTrainOptions) against the closed-form
// least-squares optimum and the float64 twin (CpuFormulaEngine) step by step.
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { cpuLinear, gpuLinear } from './linear-formula.ts';
import { leastSquares } from '../../src/cpu/least-squares.ts';
import { linearTheta, linearTrainOptions, linearTrainResult } from '../../src/models/linear-formula.ts';
import type { EpochInfo } from '../../src/models/linear.ts';
import { makeWellConditioned, relativeError, thetaOf } from '../data-gen.ts';

// The optimum of the float32 data in float64; the GPU iterates in float32, whose parameter rounding
// (6e-8 relative) and gradient noise floor (~4e-7 measured on the linear engine's kernel) sit under the 1e-6
// asked for: at |grad J| < 1e-6 the parameter error is below 1e-6 / lambda_min(H) = 1.5e-6, ~3e-7 of |theta*|.
const OPTIMUM_REL_TOL = 1e-6;
// float32 gradients within ~1e-6 of float64 (test/gpu/linear-gradient.test.ts) through 20 contractive steps.
const TRAJECTORY_REL_TOL = 1e-5;

describe('GPU gradient descent on the linear model', () => {
  it('reaches the closed-form least-squares optimum to 1e-6 relative', async () => {
    const data = makeWellConditioned(50_003, 4);
    const star = leastSquares(data);
    const engine = await gpuLinear(await testGpu(), data);
    try {
      const epochs: EpochInfo[] = [];
      const r = linearTrainResult(await engine.train(linearTrainOptions({ lr: 0.5, maxEpochs: 2000, tol: 1e-6, onEpoch: (e) => epochs.push(e), reportEvery: 16 }, data.n)));
      const err = relativeError(thetaOf(r.w, r.b), thetaOf(star.w, star.b));
      console.info(`stopped: ${r.stopReason} after ${r.epochs} epochs, |grad J| = ${r.gradNorm}, parameters rel ${err.rel.toExponential(2)} from the optimum`);
      expect(engine.kernelKind).toBe('linear-quad');
      expect(r.stopReason).toBe('tolerance');
      expect(err.rel, err.worst).toBeLessThanOrEqual(OPTIMUM_REL_TOL);
      // The callback saw every evaluation, in order, with a falling loss.
      expect(epochs.map((e) => e.epoch)).toEqual(epochs.map((_, i) => i));
      expect(epochs.at(-1)!.loss).toBeLessThan(epochs[0].loss / 100);
      expect(r.loss).toBe(epochs.at(-1)!.loss);
    } finally {
      engine.dispose();
    }
  });

  it('follows the float64 twin step by step and stops at the same epoch on max-epochs', async () => {
    const data = makeWellConditioned(10_007, 3, 5);
    const engine = await gpuLinear(await testGpu(), data);
    const twin = cpuLinear(data);
    try {
      const gpuEpochs: EpochInfo[] = [];
      const cpuEpochs: EpochInfo[] = [];
      const o = { lr: 0.2, maxEpochs: 20, tol: 0 };
      const g = await engine.train(linearTrainOptions({ ...o, onEpoch: (e) => gpuEpochs.push(e), reportEvery: 7 }, data.n));
      const c = await twin.train(linearTrainOptions({ ...o, onEpoch: (e) => cpuEpochs.push(e) }, data.n));
      expect([g.stopReason, c.stopReason]).toEqual(['max-epochs', 'max-epochs']);
      expect([g.epochs, c.epochs]).toEqual([20, 20]);
      expect(gpuEpochs.map((e) => e.epoch)).toEqual(cpuEpochs.map((e) => e.epoch));
      const losses = relativeError(gpuEpochs.map((e) => e.loss), cpuEpochs.map((e) => e.loss));
      const params = relativeError(g.theta, c.theta);
      console.info(`20 full-batch steps: epoch losses rel ${losses.rel.toExponential(2)}, parameters rel ${params.rel.toExponential(2)}`);
      expect(losses.rel, losses.worst).toBeLessThanOrEqual(TRAJECTORY_REL_TOL);
      expect(params.rel, params.worst).toBeLessThanOrEqual(TRAJECTORY_REL_TOL);
    } finally {
      engine.dispose();
      twin.dispose();
    }
  });

  it('chaining steps per submit changes nothing: reportEvery 10 (the last evaluation rides with the steps before it) and 7 give the same history and bits', async () => {
    const data = makeWellConditioned(3_001, 3, 17);
    const engine = await gpuLinear(await testGpu(), data);
    try {
      const run = async (reportEvery: number) => {
        const epochs: number[] = [];
        const r = await engine.train(linearTrainOptions({ lr: 0.1, maxEpochs: 20, tol: 0, reportEvery, onEpoch: (e) => epochs.push(e.epoch, e.loss, e.gradNorm) }, data.n));
        return { theta: Array.from(r.theta), loss: r.loss, epochs: r.epochs, stopReason: r.stopReason, history: epochs };
      };
      // 21 evaluations: 10 + 11 (the last rides along) against 7 + 7 + 7 read-backs.
      const merged = await run(10);
      const plain = await run(7);
      expect(merged.stopReason).toBe('max-epochs');
      expect(merged.epochs).toBe(20);
      expect(merged.history.length).toBe(3 * 21);
      expect(merged).toEqual(plain);
    } finally {
      engine.dispose();
    }
  });

  it('stops on divergence at the epoch the twin does and keeps the last parameters with a good loss', async () => {
    const data = makeWellConditioned(4_001, 2, 9);
    const engine = await gpuLinear(await testGpu(), data);
    const twin = cpuLinear(data);
    try {
      const seen: EpochInfo[] = [];
      // lr 1.2 > 2 / lambda_max(H) = 1: the bias's error grows 1.4-fold a step, the loss passes 10^6 x its
      // best after some twenty epochs.
      const o = { lr: 1.2, maxEpochs: 10_000 };
      // The default chains of 32 updates: the GPU keeps each chain's start, and the loop runs the updates from
      // there to the last good parameters again, so the GPU stops where the twin (one update a chain) does.
      const r = linearTrainResult(await engine.train(linearTrainOptions({ ...o, onEpoch: (e) => seen.push(e) }, data.n)));
      expect(r.stopReason).toBe('diverged');
      // The parameters kept are those of an evaluation before the divergence, with the loss reported for it.
      expect(r.epochs).toBeLessThan(r.divergedAtEpoch!);
      expect(Number.isFinite(r.loss)).toBe(true);
      expect(r.loss).toBe(seen.find((e) => e.epoch === r.epochs)!.loss);
      const check = await engine.lossAndGradient(linearTheta(r));
      expect(check.loss).toBe(r.loss); // the same kernel at the same parameters
      const cpu = await twin.train(linearTrainOptions(o, data.n));
      console.info(`lr 1.2: diverged at epoch ${r.divergedAtEpoch} on the GPU (kept epoch ${r.epochs}), ${cpu.divergedAtEpoch} on the twin (kept ${cpu.epochs})`);
      expect(cpu.stopReason).toBe('diverged');
      expect(r.divergedAtEpoch).toBe(cpu.divergedAtEpoch);
      expect(r.epochs).toBe(cpu.epochs);
      expect(r.epochs).toBe(r.divergedAtEpoch! - 1);
    } finally {
      engine.dispose();
      twin.dispose();
    }
  });
});
