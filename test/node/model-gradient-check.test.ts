import { describe, expect, it } from 'vitest';
import { finiteDifferenceGradient } from '../../src/cpu/gradient-check.ts';
import { headLoss, modelLoss, modelLossAndGradient } from '../../src/cpu/mlp_gradient.ts';
import { initParameters, layerShapes, type NetworkConfig } from '../../src/models/network.ts';
import { linearModel, logisticModel, mlpModel, softmaxModel } from '../../src/models/mlp.ts';
import { linearGradient } from '../../src/cpu/linear_partials.ts';
import { makeCheckData } from '../model-data.ts';
import { mulberry32, relativeError } from '../data-gen.ts';

// Central differences with h = 1e-5 * max(1, |theta_k|) on float64 J: truncation error ~ h^2 |J'''| ~ 1e-10
// and rounding ~ eps |J| / h ~ 1e-11, both far below 1e-6 of a gradient of size ~0.1-1. A wrong term in
// the chain rule (a missing activation slope, a transposed W) is O(1) relative: 1e-6 separates the two.
const FD_REL_TOL = 1e-6;
// ReLU's kink: a finite difference across z = 0 is wrong by O(1). One step moves a pre-activation by at
// most h * |input| <= 1e-5 * 2 here, so the relu checks assert every |z| > 5e-5: no difference crosses a kink.
const KINK_MARGIN = 5e-5;

function check(c: NetworkConfig, seed: number) {
  const data = makeCheckData(24, c.inputs, c.head, c.outputs, seed);
  const theta = initParameters(c, seed);
  const rand = mulberry32(seed + 1);
  // Non-zero biases and weights everywhere, so that no parameter's partial is trivially zero.
  for (let k = 0; k < theta.length; k++) theta[k] += 0.3 * (rand() * 2 - 1);
  const analytic = modelLossAndGradient(c, theta, data);
  const numeric = finiteDifferenceGradient((t) => modelLoss(c, t, data), theta);
  const e = relativeError(analytic.grad, numeric);
  expect(e.rel, `${c.kind} ${c.hidden} ${c.activation} ${c.head}: ${e.worst}`).toBeLessThanOrEqual(FD_REL_TOL);
  // Every parameter, not just the norm: each partial individually within tolerance of the gradient scale.
  const scale = Math.max(...Array.from(numeric, Math.abs));
  for (let k = 0; k < theta.length; k++) {
    expect(Math.abs(analytic.grad[k] - numeric[k]), `parameter ${k}`).toBeLessThanOrEqual(FD_REL_TOL * scale + 1e-12);
  }
  expect(analytic.loss).toBeCloseTo(modelLoss(c, theta, data), 12);
  return { theta, data };
}

function minHiddenPreActivation(c: NetworkConfig, theta: Float64Array, x: Float32Array, n: number): number {
  const shapes = layerShapes(c);
  let min = Infinity;
  for (let i = 0; i < n; i++) {
    let a = Array.from(x.subarray(i * c.inputs, (i + 1) * c.inputs));
    for (let l = 0; l < shapes.length - 1; l++) {
      const { fanIn, fanOut, wOffset } = shapes[l];
      const z = Array.from({ length: fanOut }, (_, o) => a.reduce((s, v, j) => s + theta[wOffset + o * fanIn + j] * v, theta[wOffset + fanOut * fanIn + o]));
      for (const v of z) min = Math.min(min, Math.abs(v));
      a = z.map((v) => Math.max(v, 0));
    }
  }
  return min;
}

describe('finite-difference gradient check (float64), every parameter', () => {
  it('linear (mse) matches the hand-derived linear sums and the differences', () => {
    const c = linearModel(3);
    const { theta, data } = check(c, 1);
    const lin = linearGradient(data, { w: theta.subarray(0, 3), b: theta[3] });
    const ours = modelLossAndGradient(c, theta, data);
    expect(relativeError(ours.grad, [...lin.gradW, lin.gradB]).rel).toBeLessThan(1e-12);
    expect(ours.loss).toBeCloseTo(lin.loss, 12);
  });
  it('logistic regression (bce from logits)', () => check(logisticModel(4), 2));
  it('softmax regression, K = 5', () => check(softmaxModel(3, 5), 3));
  for (const activation of ['tanh', 'sigmoid', 'relu'] as const) {
    for (const head of ['mse', 'bce', 'ce'] as const) {
      it(`mlp 3-[5,4]-${head} with ${activation}`, () => {
        const c = mlpModel(3, [5, 4], activation, head, head === 'ce' ? 3 : 2);
        const { theta, data } = check(c, 17 + head.length);
        if (activation === 'relu') expect(minHiddenPreActivation(c, theta, data.x, data.n)).toBeGreaterThan(KINK_MARGIN);
      });
    }
  }
  it('mlp with three hidden layers', () => check(mlpModel(2, [4, 3, 5], 'tanh', 'ce', 4), 23));
});

describe('stable losses', () => {
  it('the bce head (the logistic loss of the logit) is finite and exact for huge logits', () => {
    const bce = (z: number, y: number) => headLoss(logisticModel(1), [z], y, null);
    expect(bce(1000, 1)).toBe(0);
    expect(bce(-1000, 1)).toBe(1000);
    expect(bce(1000, 0)).toBe(1000);
    expect(bce(0, 1)).toBeCloseTo(Math.LN2, 15);
    expect(bce(2, 1)).toBeCloseTo(-Math.log(1 / (1 + Math.exp(-2))), 14);
    const delta = new Float64Array(1);
    headLoss(logisticModel(1), [-1000], 1, delta);
    expect(delta[0]).toBe(-1); // sigmoid(z) - y, never exp(1000)
  });
  it('the ce head (log-sum-exp) does not overflow', () => {
    const ce = (z: number[], y: number) => headLoss(softmaxModel(1, z.length), z, y, null);
    expect(ce([1000, 1000], 0)).toBeCloseTo(Math.LN2, 10);
    expect(ce([0, 5], 1)).toBeCloseTo(Math.log1p(Math.exp(-5)), 12);
    expect(ce([-1000, 0, 5], 0)).toBeCloseTo(1005 + Math.log1p(Math.exp(-5)), 10);
  });
});
