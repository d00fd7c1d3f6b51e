// The fast CPU path's linear predictor row sums (emit-js.ts: jsPredictorRowSumsSource) against the float64
// twin's generated ones. Both compute each row in float64 from the same float32 values. They differ in how a
// row's η = Σ θ_c·x_c is summed: in column order, four running sums, against the model tree's order. Each
// row's η then differs by a few ε·Σ_c |θ_c·x_c|, and each output, a smooth function of η times at most one
// column, by a few ulps of its terms (observed: at most 1.1e-15 of an output's mean |term|). ROW_ORDER_TOL,
// 1e-13, leaves a hundredfold; a wrong column, a missed weight or a slope from the wrong output is off by
// whole terms.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuFormulaEngine } from '../../src/cpu/formula-engine.ts';
import { CPU_PREDICTOR_WIDTH, FastCpuFormulaEngine } from '../../src/cpu-fast/formula-engine.ts';
import { NodeWorkerPool } from '../../src/cpu-fast/node-pool.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { gaussian, meanAbsTerms, setupCase, type FormulaCase } from '../formula-cases.ts';

const ROW_ORDER_TOL = 1e-13;

/** Training: 30 Adam updates carry each gradient's ~1e-13 relative difference forward; 1e-9 relative leaves room. */
const TRAIN_REL_TOL = 1e-9;

const names = (d: number) => Array.from({ length: d }, (_, k) => `f${k + 1}`);

/** `formula` over d standard normal features f1..fd; the target from `target` of the row's linear predictor. */
function wide(name: string, d: number, n: number, formula: string, loss: string, target: (eta: number, u: () => number) => number, extra: Partial<FormulaCase> = {}): FormulaCase {
  return {
    name, formula, loss, n, at: {}, ...extra,
    row: (u) => {
      const row: Record<string, number> = {};
      let eta = 0.2;
      names(d).forEach((f, k) => {
        row[f] = gaussian(u);
        eta += ((k % 5 === 0 ? 0.3 : -0.05) * row[f]) / Math.sqrt(d);
      });
      if (extra.weights) row[extra.weights] = 0.5 + u();
      row.y = target(eta, u);
      return row;
    },
  };
}

const CASES = [
  wide(`linear(${CPU_PREDICTOR_WIDTH + 80} columns), logistic`, CPU_PREDICTOR_WIDTH + 80, 900, 'y ~ linear()', 'logistic', (eta, u) => (u() < 1 / (1 + Math.exp(-eta)) ? 1 : 0)),
  wide('exp(linear(97 columns)), poisson, weighted', 97, 700, 'y ~ exp(linear())', 'poisson', (eta, u) => Math.floor(Math.exp(eta) * 2 * u()), { weights: 'wt' }),
  wide('a*tanh(linear(81 columns)) + c, huber:0.5: parameters outside η, a width and a row count no multiple of 4', 81, 803, 'y ~ a * tanh(linear()) + c', 'huber:0.5',
    (eta, u) => 1.5 * Math.tanh(eta) + 0.3 + 0.2 * gaussian(u), { start: { a: 1, c: 0 } }),
];

function setup(c: FormulaCase) {
  const s = setupCase(c);
  let k = 1;
  const at = Float64Array.from(s.model.params, (p) => ((k++ * 7919) % 200) / 1000 - 0.1 + (c.start?.[p] ?? 0));
  return { ...s, at };
}

let pool: NodeWorkerPool;
beforeAll(async () => {
  pool = await NodeWorkerPool.create(2);
}, 60_000);
afterAll(() => pool.dispose());

const flat = (g: { loss: number; grad: ArrayLike<number> }) => [...Array.from(g.grad), g.loss];

describe('the fast CPU path\'s linear predictor row sums vs the float64 twin', () => {
  for (const c of CASES) {
    it(`${c.name}: every output within ${ROW_ORDER_TOL} of its mean |term|; the same bits on 2 worker threads`, async () => {
      const { model, data, start, at } = setup(c);
      const fast = new FastCpuFormulaEngine(model, data, start, { kernel: 'linear-predictor' });
      const twin = new CpuFormulaEngine(model, data, start);
      try {
        expect(fast.kernel).toBe('linear-predictor');
        const got = flat(await fast.lossAndGradient(at));
        const want = flat(await twin.lossAndGradient(at));
        const scale = meanAbsTerms(model, data, at);
        let worst = 0;
        want.forEach((w, k) => {
          const label = k < model.params.length ? model.params[k] : 'loss';
          expect(Math.abs(got[k] - w), `${label}: fast ${got[k]} twin ${w}`).toBeLessThanOrEqual(ROW_ORDER_TOL * scale[k]);
          if (scale[k] > 0) worst = Math.max(worst, Math.abs(got[k] - w) / scale[k]);
        });
        console.info(`${c.name}: largest difference ${worst.toExponential(2)} of the mean |term|`);
        const threaded = new FastCpuFormulaEngine(model, data, start, { kernel: 'linear-predictor', pool });
        expect(flat(await threaded.lossAndGradient(at))).toEqual(got);
        threaded.dispose();
      } finally {
        fast.dispose();
        twin.dispose();
      }
    });
  }

  it('trains as the twin does (Adam, mini-batches of 64)', async () => {
    const { model, data, start } = setup(CASES[2]);
    const o = { lr: 0.02, maxEpochs: 3, batchSize: 64, seed: 5, optimizer: optimizerConfig({ kind: 'adam' }) };
    const fast = new FastCpuFormulaEngine(model, data, start, { kernel: 'linear-predictor' });
    const twin = new CpuFormulaEngine(model, data, start);
    const [a, b] = [await fast.train(o), await twin.train(o)];
    fast.dispose();
    twin.dispose();
    expect(a.updates).toBe(b.updates);
    const norm = Math.hypot(...b.theta);
    expect(Math.hypot(...Array.from(a.theta, (v, j) => v - b.theta[j])) / norm).toBeLessThanOrEqual(TRAIN_REL_TOL);
    expect(Math.abs(a.loss - b.loss) / b.loss).toBeLessThanOrEqual(TRAIN_REL_TOL);
  });

  it(`auto picks it from ${CPU_PREDICTOR_WIDTH} columns, the generated sums below; linear(...) with mse keeps the linear kernel; by name it refuses a model it cannot run`, () => {
    const kernelAt = (d: number, formula: string, loss: string) => {
      const { model, data, start } = setup(wide('w', d, 8, formula, loss, (eta) => (eta > 0 ? 1 : 0)));
      const engine = new FastCpuFormulaEngine(model, data, start);
      engine.dispose();
      return engine.kernel;
    };
    expect(kernelAt(CPU_PREDICTOR_WIDTH, 'y ~ linear()', 'logistic')).toBe('linear-predictor');
    expect(kernelAt(CPU_PREDICTOR_WIDTH - 1, 'y ~ linear()', 'logistic')).toBe('generated');
    expect(kernelAt(CPU_PREDICTOR_WIDTH, 'y ~ linear()', 'mse')).toMatch(/^linear-(wasm|js)$/);
    const { model, data, start } = setup(wide('not a GLM', 8, 8, 'y ~ linear() + c * f1^2', 'mse', (eta) => eta, { start: { c: 0 } }));
    expect(() => new FastCpuFormulaEngine(model, data, start, { kernel: 'linear-predictor' })).toThrow(/linear-predictor needs a generalised linear model/);
  });
});
