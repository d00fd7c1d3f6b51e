// What a backend implements so that the one training loop (loop.ts) can train a model on it: a gradient
// program that runs a chain of updates from a state it holds (on the GPU: parameters, moments, batches and
// history stay on the device; on the CPU: arrays in memory) and reports the loss and gradient norm of
// each update's evaluation. The loop owns everything else: batch order, learning-rate schedule, epochs,
// divergence with the last good parameters, snapshots, history, abort, the final evaluation.
//
// A program stops a chain early only where the host cannot see inside it: at the tolerance (a full-batch
// gradient small enough, checked before the update), and, where the device checks it, at a non-finite loss.
import type { BatchRange } from '../models/batches.ts';
import type { OptimizerConfig } from '../optim/config.ts';
import type { OptimState } from '../optim/state.ts';

/** Parameters and the optimizer's state after optim.t updates. */
export interface ProgramState {
  theta: Float64Array;
  optim: OptimState;
}

export interface ChainPlan {
  /** Updates applied before the chain's first one. */
  from: number;
  /** The batch of each update, in order. */
  batches: readonly BatchRange[];
  /** The learning rate of each update (the schedule at from + s). */
  lrs: readonly number[];
  /** Stop before an update whose gradient norm is at most tol (full batch only); null: no tolerance. */
  tol: number | null;
  /**
   * The divergence rule, for programs that also apply it themselves (the CPU program, before each update): a loss
   * that exceeds bestLoss by more than (explodeFactor − 1) × |bestLoss| (explodes in src/models/linear.ts).
   */
  explodeFactor: number;
  /**
   * What the rule compares with: the best epoch mean loss so far (at full batch, the best loss), Infinity before
   * the first epoch ends. Not the best single batch: one batch fitted almost exactly would make ordinary noise
   * in the next batch an explosion.
   */
  bestLoss: number;
  /** After the last update, evaluate loss and gradient norm over all samples if the program can do it in the same round trip. */
  evaluateAfter: boolean;
  /** Bring the state back with the chain's record (a snapshot follows). */
  readState: boolean;
}

export interface ChainRecord {
  /** Loss and gradient norm of each evaluation, before its update, in order; fewer than planned when the chain stopped. */
  losses: ArrayLike<number>;
  gradNorms: ArrayLike<number>;
  /** Why the chain stopped early: the last evaluation met the tolerance (no update after it), or the device saw a non-finite loss. */
  stop: 'converged' | 'diverged' | null;
  /** The evaluation after the last update, when asked for and possible. */
  after?: { loss: number; gradNorm: number };
  /** The state at the chain's end, when asked for (readState). */
  state?: ProgramState;
}

export interface TrainingProgram {
  /** Samples in the data. */
  readonly n: number;
  /** Most updates one chain may hold. */
  readonly maxChain: number;
  /**
   * The rows come from a RowStream (a file, a download): evaluating the result reads every row once more, which
   * an aborted run does not do (ModelTrainResult.lossOf).
   */
  readonly fromStream?: boolean;
  /** Parameters a run starts from when none are given. */
  initialParameters(seed: number): Float64Array;
  /** Checks what this program cannot do (optimizer, schedule, batch size) before any work, with a clear error. */
  check(setup: { optimizer: OptimizerConfig; constantLr: boolean; batchSize: number }): void;
  /**
   * Loads the starting state and allocates what a run needs for this optimizer and batch size (the one check()
   * accepted). The best loss so far comes with each chain (ChainPlan.bestLoss).
   */
  start(state: ProgramState, setup: { optimizer: OptimizerConfig; batchSize: number }): Promise<void>;
  run(plan: ChainPlan): Promise<ChainRecord>;
  /** The state now. */
  read(): Promise<ProgramState>;
  /**
   * A state whose loss was good, from before update `failedAt` was evaluated: exactly the one before it where the
   * program kept it, else the start of the last chain that evaluated well (the loop then runs the updates from
   * there to the one before failedAt again, through start() and run()).
   */
  lastGood(failedAt: number): Promise<ProgramState>;
  /** Loss and gradient over all samples at theta. */
  evaluate(theta: Float64Array): Promise<{ loss: number; grad: Float64Array }>;
  /** Releases what start() allocated. */
  finish(): void;
}
