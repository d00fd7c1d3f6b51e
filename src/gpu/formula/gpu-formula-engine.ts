// The WGSL engine of formula models (src/formula/): the rows, parameters and optimizer state live on the GPU;
// the gradient is the generated pass-1 kernel and the fixed-order reduce (formula-passes.ts), its grid tuned
// per adapter and program (formula-tuning.ts) and checked against the float64 twin before first use.
// Training is the one loop (src/train/loop.ts) over the model engine's program (GpuModelProgram), which
// chains up to `slots` updates per submit, each on its own batch, with the fused optimizer update, the
// history ring, the on-device tolerance stop and the last good state after a divergence. Streamed rows
// (createStreamed, and in-memory data larger than one storage binding) hold one chunk on the GPU and run the
// model engine's streamed program (streamed-model-program.ts: ResidentChunks, piecewiseGradient).
// A model of the linear shape (src/formula/shapes.ts) with at most QUAD_MAX_FEATURES columns runs the
// hand-tuned quad kernel instead (linear-quad-pass.ts), tuned and checked as the generated one is, for every
// batch that starts on a multiple of 4 rows; the generated kernel is built beside it, on its default grid and
// checked too, for the others (RoutedGradientPasses), so any batch size and any chunk piece stays right.
// A generalised linear model over rows wider than the quad loads (shapes.ts: linearPredictor) may run the
// linear predictor kernel for every batch instead of the generated one (linear-predictor-pass.ts): up to
// PREDICTOR_ALONE_WIDTH columns both are tuned and the faster one runs, checked like any kernel.
// normalEquations is generated.
import { describe as describeModel, type FormulaModel } from '../../formula/model.ts';
import { gradientProgram, type SampleProgram } from '../../formula/program.ts';
import type { ModelTrainOptions, ModelTrainResult } from '../../models/model-engine.ts';
import { formulaColumns, formulaRules, rowWidth, trainNamingStartRow, validateFormulaData, validateFormulaTheta, type FormulaData, type FormulaEngine } from '../../models/formula.ts';
import { requireGpuContext, type GpuContext } from '../device.ts';
import { CallQueue, DeviceIo } from '../device-io.ts';
import { chooseWorkgroupSize } from '../dispatch.ts';
import { createBufferChecked, createUploadedBuffer, requireFloat32Rows } from '../resources.ts';
import { piecewiseGradient, ResidentChunks, trainOnGpu } from '../models/streamed-model-program.ts';
import { checkRowStream, type RowStream } from '../../models/row-stream.ts';
import type { BatchRange } from '../../models/batches.ts';
import { formulaBindingRows, formulaXBytes, memoryRowStream } from './formula-stream.ts';
import { mayOverflowFloat32, referencesOf, type ReferenceOf } from './formula-check.ts';
import { float32Problem, float32StreamProblem } from '../../models/formula-float32.ts';
import { describeFormulaConfig, FORMULA_CHECK_ROWS, stepWorkgroupSize, type FormulaKernelConfig } from './formula-grid.ts';
import { FormulaNormalEquationsPass } from './formula-normal-pass.ts';
import { FormulaGradientPasses, type FormulaBuffers } from './formula-passes.ts';
import { chooseFormulaKernel, judge, runGradient, type FormulaKernelChoice, type FormulaTuningOptions } from './formula-tuning.ts';
import { linearShape } from '../../formula/shapes.ts';
import { rejectUnknownKeys } from '../../core/options.ts';
import { QUAD_LOAD_MAX_WIDTH } from './formula-row-code.ts';
import { createLinearPredictorPasses, linearPredictorVariant, PREDICTOR_ALONE_WIDTH, predictorFor, predictorGrid } from './linear-predictor-pass.ts';
import type { SlotGradientPasses } from '../models/streamed-model-program.ts';
import { createLinearQuadPasses, linearQuadVariant, quadTakes, RoutedGradientPasses, type FormulaKernelKind } from './linear-quad-pass.ts';

const kLabel = 'nabla.formula';
const DEFAULT_SLOTS = 64;
const ENGINE_OPTION_KEYS = ['kernel', 'tuning', 'maxSums', 'maxReportEvery', 'code', 'normalCode', 'specialize', 'predictor', 'quadKernel', 'quadCode', 'foldStep'];

export interface GpuFormulaEngineOptions extends FormulaTuningOptions {
  /** Most steps chained per submit (uniform slots, history ring). */
  maxReportEvery?: number;
  /** Replacement pass-1 WGSL (tests inject a faulty kernel with it; the creation check must catch it). */
  code?: string;
  /** The same for the normal-equations pass (its check at first use must catch it). */
  normalCode?: string;
  /**
   * false: the generated kernel for every model (the bench times both). Default true: a linear shape with
   * at most QUAD_MAX_FEATURES columns runs the quad kernel for batches starting on a multiple of 4 rows, a
   * wider linear predictor the faster of the generated and the linear predictor kernels (`predictor`).
   */
  specialize?: boolean;
  /**
   * The linear predictor kernel of a wide generalised linear model: true, it runs every batch (`kernel` and
   * `code` are then its; a model it cannot take is an error); false, never. Default: rows of
   * PREDICTOR_ALONE_WIDTH columns or more run it; narrower ones tune both kernels and run the faster (on this
   * machine's SwiftShader and llvmpipe at 128 columns, the generated one: README, "Wider rows"), and without
   * tuning (an explicit `kernel`, or tuning: false) the generated one.
   */
  predictor?: boolean;
  /** The quad kernel's grid: no table, no tuning (as `kernel` is for the generated one). */
  quadKernel?: FormulaKernelConfig;
  /** Replacement quad-kernel WGSL (tests inject a faulty kernel; the creation check must catch it). */
  quadCode?: string;
  /** false: a training step's fold, history record and update as three passes, not one (FoldStepPass); the same bits. */
  foldStep?: boolean;
}

/**
 * The gradient's passes: generic runs every batch no other kernel takes (the generated kernel, or the linear
 * predictor kernel, `kind`), quad those starting on a multiple of 4 rows where the model takes it.
 */
interface GradientKernels {
  kind: Exclude<FormulaKernelKind, 'linear-quad'>;
  generic: FormulaGradientPasses;
  quad: FormulaGradientPasses | null;
  quadKernel: FormulaKernelChoice | null;
}

/** The generated kernel disagrees with the float64 twin: a wrong kernel is an error, never a silent fallback. */
export class FormulaKernelError extends Error {
  constructor(readonly model: string, readonly config: FormulaKernelConfig, detail: string) {
    super(`GPU kernel for ${model} (workgroups of ${describeFormulaConfig(config)}) disagrees with the float64 twin: ${detail}`);
    this.name = 'FormulaKernelError';
  }
}

export class GpuFormulaEngine implements FormulaEngine {
  readonly device = 'gpu' as const;
  readonly adapter: string;
  readonly n: number;
  private disposed = false;
  private readonly calls = new CallQueue();
  /** Built, tuned and checked at the first normalEquations() call. */
  private normal: Promise<FormulaNormalEquationsPass> | null = null;
  /** The gradient's kernel for batches starting on a multiple of 4 rows (every other batch runs 'generated'). */
  readonly kernelKind: FormulaKernelKind;
  /** The quad kernel's grid and where it came from; null where the generated kernel runs every batch. */
  readonly quadKernel: FormulaKernelChoice | null;
  private readonly passes: SlotGradientPasses;
  /** Passes over the rows a gradient of the kernel that runs every batch takes: the generated kernel's slices (outputSlices), else 1. */
  readonly slices: number;

  private constructor(
    private readonly gpu: GpuContext,
    private readonly io: DeviceIo,
    readonly model: FormulaModel,
    private readonly start: Float64Array,
    n: number,
    private readonly buffers: FormulaBuffers,
    private readonly kernels: GradientKernels,
    /** The grid of the kernel that runs every batch (kernelKind's, or the generated one beside the quad kernel) and where it came from. */
    readonly kernel: FormulaKernelChoice,
    private readonly readback: GPUBuffer,
    private readonly owned: GPUBuffer[],
    /** The rows on the host (null when streamed): what the normal-equations pass is tuned on and checked against at first use. */
    private readonly data: FormulaData | null,
    private readonly options: GpuFormulaEngineOptions,
    /** Streamed rows: the chunk x and y hold; null when they hold every row. */
    private readonly chunks: ResidentChunks | null,
  ) {
    this.adapter = gpu.summary.name;
    this.n = n;
    this.quadKernel = kernels.quadKernel;
    this.kernelKind = kernels.quad ? 'linear-quad' : kernels.kind;
    this.passes = kernels.quad ? new RoutedGradientPasses(kernels.quad, kernels.generic) : kernels.generic;
    this.slices = kernels.generic.slices;
  }

  /**
   * start: the parameters a run begins from without init (startingParameters); also where the kernel is
   * checked. Rows larger than one storage binding run as a stream of in-memory chunks (createStreamed).
   */
  static async create(gpu: GpuContext, model: FormulaModel, data: FormulaData, start: Float64Array, options: GpuFormulaEngineOptions = {}): Promise<GpuFormulaEngine> {
    rejectUnknownKeys(options, ENGINE_OPTION_KEYS, 'GpuFormulaEngine options');
    requireGpuContext(gpu);
    validateFormulaData(model, data);
    requireFloat32Rows(data);
    validateFormulaTheta(model, start, 'start');
    const xBytes = formulaXBytes(data.n, data.d);
    if (xBytes > gpu.maxBindingBytes) {
      if (data.d === 0) throw new RangeError(`dataset: ${data.n} rows of a model without columns exceed one storage binding (${gpu.maxBindingBytes} bytes)`);
      return GpuFormulaEngine.createStreamed(gpu, model, memoryRowStream(data, formulaBindingRows(data.d, gpu.maxBindingBytes)), start, options);
    }
    return GpuFormulaEngine.build(gpu, model, data.n, start, options, async (device, round) => ({
      // The emitted kernel reads at least one column per row: a model of no columns reads zeros.
      x: await createUploadedBuffer(device, `${kLabel}.x`, data.d === 0 ? new Float32Array(data.n) : data.x, round(xBytes), GPUBufferUsage.STORAGE),
      y: await createUploadedBuffer(device, `${kLabel}.y`, data.y, round(data.n * 4), GPUBufferUsage.STORAGE),
    }), async () => data, null);
  }

  /**
   * Streamed rows: x and y hold one chunk of `rows` (its chunkRows rows, at most one storage binding), read
   * again for every epoch, full evaluation and normal-equations pass; the kernel is tuned on and checked
   * against the first chunk. The stream is closed by dispose().
   */
  static async createStreamed(gpu: GpuContext, model: FormulaModel, rows: RowStream, start: Float64Array, options: GpuFormulaEngineOptions = {}): Promise<GpuFormulaEngine> {
    rejectUnknownKeys(options, ENGINE_OPTION_KEYS, 'GpuFormulaEngine options');
    requireGpuContext(gpu);
    validateFormulaTheta(model, start, 'start');
    checkRowStream(rows, 'stream');
    const { n, d, chunkRows } = rows;
    if (d !== rowWidth(model) || d === 0) throw new RangeError(`stream: ${d} columns per row, the model reads ${rowWidth(model)} (${formulaColumns(model).join(', ')}); a stream needs at least one`);
    const held = Math.min(chunkRows, n);
    const xBytes = formulaXBytes(held, d);
    if (xBytes > gpu.maxBindingBytes) {
      throw new RangeError(`stream: a chunk of ${held} rows x ${d} columns takes ${xBytes} bytes, more than one storage binding (${gpu.maxBindingBytes}); use chunks of at most ${formulaBindingRows(d, gpu.maxBindingBytes)} rows`);
    }
    let chunks: ResidentChunks | null = null;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    return GpuFormulaEngine.build(gpu, model, n, start, options, async (device, round) => ({
      x: await createBufferChecked(device, { label: `${kLabel}.x`, size: round(xBytes), usage }),
      y: await createBufferChecked(device, { label: `${kLabel}.y`, size: round(held * 4), usage }),
    }), async (io, resident) => {
      chunks ??= new ResidentChunks(rows, (data, firstRow) => validateFormulaData(model, data, firstRow), io, resident, held);
      return firstChunk(chunks, d);
    }, () => chunks);
  }

  /**
   * The buffers, the kernel (chosen on `rowsOf`: every row, or the first chunk, uploaded by then), the passes
   * and the check; chunksOf: the streamed engine's chunks once rowsOf made them.
   */
  private static async build(
    gpu: GpuContext, model: FormulaModel, n: number, start: Float64Array, options: GpuFormulaEngineOptions,
    makeData: (device: GPUDevice, round: (bytes: number) => number) => Promise<{ x: GPUBuffer; y: GPUBuffer }>,
    rowsOf: (io: DeviceIo, resident: { x: GPUBuffer; y: GPUBuffer }) => Promise<FormulaData>, chunksOf: (() => ResidentChunks | null) | null,
  ): Promise<GpuFormulaEngine> {
    const program = gradientProgram(model);
    const { device } = gpu;
    const io = new DeviceIo(device, kLabel);
    const S = program.outputs.length;
    const owned: GPUBuffer[] = [];
    const round = (bytes: number) => Math.max(16, Math.ceil(bytes / 16) * 16);
    const make = async (label: string, bytes: number, usage: number) => {
      const b = await createBufferChecked(device, { label: `${kLabel}.${label}`, size: round(bytes), usage });
      owned.push(b);
      return b;
    };
    const ST = GPUBufferUsage.STORAGE;
    const made: FormulaGradientPasses[] = [];
    const shape = options.specialize === false ? null : linearShape(model);
    const storage = device.limits.maxComputeWorkgroupStorageSize;
    const predictor = options.specialize === false || options.predictor === false || quadTakes(shape) ? null : predictorFor(model, program, storage);
    const predictable = predictor !== null;
    if (options.predictor === true && !predictable) {
      throw new RangeError(`predictor: the linear predictor kernel takes yhat = F(η + b, ...) with η = Σ θ·x over every column, more than ${QUAD_LOAD_MAX_WIDTH} of them, the compiler's specialisations on; ${describeModel(model)} over ${program.rowWidth} columns is not one`);
    }
    let predicts = predictable && (options.predictor === true || (options.predictor === undefined && program.rowWidth >= PREDICTOR_ALONE_WIDTH));
    const maxPerDim = gpu.shape.maxWorkgroupsPerDimension;
    try {
      const { x, y } = await makeData(device, round);
      owned.push(x, y);
      const data = await rowsOf(io, { x, y });
      const references = referencesOf(model, start, data, program);
      const checked = Math.min(data.n, FORMULA_CHECK_ROWS);
      const unreachable = mayOverflowFloat32(references({ start: 0, rows: checked }), checked, start) ? float32Problem(model, start, data, checked) : null;
      if (unreachable) {
        throw new RangeError(`start: at the starting parameters ${unreachable}; the GPU computes in float32: start nearer the data's scale, or train on the CPU (--device cpu or cpu64), which computes in float64`);
      }
      // Beside the quad kernel the generated one runs only the batches that start off a multiple of 4 rows
      // (mini-batches of other sizes): its default grid, no second tuning at start-up.
      const predictorChoice = () => chooseFormulaKernel(gpu, io, model, program, data, { x, y }, start, options, model.params, linearPredictorVariant(program, predictor!, data.n, maxPerDim, storage), references);
      let kernel = predicts
        ? await predictorChoice()
        : await chooseFormulaKernel(gpu, io, model, program, data, { x, y }, start, quadTakes(shape) && !options.kernel ? { ...options, tuning: false } : options, model.params, undefined, references);
      if (predictable && !predicts && options.predictor === undefined && !options.kernel && options.tuning !== false) {
        const other = await predictorChoice();
        if (faster(other, kernel)) {
          kernel = other;
          predicts = true;
        }
      }
      if (predicts) kernel = { ...kernel, config: predictorGrid(kernel.config, n, program.rowWidth) };
      // Tuned on the real kernel; the engine's own (options.quadCode in tests) is what checkKernels judges.
      const quadKernel = quadTakes(shape)
        ? await chooseFormulaKernel(gpu, io, model, program, data, { x, y }, start, { kernel: options.quadKernel, tuning: options.tuning }, model.params, linearQuadVariant(program, shape, data.n, maxPerDim), references)
        : null;
      const groups = Math.max(kernel.config.groups, quadKernel?.config.groups ?? 1);
      const buffers: FormulaBuffers = {
        x, y,
        theta: await make('theta', model.params.length * 4, ST | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC),
        partials: await make('partials', groups * S * 4, ST | GPUBufferUsage.COPY_DST),
        gradLoss: await make('gradLoss', S * 4, ST | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST),
      };
      const readback = await make('readback', S * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
      const slots = Math.max(1, options.maxReportEvery ?? DEFAULT_SLOTS);
      const generic = predicts
        ? await createLinearPredictorPasses(device, program, predictor!, kernel.config, maxPerDim, buffers, slots, options.code)
        : await FormulaGradientPasses.create(device, program, kernel.config, maxPerDim, buffers, slots, { code: options.code, maxSums: options.maxSums });
      made.push(generic);
      const quad = quadKernel && shape ? await createLinearQuadPasses(device, program, shape, quadKernel.config, maxPerDim, buffers, slots, options.quadCode) : null;
      if (quad) made.push(quad);
      const chunks = chunksOf?.() ?? null;
      const engine = new GpuFormulaEngine(gpu, io, model, Float64Array.from(start), n, buffers, { kind: predicts ? 'linear-predictor' : 'generated', generic, quad, quadKernel }, kernel, readback, owned, chunks ? null : data, options, chunks);
      await engine.checkKernels(program, data, references);
      return engine;
    } catch (e) {
      for (const p of made) p.dispose();
      for (const b of owned) b.destroy();
      chunksOf?.()?.close().catch(() => undefined);
      throw e;
    }
  }

  /**
   * The engine's own passes over the first rows at the starting parameters against the float64 twin: the
   * generated kernel's, and the quad kernel's where it runs, over the same rows and over a short batch (over
   * thousands of rows a wrong leftover row, at most six, would hide within the tolerance): for the quad
   * kernel from row 4 (one whole quad and a partial one), for the generated one from row 5 (three rows
   * before its first quad, two quads, two rows after).
   */
  private async checkKernels(program: SampleProgram, data: FormulaData, references: ReferenceOf): Promise<void> {
    const first = { start: 0, rows: Math.min(data.n, FORMULA_CHECK_ROWS) };
    const short = { start: data.n > 4 ? 4 : 0, rows: Math.min(data.n > 4 ? data.n - 4 : data.n, 7) };
    const offset = data.n >= 18 ? { start: 5, rows: 13 } : { start: data.n > 1 ? 1 : 0, rows: Math.max(1, data.n - 1) };
    this.live().queue.writeBuffer(this.buffers.theta, 0, Float32Array.from(this.start));
    const { kind, generic, quad, quadKernel } = this.kernels;
    const checks: { passes: FormulaGradientPasses; config: FormulaKernelConfig; what: string; ranges: BatchRange[] }[] = [
      { passes: generic, config: this.kernel.config, what: `${describeModel(this.model)}${kind === 'linear-predictor' ? ' (linear predictor kernel)' : ''}`, ranges: [first, offset] },
    ];
    if (quad && quadKernel) checks.push({ passes: quad, config: quadKernel.config, what: `${describeModel(this.model)} (linear quad kernel)`, ranges: [first, short] });
    for (const { passes, config, what, ranges } of checks) {
      for (const range of ranges) {
        const reference = references(range);
        passes.writeSlot(0, range);
        const got = await runGradient(this.io, passes, 0, this.buffers.gradLoss, this.readback, program.outputs.length, this.buffers.partials);
        const wrong = judge(this.model, got, reference);
        if (wrong !== null) throw new FormulaKernelError(what, config, `rows ${range.start}..${range.start + range.rows - 1}: ${wrong}`);
      }
    }
  }

  private live(): GPUDevice {
    if (this.disposed) throw new Error('GpuFormulaEngine: used after dispose()');
    return this.io.live();
  }

  /** Fills the partials and gradient buffers with a value (tests poison them with NaN). */
  fillOutputs(value: number): void {
    const q = this.live().queue;
    for (const b of [this.buffers.partials, this.buffers.gradLoss]) q.writeBuffer(b, 0, new Float32Array(b.size / 4).fill(value));
  }

  /** J = (1/N) Σ w_i ℓ_i and dJ/dθ over all rows: one evaluation, or (streamed) chunk by chunk combined in float64. */
  lossAndGradient(theta: ArrayLike<number>): Promise<{ loss: number; grad: Float64Array }> {
    return this.calls.run(() => this.evaluate(theta));
  }

  private async evaluate(theta: ArrayLike<number>): Promise<{ loss: number; grad: Float64Array }> {
    validateFormulaTheta(this.model, theta, 'theta');
    this.live().queue.writeBuffer(this.buffers.theta, 0, Float32Array.from(theta));
    const range = { start: 0, rows: this.n };
    const pieces = this.chunks ? this.chunks.pieces(range) : [range];
    return piecewiseGradient(this.io, pieces, this.passes, this.buffers, this.model.params.length + 1, { range, slot: 0, readback: this.readback });
  }

  /**
   * Gauss-Newton's sums over every row at theta, not divided by N (FormulaEngine.normalEquations). The first
   * call builds the pass (its own tuned grid) and checks it against the float64 twin at that theta.
   */
  normalEquations(theta: ArrayLike<number>): Promise<Float64Array> {
    return this.calls.run(() => this.normalSums(theta));
  }

  private async normalSums(theta: ArrayLike<number>): Promise<Float64Array> {
    validateFormulaTheta(this.model, theta, 'theta');
    this.live();
    if (!this.normal) {
      const { tuning, kernel, normalCode } = this.options;
      const at = Float64Array.from(theta);
      this.normal = (async () => {
        // Streamed: tuned on and checked against the first chunk, made resident for it.
        const data = this.data ?? await firstChunk(this.chunks!, rowWidth(this.model));
        return FormulaNormalEquationsPass.create(this.gpu, this.io, this.model, data, this.buffers, at, { tuning, kernel, code: normalCode, maxSums: this.options.maxSums });
      })();
      this.normal.catch(() => (this.normal = null)); // a failed build is reported to this call; the next one tries again
    }
    const pass = await this.normal;
    if (!this.chunks) return pass.run(theta, { start: 0, rows: this.n });
    // Chunk by chunk, the sums added in chunk order in float64 (as src/fit/streamed-pass.ts does on the CPU).
    const total = new Float64Array(pass.program.outputs.length);
    for await (const piece of this.chunks.pieces({ start: 0, rows: this.n })) {
      const sums = await pass.run(theta, piece);
      for (let k = 0; k < total.length; k++) total[k] += sums[k];
    }
    return total;
  }

  /** Streamed data: passes over the stream started so far (one per epoch and per full evaluation). */
  get streamPasses(): number {
    return this.chunks?.cursor.passes ?? 0;
  }

  /**
   * The one training loop over GpuModelProgram (or, streamed, StreamedModelProgram): every optimizer,
   * schedule, mini-batch, tolerance and divergence rule.
   */
  train(o: ModelTrainOptions): Promise<ModelTrainResult> {
    return this.calls.run(() => this.run(o));
  }

  private run(o: ModelTrainOptions): Promise<ModelTrainResult> {
    this.live();
    const P = this.model.params.length;
    const ctx = {
      gpu: this.gpu, io: this.io, rules: formulaRules(this.model, this.start), n: this.n,
      plan: { rows: this.chunks?.rows ?? this.n, params: P, stride: P + 1, workgroupSize: chooseWorkgroupSize(this.gpu.shape, stepWorkgroupSize(P)) },
      buffers: this.buffers, passes: this.passes, foldStep: this.options.foldStep,
      submitAndRead: async (encoder: GPUCommandEncoder, readback: GPUBuffer, bytes: number, what: string) => {
        await this.io.submitChecked(encoder, what);
        return this.io.readBack(readback, bytes);
      },
      evaluate: (theta: ArrayLike<number>) => this.evaluate(theta),
    };
    const rows = this.data ?? this.chunks?.stream;
    if (!rows) return trainOnGpu(ctx, this.chunks, o);
    const inFloat32 = async (theta: ArrayLike<number>) => {
      const problem = 'pass' in rows ? await float32StreamProblem(this.model, theta, rows) : float32Problem(this.model, theta, rows);
      return problem && `${problem}; the GPU computes in float32`;
    };
    return trainNamingStartRow(this.model, rows, this.start, o, () => trainOnGpu(ctx, this.chunks, o), inFloat32);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.kernels.generic.dispose();
    this.kernels.quad?.dispose();
    this.normal?.then((p) => p.dispose(), () => undefined);
    for (const b of this.owned) b.destroy();
    // Closing ends the stream's pending pass (its source); nothing here waits for it.
    this.chunks?.close().catch(() => undefined);
  }
}

/** Whether tuning timed `a` faster than `b`, on the same clock. */
function faster(a: FormulaKernelChoice, b: FormulaKernelChoice): boolean {
  return a.timing !== undefined && b.timing !== undefined && a.timing.method === b.timing.method && a.timing.ms < b.timing.ms;
}

/** The first chunk of a stream, made resident, as the rows the kernel is tuned on and checked against. */
async function firstChunk(chunks: ResidentChunks, d: number): Promise<FormulaData> {
  const c = await chunks.holding(0);
  return { x: c.x.subarray(0, c.rows * d), y: c.y.subarray(0, c.rows), n: c.rows, d };
}
