// A data file for a formula model: which of the formula's names are columns, then the rows (features, then
// the weights column; the formula's target), through the same sources as every other command, so that every
// format, the --on-invalid policy and the errors naming file, line/row and column are the same. A row that a
// check refuses after reading (the loss's target rule, a model not finite at the start) is named by its line
// (CSV) or row in the file, found by reading the file again up to it.
import { openSource, readAllChunks } from '../data/source.ts';
import { columnList, DataError, formatDataError, MissingColumnError, type DataErrorLocation } from '../data/errors.ts';
import { placeOfKeptRow } from './row-place.ts';
import { selectLinearData, type InvalidPolicy } from '../data/select.ts';
import { readTable } from '../data/table-file.ts';
import { sym } from '../formula/ast.ts';
import { compileFormula, type FormulaModel, type FormulaSpec } from '../formula/model.ts';
import { parseModel } from '../formula/parse.ts';
import { describeNonFinite, firstNonFiniteRow, formulaColumns, rowValues, validateFormulaData, type FormulaData, type NonFiniteRow } from '../models/formula.ts';
import { UsageError } from './args.ts';
import { formulaFlagError } from './formula-args.ts';

export interface FormulaRows {
  data: FormulaData;
  rows: number;
  droppedRows: number;
}

/** The target the formula names (left of "~"); the formula's syntax was checked by args.ts. */
export function formulaTarget(formula: string): string {
  return parseModel(formula, { macros: { linear: () => sym('linear') } }).target;
}

export const noSuchColumn = (e: unknown, name: string): e is MissingColumnError => e instanceof MissingColumnError && e.column === name;

/** The reader calls every column it is asked for a feature; this one holds the row weights of J's weighted mean. */
export function noWeightsColumn(e: MissingColumnError, why = ''): DataError {
  return new DataError(`no such weights column; the columns are ${columnList(e.columns)}${why}`, { ...(e.file !== undefined && { file: e.file }), column: e.column });
}

/**
 * The formula compiled against the file's columns. The numeric columns are what the file's reader finds
 * (the first rows of a CSV); a name the formula needs that is not among them but is a column of the file
 * (text further down, empty at the top) is read as a column all the same, so that its bad cell is reported
 * by line and column rather than the name becoming a parameter without a starting value.
 */
export async function compileForFile(path: string, spec: FormulaSpec, start: Readonly<Record<string, number>>, invalid: InvalidPolicy): Promise<FormulaModel> {
  const target = formulaTarget(spec.formula);
  let numeric: string[] = [];
  try {
    numeric = (await openSource(path, { target, invalid })).features;
  } catch (e) {
    // A file whose only other columns are text: the formula's columns may still be among them.
    if (!(e instanceof DataError && e.detail.startsWith('no numeric feature columns'))) throw e;
  }
  const columns = [...numeric, target];
  if (spec.weights) {
    try {
      await openSource(path, { target, features: [spec.weights], invalid });
    } catch (e) {
      throw noSuchColumn(e, spec.weights) ? new UsageError(`--weights: ${noWeightsColumn(e).message}`) : e;
    }
    if (!columns.includes(spec.weights)) columns.push(spec.weights);
  }
  let model = compile(spec, columns);
  const unnamed = model.params.filter((p) => !Object.hasOwn(start, p) && !Object.hasOwn(model.defaults, p));
  const more: string[] = [];
  for (const name of unnamed) {
    try {
      await openSource(path, { target, features: [name], invalid });
      more.push(name);
    } catch (e) {
      if (!noSuchColumn(e, name)) throw e;
    }
  }
  if (more.length > 0) model = compile(spec, [...columns, ...more]);
  return model;
}

export function compile(spec: FormulaSpec, columns: readonly string[]): FormulaModel {
  try {
    const model = compileFormula(spec, { columns });
    if (spec.weights && spec.weights === model.target) throw new UsageError(`--weights: ${spec.weights} is the formula's target`);
    return model;
  } catch (e) {
    throw formulaFlagError('formula', e);
  }
}

/**
 * The model's rows: features then the weights column, and the target (withTarget: false for predict, which
 * reads the features alone and predicts through a model compiled without weights).
 */
export async function readFormulaRows(path: string, model: FormulaModel, invalid: InvalidPolicy, withTarget = true): Promise<FormulaRows> {
  const features = withTarget ? formulaColumns(model) : [...model.features];
  if (features.length === 0 && withTarget) {
    // A model of parameters alone (y ~ exp(a)): the sources read at least one feature, so the target is read as one.
    const all = await readAllChunks(await openSource(path, { target: null, features: [model.target], invalid }));
    return { data: { x: new Float32Array(0), y: all.x, n: all.n, d: 0 }, rows: all.n, droppedRows: all.droppedRows };
  }
  if (features.length === 0) throw new UsageError(`the formula "${model.spec.formula}" reads no column: its prediction is the same for every row`);
  const source = await openSource(path, { target: withTarget ? model.target : null, features, invalid });
  const all = await readAllChunks(source);
  return { data: { x: all.x, y: all.y, n: all.n, d: all.d }, rows: all.n, droppedRows: all.droppedRows };
}

/**
 * The rows in float64 where the file holds text (CSV, JSON): what the float64 twin's curve fit reads, so that
 * --device cpu64 fits the data as written, not rounded to float32. Other formats are read as readFormulaRows does.
 */
export async function readFormulaRowsFloat64(path: string, model: FormulaModel, invalid: InvalidPolicy): Promise<FormulaRows64> {
  const lower = path.toLowerCase().split(/[?#]/)[0];
  const text = /\.(csv|json|txt|tsv)$/.test(lower) && !/^https?:/.test(lower) && formulaColumns(model).length > 0;
  if (!text) return readFormulaRows(path, model, invalid);
  const table = await readTable(path);
  const selected = selectLinearData(table, { target: model.target, features: formulaColumns(model), invalid, float64: true });
  return { data: selected.data, rows: selected.rows, droppedRows: selected.droppedRows };
}

/** Rows whose arrays may be Float64Array (read only by index, by the generated row sums). */
export type FormulaRows64 = Omit<FormulaRows, 'data'> & { data: { x: ArrayLike<number>; y: ArrayLike<number>; n: number; d: number } };

/** Where kept row `row` (0-based) of the model's columns lies in the file (row-place.ts). */
export function placeOfRow(path: string, model: FormulaModel, invalid: InvalidPolicy, row: number): Promise<DataErrorLocation> {
  const columns = formulaColumns(model);
  return placeOfKeptRow(path, columns.length > 0 ? { target: model.target, features: columns, invalid } : { target: null, features: [model.target], invalid }, row);
}

/** Every row's weight is 0 (rowsThatCount is 0): J and its gradient are 0 whatever the parameters, so there is nothing to fit. */
export function zeroWeightsError(path: string, model: FormulaModel): DataError {
  return new DataError(`every row's weight in column "${model.spec.weights}" is 0: the loss is 0 whatever the parameters, so there is nothing to fit`, { file: path, column: model.spec.weights! });
}

/**
 * The checks before training: the loss's target rule and the weights, then a model finite on every row at
 * theta. `offset`: the kept rows before `data` (a stream checks chunk by chunk).
 */
export async function checkFormulaRows(path: string, model: FormulaModel, invalid: InvalidPolicy, data: FormulaData, theta: Float64Array, at: string, offset = 0): Promise<void> {
  try {
    validateFormulaData(model, data);
  } catch (e) {
    // validateFormulaData names the row within data (1-based); the file's line is more use to someone editing it.
    const m = e instanceof RangeError ? / in row (\d+)/.exec(e.message) : null;
    if (!m) throw e;
    const row = offset + Number(m[1]) - 1;
    const where = await placeOfRow(path, model, invalid, row);
    throw new DataError((e as Error).message.replace(/^dataset: /, '').replace(m[0], ` in kept row ${row + 1}`), where);
  }
  const bad = firstNonFiniteRow(model, theta, data);
  if (!bad) return;
  throw new DataError(
    `${nonFiniteRowText(model, data, theta, bad, offset, at)}: ` +
    'check the starting values (--start) and where the formula is defined (a log of a negative, a division by zero)',
    await placeOfRow(path, model, invalid, offset + bad.row),
  );
}

/**
 * Where training went wrong, for its message: at the parameters it stepped to (divergedTheta), the first row
 * where the model, the loss or a slope is not finite, with the file's line ("data.csv line 7: the model is not
 * finite on kept row 6 at the parameters of epoch 3 (…)"); null where every row is finite there (the loss
 * exploded instead) or the program did not keep those parameters.
 */
export async function divergenceRow(path: string, model: FormulaModel, invalid: InvalidPolicy, data: FormulaData, divergedTheta: ArrayLike<number> | undefined, at: string): Promise<string | null> {
  if (!divergedTheta) return null;
  const bad = firstNonFiniteRow(model, divergedTheta, data);
  if (!bad) return null;
  return formatDataError(nonFiniteRowText(model, data, divergedTheta, bad, 0, at), await placeOfRow(path, model, invalid, bad.row));
}

/** "the model is not finite on kept row R at AT (yhat = …, loss = …; the row's columns, the parameters)". */
export function nonFiniteRowText(model: FormulaModel, data: FormulaData, theta: ArrayLike<number>, bad: NonFiniteRow, offset: number, at: string): string {
  const params = model.params.map((p, j) => `${p} = ${theta[j]}`);
  const { what, values } = describeNonFinite(bad);
  return `${what} is not finite on kept row ${offset + bad.row + 1} at ${at} (${values}; ${[...rowValues(model, data, bad.row), ...params].join(', ')})`;
}
