// The WGSL engine for logistic, softmax and MLP models (and linear through the same stages). Data,
// parameters, activations and the optimizer's state live on the GPU; a training step is the gradient
// chain (mlp-passes.ts), the history record and the fused optimizer update, and up to `slots` steps are
// chained per submit with only (J, |grad J|) per step and the parameters read back between batches.
import { DEFAULT_EXPLODE_FACTOR } from '../../models/linear.ts';
import { decayMask, initParameters, validateModelData, validateNetwork, validateTheta, type ModelData, type NetworkConfig } from '../../models/network.ts';
import { DEFAULT_SEED, norm2, validateModelTrainOptions, type ModelEngine, type ModelSnapshot, type ModelTrainOptions, type ModelTrainResult } from '../../models/model-engine.ts';
import { learningRate } from '../../optim/schedule.ts';
import { stateSlots } from '../../optim/config.ts';
import { createOptimState } from '../../cpu/optim_update.ts';
import type { GpuContext } from '../device.ts';
import { createBufferChecked, createUploadedBuffer } from '../resources.ts';
import { DeviceIo } from '../device-io.ts';
import { planMlp, type MlpPlan } from './mlp-plan.ts';
import { MlpGradientPasses, MlpHistoryPass, type MlpBuffers } from './mlp-passes.ts';
import { OptimUpdatePass } from './optim-update-pass.ts';

const kLabel = 'nabla.model';
const DEFAULT_SLOTS = 64;

export interface GpuModelEngineOptions {
  workgroupSize?: number;
  /** Most steps chained per submit (uniform slots, history ring). */
  maxReportEvery?: number;
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
    private readonly slots: number,
  ) {
    this.adapter = gpu.summary.name;
    this.io = new DeviceIo(gpu.device, kLabel);
  }

  static async create(gpu: GpuContext, config: NetworkConfig, data: ModelData, options: GpuModelEngineOptions = {}): Promise<GpuModelEngine> {
    validateNetwork(config);
    validateModelData(config, data);
    const { device } = gpu;
    const n = data.n;
    const plan = planMlp(config, n, gpu.shape, gpu.maxBindingBytes, options.workgroupSize);
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
        acts: await Promise.all(plan.layers.map((l, k) => make(`act${k + 1}`, n * l.fanOut * 4))),
        deltas: await Promise.all(plan.layers.map((l, k) => make(`delta${k + 1}`, n * l.fanOut * 4))),
        losses: await make('losses', n * 4),
        partials: await make('partials', plan.numChunks * plan.stride * 4),
        gradLoss: await make('gradLoss', plan.stride * 4, S | GPUBufferUsage.COPY_SRC),
      };
      const passes = await MlpGradientPasses.create(device, config, n, plan, gpu.shape.maxWorkgroupsPerDimension, buffers);
      return new GpuModelEngine(gpu, config, n, plan, buffers, owned, passes, Math.max(1, options.maxReportEvery ?? DEFAULT_SLOTS));
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

  async lossAndGradient(theta: ArrayLike<number>): Promise<{ loss: number; grad: Float64Array }> {
    validateTheta(this.config, theta);
    const device = this.live();
    device.queue.writeBuffer(this.buffers.theta, 0, Float32Array.from(theta));
    const bytes = this.plan.stride * 4;
    const readback = await this.readbackBuffer(bytes);
    try {
      const encoder = device.createCommandEncoder({ label: `${kLabel}.gradient.encoder` });
      const pass = encoder.beginComputePass({ label: `${kLabel}.gradient.pass` });
      this.passes.record(pass);
      pass.end();
      encoder.copyBufferToBuffer(this.buffers.gradLoss, 0, readback, 0, bytes);
      const out = new Float32Array(await this.submitAndRead(encoder, readback, bytes, 'gradient'));
      return { loss: out[this.plan.params], grad: Float64Array.from(out.subarray(0, this.plan.params)) };
    } finally {
      readback.destroy();
    }
  }

  async train(o: ModelTrainOptions): Promise<ModelTrainResult> {
    validateModelTrainOptions(o);
    const device = this.live();
    const c = this.config;
    const P = this.plan.params;
    const resume = o.resumeFrom;
    let theta = Float64Array.from(resume?.theta ?? o.init ?? initParameters(c, o.seed ?? DEFAULT_SEED));
    validateTheta(c, theta);
    const slots = Math.min(this.slots, o.reportEvery ?? this.slots);
    const optim = await OptimUpdatePass.create(device, {
      config: o.optimizer, params: P, workgroupSize: this.plan.workgroupSize, maxWorkgroupsPerDimension: this.gpu.shape.maxWorkgroupsPerDimension,
      maxSlots: slots, grad: this.buffers.gradLoss, theta: this.buffers.theta, decayMask: decayMask(c),
    });
    const historyBuffer = await createBufferChecked(device, { label: `${kLabel}.history`, size: slots * 8, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const moments = stateSlots(o.optimizer.kind);
    const historyBytes = slots * 8;
    const readback = await this.readbackBuffer(historyBytes + (1 + moments) * P * 4);
    try {
      const history = await MlpHistoryPass.create(device, this.plan.workgroupSize, Array.from({ length: slots }, (_, s) => optim.slotBinding(s)), this.buffers.gradLoss, historyBuffer);
      device.queue.writeBuffer(this.buffers.theta, 0, Float32Array.from(theta));
      if (resume) optim.writeState(resume.optim);
      else optim.reset();
      const schedule = o.schedule ?? { kind: 'constant' as const };
      const explode = o.explodeFactor ?? DEFAULT_EXPLODE_FACTOR;
      let t = resume?.optim.t ?? 0;
      let bestLoss = resume?.bestLoss ?? Infinity;
      let state = resume ? { m: Float64Array.from(resume.optim.m), v: Float64Array.from(resume.optim.v), t } : createOptimState(o.optimizer.kind, P);
      let stopReason: ModelTrainResult['stopReason'] = 'max-epochs';
      let divergedAtEpoch: number | undefined;
      while (t < o.maxEpochs) {
        if (o.signal?.aborted) {
          stopReason = 'aborted';
          break;
        }
        const k = Math.min(slots, o.maxEpochs - t);
        optim.writeSteps(t, Array.from({ length: k }, (_, s) => learningRate(o.lr, schedule, t + s)));
        const encoder = device.createCommandEncoder({ label: `${kLabel}.train.encoder` });
        const pass = encoder.beginComputePass({ label: `${kLabel}.train.pass` });
        for (let s = 0; s < k; s++) {
          this.passes.record(pass);
          history.run(pass, s);
          optim.run(pass, s);
        }
        pass.end();
        encoder.copyBufferToBuffer(historyBuffer, 0, readback, 0, historyBytes);
        encoder.copyBufferToBuffer(this.buffers.theta, 0, readback, historyBytes, P * 4);
        optim.copyState(encoder, readback, historyBytes + P * 4);
        const raw = await this.submitAndRead(encoder, readback, historyBytes + (1 + moments) * P * 4, 'train');
        const h = new Float32Array(raw, 0, slots * 2);
        for (let s = 0; s < k; s++) {
          const at = ((t + s) % slots) * 2;
          const loss = h[at];
          if (!Number.isFinite(loss) || (Number.isFinite(bestLoss) && loss > explode * bestLoss)) {
            if (t + s === 0) throw new Error(`training diverged at the initial parameters: loss ${loss}`);
            stopReason = 'diverged';
            divergedAtEpoch = t + s;
            break;
          }
          bestLoss = Math.min(bestLoss, loss);
          o.onEpoch?.({ epoch: t + s, loss, gradNorm: h[at + 1] });
        }
        // Diverged: keep the parameters read back after the previous batch (the last known good ones).
        if (stopReason === 'diverged') break;
        t += k;
        const after = new Float32Array(raw, historyBytes, (1 + moments) * P);
        theta = Float64Array.from(after.subarray(0, P));
        state = {
          m: Float64Array.from(moments >= 1 ? after.subarray(P, 2 * P) : []),
          v: Float64Array.from(moments === 2 ? after.subarray(2 * P, 3 * P) : []),
          t,
        };
        o.onSnapshot?.(snapshotOf(theta, state, bestLoss));
      }
      const final = await this.lossAndGradient(theta);
      const result: ModelTrainResult = {
        theta, loss: final.loss, gradNorm: norm2(final.grad), epochs: t, stopReason, snapshot: snapshotOf(theta, state, bestLoss),
      };
      if (divergedAtEpoch !== undefined) result.divergedAtEpoch = divergedAtEpoch;
      return result;
    } finally {
      optim.dispose();
      historyBuffer.destroy();
      readback.destroy();
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
