// The float64 path: the same LinearEngine API as the GPU engine, used where WebGPU is missing
// and as the reference in tests.
import {
  DEFAULT_EXPLODE_FACTOR, DEFAULT_TOL, gradientNorm, validateLinearData, validateParams, validateTrainOptions,
  type GradientResult, type LinearData, type LinearEngine, type LinearParams, type TrainOptions, type TrainResult,
} from '../models/linear.ts';
import { linearGradient } from './linear_partials.ts';
import { BatchSchedule } from '../models/batches.ts';
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
    const { d, n } = this;
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
    const batchData = (k: number): LinearData => {
      const start = k * batchSize;
      const rows = Math.min(batchSize, n - start);
      return numBatches === 1 ? data : { n: rows, d, x: data.x.subarray(start * d, (start + rows) * d), y: data.y.subarray(start, start + rows) };
    };
    const batchAt = (step: number) => batchData(schedule.indexAt(step));
    const snapshotEvery = (options.reportEvery ?? 32) * numBatches;
    const rule = {
      lr: options.lr,
      tol: numBatches > 1 ? 0 : options.tol ?? DEFAULT_TOL,
      explodeFactor: options.explodeFactor ?? DEFAULT_EXPLODE_FACTOR,
      maxUpdates: options.maxEpochs * numBatches,
    };
    const state: TrainState = { status: STATUS_RUNNING, step: resume?.step ?? 0, bestLoss: resume?.bestLoss ?? 0 };
    const grad = new Float64Array(d + 1);
    let lastGood = resume?.last ?? { loss: NaN, gradNorm: NaN };
    const epochSum = { loss: 0, norm: 0 };
    let lastYield = performance.now();
    while (state.status === STATUS_RUNNING) {
      if (options.signal?.aborted) break;
      const step = state.step;
      const batch = batchAt(step);
      const g = linearGradient(batch, { w: theta.subarray(0, d), b: theta[d] });
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
        epochSum.loss += batch.n * g.loss;
        epochSum.norm += batch.n * gradNorm;
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
      const g = linearGradient(data, { w: theta.subarray(0, d), b: theta[d] });
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

  dispose(): void {
    this.data = null;
  }
}
