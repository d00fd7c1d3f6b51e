// A formula model (src/formula/) as a model the one training loop trains: its data layout, its rules
// (starting parameters, checks, weight decay) and the checks that run on the data before any training.
// Every backend's formula engine (float64 twin, fast CPU, GPU) implements FormulaEngine.
import type { FormulaModel } from '../formula/model.ts';
import { compileRowSums, type RowSums } from '../formula/emit-js.ts';
import { gradientProgram, predictionProgram } from '../formula/program.ts';
import type { ModelRules } from './rules.ts';
import { StartDivergenceError, type ModelTrainOptions, type ModelTrainResult } from './model-engine.ts';
import { checkedPass, type RowStream } from './row-stream.ts';
import { float32Text } from '../core/float32.ts';

/**
 * Rows of a formula model: x is n x d row-major float32 with d = the model's features then, when the model
 * has row weights, the weight (SampleProgram.rowWidth); y the target.
 */
export interface FormulaData {
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly n: number;
  readonly d: number;
}

export interface FormulaEngine {
  readonly device: 'gpu' | 'cpu';
  readonly adapter: string | null;
  readonly model: FormulaModel;
  readonly n: number;
  /** J = (1/N) Σ w_i ℓ_i and dJ/dθ (theta in model.params order). */
  lossAndGradient(theta: ArrayLike<number>): Promise<{ loss: number; grad: Float64Array }>;
  train(options: ModelTrainOptions): Promise<ModelTrainResult>;
  /**
   * One pass of Gauss-Newton's sums at theta over every row (normalEquationsProgram: JᵀWJ's upper triangle,
   * JᵀWr, Σ w r²), not divided by N: what Levenberg-Marquardt (src/fit/) needs per trial point.
   */
  normalEquations(theta: ArrayLike<number>): Promise<Float64Array>;
  dispose(): void;
}

/** The data's columns for a model: its features, then its weights column. */
export function formulaColumns(m: FormulaModel): string[] {
  return [...m.features, ...(m.spec.weights ? [m.spec.weights] : [])];
}

export function rowWidth(m: FormulaModel): number {
  return m.features.length + (m.spec.weights ? 1 : 0);
}

/** The model argument is what compileFormula gives (checked first: every other check reads it). */
function requireFormulaModel(m: FormulaModel): void {
  if (typeof m !== 'object' || m === null || !Array.isArray(m.params) || !Array.isArray(m.features)) {
    throw new TypeError(`model: expected a compiled formula model (from compileFormula), got ${m === null ? 'null' : typeof m === 'object' ? 'an object without params and features' : typeof m}`);
  }
}

/**
 * Shape and target checks: the loss's target rule (counts, labels) and non-negative finite weights, naming the
 * first bad row (1-based); firstRow: the place of data's first row in the whole dataset (a chunk of a stream).
 */
export function validateFormulaData(m: FormulaModel, data: FormulaData, firstRow = 0): void {
  requireFormulaModel(m);
  if (typeof data !== 'object' || data === null) throw new TypeError(`data: expected the rows as { n, d, x, y }, got ${data === null ? 'null' : typeof data}`);
  const { n, d, x, y } = data;
  for (const [name, values] of [['x', x], ['y', y]] as const) {
    if (!ArrayBuffer.isView(values)) throw new TypeError(`data: ${name}: expected a Float32Array, got ${values === null ? 'null' : typeof values}`);
  }
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`dataset: need at least one sample, got n = ${n}`);
  if (d !== rowWidth(m)) throw new RangeError(`dataset: ${d} columns per row, the model reads ${rowWidth(m)} (${formulaColumns(m).join(', ')})`);
  if (x.length !== n * d) throw new RangeError(`dataset: x has ${x.length} values, expected n * d = ${n * d}`);
  if (y.length !== n) throw new RangeError(`dataset: y has ${y.length} values, expected n = ${n}`);
  for (let i = 0; i < n; i++) {
    const bad = m.loss.checkTarget(y[i]);
    if (bad) throw new RangeError(`dataset: the ${m.loss.name} loss cannot use target ${m.target} = ${y[i]} in row ${firstRow + i + 1}: ${bad}`);
  }
  if (m.spec.weights) {
    const k = m.features.length;
    for (let i = 0; i < n; i++) {
      const w = x[i * d + k];
      if (!(Number.isFinite(w) && w >= 0)) throw new RangeError(`dataset: weight ${m.spec.weights} = ${w} in row ${firstRow + i + 1} (expected a finite number >= 0)`);
    }
  }
}

/** `argument` names theta in the error (start, theta); a model's own check says "parameters". */
export function validateFormulaTheta(m: FormulaModel, theta: ArrayLike<number>, argument = 'parameters'): void {
  requireFormulaModel(m);
  if (typeof theta !== 'object' || theta === null || typeof theta.length !== 'number') {
    throw new TypeError(`${argument}: expected the ${m.params.length} parameter values (${m.params.join(', ')}) as a Float64Array or an array, got ${theta === null ? 'null' : typeof theta}`);
  }
  if (theta.length !== m.params.length) throw new RangeError(`${argument}: expected ${m.params.length} values (${m.params.join(', ')}), got ${theta.length}`);
  for (let j = 0; j < theta.length; j++) {
    if (!Number.isFinite(theta[j])) throw new RangeError(`${argument}: ${m.params[j]} = ${theta[j]} is not a finite number`);
  }
}

/**
 * The formula's rules for every backend's program; `start` is where a run begins without init
 * (startingParameters). Weight decay applies to every parameter but linear(...)'s biases.
 */
export function formulaRules(m: FormulaModel, start: Float64Array): ModelRules {
  return {
    initialParameters: () => Float64Array.from(start),
    validateTheta: (theta) => validateFormulaTheta(m, theta),
    ...(m.biases.length > 0 && { decayMask: m.params.map((p) => (m.biases.includes(p) ? 0 : 1)) }),
  };
}

/** Where a formula is not finite: the row (0-based), its yhat and loss, and the partials that are not finite. */
export interface NonFiniteRow {
  row: number;
  yhat: number;
  loss: number;
  /** Parameter name → ∂ℓ/∂θ on that row, for those that are not finite (a loss can be finite where a slope is not). */
  partials: Record<string, number>;
}

/**
 * The first row (0-based) where the model's value, the loss or a partial derivative is not finite at theta, or
 * null: a formula that is undefined on some row (log of a negative, division by zero) is reported by its row.
 */
export function firstNonFiniteRow(m: FormulaModel, theta: ArrayLike<number>, data: FormulaData): NonFiniteRow | null {
  return nonFiniteRowFinder(m)(theta, data);
}

function nonFiniteRowFinder(m: FormulaModel): (theta: ArrayLike<number>, data: FormulaData) => NonFiniteRow | null {
  const predict = compileRowSums(predictionProgram(m));
  const gradient = compileRowSums(gradientProgram(m));
  const P = m.params.length;
  const one = new Float64Array(1);
  const all = new Float64Array(P + 1);
  return (theta, data) => {
    for (let i = 0; i < data.n; i++) {
      one[0] = 0;
      all.fill(0);
      predict(theta, data.x, data.y, i, i + 1, one);
      gradient(theta, data.x, data.y, i, i + 1, all);
      if (!all.every(Number.isFinite) || !Number.isFinite(one[0])) {
        const partials: Record<string, number> = {};
        m.params.forEach((p, j) => {
          if (!Number.isFinite(all[j])) partials[p] = all[j];
        });
        return { row: i, yhat: one[0], loss: all[P], partials };
      }
    }
    return null;
  };
}

/**
 * firstNonFiniteRow over a stream: one pass, chunk by chunk, stopped at the first such row. `row` counts from
 * the stream's first row, and `values` are the row's (rowValues), read before its chunk is recycled.
 */
export async function firstNonFiniteStreamRow(m: FormulaModel, theta: ArrayLike<number>, stream: RowStream): Promise<(NonFiniteRow & { values: string[] }) | null> {
  const find = nonFiniteRowFinder(m);
  let first = 0;
  for await (const chunk of checkedPass(stream)) {
    try {
      const data = { x: chunk.x, y: chunk.y, n: chunk.rows, d: stream.d };
      const bad = find(theta, data);
      if (bad) return { ...bad, row: first + bad.row, values: rowValues(m, data, bad.row) };
      first += chunk.rows;
    } finally {
      chunk.recycle?.();
    }
  }
  return null;
}

/** For a message: what is not finite (the model, or only the gradient) and the row's values ("yhat = …, loss = …, ∂ℓ/∂p = NaN"). */
export function describeNonFinite(bad: NonFiniteRow): { what: string; values: string } {
  const slopes = Object.entries(bad.partials).map(([p, v]) => `∂ℓ/∂${p} = ${v}`);
  const whole = Number.isFinite(bad.yhat) && Number.isFinite(bad.loss);
  return { what: whole ? 'the gradient' : 'the model', values: [`yhat = ${bad.yhat}`, `loss = ${bad.loss}`, ...slopes].join(', ') };
}

/** A row's values as a message shows them: "x = 1, w = 2, y = 0" (the model's columns, then its target). */
export function rowValues(m: FormulaModel, data: FormulaData, row: number): string[] {
  return [...formulaColumns(m).map((c, k) => `${c} = ${float32Text(data.x[row * data.d + k])}`), `${m.target} = ${float32Text(data.y[row])}`];
}

/**
 * A formula engine's training run whose start is not finite names the first row where the formula is not (a
 * StartDivergenceError with `where`), at the parameters the run started from: rows in memory, or a stream,
 * which is read once more for it (only when the start has failed). Where float64 finds every row finite,
 * `beyondFloat64` (a float32 engine's) may say what the engine's own arithmetic could not hold.
 */
export async function trainNamingStartRow(
  m: FormulaModel, rows: FormulaData | RowStream, start: ArrayLike<number>, o: ModelTrainOptions, run: () => Promise<ModelTrainResult>,
  beyondFloat64?: (theta: ArrayLike<number>) => Promise<string | null>,
): Promise<ModelTrainResult> {
  try {
    return await run();
  } catch (e) {
    if (!(e instanceof StartDivergenceError) || e.where) throw e;
    const theta = o.resumeFrom?.theta ?? o.init ?? start;
    let bad: (NonFiniteRow & { values: string[] }) | null;
    if ('pass' in rows) bad = await firstNonFiniteStreamRow(m, theta, rows);
    else {
      const found = firstNonFiniteRow(m, theta, rows);
      bad = found && { ...found, values: rowValues(m, rows, found.row) };
    }
    if (!bad) {
      const other = await beyondFloat64?.(theta);
      if (other) throw new StartDivergenceError(e.update, e.loss, e.gradNorm, other);
      throw e;
    }
    const { what, values } = describeNonFinite(bad);
    throw new StartDivergenceError(e.update, e.loss, e.gradNorm, `${what} is not finite on row ${bad.row + 1} (${values}; ${bad.values.join(', ')})`);
  }
}

/**
 * The rows a fit's degrees of freedom count: with row weights, those of positive weight (a weight-0 row counts
 * for nothing, as in R's lm and nls); else every row.
 */
export function rowsThatCount(m: FormulaModel, data: FormulaData): number {
  if (!m.spec.weights) return data.n;
  const k = m.features.length;
  let counted = 0;
  for (let i = 0; i < data.n; i++) if (data.x[i * data.d + k] > 0) counted++;
  return counted;
}

/** Row sums of the gradient program: (Σ w ∂ℓ/∂θ_0 .. Σ w ∂ℓ/∂θ_{P-1}, Σ w ℓ). */
export function formulaRowSums(m: FormulaModel): RowSums {
  return compileRowSums(gradientProgram(m));
}

/**
 * yhat for every row. x holds the model's features (d = m.features.length) or, as the engines read it, the
 * features then the weights column (d = rowWidth(m)): row weights do not change yhat. y is not read: rows to
 * predict need no target.
 */
export function formulaPredict(m: FormulaModel, theta: ArrayLike<number>, data: Omit<FormulaData, 'y'> & { readonly y?: Float32Array }): Float64Array {
  validateFormulaTheta(m, theta);
  if (typeof data !== 'object' || data === null) throw new TypeError(`data: expected the rows as { n, d, x }, got ${data === null ? 'null' : typeof data}`);
  const { n, d, x } = data;
  if (!ArrayBuffer.isView(x)) throw new TypeError(`data: x: expected a Float32Array, got ${x === null ? 'null' : typeof x}`);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`dataset: n = ${n} is not a count of rows`);
  if (d !== m.features.length && d !== rowWidth(m)) {
    const weighted = m.spec.weights ? ` or ${rowWidth(m)} (then its weights column ${m.spec.weights})` : '';
    throw new RangeError(`dataset: d = ${d} columns per row; the model reads ${m.features.length} (${m.features.join(', ')})${weighted}`);
  }
  if (x.length !== n * d) throw new RangeError(`dataset: x has ${x.length} values, expected n * d = ${n * d}`);
  // The prediction reads the features alone: rows d apart, whatever follows them.
  const predict = compileRowSums({ ...predictionProgram(m), rowWidth: d });
  const out = new Float64Array(data.n);
  const one = new Float64Array(1);
  const noTargets = new Float32Array(0); // the generated row code reads y[i] whether or not it uses it
  for (let i = 0; i < data.n; i++) {
    one[0] = 0;
    predict(theta, data.x, data.y ?? noTargets, i, i + 1, one);
    out[i] = one[0];
  }
  return out;
}
