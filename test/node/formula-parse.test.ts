// The formula parser (src/formula/parse.ts) and printer (print.ts): precedence and associativity as in
// mathematics and Python, number syntax, constants, every function of the table with its arity, errors with
// the caret under the exact column, the model's checks (model.ts), and print → parse as a round trip.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formulaError } from '../formula-errors.ts';
import { parseExpression, parseModel, FormulaError } from '../../src/formula/parse.ts';
import { print } from '../../src/formula/print.ts';
import { CONSTANTS, FUNCTIONS } from '../../src/formula/functions.ts';
import { compileFormula, startingParameters } from '../../src/formula/model.ts';
import { anyTree, evaluate } from '../formula-trees.ts';

const value = (text: string, env: Record<string, number> = {}) => evaluate(parseExpression(text), env);
const key = (text: string) => parseExpression(text).key;

/** Asserts the reason, the 1-based column, and that the caret line puts ^ under that column of the formula. */
function expectCaret(e: FormulaError, formula: string, column: number, reason: RegExp) {
  expect(e.reason).toMatch(reason);
  expect(e.formula).toBe(formula);
  expect(e.position + 1).toBe(column);
  const lines = e.message.split('\n');
  expect(lines[0]).toBe(`${e.reason} at column ${column}`);
  expect(lines[1]).toBe(`  ${formula}`);
  expect(lines[2]).toBe(`  ${' '.repeat(column - 1)}^`);
}

describe('precedence and associativity', () => {
  it('unary minus binds looser than ^ on its right: -x^2 is -(x^2)', () => {
    expect(key('-x^2')).toBe(key('-(x^2)'));
    expect(value('-x^2', { x: 3 })).toBe(-9);
    expect(value('-2^2')).toBe(-4);
    expect(value('(-2)^2')).toBe(4);
  });

  it('^ and ** are right-associative and take a signed exponent', () => {
    expect(value('2^3^2')).toBe(512);
    expect(value('2**3')).toBe(8);
    expect(value('2**3**2')).toBe(512);
    expect(key('2**x')).toBe(key('2^x'));
    expect(value('2^-1')).toBe(0.5);
    expect(value('2^-x', { x: 2 })).toBe(0.25);
    expect(key('a^b^c')).toBe(key('a^(b^c)'));
    expect(key('a^b^c')).not.toBe(key('(a^b)^c'));
  });

  it('-, / are left-associative; * and / bind tighter than + and -', () => {
    expect(value('a-b-c', { a: 10, b: 3, c: 2 })).toBe(5);
    expect(value('a/b/c', { a: 12, b: 3, c: 2 })).toBe(2);
    expect(key('a-b-c')).toBe(key('(a-b)-c'));
    expect(key('a/b/c')).toBe(key('(a/b)/c'));
    expect(value('1 + 2*3 - 4/2')).toBe(5);
    expect(value('2*3^2')).toBe(18);
  });

  it('unary plus is nothing; unary minus nests', () => {
    expect(key('+x')).toBe(key('x'));
    expect(key('+-+x')).toBe(key('-x'));
    expect(key('--x')).toBe(key('x'));
    expect(value('2 - -3')).toBe(5);
    expect(value('2 * -3')).toBe(-6);
  });
});

describe('numbers and constants', () => {
  it.each([
    ['2', 2], ['.5', 0.5], ['1e-3', 1e-3], ['2.5E+02', 250], ['3.', 3], ['0.125e1', 1.25], ['1E3', 1000],
  ])('%s is %d', (text, v) => {
    expect(value(text)).toBe(v);
  });

  it('pi and e are the constants, kept by name', () => {
    expect(Object.keys(CONSTANTS).sort()).toEqual(['e', 'pi']);
    expect(value('pi')).toBe(Math.PI);
    expect(value('e')).toBe(Math.E);
    expect(print(parseExpression('2*pi'))).toBe('2 * pi');
    // e^u is exp(u), ln e is 1.
    expect(key('e^x')).toBe(key('exp(x)'));
    expect(value('log(e)')).toBe(1);
  });
});

describe('functions of the table', () => {
  const names = Object.keys(FUNCTIONS);

  it.each(names)('%s(...) with its arity parses to its value', (fn) => {
    const { arity, value: f } = FUNCTIONS[fn];
    const args = [0.7, 0.3, 1.9, -0.4].slice(0, arity);
    const text = `${fn}(${args.map((_, k) => `v${k}`).join(', ')})`;
    const env = Object.fromEntries(args.map((v, k) => [`v${k}`, v]));
    expect(value(text, env)).toBeCloseTo(f(...args), 14);
  });

  it.each(names)('%s with a wrong number of arguments is an error at its name', (fn) => {
    const { arity, variadic } = FUNCTIONS[fn];
    // A function of any number of arguments takes more than its least number.
    for (const n of variadic ? [arity - 1] : [arity - 1, arity + 1]) {
      if (n < 0) continue;
      const formula = `1 + ${fn}(${Array.from({ length: n }, () => 'x').join(', ')})`;
      const takes = `${variadic ? 'at least ' : ''}${arity} argument${arity === 1 ? '' : 's'}`;
      expectCaret(formulaError(() => parseExpression(formula)), formula, 5, new RegExp(`^${fn} takes ${takes}, got ${n}$`));
    }
  });

  it('huber with a threshold that is not positive is an error at its name', () => {
    expectCaret(formulaError(() => parseExpression('2 * huber(x, -1)')), '2 * huber(x, -1)', 5, /^huber\(u, δ\) needs a positive δ, got -1$/);
    expectCaret(formulaError(() => parseExpression('huber(x, 0)')), 'huber(x, 0)', 1, /^huber\(u, δ\) needs a positive δ, got 0$/);
    expect(() => parseExpression('huber(x, d)')).not.toThrow(); // a parameter: its value is the run's
  });

  it('a function name without a call is an error', () => {
    expectCaret(formulaError(() => parseExpression('x + exp')), 'x + exp', 5, /^exp is a function: write exp\(\.\.\.\)$/);
  });
});

describe('syntax errors: reason and caret column', () => {
  it('a missing ")" points past the end and names the "(" it would close', () => {
    const f = 'y ~ b1*(1-exp(-b2*x)';
    expectCaret(formulaError(() => parseModel(f)), f, f.length + 1, /^the "\(" opened at column 8 is not closed: expected "\)"$/);
  });

  it('a number running into a name points at the name, in the whole formula', () => {
    // Tokenizer errors used to be placed in the text after "~" (column 3 of " 2x"); fixed in parse.ts.
    expectCaret(formulaError(() => parseModel('y ~ 2x')), 'y ~ 2x', 6, /write 2\*x, not 2x/);
    expectCaret(formulaError(() => parseModel('y ~ 1e5x')), 'y ~ 1e5x', 8, /a number runs into a name/);
    expectCaret(formulaError(() => parseExpression('3 + 2x')), '3 + 2x', 6, /a number runs into a name/);
  });

  it('an unexpected character points at it, in the whole formula', () => {
    expectCaret(formulaError(() => parseModel('y ~ x $ 2')), 'y ~ x $ 2', 7, /^unexpected character "\$"$/);
  });

  it('an unknown function is named with the known ones', () => {
    const e = formulaError(() => parseModel('y ~ foo(x)'));
    expectCaret(e, 'y ~ foo(x)', 5, /^unknown function "foo" \(known: /);
    for (const fn of Object.keys(FUNCTIONS).filter((f) => f !== 'ifle')) expect(e.reason).toContain(fn);
  });

  it('an expression that ends early points past its end', () => {
    expectCaret(formulaError(() => parseModel('y ~ x +')), 'y ~ x +', 8, /^the formula ends where a value was expected$/);
    expectCaret(formulaError(() => parseModel('y ~')), 'y ~', 4, /^the model expression is missing after "~"$/);
    expectCaret(formulaError(() => parseModel('y ~   ')), 'y ~   ', 7, /^the model expression is missing after "~"$/);
  });

  it('unmatched ")", a second "~", two values in a row, an empty call argument', () => {
    expectCaret(formulaError(() => parseModel('y ~ x)')), 'y ~ x)', 6, /^unmatched "\)"$/);
    expectCaret(formulaError(() => parseModel('y ~ x ~ z')), 'y ~ x ~ z', 7, /^"~" may appear once/);
    expectCaret(formulaError(() => parseModel('y ~ a b')), 'y ~ a b', 7, /^expected an operator, found "b"$/);
    expectCaret(formulaError(() => parseModel('y ~ min(x,)')), 'y ~ min(x,)', 11, /^expected a number, a name or "\(", found "\)"$/);
    expectCaret(formulaError(() => parseModel('y ~ min(x y)')), 'y ~ min(x y)', 11, /^the call of min opened at column 8 expects "," or "\)"$/);
  });
});

describe('model errors', () => {
  const columns = ['x', 'y', 't'];

  it('no "~"', () => {
    expectCaret(formulaError(() => compileFormula({ formula: 'y = a*x' }, { columns })), 'y = a*x', 8, /no "~" found/);
  });

  it('a target that is not one column name, or is missing', () => {
    expectCaret(formulaError(() => parseModel(' ~ x')), ' ~ x', 2, /^the target column is missing before "~"$/);
    expectCaret(formulaError(() => parseModel('a b ~ x')), 'a b ~ x', 1, /^the target must be one column name$/);
  });

  it('a target that is not a column of the data names the columns', () => {
    const e = formulaError(() => compileFormula({ formula: 'z ~ a*x' }, { columns }));
    expectCaret(e, 'z ~ a*x', 1, /^the target "z" is not a column of the data \(columns: x, y, t\)$/);
  });

  it('a model that uses its own target', () => {
    expectCaret(formulaError(() => compileFormula({ formula: 'y ~ a*y' }, { columns })), 'y ~ a*y', 7, /^the model uses its own target "y"$/);
  });

  it('reserved names: yhat, and y where it is not a column', () => {
    expectCaret(formulaError(() => compileFormula({ formula: 'y ~ a*yhat' }, { columns })), 'y ~ a*yhat', 7, /^"yhat" is reserved in a model/);
    expectCaret(formulaError(() => compileFormula({ formula: 't ~ a*y' }, { columns: ['t', 'x'] })), 't ~ a*y', 7, /^"y" is reserved in a model/);
  });

  it('a parameter without a starting value is named by startingParameters', () => {
    const m = compileFormula({ formula: 'y ~ b1*(1-exp(-b2*x))' }, { columns });
    expect(m.params).toEqual(['b1', 'b2']);
    expect(m.features).toEqual(['x']);
    expect(() => startingParameters(m, { b1: 1 })).toThrow(/^start: no starting value for "b2" .*e\.g\. \{ b2: 1 \}/);
    expect(() => startingParameters(m, { b1: 1 }, 'cli')).toThrow(/^--start: no starting value for "b2" .*e\.g\. --start b2=1,/);
    // A misspelt column becomes a parameter, and the error says to check the spelling.
    const typo = compileFormula({ formula: 'y ~ a*xx' }, { columns });
    expect(() => startingParameters(typo, { a: 1 })).toThrow(/no starting value for "xx".*check the column's spelling/);
    expect(Array.from(startingParameters(m, { b1: 2, b2: 0.5 }))).toEqual([2, 0.5]);
  });

  it('--start naming a column, or an unknown name, is an error listing the parameters', () => {
    const m = compileFormula({ formula: 'y ~ b1*(1-exp(-b2*x))' }, { columns });
    expect(() => startingParameters(m, { b1: 1, b2: 1, x: 3 }, 'cli')).toThrow(/^--start: "x" is not a parameter of the model \(it is a column of the data\); parameters: b1, b2/);
    expect(() => startingParameters(m, { b1: 1, b2: 1, q: 3 })).toThrow(/^start: "q" is not a parameter of the model; parameters: b1, b2/);
  });

  it('linear(...) gives named weights and a bias starting at 0', () => {
    const m = compileFormula({ formula: 'y ~ linear(x, t)' }, { columns });
    expect(m.params).toEqual(['w_x', 'w_t', 'b']);
    expect(Array.from(startingParameters(m, {}))).toEqual([0, 0, 0]);
  });
});

describe('print → parse round trip', () => {
  it('parse(print(t)) has the key of t, for random trees', () => {
    fc.assert(
      fc.property(anyTree, (t) => {
        const text = print(t);
        expect(parseExpression(text).key, text).toBe(t.key);
      }),
      { numRuns: 2000 },
    );
  });

  it('products and sums nested on the right keep their parentheses', () => {
    for (const text of ['a * (b * c)', 'a + (b - c)', 'a + (b + c)', 'a / (b * c)', 'a - (b - c)', 'x * (-2 * b)']) {
      const t = parseExpression(text);
      expect(parseExpression(print(t)).key, `${text} printed ${print(t)}`).toBe(t.key);
    }
  });
});
