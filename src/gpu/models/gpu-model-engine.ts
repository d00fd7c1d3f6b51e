// The WGSL engine for logistic, softmax and MLP models (and linear through the same stages). Data,
// parameters, activations and the optimizer's state live on the GPU; the gradient is a chain of passes
// (mlp-passes.ts, its product kernels tuned per adapter by gemm-tuning.ts). Training is the one loop
// (src/train/loop.ts) over this engine's program (model-program.ts), which chains up to `slots` updates per submit.
import { validateModelData, validateNetwork, validateTheta, type ModelData, type NetworkConfig } from '../../models/network.ts';
import type { ModelEngine, ModelTrainOptions, ModelTrainResult } from '../../models/model-engine.ts';
import { batchRanges } from '../../models/batches.ts';
import { runTraining } from '../../train/loop.ts';
import type { GpuContext } from '../device.ts';
import { createBufferChecked, createUploadedBuffer } from '../resources.ts';
import { DeviceIo } from '../device-io.ts';
import { planMlp, type MlpPlan } from './mlp-plan.ts';
import { MlpGradientPasses, type LayerProducts, type MlpBuffers, type ProductKernels } from './mlp-passes.ts';
import { chooseProducts } from './gemm-tuning.ts';
import type { TuningCache } from '../tuning/cache.ts';
import { ACTIVATION_CODES } from '../../models/network.ts';
import { GpuModelProgram } from './model-program.ts';

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

  /** The one training loop (src/train/loop.ts) over this engine's program (model-program.ts). */
  train(o: ModelTrainOptions): Promise<ModelTrainResult> {
    this.live();
    return runTraining(new GpuModelProgram({
      gpu: this.gpu, io: this.io, config: this.config, n: this.n, plan: this.plan, buffers: this.buffers, passes: this.passes,
      submitAndRead: (encoder, readback, bytes, what) => this.submitAndRead(encoder, readback, bytes, what),
      evaluate: (theta) => this.lossAndGradient(theta),
    }), o);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.passes.dispose();
    for (const b of this.owned) b.destroy();
  }
}

/** The chain length rule of the one loop, where tests and the bench have always found it. */
export { stepsPerSubmit } from '../../train/loop.ts';
