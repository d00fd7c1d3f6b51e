// Rows for a formula model: generated from the model itself at chosen "true" parameters plus Gaussian
// noise (so that training can be checked against the truth), or selected from the user's CSV/JSON through
// the same parser and checks as the linear mode and the CLI.
import type { FormulaModel } from '../../formula/model.ts';
import { seededUniform } from '../../data/shuffle.ts';
import { selectLinearData, type SelectedData } from '../../data/select.ts';
import type { Table } from '../../data/table.ts';
import { compileRowSums } from '../../formula/emit-js.ts';
import { gradientProgram, predictionProgram } from '../../formula/program.ts';
import { describeNonFinite, firstNonFiniteRow, formulaPredict, rowValues, type FormulaData } from '../../models/formula.ts';
import type { ParsedFile } from '../data.ts';
import { FLOAT32_MAX } from '../../core/float32.ts';

export interface FormulaDataset {
  label: string;
  data: FormulaData;
  /** The generating parameters (model.params order), for generated data. */
  truth: Float64Array | null;
}

export interface GenerateSpec {
  n: number;
  lo: number;
  hi: number;
  noise: number;
  truth: Float64Array;
  seed: number;
}

/** Every feature uniform in [lo, hi); y = the model at truth + noise·N(0, 1) (Box-Muller), seeded. */
export function generateFormulaData(m: FormulaModel, g: GenerateSpec): FormulaDataset {
  const d = m.features.length;
  const rand = seededUniform(g.seed);
  const x = new Float32Array(g.n * d);
  for (let i = 0; i < x.length; i++) x[i] = g.lo + (g.hi - g.lo) * rand();
  const y = new Float32Array(g.n);
  const clean = formulaPredict(m, g.truth, { x, y, n: g.n, d });
  for (let i = 0; i < g.n; i++) {
    if (!Number.isFinite(clean[i])) {
      const at = m.features.map((f, k) => `${f} = ${x[i * d + k]}`).join(', ');
      throw new RangeError(`the model is not finite at the true parameters where ${at || 'it is evaluated'}: choose other values or another range`);
    }
    const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    y[i] = clean[i] + g.noise * z;
  }
  const truthText = m.params.map((p, j) => `${p} = ${g.truth[j]}`).join(', ');
  const range = d ? `${m.features.join(', ')} uniform in [${g.lo}, ${g.hi}), ` : '';
  return {
    label: `generated: ${range}${m.target} = the model at ${truthText} + noise (σ = ${g.noise}), N = ${g.n}`,
    data: { x, y, n: g.n, d },
    truth: g.truth,
  };
}

/** The model's feature columns and its target from a parsed file; throws DataError like the CLI. */
export function selectFormulaData(m: FormulaModel, parsed: ParsedFile): FormulaDataset {
  const { table } = parsed;
  const d = m.features.length;
  const sel = d === 0 ? selectTargetOnly(m, table) : selectLinearData(table, { target: m.target, features: [...m.features] });
  const dropped = sel.droppedRows ? `, ${sel.droppedRows} row${sel.droppedRows === 1 ? '' : 's'} with missing values dropped` : '';
  const from = d ? `from ${m.features.join(', ')}` : `alone (the model reads no other column: ${m.params.join(', ')} ${m.params.length === 1 ? 'is a parameter' : 'are parameters'})`;
  return {
    label: `${table.file}: ${m.target} ${from} (N = ${sel.rows}${dropped})`,
    data: { x: d === 0 ? new Float32Array(0) : sel.data.x, y: sel.data.y, n: sel.rows, d },
    truth: null,
  };
}

/**
 * A model of parameters alone (y ~ c: the fit is the mean, or the loss's own minimiser) reads the target
 * and nothing else, as the CLI does. The table reader selects at least one feature, so the target is
 * selected beside a carrier column of zeros that the file does not have: its cells are checked and its
 * rows dropped exactly as beside features, and every message names the target.
 */
function selectTargetOnly(m: FormulaModel, table: Table): SelectedData {
  let carrier = '(no column)';
  while (table.columns.includes(carrier)) carrier += "'";
  const width = table.columns.length;
  const view: Table = {
    file: table.file, columns: [...table.columns, carrier], rowCount: table.rowCount,
    cell: (row, col) => (col === width ? 0 : table.cell(row, col)),
    lineOf: (row) => table.lineOf(row),
  };
  return selectLinearData(view, { target: m.target, features: [carrier] });
}

/**
 * Why training cannot start from `start`, where the engine found J = loss and ∇J = grad: J or a partial is
 * not finite. The first row where the model, the loss or a slope is not (found by the float64 twin) is named
 * with its values; null when all is finite.
 */
export function startNotFinite(m: FormulaModel, start: Float64Array, data: FormulaData, loss: number, grad: ArrayLike<number>): string | null {
  const badPartial = Array.prototype.findIndex.call(grad, (g: number) => !Number.isFinite(g));
  if (Number.isFinite(loss) && badPartial < 0) return null;
  const what = Number.isFinite(loss) ? `∂J/∂${m.params[badPartial]} is not finite at the starting values` : `J is not finite at the starting values (J = ${loss})`;
  const bad = firstNonFiniteRow(m, start, data);
  let where = '';
  if (bad) {
    where = `: first at row ${bad.row + 1} of the data (${rowValues(m, data, bad.row).join(', ')}), where ${describeNonFinite(bad).values}`;
  }
  return `${what}${where}. Change the starting values (or the formula or the loss) to train.`;
}

/**
 * Why the GPU cannot start from `start` though float64 can: a row's model value, loss or slope, or the
 * rows' summed loss or slope, lies beyond float32's range, so the kernel's J or ∇J would be Infinity or NaN.
 * The twin evaluates at the parameters rounded to float32, as the kernel holds them. null when all fits.
 * (A value that overflows only inside the formula and comes back within range is not seen here.)
 */
export function startNotFiniteInFloat32(m: FormulaModel, start: Float64Array, data: FormulaData): string | null {
  const predict = compileRowSums(predictionProgram(m));
  const gradient = compileRowSums(gradientProgram(m));
  const theta = Float64Array.from(start, (v) => Math.fround(v));
  const P = m.params.length;
  const yhat = new Float64Array(1);
  const row = new Float64Array(P + 1);
  const total = new Float64Array(P + 1);
  const names = [...m.params.map((p) => `∂ℓ/∂${p}`), 'loss'];
  const tooLarge = (v: number) => Number.isFinite(v) && Math.abs(v) > FLOAT32_MAX;
  const advice = 'Change the starting values (or the formula or the loss) to train on the GPU.';
  for (let i = 0; i < data.n; i++) {
    yhat[0] = 0;
    row.fill(0);
    predict(theta, data.x, data.y, i, i + 1, yhat);
    gradient(theta, data.x, data.y, i, i + 1, row);
    const over = [yhat[0], ...row].flatMap((v, k) => (tooLarge(v) ? [k] : []));
    if (over.length > 0) {
      const label = (k: number) => (k === 0 ? 'yhat' : names[k - 1]);
      // J when the model or the loss is beyond; else the first slope that is.
      const what = over.includes(0) || over.includes(P + 1) ? 'J is' : `∂J/∂${m.params[over[0] - 1]} is`;
      const values = over.map((k) => `${label(k)} = ${(k === 0 ? yhat[0] : row[k - 1]).toPrecision(4)}`).join(', ');
      return `${what} not finite in float32 at the starting values: row ${i + 1} of the data (${rowValues(m, data, i).join(', ')}) has ` +
        `${values}, beyond float32's largest value (${FLOAT32_MAX.toPrecision(4)}), which the GPU computes in. ${advice}`;
    }
    for (let k = 0; k <= P; k++) total[k] += row[k];
  }
  const k = total.findIndex(tooLarge);
  if (k < 0) return null;
  const what = k === P ? 'J is' : `∂J/∂${m.params[k]} is`;
  return `${what} not finite in float32 at the starting values: every row's ${names[k]} is within float32's range, but their sum over the ${data.n} rows (${total[k].toPrecision(4)}) ` +
    `is beyond float32's largest value (${FLOAT32_MAX.toPrecision(4)}), which the GPU sums in. ${advice}`;
}
