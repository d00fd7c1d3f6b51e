// Where the CLI computes: the WGSL engine in headless Chromium, or the CPU. `auto` takes a hardware
// adapter only: a software one (SwiftShader, isFallbackAdapter) is slower than the CPU path for this
// memory-bound job, so auto says so and uses the CPU. The CPU path is the fast one (src/cpu-fast: float32,
// every core); `cpu64` runs the float64 twin, the reference the other paths are validated against.
import type { EpochInfo, GradientResult, LinearData, LinearParams, TrainOptions, TrainResult } from '../models/linear.ts';
import { linearFormulaModel, linearGradient, linearTheta, linearTrainOptions, linearTrainResult, networkFormula } from '../models/linear-formula.ts';
import { standardizeData, type Standardizer } from '../models/standardize.ts';
import { onCpu, type DeviceChoice } from './flags.ts';
import { GpuSession } from './gpu-session.ts';
import type { GpuJobResult } from '../session/gpu-job.ts';
import { UnavailableError } from './errors.ts';
import { CpuModelEngine } from '../cpu/cpu-model-engine.ts';
import { CpuFormulaEngine } from '../cpu/formula-engine.ts';
import { FastCpuModelEngine } from '../cpu-fast/fast-engines.ts';
import { FastCpuFormulaEngine, trainFormulaStreamedOnCpu } from '../cpu-fast/formula-engine.ts';
import { NodeWorkerPool } from '../cpu-fast/node-pool.ts';
import { InlinePool, type ShardPool } from '../cpu-fast/pool.ts';
import type { ModelData, NetworkConfig } from '../models/network.ts';
import type { ModelTrainOptions, ModelTrainResult } from '../models/model-engine.ts';
import { fromPlainSnapshot, toPlainSnapshot } from '../models/plain-snapshot.ts';
import { formulaRowSums, type FormulaData, type FormulaEngine } from '../models/formula.ts';
import { standardizeChunk, type RowChunk, type RowStream } from '../models/row-stream.ts';
import { trainModelStreamedOnCpu, type StreamedCpuOptions } from '../cpu-fast/streamed-training.ts';
import { trainFormulaOnGpu } from './formula-gpu.ts';
import { memoryRowStream } from '../gpu/formula/formula-stream.ts';

export interface TrainOutcome {
  result: TrainResult;
  /** null where a streamed run was stopped by the user: the stream is not read again for it (result.lossOf). */
  final: GradientResult | null;
  /** Where the run finished: a GPU run that lost its device may end on the CPU. */
  device: 'gpu' | 'cpu';
  adapter: string | null;
}

export interface StreamJob {
  n: number;
  d: number;
  chunkRows: number;
  train: Omit<TrainOptions, 'onEpoch' | 'init'>;
  scaler: Standardizer | null;
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
  /** Full-batch training over data pulled chunk by chunk, one pass per epoch and per full evaluation. */
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
    config: NetworkConfig, rows: RowStream, options: Omit<ModelTrainOptions, 'onEpoch' | 'init' | 'onSnapshot' | 'chunkRows'>, onEpoch?: (i: EpochInfo) => void,
  ): Promise<ModelOutcome>;
  /**
   * The network models (src/models/network.ts); one without hidden layers and with one output (linear,
   * logistic) trains as its formula on the formula engines (networkFormula), from the same start.
   */
  trainModel(config: NetworkConfig, data: ModelData, options: Omit<ModelTrainOptions, 'onEpoch' | 'init' | 'onSnapshot'>, onEpoch?: (i: EpochInfo) => void): Promise<ModelOutcome>;
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

  /** The linear model's formula on the float64 twin (cpu64) or the fast path. */
  private async linearEngine(data: LinearData): Promise<FormulaEngine> {
    const model = linearFormulaModel(data.d);
    const start = new Float64Array(data.d + 1);
    return this.reference ? new CpuFormulaEngine(model, data, start) : new FastCpuFormulaEngine(model, data, start, { pool: await this.threads() });
  }

  async gradient(data: LinearData, at: LinearParams) {
    const engine = await this.linearEngine(data);
    try {
      return linearGradient(await engine.lossAndGradient(linearTheta(at)));
    } finally {
      engine.dispose();
    }
  }
  async train(data: LinearData, options: Omit<TrainOptions, 'onEpoch' | 'init'>, onEpoch?: (i: EpochInfo) => void, scaler?: Standardizer | null) {
    const engine = await this.linearEngine(scaler ? standardizeData(data, scaler) : data);
    try {
      const r = await engine.train(linearTrainOptions({ ...options, onEpoch }, data.n));
      return { result: linearTrainResult(r), final: linearGradient(await engine.lossAndGradient(r.theta)), device: this.device, adapter: null };
    } finally {
      engine.dispose();
    }
  }
  private async streamOptions(): Promise<StreamedCpuOptions> {
    return this.reference ? { reference: true } : { pool: await this.threads() };
  }
  async trainStreamed(job: StreamJob, pass: () => AsyncIterable<RowChunk>, onEpoch?: (i: EpochInfo) => void): Promise<TrainOutcome> {
    const rows = linearRows(job, pass);
    const model = linearFormulaModel(job.d);
    const options = { ...await this.streamOptions(), finalGradient: true };
    const r = await trainFormulaStreamedOnCpu(model, new Float64Array(job.d + 1), rows, linearTrainOptions({ ...job.train, onEpoch }, job.n), options);
    return { result: linearTrainResult(r.result), final: r.final ? linearGradient(r.final) : null, device: this.device, adapter: null };
  }
  async trainModelStreamed(config: NetworkConfig, rows: RowStream, options: Omit<ModelTrainOptions, 'onEpoch' | 'init' | 'onSnapshot' | 'chunkRows'>, onEpoch?: (i: EpochInfo) => void) {
    const formula = networkFormula(config, options.seed);
    const r = formula
      ? await trainFormulaStreamedOnCpu(formula.model, formula.start, rows, { ...options, onEpoch }, await this.streamOptions())
      : await trainModelStreamedOnCpu(config, rows, { ...options, onEpoch }, await this.streamOptions());
    return { result: r.result, device: this.device, adapter: null };
  }
  async trainModel(config: NetworkConfig, data: ModelData, options: Omit<ModelTrainOptions, 'onEpoch' | 'init' | 'onSnapshot'>, onEpoch?: (i: EpochInfo) => void) {
    const formula = networkFormula(config, options.seed);
    const engine = formula
      ? this.reference ? new CpuFormulaEngine(formula.model, data, formula.start) : new FastCpuFormulaEngine(formula.model, data, formula.start, { pool: await this.threads() })
      : this.reference ? new CpuModelEngine(config, data) : new FastCpuModelEngine(config, data, { pool: await this.threads() });
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
    const r = await this.session.run({ kind: 'formula-gradient', ...linearJob(data.d, linearTheta(at)), chunkRows: this.chunkRows(data.d) }, data);
    return linearGradient(r.formulaGradient!);
  }
  async train(data: LinearData, options: Omit<TrainOptions, 'onEpoch' | 'init'>, onEpoch?: (i: EpochInfo) => void, scaler?: Standardizer | null) {
    const rows = scaler ? standardizeData(data, scaler) : data;
    // --chunk-mb: the rows go to the page as a stream of chunks of that size, the GPU holding one at a time.
    const chunkRows = this.chunkRows(data.d);
    const served = chunkRows === undefined ? rows : memoryRowStream(rows, chunkRows);
    const { onEpoch: _o, ...gpuOptions } = linearTrainOptions(options, data.n);
    const outcome = await trainFormulaOnGpu(this.session, linearFormulaModel(data.d), served, new Float64Array(data.d + 1), gpuOptions, onEpoch);
    return { result: linearTrainResult(outcome.result), final: await twinGradient(rows, outcome.result.theta), device: outcome.device, adapter: outcome.adapter };
  }
  async trainStreamed(job: StreamJob, pass: () => AsyncIterable<RowChunk>, onEpoch?: (i: EpochInfo) => void): Promise<TrainOutcome> {
    const rows = linearRows(job, pass);
    const { onEpoch: _o, ...gpuOptions } = linearTrainOptions(job.train, job.n);
    const outcome = await trainFormulaOnGpu(this.session, linearFormulaModel(job.d), rows, new Float64Array(job.d + 1), gpuOptions, onEpoch);
    const final = outcome.result.lossOf === 'last-epoch' ? null : await twinGradient(rows, outcome.result.theta);
    return { result: linearTrainResult(outcome.result), final, device: outcome.device, adapter: outcome.adapter };
  }
  /** Rows per GPU chunk that --chunk-mb asks for (whole quads), or undefined: the engine's own (one storage binding). */
  private chunkRows(d: number): number | undefined {
    return this.chunkBytes === undefined ? undefined : Math.max(4, Math.floor(this.chunkBytes / ((d + 1) * 4) / 4) * 4);
  }
  async trainModelStreamed(
    config: NetworkConfig, rows: RowStream, options: Omit<ModelTrainOptions, 'onEpoch' | 'init' | 'onSnapshot' | 'chunkRows'>, onEpoch?: (i: EpochInfo) => void,
  ): Promise<ModelOutcome> {
    const formula = networkFormula(config, options.seed);
    if (formula) return trainFormulaOnGpu(this.session, formula.model, rows, formula.start, options, onEpoch);
    const { resumeFrom, signal, ...rest } = options;
    const { n, d, chunkRows } = rows;
    const r = await this.session.runStreamed({
      kind: 'model-train-stream', n, d, chunkRows, config, options: { ...rest, resumeFrom: resumeFrom && toPlainSnapshot(resumeFrom) },
    }, () => rows.pass(), onEpoch, { signal });
    return this.modelOutcome(r.model!);
  }
  async trainModel(config: NetworkConfig, data: ModelData, options: Omit<ModelTrainOptions, 'onEpoch' | 'init' | 'onSnapshot'>, onEpoch?: (i: EpochInfo) => void) {
    // Batches cut in chunks of chunkRows: the rows go to the page as a stream of such chunks, which cuts them so.
    const { chunkRows, ...unchunked } = options;
    if (chunkRows !== undefined) return this.trainModelStreamed(config, memoryRowStream(data, chunkRows), unchunked, onEpoch);
    const formula = networkFormula(config, options.seed);
    if (formula) return trainFormulaOnGpu(this.session, formula.model, data, formula.start, options, onEpoch);
    const { resumeFrom, signal, ...rest } = options;
    const r = await this.session.run({ kind: 'model-train', config, options: { ...rest, resumeFrom: resumeFrom && toPlainSnapshot(resumeFrom) } }, data, onEpoch, signal);
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

/** A stream job's chunks as rows of the linear formula, standardized in place when the job has a scaler. */
function linearRows(job: StreamJob, pass: () => AsyncIterable<RowChunk>): RowStream {
  const { n, d, chunkRows, scaler } = job;
  return {
    n, d, chunkRows,
    async *pass() {
      // In place: each chunk is the reader's fresh array, handed to us (a copy per chunk would double the chunks in flight).
      for await (const c of pass()) yield scaler ? standardizeChunk(c, d, scaler) : c;
    },
  };
}

/**
 * J and dJ/dθ of the linear formula at theta in float64 over every row (one more pass over a stream): the
 * gradient a GPU run reports at its parameters (the page's training job hands back J and |grad J| only).
 */
async function twinGradient(rows: FormulaData | RowStream, theta: ArrayLike<number>): Promise<GradientResult> {
  const model = linearFormulaModel(rows.d);
  const sums = formulaRowSums(model);
  const P = model.params.length;
  const total = new Float64Array(P + 1);
  const chunks = 'pass' in rows ? rows.pass() : [{ x: rows.x, y: rows.y, rows: rows.n }];
  for await (const c of chunks) sums(theta, c.x, c.y, 0, c.rows, total);
  const inv = 1 / rows.n;
  return linearGradient({ loss: total[P] * inv, grad: total.subarray(0, P).map((v) => v * inv) });
}

/** The page's job for the linear formula at theta (formula-jobs.ts compiles the same model there). */
function linearJob(d: number, theta: Float64Array) {
  const model = linearFormulaModel(d);
  return { spec: { ...model.spec }, columns: [...model.features, model.target], params: [...model.params], start: Array.from(theta) };
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
