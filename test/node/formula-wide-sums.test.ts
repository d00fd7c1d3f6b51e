// Sums over thousands of columns (ast.ts: sum): runs of SUM_RUN terms chained as written, joined pairwise,
// so that every walk of a tree (derive, substitute, print, the emitters) recurses by about SUM_RUN + log2(n)
// frames, not n. linear() over 5,000 columns and a typed-out sum of 3,000 terms compile and derive each
// weight's partial as its column; the generated row sums equal a direct float64 evaluation; such a sum
// prints flat and parses back to the same tree. A program of more sums than one generated GPU kernel keeps
// (formula-grid.ts: FORMULA_MAX_SUMS) runs in slices (formula-passes.ts: outputSlices).
import { describe, expect, it } from 'vitest';
import { add, sub, sum, SUM_RUN, sumTerms, sym, type Node } from '../../src/formula/ast.ts';
import { compileFormula } from '../../src/formula/model.ts';
import { gradientProgram } from '../../src/formula/program.ts';
import { compileRowSums } from '../../src/formula/emit-js.ts';
import { parseExpression } from '../../src/formula/parse.ts';
import { print } from '../../src/formula/print.ts';
import { FORMULA_MAX_SUMS } from '../../src/gpu/formula/formula-grid.ts';
import { formulaPartialsWgsl, outputSlices } from '../../src/gpu/formula/formula-passes.ts';
import { mulberry32 } from '../data-gen.ts';

function depth(n: Node): number {
  switch (n.kind) {
    case 'num':
    case 'sym': return 1;
    case 'neg': return 1 + depth(n.arg);
    case 'bin': return 1 + Math.max(depth(n.left), depth(n.right));
    case 'call': return 1 + Math.max(...n.args.map(depth));
  }
}


const symbolsNamed = (n: number, prefix: string) => Array.from({ length: n }, (_, k) => sym(`${prefix}${k}`));

describe('sum', () => {
  it('chains up to SUM_RUN terms as written: the tree the parser builds for t1 + t2 + ...', () => {
    for (const n of [1, 2, 3, SUM_RUN]) {
      const ts = symbolsNamed(n, 'a');
      expect(sum(ts).key).toBe(ts.reduce((acc, t) => add(acc, t)).key);
      expect(sum(ts).key).toBe(parseExpression(ts.map((t) => print(t)).join(' + ')).key);
    }
  });

  it('keeps every term in order and the depth near SUM_RUN + log2(n / SUM_RUN), not n', () => {
    for (const n of [SUM_RUN + 1, 1000, 5000]) {
      const ts = symbolsNamed(n, 'a');
      const tree = sum(ts);
      expect(sumTerms(tree).map((t) => t.key)).toEqual(ts.map((t) => t.key));
      expect(depth(tree)).toBeLessThanOrEqual(SUM_RUN + Math.ceil(Math.log2(n / SUM_RUN)) + 1);
    }
    expect(sum([]).key).toBe('0');
  });

  it('prints as one flat sum that parses back to the same tree, a difference among its terms in parentheses', () => {
    const ts = symbolsNamed(3 * SUM_RUN + 5, 'a');
    ts[0] = sub(sym('u'), sym('v'));
    ts[100] = sub(sym('p'), sym('q'));
    const tree = sum(ts);
    const text = print(tree);
    expect(text.startsWith('(u - v) + a1 + a2')).toBe(true);
    expect(text).toContain(' + a99 + (p - q) + a101 + ');
    expect(text.match(/\(/g)).toHaveLength(2);
    expect(parseExpression(text).key).toBe(tree.key);
  });
});

describe('a formula of thousands of terms typed out', () => {
  const d = 3000;
  const text = Array.from({ length: d }, (_, k) => `w${k}*x${k}`).join(' + ');

  it('parses a run of + to the sum of its terms, derives and prints back flat', () => {
    const tree = parseExpression(text);
    expect(tree.key).toBe(sum(Array.from({ length: d }, (_, k) => parseExpression(`w${k}*x${k}`))).key);
    expect(print(tree)).toBe(text.replace(/\*/g, ' * '));
    const model = compileFormula({ formula: `y ~ ${text}` }, { columns: [...Array.from({ length: d }, (_, k) => `x${k}`), 'y'] });
    expect(model.params).toHaveLength(d);
    expect(model.dModel[1234].key).toBe(sym('x1234').key);
  });

  it('keeps a run with a minus as written, left to right', () => {
    const mixed = parseExpression('a + b - c + d');
    expect(mixed.key).toBe(add(sub(add(sym('a'), sym('b')), sym('c')), sym('d')).key);
    expect(print(mixed)).toBe('a + b - c + d');
  });
});

describe('linear() over 5,000 columns', () => {
  const d = 5000;
  const columns = Array.from({ length: d }, (_, k) => `x${k}`);
  const model = compileFormula({ formula: 'y ~ linear()', loss: 'huber:0.5' }, { columns: [...columns, 'y'] });

  it('prints as the flat sum of its terms, which parses back to the same tree', () => {
    const text = print(model.model);
    expect(text.startsWith('w_x0 * x0 + w_x1 * x1 + ')).toBe(true);
    expect(text.endsWith(' + w_x4999 * x4999 + b')).toBe(true);
    expect(parseExpression(text).key).toBe(model.model.key);
  });

  it('compiles: a weight per column and a bias, each weight\'s dyhat/dθ its column', () => {
    expect(model.params).toHaveLength(d + 1);
    expect(model.features).toEqual(columns);
    model.features.forEach((c, k) => expect(model.dModel[model.params.indexOf(`w_${c}`)].key, c).toBe(sym(c).key));
    expect(model.dModel[model.params.indexOf('b')].key).toBe('1');
  });

  it('its generated row sums equal the loss and gradient evaluated directly in float64', () => {
    const rand = mulberry32(5);
    const rows = 3;
    const x = Float64Array.from({ length: rows * d }, () => rand() * 2 - 1);
    const y = Float64Array.from({ length: rows }, () => rand() * 4 - 2);
    const theta = Float64Array.from({ length: d + 1 }, () => (rand() - 0.5) / 10);
    const out = new Float64Array(d + 2);
    compileRowSums(gradientProgram(model))(theta, x, y, 0, rows, out);
    const weight = model.features.map((c) => model.params.indexOf(`w_${c}`));
    const bias = model.params.indexOf('b');
    const want = new Float64Array(d + 2);
    for (let i = 0; i < rows; i++) {
      let yhat = theta[bias];
      for (let k = 0; k < d; k++) yhat += theta[weight[k]] * x[i * d + k];
      const r = yhat - y[i];
      const huber = Math.abs(r) <= 0.5 ? 0.5 * r * r : 0.5 * (Math.abs(r) - 0.25);
      const slope = Math.abs(r) <= 0.5 ? r : 0.5 * Math.sign(r);
      for (let k = 0; k < d; k++) want[weight[k]] += slope * x[i * d + k];
      want[bias] += slope;
      want[d + 1] += huber;
    }
    want.forEach((v, j) => expect(out[j], `output ${j}`).toBeCloseTo(v, 10));
  });
});

describe('the generated kernel\'s slices of a wide program', () => {
  it(`one kernel up to ${FORMULA_MAX_SUMS} outputs; beyond, the fewest slices of at most ${FORMULA_MAX_SUMS}, as even as they come, covering every output once`, () => {
    expect(outputSlices(FORMULA_MAX_SUMS, FORMULA_MAX_SUMS)).toEqual([{ start: 0, end: FORMULA_MAX_SUMS, row: FORMULA_MAX_SUMS }]);
    expect(outputSlices(903, FORMULA_MAX_SUMS)).toEqual([{ start: 0, end: 452, row: 903 }, { start: 452, end: 903, row: 903 }]);
    for (const [outputs, max] of [[514, 513], [10, 3], [7, 1], [4002, 513], [1, 5]]) {
      const slices = outputSlices(outputs, max);
      expect(slices).toHaveLength(Math.ceil(outputs / max));
      expect(slices[0].start).toBe(0);
      slices.forEach((s, j) => {
        expect(s.row).toBe(outputs);
        expect(s.end - s.start).toBeGreaterThan(0);
        expect(s.end - s.start).toBeLessThanOrEqual(max);
        expect(s.end).toBe(j + 1 < slices.length ? slices[j + 1].start : outputs);
      });
    }
    expect(() => outputSlices(10, 0)).toThrow(/maxSums/);
  });

  it('each slice\'s kernel sums its own outputs into its place in the whole row of partials', () => {
    const model = compileFormula({ formula: 'y ~ a*exp(-k*t) + c', loss: 'mse' }, { columns: ['t', 'y'] });
    const program = gradientProgram(model);
    const [first, second] = outputSlices(program.outputs.length, 2);
    const text = formulaPartialsWgsl({ ...program, outputs: program.outputs.slice(second.start, second.end) }, 64, 16384, undefined, second);
    expect(text).toContain('const SAMPLE_OUTPUTS: u32 = 2u;');
    expect(text).toContain('const PARTIALS_ROW: u32 = 4u;');
    expect(text).toContain('const PARTIALS_OFFSET: u32 = 2u;');
    expect(first).toEqual({ start: 0, end: 2, row: 4 });
    expect(formulaPartialsWgsl(program, 64, 16384)).toContain('const PARTIALS_OFFSET: u32 = 0u;');
  });
});
