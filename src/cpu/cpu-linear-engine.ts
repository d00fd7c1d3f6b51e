// The float64 path: the same LinearEngine API as the GPU engine, used where WebGPU is missing
// and as the reference in tests.
import {
  DEFAULT_EXPLODE_FACTOR, DEFAULT_TOL, gradientNorm, validateLinearData, validateParams, validateTrainOptions,
  type GradientResult, type LinearData, type LinearEngine, type LinearParams, type TrainOptions, type TrainResult,
} from '../models/linear.ts';
import { linearGradient } from './linear_partials.ts';
import { applyUpdate, STATUS_CONVERGED, STATUS_DIVERGED, STATUS_RUNNING, type TrainState } from './apply_update.ts';

export class CpuLinearEngine implements LinearEngine {
  readonly device = 'cpu' as const;
  readonly adapter = null;
  readonly n: number;
  readonly d: number;
  private data: LinearData | null;

  constructor(data: LinearData) {
    validateLinearData(data);
    this.data = data;
    this.n = data.n;
    this.d = data.d;
  }

  private live(): LinearData {
    if (!this.data) throw new Error('CpuLinearEngine: used after dispose()');
    return this.data;
  }

  async gradient(at: LinearParams): Promise<GradientResult> {
    validateParams(at, this.d);
    return linearGradient(this.live(), at);
  }

  async train(options: TrainOptions): Promise<TrainResult> {
    validateTrainOptions(options);
    const data = this.live();
    const d = this.d;
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
    const snapshotEvery = options.reportEvery ?? 32;
    const rule = {
      lr: options.lr,
      tol: options.tol ?? DEFAULT_TOL,
      explodeFactor: options.explodeFactor ?? DEFAULT_EXPLODE_FACTOR,
      maxUpdates: options.maxEpochs,
    };
    const state: TrainState = { status: STATUS_RUNNING, step: resume?.step ?? 0, bestLoss: resume?.bestLoss ?? 0 };
    const grad = new Float64Array(d + 1);
    let last = resume?.last ?? { loss: NaN, gradNorm: NaN };
    let lastGood = last;
    let lastYield = performance.now();
    while (state.status === STATUS_RUNNING) {
      if (options.signal?.aborted) break;
      const g = linearGradient(data, { w: theta.subarray(0, d), b: theta[d] });
      grad.set(g.gradW);
      grad[d] = g.gradB;
      const gradNorm = gradientNorm(g);
      const epoch = state.step;
      applyUpdate(state, theta, thetaPrev, grad, g.loss, gradNorm, rule);
      last = { loss: g.loss, gradNorm };
      if ((state.status as number) === STATUS_DIVERGED) break;
      lastGood = last;
      options.onEpoch?.({ epoch, loss: g.loss, gradNorm });
      if (options.onSnapshot && state.status === STATUS_RUNNING && state.step % snapshotEvery === 0) {
        options.onSnapshot({ theta: theta.slice(), thetaPrev: thetaPrev.slice(), step: state.step, bestLoss: state.bestLoss, last: lastGood });
      }
      // Long CPU runs must not starve the event loop (progress output, abort signals, the page).
      if (performance.now() - lastYield > 50) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        lastYield = performance.now();
      }
    }
    const aborted = state.status === STATUS_RUNNING;
    let good = lastGood;
    if (aborted) {
      // Aborted between evaluation and update: theta moved past the last evaluated point.
      const g = linearGradient(data, { w: theta.subarray(0, d), b: theta[d] });
      good = { loss: g.loss, gradNorm: gradientNorm(g) };
    }
    const result: TrainResult = {
      w: theta.slice(0, d),
      b: theta[d],
      loss: good.loss,
      gradNorm: good.gradNorm,
      epochs: Math.max(0, state.status === STATUS_DIVERGED ? state.step - 1 : aborted ? state.step : state.step - 1),
      stopReason: aborted ? 'aborted'
        : state.status === STATUS_CONVERGED ? 'tolerance'
          : state.status === STATUS_DIVERGED ? 'diverged' : 'max-epochs',
    };
    if (state.status === STATUS_DIVERGED) {
      result.divergedAtEpoch = state.step;
      if (state.step === 0) throw new Error(`training diverged at the initial parameters: loss ${last.loss}`);
    }
    return result;
  }

  dispose(): void {
    this.data = null;
  }
}
