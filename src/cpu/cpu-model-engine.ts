// The float64 path for logistic, softmax and MLP models (and linear through the same network code): the
// reference the GPU engine is tested against, and the fallback where WebGPU is missing.
import { DEFAULT_EXPLODE_FACTOR } from '../models/linear.ts';
import { decayMask, initParameters, validateModelData, validateNetwork, validateTheta, type ModelData, type NetworkConfig } from '../models/network.ts';
import { DEFAULT_SEED, norm2, validateModelTrainOptions, type ModelEngine, type ModelTrainOptions, type ModelTrainResult } from '../models/model-engine.ts';
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
    const resume = o.resumeFrom;
    const theta = Float64Array.from(resume?.theta ?? o.init ?? initParameters(c, o.seed ?? DEFAULT_SEED));
    validateTheta(c, theta);
    const optim = resume
      ? { m: Float64Array.from(resume.optim.m), v: Float64Array.from(resume.optim.v), t: resume.optim.t }
      : createOptimState(o.optimizer.kind, theta.length);
    const mask = decayMask(c);
    const schedule = o.schedule ?? { kind: 'constant' as const };
    const explode = o.explodeFactor ?? DEFAULT_EXPLODE_FACTOR;
    const every = o.reportEvery ?? 32;
    let bestLoss = resume?.bestLoss ?? Infinity;
    let prev = theta.slice();
    let prevT = optim.t;
    let stopReason: ModelTrainResult['stopReason'] = 'max-epochs';
    let divergedAtEpoch: number | undefined;
    let lastYield = performance.now();
    while (optim.t < o.maxEpochs) {
      if (o.signal?.aborted) {
        stopReason = 'aborted';
        break;
      }
      const t = optim.t;
      const g = modelLossAndGradient(c, theta, data);
      if (!Number.isFinite(g.loss) || (Number.isFinite(bestLoss) && g.loss > explode * bestLoss)) {
        if (t === 0) throw new Error(`training diverged at the initial parameters: loss ${g.loss}`);
        theta.set(prev); // the last parameters with a good loss
        stopReason = 'diverged';
        divergedAtEpoch = t;
        break;
      }
      bestLoss = Math.min(bestLoss, g.loss);
      o.onEpoch?.({ epoch: t, loss: g.loss, gradNorm: norm2(g.grad) });
      prev = theta.slice();
      prevT = t;
      optimUpdate(o.optimizer, optim, theta, g.grad, learningRate(o.lr, schedule, t), mask);
      if (o.onSnapshot && optim.t % every === 0) o.onSnapshot(snapshot(theta, optim, bestLoss));
      if (performance.now() - lastYield > 50) {
        await new Promise((r) => setTimeout(r, 0)); // keep progress output and abort signals alive
        lastYield = performance.now();
      }
    }
    // Diverged: theta is back at the last good evaluation (its moments are not: a snapshot of it is for
    // inspection and prediction, not for an exact resume).
    const epochs = stopReason === 'diverged' ? prevT : optim.t;
    optim.t = epochs;
    const final = modelLossAndGradient(c, theta, data);
    const result: ModelTrainResult = {
      theta, loss: final.loss, gradNorm: norm2(final.grad), epochs, stopReason, snapshot: snapshot(theta, optim, bestLoss),
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
