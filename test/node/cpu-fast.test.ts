// The fast CPU path against its float64 twin: gradients at a point on every model, head and activation
// (odd widths, row counts that leave ragged tiles and shards), a few training steps with every optimizer,
// and the shared training rules (tolerance, divergence, resume, abort, mini-batches); the linear model's runs on
// the linear kernels. (The linear kernels' gradient against the twin: test/node/formula-linear-kernel.test.ts.)
import { describe, expect, it } from 'vitest';
import { FastCpuModelEngine } from '../../src/cpu-fast/fast-engines.ts';
import { FastCpuFormulaEngine, type FormulaKernel } from '../../src/cpu-fast/formula-engine.ts';
import { instantiateGemms, wasmSimdAvailable } from '../../src/cpu-fast/wasm-gemm.ts';
import { CpuModelEngine } from '../../src/cpu/cpu-model-engine.ts';
import { CpuFormulaEngine } from '../../src/cpu/formula-engine.ts';
import { modelLossAndGradient } from '../../src/cpu/mlp_gradient.ts';
import { linearModel, logisticModel, mlpModel, softmaxModel } from '../../src/models/mlp.ts';
import { linearFormulaModel, linearTrainOptions } from '../../src/models/linear-formula.ts';
import { initParameters, type ModelData, type NetworkConfig } from '../../src/models/network.ts';
import { optimizerConfig, OPTIMIZER_KINDS } from '../../src/optim/config.ts';
import { makeBlobs, makeSeparable, makeSpirals } from '../model-data.ts';
import { makeLinearData, relativeError } from '../data-gen.ts';

/**
 * Fast vs float64 gradient, norm-wise relative, and the loss, per kernel set.
 * js: every sum is float64 (JS arithmetic); only storage differs: weights, activations and deltas rounded
 * to float32 (2^-24 relative each, ~6e-8) once per layer forward and backward. For these networks (at most
 * 3 layers) that is a few times 6e-8; measured 4e-8 to 7e-8. 1e-6 leaves ~15x headroom.
 * wasm: the products sum in float32 over at most 256 terms (a layer's width, or FLUSH_ROWS = 256 rows of
 * a weight-gradient block), then float64 across blocks and shards: worst case K u = 256 x 6e-8 = 1.5e-5 of
 * the sum of |terms|, typically sqrt(K) u ~ 1e-6; measured 6e-8 to 2.1e-7 (64-256-256-10 included). 1e-5.
 * A wrong index, slope, bias or label moves the gradient by 1e-2 or more (tested below).
 */
const GRAD_REL_TOL = { js: 1e-6, wasm: 1e-5 } as const;
/**
 * Parameters after 5 epochs, |theta_fast - theta_64| / |theta_64 - theta_0|: each step's error is the
 * gradient's (above), and Adam rescales components whose gradient is small, where the relative error is
 * largest. Measured 2e-8 (sgd) to 1e-6 (adamw, mini-batches of 40) with the js kernels, 3e-8 to 1.2e-7
 * with the wasm ones (seed 2). 2e-5 leaves ~20x headroom over the worst.
 */
const TRAJECTORY_REL_TOL = 2e-5;
const KERNELS = ['js', 'wasm'] as const;
/**
 * The linear model (y ~ linear(...)) on the fast path's linear kernels vs the float64 twin, parameters after
 * up to 2,000 plain descent steps: each gradient is within a few ulps per row of the twin's (the bound of
 * test/node/formula-linear-kernel.test.ts, ~1e-15 relative here), and descent at a stable rate contracts
 * towards the optimum, so the difference does not grow; a diverging run stops after a few steps. 1e-9
 * leaves six orders of room and still fails a step that differs in any way (a factor 2, a momentum term).
 */
const LINEAR_TRAIN_REL_TOL = 1e-9;
const LINEAR_KERNELS: FormulaKernel[] = wasmSimdAvailable() ? ['linear-wasm', 'linear-js'] : ['linear-js'];

function check(got: { loss: number; grad: ArrayLike<number> }, want: { loss: number; grad: ArrayLike<number> }, tol: number) {
  const { rel, worst } = relativeError(got.grad, want.grad);
  expect(rel, worst).toBeLessThanOrEqual(tol);
  expect(Math.abs(got.loss - want.loss)).toBeLessThanOrEqual(tol * Math.abs(want.loss));
}

/** Regression targets from a fixed function of x (the mse head). */
function regression(n: number, d: number): ModelData {
  const base = makeLinearData(n, d, 4);
  return { x: base.x, y: base.y.map((v, i) => Math.sin(v) + 0.1 * base.x[i * d]), n, d };
}

const cases: [string, NetworkConfig, ModelData][] = [
  ['linear (network, mse)', linearModel(5), regression(203, 5)],
  ['logistic', logisticModel(3), makeSeparable(203, 3)],
  ['softmax, 3 classes', softmaxModel(2, 3), makeBlobs(67, 3, 2)],
  ['mlp tanh 13-6, bce', mlpModel(2, [13, 6], 'tanh', 'bce'), makeSpirals(101)],
  ['mlp relu 9-17, ce 5 classes', mlpModel(7, [9, 17], 'relu', 'ce', 5), makeBlobs(41, 5, 7)],
  ['mlp sigmoid 11, mse', mlpModel(5, [11], 'sigmoid', 'mse'), regression(131, 5)],
  ['mlp relu 64-64, ce 10 classes (full 4x4 blocks, several tiles)', mlpModel(16, [64, 64], 'relu', 'ce', 10), makeBlobs(70, 10, 16)],
];

describe('fast CPU gradient = float64 twin', () => {
  for (const kernels of KERNELS) {
    for (const [name, c, data] of cases) {
      it(`${kernels}: ${name}`, async () => {
        const engine = new FastCpuModelEngine(c, data, { kernels });
        expect(engine.kernels).toBe(kernels);
        for (const seed of [3, 4]) {
          const theta = initParameters(c, seed).map((v, k) => v + 0.05 * Math.sin(k + seed)); // biases and linear models off zero
          check(await engine.lossAndGradient(theta), modelLossAndGradient(c, theta, data), GRAD_REL_TOL[kernels]);
        }
        engine.dispose();
      });
    }
  }

  it('wasm tanh (bias + tanh on 4 lanes): within 3e-7 of Math.tanh, relative and absolute', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const f32 = new Float32Array(memory.buffer);
    const width = 4096;
    for (let k = 0; k < width; k++) f32[k] = Math.sign(k - width / 2) * 10 ** (-4 + (6 * (k % 997)) / 997); // |x| from 1e-4 to 1e2
    const x = f32.slice(0, width);
    instantiateGemms([], memory).bias('tanh')(0, width * 4, 1, width); // biases: zeros after the row
    for (let k = 0; k < width; k++) {
      const want = Math.tanh(x[k]);
      expect(Math.abs(f32[k] - want), `x = ${x[k]}`).toBeLessThanOrEqual(3e-7 * Math.max(Math.abs(want), 1e-30) + 1e-12);
    }
  });

  it('catches a wrong label (the check can fail)', async () => {
    const [, c, data] = cases[4];
    const theta = initParameters(c, 3);
    const shifted = { ...data, y: data.y.map((v) => (v + 1) % 5) };
    for (const kernels of KERNELS) {
      const { rel } = relativeError((await new FastCpuModelEngine(c, shifted, { kernels }).lossAndGradient(theta)).grad, modelLossAndGradient(c, theta, data).grad);
      expect(rel).toBeGreaterThan(1e-2);
    }
  });

});

describe('fast CPU training = float64 twin', () => {
  const [, c, data] = cases[3];
  const theta0 = initParameters(c, 3);
  for (const kind of OPTIMIZER_KINDS) {
    for (const [batchSize, kernels] of [[undefined, 'wasm'], [40, 'wasm'], [40, 'js']] as const) {
      it(`${kind}, ${batchSize ? `batches of ${batchSize}` : 'full batch'}, ${kernels}: 5 epochs`, async () => {
        const o = {
          lr: kind.startsWith('adam') ? 0.01 : 0.1, maxEpochs: 5, batchSize, init: theta0, ...(batchSize !== undefined && { seed: 2 }),
          optimizer: optimizerConfig({ kind, weightDecay: 1e-3 }),
        };
        const want = await new CpuModelEngine(c, data).train(o);
        const got = await new FastCpuModelEngine(c, data, { kernels }).train(o);
        let num = 0;
        let den = 0;
        for (let k = 0; k < theta0.length; k++) {
          num += (got.theta[k] - want.theta[k]) ** 2;
          den += (want.theta[k] - theta0[k]) ** 2;
        }
        expect(Math.sqrt(num / den)).toBeLessThanOrEqual(TRAJECTORY_REL_TOL);
        expect([got.epochs, got.updates, got.stopReason]).toEqual([want.epochs, want.updates, want.stopReason]);
        expect(got.snapshot.optim.t).toBe(want.snapshot.optim.t);
      });
    }
  }

  it('tolerance, divergence with last-good parameters, abort: the same decisions', async () => {
    const sgd = optimizerConfig({ kind: 'sgd' });
    const runs = [
      { c: cases[1][1], data: cases[1][2], o: { lr: 0.5, maxEpochs: 500, tol: 0.05, optimizer: sgd }, stop: 'tolerance' },
      { c: cases[0][1], data: cases[0][2], o: { lr: 50, maxEpochs: 50, optimizer: sgd }, stop: 'diverged' },
    ];
    for (const { c: rc, data: rdata, o, stop } of runs) {
      const want = await new CpuModelEngine(rc, rdata).train(o);
      const got = await new FastCpuModelEngine(rc, rdata).train(o);
      expect(want.stopReason).toBe(stop);
      expect([got.stopReason, got.epochs, got.divergedAtEpoch]).toEqual([want.stopReason, want.epochs, want.divergedAtEpoch]);
      expect(relativeError(got.theta, want.theta).rel).toBeLessThanOrEqual(TRAJECTORY_REL_TOL);
    }
    const [, lc, ldata] = cases[1];
    const aborted = await new FastCpuModelEngine(lc, ldata).train({ ...runs[0].o, signal: AbortSignal.abort() });
    expect([aborted.stopReason, aborted.epochs]).toEqual(['aborted', 0]);
  });

  it('resume from a snapshot: the same bits as an uninterrupted run', async () => {
    const o = { lr: 0.01, maxEpochs: 6, batchSize: 50, seed: 4, optimizer: optimizerConfig({ kind: 'adam' }), reportEvery: 3 };
    const engine = new FastCpuModelEngine(c, data);
    const snaps: Float64Array[] = [];
    const whole = await engine.train({ ...o, onSnapshot: (s) => snaps.push(s.theta) });
    const half = await engine.train({ ...o, maxEpochs: 3 });
    const resumed = await engine.train({ ...o, resumeFrom: half.snapshot });
    expect(Array.from(resumed.theta)).toEqual(Array.from(whole.theta));
    expect(Array.from(snaps[0])).toEqual(Array.from(half.theta));
  });

  it('the linear model on each linear kernel stops where the float64 twin stops, at the same parameters', async () => {
    const data = makeLinearData(2_000, 4, 2);
    const model = linearFormulaModel(4);
    const start = new Float64Array(5);
    const runs = [{ lr: 0.1, maxEpochs: 2_000, tol: 1e-4 }, { lr: 0.05, maxEpochs: 20, batchSize: 256, seed: 3 }, { lr: 50, maxEpochs: 20 }];
    for (const kernel of LINEAR_KERNELS) {
      const stops: string[] = [];
      for (const o of runs) {
        const options = linearTrainOptions(o, data.n);
        const want = await new CpuFormulaEngine(model, data, start).train(options);
        const engine = new FastCpuFormulaEngine(model, data, start, { kernel });
        expect(engine.kernel).toBe(kernel);
        const got = await engine.train(options);
        engine.dispose();
        expect([got.stopReason, got.epochs, got.divergedAtEpoch], kernel).toEqual([want.stopReason, want.epochs, want.divergedAtEpoch]);
        stops.push(got.stopReason);
        const { rel, worst } = relativeError(got.theta, want.theta);
        expect(rel, `${kernel}, ${got.stopReason}: ${worst}`).toBeLessThanOrEqual(LINEAR_TRAIN_REL_TOL);
      }
      expect(stops).toEqual(['tolerance', 'max-epochs', 'diverged']);
    }
  });

  it('refuses use after dispose and a bad shard count', async () => {
    const [, lc, ldata] = cases[1];
    const engine = new FastCpuModelEngine(lc, ldata);
    engine.dispose();
    await expect(engine.lossAndGradient(new Float64Array(4))).rejects.toThrow(/after dispose/);
    expect(() => new FastCpuModelEngine(lc, ldata, { shards: 0 })).toThrow(/shards/);
    expect(() => new FastCpuModelEngine(lc, ldata, { kernels: 'gpu' as 'js' })).toThrow(/kernels/);
  });
});
