// The fast CPU path for formula models: the FormulaEngine API over the generated row sums run on shards of
// float32 rows (formula-task.ts) by a ShardPool, trained by the one loop through the same CPU program as the
// float64 twin (src/cpu/formula-engine.ts). Each row's terms are the twin's to the bit (the same generated
// code on the same float32 values, summed in float64); only the order of the additions differs: per shard,
// then the shards in order, so a result is identical for every thread count. Environment-free: the caller
// brings the pool.
//
// Where the compiler recognises the linear shape (src/formula/shapes.ts: Σ θ·x + b with mse), the gradient
// runs on the linear task instead (wasm-linear.ts: WebAssembly SIMD, float64 sums; its float64 JS loop where
// there is no SIMD): its sums Σ r·x_c, Σ r, Σ r² are the generated program's outputs up to the factor 2 of
// d(r²)/dr, and its dot product adds w·x in another order than the formula's tree, a few ulps per row.
// A generalised linear model of CPU_PREDICTOR_WIDTH columns or more runs its row sums through the linear
// predictor (emit-js.ts: jsPredictorRowSumsSource), the same outputs, η summed in column order.
import { jsPredictorRowSumsSource, jsRowSumsSource, compileRowSums } from '../formula/emit-js.ts';
import type { FormulaModel } from '../formula/model.ts';
import { gradientProgram, normalEquationsProgram } from '../formula/program.ts';
import { linearPredictor, linearShape, type LinearShape } from '../formula/shapes.ts';
import type { BatchRange } from '../models/batches.ts';
import type { ModelTrainOptions, ModelTrainResult } from '../models/model-engine.ts';
import { formulaRules, rowWidth, trainNamingStartRow, validateFormulaData, validateFormulaTheta, type FormulaData, type FormulaEngine } from '../models/formula.ts';
import type { RowStream } from '../models/row-stream.ts';
import { CpuProgram } from '../cpu/cpu-program.ts';
import { formulaGradient, formulaSource } from '../cpu/formula-engine.ts';
import type { ModelGradient } from '../cpu/mlp_gradient.ts';
import { StreamedGradients, type ChunkEvaluator } from '../cpu/streamed-source.ts';
import { runTraining } from '../train/loop.ts';
import { FAST_CPU_OPTION_REASONS, linearWasmSpec, ShardedTask, type FastCpuOptions } from './fast-engines.ts';
import { shareArray, sharedFloat64 } from './pool.ts';
import type { TaskSpec } from './tasks.ts';
import { capacityRows, rejectStreamChunkRows, reusing, type StreamedCpuOptions } from './streamed-training.ts';
import { rejectUnknownKeys } from '../core/options.ts';

/**
 * The gradient's kernel: the generated row sums, or the linear task for a linear shape, as WebAssembly SIMD
 * or as its float64 JS loop.
 */
export type FormulaKernel = 'generated' | 'linear-wasm' | 'linear-js' | 'linear-predictor';

/**
 * Rows this wide or wider of a generalised linear model run the linear predictor's row sums, as on the GPU
 * (PREDICTOR_ALONE_WIDTH). V8 optimises the generated function, one statement per column, up to about 512
 * columns and then not at all: from 640 it ran at about 42 M row elements/s against the predictor's 520
 * (logistic, huber and Poisson, Node 20, one thread, ad hoc). From 256 to 512 columns it is a gamble.
 * Optimised, the generated function ran up to 1.7 times the faster on one thread. On the fast path's worker
 * threads, over a few calls, it often was not optimised yet. In bench/results/2026-12-07T17-04-00-025Z-cpu.json
 * (`npm run bench:cpu -- --no-mlp --no-linear`) it was 1.6 times the faster at 256 columns and 1.6
 * and 1.8 times the slower at 384 and 512; from 640 columns, 10 to 16 times the slower.
 */
export const CPU_PREDICTOR_WIDTH = 256;

export interface FastCpuFormulaOptions extends Omit<FastCpuOptions, 'kernels'> {
  /**
   * 'auto' (default): linear-wasm for a linear shape where there is WebAssembly SIMD, else linear-js;
   * linear-predictor for a generalised linear model of CPU_PREDICTOR_WIDTH columns or more; generated for
   * every other model; a kernel by name is an error where it does not apply.
   */
  kernel?: FormulaKernel | 'auto';
}

const KERNEL_CHOICES = ['auto', 'generated', 'linear-wasm', 'linear-js', 'linear-predictor'];
const FORMULA_ENGINE_KEYS = ['pool', 'shards', 'kernel'];
const FORMULA_OPTION_REASONS = { ...FAST_CPU_OPTION_REASONS, kernels: 'the networks\' product kernels; a formula engine\'s choice is kernel' };

export class FastCpuFormulaEngine implements FormulaEngine {
  readonly device = 'cpu' as const;
  readonly adapter = null;
  readonly n: number;
  /** The kernel the gradient runs on (normalEquations always runs the generated sums). */
  readonly kernel: FormulaKernel;
  /** The task's parameters: theta in model.params order (generated), or (w by column, b) for the linear task. */
  private readonly theta: Float64Array;
  private readonly partials: Float64Array;
  private readonly task: ShardedTask;
  /** Where each parameter sits in the linear task, when the linear task runs. */
  private readonly shape: LinearShape | null;

  /** start: the parameters a run begins from without init (startingParameters). */
  /** The curve fit's pass (normalEquations), made at its first use over the same shared rows. */
  private normal: { task: ShardedTask; theta: Float64Array; partials: Float64Array } | null = null;

  constructor(readonly model: FormulaModel, data: FormulaData, private readonly start: Float64Array, private readonly options: FastCpuFormulaOptions = {}) {
    rejectUnknownKeys(options, FORMULA_ENGINE_KEYS, 'FastCpuFormulaEngine options', FORMULA_OPTION_REASONS);
    validateFormulaData(model, data);
    validateFormulaTheta(model, start, 'start');
    const choice = options.kernel ?? 'auto';
    if (!KERNEL_CHOICES.includes(choice)) throw new RangeError(`kernel: expected ${KERNEL_CHOICES.join(', ')}, got "${choice}"`);
    this.n = data.n;
    const shape = choice === 'generated' || choice === 'linear-predictor' ? null : linearShape(model);
    const predictor = choice === 'linear-predictor' || (choice === 'auto' && !shape && rowWidth(model) >= CPU_PREDICTOR_WIDTH) ? linearPredictor(model) : null;
    if (!predictor && choice === 'linear-predictor') {
      throw new RangeError('kernel: linear-predictor needs a generalised linear model, yhat = F(Σ θ·x + b, ...) over every column, the columns and their weights nowhere else');
    }
    if (!shape && (choice === 'linear-wasm' || choice === 'linear-js')) {
      throw new RangeError(`kernel: ${choice} needs a linear model (y ~ linear(...) or a sum of parameter·column terms and one bias) with the mse loss and no weights`);
    }
    this.shape = shape;
    let theta: Float64Array | null = null;
    let partials: Float64Array | null = null;
    this.task = new ShardedTask(options, (pool, shards): TaskSpec => {
      if (shape) {
        const d = shape.weights.length;
        const simd = choice !== 'linear-js' ? linearWasmSpec(pool, data, shards) : null;
        if (choice === 'linear-wasm' && !simd) throw new Error('kernel: no WebAssembly SIMD (or the data exceed one 4 GiB memory, or d > 64) here');
        const spec: TaskSpec & { kind: 'linear' } = simd ?? {
          kind: 'linear', d, x: shareArray(pool, data.x), y: shareArray(pool, data.y), params: sharedFloat64(pool, d + 1), partials: sharedFloat64(pool, shards * (d + 2)),
        };
        ({ params: theta, partials } = spec);
        return spec;
      }
      const program = gradientProgram(model);
      const P = program.params;
      theta = sharedFloat64(pool, P);
      partials = sharedFloat64(pool, shards * (P + 1));
      return {
        kind: 'formula', source: predictor ? jsPredictorRowSumsSource(program, predictor) : jsRowSumsSource(program), params: P, outputs: P + 1, rowWidth: program.rowWidth,
        x: shareArray(pool, data.x), y: shareArray(pool, data.y), theta, partials,
      };
    }, 'FastCpuFormulaEngine');
    const spec = this.task.spec;
    this.kernel = spec.kind === 'formula' ? (predictor ? 'linear-predictor' : 'generated') : spec.kind === 'linear' && spec.wasm ? 'linear-wasm' : 'linear-js';
    this.theta = theta!;
    this.partials = partials!;
  }

  /** Threads computing shards. */
  get threads(): number {
    return this.task.pool.threads;
  }

  /** The rows this engine computes on, as the pool's threads see them: a streamed run copies each chunk into these. */
  get resident(): { x: Float32Array; y: Float32Array } {
    const spec = this.task.spec as TaskSpec & { kind: 'formula' | 'linear' };
    return { x: spec.x, y: spec.y };
  }

  /** Mean loss and gradient over rows range.start..range.start+range.rows (a batch, or a chunk's piece). */
  gradientOver(theta: ArrayLike<number>, range: BatchRange): Promise<ModelGradient> {
    if (this.shape) return this.linearGradientOver(this.shape, theta, range);
    const P = this.theta.length;
    return this.task.evaluate(range, () => this.theta.set(theta), (sums, rows) => {
      const inv = 1 / rows;
      const grad = new Float64Array(P);
      for (let j = 0; j < P; j++) grad[j] = sums[j] * inv;
      return { loss: sums[P] * inv, grad };
    }, this.partials);
  }

  /**
   * The linear task's sums in the formula's terms: ∂J/∂θ = (2/N) Σ r·x_c for the weight of column c,
   * (2/N) Σ r for the bias, J = (1/N) Σ r². Scaling by 2 is exact, so these are the generated program's
   * sums (whose terms carry the 2 of d(r²)/dr) times 1/N as gradientOver takes them.
   */
  private linearGradientOver(shape: LinearShape, theta: ArrayLike<number>, range: BatchRange): Promise<ModelGradient> {
    const { weights, bias } = shape;
    const d = weights.length;
    const P = this.model.params.length;
    return this.task.evaluate(range, () => {
      for (let c = 0; c < d; c++) this.theta[c] = theta[weights[c]];
      this.theta[d] = theta[bias];
    }, (sums, rows) => {
      const inv = 1 / rows;
      const grad = new Float64Array(P);
      for (let c = 0; c < d; c++) grad[weights[c]] = 2 * sums[c] * inv;
      grad[bias] = 2 * sums[d] * inv;
      return { loss: sums[d + 1] * inv, grad };
    }, this.partials);
  }

  async lossAndGradient(theta: ArrayLike<number>): Promise<ModelGradient> {
    this.task.live();
    validateFormulaTheta(this.model, theta, 'theta');
    return this.gradientOver(theta, { start: 0, rows: this.n });
  }

  async train(o: ModelTrainOptions): Promise<ModelTrainResult> {
    this.task.live();
    const rows = { ...this.resident, n: this.n, d: rowWidth(this.model) };
    return trainNamingStartRow(this.model, rows, this.start, o, () => runTraining(new CpuProgram(formulaSource(this.model, this.start, this.n, (theta, r) => this.gradientOver(theta, r))), o));
  }

  /** Gauss-Newton's sums over rows `range` (default all): a streamed fit loads each chunk into `resident` and sums its rows. */
  async normalEquations(theta: ArrayLike<number>, range: BatchRange = { start: 0, rows: this.n }): Promise<Float64Array> {
    this.task.live();
    validateFormulaTheta(this.model, theta, 'theta');
    if (!this.normal) {
      const program = normalEquationsProgram(this.model);
      const { x, y } = this.resident;
      let normalTheta: Float64Array | null = null;
      let partials: Float64Array | null = null;
      const task = new ShardedTask({ ...this.options, pool: this.task.pool, shards: this.task.shards }, (pool, shards) => {
        normalTheta = sharedFloat64(pool, program.params);
        partials = sharedFloat64(pool, shards * program.outputs.length);
        return { kind: 'formula', source: jsRowSumsSource(program), params: program.params, outputs: program.outputs.length, rowWidth: program.rowWidth, x, y, theta: normalTheta, partials };
      }, 'FastCpuFormulaEngine.normalEquations');
      this.normal = { task, theta: normalTheta!, partials: partials! };
    }
    const { task, theta: at, partials } = this.normal;
    return task.evaluate(range, () => at.set(theta), (sums) => Float64Array.from(sums), partials);
  }

  dispose(): void {
    this.normal?.task.dispose();
    this.normal = null;
    this.task.dispose();
  }
}

/**
 * A formula model over streamed rows (one pass per epoch, mini-batches inside chunks), as
 * trainModelStreamedOnCpu does for networks: one fast engine over a chunk's capacity takes every chunk into
 * its rows or, with options.reference, the float64 row sums evaluate each chunk. Each chunk's rows are
 * checked as it arrives (the loss's target rule, the weights); a bad row is named by its place in the stream.
 * finalGradient: also J and dJ/dθ over every row at the result, one more pass through the same evaluators.
 */
export async function trainFormulaStreamedOnCpu(
  model: FormulaModel, start: Float64Array, rows: RowStream, o: Omit<ModelTrainOptions, 'chunkRows'>,
  options: Omit<StreamedCpuOptions, 'kernels'> & FastCpuFormulaOptions & { finalGradient?: boolean } = {},
): Promise<{ result: ModelTrainResult; passes: number; final?: ModelGradient }> {
  rejectStreamChunkRows(o);
  rejectUnknownKeys(options, [...FORMULA_ENGINE_KEYS, 'reference', 'finalGradient'], 'trainFormulaStreamedOnCpu options', FORMULA_OPTION_REASONS);
  const { reference: _reference, finalGradient: _finalGradient, ...engineOptions } = options;
  if (rows.d !== rowWidth(model)) throw new RangeError(`stream: ${rows.d} columns per row, the model reads ${rowWidth(model)}`);
  const reference = options.reference ? compileRowSums(gradientProgram(model)) : null;
  const streamed = new StreamedGradients(rows, (chunk): ChunkEvaluator => {
    if (reference) return { gradient: (theta, r) => formulaGradient(reference, model, theta, chunk, r), dispose() {} };
    // Zeroed capacity rows satisfy every loss's target rule and the weights' (0 is a count, a label, a weight).
    const engine = new FastCpuFormulaEngine(model, capacityRows(rows, engineOptions), start, engineOptions);
    return reusing(engine, chunk, { gradient: (theta, r) => engine.gradientOver(theta, r), dispose: () => engine.dispose() });
  }, (chunk, firstRow) => validateFormulaData(model, chunk, firstRow));
  try {
    const result = await trainNamingStartRow(model, rows, start, o, () => runTraining(new CpuProgram(streamed.source(formulaRules(model, start))), { ...o, chunkRows: rows.chunkRows }));
    // An aborted run stops: no pass for the final gradient either.
    const final = options.finalGradient && result.stopReason !== 'aborted' ? await streamed.gradient(result.theta, { start: 0, rows: rows.n }) : undefined;
    return { result, passes: streamed.cursor.passes, ...(final && { final }) };
  } finally {
    await streamed.dispose();
  }
}
