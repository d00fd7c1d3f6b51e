// The training API of the non-linear models, shaped like LinearEngine (src/models/linear.ts): a GPU engine
// and its float64 twin behind one interface. One epoch = one full-batch gradient of J at theta_t, then one
// optimizer update with lr(t) from the schedule; t counts updates, so a run resumed from a snapshot at t
// continues with the same learning rates and bias corrections as an uninterrupted one.
import type { NetworkConfig } from './network.ts';
import type { OptimizerConfig } from '../optim/config.ts';
import { validateSchedule, type Schedule } from '../optim/schedule.ts';
import { validateOptimizer } from '../optim/config.ts';
import type { OptimState } from '../cpu/optim_update.ts';
import type { EpochInfo, StopReason } from './linear.ts';

export interface ModelSnapshot {
  theta: Float64Array;
  optim: OptimState;
  /** Best loss so far (divergence rule). */
  bestLoss: number;
}

export interface ModelTrainOptions {
  lr: number;
  /** Total updates: a resumed run stops at the same count as an uninterrupted one. */
  maxEpochs: number;
  optimizer: OptimizerConfig;
  schedule?: Schedule;
  /** Initial parameters; default initParameters(config, seed). */
  init?: Float64Array;
  seed?: number;
  /** Loss above explodeFactor x the best loss so far (or not finite) counts as divergence. */
  explodeFactor?: number;
  onEpoch?: (info: EpochInfo) => void;
  /** GPU: steps chained per submit. CPU: epochs between snapshots. */
  reportEvery?: number;
  signal?: AbortSignal;
  resumeFrom?: ModelSnapshot;
  onSnapshot?: (snapshot: ModelSnapshot) => void;
}

export interface ModelTrainResult {
  theta: Float64Array;
  /** Loss and gradient norm at the returned parameters. */
  loss: number;
  gradNorm: number;
  /** Updates applied in total (including those before a resume). */
  epochs: number;
  stopReason: Exclude<StopReason, 'tolerance'>;
  /** Everything needed to continue (saved with --save). */
  snapshot: ModelSnapshot;
  divergedAtEpoch?: number;
}

export interface ModelEngine {
  readonly device: 'gpu' | 'cpu';
  readonly adapter: string | null;
  readonly config: NetworkConfig;
  readonly n: number;
  lossAndGradient(theta: ArrayLike<number>): Promise<{ loss: number; grad: Float64Array }>;
  train(options: ModelTrainOptions): Promise<ModelTrainResult>;
  dispose(): void;
}

export const DEFAULT_SEED = 1;

export function validateModelTrainOptions(o: ModelTrainOptions): void {
  if (!(Number.isFinite(o.lr) && o.lr > 0)) throw new RangeError(`lr: expected a positive number, got ${o.lr}`);
  if (!(Number.isInteger(o.maxEpochs) && o.maxEpochs >= 0)) throw new RangeError(`epochs: expected a non-negative integer, got ${o.maxEpochs}`);
  validateOptimizer(o.optimizer);
  if (o.schedule) validateSchedule(o.schedule);
  if (o.explodeFactor !== undefined && !(o.explodeFactor > 1)) throw new RangeError(`explodeFactor: expected a number above 1, got ${o.explodeFactor}`);
  if (o.reportEvery !== undefined && !(Number.isInteger(o.reportEvery) && o.reportEvery >= 1)) {
    throw new RangeError(`reportEvery: expected a positive integer, got ${o.reportEvery}`);
  }
  if (o.seed !== undefined && !Number.isInteger(o.seed)) throw new RangeError(`seed: expected an integer, got ${o.seed}`);
  if (o.resumeFrom && o.resumeFrom.optim.t > o.maxEpochs) {
    throw new RangeError(`epochs: the snapshot already has ${o.resumeFrom.optim.t} updates, more than --epochs ${o.maxEpochs}`);
  }
}

export function norm2(v: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < v.length; k++) s += v[k] * v[k];
  return Math.sqrt(s);
}
