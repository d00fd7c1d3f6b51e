// The linear model's training API (LinearEngine.train: plain gradient descent on (w, b), tolerance on by
// default) expressed on the one loop: its options become the loop's, its result comes back as (w, b).
import { DEFAULT_TOL, validateParams, validateTrainOptions, type TrainOptions, type TrainResult } from '../models/linear.ts';
import { optimizerConfig } from '../optim/config.ts';
import { runTraining } from './loop.ts';
import type { TrainingProgram } from './program.ts';

/** Gradient descent with a constant learning rate: what the fused linear kernels apply. */
export const LINEAR_OPTIMIZER = optimizerConfig({ kind: 'sgd', weightDecay: 0 });

export async function trainLinear(program: TrainingProgram, d: number, o: TrainOptions): Promise<TrainResult> {
  validateTrainOptions(o);
  if (o.init) validateParams(o.init, d);
  const fullBatch = o.batchSize === undefined || o.batchSize >= program.n;
  let init: Float64Array | undefined;
  if (o.init) {
    init = new Float64Array(d + 1);
    init.set(Array.from(o.init.w));
    init[d] = o.init.b;
  }
  if (o.resumeFrom && o.resumeFrom.theta.length !== d + 1) {
    throw new RangeError(`resumeFrom: snapshot has ${o.resumeFrom.theta.length - 1} weights, the data ${d}`);
  }
  const r = await runTraining(program, {
    lr: o.lr,
    maxEpochs: o.maxEpochs,
    batchSize: o.batchSize,
    tol: fullBatch ? o.tol ?? DEFAULT_TOL : o.tol,
    optimizer: LINEAR_OPTIMIZER,
    init,
    seed: o.seed,
    explodeFactor: o.explodeFactor,
    onEpoch: o.onEpoch,
    reportEvery: o.reportEvery,
    signal: o.signal,
    resumeFrom: o.resumeFrom,
    onSnapshot: o.onSnapshot,
  });
  const result: TrainResult = {
    w: r.theta.slice(0, d), b: r.theta[d], loss: r.loss, gradNorm: r.gradNorm, epochs: r.epochs, stopReason: r.stopReason,
  };
  if (r.divergedAtEpoch !== undefined) result.divergedAtEpoch = r.divergedAtEpoch;
  return result;
}
