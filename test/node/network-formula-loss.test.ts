// Networks with a formula loss (config.loss, issue #18 item 4): the float64 twin's gradient against finite
// differences, the fast CPU kernels (js and wasm) against the twin, the validation, the head's generated WGSL
// text, and the CLI (--loss with --model, --save / --resume). The GPU side: test/gpu/network-formula-loss.test.ts.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { finiteDifferenceGradient } from '../../src/cpu/gradient-check.ts';
import { headLoss, modelLoss, modelLossAndGradient } from '../../src/cpu/mlp_gradient.ts';
import { FastCpuModelEngine } from '../../src/cpu-fast/fast-engines.ts';
import { headStage } from '../../src/gpu/models/head-stage.ts';
import { initParameters, validateModelData, validateNetwork, type ModelData, type NetworkConfig } from '../../src/models/network.ts';
import { linearModel, logisticModel, mlpModel, softmaxModel } from '../../src/models/mlp.ts';
import { main } from '../../src/cli/main.ts';
import { makeCheckData, makeSeparable } from '../model-data.ts';
import { mulberry32, relativeError } from '../data-gen.ts';
import { suiteTempDir } from '../temp-dir.ts';

// As in model-gradient-check.test.ts: central differences (h = 1e-5 max(1, |theta|)) on float64 J are within
// ~1e-10 of the derivative; a wrong chain-rule term is O(1) relative. mae's kink at z = y is kept away from
// (every |z - y| > KINK_MARGIN, checked): one step moves z by well under that.
const FD_REL_TOL = 1e-6;
const KINK_MARGIN = 1e-3;
// As in cpu-fast.test.ts: float32 storage (js) or float32 sums over <= 256 terms (wasm) against float64.
const FAST_REL_TOL = { js: 1e-6, wasm: 1e-5 } as const;

const CUSTOM = '(yhat - y)^2 / 2 + 0.1 * (yhat - y)^4 + log(1 + exp(-yhat * y))';
const LOSSES = ['huber:1', 'mae', 'logcosh', 'cauchy:0.5', CUSTOM];
const withLoss = (c: NetworkConfig, loss: string): NetworkConfig => ({ ...c, loss });

function perturbed(c: NetworkConfig, seed: number): Float64Array {
  const theta = initParameters(c, seed);
  const rand = mulberry32(seed + 1);
  for (let k = 0; k < theta.length; k++) theta[k] += 0.3 * (rand() * 2 - 1);
  return theta;
}

/** Outputs z minus targets y, by the twin's loss: min |z - y| over samples. */
function minResidual(c: NetworkConfig, theta: Float64Array, data: ModelData): number {
  let m = Infinity;
  for (let i = 0; i < data.n; i++) {
    const one = { x: data.x.subarray(i * data.d, (i + 1) * data.d), y: Float32Array.of(data.y[i]), n: 1, d: data.d };
    const zMinusY = modelLossAndGradient(withLoss(c, 'yhat - y'), theta, one).loss; // the loss yhat - y is z - y itself
    m = Math.min(m, Math.abs(zMinusY));
  }
  return m;
}

describe('the twin with a formula loss: gradient = finite differences', () => {
  const mlp = mlpModel(3, [7, 5], 'tanh', 'mse');
  for (const loss of LOSSES) {
    it(`mlp 3-7-5-1 tanh, ${loss}`, () => {
      const c = withLoss(mlp, loss);
      const data = makeCheckData(24, 3, 'mse', 1, 3);
      const theta = perturbed(c, 3);
      if (loss === 'mae') expect(minResidual(mlp, theta, data)).toBeGreaterThan(KINK_MARGIN);
      const analytic = modelLossAndGradient(c, theta, data);
      const numeric = finiteDifferenceGradient((t) => modelLoss(c, t, data), theta);
      const e = relativeError(analytic.grad, numeric);
      expect(e.rel, e.worst).toBeLessThanOrEqual(FD_REL_TOL);
      expect(analytic.loss).toBeCloseTo(modelLoss(c, theta, data), 12);
    });
  }

  it('the mse head is the formula mse, the bce head the formula logistic loss on its logit: the same path', () => {
    const data = makeCheckData(40, 3, 'mse', 1, 4);
    const theta = perturbed(mlp, 4);
    expect(modelLossAndGradient(mlp, theta, data)).toEqual(modelLossAndGradient(withLoss(mlp, 'mse'), theta, data));
    const logit = logisticModel(3);
    const labels = makeCheckData(40, 3, 'bce', 2, 5);
    const t2 = perturbed(logit, 5);
    expect(modelLossAndGradient(logit, t2, labels)).toEqual(modelLossAndGradient(withLoss(logit, 'logistic'), t2, labels));
  });

  it('the generated heads give the textbook mse and stable bce, to float64 rounding', () => {
    // The textbook forms differ from the generated ones only in the order of a sum or two (bce: softplus(z) - zy
    // against max(z, 0) - zy + log1p(e^-|z|)): a few eps of the largest term, 4e-15 * max(1, |z|).
    const delta = new Float64Array(1);
    const mseHead = mlpModel(1, [2], 'tanh', 'mse');
    const bceHead = mlpModel(1, [2], 'tanh', 'bce');
    for (let z = -40; z <= 40; z += 0.37) {
      const tol = 4e-15 * Math.max(1, Math.abs(z));
      for (const y of [0, 1]) {
        const J = headLoss(bceHead, [z], y, delta);
        expect(Math.abs(J - (Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)))))).toBeLessThanOrEqual(tol);
        expect(Math.abs(delta[0] - (1 / (1 + Math.exp(-z)) - y))).toBeLessThanOrEqual(tol);
      }
      const y = Math.sin(z);
      expect(headLoss(mseHead, [z], y, delta)).toBe((z - y) * (z - y));
      expect(delta[0]).toBe(2 * (z - y));
    }
  });
});

describe('fast CPU with a formula loss = the twin', () => {
  const cases: [string, NetworkConfig, ModelData][] = [
    ['mlp 5-16-9-1 relu, huber:1', withLoss(mlpModel(5, [16, 9], 'relu', 'mse'), 'huber:1'), makeCheckData(301, 5, 'mse', 1, 6)],
    ['mlp 4-12-1 tanh, logcosh', withLoss(mlpModel(4, [12], 'tanh', 'mse'), 'logcosh'), makeCheckData(203, 4, 'mse', 1, 7)],
    ['mlp 4-12-1 sigmoid, custom', withLoss(mlpModel(4, [12], 'sigmoid', 'mse'), CUSTOM), makeCheckData(203, 4, 'mse', 1, 8)],
    ['linear, mae', withLoss(linearModel(6), 'mae'), makeCheckData(257, 6, 'mse', 1, 9)],
    ['logistic, quantile:0.3 on the logit', withLoss(logisticModel(3), 'quantile:0.3'), makeSeparable(150, 3)],
  ];
  for (const kernels of ['js', 'wasm'] as const) {
    for (const [name, c, data] of cases) {
      it(`${kernels}: ${name}`, async () => {
        const engine = new FastCpuModelEngine(c, data, { kernels });
        try {
          for (const seed of [3, 4]) {
            const theta = initParameters(c, seed).map((v, k) => v + 0.05 * Math.sin(k + seed));
            const got = await engine.lossAndGradient(theta);
            const want = modelLossAndGradient(c, theta, data);
            const { rel, worst } = relativeError(got.grad, want.grad);
            expect(rel, worst).toBeLessThanOrEqual(FAST_REL_TOL[kernels]);
            expect(Math.abs(got.loss - want.loss)).toBeLessThanOrEqual(FAST_REL_TOL[kernels] * Math.abs(want.loss));
          }
        } finally {
          engine.dispose();
        }
      });
    }
  }
});

describe('validation', () => {
  it('a loss on the ce head is refused, naming it; a malformed loss names the loss', () => {
    expect(() => validateNetwork(withLoss(softmaxModel(3, 4), 'huber:1'))).toThrow(/a formula loss applies to one output/);
    expect(() => validateNetwork(withLoss(mlpModel(3, [4], 'relu', 'ce', 3), 'mae'))).toThrow(/loss "mae": a formula loss applies to one output/);
    expect(() => validateNetwork(withLoss(linearModel(3), 'huber:-1'))).toThrow(/loss "huber:-1": δ must be positive/);
    expect(() => validateNetwork(withLoss(linearModel(3), 'yhat - x'))).toThrow(/may name only yhat and y/);
  });
  it("the loss's target check runs on the data", () => {
    const data = makeCheckData(10, 2, 'mse', 1, 2); // targets in [-2, 2]
    expect(() => validateModelData(withLoss(linearModel(2), 'poisson'), data)).toThrow(/sample \d+ .* poisson loss .*count/);
    expect(() => validateModelData(withLoss(linearModel(2), 'huber'), data)).not.toThrow();
  });
});

describe("the head's WGSL (shaders/mlp_head.wgsl)", () => {
  const file = readFileSync(fileURLToPath(new URL('../../shaders/mlp_head.wgsl', import.meta.url)), 'utf8');
  const codeLines = (s: string) => s.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('//'));
  it('the ce head: the generated softmax formula, logsumexp once; mse and bce are the sources of losses mse and logistic', () => {
    const stage = headStage(file, softmaxModel(2, 3));
    const lines = codeLines(stage);
    expect(lines.filter((l) => l.includes('nabla_logsumexp3(array<f32, 3>(z0, z1, z2))'))).toHaveLength(1);
    expect(stage).toContain('fn nabla_logsumexp3(');
    for (let k = 0; k < 3; k++) expect(stage).toMatch(new RegExp(`delta\\[base \\+ ${k}u\\] = \\(exp\\(\\(z${k} - t0\\)\\) - t\\d+\\);`));
    expect(stage).toMatch(/losses\[i\] = \(t0 - /);
    expect(lines.join('\n')).not.toMatch(/yhat|#|\$\{/);
    expect(headStage(file, softmaxModel(2, 4))).toContain('nabla_logsumexp4(');
    expect(headStage(file, mlpModel(2, [3], 'relu', 'mse'))).toBe(headStage(file, withLoss(mlpModel(2, [3], 'relu', 'mse'), 'mse')));
    expect(headStage(file, logisticModel(2))).toBe(headStage(file, withLoss(logisticModel(2), 'logistic')));
    expect(headStage(file, logisticModel(2))).toMatch(/losses\[i\] = \(nabla_softplus\(yhat\) - \(y_ \* yhat\)\);/);
  });
  it('with a loss: the generated loss and derivative, not the softmax; two losses are two sources (two pipeline keys)', () => {
    const a = headStage(file, withLoss(mlpModel(2, [3], 'relu', 'mse'), 'huber:1'));
    const b = headStage(file, withLoss(mlpModel(2, [3], 'relu', 'mse'), 'huber:2'));
    expect(a).toContain('losses[i] = nabla_huber((yhat - y_), 1.0);');
    expect(a).toContain('delta[base] = max(min((yhat - y_), 1.0), (-1.0));'); // Huber's rule: the residual clipped to ±δ
    expect(a).toContain('fn nabla_softplus');
    expect(a).not.toContain('let lse');
    expect(a).not.toBe(b);
    const custom = headStage(file, withLoss(linearModel(2), CUSTOM));
    expect(custom).toMatch(/nabla_powi\(|nabla_cube\(/); // the 4th power and its derivative's cube
    expect(custom).toContain('fn nabla_powi');
  });
});

describe('CLI: --loss with --model', () => {
  const dir = suiteTempDir('network-loss');
  const rand = mulberry32(21);
  const rows = ['a,b,y'];
  for (let i = 0; i < 120; i++) {
    const a = rand() * 2 - 1;
    const b = rand() * 2 - 1;
    const outlier = i % 17 === 0 ? 25 : 0; // a few gross errors: what huber and mae are for
    rows.push(`${a},${b},${Math.sin(2 * a) + 0.5 * b + outlier}`);
  }
  const data = join(dir, 'reg.csv');
  writeFileSync(data, rows.join('\n'));
  const run = async (argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['train', ...argv], { out: (t: string) => out.push(t), err: (t: string) => err.push(t) });
    return { code, out, err };
  };
  const base = ['--data', data, '--target', 'y', '--device', 'cpu'];

  it('trains an mlp with huber, saves the loss, and --resume continues the same run', async () => {
    const mlp = [...base, '--model', 'mlp', '--hidden', '16', '--loss', 'huber:1', '--optimizer', 'adam', '--lr', '0.02', '--seed', '3'];
    const whole = join(dir, 'whole.json');
    const half = join(dir, 'half.json');
    const w = await run([...mlp, '--epochs', '80', '--save', whole, '--json']);
    expect(w.code, w.err.join('\n')).toBe(0);
    const report = JSON.parse(w.out[0]);
    expect(report.lossFormula).toBe('huber:1');
    expect(report.layers).toEqual([2, 16, 1]);
    expect(report.classes).toBeNull();
    const saved = JSON.parse(readFileSync(whole, 'utf8'));
    expect(saved.version).toBe(1);
    expect(saved.model).toMatchObject({ kind: 'mlp', head: 'mse', outputs: 1, loss: 'huber:1' });
    expect((await run([...mlp, '--epochs', '30', '--save', half, '--json'])).code).toBe(0);
    const r = await run(['--data', data, '--device', 'cpu', '--resume', half, '--epochs', '80', '--save', half, '--loss', 'huber:1', '--json']);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(JSON.parse(readFileSync(half, 'utf8')).parameters).toEqual(saved.parameters);
    const other = await run(['--data', data, '--device', 'cpu', '--resume', half, '--epochs', '90', '--loss', 'mae']);
    expect(other.code).toBe(2);
    expect(other.err.join('\n')).toMatch(/--loss mae: .*trained with --loss huber:1/);
  });

  it('--model linear --optimizer adam --loss mae trains on the model trainer', async () => {
    const r = await run([...base, '--model', 'linear', '--optimizer', 'adam', '--lr', '0.05', '--loss', 'mae', '--epochs', '200', '--json']);
    expect(r.code, r.err.join('\n')).toBe(0);
    const report = JSON.parse(r.out[0]);
    expect(report.lossFormula).toBe('mae');
    expect(Number.isFinite(report.loss)).toBe(true);
  });

  it('refuses --loss with softmax, on the linear model\'s default path, with mlp --classes, and a malformed loss, naming the flag', async () => {
    const refused = async (argv: string[], pattern: RegExp) => {
      const r = await run(argv);
      expect(r.code).toBe(2);
      expect(r.err.join('\n')).toMatch(pattern);
    };
    await refused([...base, '--model', 'softmax', '--loss', 'mae'], /--loss: a formula loss applies to one output; --model softmax/);
    await refused([...base, '--loss', 'mae'], /--loss: the linear model's default path/);
    await refused([...base, '--model', 'linear', '--loss', 'mae'], /--loss: the linear model's default path/);
    await refused([...base, '--model', 'mlp', '--loss', 'mae', '--classes', 'a,b'], /--classes: --model mlp with --loss/);
    await refused([...base, '--model', 'mlp', '--loss', 'huber:0'], /--loss/);
  });
});
