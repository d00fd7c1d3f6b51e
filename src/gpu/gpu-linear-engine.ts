// The WGSL engine for the linear model. Data and parameters live in GPU buffers; a gradient is two
// dispatches (partials, reduce), a training step three (plus the update), and many steps are chained
// per submit with only the small (loss, |grad|) history read back between batches.
import {
  DEFAULT_EXPLODE_FACTOR, DEFAULT_TOL, validateLinearData, validateParams, validateTrainOptions,
  type GradientResult, type LinearData, type LinearEngine, type LinearParams, type TrainOptions, type TrainResult,
  type TrainSnapshot,
} from '../models/linear.ts';
import { STATUS_CONVERGED, STATUS_DIVERGED, STATUS_RUNNING } from '../cpu/apply_update.ts';
import type { GpuContext } from './device.ts';
import { paddedFeatureBytes, planLinearGrid, type LinearGridPlan } from './dispatch.ts';
import { packGridUniforms, packReduceUniforms, packUpdateUniforms } from './uniforms.ts';
import { createBufferChecked, createUploadedBuffer } from './resources.ts';
import { LinearPartialsPass } from './passes/linear-partials-pass.ts';
import { ReducePartialsPass } from './passes/reduce-partials-pass.ts';
import { ApplyUpdatePass } from './passes/apply-update-pass.ts';

const kLabel = 'nabla.linear';
const STATE_BYTES = 16; // TrainState { status, step: u32, best_loss: f32, _pad }
const DEFAULT_REPORT_EVERY = 32;

interface Buffers {
  x: GPUBuffer; y: GPUBuffer; theta: GPUBuffer; thetaPrev: GPUBuffer; state: GPUBuffer;
  partials: GPUBuffer; gradLoss: GPUBuffer; history: GPUBuffer;
  gridUniforms: GPUBuffer; reduceUniforms: GPUBuffer; updateUniforms: GPUBuffer; readback: GPUBuffer;
}

/** The device went away mid-run (driver reset, device.destroy()); the caller may resume from a snapshot. */
export class GpuDeviceLostError extends Error {
  constructor(message: string) {
    super(`GPU device lost: ${message}`);
    this.name = 'GpuDeviceLostError';
  }
}

export interface GpuLinearEngineOptions {
  /** Longest run of steps chained between read-backs; also the history ring's length. */
  maxReportEvery?: number;
  /** Upper bound on the workgroup size (a power of two); the adapter's limit applies anyway. */
  workgroupSize?: number;
  /**
   * Full WGSL source replacing the generated pass-1 kernel (linearPartialsWgsl). For fault injection: the
   * benchmark swaps in a wrong kernel to prove that its validation catches it.
   */
  partialsWgsl?: string;
}

export class GpuLinearEngine implements LinearEngine {
  readonly device = 'gpu' as const;
  readonly adapter: string;
  private disposed = false;
  private lost: string | null = null;

  private constructor(
    private readonly gpu: GpuContext,
    readonly n: number,
    readonly d: number,
    readonly plan: LinearGridPlan,
    private readonly buffers: Buffers,
    private readonly historyCap: number,
    private readonly partialsPass: LinearPartialsPass,
    private readonly reducePass: ReducePartialsPass,
    private readonly updatePass: ApplyUpdatePass,
  ) {
    this.adapter = gpu.summary.name;
    void gpu.device.lost.then((info) => {
      this.lost = info.message || info.reason || 'lost';
    });
  }

  static async create(gpu: GpuContext, data: LinearData, options: GpuLinearEngineOptions = {}): Promise<GpuLinearEngine> {
    validateLinearData(data);
    const { device } = gpu;
    const { n, d } = data;
    const plan = planLinearGrid(n, d, gpu.shape, options.workgroupSize);
    const xBytes = paddedFeatureBytes(n, d);
    if (xBytes > gpu.maxBindingBytes) {
      throw new RangeError(
        `dataset: ${n} x ${d} features take ${xBytes} bytes, more than one storage binding on ${gpu.summary.name} ` +
        `(${gpu.maxBindingBytes} bytes); chunked data is not supported yet`,
      );
    }
    const historyCap = Math.max(1, options.maxReportEvery ?? 256);
    const S = GPUBufferUsage.STORAGE;
    const created: GPUBuffer[] = [];
    const make = async (label: string, size: number, usage: number) => {
      const b = await createBufferChecked(device, { label: `${kLabel}.${label}`, size: Math.max(16, Math.ceil(size / 16) * 16), usage });
      created.push(b);
      return b;
    };
    try {
      const x = await createUploadedBuffer(device, `${kLabel}.x`, data.x, xBytes, S);
      created.push(x);
      const y = await createUploadedBuffer(device, `${kLabel}.y`, data.y, Math.ceil(n / 4) * 16, S);
      created.push(y);
      const buffers: Buffers = {
        x, y,
        theta: await make('theta', (d + 1) * 4, S | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC),
        thetaPrev: await make('thetaPrev', (d + 1) * 4, S | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC),
        state: await make('state', STATE_BYTES, S | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC),
        partials: await make('partials', plan.numGroups * (d + 2) * 4, S),
        gradLoss: await make('gradLoss', (d + 2) * 4, S | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST),
        history: await make('history', historyCap * 8, S | GPUBufferUsage.COPY_SRC),
        gridUniforms: await make('gridUniforms', 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
        reduceUniforms: await make('reduceUniforms', 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
        updateUniforms: await make('updateUniforms', 32, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
        readback: await make('readback', Math.max(STATE_BYTES + historyCap * 8 + 2 * (d + 1) * 4, (d + 2) * 4), GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST),
      };
      device.queue.writeBuffer(buffers.gridUniforms, 0, packGridUniforms(n, plan));
      device.queue.writeBuffer(buffers.reduceUniforms, 0, packReduceUniforms(plan.numGroups, d, n));
      const partialsPass = await LinearPartialsPass.create(device, d, plan, {
        grid: buffers.gridUniforms, x, y, theta: buffers.theta, state: buffers.state, partials: buffers.partials,
      }, options.partialsWgsl);
      const reducePass = await ReducePartialsPass.create(device, d, plan.workgroupSize, {
        uniforms: buffers.reduceUniforms, partials: buffers.partials, state: buffers.state, gradLoss: buffers.gradLoss,
      });
      const updatePass = await ApplyUpdatePass.create(device, plan.workgroupSize, {
        uniforms: buffers.updateUniforms, gradLoss: buffers.gradLoss, theta: buffers.theta, thetaPrev: buffers.thetaPrev,
        state: buffers.state, history: buffers.history,
      });
      return new GpuLinearEngine(gpu, n, d, plan, buffers, historyCap, partialsPass, reducePass, updatePass);
    } catch (e) {
      for (const b of created) b.destroy();
      throw e;
    }
  }

  private live(): GPUDevice {
    if (this.disposed) throw new Error('GpuLinearEngine: used after dispose()');
    if (this.lost !== null) throw new GpuDeviceLostError(this.lost);
    return this.gpu.device;
  }

  /**
   * Device loss shows up as a rejected (or never settling) mapAsync: race the work against device.lost so
   * that it is reported as what it is.
   */
  private async guard<T>(work: Promise<T>): Promise<T> {
    const lost = this.gpu.device.lost.then((info) => {
      throw new GpuDeviceLostError(info.message || info.reason || 'lost');
    });
    try {
      return await Promise.race([work, lost]);
    } catch (e) {
      if (e instanceof GpuDeviceLostError) throw e;
      // device.lost may resolve a moment after the failure it causes.
      await Promise.race([lost.catch(() => undefined), new Promise((r) => setTimeout(r, 100))]);
      if (this.lost !== null) throw new GpuDeviceLostError(this.lost);
      throw e;
    }
  }

  private writeTheta(at: LinearParams, alsoPrev: boolean): void {
    const theta = new Float32Array(this.d + 1);
    theta.set(Array.from(at.w));
    theta[this.d] = at.b;
    const q = this.live().queue;
    q.writeBuffer(this.buffers.theta, 0, theta);
    if (alsoPrev) q.writeBuffer(this.buffers.thetaPrev, 0, theta);
    q.writeBuffer(this.buffers.state, 0, new Uint32Array([STATUS_RUNNING, 0, 0, 0]));
  }

  /** Submits with a validation scope: an invalid command buffer would otherwise do nothing, silently. */
  private async submitChecked(encoder: GPUCommandEncoder, what: string): Promise<void> {
    const device = this.live();
    device.pushErrorScope('validation');
    device.queue.submit([encoder.finish()]);
    const error = await this.guard(device.popErrorScope());
    if (error) throw new Error(`${kLabel}.${what}: ${error.message}`);
  }

  private async readBack(bytes: number): Promise<ArrayBuffer> {
    const rb = this.buffers.readback;
    await this.guard(rb.mapAsync(GPUMapMode.READ, 0, bytes));
    const copy = rb.getMappedRange(0, bytes).slice(0);
    rb.unmap();
    return copy;
  }

  /** Records a gradient evaluation (and, with update, the training step) into a compute pass. */
  recordStep(pass: GPUComputePassEncoder, update: boolean): void {
    this.partialsPass.run(pass);
    this.reducePass.run(pass);
    if (update) this.updatePass.run(pass);
  }

  /** Fills the partials and output buffers with a value (tests poison them with NaN). */
  fillOutputs(value: number): void {
    const q = this.live().queue;
    for (const b of [this.buffers.partials, this.buffers.gradLoss]) q.writeBuffer(b, 0, new Float32Array(b.size / 4).fill(value));
  }

  /** Sets theta and readies the state for gradient-only dispatches (used by benchmarks). */
  prepareGradient(at: LinearParams): void {
    validateParams(at, this.d);
    this.writeTheta(at, false);
  }

  async gradient(at: LinearParams): Promise<GradientResult> {
    const device = this.live();
    this.prepareGradient(at);
    const encoder = device.createCommandEncoder({ label: `${kLabel}.gradient.encoder` });
    const pass = encoder.beginComputePass({ label: `${kLabel}.gradient.pass` });
    this.recordStep(pass, false);
    pass.end();
    const bytes = (this.d + 2) * 4;
    encoder.copyBufferToBuffer(this.buffers.gradLoss, 0, this.buffers.readback, 0, bytes);
    await this.submitChecked(encoder, 'gradient');
    const out = new Float32Array(await this.readBack(bytes));
    return { loss: out[this.d + 1], gradW: Float64Array.from(out.subarray(0, this.d)), gradB: out[this.d] };
  }

  /**
   * Writes the initial parameters, resets the training state and the update rule; after it, recordStep()
   * chains training steps (benchmarks time exactly these).
   */
  prepareTraining(options: TrainOptions): void {
    validateTrainOptions(options);
    const d = this.d;
    const init = options.init ?? { w: new Float64Array(d), b: 0 };
    validateParams(init, d);
    this.writeTheta(init, true);
    this.live().queue.writeBuffer(this.buffers.updateUniforms, 0, packUpdateUniforms({
      lr: options.lr,
      tol: options.tol ?? DEFAULT_TOL,
      explodeFactor: options.explodeFactor ?? DEFAULT_EXPLODE_FACTOR,
      maxUpdates: options.maxEpochs,
      params: d + 1,
      historyCap: this.historyCap,
    }));
  }

  private restore(snapshot: TrainSnapshot): void {
    const q = this.live().queue;
    if (snapshot.theta.length !== this.d + 1) throw new RangeError(`resumeFrom: snapshot has ${snapshot.theta.length - 1} weights, the data ${this.d}`);
    q.writeBuffer(this.buffers.theta, 0, Float32Array.from(snapshot.theta));
    q.writeBuffer(this.buffers.thetaPrev, 0, Float32Array.from(snapshot.thetaPrev));
    const state = new ArrayBuffer(STATE_BYTES);
    new Uint32Array(state).set([STATUS_RUNNING, snapshot.step]);
    new Float32Array(state)[2] = snapshot.bestLoss;
    q.writeBuffer(this.buffers.state, 0, state);
  }

  async train(options: TrainOptions): Promise<TrainResult> {
    this.prepareTraining(options);
    if (options.resumeFrom) this.restore(options.resumeFrom);
    const device = this.live();
    const d = this.d;
    const reportEvery = Math.min(options.reportEvery ?? DEFAULT_REPORT_EVERY, this.historyCap);
    const historyBytes = this.historyCap * 8;
    const thetaBytes = (d + 1) * 4;
    const snapshotBytes = options.onSnapshot ? 2 * thetaBytes : 0;

    let status = STATUS_RUNNING;
    let steps = options.resumeFrom?.step ?? 0; // good evaluations so far
    let lastGood = options.resumeFrom?.last ?? null;
    let failed: { loss: number; gradNorm: number } | null = null;
    const totalEvaluations = options.maxEpochs + 1;
    while (status === STATUS_RUNNING && !options.signal?.aborted) {
      const batch = Math.min(reportEvery, totalEvaluations - steps);
      const encoder = device.createCommandEncoder({ label: `${kLabel}.train.encoder` });
      const pass = encoder.beginComputePass({ label: `${kLabel}.train.pass` });
      for (let s = 0; s < batch; s++) this.recordStep(pass, true);
      pass.end();
      encoder.copyBufferToBuffer(this.buffers.state, 0, this.buffers.readback, 0, STATE_BYTES);
      encoder.copyBufferToBuffer(this.buffers.history, 0, this.buffers.readback, STATE_BYTES, historyBytes);
      if (snapshotBytes) {
        encoder.copyBufferToBuffer(this.buffers.theta, 0, this.buffers.readback, STATE_BYTES + historyBytes, thetaBytes);
        encoder.copyBufferToBuffer(this.buffers.thetaPrev, 0, this.buffers.readback, STATE_BYTES + historyBytes + thetaBytes, thetaBytes);
      }
      await this.submitChecked(encoder, 'train');
      const raw = await this.readBack(STATE_BYTES + historyBytes + snapshotBytes);
      const state = new Uint32Array(raw, 0, 4);
      const history = new Float32Array(raw, STATE_BYTES, this.historyCap * 2);
      status = state[0];
      const done = state[1];
      if (status === STATUS_RUNNING && done === steps) throw new Error(`${kLabel}.train: the GPU made no progress in ${batch} steps`);
      for (let s = steps; s < done; s++) {
        const k = (s % this.historyCap) * 2;
        lastGood = { loss: history[k], gradNorm: history[k + 1] };
        options.onEpoch?.({ epoch: s, ...lastGood });
      }
      if (status === STATUS_DIVERGED) {
        const k = (done % this.historyCap) * 2;
        failed = { loss: history[k], gradNorm: history[k + 1] };
      }
      steps = done;
      if (snapshotBytes && status === STATUS_RUNNING) {
        const thetas = new Float32Array(raw, STATE_BYTES + historyBytes, 2 * (d + 1));
        options.onSnapshot!({
          theta: Float64Array.from(thetas.subarray(0, d + 1)),
          thetaPrev: Float64Array.from(thetas.subarray(d + 1)),
          step: done,
          bestLoss: new Float32Array(raw, 8, 1)[0],
          last: lastGood,
        });
      }
    }

    const encoder = device.createCommandEncoder({ label: `${kLabel}.theta.encoder` });
    encoder.copyBufferToBuffer(this.buffers.theta, 0, this.buffers.readback, 0, thetaBytes);
    await this.submitChecked(encoder, 'theta');
    const theta = new Float32Array(await this.readBack(thetaBytes));
    const w = Float64Array.from(theta.subarray(0, d));
    const b = theta[d];

    if (status === STATUS_DIVERGED && steps === 0) {
      throw new Error(`training diverged at the initial parameters: loss ${failed?.loss}`);
    }
    if (status === STATUS_RUNNING) {
      // Aborted: theta moved past the last evaluated point; evaluate where it stands.
      const g = await this.gradient({ w, b });
      let sq = g.gradB * g.gradB;
      for (const v of g.gradW) sq += v * v;
      return { w, b, loss: g.loss, gradNorm: Math.sqrt(sq), epochs: steps, stopReason: 'aborted' };
    }
    const result: TrainResult = {
      w, b,
      loss: lastGood!.loss,
      gradNorm: lastGood!.gradNorm,
      epochs: steps - 1,
      stopReason: status === STATUS_CONVERGED ? 'tolerance' : status === STATUS_DIVERGED ? 'diverged' : 'max-epochs',
    };
    if (status === STATUS_DIVERGED) result.divergedAtEpoch = steps;
    return result;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of Object.values(this.buffers)) b.destroy();
  }
}
