// The linear shape is recognised from the model's and the loss's trees: every spelling of Σ θ·x + b with the
// squared error is found, with each column mapped to the parameter that multiplies it; anything else is not.
// The linear predictor, F(η + b, q..), likewise, with its reduced model checked against the full one's partials.
import { describe, expect, it } from 'vitest';
import { compileFormula } from '../../src/formula/model.ts';
import { compileRowSums } from '../../src/formula/emit-js.ts';
import { print } from '../../src/formula/print.ts';
import { gradientProgram } from '../../src/formula/program.ts';
import { ETA, linearPredictor, linearShape } from '../../src/formula/shapes.ts';
import { seededUniform } from '../../src/data/shuffle.ts';

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

const predictorOf = (formula: string, columns: string[], loss = 'mse', weights: string | null = null) => {
  const model = compileFormula({ formula, loss, weights }, { columns: [...columns, 'y', ...(weights ? [weights] : [])] });
  return { model, shape: linearPredictor(model) };
};

describe('linearPredictor: yhat = F(η + b, q..) over every column', () => {
  it('the linear model itself, under any loss, weighted or not: F is η + b, the bias the one reduced parameter', () => {
    for (const [loss, weights] of [['mse', null], ['logistic', null], ['huber:2', 'wt']] as const) {
      const { model, shape } = predictorOf('y ~ linear(x1, x2, x3)', ['x1', 'x2', 'x3'], loss, weights);
      expect(shape, loss).not.toBeNull();
      expect(shape!.weights.map((p) => model.params[p])).toEqual(['w_x1', 'w_x2', 'w_x3']);
      expect(shape!.reducedParams.map((p) => model.params[p])).toEqual(['b']);
      expect(print(shape!.reduced.model)).toBe('eta + b');
      expect(shape!.reduced.features).toEqual([ETA]);
      expect(shape!.reduced.spec.weights).toBe(weights);
    }
  });

  it('a link around η and parameters outside it: the bias first, then the others in the model order', () => {
    const { model, shape } = predictorOf('y ~ a * tanh(linear(x1, x2)) + c', ['x1', 'x2'], 'huber:0.5');
    expect(shape!.reducedParams.map((p) => model.params[p])).toEqual(['b', 'a', 'c']);
    expect(print(shape!.reduced.model)).toBe('a * tanh(eta + b) + c');
    expect(predictorOf('y ~ exp(linear(x1, x2))', ['x1', 'x2'], 'poisson').shape).not.toBeNull();
    // η + b twice: the chain rule adds both paths, for the bias and each weight alike.
    expect(predictorOf('y ~ sigmoid(w1*x1 + b) * (w1*x1 + b)', ['x1']).shape).not.toBeNull();
  });

  it('not: a column, a weight or the bias outside the sum, a column outside it, two sums over the columns, no bias', () => {
    expect(predictorOf('y ~ linear(x1, x2) + c*x1', ['x1', 'x2']).shape).toBeNull();
    expect(predictorOf('y ~ (w1*x1 + w2*x2 + b) * w1', ['x1', 'x2']).shape).toBeNull();
    expect(predictorOf('y ~ exp(w1*x1 + w2*x2 + b) * b', ['x1', 'x2']).shape).toBeNull();
    expect(predictorOf('y ~ (w1*x1 + b) * (w2*x2 + c)', ['x1', 'x2']).shape).toBeNull();
    expect(predictorOf('y ~ w1*x1 + w2*x2', ['x1', 'x2']).shape).toBeNull();
    expect(predictorOf('y ~ w1*x1^2 + b', ['x1']).shape).toBeNull();
  });

  it('each weight\'s partial is the reduced bias partial times its column, at random rows and parameters (float64)', () => {
    const cases = [
      predictorOf('y ~ a * tanh(linear(x1, x2, x3)) + c', ['x1', 'x2', 'x3'], 'huber:0.5'),
      predictorOf('y ~ exp(linear(x1, x2, x3))', ['x1', 'x2', 'x3'], 'poisson', 'wt'),
      predictorOf('y ~ linear(x1, x2, x3)', ['x1', 'x2', 'x3'], 'logistic'),
    ];
    const u = seededUniform(11);
    for (const { model, shape } of cases) {
      const full = compileRowSums(gradientProgram(model));
      const reduced = compileRowSums(gradientProgram(shape!.reduced));
      const width = model.features.length + (model.spec.weights ? 1 : 0);
      for (let trial = 0; trial < 20; trial++) {
        const theta = Float64Array.from(model.params, () => u() - 0.5);
        const row = Float64Array.from({ length: width }, (_, k) => (k < model.features.length ? 2 * u() - 1 : 0.5 + u()));
        const y = [model.spec.loss === 'logistic' ? (u() < 0.5 ? 0 : 1) : Math.floor(3 * u())];
        const eta = shape!.weights.reduce((s, p, c) => s + theta[p] * row[c], 0);
        const want = new Float64Array(model.params.length + 1);
        full(theta, row, y, 0, 1, want);
        const got = new Float64Array(shape!.reducedParams.length + 1);
        reduced(shape!.reducedParams.map((p) => theta[p]), model.spec.weights ? [eta, row[width - 1]] : [eta], y, 0, 1, got);
        shape!.weights.forEach((p, c) => expect(got[0] * row[c]).toBeCloseTo(want[p], 12));
        shape!.reducedParams.forEach((p, j) => expect(got[j]).toBeCloseTo(want[p], 12));
        expect(got[got.length - 1]).toBeCloseTo(want[want.length - 1], 12);
      }
    }
  });
});
