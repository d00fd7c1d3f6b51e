// The WGSL engine for the linear model. Data (in chunks of at most one storage binding, resident or
// streamed) and parameters live in GPU buffers; a gradient is pass 1 over every slice of the batch plus one
// reduce, a training step adds the update, and many steps are chained per submit with only the small
// (loss, |grad|) history read back. A little over 400 lines: the train loop and both data residencies
// share the class's private state; the streaming loop itself lives in linear-stream.ts.
import {
  DEFAULT_EXPLODE_FACTOR, DEFAULT_TOL, validateLinearData, validateParams, validateTrainOptions,
  type GradientResult, type LinearData, type LinearEngine, type LinearParams, type TrainOptions, type TrainResult,
} from '../models/linear.ts';
import { STATUS_RUNNING } from '../core/train-status.ts';
import { trainLinear } from '../train/linear.ts';
import { GpuLinearProgram } from './linear-program.ts';
import type { GpuContext } from './device.ts';
import { DeviceIo } from './device-io.ts';
import { StandardizePass } from './passes/standardize-pass.ts';
import type { Standardizer } from '../models/standardize.ts';

export { GpuDeviceLostError } from './device-io.ts';
import type { LinearGridPlan, LinearKernelConfig } from './dispatch.ts';
import type { TuningCache } from './tuning/cache.ts';
import { chooseLinearKernel, type LinearKernelChoice } from './tuning/linear-tuning.ts';
import { packUpdateUniforms, TRAIN_STATE_BYTES } from './uniforms.ts';
import { createBufferChecked } from './resources.ts';
import { planChunks, type ChunkSpec } from './data-layout.ts';
import { batchSpecs, buildBatchSet, chunkSpecs, createStagingPairs, uploadChunks, type GpuBatch, type GpuBatchSet, type GpuChunk } from './linear-buffers.ts';
import { LinearPartialsPass, linearRecordsWgsl } from './passes/linear-partials-pass.ts';
import { createRecordStaging, ReadAhead, streamEvaluation, type ChunkStream, type StreamChunk, type StreamPasses } from './linear-stream.ts';
import { QUAD_MAX_FEATURES, stepWorkgroupSize } from './dispatch.ts';

export type { ChunkStream, StreamChunk, StreamRecords } from './linear-stream.ts';
import { ReducePartialsPass } from './passes/reduce-partials-pass.ts';
import { ApplyUpdatePass } from './passes/apply-update-pass.ts';

const kLabel = 'nabla.linear';
const STATE_BYTES = TRAIN_STATE_BYTES;

interface Buffers {
  theta: GPUBuffer; thetaPrev: GPUBuffer; state: GPUBuffer; partials: GPUBuffer; gradLoss: GPUBuffer;
  history: GPUBuffer; updateUniforms: GPUBuffer; readback: GPUBuffer;
  /** theta as the last two chains of training found it (linear-program.ts: the last good state). */
  start0: GPUBuffer; start1: GPUBuffer;
}

export interface GpuLinearEngineOptions {
  /** Longest run of steps chained between read-backs; also the history ring's length. */
  maxReportEvery?: number;
  /** Pass-1 configuration (src/gpu/tuning/linear-tuning.ts): a pinned workgroup size, grid still tuned... */
  workgroupSize?: number;
  /** ... or a configuration run as is, or a tuning table (default: defaultTuningCache), false for none. */
  kernel?: LinearKernelConfig;
  tuning?: TuningCache | false;
  /**
   * Full WGSL source replacing the generated pass-1 kernel (linearPartialsWgsl). For fault injection: the
   * benchmark swaps in a wrong kernel to prove that its validation catches it.
   */
  partialsWgsl?: string;
  /** Largest X chunk in bytes (default and cap: the adapter's storage binding); small values test chunking. */
  chunkBytes?: number;
  /**
   * Standardize features and target on the GPU with these statistics (computed in one float64 pass on the
   * host): resident chunks once after upload, streamed chunks after each upload.
   */
  standardize?: Standardizer;
}

export class GpuLinearEngine implements LinearEngine {
  readonly device = 'gpu' as const;
  readonly adapter: string;
  private disposed = false;
  private readonly io: DeviceIo;

  private readonly batchSets = new Map<number, GpuBatchSet>();
  /** Streamed data: passes read one chunk ahead (see linear-stream.ts). */
  private readonly reader: ReadAhead<StreamChunk> | null;

  private constructor(
    private readonly gpu: GpuContext,
    readonly n: number,
    readonly d: number,
    private readonly chunks: GpuChunk[],
    private readonly buffers: Buffers,
    private readonly historyCap: number,
    private readonly partialsPass: LinearPartialsPass,
    private readonly reducePass: ReducePartialsPass,
    private readonly updatePass: ApplyUpdatePass,
    private readonly chunkRows: number[],
    /** The pass-1 configuration every slice runs, and where it came from (table, tuned now, ...). */
    readonly kernel: LinearKernelChoice,
    /** Streamed data: `chunks` then holds two staging pairs, chunk k using pair k % 2. */
    private readonly stream: ChunkStream | null = null,
    /** GPU standardization: the pass, and per data chunk its bind group (and uniforms, owned here). */
    private readonly standardizer: { pass: StandardizePass; chunks: Array<{ bindGroup: GPUBindGroup; uniforms: GPUBuffer }> } | null = null,
  ) {
    this.adapter = gpu.summary.name;
    this.io = new DeviceIo(gpu.device, kLabel);
    this.reader = stream ? new ReadAhead(() => stream.read()) : null;
  }

  /** Number of data chunks (each within one storage binding). */
  get chunkCount(): number {
    return this.chunks.length;
  }

  /** The grid of the first full-batch slice (every slice shares its kernel variant and workgroup size). */
  get plan(): LinearGridPlan {
    return this.batchSet(this.n).batches[0].slices[0].plan;
  }

  static async create(gpu: GpuContext, data: LinearData, options: GpuLinearEngineOptions = {}): Promise<GpuLinearEngine> {
    validateLinearData(data);
    const specs = chunkSpecs(gpu, data.n, data.d, options.chunkBytes);
    return GpuLinearEngine.build(gpu, data.n, data.d, specs, () => uploadChunks(gpu, data, specs, kLabel), options, null, data);
  }

  /** An engine over streamed data (full-batch gradient descent): see ChunkStream. */
  static async createStreamed(gpu: GpuContext, stream: ChunkStream, options: GpuLinearEngineOptions = {}): Promise<GpuLinearEngine> {
    const { n, d, chunkRows } = stream;
    if (!(Number.isInteger(chunkRows) && chunkRows >= 4 && chunkRows % 4 === 0)) throw new RangeError(`stream: chunkRows must be a positive multiple of 4, got ${chunkRows}`);
    if (chunkRows * d * 4 > gpu.maxBindingBytes) throw new RangeError(`stream: a chunk of ${chunkRows} x ${d} features takes ${chunkRows * d * 4} bytes, more than one binding (${gpu.maxBindingBytes})`);
    const specs = planChunks(n, d, chunkRows * d * 4);
    const records = stream.records;
    if (!records) return GpuLinearEngine.build(gpu, n, d, specs, () => createStagingPairs(gpu.device, chunkRows, d, kLabel), options, stream);
    // Records: summed by the quad kernel's records variant, which standardizes in registers.
    if (d > QUAD_MAX_FEATURES) throw new RangeError(`stream: records need d <= ${QUAD_MAX_FEATURES} features (the quad kernel), got ${d}; stream x/y chunks instead`);
    if (chunkRows * records.stride * 4 > gpu.maxBindingBytes) throw new RangeError(`stream: a chunk of ${chunkRows} records of ${records.stride} floats is more than one binding (${gpu.maxBindingBytes} bytes)`);
    const code = options.partialsWgsl ?? linearRecordsWgsl(d, records.stride, records.columns);
    return GpuLinearEngine.build(gpu, n, d, specs, () => createRecordStaging(gpu.device, chunkRows, d, records.stride, options.standardize, kLabel),
      { ...options, partialsWgsl: code, standardize: undefined }, stream);
  }

  private static async build(
    gpu: GpuContext, n: number, d: number, specs: ChunkSpec[], makeChunks: () => Promise<GpuChunk[]>,
    options: GpuLinearEngineOptions, stream: ChunkStream | null, data?: LinearData,
  ): Promise<GpuLinearEngine> {
    const { device } = gpu;
    const historyCap = Math.max(1, options.maxReportEvery ?? 256);
    const created: GPUBuffer[] = [];
    const make = async (label: string, size: number, usage: number) => {
      const b = await createBufferChecked(device, { label: `${kLabel}.${label}`, size: Math.max(16, Math.ceil(size / 16) * 16), usage });
      created.push(b);
      return b;
    };
    const S = GPUBufferUsage.STORAGE;
    const C = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    let chunks: GpuChunk[] = [];
    try {
      chunks = await makeChunks();
      // Tuned over the data as uploaded (before any standardization), unless the kernel is replaced.
      const tunable = data && !options.partialsWgsl ? { chunks, specs, data } : null;
      // Streamed records are summed by the quad kernel's records variant: its grid must be a quad grid.
      const kernel = await chooseLinearKernel(gpu, n, d, specs[0].rows, options, tunable, stream?.records ? 'quad' : undefined);
      const full = batchSpecs(gpu, specs, n, d, kernel.config)[0];
      const plan = full.slices[0].plan;
      const buffers: Buffers = {
        theta: await make('theta', (d + 1) * 4, S | C),
        thetaPrev: await make('thetaPrev', (d + 1) * 4, S | C),
        state: await make('state', STATE_BYTES, S | C),
        partials: await make('partials', full.groups * (d + 2) * 4, S | GPUBufferUsage.COPY_DST),
        gradLoss: await make('gradLoss', (d + 2) * 4, S | C),
        history: await make('history', historyCap * 8, S | GPUBufferUsage.COPY_SRC),
        updateUniforms: await make('updateUniforms', 32, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
        start0: await make('start0', (d + 1) * 4, C),
        start1: await make('start1', (d + 1) * 4, C),
        readback: await make('readback', Math.max(STATE_BYTES + historyCap * 8 + 2 * (d + 1) * 4, (d + 2) * 4), GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST),
      };
      const partialsPass = await LinearPartialsPass.create(device, d, plan, {
        theta: buffers.theta, state: buffers.state, partials: buffers.partials,
      }, options.partialsWgsl);
      const stepWorkgroup = stepWorkgroupSize(d, gpu.shape);
      const reducePass = await ReducePartialsPass.create(device, d, plan.workgroupSize, stepWorkgroup, {
        partials: buffers.partials, state: buffers.state, gradLoss: buffers.gradLoss,
      });
      const updatePass = await ApplyUpdatePass.create(device, stepWorkgroup, {
        uniforms: buffers.updateUniforms, gradLoss: buffers.gradLoss, theta: buffers.theta, thetaPrev: buffers.thetaPrev,
        state: buffers.state, history: buffers.history, partials: buffers.partials,
      });
      let standardizer = null;
      if (options.standardize) {
        const pass = await StandardizePass.create(device, d, plan.workgroupSize, options.standardize);
        const targets = stream ? specs.map((_, k) => chunks[k % 2]) : chunks;
        standardizer = { pass, chunks: specs.map((c, k) => pass.bind(targets[k].x, targets[k].y, c.rows, `chunk${k}`)) };
        if (!stream) {
          // Resident data is standardized once, in place, right after its upload.
          const encoder = device.createCommandEncoder({ label: `${kLabel}.standardize.encoder` });
          const compute = encoder.beginComputePass({ label: `${kLabel}.standardize.pass` });
          for (const c of standardizer.chunks) pass.run(compute, c.bindGroup);
          compute.end();
          device.queue.submit([encoder.finish()]);
        }
      }
      const engine = new GpuLinearEngine(gpu, n, d, chunks, buffers, historyCap, partialsPass, reducePass, updatePass, specs.map((c) => c.rows), kernel, stream, standardizer);
      engine.batchSet(n); // the full batch, built now so that training allocates nothing
      return engine;
    } catch (e) {
      for (const b of created) b.destroy();
      for (const c of chunks) new Set([c.x, c.y]).forEach((b) => b.destroy());
      throw e;
    }
  }

  /** The GPU buffers dataset chunk k is read from: its own pair, or a staging pair when streamed. */
  private chunkBuffers(): GpuChunk[] {
    return this.stream ? this.chunkRows.map((_, k) => this.chunks[k % 2]) : this.chunks;
  }

  /** The bind groups of every mini-batch of a batch size, built on first use. */
  private batchSet(batchSize: number): GpuBatchSet {
    const size = Math.min(batchSize, this.n);
    if (this.stream && size < this.n) throw new RangeError('batch size: streamed data trains full-batch only (mini-batches need resident data)');
    let set = this.batchSets.get(size);
    if (!set) {
      let start = 0;
      const specs = this.chunkRows.map((rows) => ({ startRow: (start += rows) - rows, rows }));
      const batches = batchSpecs(this.gpu, specs, size, this.d, this.kernel.config);
      set = buildBatchSet(this.live(), batches, this.chunkBuffers(), this.d, this.partialsPass, this.reducePass, this.updatePass, `${kLabel}.b${size}`);
      this.batchSets.set(size, set);
    }
    return set;
  }

  private live(): GPUDevice {
    if (this.disposed) throw new Error('GpuLinearEngine: used after dispose()');
    return this.io.live();
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

  /** Records one batch's gradient evaluation (and, with update, the training step) into a compute pass. */
  private recordBatch(pass: GPUComputePassEncoder, batch: GpuBatch, update: boolean, fuse = true): void {
    for (const slice of batch.slices) this.partialsPass.run(pass, slice.bindGroup, slice.plan);
    if (update && fuse && batch.fusedUpdate) {
      // One workgroup reduces: the update's dispatch does it (same gradient bit for bit, one dispatch fewer).
      this.updatePass.runFused(pass, batch.fusedUpdate);
      return;
    }
    this.reducePass.run(pass, batch.reduce);
    if (update) this.updatePass.run(pass);
  }

  /**
   * Records a full-batch gradient evaluation (and, with update, the training step) into a compute pass.
   * fuse = false keeps the reduce and the update in separate dispatches (tests compare the two).
   */
  recordStep(pass: GPUComputePassEncoder, update: boolean, fuse = true): void {
    if (this.stream) throw new Error('recordStep: streamed data is uploaded chunk by chunk; use gradient() or train()');
    this.recordBatch(pass, this.batchSet(this.n).batches[0], update, fuse);
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

  /**
   * An encoder holding `count` evaluations (and updates) from step `from` (resident data), or, streamed, an
   * empty one after running them chunk by chunk: the caller appends its copies and submits it.
   */
  private async encodeSteps(batches: GpuBatch[], update: boolean, before?: (encoder: GPUCommandEncoder) => void): Promise<GPUCommandEncoder> {
    if (this.stream) {
      // Streamed steps submit chunk by chunk: what must come first goes in a submit of its own.
      if (before) {
        const first = this.live().createCommandEncoder({ label: `${kLabel}.before.encoder` });
        before(first);
        this.live().queue.submit([first.finish()]);
      }
      for (const batch of batches) await this.streamStep(batch, update);
    }
    const encoder = this.live().createCommandEncoder({ label: `${kLabel}.steps.encoder` });
    if (!this.stream) {
      before?.(encoder);
      const pass = encoder.beginComputePass({ label: `${kLabel}.steps.pass` });
      for (const batch of batches) this.recordBatch(pass, batch, update);
      pass.end();
    }
    return encoder;
  }

  /**
   * Submits the encoder (which ends with copies into the read-back buffer) and maps `bytes` of it: the
   * validation scope and the mapping awaited together, one round trip to the GPU process rather than two.
   */
  private async submitAndRead(encoder: GPUCommandEncoder, bytes: number, what: string): Promise<ArrayBuffer> {
    const device = this.live();
    const readback = this.buffers.readback;
    device.pushErrorScope('validation');
    device.queue.submit([encoder.finish()]);
    const scope = device.popErrorScope();
    const mapped = readback.mapAsync(GPUMapMode.READ, 0, bytes).then(() => null, (e: Error) => e);
    const [error, mapError] = await this.io.guard(Promise.all([scope, mapped]));
    if (error) {
      if (!mapError) readback.unmap();
      throw new Error(`${kLabel}.${what}: ${error.message}`);
    }
    if (mapError) throw mapError;
    const copy = readback.getMappedRange(0, bytes).slice(0);
    readback.unmap();
    return copy;
  }

  /** One evaluation over streamed data (linear-stream.ts, streamEvaluation). */
  private streamStep(batch: GpuBatch, update: boolean): Promise<void> {
    const passes: StreamPasses = {
      io: this.io, stream: this.stream!, reader: this.reader!, chunkRows: this.chunkRows, staging: this.chunkBuffers(),
      partials: this.partialsPass, reduce: this.reducePass, update: this.updatePass, standardizer: this.standardizer, label: kLabel,
    };
    return streamEvaluation(passes, batch, update);
  }

  async gradient(at: LinearParams): Promise<GradientResult> {
    this.prepareGradient(at);
    const full = this.batchSet(this.n).batches[0];
    // Resident data: the evaluation and the copy out in one submit (one round trip fewer).
    const encoder = await this.encodeSteps([full], false);
    const bytes = (this.d + 2) * 4;
    encoder.copyBufferToBuffer(this.buffers.gradLoss, 0, this.buffers.readback, 0, bytes);
    const out = new Float32Array(await this.submitAndRead(encoder, bytes, 'gradient'));
    return { loss: out[this.d + 1], gradW: Float64Array.from(out.subarray(0, this.d)), gradB: out[this.d] };
  }

  /**
   * Writes the initial parameters, resets the training state and the update rule; after it, recordStep()
   * chains training steps (benchmarks time exactly these). With mini-batches the GPU counts updates, so
   * maxEpochs becomes maxEpochs x batches, and the tolerance (a full-gradient test) is off.
   */
  prepareTraining(options: TrainOptions): void {
    validateTrainOptions(options);
    const d = this.d;
    const init = options.init ?? { w: new Float64Array(d), b: 0 };
    validateParams(init, d);
    const numBatches = this.batchSet(options.batchSize ?? this.n).batches.length;
    this.writeTheta(init, true);
    this.live().queue.writeBuffer(this.buffers.updateUniforms, 0, packUpdateUniforms({
      lr: options.lr,
      tol: numBatches > 1 ? -1 : options.tol ?? DEFAULT_TOL, // negative: no tolerance
      explodeFactor: options.explodeFactor ?? DEFAULT_EXPLODE_FACTOR,
      maxUpdates: options.maxEpochs * numBatches,
      params: d + 1,
      historyCap: this.historyCap,
    }));
  }

  /** The one training loop (src/train/) over this engine's program (linear-program.ts). */
  train(options: TrainOptions): Promise<TrainResult> {
    this.live();
    return trainLinear(new GpuLinearProgram({
      device: () => this.live(),
      n: this.n,
      d: this.d,
      historyCap: this.historyCap,
      streamed: this.stream !== null,
      buffers: this.buffers,
      batches: (size) => this.batchSet(size).batches,
      encodeSteps: (batches, before) => this.encodeSteps(batches, true, before),
      prime: () => this.reader?.prime(),
      submitAndRead: (encoder, bytes, what) => this.submitAndRead(encoder, bytes, what),
      gradient: (at) => this.gradient(at),
    }), this.d, options);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    void this.reader?.close();
    for (const b of Object.values(this.buffers)) b.destroy();
    for (const c of this.chunks) {
      c.x.destroy();
      c.y.destroy();
    }
    for (const set of this.batchSets.values()) for (const u of set.uniforms) u.destroy();
    if (this.standardizer) {
      this.standardizer.pass.destroy();
      for (const c of this.standardizer.chunks) c.uniforms.destroy();
    }
    this.batchSets.clear();
  }
}
