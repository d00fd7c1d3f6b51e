// The float64 path for logistic, softmax and MLP models (and linear through the same network code): the
// reference the GPU engine is tested against, and the fallback where WebGPU is missing.
import { DEFAULT_EXPLODE_FACTOR } from '../models/linear.ts';
import { decayMask, initParameters, validateModelData, validateNetwork, validateTheta, type ModelData, type NetworkConfig } from '../models/network.ts';
import { DEFAULT_SEED, EpochMeans, norm2, validateBatching, validateModelTrainOptions, type ModelEngine, type ModelTrainOptions, type ModelTrainResult } from '../models/model-engine.ts';
import { BatchSchedule, type BatchRange } from '../models/batches.ts';
import { learningRate } from '../optim/schedule.ts';
import { createOptimState, optimUpdate } from './optim_update.ts';
import { modelLossAndGradient } from './mlp_gradient.ts';

export class CpuModelEngine implements ModelEngine {
  readonly device = 'cpu' as const;
  readonly adapter = null;
  readonly n: number;
  private data: ModelData | null;

  constructor(readonly config: NetworkConfig, data: ModelData) {
    validateNetwork(config);
    validateModelData(config, data);
    this.data = data;
    this.n = data.n;
  }

  private live(): ModelData {
    if (!this.data) throw new Error('CpuModelEngine: used after dispose()');
    return this.data;
  }

  async lossAndGradient(theta: ArrayLike<number>) {
    validateTheta(this.config, theta);
    return modelLossAndGradient(this.config, theta, this.live());
  }

  async train(o: ModelTrainOptions): Promise<ModelTrainResult> {
    validateModelTrainOptions(o);
    const c = this.config;
    const data = this.live();
    const seed = o.seed ?? DEFAULT_SEED;
    const batches = new BatchSchedule(this.n, o.batchSize, seed);
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
    const means = new EpochMeans(this.n, perEpoch);
    const views = batches.ranges.map((r) => (perEpoch === 1 ? data : batchView(data, c.inputs, r)));
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
      const k = batches.indexAt(t);
      const g = modelLossAndGradient(c, theta, views[k]);
      if (!Number.isFinite(g.loss) || (Number.isFinite(bestLoss) && g.loss > explode * bestLoss)) {
        if (t === 0) throw new Error(`training diverged at the initial parameters: loss ${g.loss}`);
        theta.set(prev); // the last parameters with a good loss
        stopReason = 'diverged';
        divergedAtEpoch = Math.floor(t / perEpoch);
        break;
      }
      bestLoss = Math.min(bestLoss, g.loss);
      const gradNorm = norm2(g.grad);
      const info = means.add(t, views[k].n, g.loss, gradNorm);
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
    const final = modelLossAndGradient(c, theta, data);
    const result: ModelTrainResult = {
      theta, loss: final.loss, gradNorm: norm2(final.grad), epochs: Math.floor(updates / perEpoch), updates, stopReason,
      snapshot: snapshot(theta, optim, bestLoss),
    };
    if (divergedAtEpoch !== undefined) result.divergedAtEpoch = divergedAtEpoch;
    return result;
  }

  dispose(): void {
    this.data = null;
  }
}

function snapshot(theta: Float64Array, optim: { m: Float64Array; v: Float64Array; t: number }, bestLoss: number) {
  return { theta: theta.slice(), optim: { m: optim.m.slice(), v: optim.v.slice(), t: optim.t }, bestLoss };
}

/** Rows r.start..r.start+r.rows of the data, as views (no copy). */
function batchView(data: ModelData, d: number, r: BatchRange): ModelData {
  return { ...data, n: r.rows, x: data.x.subarray(r.start * d, (r.start + r.rows) * d), y: data.y.subarray(r.start, r.start + r.rows) };
}
