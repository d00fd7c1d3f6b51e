// The formula suite's models (issue #18 item 8): each a formula and a loss as a user types them, rows
// generated straight into the engine's float32 layout (features row-major, then the target), a starting
// point and a point away from the optimum where every path's gradient is compared and timed. Pure: the
// page, Deno and the Node tests (jax-js on wasm) share it.
import { compileFormula, startingParameters, type FormulaModel } from '../../src/formula/model.ts';
import type { FormulaData } from '../../src/models/formula.ts';

export type FormulaCaseKey = 'exp-decay' | 'linear16-huber' | 'poisson16' | 'linear16-mse';

export interface BenchFormulaCase {
  key: FormulaCaseKey;
  formula: string;
  loss: string;
  /** The data's columns in row order (the features), then the target y. */
  features: readonly string[];
  /** Parameters in the model's order: what every path's gradient is listed by. */
  params: readonly string[];
  /** Starting values for parameters the formula gives none (linear(...) starts at 0). */
  start: Readonly<Record<string, number>>;
  /** Where the gradient is taken: away from the optimum, both Huber regimes populated. */
  at: Readonly<Record<string, number>>;
  fill(n: number): FormulaData;
}

const X16 = Array.from({ length: 16 }, (_, k) => `x${k + 1}`);
const LINEAR16 = `y ~ linear(${X16.join(', ')})`;
const W16 = [...X16.map((c) => `w_${c}`), 'b'];

/** xorshift32 as a closure-free generator: the state is threaded through by the callers' loops. */
function next(s: number): number {
  s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
  return s;
}
const unit = (s: number) => (s >>> 0) / 4294967296;

/** x ~ U[0, 5), y = 3 (1 - exp(-0.8 x)) + uniform noise of width 0.1. */
function fillDecay(n: number, seed = 7): FormulaData {
  let s = Math.imul(seed, 0x9e3779b1) | 1;
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = next(s); const v = 5 * unit(s);
    s = next(s);
    x[i] = v;
    y[i] = 3 * (1 - Math.exp(-0.8 * v)) + 0.1 * (unit(s) - 0.5);
  }
  return { x, y, n, d: 1 };
}

/**
 * 16 features U[-1, 1), y = 0.3 + Σ ((k mod 5) - 2) 0.4 x_k + noise, 5 % of rows with an outlier of up to
 * ±8: at `at` the residuals fall on both sides of Huber's δ = 1.
 */
function fillLinear16(n: number, seed = 11): FormulaData {
  let s = Math.imul(seed, 0x9e3779b1) | 1;
  const x = new Float32Array(n * 16);
  const y = new Float32Array(n);
  for (let i = 0, k = 0; i < n; i++) {
    let t = 0.3;
    for (let j = 0; j < 16; j++, k++) {
      s = next(s);
      const v = 2 * unit(s) - 1;
      x[k] = v;
      t += ((j % 5) - 2) * 0.4 * v;
    }
    s = next(s); const u = unit(s);
    s = next(s); const e = unit(s) - 0.5;
    y[i] = t + (u < 0.05 ? 16 * e : 0.2 * e);
  }
  return { x, y, n, d: 16 };
}

/** 16 features U[-0.5, 0.5), counts y ~ Poisson(exp(0.5 + Σ ((k mod 5) - 2) 0.2 x_k)) (Knuth's sampler). */
function fillPoisson16(n: number, seed = 13): FormulaData {
  let s = Math.imul(seed, 0x9e3779b1) | 1;
  const x = new Float32Array(n * 16);
  const y = new Float32Array(n);
  for (let i = 0, k = 0; i < n; i++) {
    let eta = 0.5;
    for (let j = 0; j < 16; j++, k++) {
      s = next(s);
      const v = unit(s) - 0.5;
      x[k] = v;
      eta += ((j % 5) - 2) * 0.2 * v;
    }
    const limit = Math.exp(-Math.exp(eta));
    let count = 0;
    s = next(s);
    for (let p = unit(s); p > limit; count++) {
      s = next(s);
      p *= unit(s);
    }
    y[i] = count;
  }
  return { x, y, n, d: 16 };
}

const linearAt = Object.fromEntries(W16.map((p, k) => [p, k < 16 ? 0.05 * k - 0.3 : 0.1]));

export const FORMULA_CASES: readonly BenchFormulaCase[] = [
  {
    key: 'exp-decay', formula: 'y ~ b1*(1-exp(-b2*x))', loss: 'mse', features: ['x'], params: ['b1', 'b2'],
    start: { b1: 2, b2: 0.5 }, at: { b1: 2.5, b2: 1.1 }, fill: (n) => fillDecay(n),
  },
  {
    key: 'linear16-huber', formula: LINEAR16, loss: 'huber:1.0', features: X16, params: W16,
    start: {}, at: linearAt, fill: (n) => fillLinear16(n),
  },
  {
    key: 'poisson16', formula: `y ~ exp(linear(${X16.join(', ')}))`, loss: 'poisson', features: X16, params: W16,
    start: {}, at: Object.fromEntries(W16.map((p, k) => [p, k < 16 ? 0.1 - 0.01 * k : 0.2])), fill: (n) => fillPoisson16(n),
  },
  {
    key: 'linear16-mse', formula: LINEAR16, loss: 'mse', features: X16, params: W16,
    start: {}, at: linearAt, fill: (n) => fillLinear16(n),
  },
];

export function formulaCase(key: FormulaCaseKey): BenchFormulaCase {
  const c = FORMULA_CASES.find((k) => k.key === key);
  if (!c) throw new Error(`no formula case '${key}'`);
  return c;
}

/** The compiled model, its start and evaluation point; throws if the model's layout is not the case's. */
export function setupFormulaCase(c: BenchFormulaCase): { model: FormulaModel; start: Float64Array; at: Float64Array } {
  const model = compileFormula({ formula: c.formula, loss: c.loss }, { columns: [...c.features, 'y'] });
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);
  if (!same(model.features, c.features)) throw new Error(`${c.key}: the model reads ${model.features.join(', ')}, the rows hold ${c.features.join(', ')}`);
  if (!same(model.params, c.params)) throw new Error(`${c.key}: the model's parameters are ${model.params.join(', ')}, expected ${c.params.join(', ')}`);
  return { model, start: startingParameters(model, c.start), at: Float64Array.from(c.params, (p) => c.at[p]) };
}
