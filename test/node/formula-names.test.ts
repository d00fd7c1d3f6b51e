// Names a formula may and may not use (src/formula/parse.ts, model.ts, losses.ts): names every JavaScript
// object answers to, a column named like a constant, what linear(...) may take and the names it makes, the
// weights column; carets at the name itself, not inside a longer one; and the rules' values where a
// function's argument leaves its domain only in the limit (x^p at x = 0) or meets float32 data (eq).
import { describe, expect, it } from 'vitest';
import { formulaError } from '../formula-errors.ts';
import { compileFormula, modelLatexNames, startingParameters } from '../../src/formula/model.ts';
import { parseLoss } from '../../src/formula/losses.ts';
import { MAX_NESTING, parseExpression } from '../../src/formula/parse.ts';
import { formulaRowSums, formulaPredict } from '../../src/models/formula.ts';
import { latex, latexNames, print } from '../../src/formula/print.ts';

const columns = (...c: string[]) => ({ columns: c });

describe('names every JavaScript object has', () => {
  it.each(['toString', 'constructor', 'valueOf', 'hasOwnProperty', '__proto__'])('%s is refused where it stands', (name) => {
    const formula = `y ~ a*x + ${name}`;
    const e = formulaError(() => compileFormula({ formula }, columns('x', 'y')));
    expect(e.reason).toMatch(/reserved/);
    expect(e.position).toBe(formula.indexOf(name));
    expect(formulaError(() => compileFormula({ formula: `y ~ a*${name}(x)` }, columns('x', 'y'))).reason).toMatch(/reserved/);
    expect(formulaError(() => compileFormula({ formula: 'y ~ linear()' }, columns('x', name, 'y'))).reason).toMatch(new RegExp(`"${name}".*rename`));
  });

  it('is no named loss, and the start values are read as their own entries', () => {
    expect(formulaError(() => parseLoss('constructor')).reason).toMatch(/unknown loss "constructor"/);
    const m = compileFormula({ formula: 'y ~ a*x + b' }, columns('x', 'y'));
    expect(() => startingParameters(m, { a: 1 })).toThrow(/no starting value for "b"/);
    expect(Array.from(startingParameters(m, { a: 1, b: 2 }))).toEqual([1, 2]);
  });
});

describe('a column named like a constant', () => {
  it('is refused at the name, in a formula and in linear()', () => {
    const formula = 'y ~ a*e + c';
    const e = formulaError(() => compileFormula({ formula }, columns('e', 'y')));
    expect(e.reason).toMatch(/both a column of the data and the constant e/);
    expect(e.position).toBe(formula.indexOf('e +'));
    expect(formulaError(() => compileFormula({ formula: 'y ~ linear()' }, columns('pi', 'y'))).reason).toMatch(/"pi".*constant pi/);
  });

  it('is refused as a declared parameter too', () => {
    expect(formulaError(() => compileFormula({ formula: 'y ~ a*x + pi' }, { params: ['a', 'pi'] })).reason).toMatch(/"pi" is both a declared parameter and the constant pi/);
  });

  it('leaves the constant alone where no column has its name', () => {
    const m = compileFormula({ formula: 'y ~ a*e + c*x' }, columns('x', 'y'));
    expect(m.params).toEqual(['a', 'c']);
    expect(m.features).toEqual(['x']);
  });
});

describe('linear(...)', () => {
  it('takes only columns of the data, each once, never the target or the weights', () => {
    expect(formulaError(() => compileFormula({ formula: 'y ~ linear(x, z)' }, columns('x', 'y'))).reason).toMatch(/"z" is not a column/);
    expect(formulaError(() => compileFormula({ formula: 'y ~ linear(x, x)' }, columns('x', 'y'))).reason).toMatch(/"x" twice/);
    expect(formulaError(() => compileFormula({ formula: 'y ~ linear(x, w)', weights: 'w' }, columns('x', 'w', 'y'))).reason).toMatch(/weights column "w"/);
    expect(formulaError(() => compileFormula({ formula: 'y ~ a*linear(x, q)' }, { params: ['a', 'q'] })).reason).toMatch(/"q" is not a column/);
  });

  it('never names its weights or bias like a name the formula writes', () => {
    const m = compileFormula({ formula: 'y ~ linear(x) + b*w_x' }, columns('x', 'w_x', 'y'));
    expect(m.features).toEqual(['x', 'w_x']);
    expect(m.params).not.toContain('w_x');
    expect(m.params).toContain('b');
    expect(m.biases).toHaveLength(1);
    expect(m.biases[0]).not.toBe('b');
    // The user's b is a parameter of its own, with no default: it needs a start.
    expect(() => startingParameters(m, {})).toThrow(/"b"/);
  });
});

describe('the weights column', () => {
  it('is a column of the data and not the target', () => {
    expect(formulaError(() => compileFormula({ formula: 'y ~ a*x', weights: 'y' }, columns('x', 'y'))).reason).toMatch(/weights column "y" is the target/);
    expect(formulaError(() => compileFormula({ formula: 'y ~ a*x', weights: 'w' }, columns('x', 'y'))).reason).toMatch(/weights column "w" is not a column/);
    expect(() => compileFormula({ formula: 'y ~ a*x', weights: '' }, columns('x', 'y'))).toThrow(TypeError);
  });
});

describe('the spec and the roles', () => {
  it('refuse unknown keys, names that are no array, and a name both a column and a parameter', () => {
    expect(() => compileFormula({ formula: 'y ~ a*x', los: 'mae' } as unknown as { formula: string }, columns('x', 'y'))).toThrow(/formula spec: unknown option "los"; the options are formula, loss, weights/);
    expect(() => compileFormula({ formula: 'y ~ a*x' }, { column: ['x', 'y'] } as unknown as { columns: string[] })).toThrow(/name roles: unknown option "column"/);
    expect(() => compileFormula({ formula: 'y ~ a*x' }, { columns: 'xy' as unknown as string[] })).toThrow(/name roles: columns: expected an array of names/);
    expect(() => compileFormula({ formula: 'y ~ a*x' }, { columns: ['x', 'y'], params: ['x'] })).toThrow(/"x" is among both the columns and the parameters/);
  });

  it('refuse a listed parameter the formula does not use, instead of making the real one a column', () => {
    const formula = 'y ~ b1*(1-exp(-b2*x))';
    expect(() => compileFormula({ formula }, { params: ['b1', 'bb2'] })).toThrow(RangeError);
    expect(() => compileFormula({ formula }, { params: ['b1', 'bb2'] })).toThrow('params: bb2 is not in the formula "y ~ b1*(1-exp(-b2*x))" (its names: b2, x, b1)');
    expect(() => compileFormula({ formula }, { params: ['b3', 'b4'] })).toThrow(/^params: b3, b4 are not in the formula/);
    expect(compileFormula({ formula }, { params: ['b1', 'b2'] }).params).toEqual(['b1', 'b2']);
  });
});

describe('arguments and literals', () => {
  it('refuses a formula that is no text and a literal that is not finite', () => {
    expect(() => compileFormula({ formula: 5 as unknown as string }, columns('x', 'y'))).toThrow(/formula: expected the text/);
    const e = formulaError(() => parseExpression('a*1e400'));
    expect(e.reason).toMatch(/1e400 is too large/);
    expect(e.position).toBe(2);
  });

  it('refuses a start value that is not a finite number', () => {
    const m = compileFormula({ formula: 'y ~ a*x' }, columns('x', 'y'));
    expect(() => startingParameters(m, { a: NaN })).toThrow(/"a" = NaN is not a finite number/);
    expect(() => startingParameters(m, { a: '1' as unknown as number })).toThrow(/"a" = 1 is not a finite number/);
  });
});

describe('carets at the name itself', () => {
  it('points at the whole name, not at the same letters inside a longer one', () => {
    const reserved = 'z ~ ky*x + y';
    expect(formulaError(() => compileFormula({ formula: reserved }, columns('x', 'z'))).position).toBe(reserved.lastIndexOf('y'));
    const own = 't ~ at*x + t';
    expect(formulaError(() => compileFormula({ formula: own }, columns('x', 't'))).position).toBe(own.lastIndexOf('t'));
  });

  it('counts a loss formula\'s leading spaces', () => {
    const loss = '  (yhat - q)^2';
    expect(formulaError(() => parseLoss(loss)).position).toBe(loss.indexOf('q'));
    expect(formulaError(() => parseLoss('  huber:-1')).position).toBe(8);
  });
});

describe('the rules at the edge of a domain', () => {
  const rows = (x: number[], y: number[]) => ({ x: Float32Array.from(x), y: Float32Array.from(y), n: x.length, d: 1 });

  it('d/dp x^p is 0 on a row where x = 0 (the limit of x^p ln x), not NaN', () => {
    const m = compileFormula({ formula: 'y ~ a*x^p' }, columns('x', 'y'));
    const data = rows([0, 0.5, 1, 2], [0, 0.35, 1, 2.8]);
    const out = new Float64Array(3);
    formulaRowSums(m)(Float64Array.of(1, 1.5), data.x, data.y, 0, data.n, out);
    expect(out.every(Number.isFinite)).toBe(true);
    // Against central differences of J in p (the x = 0 row does not depend on p at all).
    const J = (p: number) => {
      const o = new Float64Array(3);
      formulaRowSums(m)(Float64Array.of(1, p), data.x, data.y, 0, data.n, o);
      return o[2];
    };
    const h = 1e-6;
    expect(out[1]).toBeCloseTo((J(1.5 + h) - J(1.5 - h)) / (2 * h), 6);
  });

  it('xlogy\'s rule keeps its convention: the Poisson deviance has a slope on rows where y = 0, xlogy(a*x, x) at x = 0', () => {
    const deviance = compileFormula({ formula: 'count ~ exp(a + b*x)', loss: 'xlogy(y, y/yhat) - y + yhat' }, columns('x', 'count'));
    const data = rows([0, 0.5, 1, 1.5], [0, 2, 0, 5]);
    const out = new Float64Array(3);
    formulaRowSums(deviance)(Float64Array.of(0.2, 0.9), data.x, data.y, 0, data.n, out);
    expect(out.every(Number.isFinite)).toBe(true);
    const J = (a: number, b: number) => {
      const o = new Float64Array(3);
      formulaRowSums(deviance)(Float64Array.of(a, b), data.x, data.y, 0, data.n, o);
      return o[2];
    };
    const h = 1e-6;
    expect(out[0]).toBeCloseTo((J(0.2 + h, 0.9) - J(0.2 - h, 0.9)) / (2 * h), 6);
    expect(out[1]).toBeCloseTo((J(0.2, 0.9 + h) - J(0.2, 0.9 - h)) / (2 * h), 6);
    const m = compileFormula({ formula: 'y ~ xlogy(a*x, x) + b' }, columns('x', 'y'));
    const slopes = new Float64Array(3);
    formulaRowSums(m)(Float64Array.of(2, 1), Float32Array.of(0, 2), Float32Array.of(1, 3), 0, 2, slopes);
    expect(slopes.every(Number.isFinite)).toBe(true);
  });

  it('huber(u, δ) is NaN where a parameter δ reaches 0 or below (its rule and value hold for δ > 0 only)', () => {
    const m = compileFormula({ formula: 'y ~ b*huber(x, d)' }, columns('x', 'y'));
    expect(Array.from(formulaPredict(m, [1, 0.5], rows([3], [0])))).toEqual([1.375]);
    expect(formulaPredict(m, [1, -1], rows([3], [0]))[0]).toBeNaN();
    expect(formulaPredict(m, [1, 0], rows([3], [0]))[0]).toBeNaN();
  });

  it('eq compares in float32, the data\'s precision: eq(z, 0.1) holds where z was written 0.1', () => {
    const m = compileFormula({ formula: 'y ~ c*eq(x, 0.1) + a' }, columns('x', 'y'));
    const yhat = formulaPredict(m, [4, 1], rows([0.1, 0.2, 0.1], [5, 1, 5]));
    expect(Array.from(yhat)).toEqual([5, 1, 5]);
  });

  it('literals are held in float32, as the GPU holds them: a comparison with float32 data takes the GPU\'s branch', () => {
    const data = rows([0.1, 0.2, 0.3], [0, 0, 0]);
    // float32(0.1) <= 0.1 is false in float64, true with the literal held as the kernel holds it.
    const ifle = compileFormula({ formula: 'y ~ c*ifle(x, 0.1, 1, 0) + a' }, columns('x', 'y'));
    expect(Array.from(formulaPredict(ifle, [4, 1], data))).toEqual([5, 1, 1]);
    const sign = compileFormula({ formula: 'y ~ c*sign(x - 0.1) + a' }, columns('x', 'y'));
    expect(Array.from(formulaPredict(sign, [4, 1], data))).toEqual([1, 5, 5]);
  });
});

describe('formulaPredict', () => {
  it('checks its parameters and rows as the engines do', () => {
    const m = compileFormula({ formula: 'y ~ a*x + b' }, columns('x', 'y'));
    const d = { x: Float32Array.of(1, 2, 3), y: new Float32Array(3), n: 3, d: 1 };
    expect(Array.from(formulaPredict(m, [2, 1], d))).toEqual([3, 5, 7]);
    expect(() => formulaPredict(m, [1], d)).toThrow(/expected 2 values \(a, b\), got 1/);
    expect(() => formulaPredict(m, [NaN, 1], d)).toThrow(/a = NaN is not a finite number/);
    expect(() => formulaPredict(m, [1, 1], { ...d, n: 5 })).toThrow(/x has 3 values, expected n \* d = 5/);
    expect(() => formulaPredict(m, [1, 1], { ...d, d: 0 })).toThrow(/d = 0 columns per row; the model reads 1 \(x\)$/);
    // Rows wider than the model's would be read at the wrong stride: refused, not misread.
    expect(() => formulaPredict(m, [1, 1], { x: Float32Array.of(1, 9, 2, 9, 3, 9), y: new Float32Array(3), n: 3, d: 2 })).toThrow(/d = 2 columns per row; the model reads 1 \(x\)$/);
  });
  it('reads a weighted model\'s rows with or without the weights column, d apart', () => {
    const m = compileFormula({ formula: 'y ~ a*x + b', weights: 'w' }, columns('x', 'w', 'y'));
    const features = { x: Float32Array.of(1, 2, 3), y: new Float32Array(3), n: 3, d: 1 };
    const weighted = { x: Float32Array.of(1, 7, 2, 8, 3, 9), y: new Float32Array(3), n: 3, d: 2 };
    expect(Array.from(formulaPredict(m, [1, 2], features))).toEqual([3, 4, 5]);
    expect(Array.from(formulaPredict(m, [1, 2], weighted))).toEqual([3, 4, 5]);
    expect(() => formulaPredict(m, [1, 2], { ...weighted, x: new Float32Array(9), d: 3 })).toThrow(/d = 3 columns per row; the model reads 1 \(x\) or 2 \(then its weights column w\)/);
  });
});

describe('nesting', () => {
  it('refuses a formula nested deeper than MAX_NESTING, at the place it goes too deep, and takes one just within it', () => {
    const deep = (k: number) => `y ~ ${'exp('.repeat(k)}a*x${')'.repeat(k)}`;
    expect(compileFormula({ formula: deep(MAX_NESTING - 2) }, columns('x', 'y')).params).toEqual(['a']);
    const e = formulaError(() => compileFormula({ formula: deep(MAX_NESTING + 10) }, columns('x', 'y')));
    expect(e.reason).toMatch(/nests deeper than 256 levels/);
    expect(e.position).toBeGreaterThan(4 * (MAX_NESTING - 2));
    // Exactly MAX_NESTING levels of each kind are taken, one more is not.
    const parens = (k: number) => `${'('.repeat(k)}x${')'.repeat(k)}`;
    for (const nest of [parens, (k: number) => `${'exp('.repeat(k)}x${')'.repeat(k)}`, (k: number) => `${'-'.repeat(k)}x`]) {
      expect(() => parseExpression(nest(MAX_NESTING))).not.toThrow();
      expect(formulaError(() => parseExpression(nest(MAX_NESTING + 1))).reason).toMatch(/nests deeper than 256 levels/);
    }
    expect(formulaError(() => parseExpression('-'.repeat(20000) + 'x')).reason).toMatch(/nests deeper/);
    expect(formulaError(() => parseExpression('('.repeat(3000) + 'x' + ')'.repeat(3000))).reason).toMatch(/nests deeper/);
  });
  it('takes chains of thousands of operands as written (they do not nest), with their values and slopes', () => {
    // a / x / x / … : 3,000 divisions, a tree of bounded depth (a chain this long overflowed the stack).
    const quotient = compileFormula({ formula: `y ~ a${'/x'.repeat(3000)}` }, columns('x', 'y'));
    const row = { x: Float32Array.of(1.0001), y: Float32Array.of(0), n: 1, d: 1 };
    const x = Math.fround(1.0001);
    expect(formulaPredict(quotient, [2], row)[0]).toBeCloseTo(2 * x ** -3000, 12);
    // y ~ a*(x - z + x - z …) with 3,000 terms: 1,500 (x - z).
    const alternating = compileFormula({ formula: `y ~ a*(${Array.from({ length: 3000 }, (_, k) => (k % 2 === 0 ? 'x' : 'z')).join(' - ')})` }, columns('x', 'z', 'y'));
    const sums = formulaRowSums(alternating);
    const out = new Float64Array(2);
    sums(Float64Array.of(1), Float32Array.of(3, 1), Float32Array.of(0), 0, 1, out);
    // x − z − x − z … at x = 3, z = 1, a = 1: every term after the first subtracted, 3 − 1499·3 − 1500·1; ℓ = yhat², ∂ℓ/∂a = 2·yhat·yhat/a.
    const yhat = 3 - 1499 * 3 - 1500 * 1;
    expect(Array.from(out)).toEqual([2 * yhat ** 2, yhat ** 2]);
  });
});

describe('the printers', () => {
  it('take a tree, and say what to pass for a compiled model', () => {
    const m = compileFormula({ formula: 'y ~ a*x' }, columns('x', 'y'));
    expect(print(m.model)).toBe('a * x');
    expect(() => print(m as unknown as typeof m.model)).toThrow(/printFormula: expected an expression tree \(for a compiled model, pass model\.model, or model\.loss\.tree\)/);
    expect(() => latex('a*x' as unknown as typeof m.model)).toThrow(/formulaLatex: expected an expression tree, got string/);
    expect(() => latex(m.model, 'a' as never)).toThrow(/formulaLatex: names must be a function/);
  });

  it('never typeset two names of a formula alike: a1 and a_1 are both a subscript 1 on paper', () => {
    const alone = compileFormula({ formula: 'y ~ a1*x + a_2' }, columns('x', 'y'));
    expect(latex(alone.model, modelLatexNames(alone))).toBe('a_{1} \\cdot x + a_{2}');
    const both = compileFormula({ formula: 'y ~ a1*x + a_1' }, columns('x', 'y'));
    const tex = latex(both.model, modelLatexNames(both));
    expect(tex).toBe('\\mathrm{a1} \\cdot x + \\mathrm{a\\_1}');
    // A feature and a parameter can clash as well, and the target with either.
    expect(latexNames(['x_1', 'x1', 'b'])('b')).toBe('b');
    expect(latexNames(['x_1', 'x1'])('x1')).not.toBe(latexNames(['x_1', 'x1'])('x_1'));
    expect(latexNames(['y1', 'y_1'])('y1')).toBe('\\mathrm{y1}');
  });
});
