// The float64 twin of every formula model: the generated row-sum function (src/formula/emit-js.ts) summed
// over rows one at a time in float64, the reference the GPU kernel and the fast CPU path are tested against.
// Training runs the one loop (src/train/loop.ts) through the CPU program.
import type { FormulaModel } from '../formula/model.ts';
import type { RowSums } from '../formula/emit-js.ts';
import type { BatchRange } from '../models/batches.ts';
import type { ModelTrainOptions, ModelTrainResult } from '../models/model-engine.ts';
import { compileRowSums } from '../formula/emit-js.ts';
import { normalEquationsProgram } from '../formula/program.ts';
import { formulaRowSums, formulaRules, trainNamingStartRow, validateFormulaData, validateFormulaTheta, type FormulaData, type FormulaEngine } from '../models/formula.ts';
import { runTraining } from '../train/loop.ts';
import { CpuProgram, type CpuGradientSource } from './cpu-program.ts';
import type { ModelGradient } from './mlp_gradient.ts';

/** Mean loss and gradient of rows range of data, from the row sums. */
export function formulaGradient(sums: RowSums, m: FormulaModel, theta: ArrayLike<number>, data: FormulaData, range: BatchRange): ModelGradient {
  const P = m.params.length;
  const out = new Float64Array(P + 1);
  sums(theta, data.x, data.y, range.start, range.start + range.rows, out);
  const inv = 1 / range.rows;
  const grad = new Float64Array(P);
  for (let j = 0; j < P; j++) grad[j] = out[j] * inv;
  return { loss: out[P] * inv, grad };
}

/** A formula model as a gradient source of the CPU program (in-memory rows or one streamed chunk). */
export function formulaSource(m: FormulaModel, start: Float64Array, n: number, gradient: CpuGradientSource['gradient']): CpuGradientSource {
  return { ...formulaRules(m, start), n, gradient };
}

export class CpuFormulaEngine implements FormulaEngine {
  readonly device = 'cpu' as const;
  readonly adapter = null;
  readonly n: number;
  private data: FormulaData | null;
  private readonly sums: RowSums;
  private normal: RowSums | null = null;

  /** start: the parameters a run begins from without init (startingParameters). */
  constructor(readonly model: FormulaModel, data: FormulaData, private readonly start: Float64Array) {
    validateFormulaData(model, data);
    validateFormulaTheta(model, start, 'start');
    this.data = data;
    this.n = data.n;
    this.sums = formulaRowSums(model);
  }

  private live(): FormulaData {
    if (!this.data) throw new Error('CpuFormulaEngine: used after dispose()');
    return this.data;
  }

  async lossAndGradient(theta: ArrayLike<number>): Promise<ModelGradient> {
    validateFormulaTheta(this.model, theta, 'theta');
    return formulaGradient(this.sums, this.model, theta, this.live(), { start: 0, rows: this.n });
  }

  train(o: ModelTrainOptions): Promise<ModelTrainResult> {
    const data = this.live();
    // Each update asks for the rows again: an engine disposed during a run stops it, as the fast engine does.
    return trainNamingStartRow(this.model, data, this.start, o, () => runTraining(new CpuProgram(formulaSource(this.model, this.start, this.n, (theta, r) => formulaGradient(this.sums, this.model, theta, this.live(), r))), o));
  }

  async normalEquations(theta: ArrayLike<number>): Promise<Float64Array> {
    validateFormulaTheta(this.model, theta, 'theta');
    const program = normalEquationsProgram(this.model);
    this.normal ??= compileRowSums(program);
    const out = new Float64Array(program.outputs.length);
    this.normal(theta, this.live().x, this.live().y, 0, this.n, out);
    return out;
  }

  dispose(): void {
    this.data = null;
  }
}
