// One chunk of epochs through FormulaEngine.train (the one training loop, src/train/loop.ts) from the given
// point, on the GPU and on the CPU path alike; the loop yields to the page between updates on the CPU.
import type { FormulaEngine } from '../models/formula.ts';
import { DEFAULT_EXPLODE_FACTOR, DEFAULT_TOL, type StopReason } from '../models/linear.ts';
import { LINEAR_DESCENT } from '../models/linear-formula.ts';

export const TOL = DEFAULT_TOL;
/**
 * Full-batch descent on a quadratic lowers J every epoch when it is stable, so a loss ten times its best
 * means a mode is growing: stop there (the engines apply it within a chunk, the trainer across chunks)
 * rather than let the path fly off to 1e30. Batch losses are noisy, so mini-batches keep the engines' rule.
 */
export const EXPLODE = 10;

/**
 * Plain gradient descent (LINEAR_DESCENT): the steps the contour map draws (the step arrow is −lr·∇J). It keeps
 * no state, so a chunk that starts at the previous chunk's end takes the same steps as one long run.
 */
export const DESCENT = LINEAR_DESCENT;

export interface ChunkRequest {
  lr: number;
  epochs: number;
  /** θ = (w_1 .. w_d, b) where the chunk starts. */
  init: Float64Array;
  /** Samples per step; null (or N and above) for full batch. */
  batchSize: number | null;
  /** Batch order seed: the caller passes the epoch the chunk starts at, so that chunks differ. */
  seed: number;
  signal?: AbortSignal;
  /** A loss for epoch `offset` after the chunk's start (full batch: J there; mini-batches: the epoch's mean batch loss). */
  onLoss: (offset: number, loss: number) => void;
}

export interface ChunkResult {
  theta: Float64Array;
  epochs: number;
  stop: StopReason;
  /** Epochs after the start at which the loss blew up, when stop is 'diverged'. */
  failedAt: number;
  samplesPerSec: number;
}

export function isMiniBatch(batchSize: number | null, n: number): batchSize is number {
  return batchSize !== null && batchSize < n;
}

export async function engineChunk(engine: FormulaEngine, c: ChunkRequest): Promise<ChunkResult> {
  const mb = isMiniBatch(c.batchSize, engine.n);
  const t0 = performance.now();
  const r = await engine.train({
    lr: c.lr,
    maxEpochs: c.epochs,
    optimizer: DESCENT,
    ...(mb ? {} : { tol: TOL }), // a tolerance tests the full gradient: full batch only
    explodeFactor: mb ? DEFAULT_EXPLODE_FACTOR : EXPLODE,
    init: c.init,
    reportEvery: mb ? 1 : c.epochs,
    ...(mb ? { batchSize: c.batchSize!, seed: c.seed } : {}),
    signal: c.signal,
    onEpoch: (e) => {
      // Full batch reports J at every point from the start (epoch 0, already shown); mini-batches report
      // each finished epoch, numbered from 0.
      if (mb) c.onLoss(e.epoch + 1, e.loss);
      else if (e.epoch > 0) c.onLoss(e.epoch, e.loss);
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  const passes = mb ? Math.max(1, r.epochs) : r.epochs + 1; // full passes over the data's N samples
  return {
    theta: r.theta, epochs: r.epochs, stop: r.stopReason,
    failedAt: r.divergedAtEpoch ?? r.epochs,
    samplesPerSec: (engine.n * passes) / seconds,
  };
}
