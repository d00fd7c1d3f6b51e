// The linear model y ~ linear(x1..xd) with mse on the float64 twin (CpuFormulaEngine), trained with the
// linear model's rules (linearTrainOptions: plain descent at a constant rate, the tolerance on at full batch).
// The hand-derived gradient (src/cpu/linear_partials.ts) is first checked against a naive implementation and
// finite differences, then used as the independent reference for the twin's generated gradient; training is
// checked against the closed-form optimum, replayed step by step, and stopped for each reason.
import { describe, expect, it } from 'vitest';
import type { EpochInfo, LinearData, LinearParams, TrainOptions } from '../../src/models/linear.ts';
import { linearFormulaModel, linearTrainOptions, linearTrainResult } from '../../src/models/linear-formula.ts';
import { formulaRowSums } from '../../src/models/formula.ts';
import { norm2 } from '../../src/models/model-engine.ts';
import type { RowSums } from '../../src/formula/emit-js.ts';
import { linearGradient, linearLoss } from '../../src/cpu/linear_partials.ts';
import { finiteDifferenceGradient, linearFiniteDifference } from '../../src/cpu/gradient-check.ts';
import { leastSquares } from '../../src/cpu/least-squares.ts';
import { CpuFormulaEngine, formulaGradient } from '../../src/cpu/formula-engine.ts';
import { makeLinearData, makeWellConditioned, mulberry32, relativeError, thetaOf } from '../data-gen.ts';

// Two float64 summations of the same n terms in (nearly) the same order: each differs from the exact
// sum by at most ~n * eps * sum|terms| (n <= 1000 here, eps = 2.2e-16), so 1e-12 * sum|terms| bounds
// the difference with margin while a wrong factor, sign or index is off by O(sum|terms|).
// The twin's generated code also forms each residual w.x + b - y in another association than the
// hand-written loop: (d + 2) * eps * (|w.x| + |b| + |y|) per row, ~1e-14 of a residual here (the points are
// far from the optimum, so residuals are not cancellation), well inside the same bound (measured: at most
// 2e-16 of sum|terms|, at d = 40).
const NAIVE_REL_TOL = 1e-12;

// J is quadratic in theta, so the central difference (J(t+h) - J(t-h)) / 2h equals dJ/dtheta exactly in
// real arithmetic (the third derivative vanishes). What is left is rounding: each float64 J carries an
// error of at most ~n * eps * J, and the difference divides two of them by 2h with h = 1e-5 * max(1, |t|),
// so the worst case is n * eps * J / h = 500 * 2.2e-16 / 1e-5 * J ~ 1.1e-8 * J (typically ~1e-11 * J,
// as summation errors do not all align). 1e-7 * (1 + J) is 10x the worst case and still catches any
// real mistake: a component off by a factor or a sign is off by O(|grad|) ~ 1..100 here.
const FD_ABS_TOL_PER_UNIT_LOSS = 1e-7;

// Gradient descent stops at |grad J| < tol; for a quadratic, |theta - theta*| <= |grad J| / lambda_min.
// makeWellConditioned has lambda_min ~ 2/3 (Hessian ~ diag(2/3, ..., 2)) and |theta*| ~ 4 for d = 3,
// so tol = 1e-11 leaves the parameters ~4e-12 relative from the optimum, under the 1e-9 asked for.
const TRAIN_REL_TOL = 1e-9;
const TRAIN_GRAD_TOL = 1e-11;

/** The definitions, written out with separate passes: predictions, residuals, then each sum. */
function naiveGradient(data: LinearData, at: LinearParams) {
  const { x, y, n, d } = data;
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let p = at.b;
    for (let j = 0; j < d; j++) p += at.w[j] * x[i * d + j];
    r[i] = p - y[i];
  }
  let loss = 0;
  let lossScale = 0;
  for (let i = 0; i < n; i++) {
    loss += (r[i] * r[i]) / n;
    lossScale += Math.abs(r[i] * r[i]) / n;
  }
  const gradW = new Float64Array(d);
  const scaleW = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < n; i++) {
      gradW[j] += (2 / n) * r[i] * x[i * d + j];
      scaleW[j] += (2 / n) * Math.abs(r[i] * x[i * d + j]);
    }
  }
  let gradB = 0;
  let scaleB = 0;
  for (let i = 0; i < n; i++) {
    gradB += (2 / n) * r[i];
    scaleB += (2 / n) * Math.abs(r[i]);
  }
  return { loss, gradW, gradB, lossScale, scaleW, scaleB };
}


function randomParams(d: number, seed: number): LinearParams {
  const rand = mulberry32(seed);
  const w = new Float64Array(d);
  for (let j = 0; j < d; j++) w[j] = (rand() - 0.5) * 6;
  return { w, b: (rand() - 0.5) * 4 };
}

const sumsByWidth = new Map<number, RowSums>();
/** The twin's mean loss and gradient over every row at theta = (w, b), synchronously (the engine's own sums). */
function twinGradient(data: LinearData, theta: ArrayLike<number>): { loss: number; grad: Float64Array } {
  const model = linearFormulaModel(data.d);
  let sums = sumsByWidth.get(data.d);
  if (!sums) sumsByWidth.set(data.d, (sums = formulaRowSums(model)));
  return formulaGradient(sums, model, theta, data, { start: 0, rows: data.n });
}

function twin(data: LinearData): CpuFormulaEngine {
  return new CpuFormulaEngine(linearFormulaModel(data.d), data, new Float64Array(data.d + 1));
}

/** A run of the one loop on the twin with the linear model's options, reported as (w, b). */
async function train(data: LinearData, o: Omit<TrainOptions, 'init'> & { init?: LinearParams }) {
  return linearTrainResult(await twin(data).train(linearTrainOptions(o, data.n)));
}

/** Plain gradient descent replayed in the test on the twin's own gradient: theta after k updates from init. */
function replay(data: LinearData, lr: number, k: number, init: LinearParams): Float64Array {
  const theta = thetaOf(init.w, init.b);
  for (let s = 0; s < k; s++) {
    const g = twinGradient(data, theta);
    for (let j = 0; j < theta.length; j++) theta[j] -= lr * g.grad[j];
  }
  return theta;
}

const thetaOfResult = (r: { w: ArrayLike<number>; b: number }) => Array.from(thetaOf(r.w, r.b));

function recordEpochs(): { calls: EpochInfo[]; onEpoch: (i: EpochInfo) => void } {
  const calls: EpochInfo[] = [];
  return { calls, onEpoch: (i) => calls.push({ ...i }) };
}

describe('linearGradient (the hand-derived reference)', () => {
  for (const d of [1, 5]) {
    it(`matches a naive float64 implementation for d = ${d}${d === 1 ? ' (fast path)' : ''}`, () => {
      const data = makeLinearData(1000, d, 11 + d);
      for (const seed of [1, 2, 3]) {
        const at = randomParams(d, seed);
        const got = linearGradient(data, at);
        const want = naiveGradient(data, at);
        expect(got.gradW).toBeInstanceOf(Float64Array);
        expect(got.gradW.length).toBe(d);
        expect(Math.abs(got.loss - want.loss)).toBeLessThanOrEqual(NAIVE_REL_TOL * want.lossScale);
        for (let j = 0; j < d; j++) {
          expect(Math.abs(got.gradW[j] - want.gradW[j]), `dJ/dw[${j}]`).toBeLessThanOrEqual(NAIVE_REL_TOL * want.scaleW[j]);
        }
        expect(Math.abs(got.gradB - want.gradB)).toBeLessThanOrEqual(NAIVE_REL_TOL * want.scaleB);
        // Guard against a vacuous comparison: the point is far from the optimum.
        expect(want.loss).toBeGreaterThan(0.1);
      }
    });
  }

  it('is exactly zero in the gradient and loss at a perfect fit', () => {
    // y = 2 x0 - 3 x1 + 1 with small integers: every residual is exactly 0 in float64.
    const x = new Float32Array([1, 2, 2, 1, 3, 5, 4, 3]);
    const y = new Float32Array([-3, 2, -8, 0]);
    const g = linearGradient({ x, y, n: 4, d: 2 }, { w: [2, -3], b: 1 });
    expect(g.loss).toBe(0);
    expect(Array.from(g.gradW)).toEqual([0, 0]);
    expect(g.gradB).toBe(0);
  });

  for (const d of [1, 5]) {
    it(`matches central finite differences in every parameter for d = ${d}`, () => {
      const data = makeLinearData(500, d, 21 + d);
      const at = randomParams(d, 7 + d);
      const g = linearGradient(data, at);
      const numeric = linearFiniteDifference(data, at);
      expect(numeric.length).toBe(d + 1);
      const analytic = thetaOf(g.gradW, g.gradB);
      const tol = FD_ABS_TOL_PER_UNIT_LOSS * (1 + g.loss);
      for (let k = 0; k <= d; k++) {
        expect(Math.abs(numeric[k] - analytic[k]), `parameter ${k} (${k === d ? 'bias' : `w[${k}]`})`).toBeLessThanOrEqual(tol);
      }
      // The loss the finite differences use is the same J.
      expect(linearLoss(data, at)).toBeCloseTo(g.loss, 12);
    });
  }
});

describe('y ~ linear(...) on the float64 twin: loss and gradient', () => {
  for (const d of [1, 5, 40]) {
    it(`equals the hand-derived gradient for d = ${d}`, async () => {
      const data = makeLinearData(1000, d, 31 + d);
      const engine = twin(data);
      for (const seed of [1, 2]) {
        const at = randomParams(d, seed);
        const got = await engine.lossAndGradient(thetaOf(at.w, at.b));
        const want = linearGradient(data, at);
        const scale = naiveGradient(data, at);
        expect(got.grad.length).toBe(d + 1);
        expect(Math.abs(got.loss - want.loss)).toBeLessThanOrEqual(NAIVE_REL_TOL * scale.lossScale);
        for (let j = 0; j < d; j++) {
          expect(Math.abs(got.grad[j] - want.gradW[j]), `dJ/dw[${j}]`).toBeLessThanOrEqual(NAIVE_REL_TOL * scale.scaleW[j]);
        }
        expect(Math.abs(got.grad[d] - want.gradB)).toBeLessThanOrEqual(NAIVE_REL_TOL * scale.scaleB);
        expect(want.loss).toBeGreaterThan(0.1);
      }
    });
  }

  it('matches central finite differences of its own loss in every parameter', () => {
    const d = 3;
    const data = makeLinearData(500, d, 24);
    const at = randomParams(d, 10);
    const g = twinGradient(data, thetaOf(at.w, at.b));
    const numeric = finiteDifferenceGradient((t) => twinGradient(data, t).loss, thetaOf(at.w, at.b));
    const tol = FD_ABS_TOL_PER_UNIT_LOSS * (1 + g.loss);
    for (let k = 0; k <= d; k++) expect(Math.abs(numeric[k] - g.grad[k]), `parameter ${k}`).toBeLessThanOrEqual(tol);
  });

  it('is exactly zero in the gradient and loss at a perfect fit', async () => {
    const x = new Float32Array([1, 2, 2, 1, 3, 5, 4, 3]);
    const y = new Float32Array([-3, 2, -8, 0]);
    const g = await twin({ x, y, n: 4, d: 2 }).lossAndGradient([2, -3, 1]);
    expect(g.loss).toBe(0);
    expect(Array.from(g.grad)).toEqual([0, 0, 0]);
  });
});

describe('training y ~ linear(...) on the float64 twin with the linear model\'s rules', () => {
  it('reaches the least-squares optimum to 1e-9 relative on well-conditioned data', async () => {
    const data = makeWellConditioned(2000, 3);
    const opt = leastSquares(data);
    const r = await train(data, { lr: 0.5, maxEpochs: 100_000, tol: TRAIN_GRAD_TOL });
    expect(r.stopReason).toBe('tolerance');
    const { rel, worst } = relativeError(thetaOf(r.w, r.b), thetaOf(opt.w, opt.b));
    expect(rel, worst).toBeLessThan(TRAIN_REL_TOL);
    expect(r.gradNorm).toBeLessThan(TRAIN_GRAD_TOL);
  });

  const small = makeWellConditioned(200, 3, 5);
  const init: LinearParams = { w: [0.5, 0.25, -1], b: 2 };

  it("'tolerance': epochs is the number of updates applied; no update after the converged evaluation", async () => {
    const lr = 0.3;
    const tol = 1e-4;
    const { calls, onEpoch } = recordEpochs();
    const r = await train(small, { lr, maxEpochs: 10_000, tol, init, onEpoch });
    expect(r.stopReason).toBe('tolerance');
    expect(r.epochs).toBeGreaterThan(5);
    expect(calls.map((c) => c.epoch)).toEqual(Array.from({ length: r.epochs + 1 }, (_, k) => k));
    expect(calls.at(-1)!.gradNorm).toBeLessThan(tol);
    expect(calls.slice(0, -1).every((c) => c.gradNorm >= tol)).toBe(true);
    expect(thetaOfResult(r)).toEqual(Array.from(replay(small, lr, r.epochs, init)));
    expect(r.loss).toBe(twinGradient(small, thetaOf(r.w, r.b)).loss);
    expect(r.loss).toBe(calls.at(-1)!.loss);
    expect(r.divergedAtEpoch).toBeUndefined();
  });

  it('the default tolerance applies at full batch only', async () => {
    const full = await train(small, { lr: 0.3, maxEpochs: 10_000, init });
    expect([full.stopReason, full.gradNorm < 1e-6]).toEqual(['tolerance', true]);
    const batches = await train(small, { lr: 0.01, maxEpochs: 3, batchSize: 50, seed: 1, init });
    expect(batches.stopReason).toBe('max-epochs');
  });

  it("'max-epochs' with maxEpochs = 0 returns the initial parameters after one evaluation", async () => {
    const { calls, onEpoch } = recordEpochs();
    const r = await train(small, { lr: 0.1, maxEpochs: 0, init, onEpoch });
    expect(r.stopReason).toBe('max-epochs');
    expect(r.epochs).toBe(0);
    expect(thetaOfResult(r)).toEqual(thetaOfResult(init));
    expect(calls.map((c) => c.epoch)).toEqual([0]);
    expect(r.loss).toBe(twinGradient(small, thetaOf(init.w, init.b)).loss);
  });

  it("'max-epochs' with maxEpochs = 7: 7 plain descent updates, onEpoch called for epochs 0..7", async () => {
    const lr = 0.1;
    const { calls, onEpoch } = recordEpochs();
    const r = await train(small, { lr, maxEpochs: 7, init, onEpoch });
    expect(r.stopReason).toBe('max-epochs');
    expect(r.epochs).toBe(7);
    expect(calls.map((c) => c.epoch)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const want = replay(small, lr, 7, init);
    expect(thetaOfResult(r)).toEqual(Array.from(want));
    const g = twinGradient(small, want);
    expect(r.loss).toBe(g.loss);
    expect(calls[7].loss).toBe(g.loss);
    // Loss decreasing is what a working step looks like at a stable lr.
    for (let k = 1; k < calls.length; k++) expect(calls[k].loss).toBeLessThan(calls[k - 1].loss);
  });

  it("'diverged' with lr = 50: keeps the last good parameters, divergedAtEpoch = epochs + 1", async () => {
    const lr = 50;
    const { calls, onEpoch } = recordEpochs();
    const r = await train(small, { lr, maxEpochs: 1000, init, onEpoch });
    expect(r.stopReason).toBe('diverged');
    expect(r.divergedAtEpoch).toBe(r.epochs + 1);
    expect(calls.map((c) => c.epoch)).toEqual(Array.from({ length: r.epochs + 1 }, (_, k) => k));
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(r.loss).toBe(calls.at(-1)!.loss);
    expect(thetaOfResult(r)).toEqual(Array.from(replay(small, lr, r.epochs, init)));
    expect(twinGradient(small, thetaOf(r.w, r.b)).loss).toBe(r.loss);
    // The failed evaluation really was an explosion relative to the best loss seen.
    const failed = twinGradient(small, replay(small, lr, r.epochs + 1, init)).loss;
    const best = Math.min(...calls.map((c) => c.loss));
    expect(!Number.isFinite(failed) || failed > 1e6 * best).toBe(true);
  });

  it("'aborted' from inside onEpoch at epoch 5: that update was applied, so epochs = 6", async () => {
    const lr = 0.05;
    const controller = new AbortController();
    const { calls, onEpoch } = recordEpochs();
    const r = await train(small, {
      lr, maxEpochs: 1000, tol: 0, init, signal: controller.signal,
      onEpoch: (i) => {
        onEpoch(i);
        if (i.epoch === 5) controller.abort();
      },
    });
    expect(r.stopReason).toBe('aborted');
    expect(calls.map((c) => c.epoch)).toEqual([0, 1, 2, 3, 4, 5]);
    // The update after evaluation 5 ran before the loop looked at the signal, so theta is theta_6.
    expect(r.epochs).toBe(6);
    expect(thetaOfResult(r)).toEqual(Array.from(replay(small, lr, 6, init)));
    const g = twinGradient(small, thetaOf(r.w, r.b));
    expect(r.loss).toBe(g.loss);
    expect(r.gradNorm).toBe(norm2(g.grad));
    expect(r.loss).toBeLessThan(calls[5].loss);
  });

  it("'aborted' before the first evaluation returns the initial parameters and their loss", async () => {
    const controller = new AbortController();
    controller.abort();
    const r = await train(small, { lr: 0.1, maxEpochs: 10, init, signal: controller.signal });
    expect(r.stopReason).toBe('aborted');
    expect(r.epochs).toBe(0);
    expect(thetaOfResult(r)).toEqual(thetaOfResult(init));
    expect(r.loss).toBe(twinGradient(small, thetaOf(init.w, init.b)).loss);
  });

  it('mini-batches: the same seed gives the same bits, another seed other batches', async () => {
    const o = { lr: 0.05, maxEpochs: 4, batchSize: 64, init };
    const [a, b, c] = [await train(small, { ...o, seed: 3 }), await train(small, { ...o, seed: 3 }), await train(small, { ...o, seed: 4 })];
    expect(a.epochs).toBe(4);
    expect(thetaOfResult(b)).toEqual(thetaOfResult(a));
    expect(relativeError(thetaOfResult(c), thetaOfResult(a)).rel).toBeGreaterThan(1e-9);
  });

  it('a starting point of the wrong width or with a value that is not finite is refused, naming it', async () => {
    await expect(train(small, { lr: 0.1, maxEpochs: 10, init: { w: [1, 2], b: 0 } })).rejects.toThrow(/parameters: expected 4 values/);
    expect(() => linearTrainOptions({ lr: 0.1, maxEpochs: 10, init: { w: [1, NaN, 0], b: 0 } }, small.n)).toThrow(/weights: value 2 is not a finite number/);
  });
});
