// The float64 CPU twin: the gradient against an independent implementation and against finite
// differences, training against the closed-form optimum, the stop reasons and the update rule.
import { describe, expect, it } from 'vitest';
import { gradientNorm, type EpochInfo, type LinearData, type LinearParams, type TrainOptions } from '../../src/models/linear.ts';
import { linearGradient, linearLoss } from '../../src/cpu/linear_partials.ts';
import { linearFiniteDifference } from '../../src/cpu/gradient-check.ts';
import { leastSquares } from '../../src/cpu/least-squares.ts';
import { CpuLinearEngine } from '../../src/cpu/cpu-linear-engine.ts';
import {
  applyUpdate, STATUS_CONVERGED, STATUS_DIVERGED, STATUS_MAX_EPOCHS, STATUS_RUNNING,
  type TrainState, type UpdateRule,
} from '../../src/cpu/apply_update.ts';
import { makeLinearData, makeWellConditioned, mulberry32, relativeError, thetaOf } from '../data-gen.ts';

// Two float64 summations of the same n terms in (nearly) the same order: each differs from the exact
// sum by at most ~n * eps * sum|terms| (n <= 1000 here, eps = 2.2e-16), so 1e-12 * sum|terms| bounds
// the difference with margin while a wrong factor, sign or index is off by O(sum|terms|).
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

/** Plain gradient descent replayed in the test: theta after k updates from init. */
function replay(data: LinearData, lr: number, k: number, init: LinearParams): { w: Float64Array; b: number } {
  const w = Float64Array.from(init.w);
  let b = init.b;
  for (let s = 0; s < k; s++) {
    const g = linearGradient(data, { w, b });
    for (let j = 0; j < w.length; j++) w[j] -= lr * g.gradW[j];
    b -= lr * g.gradB;
  }
  return { w, b };
}

function recordEpochs(): { calls: EpochInfo[]; onEpoch: (i: EpochInfo) => void } {
  const calls: EpochInfo[] = [];
  return { calls, onEpoch: (i) => calls.push({ ...i }) };
}

describe('linearGradient', () => {
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

describe('CpuLinearEngine.train', () => {
  it('reaches the least-squares optimum to 1e-9 relative on well-conditioned data', async () => {
    const data = makeWellConditioned(2000, 3);
    const opt = leastSquares(data);
    const engine = new CpuLinearEngine(data);
    const r = await engine.train({ lr: 0.5, maxEpochs: 100_000, tol: TRAIN_GRAD_TOL });
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
    const r = await new CpuLinearEngine(small).train({ lr, maxEpochs: 10_000, tol, init, onEpoch });
    expect(r.stopReason).toBe('tolerance');
    expect(r.epochs).toBeGreaterThan(5);
    expect(calls.map((c) => c.epoch)).toEqual(Array.from({ length: r.epochs + 1 }, (_, k) => k));
    expect(calls.at(-1)!.gradNorm).toBeLessThan(tol);
    expect(calls.slice(0, -1).every((c) => c.gradNorm >= tol)).toBe(true);
    const want = replay(small, lr, r.epochs, init);
    expect(Array.from(r.w)).toEqual(Array.from(want.w));
    expect(r.b).toBe(want.b);
    const g = linearGradient(small, r);
    expect(r.loss).toBe(g.loss);
    expect(r.loss).toBe(calls.at(-1)!.loss);
    expect(r.divergedAtEpoch).toBeUndefined();
  });

  it("'max-epochs' with maxEpochs = 0 returns the initial parameters after one evaluation", async () => {
    const { calls, onEpoch } = recordEpochs();
    const r = await new CpuLinearEngine(small).train({ lr: 0.1, maxEpochs: 0, init, onEpoch });
    expect(r.stopReason).toBe('max-epochs');
    expect(r.epochs).toBe(0);
    expect(Array.from(r.w)).toEqual(Array.from(init.w));
    expect(r.b).toBe(init.b);
    expect(calls.map((c) => c.epoch)).toEqual([0]);
    expect(r.loss).toBe(linearLoss(small, init));
  });

  it("'max-epochs' with maxEpochs = 7: 7 updates, onEpoch called for epochs 0..7", async () => {
    const lr = 0.1;
    const { calls, onEpoch } = recordEpochs();
    const r = await new CpuLinearEngine(small).train({ lr, maxEpochs: 7, init, onEpoch });
    expect(r.stopReason).toBe('max-epochs');
    expect(r.epochs).toBe(7);
    expect(calls.map((c) => c.epoch)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const want = replay(small, lr, 7, init);
    expect(Array.from(r.w)).toEqual(Array.from(want.w));
    expect(r.b).toBe(want.b);
    const g = linearGradient(small, want);
    expect(r.loss).toBe(g.loss);
    expect(calls[7].loss).toBe(g.loss);
    // Loss decreasing is what a working step looks like at a stable lr.
    for (let k = 1; k < calls.length; k++) expect(calls[k].loss).toBeLessThan(calls[k - 1].loss);
  });

  it("'diverged' with lr = 50: keeps the last good parameters, divergedAtEpoch = epochs + 1", async () => {
    const lr = 50;
    const { calls, onEpoch } = recordEpochs();
    const r = await new CpuLinearEngine(small).train({ lr, maxEpochs: 1000, init, onEpoch });
    expect(r.stopReason).toBe('diverged');
    expect(r.divergedAtEpoch).toBe(r.epochs + 1);
    expect(calls.map((c) => c.epoch)).toEqual(Array.from({ length: r.epochs + 1 }, (_, k) => k));
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(r.loss).toBe(calls.at(-1)!.loss);
    const want = replay(small, lr, r.epochs, init);
    expect(Array.from(r.w)).toEqual(Array.from(want.w));
    expect(r.b).toBe(want.b);
    expect(linearLoss(small, r)).toBe(r.loss);
    // The failed evaluation really was an explosion relative to the best loss seen.
    const next = replay(small, lr, r.epochs + 1, init);
    const best = Math.min(...calls.map((c) => c.loss));
    const failed = linearLoss(small, next);
    expect(!Number.isFinite(failed) || failed > 1e6 * best).toBe(true);
  });

  it("'aborted' from inside onEpoch at epoch 5: that update was applied, so epochs = 6", async () => {
    const lr = 0.05;
    const controller = new AbortController();
    const { calls, onEpoch } = recordEpochs();
    const r = await new CpuLinearEngine(small).train({
      lr, maxEpochs: 1000, tol: 0, init, signal: controller.signal,
      onEpoch: (i) => {
        onEpoch(i);
        if (i.epoch === 5) controller.abort();
      },
    });
    expect(r.stopReason).toBe('aborted');
    expect(calls.map((c) => c.epoch)).toEqual([0, 1, 2, 3, 4, 5]);
    // applyUpdate ran before onEpoch(5), so six updates were applied and theta is theta_6.
    expect(r.epochs).toBe(6);
    const want = replay(small, lr, 6, init);
    expect(Array.from(r.w)).toEqual(Array.from(want.w));
    expect(r.b).toBe(want.b);
    const g = linearGradient(small, r);
    expect(r.loss).toBe(g.loss);
    expect(r.gradNorm).toBe(gradientNorm(g));
    expect(r.loss).toBeLessThan(calls[5].loss);
  });

  it("'aborted' before the first evaluation returns the initial parameters and their loss", async () => {
    const controller = new AbortController();
    controller.abort();
    const r = await new CpuLinearEngine(small).train({ lr: 0.1, maxEpochs: 10, init, signal: controller.signal });
    expect(r.stopReason).toBe('aborted');
    expect(r.epochs).toBe(0);
    expect(Array.from(r.w)).toEqual(Array.from(init.w));
    expect(r.loss).toBe(linearLoss(small, init));
  });

  describe('validation errors are RangeErrors naming the argument', () => {
    const engine = new CpuLinearEngine(small);
    const cases: Array<[string, Partial<TrainOptions>, RegExp]> = [
      ['lr = 0', { lr: 0 }, /\blr\b/],
      ['lr < 0', { lr: -0.1 }, /\blr\b/],
      ['lr NaN', { lr: NaN }, /\blr\b/],
      ['negative epochs', { maxEpochs: -1 }, /\bepochs\b/],
      ['fractional epochs', { maxEpochs: 2.5 }, /\bepochs\b/],
      ['wrong weight count', { init: { w: [1, 2], b: 0 } }, /\bweights\b.*3.*2/],
    ];
    for (const [name, patch, pattern] of cases) {
      it(name, async () => {
        const p = engine.train({ lr: 0.1, maxEpochs: 10, ...patch });
        await expect(p).rejects.toThrow(RangeError);
        await expect(engine.train({ lr: 0.1, maxEpochs: 10, ...patch })).rejects.toThrow(pattern);
      });
    }
    it('gradient() with the wrong weight count', async () => {
      await expect(engine.gradient({ w: [1, 2, 3, 4], b: 0 })).rejects.toThrow(RangeError);
      await expect(engine.gradient({ w: [1, 2, 3, 4], b: 0 })).rejects.toThrow(/\bweights\b/);
    });
  });
});

describe('applyUpdate decision order', () => {
  const rule: UpdateRule = { lr: 0.5, tol: 1e-3, explodeFactor: 10, maxUpdates: 5 };
  const fresh = (step: number, bestLoss: number) => {
    const state: TrainState = { status: STATUS_RUNNING, step, bestLoss };
    const theta = Float64Array.from([1, 2, 3]);
    const thetaPrev = Float64Array.from([-1, -2, -3]);
    return { state, theta, thetaPrev };
  };
  const grad = [0.2, -0.4, 0.8];
  const norm = Math.hypot(...grad);

  it('NaN loss: diverged and theta restored from thetaPrev, even with a tiny gradient norm', () => {
    for (const gradNorm of [norm, 0]) {
      const { state, theta, thetaPrev } = fresh(2, 1);
      applyUpdate(state, theta, thetaPrev, grad, NaN, gradNorm, rule);
      expect(state.status).toBe(STATUS_DIVERGED);
      expect(Array.from(theta)).toEqual([-1, -2, -3]);
      expect(Array.from(thetaPrev)).toEqual([-1, -2, -3]);
      expect(state.step).toBe(2);
      expect(state.bestLoss).toBe(1);
    }
  });

  it('infinite gradient norm: diverged', () => {
    const { state, theta, thetaPrev } = fresh(1, 1);
    applyUpdate(state, theta, thetaPrev, grad, 0.5, Infinity, rule);
    expect(state.status).toBe(STATUS_DIVERGED);
    expect(Array.from(theta)).toEqual([-1, -2, -3]);
  });

  it('norm <= tol: converged without an update (even at the epoch limit)', () => {
    for (const step of [2, 5, 9]) {
      const { state, theta, thetaPrev } = fresh(step, 1);
      applyUpdate(state, theta, thetaPrev, grad, 0.5, rule.tol / 2, rule);
      expect(state.status).toBe(STATUS_CONVERGED);
      expect(Array.from(theta)).toEqual([1, 2, 3]);
      expect(Array.from(thetaPrev)).toEqual([-1, -2, -3]);
      expect(state.step).toBe(step + 1);
      expect(state.bestLoss).toBe(0.5);
    }
  });

  it('norm == tol is converged (at most tol, as in every program); a negative tol never stops', () => {
    const { state, theta, thetaPrev } = fresh(1, 1);
    applyUpdate(state, theta, thetaPrev, grad, 0.5, rule.tol, rule);
    expect(state.status).toBe(STATUS_CONVERGED);
    const off = fresh(1, 1);
    applyUpdate(off.state, off.theta, off.thetaPrev, grad, 0.5, 0, { ...rule, tol: -1 });
    expect(off.state.status).toBe(STATUS_RUNNING);
  });

  it('step >= maxUpdates: max-epochs without an update', () => {
    for (const step of [5, 6]) {
      const { state, theta, thetaPrev } = fresh(step, 1);
      applyUpdate(state, theta, thetaPrev, grad, 0.5, norm, rule);
      expect(state.status).toBe(STATUS_MAX_EPOCHS);
      expect(Array.from(theta)).toEqual([1, 2, 3]);
      expect(Array.from(thetaPrev)).toEqual([-1, -2, -3]);
      expect(state.step).toBe(step + 1);
    }
  });

  it('otherwise: thetaPrev = theta, theta -= lr * grad, step + 1, bestLoss tracks the minimum', () => {
    const { state, theta, thetaPrev } = fresh(4, 1);
    applyUpdate(state, theta, thetaPrev, grad, 0.75, norm, rule);
    expect(state.status).toBe(STATUS_RUNNING);
    expect(Array.from(thetaPrev)).toEqual([1, 2, 3]);
    expect(Array.from(theta)).toEqual([1 - 0.5 * 0.2, 2 + 0.5 * 0.4, 3 - 0.5 * 0.8]);
    expect(state.step).toBe(5);
    expect(state.bestLoss).toBe(0.75);
    // A worse (but not exploding) loss leaves bestLoss alone.
    applyUpdate(state, theta, thetaPrev, grad, 3, norm, { ...rule, maxUpdates: 100 });
    expect(state.status).toBe(STATUS_RUNNING);
    expect(state.bestLoss).toBe(0.75);
    expect(state.step).toBe(6);
  });

  it('step 0 sets bestLoss to the first loss whatever it is', () => {
    const { state, theta, thetaPrev } = fresh(0, 0);
    applyUpdate(state, theta, thetaPrev, grad, 1e30, norm, rule);
    expect(state.status).toBe(STATUS_RUNNING);
    expect(state.bestLoss).toBe(1e30);
  });

  it('explode rule compares with the best loss so far, not the last one', () => {
    // best 1, factor 10: loss 20 explodes even though the previous step's loss might have been 5.
    const a = fresh(3, 1);
    applyUpdate(a.state, a.theta, a.thetaPrev, grad, 20, norm, rule);
    expect(a.state.status).toBe(STATUS_DIVERGED);
    expect(Array.from(a.theta)).toEqual([-1, -2, -3]);
    // Exactly explodeFactor * best is not an explosion (strict >).
    const b = fresh(3, 1);
    applyUpdate(b.state, b.theta, b.thetaPrev, grad, 10, norm, rule);
    expect(b.state.status).toBe(STATUS_RUNNING);
    // Sequence: 4, 30 (< 10 * 4), then 41 (> 10 * best 4, < 10 * last 30): diverged.
    const c = fresh(0, 0);
    const big = { ...rule, maxUpdates: 100 };
    applyUpdate(c.state, c.theta, c.thetaPrev, grad, 4, norm, big);
    applyUpdate(c.state, c.theta, c.thetaPrev, grad, 30, norm, big);
    expect(c.state.status).toBe(STATUS_RUNNING);
    expect(c.state.bestLoss).toBe(4);
    applyUpdate(c.state, c.theta, c.thetaPrev, grad, 41, norm, big);
    expect(c.state.status).toBe(STATUS_DIVERGED);
  });

  it('does nothing once stopped', () => {
    for (const status of [STATUS_CONVERGED, STATUS_DIVERGED, STATUS_MAX_EPOCHS] as const) {
      const { state, theta, thetaPrev } = fresh(3, 1);
      state.status = status;
      applyUpdate(state, theta, thetaPrev, grad, 0.5, norm, rule);
      expect(state).toEqual({ status, step: 3, bestLoss: 1 });
      expect(Array.from(theta)).toEqual([1, 2, 3]);
      expect(Array.from(thetaPrev)).toEqual([-1, -2, -3]);
    }
  });
});
