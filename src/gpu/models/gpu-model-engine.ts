// The WGSL engine for logistic, softmax and MLP models (and linear through the same stages). Data,
// parameters, activations and the optimizer's state live on the GPU; the gradient is a chain of passes
// (mlp-passes.ts, its product kernels tuned per adapter by gemm-tuning.ts). Training is the one loop
// (src/train/loop.ts) over this engine's program (model-program.ts), which chains up to `slots` updates per submit.
import { validateModelData, validateNetwork, validateTheta, type ModelData, type NetworkConfig } from '../../models/network.ts';
import type { ModelEngine, ModelTrainOptions, ModelTrainResult } from '../../models/model-engine.ts';
import { batchRanges } from '../../models/batches.ts';
import { requireGpuContext, type GpuContext } from '../device.ts';
import { createBufferChecked, createUploadedBuffer, requireFloat32Rows } from '../resources.ts';
import { CallQueue, DeviceIo } from '../device-io.ts';
import { maxRowsPerBinding, planMlp, type MlpPlan } from './mlp-plan.ts';
import { MlpGradientPasses, type LayerProducts, type MlpBuffers, type ProductKernels } from './mlp-passes.ts';
import { chooseProducts } from './gemm-tuning.ts';
import type { TuningCache } from '../tuning/cache.ts';
import { ACTIVATION_CODES } from '../../models/network.ts';
import { networkRules } from '../../models/rules.ts';
import { piecewiseGradient, ResidentChunks, trainOnGpu } from './streamed-model-program.ts';
import { checkRowStream, type RowStream } from '../../models/row-stream.ts';
import { rejectUnknownKeys } from '../../core/options.ts';

const kLabel = 'nabla.model';
const DEFAULT_SLOTS = 64;
const ENGINE_OPTION_KEYS = ['workgroupSize', 'maxReportEvery', 'maxBatchRows', 'products', 'tuningCache'];

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
  private readonly calls = new CallQueue();
  /** Streamed data (createStreamed): the chunk x and y hold; null when they hold every sample. */
  private readonly chunks: ResidentChunks | null;

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
    stream: RowStream | null,
  ) {
    this.adapter = gpu.summary.name;
    this.io = new DeviceIo(gpu.device, kLabel);
    this.chunks = stream && new ResidentChunks(stream, config, this.io, buffers, plan.rows);
  }

  /** Streamed data: passes over the stream started so far (one per epoch and per full evaluation). */
  get streamPasses(): number {
    return this.chunks?.cursor.passes ?? 0;
  }

  static async create(gpu: GpuContext, config: NetworkConfig, data: ModelData, options: GpuModelEngineOptions = {}): Promise<GpuModelEngine> {
    rejectUnknownKeys(options, ENGINE_OPTION_KEYS, 'GpuModelEngine options');
    requireGpuContext(gpu);
    validateNetwork(config);
    validateModelData(config, data);
    requireFloat32Rows(data);
    const rows = options.maxBatchRows === undefined ? undefined : Math.min(options.maxBatchRows, data.n);
    const plan = planMlp(config, data.n, gpu.shape, gpu.maxBindingBytes, options.workgroupSize, rows);
    return GpuModelEngine.build(gpu, config, data.n, plan, options, async (device, round) => ({
      x: await createUploadedBuffer(device, `${kLabel}.x`, data.x, round(data.x.length * 4), GPUBufferUsage.STORAGE),
      y: await createUploadedBuffer(device, `${kLabel}.y`, data.y, round(data.n * 4), GPUBufferUsage.STORAGE),
    }), null);
  }

  /**
   * Streamed data: x and y hold one chunk of `rows` (its chunkRows rows), read again for every epoch (one
   * pass each) and for the final evaluation; training cuts mini-batches inside chunks (streamed-model-program.ts).
   * Activations hold min(chunkRows, maxBatchRows, what one binding holds) samples; a full evaluation runs
   * piece by piece. The stream is closed by dispose().
   */
  static async createStreamed(gpu: GpuContext, config: NetworkConfig, rows: RowStream, options: GpuModelEngineOptions = {}): Promise<GpuModelEngine> {
    rejectUnknownKeys(options, ENGINE_OPTION_KEYS, 'GpuModelEngine options');
    requireGpuContext(gpu);
    validateNetwork(config);
    checkRowStream(rows, 'stream');
    const { n, d, chunkRows } = rows;
    if (d !== config.inputs) throw new RangeError(`stream: ${d} features, the model takes ${config.inputs}`);
    const held = Math.min(chunkRows, n);
    const xBytes = held * d * 4;
    if (xBytes > gpu.maxBindingBytes) {
      throw new RangeError(`stream: a chunk of ${held} rows x ${d} features takes ${xBytes} bytes, more than one storage binding (${gpu.maxBindingBytes}); use chunks of at most ${Math.floor(gpu.maxBindingBytes / (d * 4))} rows`);
    }
    const fit = maxRowsPerBinding(config, gpu.maxBindingBytes);
    const evaluation = Math.min(held, fit, options.maxBatchRows ?? held);
    const plan = planMlp(config, held, gpu.shape, gpu.maxBindingBytes, options.workgroupSize, evaluation);
    return GpuModelEngine.build(gpu, config, n, plan, options, async (device, round) => ({
      x: await createBufferChecked(device, { label: `${kLabel}.x`, size: round(xBytes), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST }),
      y: await createBufferChecked(device, { label: `${kLabel}.y`, size: round(held * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST }),
    }), rows);
  }

  private static async build(
    gpu: GpuContext, config: NetworkConfig, n: number, plan: MlpPlan, options: GpuModelEngineOptions,
    makeData: (device: GPUDevice, round: (bytes: number) => number) => Promise<{ x: GPUBuffer; y: GPUBuffer }>, stream: RowStream | null,
  ): Promise<GpuModelEngine> {
    const { device } = gpu;
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
      const { x, y } = await makeData(device, round);
      owned.push(x, y);
      const buffers: MlpBuffers = {
        x, y,
        theta: await make('theta', plan.params * 4, S | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC),
        acts: await Promise.all(plan.layers.map((l, k) => make(`act${k + 1}`, plan.rows * l.fanOut * 4))),
        deltas: await Promise.all(plan.layers.map((l, k) => make(`delta${k + 1}`, plan.rows * l.fanOut * 4))),
        losses: await make('losses', plan.rows * 4),
        partials: await make('partials', plan.numChunks * plan.stride * 4),
        gradLoss: await make('gradLoss', plan.stride * 4, S | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST),
      };
      const products = await chooseProducts(gpu, plan, ACTIVATION_CODES[config.activation], options.products ?? 'auto', { cache: options.tuningCache });
      const passes = await MlpGradientPasses.create(device, config, plan, gpu.shape.maxWorkgroupsPerDimension, buffers, slots, products);
      return new GpuModelEngine(gpu, config, n, plan, buffers, owned, passes, products, stream);
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

  /** J and its gradient over all samples: one evaluation, or pieces of plan.rows (or chunks) combined in float64. */
  lossAndGradient(theta: ArrayLike<number>): Promise<{ loss: number; grad: Float64Array }> {
    return this.calls.run(() => this.evaluate(theta));
  }

  private async evaluate(theta: ArrayLike<number>): Promise<{ loss: number; grad: Float64Array }> {
    validateTheta(this.config, theta);
    this.live().queue.writeBuffer(this.buffers.theta, 0, Float32Array.from(theta));
    const readback = await this.readbackBuffer(this.plan.stride * 4);
    try {
      const range = { start: 0, rows: this.n };
      // Resident data: pieces of at most the rows the activation buffers hold; streamed: chunk by chunk.
      const pieces = this.chunks ? this.chunks.pieces(range) : batchRanges(this.n, this.plan.rows);
      return await piecewiseGradient(this.io, pieces, this.passes, this.buffers, this.plan.stride, { range, slot: 0, readback });
    } finally {
      readback.destroy();
    }
  }

  /** The one training loop (src/train/loop.ts) over this engine's program (model-program.ts, or streamed-model-program.ts). */
  train(o: ModelTrainOptions): Promise<ModelTrainResult> {
    return this.calls.run(() => this.run(o));
  }

  private run(o: ModelTrainOptions): Promise<ModelTrainResult> {
    this.live();
    const ctx = {
      gpu: this.gpu, io: this.io, rules: networkRules(this.config), n: this.n, plan: this.plan, buffers: this.buffers, passes: this.passes,
      submitAndRead: (encoder: GPUCommandEncoder, readback: GPUBuffer, bytes: number, what: string) => this.submitAndRead(encoder, readback, bytes, what),
      evaluate: (theta: ArrayLike<number>) => this.evaluate(theta),
    };
    return trainOnGpu(ctx, this.chunks, o);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.passes.dispose();
    for (const b of this.owned) b.destroy();
    // Closing ends the stream's pending pass (its source); nothing here waits for it.
    this.chunks?.close().catch(() => undefined);
  }
}

/** The chain length rule of the one loop, where tests and the bench have always found it. */
export { stepsPerSubmit } from '../../train/loop.ts';
