// Rows for a formula model: generated from the model itself at chosen "true" parameters plus Gaussian
// noise (so that training can be checked against the truth), or selected from the user's CSV/JSON through
// the same parser and checks as the linear mode and the CLI.
import type { FormulaModel } from '../../formula/model.ts';
import { seededUniform } from '../../data/shuffle.ts';
import { selectLinearData } from '../../data/select.ts';
import { describeNonFinite, firstNonFiniteRow, formulaPredict, rowValues, type FormulaData } from '../../models/formula.ts';
import type { ParsedFile } from '../data.ts';

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
  if (m.features.length === 0) {
    throw new RangeError(`the model reads no column of ${parsed.table.file} besides the target: ${m.params.join(', ')} are all parameters (a file needs at least one feature column; check the columns' spelling)`);
  }
  const sel = selectLinearData(parsed.table, { target: m.target, features: [...m.features] });
  const dropped = sel.droppedRows ? `, ${sel.droppedRows} row${sel.droppedRows === 1 ? '' : 's'} with missing values dropped` : '';
  return {
    label: `${parsed.table.file}: ${m.target} from ${m.features.join(', ') || 'no column'} (N = ${sel.rows}${dropped})`,
    data: { x: sel.data.x, y: sel.data.y, n: sel.rows, d: m.features.length },
    truth: null,
  };
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
