// The linear model y^ = w.x + b with mean squared error, in the conventions every path shares:
// theta = (w_1 .. w_d, b); J = (1/N) sum (y^_i - y_i)^2; dJ/dw_j = (2/N) sum r_i x_ij; dJ/db = (2/N) sum r_i.
import type { ModelSnapshot } from './model-engine.ts';
import type { OptimizerConfig } from '../optim/config.ts';

/** Samples in row-major float32, the layout uploaded to the GPU. */
export interface LinearData {
  readonly x: Float32Array; // n * d, row-major
  readonly y: Float32Array; // n
  readonly n: number;
  readonly d: number;
}

export interface LinearParams {
  readonly w: ArrayLike<number>;
  readonly b: number;
}

export interface GradientResult {
  loss: number;
  gradW: Float64Array;
  gradB: number;
}

export interface EpochInfo {
  epoch: number; // updates applied before this evaluation
  loss: number;
  gradNorm: number;
}

export type StopReason = 'tolerance' | 'max-epochs' | 'diverged' | 'aborted';

export interface TrainOptions {
  lr: number;
  maxEpochs: number;
  tol?: number;
  /** Loss above explodeFactor x the best loss so far counts as divergence. */
  explodeFactor?: number;
  init?: LinearParams;
  onEpoch?: (info: EpochInfo) => void;
  /** Epochs per read-back of the history (GPU: chained per submit) and between snapshots; default 32. */
  reportEvery?: number;
  /**
   * Mini-batch SGD: samples per step (default: all, full-batch gradient descent). An epoch is one pass over
   * all samples; batch order is shuffled per epoch from seed (default 1, as for every model). With mini-batches, a tolerance is an error and
   * onEpoch reports the sample-weighted mean of the epoch's batch losses and gradient norms.
   */
  batchSize?: number;
  seed?: number;
  signal?: AbortSignal;
  /** Continue a run from a snapshot (after a device loss): same steps, same result as uninterrupted. */
  resumeFrom?: TrainSnapshot;
  /** Called at read-backs that end an epoch, at least reportEvery epochs apart. */
  onSnapshot?: (snapshot: TrainSnapshot) => void;
}

/** Everything a run needs to continue exactly where it was (theta = (w, b); plain descent keeps no moments). */
export type TrainSnapshot = ModelSnapshot;

export interface TrainResult {
  w: Float64Array;
  b: number;
  /** Loss and gradient norm at the returned parameters. */
  loss: number;
  gradNorm: number;
  epochs: number;
  stopReason: StopReason;
  /** Set when stopReason is 'diverged': the evaluation that failed. */
  divergedAtEpoch?: number;
}

/** One API for the WGSL engine and its float64 twin. */
export interface LinearEngine {
  readonly device: 'gpu' | 'cpu';
  readonly adapter: string | null;
  readonly n: number;
  readonly d: number;
  gradient(at: LinearParams): Promise<GradientResult>;
  train(options: TrainOptions): Promise<TrainResult>;
  dispose(): void;
}

export const DEFAULT_TOL = 1e-6;
export const DEFAULT_EXPLODE_FACTOR = 1e6;

/**
 * The divergence rule: a loss that exceeds the best so far by more than (factor − 1)·|best|. For a positive
 * best that is loss > factor·best; a loss that may be negative (Poisson, a custom formula) is measured from
 * the best by the best's magnitude, so that a falling negative loss never reads as an explosion.
 */
export function explodes(loss: number, best: number, factor: number): boolean {
  return Number.isFinite(best) && loss - best > (factor - 1) * Math.abs(best);
}

/** The gradient laid out as theta = (w, b): what the training loop and its programs work with. */
export function thetaGradient(g: GradientResult): Float64Array {
  const grad = new Float64Array(g.gradW.length + 1);
  grad.set(g.gradW);
  grad[g.gradW.length] = g.gradB;
  return grad;
}

/** |grad J| over theta = (w, b) in that order: the same number the training loop reports (norm2). */
export function gradientNorm(g: GradientResult): number {
  let s = 0;
  for (const v of g.gradW) s += v * v;
  s += g.gradB * g.gradB;
  return Math.sqrt(s);
}

export function validateLinearData(data: LinearData): void {
  const { n, d, x, y } = data;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`dataset: need at least one sample, got n = ${n}`);
  if (!Number.isInteger(d) || d < 1) throw new RangeError(`dataset: need at least one feature, got d = ${d}`);
  if (x.length !== n * d) throw new RangeError(`dataset: x has ${x.length} values, expected n * d = ${n * d}`);
  if (y.length !== n) throw new RangeError(`dataset: y has ${y.length} values, expected n = ${n}`);
}

export function validateParams(at: LinearParams, d: number): void {
  if (at.w.length !== d) throw new RangeError(`weights: expected ${d} values, got ${at.w.length}`);
  for (let j = 0; j < d; j++) {
    if (!Number.isFinite(at.w[j])) throw new RangeError(`weights: value ${j + 1} is not a finite number`);
  }
  if (!Number.isFinite(at.b)) throw new RangeError('bias: not a finite number');
}

export function validateTrainOptions(o: TrainOptions): void {
  if (!(Number.isFinite(o.lr) && o.lr > 0)) throw new RangeError(`lr: expected a positive number, got ${o.lr}`);
  if (!(Number.isInteger(o.maxEpochs) && o.maxEpochs >= 0)) {
    throw new RangeError(`epochs: expected a non-negative integer, got ${o.maxEpochs}`);
  }
  if (o.tol !== undefined && !(Number.isFinite(o.tol) && o.tol >= 0)) {
    throw new RangeError(`tol: expected a non-negative number, got ${o.tol}`);
  }
  if (o.explodeFactor !== undefined && !(o.explodeFactor > 1)) {
    throw new RangeError(`explodeFactor: expected a number above 1, got ${o.explodeFactor}`);
  }
  if (o.batchSize !== undefined && !(Number.isInteger(o.batchSize) && o.batchSize >= 1)) {
    throw new RangeError(`batchSize: expected a positive integer, got ${o.batchSize}`);
  }
  if (o.seed !== undefined && !(Number.isSafeInteger(o.seed) && o.seed >= 0)) throw new RangeError(`seed: expected a non-negative integer, got ${o.seed}`);
  if (o.reportEvery !== undefined && !(Number.isInteger(o.reportEvery) && o.reportEvery >= 1)) {
    throw new RangeError(`reportEvery: expected a positive integer, got ${o.reportEvery}`);
  }
}

/**
 * What the linear programs (the fused GPU kernels and their CPU mirrors, which keep to the same rules) train
 * with: plain gradient descent at a constant rate, mini-batches in whole quads of samples (4 rows per GPU load).
 */
export function checkLinearSetup(setup: { optimizer: OptimizerConfig; constantLr: boolean; batchSize: number }, n: number): void {
  const o = setup.optimizer;
  if (o.kind !== 'sgd' || o.weightDecay !== 0) {
    throw new RangeError(`optimizer: the linear engine applies plain gradient descent (got ${o.kind}${o.weightDecay ? ` with weight decay ${o.weightDecay}` : ''}); train the linear model on the model engine for other optimizers`);
  }
  if (!setup.constantLr) throw new RangeError('schedule: the linear engine trains at a constant learning rate; train the linear model on the model engine for schedules');
  if (setup.batchSize < n && setup.batchSize % 4 !== 0) throw new RangeError(`batch size: ${setup.batchSize} must be a multiple of 4 (or at least the ${n} samples)`);
}
