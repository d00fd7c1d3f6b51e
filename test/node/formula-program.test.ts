// The per-sample program (src/formula/program.ts) and its emitters: the generated JavaScript row sums against a
// naive evaluation of J and finite differences of it, common subexpressions computed once, the WGSL's literals
// and integer powers, and the float64 twin engine (CpuFormulaEngine) fitting known parameters.
import { describe, expect, it } from 'vitest';
import { compileFormula, sampleLoss, startingParameters, type FormulaModel } from '../../src/formula/model.ts';
import { factorCommon, gradientProgram, MAX_LET_DEPTH, normalEquationsProgram, predictionProgram, type SampleProgram } from '../../src/formula/program.ts';
import { parseExpression } from '../../src/formula/parse.ts';
import { compileRowSums, heldLiteral } from '../../src/formula/emit-js.ts';
import { wgslSampleFunction } from '../../src/formula/emit-wgsl.ts';
import { print } from '../../src/formula/print.ts';
import type { Node } from '../../src/formula/ast.ts';
import { CpuFormulaEngine } from '../../src/cpu/formula-engine.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { evaluate } from '../formula-trees.ts';
import { mulberry32 } from '../data-gen.ts';

interface Case {
  formula: string;
  loss: string;
  /** Target of a row from its features. */
  target: (row: Record<string, number>, rand: () => number) => number;
  theta: Record<string, number>;
}

const noisy = (f: (r: Record<string, number>) => number) => (r: Record<string, number>, rand: () => number) => f(r) + (rand() - 0.5);
const label = (f: (r: Record<string, number>) => number) => (r: Record<string, number>, rand: () => number) => (rand() < 1 / (1 + Math.exp(-f(r))) ? 1 : 0);

const CASES: Case[] = [
  ...['mse', 'mae', 'huber', 'huber:0.3', 'quantile:0.2', 'cauchy:2', 'logcosh', '(yhat - y)^4 / 4'].map((loss) => ({
    formula: 'y ~ b1*(1-exp(-b2*x))', loss, target: noisy((r) => 3 * (1 - Math.exp(-0.4 * r.x))), theta: { b1: 2.5, b2: 0.6 },
  })),
  { formula: 'y ~ a*exp(-k*t) + c', loss: 'mse', target: noisy((r) => 2 * Math.exp(-0.7 * r.t) + 0.5), theta: { a: 1.5, k: 0.5, c: 0.2 } },
  { formula: 'y ~ linear(x, t)', loss: 'huber:2', target: noisy((r) => r.x - 2 * r.t + 1), theta: { w_x: 0.5, w_t: -1, b: 0.3 } },
  { formula: 'y ~ exp(a*x + b)', loss: 'poisson', target: (r, rand) => Math.floor(rand() * 2 * Math.exp(0.3 * r.x)), theta: { a: 0.2, b: 0.1 } },
  { formula: 'y ~ a*x + b*t + c', loss: 'logistic', target: label((r) => r.x - r.t), theta: { a: 0.7, b: -0.4, c: 0.1 } },
  { formula: 'y ~ sigmoid(a*x + b*t + c)', loss: 'cross-entropy', target: label((r) => r.x - r.t), theta: { a: 0.7, b: -0.4, c: 0.1 } },
  { formula: 'y ~ max(a*x, b) + min(c, t) * abs(x - c)', loss: 'mse', target: noisy((r) => r.x), theta: { a: 1.2, b: 0.5, c: 0.8 } },
];

/** Rows of x in [0, 4] and t in [0, 3], weights in [0.2, 2], and the targets: row-major as the engines read them. */
function dataset(m: FormulaModel, c: Case, n: number, seed: number) {
  const rand = mulberry32(seed);
  const d = m.features.length + (m.spec.weights ? 1 : 0);
  const x = new Float64Array(n * d);
  const y = new Float64Array(n);
  const rows: Array<Record<string, number>> = [];
  for (let i = 0; i < n; i++) {
    const row: Record<string, number> = { x: rand() * 4, t: rand() * 3 };
    m.features.forEach((f, k) => (x[i * d + k] = row[f]));
    if (m.spec.weights) {
      row.w = 0.2 + 1.8 * rand();
      x[i * d + m.features.length] = row.w;
    }
    y[i] = c.target(row, rand);
    row.y = y[i];
    rows.push(row);
  }
  return { x, y, n, d, rows };
}

/** J = (1/N) Σ w_i ℓ_i from the loss tree with yhat replaced by the model, evaluated row by row. */
function naiveJ(loss: Node, rows: Array<Record<string, number>>, params: readonly string[], theta: ArrayLike<number>, weighted: boolean): number {
  let s = 0;
  for (const row of rows) {
    const env = { ...row, ...Object.fromEntries(params.map((p, j) => [p, theta[j]])) };
    // The literals as the generated code holds them (float32), the rest in float64.
    s += (weighted ? row.w : 1) * evaluate(loss, env, heldLiteral);
  }
  return s / rows.length;
}

// Central differences of J with h = 1e-6 max(1, |θ|): truncation ~ h² |J'''| ~ 1e-12, rounding ~ eps |J| / h ~
// 1e-10 for J ~ 1; 1e-6 of the gradient's scale separates those from a wrong term, which is O(1) of one
// partial. The subgradient losses (mae, quantile, huber, max/min/abs) are smooth between kinks: a step of h moves
// a row's residual by at most h |x| <= 4e-6, so 40 rows with residuals spread over ~1 meet a kink inside the
// stencil with probability ~1e-4; the rows are seeded, so a pass is not luck that changes between runs.
const FD_REL_TOL = 1e-6;

describe('JS row sums against a naive J and its finite differences', () => {
  for (const c of CASES) {
    for (const weighted of [false, true]) {
      it(`${c.formula} with ${c.loss}${weighted ? ', weighted' : ''}`, () => {
        const m = compileFormula({ formula: c.formula, loss: c.loss, weights: weighted ? 'w' : null }, { columns: ['x', 't', 'y', 'w'] });
        const theta = startingParameters(m, c.theta);
        const data = dataset(m, c, 40, 7);
        const P = m.params.length;
        const sums = compileRowSums(gradientProgram(m));
        const out = new Float64Array(P + 1);
        sums(theta, data.x, data.y, 0, data.n, out);
        const loss = sampleLoss(m);
        const J = (t: ArrayLike<number>) => naiveJ(loss, data.rows, m.params, t, weighted);
        const j0 = J(theta);
        expect(Number.isFinite(j0)).toBe(true);
        expect(out[P] / data.n).toBeCloseTo(j0, 12);
        const numeric = m.params.map((_, j) => {
          const h = 1e-6 * Math.max(1, Math.abs(theta[j]));
          const at = (s: number) => J(theta.map((v, k) => (k === j ? v + s : v)));
          return (at(h) - at(-h)) / (2 * h);
        });
        const scale = Math.max(1, ...numeric.map(Math.abs));
        for (let j = 0; j < P; j++) {
          expect(Math.abs(out[j] / data.n - numeric[j]), `∂J/∂${m.params[j]}: rows ${out[j] / data.n}, differences ${numeric[j]}`).toBeLessThanOrEqual(FD_REL_TOL * scale);
        }
        // Row ranges add up: [0, 17) + [17, n) is [0, n).
        const split = new Float64Array(P + 1);
        sums(theta, data.x, data.y, 0, 17, split);
        sums(theta, data.x, data.y, 17, data.n, split);
        for (let k = 0; k <= P; k++) expect(split[k]).toBeCloseTo(out[k], 10);
      });
    }
  }

  it('prediction program: yhat', () => {
    const m = compileFormula({ formula: 'y ~ b1*(1-exp(-b2*x))' }, { columns: ['x', 'y'] });
    const theta = [3, 0.5];
    const one = new Float64Array(1);
    compileRowSums(predictionProgram(m))(theta, [2], [0], 0, 1, one);
    expect(one[0]).toBeCloseTo(3 * (1 - Math.exp(-1)), 14);
  });
});

/** Every non-leaf subtree key of a program's lets and outputs, with its count. */
function subtreeCounts(p: SampleProgram): Map<string, number> {
  const counts = new Map<string, number>();
  const visit = (n: Node) => {
    if (n.kind === 'num' || n.kind === 'sym') return;
    counts.set(n.key, (counts.get(n.key) ?? 0) + 1);
    if (n.kind === 'neg') visit(n.arg);
    else if (n.kind === 'bin') {
      visit(n.left);
      visit(n.right);
    } else n.args.forEach(visit);
  };
  for (const { node } of p.lets) visit(node);
  p.outputs.forEach(visit);
  return counts;
}

describe('common subexpressions', () => {
  const columns = Array.from({ length: 16 }, (_, k) => `x${k + 1}`);

  it('y ~ linear(x1..x16) with huber: one temporary g for dℓ/dyhat, which every partial multiplies', () => {
    const m = compileFormula({ formula: `y ~ linear(${columns.join(', ')})`, loss: 'huber' }, { columns: [...columns, 'y'] });
    const p = gradientProgram(m);
    expect(p.params).toBe(17);
    expect(p.lets.filter((l) => l.name === 'g')).toHaveLength(1);
    // The 16 weights' partials are g * x_k, the bias's is g: none recomputes the factor.
    expect(p.outputs.slice(0, 16).map(print)).toEqual(columns.map((_, k) => `g * x${k}`));
    expect(print(p.outputs[16])).toBe('g');
    // The residual yhat - y is computed once, as is |r|, its sign and min(|r|, δ).
    const letText = p.lets.map((l) => print(l.node));
    expect(letText.filter((t) => t.includes('p0 * x0'))).toHaveLength(1);
    expect(p.lets.length).toBeLessThanOrEqual(8);
  });

  it('y ~ exp(linear(x1..x16)) with poisson: the partials exp(η)·x_k − y·x_k are factored, (exp(η) − y) computed once', () => {
    const m = compileFormula({ formula: `y ~ exp(linear(${columns.join(', ')}))`, loss: 'poisson' }, { columns: [...columns, 'y'] });
    const p = gradientProgram(m);
    const factor = p.lets.find((l) => print(l.node).endsWith(' - y'));
    expect(factor, p.lets.map((l) => `${l.name} = ${print(l.node)}`).join('\n')).toBeDefined();
    expect(p.outputs.slice(0, 16).map(print)).toEqual(columns.map((_, k) => `${factor!.name} * x${k}`));
    expect(print(p.outputs[16])).toBe(factor!.name);
  });

  it('factorCommon: a·c ± b·c as (a ± b)·c, the common factor on either side, bottom up; other sums as they were', () => {
    const f = (text: string) => print(factorCommon(parseExpression(text)));
    expect(f('a*c - b*c')).toBe('(a - b) * c');
    expect(f('c*a + c*b')).toBe('c * (a + b)');
    expect(f('a*c - c*b')).toBe('(a - b) * c');
    expect(f('c*a + b*c')).toBe('c * (a + b)');
    expect(f('exp(a*c + b*c)')).toBe('exp((a + b) * c)');
    expect(f('a*c - b*d')).toBe('a * c - b * d');
    expect(f('a + b*c')).toBe('a + b * c');
  });

  it.each(CASES.map((c) => [c.formula, c.loss] as const))('no subexpression is computed twice: %s with %s', (formula, loss) => {
    const m = compileFormula({ formula, loss, weights: 'w' }, { columns: ['x', 't', 'y', 'w'] });
    for (const p of [gradientProgram(m), normalEquationsProgram(m)]) {
      const twice = [...subtreeCounts(p)].filter(([, k]) => k > 1).map(([key]) => key);
      expect(twice, p.lets.map((l) => `${l.name} = ${print(l.node)}`).join('\n')).toEqual([]);
      // And every temporary is used: a let named t.. appears in a later let or an output.
      const text = [...p.lets.map((l) => print(l.node)), ...p.outputs.map(print)].join(' ; ');
      for (const { name } of p.lets) expect(text, name).toMatch(new RegExp(`\\b${name}\\b`));
    }
  });
});

describe('WGSL emission', () => {
  /** The body of nabla_sample with what is legitimately an integer removed: indices, array sizes, nabla_powi's i32 exponent. */
  function literalsOf(wgsl: string): string[] {
    const body = wgsl.slice(wgsl.indexOf('fn nabla_sample('));
    const stripped = body
      .replace(/array<f32, \d+>/g, '')
      .replace(/\[\d+\]/g, '')
      .replace(/(nabla_powi\((?:[^()]|\([^()]*\))*?), -?\d+\)/g, '$1)')
      .replace(/\b[A-Za-z_][A-Za-z0-9_]*/g, ' ');
    return stripped.match(/\d[\d.eE+-]*/g) ?? [];
  }

  const FORMULAS: Array<[string, string]> = [
    ['y ~ max(a*x, 2) + min(c, 3) * abs(x - 1)', 'huber:2'],
    ['y ~ a*x^2 + b*x^3 + c*x^5 + d/x^2 + e2*t^0.5 + f*t^2.5', 'quantile:0.25'],
    ['y ~ sigmoid(a*x + b*t + 1)', 'cross-entropy'],
    ['y ~ a*exp(-k*t) + c', 'logcosh'],
    ['y ~ linear(x, t)', 'cauchy:3'],
  ];

  it.each(FORMULAS)('%s with %s: only f32 literals (no bare integers inside select, min, max)', (formula, loss) => {
    const m = compileFormula({ formula, loss, weights: 'w' }, { columns: ['x', 't', 'y', 'w'] });
    const wgsl = wgslSampleFunction(gradientProgram(m));
    const literals = literalsOf(wgsl);
    expect(literals.length).toBeGreaterThan(0);
    for (const lit of literals) expect(lit, `${lit} in\n${wgsl.slice(wgsl.indexOf('fn nabla_sample('))}`).toMatch(/^(\d+\.\d*|\d+(\.\d*)?[eE][+-]?\d+)$/);
    // select/min/max arguments in particular: no integer literal directly as an argument.
    expect(wgsl).not.toMatch(/\b(select|min|max)\([^;]*?[(,]\s*-?\d+\s*[,)]/);
  });

  it('integer powers are nabla_sq, nabla_cube or nabla_powi; pow only for a real exponent', () => {
    const m = compileFormula({ formula: 'y ~ a*x^2 + b*x^3 + c*x^5 + d/x^2 + e2*t^-3 + f*t^2.5', loss: 'mse' }, { columns: ['x', 't', 'y'] });
    const wgsl = wgslSampleFunction(gradientProgram(m));
    const body = wgsl.slice(wgsl.indexOf('fn nabla_sample('));
    expect(body).toMatch(/nabla_sq\(x0\)/);
    expect(body).toMatch(/nabla_cube\(x0\)/);
    expect(body).toMatch(/nabla_powi\(x0, 5\)/);
    expect(body).toMatch(/nabla_powi\(x1, -3\)/);
    // The only general power left (nabla_pow) has the non-integer exponent (2.5, or 1.5 in its derivative).
    const pows = [...body.matchAll(/\bnabla_pow\(([^,]+), ([^)]+)\)/g)].map((mm) => mm[2]);
    expect(pows.length).toBeGreaterThan(0);
    for (const e of pows) expect(Number.isInteger(Number(e)), `pow exponent ${e}`).toBe(false);
  });
});

describe('CpuFormulaEngine', () => {
  it('trains y ~ a*exp(-k*t) + c to known parameters with adam', async () => {
    const m = compileFormula({ formula: 'y ~ a*exp(-k*t) + c', loss: 'mse' }, { columns: ['t', 'y'] });
    expect(m.params).toEqual(['a', 'k', 'c']);
    const n = 200;
    const x = new Float32Array(n);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      x[i] = (5 * i) / n;
      y[i] = 2 * Math.exp(-0.7 * x[i]) + 0.5;
    }
    const engine = new CpuFormulaEngine(m, { x, y, n, d: 1 }, startingParameters(m, { a: 1, k: 1, c: 0 }));
    const r = await engine.train({ lr: 0.02, maxEpochs: 4000, optimizer: optimizerConfig({ kind: 'adam' }) });
    engine.dispose();
    // Noise-free float32 data: the fit recovers the parameters to the data's precision, not just a small loss.
    expect(r.loss).toBeLessThan(1e-8);
    expect(r.theta[0]).toBeCloseTo(2, 3);
    expect(r.theta[1]).toBeCloseTo(0.7, 3);
    expect(r.theta[2]).toBeCloseTo(0.5, 3);
    await expect(engine.lossAndGradient(r.theta)).rejects.toThrow(/after dispose/);
  });
});

describe('deep expressions', () => {
  it('a sum over 512 columns is split into lets no deeper than MAX_LET_DEPTH, with the same value', () => {
    const columns = Array.from({ length: 512 }, (_, j) => `x${j + 1}`);
    const model = compileFormula({ formula: `y ~ linear(${columns.join(', ')})` }, { columns: [...columns, 'y'] });
    const program = gradientProgram(model);
    const depthOf = (n: Node): number => 1 + Math.max(0, ...(n.kind === 'neg' ? [n.arg] : n.kind === 'bin' ? [n.left, n.right] : n.kind === 'call' ? n.args : []).map(depthOf));
    for (const n of [...program.lets.map((l) => l.node), ...program.outputs]) expect(depthOf(n)).toBeLessThanOrEqual(MAX_LET_DEPTH);
    // The split program sums what the tree does: its row sums at a random point against the direct sums.
    const theta = Float64Array.from({ length: 513 }, (_, j) => Math.sin(j + 1));
    const x = Float64Array.from({ length: 512 * 3 }, (_, k) => Math.cos(k));
    const y = [0.5, -1, 2];
    const out = new Float64Array(514);
    compileRowSums(program)(theta, x, y, 0, 3, out);
    let loss = 0;
    for (let i = 0; i < 3; i++) {
      let r = theta[512] - y[i];
      for (let j = 0; j < 512; j++) r += theta[j] * x[i * 512 + j];
      loss += r * r;
    }
    expect(Math.abs(out[513] - loss)).toBeLessThanOrEqual(1e-12 * loss);
  });
});
