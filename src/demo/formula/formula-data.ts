// Rows for a formula model: generated from the model itself at chosen "true" parameters plus Gaussian
// noise (so that training can be checked against the truth), or selected from the user's CSV/JSON through
// the same parser and checks as the linear mode and the CLI.
import type { FormulaModel } from '../../formula/model.ts';
import { seededUniform } from '../../data/shuffle.ts';
import { selectLinearData, type SelectedData } from '../../data/select.ts';
import type { Table } from '../../data/table.ts';
import { describeNonFinite, firstNonFiniteRow, formulaPredict, rowValues, type FormulaData } from '../../models/formula.ts';
import type { ParsedFile } from '../data.ts';
import { float32Problem } from '../../models/formula-float32.ts';

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
 * Why the GPU cannot start from `start` though float64 can (a parameter, a row's value or the rows' sum beyond
 * float32's range, which the kernel computes in), over every row; null when all fits.
 */
export function startNotFiniteInFloat32(m: FormulaModel, start: Float64Array, data: FormulaData): string | null {
  const problem = float32Problem(m, start, data);
  return problem && `The GPU computes in float32, and at the starting values ${problem}. Change the starting values (or the formula or the loss) to train on the GPU.`;
}
