// The networks' softmax cross-entropy head as a formula (src/formula/head-loss.ts, formulaSoftmaxHead): its K
// slopes, derived by the rules, against softmax − one-hot computed here; its stability at huge logits; its
// emitted code (logsumexp once, O(K)); and the float64 twin's ce results (src/cpu/mlp_gradient.ts) against a
// straightforward softmax regression written out below. logsumexp and eq as functions of the language too.
import fc from 'fast-check';
import { MAX_LET_DEPTH } from '../../src/formula/program.ts';
import { describe, expect, it } from 'vitest';
import { derive, type DerivationStep } from '../../src/formula/derive.ts';
import { compileRowSums } from '../../src/formula/emit-js.ts';
import { wgslSampleFunction } from '../../src/formula/emit-wgsl.ts';
import { formulaSoftmaxHead } from '../../src/formula/head-loss.ts';
import { compileFormula } from '../../src/formula/model.ts';
import { parseExpression } from '../../src/formula/parse.ts';
import { latex, print } from '../../src/formula/print.ts';
import { gradientProgram } from '../../src/formula/program.ts';
import { headLoss, modelLossAndGradient } from '../../src/cpu/mlp_gradient.ts';
import { initParameters } from '../../src/models/network.ts';
import { softmaxModel } from '../../src/models/softmax.ts';
import { makeCheckData } from '../model-data.ts';
import { mulberry32, relativeError } from '../data-gen.ts';
import { evaluate, functionsIn } from '../formula-trees.ts';

/** The textbook head, max subtracted first: J = lse(z) − z_y, delta_k = e^(z_k − lse) − [k = y]. */
function referenceHead(z: readonly number[], y: number): { loss: number; delta: number[] } {
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
  return { loss: lse - z[y], delta: z.map((v, k) => Math.exp(v - lse) - (k === y ? 1 : 0)) };
}

const logits = (K: number, scale: number) => fc.array(fc.double({ min: -scale, max: scale, noNaN: true }), { minLength: K, maxLength: K });
const headCase = (scale: number) => fc.integer({ min: 2, max: 12 }).chain((K) => fc.tuple(logits(K, scale), fc.nat(K - 1)));

describe('formulaSoftmaxHead: slopes derived by the rules', () => {
  it('the slopes are e^(z_k − logsumexp(z)) − eq(y, k), by the log-sum-exp rule', () => {
    const head = formulaSoftmaxHead(3);
    expect(print(head.loss)).toBe('logsumexp(z0, z1, z2) - (eq(y, 0) * z0 + eq(y, 1) * z1 + eq(y, 2) * z2)');
    expect(head.slopes.map(print)).toEqual([0, 1, 2].map((k) => `exp(z${k} - logsumexp(z0, z1, z2)) - eq(y, ${k})`));
    const steps: DerivationStep[] = [];
    derive(head.loss, 'z1', steps);
    expect(steps.map((s) => s.rule)).toContain('log-sum-exp rule: ∂/∂u_k ln Σ_j e^(u_j) = e^(u_k − logsumexp(u)) u_k\'');
    expect(steps.map((s) => s.rule)).toContain('difference rule');
  });

  it('the derived slopes (trees and compiled JS) equal softmax − one-hot at random points', () => {
    fc.assert(
      fc.property(headCase(30), ([z, y]) => {
        const K = z.length;
        const head = formulaSoftmaxHead(K);
        const ref = referenceHead(z, y);
        const env = { y, ...Object.fromEntries(z.map((v, k) => [`z${k}`, v])) };
        const delta = new Float64Array(K);
        const loss = head.evaluate(z, 0, y, delta, 0);
        // The same operations as the reference in the same order, but for the sum Σ_k eq(y, k) z_k, which
        // adds zeros to z_y: equal to the last bit. The trees, evaluated by the tests' own evaluator, agree
        // to rounding: entries of size <= 1 (2^-50 leaves a few roundings of room).
        expect(loss).toBe(ref.loss);
        expect([...delta]).toEqual(ref.delta);
        expect(Math.abs(evaluate(head.loss, env) - ref.loss)).toBeLessThanOrEqual(2 ** -50 * (1 + Math.abs(ref.loss)));
        head.slopes.forEach((s, k) => expect(Math.abs(evaluate(s, env) - ref.delta[k])).toBeLessThanOrEqual(2 ** -50));
      }),
      { numRuns: 300 },
    );
  });

  it('stable at logits of ±1e4: finite loss and slopes, exact where the answer is exact', () => {
    const delta = new Float64Array(3);
    const head = formulaSoftmaxHead(3);
    expect(head.evaluate([1e4, -1e4, 0], 0, 1, delta, 0)).toBe(2e4);
    expect([...delta]).toEqual([1, -1, 0]);
    // lse = 1e4 + ln 2 is rounded to an ulp of 1e4 (1.8e-12), which e^(z_k − lse) carries: 1e-11 is that ulp's size.
    expect(Math.abs(head.evaluate([1e4, 1e4, -1e4], 0, 0, delta, 0) - Math.LN2)).toBeLessThanOrEqual(1e-11);
    [-0.5, 0.5, 0].forEach((want, k) => expect(Math.abs(delta[k] - want)).toBeLessThanOrEqual(1e-11));
    fc.assert(
      fc.property(headCase(1e4), ([z, y]) => {
        const d = new Float64Array(z.length);
        const loss = formulaSoftmaxHead(z.length).evaluate(z, 0, y, d, 0);
        expect(Number.isFinite(loss) && loss >= 0).toBe(true);
        expect(loss).toBe(referenceHead(z, y).loss);
        expect(d.every((v) => Number.isFinite(v) && v >= -1 && v <= 1)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('reads z at an offset, writes delta at an offset, and skips delta when it is null', () => {
    const z = new Float32Array([9, 9, 0.5, -1.25, 2, 9]);
    const delta = new Float32Array(6).fill(7);
    const head = formulaSoftmaxHead(3);
    const loss = head.evaluate(z, 2, 2, delta, 3);
    const ref = referenceHead([0.5, -1.25, 2], 2);
    expect(loss).toBe(ref.loss);
    expect([...delta]).toEqual([7, 7, 7, ...ref.delta.map(Math.fround)]);
    expect(head.evaluate(z, 2, 2, null, 0)).toBe(loss);
  });

  it('shares logsumexp(z): one call for the loss and all K slopes, O(K) lets and operations', () => {
    for (const K of [2, 10, 100]) {
      const { program } = formulaSoftmaxHead(K);
      const calls = [...program.lets.map((l) => l.node), ...program.outputs].filter((n) => functionsIn(n).has('logsumexp'));
      expect(calls, `K = ${K}`).toHaveLength(1);
      // logsumexp(z), then eq(y, k) for each k (used by the loss and a slope), and one more for every
      // MAX_LET_DEPTH - 1 terms of the loss's sum Σ eq(y, k)·z_k, split so that no expression nests too deep.
      expect(program.lets.length, `K = ${K}`).toBeGreaterThanOrEqual(K + 1);
      expect(program.lets.length, `K = ${K}`).toBeLessThanOrEqual(K + 1 + Math.ceil(K / (MAX_LET_DEPTH - 1)));
      expect(program.outputs).toHaveLength(K + 1);
    }
    expect(formulaSoftmaxHead(10)).toBe(formulaSoftmaxHead(10)); // compiled once per K
  });
});

describe("the float64 twin's ce head (src/cpu/mlp_gradient.ts)", () => {
  it('headLoss equals the textbook head to the last bit', () => {
    const rand = mulberry32(5);
    for (let t = 0; t < 200; t++) {
      const K = 2 + (t % 9);
      const z = Array.from({ length: K }, () => (rand() * 2 - 1) * 20);
      const y = Math.floor(rand() * K);
      const delta = new Float64Array(K);
      const ref = referenceHead(z, y);
      expect(headLoss(softmaxModel(3, K), z, y, delta)).toBe(ref.loss);
      expect([...delta]).toEqual(ref.delta);
    }
  });

  it('softmax regression: J and its gradient equal a straightforward implementation', () => {
    const K = 4;
    const d = 3;
    const c = softmaxModel(d, K);
    const data = makeCheckData(50, d, 'ce', K, 8);
    const theta = initParameters(c, 3).map((v, k) => v + 0.1 * Math.sin(k));
    // theta: W (K x d, row-major), then b (K).
    const grad = new Float64Array(K * d + K);
    let loss = 0;
    for (let i = 0; i < data.n; i++) {
      const x = data.x.subarray(i * d, (i + 1) * d);
      const z = Array.from({ length: K }, (_, o) => x.reduce((s, v, j) => s + theta[o * d + j] * v, theta[K * d + o]));
      const { loss: li, delta } = referenceHead(z, data.y[i]);
      loss += li;
      for (let o = 0; o < K; o++) {
        for (let j = 0; j < d; j++) grad[o * d + j] += delta[o] * x[j];
        grad[K * d + o] += delta[o];
      }
    }
    const ours = modelLossAndGradient(c, theta, data);
    // The same sums in another order (reduce vs. loop): a few roundings apart.
    expect(Math.abs(ours.loss - loss / data.n)).toBeLessThanOrEqual(1e-14 * (loss / data.n));
    expect(relativeError(ours.grad, grad.map((g) => g / data.n)).rel).toBeLessThan(1e-12);
  });
});

describe('logsumexp and eq in the formula language', () => {
  it('print, parse and LaTeX', () => {
    const t = parseExpression('logsumexp(a*x, b, 0) - eq(y, 2) * b');
    expect(print(t)).toBe('logsumexp(a * x, b, 0) - eq(y, 2) * b');
    expect(parseExpression(print(t)).key).toBe(t.key);
    expect(latex(t)).toBe('\\operatorname{logsumexp}\\left(a \\cdot x, b, 0\\right) - \\left[y = 2\\right] \\cdot b');
    expect(parseExpression('logsumexp(x)').key).toBe(parseExpression('x').key);
    expect(parseExpression('eq(2, 2) + eq(2, 3)').key).toBe(parseExpression('1').key);
  });

  it('a model with logsumexp compiles to JS (float64 twin) and WGSL with its helper per argument count', () => {
    const m = compileFormula({ formula: 'y ~ logsumexp(a*x, b, c)', loss: 'mse' }, { columns: ['x', 'y'] });
    const program = gradientProgram(m);
    const sums = compileRowSums(program);
    const [a, b, c] = [0.5, -1, 2];
    const x = new Float64Array([1.5, -2]);
    const y = new Float64Array([1, 3]);
    const out = new Float64Array(4);
    sums([a, b, c], x, y, 0, 2, out);
    let want = [0, 0, 0, 0];
    for (let i = 0; i < 2; i++) {
      const u = [a * x[i], b, c];
      const { delta: p } = referenceHead(u, 0); // p[0] + 1 = softmax_0; the others are softmax_k
      const soft = [p[0] + 1, p[1], p[2]];
      const r = Math.max(...u) + Math.log(u.reduce((s, v) => s + Math.exp(v - Math.max(...u)), 0)) - y[i];
      want = want.map((w, k) => w + (k === 3 ? r * r : 2 * r * soft[k] * (k === 0 ? x[i] : 1)));
    }
    out.forEach((v, k) => expect(Math.abs(v - want[k]), `output ${k}`).toBeLessThanOrEqual(1e-13 * (1 + Math.abs(want[k]))));
    const wgsl = wgslSampleFunction(program);
    expect(wgsl).toContain('fn nabla_logsumexp3(values: array<f32, 3>) -> f32');
    expect(wgsl.match(/fn nabla_logsumexp3\(/g)).toHaveLength(1);
  });
});
