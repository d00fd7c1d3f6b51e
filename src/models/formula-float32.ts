// Where float32 cannot compute a formula that float64 can: a GPU kernel holds the parameters, every value
// and the sums in float32, so a start far off the data's scale (J ~ 1e40) gives it Infinity where the float64
// twin is finite. One check for every caller: the GPU engine before it tunes (the first rows), the page before
// it builds a GPU run (every row), and a GPU run whose start failed (every row, to name one).
import type { FormulaModel } from '../formula/model.ts';
import { compileRowSums } from '../formula/emit-js.ts';
import { gradientProgram, predictionProgram } from '../formula/program.ts';
import { FLOAT32_MAX } from '../core/float32.ts';
import { checkedPass, type RowStream } from './row-stream.ts';
import { rowValues, type FormulaData } from './formula.ts';

const RANGE = `(±${FLOAT32_MAX.toPrecision(2).replace('e+', 'e')})`;

/**
 * Scans rows at theta for float32's limits, chunk after chunk: `rows` returns the first row (numbered from
 * firstRow) whose outputs are finite in float64 but not when every operation is rounded to float32 (the
 * kernel's arithmetic: an intermediate value beyond the range counts too); `sum`, once every row is scanned,
 * the first output whose sum over them is beyond float32 though each row's is within it.
 */
function float32Scanner(m: FormulaModel, theta: ArrayLike<number>): {
  rows(data: FormulaData, count: number, firstRow: number): string | null;
  sum(): string | null;
} {
  const program = gradientProgram(m);
  const gradient = compileRowSums(program);
  const gradient32 = compileRowSums(program, true);
  const predict = compileRowSums(predictionProgram(m));
  const at = Float64Array.from(theta, (v) => Math.fround(v));
  const P = m.params.length;
  const labels = [...m.params.map((p) => `∂ℓ/∂${p}`), 'loss'];
  const one = new Float64Array(P + 1);
  const one32 = new Float64Array(P + 1);
  const yhat = new Float64Array(1);
  const total = new Float64Array(P + 1);
  let scanned = 0;
  const shown = (v: number) => v.toPrecision(4);
  return {
    rows(data, count, firstRow) {
      for (let i = 0; i < count; i++) {
        one.fill(0);
        one32.fill(0);
        gradient(at, data.x, data.y, i, i + 1, one);
        gradient32(at, data.x, data.y, i, i + 1, one32);
        if (!one.every(Number.isFinite)) continue; // not finite in float64 either: the twin's to name
        if (one32.every(Number.isFinite)) {
          for (let k = 0; k <= P; k++) total[k] += one[k];
          scanned++;
          continue;
        }
        yhat[0] = 0;
        predict(at, data.x, data.y, i, i + 1, yhat);
        const values = [{ label: 'yhat', value: yhat[0] }, ...labels.map((label, k) => ({ label, value: one[k] }))];
        const beyond = values.filter((v) => Math.abs(v.value) > FLOAT32_MAX).map((v) => `${v.label} = ${shown(v.value)}`);
        const row = `row ${firstRow + i + 1} of the data (${rowValues(m, data, i).join(', ')})`;
        return beyond.length > 0
          ? `${row} has ${beyond.join(', ')}, beyond float32's range ${RANGE}, though float64 holds it`
          : `on ${row} a value inside the formula is beyond float32's range ${RANGE}, though float64 holds the result (${values.map((v) => `${v.label} = ${shown(v.value)}`).join(', ')})`;
      }
      return null;
    },
    sum() {
      const k = total.findIndex((v) => Math.abs(v) > FLOAT32_MAX);
      if (k < 0) return null;
      return `every row's ${labels[k]} is within float32's range ${RANGE}, but their sum over the ${scanned} rows (${shown(total[k])}) is beyond it`;
    },
  };
}

/** A parameter beyond float32's range, or null. */
function parameterBeyond(m: FormulaModel, theta: ArrayLike<number>): string | null {
  const far = Array.from(theta).findIndex((v) => Math.abs(v) > FLOAT32_MAX);
  return far < 0 ? null : `${m.params[far]} = ${theta[far]} is beyond float32's range ${RANGE}`;
}

/**
 * What float32 cannot compute at theta over the first `rows` rows (default all), said as a clause ("row 3
 * of the data (x = 2, y = 2) has loss = 4.000e+60, beyond float32's range ..."), or null when all fits.
 */
export function float32Problem(m: FormulaModel, theta: ArrayLike<number>, data: FormulaData, rows = data.n): string | null {
  const far = parameterBeyond(m, theta);
  if (far) return far;
  const scan = float32Scanner(m, theta);
  return scan.rows(data, Math.min(rows, data.n), 0) ?? scan.sum();
}

/** float32Problem over a stream: one pass, stopped at the first row that float32 cannot compute. */
export async function float32StreamProblem(m: FormulaModel, theta: ArrayLike<number>, stream: RowStream): Promise<string | null> {
  const far = parameterBeyond(m, theta);
  if (far) return far;
  const scan = float32Scanner(m, theta);
  let first = 0;
  for await (const chunk of checkedPass(stream)) {
    try {
      const found = scan.rows({ x: chunk.x, y: chunk.y, n: chunk.rows, d: stream.d }, chunk.rows, first);
      if (found) return found;
      first += chunk.rows;
    } finally {
      chunk.recycle?.();
    }
  }
  return scan.sum();
}
