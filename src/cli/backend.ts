// Where the CLI computes: the WGSL engine in headless Chromium, or the CPU. `auto` takes a hardware
// adapter only: a software one (SwiftShader, isFallbackAdapter) is slower than the CPU path for this
// memory-bound job, so auto says so and uses the CPU. The CPU path is the fast one (src/cpu-fast: float32,
// every core); `cpu64` runs the float64 twin, the reference the other paths are validated against.
import type { EpochInfo, GradientResult, LinearData, LinearEngine, LinearParams, TrainOptions, TrainResult } from '../models/linear.ts';
import { CpuLinearEngine } from '../cpu/cpu-linear-engine.ts';
import { standardizeData, type Standardizer } from '../models/standardize.ts';
import { onCpu, type DeviceChoice } from './flags.ts';
import { GpuSession } from './gpu-session.ts';
import type { GpuJobResult } from '../session/gpu-job.ts';
import { UnavailableError } from './errors.ts';
import { CpuModelEngine } from '../cpu/cpu-model-engine.ts';
import { FastCpuLinearEngine, FastCpuModelEngine } from '../cpu-fast/fast-engines.ts';
import { NodeWorkerPool } from '../cpu-fast/node-pool.ts';
import { InlinePool, type ShardPool } from '../cpu-fast/pool.ts';
import type { ModelData, NetworkConfig } from '../models/network.ts';
import type { ModelTrainOptions, ModelTrainResult } from '../models/model-engine.ts';
import { fromPlainSnapshot, toPlainSnapshot } from '../models/plain-snapshot.ts';
import { standardizeChunk, type RowStream } from '../models/row-stream.ts';
import { trainLinearStreamedOnCpu, trainModelStreamedOnCpu, type StreamedCpuOptions } from '../cpu-fast/streamed-training.ts';

export interface TrainOutcome {
  result: TrainResult;
  final: GradientResult;
  /** Where the run finished: a GPU run that lost its device may end on the CPU. */
  device: 'gpu' | 'cpu';
  adapter: string | null;
}

export interface StreamJob {
  n: number;
  d: number;
  chunkRows: number;
  train: Omit<TrainOptions, 'onEpoch' | 'init' | 'signal' | 'batchSize'>;
  scaler: Standardizer | null;
  /** A raw file whose every row is kept (SampleSource.records): the page reads it as stored. */
  records?: { path: string; dataOffset: number; stride: number; columns: number[] };
}

export interface ModelOutcome {
  result: ModelTrainResult;
  device: 'gpu' | 'cpu';
  adapter: string | null;
}

export interface Backend {
  device: 'gpu' | 'cpu';
  adapter: string | null;
  gradient(data: LinearData, at: LinearParams): Promise<GradientResult>;
  /**
   * Trains, then evaluates the full gradient at the parameters it returns. With a scaler the data is
   * standardized first (on the GPU there, on the host for the CPU path); results are in standardized units.
   */
  train(data: LinearData, options: Omit<TrainOptions, 'onEpoch' | 'init'>, onEpoch?: (i: EpochInfo) => void, scaler?: Standardizer | null): Promise<TrainOutcome>;
  /**
   * Full-batch training over data pulled chunk by chunk per evaluation; with `records`, the GPU page reads
   * the raw file's records itself and `pass` is not used (the CPU path reads the parsed chunks).
   */
  trainStreamed?(
    job: StreamJob,
    pass: () => AsyncIterable<{ x: Float32Array; y: Float32Array; rows: number }>,
    onEpoch?: (i: EpochInfo) => void,
  ): Promise<TrainOutcome>;
  /**
   * Every model over rows pulled chunk by chunk, one pass per epoch; mini-batches are cut inside chunks
   * (BatchSchedule's chunkRows = rows.chunkRows).
   */
  trainModelStreamed?(
    config: NetworkConfig, rows: RowStream, options: Omit<ModelTrainOptions, 'onEpoch' | 'init' | 'signal' | 'onSnapshot' | 'chunkRows'>, onEpoch?: (i: EpochInfo) => void,
  ): Promise<ModelOutcome>;
  /** Logistic, softmax and MLP models (src/models/network.ts). */
  trainModel(config: NetworkConfig, data: ModelData, options: Omit<ModelTrainOptions, 'onEpoch' | 'init' | 'signal' | 'onSnapshot'>, onEpoch?: (i: EpochInfo) => void): Promise<ModelOutcome>;
  close(): Promise<void>;
}

/** Options of the CPU path: `threads` for the fast engines (default: one per core). */
export interface CpuOptions {
  threads?: number;
}

class CpuBackend implements Backend {
  readonly device = 'cpu' as const;
  readonly adapter = null;
  private pool: Promise<ShardPool> | null = null;

  /** reference: the float64 twin (cpu64) instead of the fast path. */
  constructor(private readonly reference: boolean, private readonly notice: (message: string) => void, private readonly options: CpuOptions = {}) {}

  /** Worker threads, started on first use; a pool that cannot start (no worker support) leaves one thread. */
  private threads(): Promise<ShardPool> {
    this.pool ??= NodeWorkerPool.create(this.options.threads).catch((e: Error) => {
      if (e instanceof RangeError) throw e;
      this.notice(`CPU worker threads unavailable (${e.message.split('\n')[0]}); computing on one thread`);
      return new InlinePool();
    });
    return this.pool;
  }

  private async linearEngine(data: LinearData): Promise<LinearEngine> {
    return this.reference ? new CpuLinearEngine(data) : new FastCpuLinearEngine(data, { pool: await this.threads() });
  }

  async gradient(data: LinearData, at: LinearParams) {
    const engine = await this.linearEngine(data);
    try {
      return await engine.gradient(at);
    } finally {
      engine.dispose();
    }
  }
  async train(data: LinearData, options: Omit<TrainOptions, 'onEpoch' | 'init'>, onEpoch?: (i: EpochInfo) => void, scaler?: Standardizer | null) {
    const engine = await this.linearEngine(scaler ? standardizeData(data, scaler) : data);
    try {
      const result = await engine.train({ ...options, onEpoch });
      return { result, final: await engine.gradient(result), device: this.device, adapter: null };
    } finally {
      engine.dispose();
    }
  }
  private async streamOptions(): Promise<StreamedCpuOptions> {
    return this.reference ? { reference: true } : { pool: await this.threads() };
  }
  async trainStreamed(job: StreamJob, pass: () => AsyncIterable<{ x: Float32Array; y: Float32Array; rows: number }>, onEpoch?: (i: EpochInfo) => void): Promise<TrainOutcome> {
    const { n, d, chunkRows, scaler } = job;
    const rows: RowStream = {
      n, d, chunkRows,
      async *pass() {
        // In place: each chunk is the reader's fresh array, handed to us (a copy per chunk would double the chunks in flight).
        for await (const c of pass()) yield scaler ? standardizeChunk(c, d, scaler) : c;
      },
    };
    const r = await trainLinearStreamedOnCpu(rows, { ...job.train, onEpoch }, await this.streamOptions());
    return { result: r.result, final: r.final, device: this.device, adapter: null };
  }
  async trainModelStreamed(config: NetworkConfig, rows: RowStream, options: Omit<ModelTrainOptions, 'onEpoch' | 'init' | 'signal' | 'onSnapshot' | 'chunkRows'>, onEpoch?: (i: EpochInfo) => void) {
    const r = await trainModelStreamedOnCpu(config, rows, { ...options, onEpoch }, await this.streamOptions());
    return { result: r.result, device: this.device, adapter: null };
  }
  async trainModel(config: NetworkConfig, data: ModelData, options: Omit<ModelTrainOptions, 'onEpoch' | 'init' | 'signal' | 'onSnapshot'>, onEpoch?: (i: EpochInfo) => void) {
    const engine = this.reference ? new CpuModelEngine(config, data) : new FastCpuModelEngine(config, data, { pool: await this.threads() });
    try {
      return { result: await engine.train({ ...options, onEpoch }), device: this.device, adapter: null };
    } finally {
      engine.dispose();
    }
  }
  async close() {
    const pool = this.pool;
    this.pool = null;
    if (pool) (await pool.catch(() => null))?.dispose();
  }
}

class GpuBackend implements Backend {
  readonly device = 'gpu' as const;
  readonly adapter: string;
  constructor(private readonly session: GpuSession, notice: (message: string) => void, private readonly chunkBytes?: number) {
    this.adapter = session.adapter.name;
    session.onNotice = notice;
  }
  async gradient(data: LinearData, at: LinearParams) {
    const r = await this.session.run({ kind: 'gradient', at: { w: Array.from(at.w), b: at.b }, chunkBytes: this.chunkBytes }, data);
    return toGradient(r.gradient!);
  }
  async train(data: LinearData, options: Omit<TrainOptions, 'onEpoch' | 'init'>, onEpoch?: (i: EpochInfo) => void, scaler?: Standardizer | null) {
    const { signal: _signal, ...train } = options;
    const r = await this.session.run({ kind: 'train', train, chunkBytes: this.chunkBytes, standardize: plainScaler(scaler) }, data, onEpoch);
    const { device, adapter, ...t } = r.train!;
    return {
      result: { ...t, w: Float64Array.from(t.w), stopReason: t.stopReason as TrainResult['stopReason'] },
      final: toGradient(r.gradient!),
      device,
      adapter,
    };
  }
  async trainStreamed(
    job: StreamJob,
    pass: () => AsyncIterable<{ x: Float32Array; y: Float32Array; rows: number }>,
    onEpoch?: (i: EpochInfo) => void,
  ): Promise<TrainOutcome> {
    const { scaler, records, ...rest } = job;
    const file = records && { dataOffset: records.dataOffset, stride: records.stride, columns: records.columns };
    const r = await this.session.runStreamed({ kind: 'train-stream', ...rest, standardize: plainScaler(scaler), ...(file && { file }) }, pass, onEpoch, records?.path);
    const { device, adapter, ...t } = r.train!;
    return {
      result: { ...t, w: Float64Array.from(t.w), stopReason: t.stopReason as TrainResult['stopReason'] },
      final: toGradient(r.gradient!),
      device,
      adapter,
    };
  }
  async trainModelStreamed(
    config: NetworkConfig, rows: RowStream, options: Omit<ModelTrainOptions, 'onEpoch' | 'init' | 'signal' | 'onSnapshot' | 'chunkRows'>, onEpoch?: (i: EpochInfo) => void,
  ): Promise<ModelOutcome> {
    const { resumeFrom, ...rest } = options;
    const { n, d, chunkRows } = rows;
    const r = await this.session.runStreamed({
      kind: 'model-train-stream', n, d, chunkRows, config, options: { ...rest, resumeFrom: resumeFrom && toPlainSnapshot(resumeFrom) },
    }, () => rows.pass(), onEpoch);
    return this.modelOutcome(r.model!);
  }
  async trainModel(config: NetworkConfig, data: ModelData, options: Omit<ModelTrainOptions, 'onEpoch' | 'init' | 'signal' | 'onSnapshot'>, onEpoch?: (i: EpochInfo) => void) {
    const { resumeFrom, ...rest } = options;
    const r = await this.session.run({ kind: 'model-train', config, options: { ...rest, resumeFrom: resumeFrom && toPlainSnapshot(resumeFrom) } }, data, onEpoch);
    return this.modelOutcome(r.model!);
  }
  private modelOutcome(model: NonNullable<GpuJobResult['model']>): ModelOutcome {
    const { device, adapter, ...m } = model;
    const result: ModelTrainResult = {
      ...m, theta: Float64Array.from(m.theta), stopReason: m.stopReason as ModelTrainResult['stopReason'], snapshot: fromPlainSnapshot(m.snapshot),
    };
    return { result, device, adapter };
  }
  close() {
    return this.session.close();
  }
}

function plainScaler(s: Standardizer | null | undefined) {
  return s ? { mean: Array.from(s.mean), std: Array.from(s.std), yMean: s.yMean, yStd: s.yStd } : undefined;
}

function toGradient(g: { loss: number; gradW: number[]; gradB: number }): GradientResult {
  return { loss: g.loss, gradW: Float64Array.from(g.gradW), gradB: g.gradB };
}

export async function openBackend(
  choice: DeviceChoice, notice: (message: string) => void, gpuOptions: { chunkBytes?: number } = {}, cpuOptions: CpuOptions = {},
): Promise<Backend> {
  const session = await openGpuSession(choice, notice);
  if (!session) return new CpuBackend(choice === 'cpu64', notice, cpuOptions);
  return new GpuBackend(session, notice, gpuOptions.chunkBytes);
}

/**
 * The GPU session the device choice asks for, or null for the CPU path: cpu and cpu64 always; auto with no
 * adapter or only a software one, saying why through `notice`. --device gpu without an adapter is an error.
 */
export async function openGpuSession(choice: DeviceChoice, notice: (message: string) => void): Promise<GpuSession | null> {
  if (onCpu(choice)) return null;
  let session: GpuSession;
  try {
    session = await GpuSession.open();
  } catch (e) {
    if (choice === 'gpu') throw new UnavailableError(`--device gpu: no WebGPU adapter: ${(e as Error).message.split('\n')[0]}`);
    notice(`no WebGPU adapter (${(e as Error).message.split('\n')[0]}); using the CPU path`);
    return null;
  }
  if (choice === 'auto' && session.adapter.isFallback) {
    notice(`the only WebGPU adapter is ${session.adapter.name}, a software renderer slower than the CPU path for this job; ` +
      'using the CPU (pass --device gpu to use it anyway)');
    await session.close();
    return null;
  }
  return session;
}
