// The linear shape is recognised from the model's and the loss's trees: every spelling of Σ θ·x + b with the
// squared error is found, with each column mapped to the parameter that multiplies it; anything else is not.
import { describe, expect, it } from 'vitest';
import { compileFormula } from '../../src/formula/model.ts';
import { linearShape } from '../../src/formula/shapes.ts';

const shapeOf = (formula: string, columns: string[], loss = 'mse', weights: string | null = null) => {
  const model = compileFormula({ formula, loss, weights }, { columns: [...columns, 'y'] });
  const shape = linearShape(model);
  // Names, not indices: what a reader checks.
  return shape && {
    weights: Object.fromEntries(shape.weights.map((p, c) => [model.features[c], model.params[p]])),
    bias: model.params[shape.bias],
  };
};

describe('linearShape: positives', () => {
  it('linear(...) for d = 1..16: column k multiplied by w_k, the bias b', () => {
    for (let d = 1; d <= 16; d++) {
      const columns = Array.from({ length: d }, (_, k) => `x${k + 1}`);
      expect(shapeOf(`y ~ linear(${columns.join(', ')})`, columns), `d = ${d}`).toEqual({
        weights: Object.fromEntries(columns.map((c) => [c, `w_${c}`])),
        bias: 'b',
      });
    }
  });

  it('linear() over every other column', () => {
    expect(shapeOf('y ~ linear()', ['a', 'c'])).toEqual({ weights: { a: 'w_a', c: 'w_c' }, bias: 'b' });
  });

  it('hand-written, either factor first, any order of the terms', () => {
    expect(shapeOf('y ~ w*x + b', ['x'])).toEqual({ weights: { x: 'w' }, bias: 'b' });
    expect(shapeOf('y ~ x*w + b', ['x'])).toEqual({ weights: { x: 'w' }, bias: 'b' });
    expect(shapeOf('y ~ b + x2*w2 + x1*w1', ['x1', 'x2'])).toEqual({ weights: { x1: 'w1', x2: 'w2' }, bias: 'b' });
    expect(shapeOf('y ~ w1*x1 + (c + w2*x2)', ['x1', 'x2'])).toEqual({ weights: { x1: 'w1', x2: 'w2' }, bias: 'c' });
  });

  it('maps parameters by position: y ~ b + x2*w2 + x1*w1 has params (b, w2, w1) and features (x2, x1)', () => {
    const model = compileFormula({ formula: 'y ~ b + x2*w2 + x1*w1' }, { columns: ['x1', 'x2', 'y'] });
    expect(model.params).toEqual(['b', 'w2', 'w1']);
    expect(model.features).toEqual(['x2', 'x1']);
    expect(linearShape(model)).toEqual({ weights: [1, 2], bias: 0 });
  });

  it('the squared error written out, either way round', () => {
    expect(shapeOf('y ~ w*x + b', ['x'], '(yhat - y)^2')).not.toBeNull();
    expect(shapeOf('y ~ w*x + b', ['x'], '(y - yhat)^2')).not.toBeNull();
  });
});

describe('linearShape: negatives', () => {
  const cases: Array<[string, string, string[], string?, string?]> = [
    ['a weights column', 'y ~ linear(x)', ['x', 'wt'], 'mse', 'wt'],
    ['huber', 'y ~ linear(x)', ['x'], 'huber:1'],
    ['mae', 'y ~ linear(x)', ['x'], 'mae'],
    ['logistic', 'y ~ linear(x)', ['x'], 'logistic'],
    ['a scaled squared error', 'y ~ linear(x)', ['x'], '(yhat - y)^2 / 2'],
    ['a parameter twice', 'y ~ w*x1 + w*x2 + b', ['x1', 'x2']],
    ['a column twice', 'y ~ w1*x + w2*x + b', ['x']],
    ['x^2', 'y ~ w*x^2 + b', ['x']],
    ['w*w*x', 'y ~ w*w*x + b', ['x']],
    ['a constant factor', 'y ~ 2*w*x + b', ['x']],
    ['a product of parameters', 'y ~ a*c*x + b', ['x']],
    ['a missing bias', 'y ~ w1*x1 + w2*x2', ['x1', 'x2']],
    ['two biases', 'y ~ w*x + b + c', ['x']],
    ['a subtracted term', 'y ~ b - w*x', ['x']],
    ['a constant offset', 'y ~ w*x + b + 1', ['x']],
    ['a column without a parameter', 'y ~ w*x1 + x2 + b', ['x1', 'x2']],
    ['exp', 'y ~ exp(w*x + b)', ['x']],
    ['sigmoid', 'y ~ sigmoid(linear(x))', ['x']],
    ['a function of a column', 'y ~ w*log(x) + b', ['x']],
    ['a ratio', 'y ~ w/x + b', ['x']],
    ['no column at all', 'y ~ b', ['x']],
  ];
  it.each(cases)('%s: %s', (_, formula, columns, loss, weights) => {
    expect(shapeOf(formula, columns, loss, weights ?? null)).toBeNull();
  });
});
