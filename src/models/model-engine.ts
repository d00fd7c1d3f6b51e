// The training API of every network model (and of the one loop, src/train/loop.ts, which runs it for every
// backend; the formula engines train through the same options and result): a GPU engine and its float64 twin
// behind one interface. An update = the gradient of J over one batch at theta_t,
// then one optimizer step with lr(t) from the schedule; an epoch = one pass over the data (one update at
// full batch, the default; src/models/batches.ts cuts and orders mini-batches). t counts updates, so a
// run resumed from a snapshot at t continues with the same batches, learning rates and bias corrections
// as an uninterrupted one; snapshots are taken at epoch ends.
import type { NetworkConfig } from './network.ts';
import type { OptimizerConfig } from '../optim/config.ts';
import { validateSchedule, type Schedule } from '../optim/schedule.ts';
import { validateOptimizer } from '../optim/config.ts';
import type { OptimState } from '../optim/state.ts';
import type { EpochInfo, StopReason } from './linear.ts';
import { rejectUnknownKeys } from '../core/options.ts';

export interface ModelSnapshot {
  theta: Float64Array;
  optim: OptimState;
  /** Best loss so far (divergence rule). */
  bestLoss: number;
  /**
   * How the run cut its batches, which a resume must cut again to continue the same ones. Absent where the
   * snapshot was rebuilt from a record that does not hold it: then only its update count is checked.
   */
  batching?: SnapshotBatching;
}

/** The batches of a run, as they decide what its update count means. */
export interface SnapshotBatching {
  /** Rows per mini-batch; null: full batch (one update per epoch). */
  batchSize: number | null;
  /** Rows of the chunks the mini-batches were cut in; null: one chunk of all rows, or full batch, which chunks leave whole. */
  chunkRows: number | null;
}

export interface ModelTrainOptions {
  lr: number;
  /** Total epochs: a resumed run stops at the same count as an uninterrupted one. */
  maxEpochs: number;
  /** Samples per update; default all of them (full batch). */
  batchSize?: number;
  /**
   * The data come in chunks of this many rows, one pass per epoch (streamed: src/models/row-stream.ts):
   * mini-batches are cut inside chunks and shuffled within each. Default: one chunk of all rows.
   */
  chunkRows?: number;
  /** Full batch only: stop, before updating, at |grad J| <= tol. Default: no tolerance. */
  tol?: number;
  optimizer: OptimizerConfig;
  schedule?: Schedule;
  /** Initial parameters; default initParameters(config, seed). */
  init?: Float64Array;
  /** Initial parameters and the batch order. */
  seed?: number;
  /** Loss above explodeFactor x the best loss so far (or not finite) counts as divergence. */
  explodeFactor?: number;
  onEpoch?: (info: EpochInfo) => void;
  /**
   * Epochs per read-back of the history (on the GPU, updates chained per submit, up to the engine's slots)
   * and between snapshots; default 32 (src/train/loop.ts).
   */
  reportEvery?: number;
  signal?: AbortSignal;
  resumeFrom?: ModelSnapshot;
  onSnapshot?: (snapshot: ModelSnapshot) => void;
}

export interface ModelTrainResult {
  theta: Float64Array;
  /** Loss and gradient norm (full data) at the returned parameters. */
  loss: number;
  gradNorm: number;
  /** Epochs completed (including those before a resume). */
  epochs: number;
  /** Updates applied in total (= epochs at full batch). */
  updates: number;
  stopReason: StopReason;
  /** Everything needed to continue (saved with --save). */
  snapshot: ModelSnapshot;
  divergedAtEpoch?: number;
  /**
   * Set where loss and gradNorm are not an evaluation at theta: an aborted streamed run stops rather than read its
   * rows once more, and reports its last completed epoch's, as onEpoch gave them (NaN before the first).
   */
  lossOf?: 'last-epoch';
  /** The parameters whose loss or gradient was not finite, or exploded (theta holds the last good ones). */
  divergedTheta?: Float64Array;
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

/**
 * The loss or gradient is not finite (or explodes) at the parameters a run starts from: there are no last good
 * parameters to keep. Bad input more than a failed run: the starting values, or a formula undefined there.
 */
export class StartDivergenceError extends RangeError {
  /** where: the first row where the model is not finite there, where the engine can tell (formulas). */
  constructor(readonly update: number, readonly loss: number, readonly gradNorm: number, readonly where?: string) {
    const what = Number.isFinite(loss) && !Number.isFinite(gradNorm) ? `the gradient is not finite (loss ${loss})` : `loss ${loss}`;
    super(`training diverged at the ${update === 0 ? 'initial' : 'resumed'} parameters: ${what}${where ? `; ${where}` : ''}; ` +
      'check the starting parameters, and that the loss is defined for the model\'s outputs (cross-entropy takes a probability, poisson a positive mean)');
    this.name = 'StartDivergenceError';
  }
}

export const DEFAULT_SEED = 1;

/** Every key of ModelTrainOptions: train() refuses any other (a misspelt batchSize would run full batch). */
export const MODEL_TRAIN_OPTION_KEYS: readonly (keyof ModelTrainOptions)[] = [
  'lr', 'maxEpochs', 'batchSize', 'chunkRows', 'tol', 'optimizer', 'schedule', 'init', 'seed', 'explodeFactor',
  'onEpoch', 'reportEvery', 'signal', 'resumeFrom', 'onSnapshot',
];

export function validateModelTrainOptions(o: ModelTrainOptions): void {
  rejectUnknownKeys(o, MODEL_TRAIN_OPTION_KEYS, 'train options', {
    epochs: 'the option is maxEpochs (the total epoch count)',
    learningRate: 'the option is lr',
  });
  if (!(Number.isFinite(o.lr) && o.lr > 0)) throw new RangeError(`lr: expected a positive number, got ${o.lr}`);
  if (!(Number.isInteger(o.maxEpochs) && o.maxEpochs >= 0)) throw new RangeError(`maxEpochs: expected a non-negative integer, got ${o.maxEpochs}`);
  validateOptimizer(o.optimizer);
  if (o.schedule) validateSchedule(o.schedule);
  if (o.explodeFactor !== undefined && !(o.explodeFactor > 1)) throw new RangeError(`explodeFactor: expected a number above 1, got ${o.explodeFactor}`);
  if (o.reportEvery !== undefined && !(Number.isInteger(o.reportEvery) && o.reportEvery >= 1)) {
    throw new RangeError(`reportEvery: expected a positive integer, got ${o.reportEvery}`);
  }
  if (o.seed !== undefined && !(Number.isSafeInteger(o.seed) && o.seed >= 0)) throw new RangeError(`seed: expected a non-negative integer, got ${o.seed}`);
  if (o.batchSize !== undefined && !(Number.isInteger(o.batchSize) && o.batchSize >= 1)) {
    throw new RangeError(`batchSize: expected a positive integer, got ${o.batchSize}`);
  }
  if (o.tol !== undefined && !(Number.isFinite(o.tol) && o.tol >= 0)) throw new RangeError(`tol: expected a non-negative number, got ${o.tol}`);
  if (o.chunkRows !== undefined && !(Number.isInteger(o.chunkRows) && o.chunkRows >= 1)) throw new RangeError(`chunkRows: expected a positive integer, got ${o.chunkRows}`);
  if (o.init !== undefined && o.resumeFrom !== undefined) {
    throw new RangeError('init: a run resumed from a snapshot starts at the snapshot\'s parameters; give init or resumeFrom, not both');
  }
  if (o.schedule?.kind === 'cosine' && o.schedule.minLr !== undefined && o.schedule.minLr > o.lr) {
    throw new RangeError(`schedule cosine: minLr ${o.schedule.minLr} exceeds lr ${o.lr}: the rate would rise, not decay`);
  }
  for (const key of ['onEpoch', 'onSnapshot'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'function') throw new TypeError(`${key}: expected a function, got ${typeof o[key]}`);
  }
  if (o.signal !== undefined && typeof (o.signal as { aborted?: unknown } | null)?.aborted !== 'boolean') {
    throw new TypeError(`signal: expected an AbortSignal, got ${o.signal === null ? 'null' : typeof o.signal}`);
  }
  if (o.resumeFrom !== undefined) validateSnapshotShape(o.resumeFrom);
}

/**
 * A snapshot's fields before anything reads them: the parameters and moments finite and of one length, the best
 * loss a number (NaN would turn the divergence rule off for the whole run). Its t is checked against the
 * batches (validateBatching), its length against the model by the program.
 */
function validateSnapshotShape(s: ModelSnapshot): void {
  const numbers = (v: unknown): v is ArrayLike<number> => (Array.isArray(v) || ArrayBuffer.isView(v)) && Array.prototype.every.call(v, (x: unknown) => typeof x === 'number' && Number.isFinite(x));
  if (typeof s !== 'object' || s === null) throw new TypeError(`resumeFrom: expected a snapshot (theta, optim, bestLoss), got ${s === null ? 'null' : typeof s}`);
  if (!numbers(s.theta)) throw new RangeError('resumeFrom.theta: expected finite numbers');
  if (typeof s.optim !== 'object' || s.optim === null) throw new TypeError('resumeFrom.optim: expected the optimizer state (m, v, t)');
  for (const k of ['m', 'v'] as const) {
    if (!numbers(s.optim[k])) throw new RangeError(`resumeFrom.optim.${k}: expected finite numbers`);
  }
  if (Array.prototype.some.call(s.optim.v, (x: number) => x < 0)) throw new RangeError('resumeFrom.optim.v: a second moment cannot be negative');
  if (typeof s.bestLoss !== 'number' || Number.isNaN(s.bestLoss) || s.bestLoss === -Infinity) throw new RangeError(`resumeFrom.bestLoss: expected a number or Infinity, got ${s.bestLoss}`);
  if (s.batching === undefined) return;
  if (typeof s.batching !== 'object' || s.batching === null) throw new TypeError('resumeFrom.batching: expected the batches it was trained with (batchSize, chunkRows)');
  for (const k of ['batchSize', 'chunkRows'] as const) {
    const rows = s.batching[k];
    if (rows !== null && !(Number.isInteger(rows) && rows >= 1)) throw new RangeError(`resumeFrom.batching.${k}: expected a positive integer or null, got ${rows}`);
  }
}

/** The batching a snapshot records: schedule's rows per batch of n rows, cut in chunks of chunkRows (undefined: one chunk). */
export function batchingOf(n: number, batchRows: number, chunkRows: number | undefined): SnapshotBatching {
  if (batchRows >= n) return { batchSize: null, chunkRows: null };
  return { batchSize: batchRows, chunkRows: chunkRows !== undefined && chunkRows < n ? chunkRows : null };
}

function describeBatching(b: SnapshotBatching): string {
  if (b.batchSize === null) return 'full batches';
  return `batchSize ${b.batchSize}${b.chunkRows === null ? '' : ` in chunks of ${b.chunkRows} rows (chunkRows)`}`;
}

/**
 * Checks what depends on the data size: the tolerance's full batch, and that a snapshot continues on the
 * batches it was trained with (`batching`: this run's), at an epoch's end.
 */
export function validateBatching(o: ModelTrainOptions, perEpoch: number, batching?: SnapshotBatching): void {
  if (o.tol !== undefined && perEpoch > 1) {
    throw new RangeError(`tol: applies to full-batch training only (batch size ${o.batchSize} gives ${perEpoch} updates per epoch, each with a noisy gradient)`);
  }
  const t = o.resumeFrom?.optim.t;
  if (t === undefined) return;
  if (!(Number.isSafeInteger(t) && t >= 0)) throw new RangeError(`resumeFrom.optim.t: expected the snapshot's update count, a non-negative integer, got ${t}`);
  // Other batches give the same update count another number of epochs: refused even where it divides evenly.
  const trained = o.resumeFrom?.batching;
  if (trained && batching && (trained.batchSize !== batching.batchSize || trained.chunkRows !== batching.chunkRows)) {
    throw new RangeError(`resume: the snapshot was trained with ${describeBatching(trained)}, this run with ${describeBatching(batching)}: resume with the batch size and the chunkRows (streamed: the stream's) it was trained with, over the same rows`);
  }
  if (t % perEpoch !== 0) {
    throw new RangeError(`resume: the snapshot has ${t} updates, not a whole number of epochs of ${perEpoch} batches: resume with the batch size and the chunkRows (streamed: the stream's) it was trained with, over the same rows`);
  }
  if (t > o.maxEpochs * perEpoch) {
    throw new RangeError(`epochs: the snapshot already has ${t / perEpoch} epochs, more than maxEpochs (${o.maxEpochs})`);
  }
}

/** Accumulates an epoch's batch losses and gradient norms into sample-weighted means. */
export class EpochMeans {
  private loss = 0;
  private norm = 0;

  constructor(private readonly n: number, private readonly perEpoch: number) {}

  /** Adds update t's batch; returns the epoch's report when t closes it. */
  add(t: number, rows: number, loss: number, gradNorm: number): EpochInfo | null {
    if (this.perEpoch === 1) return { epoch: t, loss, gradNorm }; // exact, no weighting round-off
    this.loss += rows * loss;
    this.norm += rows * gradNorm;
    if ((t + 1) % this.perEpoch !== 0) return null;
    const info = { epoch: (t + 1) / this.perEpoch - 1, loss: this.loss / this.n, gradNorm: this.norm / this.n };
    this.loss = 0;
    this.norm = 0;
    return info;
  }
}

export function norm2(v: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < v.length; k++) s += v[k] * v[k];
  return Math.sqrt(s);
}
