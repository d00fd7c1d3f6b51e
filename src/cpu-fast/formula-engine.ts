// The fast CPU path for formula models: the FormulaEngine API over the generated row sums run on shards of
// float32 rows (formula-task.ts) by a ShardPool, trained by the one loop through the same CPU program as the
// float64 twin (src/cpu/formula-engine.ts). Each row's terms are the twin's to the bit (the same generated
// code on the same float32 values, summed in float64); only the order of the additions differs: per shard,
// then the shards in order, so a result is identical for every thread count. Environment-free: the caller
// brings the pool.
import { jsRowSumsSource, compileRowSums } from '../formula/emit-js.ts';
import type { FormulaModel } from '../formula/model.ts';
import { gradientProgram, normalEquationsProgram } from '../formula/program.ts';
import type { BatchRange } from '../models/batches.ts';
import type { ModelTrainOptions, ModelTrainResult } from '../models/model-engine.ts';
import { formulaRules, rowWidth, validateFormulaData, validateFormulaTheta, type FormulaData, type FormulaEngine } from '../models/formula.ts';
import type { RowStream } from '../models/row-stream.ts';
import { CpuProgram } from '../cpu/cpu-program.ts';
import { formulaGradient, formulaSource } from '../cpu/formula-engine.ts';
import type { ModelGradient } from '../cpu/mlp_gradient.ts';
import { StreamedGradients, type ChunkEvaluator } from '../cpu/streamed-source.ts';
import { runTraining } from '../train/loop.ts';
import { ShardedTask, type FastCpuOptions } from './fast-engines.ts';
import { shareArray, sharedFloat64 } from './pool.ts';
import type { TaskSpec } from './tasks.ts';
import { capacityRows, reusing, type StreamedCpuOptions } from './streamed-training.ts';

/** options.kernels does not apply: a formula's kernel is always its generated JavaScript. */
export class FastCpuFormulaEngine implements FormulaEngine {
  readonly device = 'cpu' as const;
  readonly adapter = null;
  readonly n: number;
  private readonly theta: Float64Array;
  private readonly partials: Float64Array;
  private readonly task: ShardedTask;

  /** start: the parameters a run begins from without init (startingParameters). */
  /** The curve fit's pass (normalEquations), made at its first use over the same shared rows. */
  private normal: { task: ShardedTask; theta: Float64Array; partials: Float64Array } | null = null;

  constructor(readonly model: FormulaModel, data: FormulaData, private readonly start: Float64Array, private readonly options: FastCpuOptions = {}) {
    validateFormulaData(model, data);
    validateFormulaTheta(model, start);
    this.n = data.n;
    const program = gradientProgram(model);
    const P = program.params;
    let theta: Float64Array | null = null;
    let partials: Float64Array | null = null;
    this.task = new ShardedTask(options, (pool, shards) => {
      theta = sharedFloat64(pool, P);
      partials = sharedFloat64(pool, shards * (P + 1));
      return {
        kind: 'formula', source: jsRowSumsSource(program), params: P, outputs: P + 1, rowWidth: program.rowWidth,
        x: shareArray(pool, data.x), y: shareArray(pool, data.y), theta, partials,
      };
    }, 'FastCpuFormulaEngine');
    this.theta = theta!;
    this.partials = partials!;
  }

  /** Threads computing shards. */
  get threads(): number {
    return this.task.pool.threads;
  }

  /** The rows this engine computes on, as the pool's threads see them: a streamed run copies each chunk into these. */
  get resident(): { x: Float32Array; y: Float32Array } {
    const spec = this.task.spec as TaskSpec & { kind: 'formula' };
    return { x: spec.x, y: spec.y };
  }

  /** Mean loss and gradient over rows range.start..range.start+range.rows (a batch, or a chunk's piece). */
  gradientOver(theta: ArrayLike<number>, range: BatchRange): Promise<ModelGradient> {
    const P = this.theta.length;
    return this.task.evaluate(range, () => this.theta.set(theta), (sums, rows) => {
      const inv = 1 / rows;
      const grad = new Float64Array(P);
      for (let j = 0; j < P; j++) grad[j] = sums[j] * inv;
      return { loss: sums[P] * inv, grad };
    }, this.partials);
  }

  async lossAndGradient(theta: ArrayLike<number>): Promise<ModelGradient> {
    this.task.live();
    validateFormulaTheta(this.model, theta);
    return this.gradientOver(theta, { start: 0, rows: this.n });
  }

  async train(o: ModelTrainOptions): Promise<ModelTrainResult> {
    this.task.live();
    return runTraining(new CpuProgram(formulaSource(this.model, this.start, this.n, (theta, r) => this.gradientOver(theta, r))), o);
  }

  /** Gauss-Newton's sums over rows `range` (default all): a streamed fit loads each chunk into `resident` and sums its rows. */
  async normalEquations(theta: ArrayLike<number>, range: BatchRange = { start: 0, rows: this.n }): Promise<Float64Array> {
    this.task.live();
    validateFormulaTheta(this.model, theta);
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
 * checked as it arrives (the loss's target rule, the weights); a bad row is named by its place in its chunk.
 */
export async function trainFormulaStreamedOnCpu(
  model: FormulaModel, start: Float64Array, rows: RowStream, o: Omit<ModelTrainOptions, 'chunkRows'>, options: StreamedCpuOptions = {},
): Promise<{ result: ModelTrainResult; passes: number }> {
  if (rows.d !== rowWidth(model)) throw new RangeError(`stream: ${rows.d} columns per row, the model reads ${rowWidth(model)}`);
  const reference = options.reference ? compileRowSums(gradientProgram(model)) : null;
  const streamed = new StreamedGradients(rows, (chunk): ChunkEvaluator => {
    validateFormulaData(model, chunk);
    if (reference) return { gradient: (theta, r) => formulaGradient(reference, model, theta, chunk, r), dispose() {} };
    // Zeroed capacity rows satisfy every loss's target rule and the weights' (0 is a count, a label, a weight).
    const engine = new FastCpuFormulaEngine(model, capacityRows(rows, options), start, options);
    const on = reusing(engine, chunk, { gradient: (theta, r) => engine.gradientOver(theta, r), dispose: () => engine.dispose() });
    return {
      ...on,
      load: (next) => {
        validateFormulaData(model, next);
        on.load!(next);
      },
    };
  });
  try {
    const result = await runTraining(new CpuProgram(streamed.source(formulaRules(model, start))), { ...o, chunkRows: rows.chunkRows });
    return { result, passes: streamed.cursor.passes };
  } finally {
    await streamed.dispose();
  }
}
