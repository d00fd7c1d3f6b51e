// The training loop of the CPU linear engines (the float64 twin and the fast path): an engine supplies
// the gradient over a range of rows and this loop applies the stopping rules and the update exactly as the
// GPU's apply_update.wgsl does (apply_update.ts), with the GPU engine's mini-batches, history and snapshots.
import {
  DEFAULT_EXPLODE_FACTOR, DEFAULT_TOL, gradientNorm, validateParams, validateTrainOptions,
  type GradientResult, type LinearParams, type TrainOptions, type TrainResult,
} from '../models/linear.ts';
import { BatchSchedule, type BatchRange } from '../models/batches.ts';
import { applyUpdate, STATUS_CONVERGED, STATUS_DIVERGED, STATUS_RUNNING, type TrainState } from './apply_update.ts';

export interface LinearGradientProgram {
  readonly n: number;
  readonly d: number;
  /** Mean loss and gradient over rows range.start..range.start+range.rows at (w, b). */
  evaluate(at: LinearParams, range: BatchRange): GradientResult | Promise<GradientResult>;
}

export async function trainLinearOnCpu(program: LinearGradientProgram, options: TrainOptions): Promise<TrainResult> {
  validateTrainOptions(options);
  const { d, n } = program;
  const init = options.init ?? { w: new Float64Array(d), b: 0 };
  validateParams(init, d);
  let theta = new Float64Array(d + 1);
  theta.set(Array.from(init.w));
  theta[d] = init.b;
  let thetaPrev = theta.slice();
  const resume = options.resumeFrom;
  if (resume) {
    if (resume.theta.length !== d + 1) throw new RangeError(`resumeFrom: snapshot has ${resume.theta.length - 1} weights, the data ${d}`);
    theta = Float64Array.from(resume.theta);
    thetaPrev = Float64Array.from(resume.thetaPrev);
  }
  // Mini-batches exactly as the GPU engine cuts and orders them (src/models/batches.ts).
  const batchSize = Math.min(options.batchSize ?? n, n);
  if (batchSize < n && batchSize % 4 !== 0) throw new RangeError(`batch size: ${batchSize} must be a multiple of 4 (or at least the ${n} samples)`);
  const schedule = new BatchSchedule(n, batchSize, options.seed ?? 0);
  const numBatches = schedule.perEpoch;
  const snapshotEvery = (options.reportEvery ?? 32) * numBatches;
  const rule = {
    lr: options.lr,
    tol: numBatches > 1 ? 0 : options.tol ?? DEFAULT_TOL,
    explodeFactor: options.explodeFactor ?? DEFAULT_EXPLODE_FACTOR,
    maxUpdates: options.maxEpochs * numBatches,
  };
  const state: TrainState = { status: STATUS_RUNNING, step: resume?.step ?? 0, bestLoss: resume?.bestLoss ?? 0 };
  const grad = new Float64Array(d + 1);
  const at = () => ({ w: theta.subarray(0, d), b: theta[d] });
  let lastGood = resume?.last ?? { loss: NaN, gradNorm: NaN };
  const epochSum = { loss: 0, norm: 0 };
  let lastYield = performance.now();
  while (state.status === STATUS_RUNNING) {
    if (options.signal?.aborted) break;
    const step = state.step;
    const batch = schedule.at(step);
    const g = await program.evaluate(at(), batch);
    grad.set(g.gradW);
    grad[d] = g.gradB;
    const gradNorm = gradientNorm(g);
    applyUpdate(state, theta, thetaPrev, grad, g.loss, gradNorm, rule);
    if ((state.status as number) === STATUS_DIVERGED) break;
    if (numBatches === 1) {
      lastGood = { loss: g.loss, gradNorm };
      options.onEpoch?.({ epoch: step, ...lastGood });
    } else if (state.status === STATUS_RUNNING) {
      // Sample-weighted means over the epoch's batches, as the GPU engine reports them.
      epochSum.loss += batch.rows * g.loss;
      epochSum.norm += batch.rows * gradNorm;
      if (step % numBatches === numBatches - 1) {
        lastGood = { loss: epochSum.loss / n, gradNorm: epochSum.norm / n };
        options.onEpoch?.({ epoch: Math.floor(step / numBatches), ...lastGood });
        epochSum.loss = 0;
        epochSum.norm = 0;
      }
    }
    if (options.onSnapshot && state.status === STATUS_RUNNING && state.step % snapshotEvery === 0) {
      options.onSnapshot({ theta: theta.slice(), thetaPrev: thetaPrev.slice(), step: state.step, bestLoss: state.bestLoss, last: lastGood });
    }
    // Long CPU runs must not starve the event loop (progress output, abort signals, the page).
    if (performance.now() - lastYield > 50) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      lastYield = performance.now();
    }
  }
  if (state.status === STATUS_DIVERGED && state.step === 0) {
    throw new Error('training diverged at the initial parameters: the loss is not finite');
  }
  const aborted = state.status === STATUS_RUNNING;
  const updates = aborted ? state.step : state.step - 1;
  let { loss, gradNorm } = lastGood;
  if (aborted || numBatches > 1) {
    // theta moved past the last full evaluation (abort), or only batch losses were seen: evaluate it.
    const g = await program.evaluate(at(), { start: 0, rows: n });
    loss = g.loss;
    gradNorm = gradientNorm(g);
  }
  const result: TrainResult = {
    w: theta.slice(0, d),
    b: theta[d],
    loss,
    gradNorm,
    epochs: Math.floor(updates / numBatches),
    stopReason: aborted ? 'aborted'
      : state.status === STATUS_CONVERGED ? 'tolerance'
        : state.status === STATUS_DIVERGED ? 'diverged' : 'max-epochs',
  };
  if (state.status === STATUS_DIVERGED) result.divergedAtEpoch = Math.floor(state.step / numBatches);
  return result;
}
