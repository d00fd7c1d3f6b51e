// The linear model's data and report types, and the rules every training run shares (the default tolerance,
// the divergence rule). The model itself is the formula y ~ linear(x1..xd) with mse (linear-formula.ts):
// theta = (w_1 .. w_d, b); J = (1/N) sum (y^_i - y_i)^2; dJ/dw_j = (2/N) sum r_i x_ij; dJ/db = (2/N) sum r_i.
import type { ModelSnapshot } from './model-engine.ts';

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
  /** As ModelTrainResult.lossOf: a stopped stream's loss is its last whole epoch's mean. */
  lossOf?: 'last-epoch';
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
