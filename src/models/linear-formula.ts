// The linear model ŷ = w·x + b with mean squared error as what it is, the formula `y ~ linear(x1, ..., xd)` with
// the loss `mse`, so that `nabla train` and `nabla gradient` on the linear model run the one FormulaEngine on every
// device. The columns are named by position (x1..xd, y) whatever the data calls them, so any header works;
// theta = (w_1..w_d, b), the layout of LinearParams. The linear model's own training rules stay: plain gradient
// descent at a constant rate, the tolerance on by default at full batch.
import { compileFormula, type FormulaModel } from '../formula/model.ts';
import { optimizerConfig } from '../optim/config.ts';
import { DEFAULT_TOL, validateParams, type GradientResult, type LinearParams, type TrainOptions, type TrainResult } from './linear.ts';
import { DEFAULT_SEED, type ModelTrainOptions, type ModelTrainResult } from './model-engine.ts';
import { headLossText, initParameters, type NetworkConfig } from './network.ts';

const models = new Map<string, FormulaModel>();

/** `y ~ linear(x1, ..., xd)` with `loss` (default mse) over columns x1..xd and y; compiled once per (d, loss). */
export function linearFormulaModel(d: number, loss = 'mse'): FormulaModel {
  if (!(Number.isInteger(d) && d >= 1)) throw new RangeError(`linear model: need at least one feature, got d = ${d}`);
  const key = `${d}|${loss}`;
  const hit = models.get(key);
  if (hit) return hit;
  const columns = Array.from({ length: d }, (_, j) => `x${j + 1}`);
  const model = compileFormula({ formula: `y ~ linear(${columns.join(', ')})`, loss }, { columns: [...columns, 'y'] });
  const expected = [...columns.map((c) => `w_${c}`), 'b'];
  if (model.params.join(',') !== expected.join(',')) {
    throw new Error(`linear model: linear() gave parameters ${model.params.join(', ')}, expected ${expected.join(', ')}`);
  }
  models.set(key, model);
  return model;
}

/**
 * A network without hidden layers and with one output (`--model linear` or `--model logistic`, with or without
 * `--loss`) as what it is, the formula y ~ linear(x1..xd) under its head's loss (mse, logistic on the logit, or
 * its own): θ = (W, b) in the network's layout, the bias spared by weight decay as there. null for the others
 * (softmax's K outputs, a network with hidden layers). `start` is where the network engine would begin.
 */
export function networkFormula(c: NetworkConfig, seed = DEFAULT_SEED): { model: FormulaModel; start: Float64Array } | null {
  const loss = headLossText(c);
  if (c.hidden.length > 0 || c.outputs !== 1 || loss === null) return null;
  return { model: linearFormulaModel(c.inputs, loss), start: initParameters(c, seed) };
}

/** theta = (w, b). */
export function linearTheta(at: LinearParams): Float64Array {
  validateParams(at, at.w.length);
  const theta = new Float64Array(at.w.length + 1);
  theta.set(Array.from(at.w));
  theta[at.w.length] = at.b;
  return theta;
}

/** A formula engine's loss and gradient over theta = (w, b) as the linear model reports them. */
export function linearGradient(g: { loss: number; grad: ArrayLike<number> }): GradientResult {
  const d = g.grad.length - 1;
  return { loss: g.loss, gradW: Float64Array.from(Array.from(g.grad).slice(0, d)), gradB: g.grad[d] };
}

/** Plain gradient descent, θ ← θ − lr·∇J: no momentum, no weight decay, no state between steps. */
export const LINEAR_DESCENT = optimizerConfig({ kind: 'sgd', weightDecay: 0 });

/**
 * The linear model's training options on the one loop: plain descent (sgd, no weight decay) at a constant rate,
 * the tolerance DEFAULT_TOL at full batch unless given; a tolerance with mini-batches is the loop's error.
 */
export function linearTrainOptions(o: Omit<TrainOptions, 'init'> & { init?: LinearParams }, n: number): ModelTrainOptions {
  const fullBatch = o.batchSize === undefined || o.batchSize >= n;
  return {
    lr: o.lr, maxEpochs: o.maxEpochs, batchSize: o.batchSize, seed: o.seed, explodeFactor: o.explodeFactor,
    tol: fullBatch ? o.tol ?? DEFAULT_TOL : o.tol,
    optimizer: LINEAR_DESCENT, schedule: { kind: 'constant' },
    onEpoch: o.onEpoch, reportEvery: o.reportEvery, signal: o.signal, resumeFrom: o.resumeFrom, onSnapshot: o.onSnapshot,
    ...(o.init && { init: linearTheta(o.init) }),
  };
}

/** A run of the one loop on theta = (w, b), as the linear model reports it. */
export function linearTrainResult(r: ModelTrainResult): TrainResult {
  const d = r.theta.length - 1;
  return {
    w: r.theta.slice(0, d), b: r.theta[d], loss: r.loss, gradNorm: r.gradNorm, epochs: r.epochs, stopReason: r.stopReason,
    ...(r.divergedAtEpoch !== undefined && { divergedAtEpoch: r.divergedAtEpoch }),
    ...(r.lossOf && { lossOf: r.lossOf }),
  };
}
