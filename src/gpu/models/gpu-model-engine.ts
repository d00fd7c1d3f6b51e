// The WGSL engine for logistic, softmax and MLP models (and linear through the same stages). Data,
// parameters, activations and the optimizer's state live on the GPU; a training step is the gradient
// chain (mlp-passes.ts, its product kernels tuned per adapter by gemm-tuning.ts) over the step's batch,
// the history record (and tolerance stop) and the fused optimizer update; up to `slots` steps are chained
// per submit, which reads back only (J, |grad J|) per step and the stop flag. Each submit first copies the
// parameters and moments aside on the GPU (the last good state should it diverge); they come back to the
// host only for a snapshot (onSnapshot, at epoch ends), a divergence, or the end of training.
import { DEFAULT_EXPLODE_FACTOR } from '../../models/linear.ts';
import { decayMask, initParameters, validateModelData, validateNetwork, validateTheta, type ModelData, type NetworkConfig } from '../../models/network.ts';
import { DEFAULT_SEED, EpochMeans, norm2, validateBatching, validateModelTrainOptions, type ModelEngine, type ModelSnapshot, type ModelTrainOptions, type ModelTrainResult } from '../../models/model-engine.ts';
import { BatchSchedule, batchRanges } from '../../models/batches.ts';
import { learningRate } from '../../optim/schedule.ts';
import { stateSlots } from '../../optim/config.ts';
import { createOptimState } from '../../optim/state.ts';
import type { GpuContext } from '../device.ts';
import { createBufferChecked, createUploadedBuffer } from '../resources.ts';
import { DeviceIo } from '../device-io.ts';
import { planMlp, type MlpPlan } from './mlp-plan.ts';
import { MlpGradientPasses, MlpHistoryPass, type LayerProducts, type MlpBuffers, type ProductKernels } from './mlp-passes.ts';
import { chooseProducts } from './gemm-tuning.ts';
import type { TuningCache } from '../tuning/cache.ts';
import { ACTIVATION_CODES } from '../../models/network.ts';
import { CONTROL_BYTES, CONTROL_CONVERGED, NO_TOLERANCE, OptimUpdatePass } from './optim-update-pass.ts';

const kLabel = 'nabla.model';
const DEFAULT_SLOTS = 64;

export interface GpuModelEngineOptions {
  workgroupSize?: number;
  /** Most steps chained per submit (uniform slots, history ring). */
  maxReportEvery?: number;
  /**
   * Samples the activation buffers hold: the largest batch size train() accepts. Default all samples, or
   * as many as one storage binding holds; a full evaluation beyond it runs piece by piece.
   */
  maxBatchRows?: number;
  /** The layers' product kernels: 'auto' (default) tunes them per adapter at first use; tests pin them. */
  products?: ProductKernels;
  /** Where tuned product configurations are kept (default: defaultTuningCache, shared by the page). */
  tuningCache?: TuningCache;
}

export class GpuModelEngine implements ModelEngine {
  readonly device = 'gpu' as const;
  readonly adapter: string;
  private disposed = false;
  private readonly io: DeviceIo;

  private constructor(
    private readonly gpu: GpuContext,
    readonly config: NetworkConfig,
    readonly n: number,
    readonly plan: MlpPlan,
    private readonly buffers: MlpBuffers,
    private readonly owned: GPUBuffer[],
    private readonly passes: MlpGradientPasses,
    /** The kernel each layer product runs (tuned or pinned). */
    readonly products: LayerProducts[],
  ) {
    this.adapter = gpu.summary.name;
    this.io = new DeviceIo(gpu.device, kLabel);
  }

  static async create(gpu: GpuContext, config: NetworkConfig, data: ModelData, options: GpuModelEngineOptions = {}): Promise<GpuModelEngine> {
    validateNetwork(config);
    validateModelData(config, data);
    const { device } = gpu;
    const n = data.n;
    const rows = options.maxBatchRows === undefined ? undefined : Math.min(options.maxBatchRows, n);
    const plan = planMlp(config, n, gpu.shape, gpu.maxBindingBytes, options.workgroupSize, rows);
    const slots = Math.max(1, options.maxReportEvery ?? DEFAULT_SLOTS);
    const S = GPUBufferUsage.STORAGE;
    const owned: GPUBuffer[] = [];
    const round = (bytes: number) => Math.max(16, Math.ceil(bytes / 16) * 16);
    const make = async (label: string, bytes: number, usage = S) => {
      const b = await createBufferChecked(device, { label: `${kLabel}.${label}`, size: round(bytes), usage });
      owned.push(b);
      return b;
    };
    try {
      const x = await createUploadedBuffer(device, `${kLabel}.x`, data.x, round(data.x.length * 4), S);
      owned.push(x);
      const y = await createUploadedBuffer(device, `${kLabel}.y`, data.y, round(n * 4), S);
      owned.push(y);
      const buffers: MlpBuffers = {
        x, y,
        theta: await make('theta', plan.params * 4, S | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC),
        acts: await Promise.all(plan.layers.map((l, k) => make(`act${k + 1}`, plan.rows * l.fanOut * 4))),
        deltas: await Promise.all(plan.layers.map((l, k) => make(`delta${k + 1}`, plan.rows * l.fanOut * 4))),
        losses: await make('losses', plan.rows * 4),
        partials: await make('partials', plan.numChunks * plan.stride * 4),
        gradLoss: await make('gradLoss', plan.stride * 4, S | GPUBufferUsage.COPY_SRC),
      };
      const products = await chooseProducts(gpu, plan, ACTIVATION_CODES[config.activation], options.products ?? 'auto', { cache: options.tuningCache });
      const passes = await MlpGradientPasses.create(device, config, plan, gpu.shape.maxWorkgroupsPerDimension, buffers, slots, products);
      return new GpuModelEngine(gpu, config, n, plan, buffers, owned, passes, products);
    } catch (e) {
      for (const b of owned) b.destroy();
      throw e;
    }
  }

  private live(): GPUDevice {
    if (this.disposed) throw new Error('GpuModelEngine: used after dispose()');
    return this.io.live();
  }

  /** Validation-scoped submit and read-back; a lost device is reported as GpuDeviceLostError, never a hang. */
  private async submitAndRead(encoder: GPUCommandEncoder, readback: GPUBuffer, bytes: number, what: string): Promise<ArrayBuffer> {
    await this.io.submitChecked(encoder, what);
    return this.io.readBack(readback, bytes);
  }

  private async readbackBuffer(bytes: number): Promise<GPUBuffer> {
    return createBufferChecked(this.live(), { label: `${kLabel}.readback`, size: Math.ceil(bytes / 16) * 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  /** Fills the partials and gradient buffers with a value (tests poison them with NaN). */
  fillOutputs(value: number): void {
    const q = this.live().queue;
    for (const b of [this.buffers.partials, this.buffers.gradLoss]) q.writeBuffer(b, 0, new Float32Array(b.size / 4).fill(value));
  }

  /** J and its gradient over all samples: one evaluation, or pieces of plan.rows combined in float64. */
  async lossAndGradient(theta: ArrayLike<number>): Promise<{ loss: number; grad: Float64Array }> {
    validateTheta(this.config, theta);
    const device = this.live();
    device.queue.writeBuffer(this.buffers.theta, 0, Float32Array.from(theta));
    const P = this.plan.params;
    const bytes = this.plan.stride * 4;
    const readback = await this.readbackBuffer(bytes);
    try {
      const pieces = batchRanges(this.n, this.plan.rows);
      let loss = 0;
      const grad = new Float64Array(P);
      for (const piece of pieces) {
        this.passes.writeSlots([piece]);
        const encoder = device.createCommandEncoder({ label: `${kLabel}.gradient.encoder` });
        const pass = encoder.beginComputePass({ label: `${kLabel}.gradient.pass` });
        this.passes.record(pass, 0);
        pass.end();
        encoder.copyBufferToBuffer(this.buffers.gradLoss, 0, readback, 0, bytes);
        const out = new Float32Array(await this.submitAndRead(encoder, readback, bytes, 'gradient'));
        if (pieces.length === 1) return { loss: out[P], grad: Float64Array.from(out.subarray(0, P)) };
        const weight = piece.rows / this.n; // each piece's values are means over its rows
        loss += weight * out[P];
        for (let k = 0; k < P; k++) grad[k] += weight * out[k];
      }
      return { loss, grad };
    } finally {
      readback.destroy();
    }
  }

  async train(o: ModelTrainOptions): Promise<ModelTrainResult> {
    validateModelTrainOptions(o);
    const device = this.live();
    const c = this.config;
    const P = this.plan.params;
    const seed = o.seed ?? DEFAULT_SEED;
    const batches = new BatchSchedule(this.n, o.batchSize, seed);
    const perEpoch = batches.perEpoch;
    validateBatching(o, perEpoch);
    if (batches.size > this.plan.rows) {
      throw new RangeError(`batch size: ${batches.size} samples exceed the ${this.plan.rows} this engine holds per evaluation (maxBatchRows)`);
    }
    const resume = o.resumeFrom;
    let theta = Float64Array.from(resume?.theta ?? o.init ?? initParameters(c, seed));
    validateTheta(c, theta);
    const slots = Math.min(this.passes.slots, o.reportEvery ?? this.passes.slots);
    const optim = await OptimUpdatePass.create(device, {
      config: o.optimizer, params: P, workgroupSize: this.plan.workgroupSize, maxWorkgroupsPerDimension: this.gpu.shape.maxWorkgroupsPerDimension,
      maxSlots: slots, grad: this.buffers.gradLoss, theta: this.buffers.theta, decayMask: decayMask(c),
    });
    const historyBuffer = await createBufferChecked(device, { label: `${kLabel}.history`, size: slots * 8, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const moments = stateSlots(o.optimizer.kind);
    const historyBytes = slots * 8;
    const stateBytes = (1 + moments) * P * 4; // theta, then the moments
    const stateAt = historyBytes + 16; // the control words, then (when a snapshot follows) theta and the moments
    const readback = await this.readbackBuffer(stateAt + stateBytes);
    const stateReadback = await this.readbackBuffer(stateBytes);
    // theta and the moments as each submit found them: the last good state if that submit diverges, so
    // that no submit has to read the state back unless a snapshot or the end of training needs it.
    const prevState = await createBufferChecked(device, { label: `${kLabel}.prevState`, size: Math.ceil(stateBytes / 16) * 16, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    try {
      const history = await MlpHistoryPass.create(device, this.plan.workgroupSize, Array.from({ length: slots }, (_, s) => optim.slotBinding(s)), this.buffers.gradLoss, historyBuffer, optim.control);
      device.queue.writeBuffer(this.buffers.theta, 0, Float32Array.from(theta));
      if (resume) optim.writeState(resume.optim);
      else optim.reset();
      const schedule = o.schedule ?? { kind: 'constant' as const };
      const explode = o.explodeFactor ?? DEFAULT_EXPLODE_FACTOR;
      const tol = o.tol ?? NO_TOLERANCE;
      const totalUpdates = o.maxEpochs * perEpoch;
      const means = new EpochMeans(this.n, perEpoch);
      let t = resume?.optim.t ?? 0;
      let bestLoss = resume?.bestLoss ?? Infinity;
      let state = resume ? { m: Float64Array.from(resume.optim.m), v: Float64Array.from(resume.optim.v), t } : createOptimState(o.optimizer.kind, P);
      let stateIsCurrent = true; // theta and state hold what the GPU holds
      const takeState = (raw: ArrayBuffer, offset: number, at: number) => {
        const after = new Float32Array(raw, offset, (1 + moments) * P);
        theta = Float64Array.from(after.subarray(0, P));
        state = {
          m: Float64Array.from(moments >= 1 ? after.subarray(P, 2 * P) : []),
          v: Float64Array.from(moments === 2 ? after.subarray(2 * P, 3 * P) : []),
          t: at,
        };
        stateIsCurrent = true;
      };
      const readState = async (from: 'live' | 'previous', at: number) => {
        const encoder = device.createCommandEncoder({ label: `${kLabel}.state.encoder` });
        if (from === 'live') {
          encoder.copyBufferToBuffer(this.buffers.theta, 0, stateReadback, 0, P * 4);
          optim.copyState(encoder, stateReadback, P * 4);
        } else {
          encoder.copyBufferToBuffer(prevState, 0, stateReadback, 0, stateBytes);
        }
        takeState(await this.submitAndRead(encoder, stateReadback, stateBytes, 'state'), 0, at);
      };
      let stopReason: ModelTrainResult['stopReason'] = 'max-epochs';
      let divergedAtEpoch: number | undefined;
      while (t < totalUpdates) {
        if (o.signal?.aborted) {
          stopReason = 'aborted';
          break;
        }
        const k = stepsPerSubmit(slots, perEpoch, t, totalUpdates);
        const stepBatches = Array.from({ length: k }, (_, s) => batches.at(t + s));
        this.passes.writeSlots(stepBatches);
        optim.writeSteps(t, Array.from({ length: k }, (_, s) => learningRate(o.lr, schedule, t + s)), tol);
        const encoder = device.createCommandEncoder({ label: `${kLabel}.train.encoder` });
        encoder.copyBufferToBuffer(this.buffers.theta, 0, prevState, 0, P * 4);
        optim.copyState(encoder, prevState, P * 4);
        const pass = encoder.beginComputePass({ label: `${kLabel}.train.pass` });
        for (let s = 0; s < k; s++) {
          this.passes.record(pass, s);
          history.run(pass, s);
          optim.run(pass, s);
        }
        pass.end();
        encoder.copyBufferToBuffer(historyBuffer, 0, readback, 0, historyBytes);
        encoder.copyBufferToBuffer(optim.control, 0, readback, historyBytes, CONTROL_BYTES);
        // A submit that ends an epoch whose snapshot is wanted brings the state back with the history, so
        // that the snapshot needs no device after the callbacks (which may lose it).
        const withState = o.onSnapshot !== undefined && (t + k) % perEpoch === 0;
        if (withState) {
          encoder.copyBufferToBuffer(this.buffers.theta, 0, readback, stateAt, P * 4);
          optim.copyState(encoder, readback, stateAt + P * 4);
        }
        const raw = await this.submitAndRead(encoder, readback, withState ? stateAt + stateBytes : historyBytes + CONTROL_BYTES, 'train');
        stateIsCurrent = false;
        const [status, stoppedAt] = new Uint32Array(raw, historyBytes, 2);
        const converged = status === CONTROL_CONVERGED;
        // Converged: the step that met the tolerance recorded its history, and no update ran after it.
        const recorded = converged ? stoppedAt - t + 1 : k;
        const h = new Float32Array(raw, 0, slots * 2);
        for (let s = 0; s < recorded; s++) {
          const at = ((t + s) % slots) * 2;
          const loss = h[at];
          if (!Number.isFinite(loss) || (Number.isFinite(bestLoss) && loss > explode * bestLoss)) {
            if (t + s === 0) throw new Error(`training diverged at the initial parameters: loss ${loss}`);
            stopReason = 'diverged';
            divergedAtEpoch = Math.floor((t + s) / perEpoch);
            break;
          }
          bestLoss = Math.min(bestLoss, loss);
          const info = means.add(t + s, stepBatches[s].rows, loss, h[at + 1]);
          if (info) o.onEpoch?.(info);
        }
        // Diverged: keep the parameters this submit started from (the last known good ones).
        if (stopReason === 'diverged') {
          await readState('previous', t);
          break;
        }
        t = converged ? stoppedAt : t + k;
        // Converged: no update ran after the stop, so the state copied at the submit's end is the stop's.
        if (withState) takeState(raw, stateAt, t);
        if (converged) {
          stopReason = 'tolerance';
          break;
        }
        if (withState) o.onSnapshot!(snapshotOf(theta, state, bestLoss));
      }
      if (!stateIsCurrent) await readState('live', t);
      const final = await this.lossAndGradient(theta);
      const result: ModelTrainResult = {
        theta, loss: final.loss, gradNorm: norm2(final.grad), epochs: Math.floor(t / perEpoch), updates: t, stopReason,
        snapshot: snapshotOf(theta, state, bestLoss),
      };
      if (divergedAtEpoch !== undefined) result.divergedAtEpoch = divergedAtEpoch;
      return result;
    } finally {
      optim.dispose();
      historyBuffer.destroy();
      readback.destroy();
      stateReadback.destroy();
      prevState.destroy();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.passes.dispose();
    for (const b of this.owned) b.destroy();
  }
}

function snapshotOf(theta: Float64Array, s: { m: Float64Array; v: Float64Array; t: number }, bestLoss: number): ModelSnapshot {
  return { theta: theta.slice(), optim: { m: s.m.slice(), v: s.v.slice(), t: s.t }, bestLoss };
}

/**
 * Steps chained in the next submit: as many as the slots hold, ending on an epoch boundary whenever an
 * epoch has several batches (snapshots, and so resumes, fall on epoch ends).
 */
export function stepsPerSubmit(slots: number, perEpoch: number, t: number, total: number): number {
  const left = total - t;
  if (perEpoch === 1) return Math.min(slots, left);
  if (perEpoch <= slots) return Math.min(left, Math.floor(slots / perEpoch) * perEpoch - (t % perEpoch));
  return Math.min(slots, left, perEpoch - (t % perEpoch));
}
