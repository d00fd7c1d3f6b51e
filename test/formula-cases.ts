// Formula models and their rows for the formula engine tests (test/gpu: the generated kernels; test/node: the
// fast CPU path): the model, float32 rows in its layout (features, then the weight), its starting parameters
// and a point away from the optimum where gradients are compared (there the gradient is not all
// cancellation). The GPU tests run in the browser: nothing here may import node:*.
import { compileFormula, startingParameters, type FormulaModel } from '../src/formula/model.ts';
import { formulaColumns, type FormulaData } from '../src/models/formula.ts';
import { seededUniform } from '../src/data/shuffle.ts';
import { compileRowSums } from '../src/formula/emit-js.ts';
import { gradientProgram } from '../src/formula/program.ts';

export interface FormulaCase {
  name: string;
  formula: string;
  loss: string;
  weights?: string;
  n: number;
  /** Column values of row i (the target included). */
  row: (u: () => number, i: number) => Record<string, number>;
  start?: Record<string, number>;
  /** Where the gradient is compared (away from the optimum, so that the gradient is not all cancellation). */
  at: Record<string, number>;
}

const features16 = Array.from({ length: 16 }, (_, k) => `f${k + 1}`);
export const gaussian = (u: () => number) => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());

/** Knuth's sampler: fine for the small means used here. */
function poisson(u: () => number, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = u(); p > limit; p *= u()) k++;
  return k;
}

export const SATURATION: FormulaCase = {
  name: 'saturation b1*(1-exp(-b2*x)), mse', formula: 'y ~ b1*(1-exp(-b2*x))', loss: 'mse', n: 1000,
  row: (u) => { const x = 5 * u(); return { x, y: 3 * (1 - Math.exp(-0.8 * x)) + 0.05 * gaussian(u) }; },
  start: { b1: 2, b2: 0.5 }, at: { b1: 2.5, b2: 1.1 },
};

export const DECAY: FormulaCase = {
  name: 'exponential decay, mse, 2^16 + 3 rows', formula: 'y ~ a * exp(-k * t) + c', loss: 'mse', n: 2 ** 16 + 3,
  row: (u) => { const t = 5 * u(); return { t, y: 3 * Math.exp(-0.7 * t) + 0.5 + 0.05 * gaussian(u) }; },
  start: { a: 1, k: 0.1, c: 0 }, at: { a: 2.5, k: 0.9, c: 0.2 },
};

export const LINEAR16_HUBER: FormulaCase = {
  name: '16-feature linear(), huber:1.5', formula: 'y ~ linear()', loss: 'huber:1.5', n: 5003,
  row: (u) => {
    const r: Record<string, number> = {};
    let y = 0.3;
    features16.forEach((f, k) => { r[f] = gaussian(u); y += ((k % 5) - 2) * 0.4 * r[f]; });
    r.y = y + (u() < 0.05 ? 8 * gaussian(u) : 0.1 * gaussian(u)); // outliers, where Huber's linear part acts
    return r;
  },
  at: Object.fromEntries([...features16.map((f, k) => [`w_${f}`, 0.05 * k - 0.3]), ['b', 0.1]]),
};

export const POISSON: FormulaCase = {
  name: 'Poisson, y ~ exp(linear()), poisson', formula: 'y ~ exp(linear(x1, x2))', loss: 'poisson', n: 5003,
  row: (u) => { const x1 = u() - 0.5; const x2 = u() - 0.5; return { x1, x2, y: poisson(u, Math.exp(0.5 + 1.2 * x1 - 0.8 * x2)) }; },
  at: { w_x1: 0.3, w_x2: 0.2, b: 0.1 },
};

export const LOGISTIC: FormulaCase = {
  name: 'logistic', formula: 'y ~ linear(x1, x2, x3)', loss: 'logistic', n: 5003,
  row: (u) => {
    const x = [gaussian(u), gaussian(u), gaussian(u)];
    const z = 1.5 * x[0] - x[1] + 0.5 * x[2] - 0.2;
    return { x1: x[0], x2: x[1], x3: x[2], y: u() < 1 / (1 + Math.exp(-z)) ? 1 : 0 };
  },
  at: { w_x1: 0.5, w_x2: 0.1, w_x3: -0.3, b: 0.4 },
};

export const QUANTILE: FormulaCase = {
  name: 'quantile:0.3', formula: 'y ~ a + s * x', loss: 'quantile:0.3', n: 3001,
  row: (u) => { const x = 4 * u() - 2; return { x, y: 1 + 0.5 * x + gaussian(u) }; },
  start: { a: 0, s: 0 }, at: { a: 0.7, s: 0.1 },
};

export const WEIGHTED_SATURATION: FormulaCase = {
  name: 'weighted rows, saturation, mse', formula: 'y ~ b1 * (1 - exp(-b2 * x))', loss: 'mse', weights: 'wt', n: 4099,
  row: (u) => { const x = 10 * u(); return { x, wt: u() < 0.1 ? 0 : 0.5 + 2 * u(), y: 4 * (1 - Math.exp(-0.3 * x)) + 0.1 * gaussian(u) }; },
  start: { b1: 1, b2: 1 }, at: { b1: 3, b2: 0.5 },
};

export const ONE_ROW: FormulaCase = {
  name: 'one row', formula: 'y ~ linear(x1, x2)', loss: 'huber:1.5', n: 1,
  row: () => ({ x1: 0.5, x2: -2, y: 3 }),
  at: { w_x1: 1, w_x2: 0.5, b: 0 },
};

const features7 = Array.from({ length: 7 }, (_, k) => `f${k + 1}`);

/** A width that is no multiple of 4: every quad of rows straddles vec4s (formula-row-code.ts: rowLoads). */
export const LINEAR7_LOGCOSH: FormulaCase = {
  name: '7-feature linear(), logcosh, 4099 rows', formula: 'y ~ linear()', loss: 'logcosh', n: 4099,
  row: (u) => {
    const r: Record<string, number> = {};
    let y = -0.2;
    features7.forEach((f, k) => { r[f] = gaussian(u); y += ((k % 3) - 1) * 0.5 * r[f]; });
    r.y = y + 0.3 * gaussian(u);
    return r;
  },
  at: Object.fromEntries([...features7.map((f, k) => [`w_${f}`, 0.1 * k - 0.2]), ['b', 0.3]]),
};

/** The GPU tests' table (they also pick cases from it by index: keep the order). */
export const CASES: FormulaCase[] = [SATURATION, DECAY, LINEAR16_HUBER, POISSON, LOGISTIC, QUANTILE, WEIGHTED_SATURATION, ONE_ROW, LINEAR7_LOGCOSH];

/** The model and its rows in its layout, float32 as every engine takes them. */
export function setupCase(c: FormulaCase, seed = 17): { model: FormulaModel; data: FormulaData; start: Float64Array; at: Float64Array } {
  const u = seededUniform(seed);
  const rows = Array.from({ length: c.n }, (_, i) => c.row(u, i));
  const model = compileFormula({ formula: c.formula, loss: c.loss, weights: c.weights ?? null }, { columns: Object.keys(rows[0]) });
  const columns = formulaColumns(model);
  const d = columns.length;
  const x = new Float32Array(c.n * d);
  rows.forEach((r, i) => columns.forEach((name, k) => (x[i * d + k] = r[name])));
  const y = Float32Array.from(rows, (r) => r[model.target]);
  const start = startingParameters(model, c.start ?? {});
  const at = Float64Array.from(model.params, (p) => c.at[p]);
  return { model, data: { x, y, n: c.n, d }, start, at };
}

/** Σ_i |term_i| / n per output (partials, then loss), each row's terms evaluated alone: the scale of each mean. */
export function meanAbsTerms(model: FormulaModel, data: FormulaData, theta: Float64Array): Float64Array {
  const sums = compileRowSums(gradientProgram(model));
  const one = new Float64Array(theta.length + 1);
  const total = new Float64Array(theta.length + 1);
  for (let i = 0; i < data.n; i++) {
    one.fill(0);
    sums(theta, data.x, data.y, i, i + 1, one);
    for (let k = 0; k < one.length; k++) total[k] += Math.abs(one[k]);
  }
  return total.map((v) => v / data.n);
}
