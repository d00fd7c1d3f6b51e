// The training loop of the CPU model engines (the float64 twin and the fast path): an engine supplies its
// gradient program (loss and gradient over a range of rows at theta) and this loop does the rest:
// optimizer (src/cpu/optim_update.ts, float64), schedule, mini-batch order (BatchSchedule), tolerance,
// divergence with last-good parameters, snapshots, AbortSignal, the per-epoch history.
import { DEFAULT_EXPLODE_FACTOR } from '../models/linear.ts';
import { decayMask, initParameters, validateTheta, type NetworkConfig } from '../models/network.ts';
import { DEFAULT_SEED, EpochMeans, norm2, validateBatching, validateModelTrainOptions, type ModelSnapshot, type ModelTrainOptions, type ModelTrainResult } from '../models/model-engine.ts';
import { BatchSchedule, type BatchRange } from '../models/batches.ts';
import { learningRate } from '../optim/schedule.ts';
import { createOptimState, optimUpdate, type OptimState } from './optim_update.ts';
import type { ModelGradient } from './mlp_gradient.ts';

export interface ModelGradientProgram {
  readonly config: NetworkConfig;
  readonly n: number;
  /** Mean loss and gradient over rows range.start..range.start+range.rows at theta. */
  evaluate(theta: Float64Array, range: BatchRange): ModelGradient | Promise<ModelGradient>;
}

export async function trainModelOnCpu(program: ModelGradientProgram, o: ModelTrainOptions): Promise<ModelTrainResult> {
  validateModelTrainOptions(o);
  const { config: c, n } = program;
  const seed = o.seed ?? DEFAULT_SEED;
  const batches = new BatchSchedule(n, o.batchSize, seed);
  const perEpoch = batches.perEpoch;
  validateBatching(o, perEpoch);
  const resume = o.resumeFrom;
  const theta = Float64Array.from(resume?.theta ?? o.init ?? initParameters(c, seed));
  validateTheta(c, theta);
  const optim = resume
    ? { m: Float64Array.from(resume.optim.m), v: Float64Array.from(resume.optim.v), t: resume.optim.t }
    : createOptimState(o.optimizer.kind, theta.length);
  const mask = decayMask(c);
  const schedule = o.schedule ?? { kind: 'constant' as const };
  const explode = o.explodeFactor ?? DEFAULT_EXPLODE_FACTOR;
  const every = o.reportEvery ?? 32;
  const totalUpdates = o.maxEpochs * perEpoch;
  const means = new EpochMeans(n, perEpoch);
  let bestLoss = resume?.bestLoss ?? Infinity;
  let prev = theta.slice();
  let prevT = optim.t;
  let stopReason: ModelTrainResult['stopReason'] = 'max-epochs';
  let divergedAtEpoch: number | undefined;
  let lastYield = performance.now();
  while (optim.t < totalUpdates) {
    if (o.signal?.aborted) {
      stopReason = 'aborted';
      break;
    }
    const t = optim.t;
    const range = batches.at(t);
    const g = await program.evaluate(theta, range);
    if (!Number.isFinite(g.loss) || (Number.isFinite(bestLoss) && g.loss > explode * bestLoss)) {
      if (t === 0) throw new Error(`training diverged at the initial parameters: loss ${g.loss}`);
      theta.set(prev); // the last parameters with a good loss
      stopReason = 'diverged';
      divergedAtEpoch = Math.floor(t / perEpoch);
      break;
    }
    bestLoss = Math.min(bestLoss, g.loss);
    const gradNorm = norm2(g.grad);
    const info = means.add(t, range.rows, g.loss, gradNorm);
    if (info) o.onEpoch?.(info);
    if (o.tol !== undefined && gradNorm <= o.tol) {
      stopReason = 'tolerance';
      break;
    }
    prev = theta.slice();
    prevT = t;
    optimUpdate(o.optimizer, optim, theta, g.grad, learningRate(o.lr, schedule, t), mask);
    if (o.onSnapshot && optim.t % perEpoch === 0 && (optim.t / perEpoch) % every === 0) o.onSnapshot(snapshot(theta, optim, bestLoss));
    if (performance.now() - lastYield > 50) {
      await new Promise((r) => setTimeout(r, 0)); // keep progress output and abort signals alive
      lastYield = performance.now();
    }
  }
  // Diverged: theta is back at the last good evaluation (its moments are not: a snapshot of it is for
  // inspection and prediction, not for an exact resume).
  const updates = stopReason === 'diverged' ? prevT : optim.t;
  optim.t = updates;
  const final = await program.evaluate(theta, { start: 0, rows: n });
  const result: ModelTrainResult = {
    theta, loss: final.loss, gradNorm: norm2(final.grad), epochs: Math.floor(updates / perEpoch), updates, stopReason,
    snapshot: snapshot(theta, optim, bestLoss),
  };
  if (divergedAtEpoch !== undefined) result.divergedAtEpoch = divergedAtEpoch;
  return result;
}

function snapshot(theta: Float64Array, optim: OptimState, bestLoss: number): ModelSnapshot {
  return { theta: theta.slice(), optim: { m: optim.m.slice(), v: optim.v.slice(), t: optim.t }, bestLoss };
}
