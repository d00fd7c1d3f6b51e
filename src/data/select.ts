// Turns a Table into LinearData: picks the target and feature columns, drops rows with missing values
// and rejects anything else that is not a finite float32. Bad cells are errors rather than dropped
// rows, because a typo or an overflow silently removed (or trained on) is worse than a stopped run.
import { FLOAT32_MAX } from '../core/float32.ts';
import { DataError, type DataErrorLocation } from './errors.ts';
import type { Table } from './table.ts';
import { chooseColumns, noRowsLeft } from './chunk-builder.ts';
import type { Samples } from './source.ts';

export interface SelectedData {
  data: Samples;
  features: string[];
  target: string;
  /** Rows kept. */
  rows: number;
  /** Rows dropped for a missing value in the target or a feature. */
  droppedRows: number;
}

/**
 * What to do with a chosen cell that holds no finite number:
 * - 'drop-missing' (default): drop rows with a missing value (empty, NA, null, NaN); an infinite value is an error;
 * - 'drop': drop rows with a missing or infinite value, counted;
 * - 'error': any missing or infinite value is an error naming its place.
 * A cell that is not a number at all ("abc") is always an error.
 */
export type InvalidPolicy = 'drop-missing' | 'drop' | 'error';
export const INVALID_POLICIES: readonly InvalidPolicy[] = ['drop-missing', 'drop', 'error'];

export interface SelectOptions {
  target: string;
  invalid?: InvalidPolicy;
  /** Default: every other column whose values are numbers. */
  features?: string[];
  /** Keep the values in float64 (the arrays are then Float64Array, whatever the declared type: see readFormulaRowsFloat64). */
  float64?: boolean;
}

// Number() semantics minus what Number() also accepts: '' and whitespace (0), hex/octal/binary, '_'.
const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INFINITY_RE = /^[+-]?(?:inf|infinity)$/i;
const MISSING_RE = /^(?:na|nan|null)$/i;

type Cell =
  | { kind: 'missing' }
  | { kind: 'number'; value: number }
  // infinite: written as a number but not usable; still marks its column as numeric.
  | { kind: 'infinite'; reason: string }
  | { kind: 'bad'; reason: string };

const MISSING: Cell = { kind: 'missing' };

export function classifyCell(v: unknown): Cell {
  if (v === undefined || v === null) return MISSING;
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return MISSING;
    return checkRange(v, String(v));
  }
  if (typeof v === 'string') {
    const s = v.trim();
    if (s === '' || MISSING_RE.test(s)) return MISSING;
    if (INFINITY_RE.test(s)) return { kind: 'infinite', reason: `${show(v)} is infinite` };
    if (!NUMBER_RE.test(s)) return { kind: 'bad', reason: `${show(v)} is not a number` };
    return checkRange(Number(s), show(v));
  }
  return { kind: 'bad', reason: `${show(v)} is not a number` };
}

/** Anything past float32's range would become ±Infinity on upload. */
function checkRange(value: number, shown: string): Cell {
  if (!Number.isFinite(value)) return { kind: 'infinite', reason: `${shown} is infinite` };
  if (Math.abs(value) > FLOAT32_MAX) {
    return { kind: 'infinite', reason: `${shown} is too large for float32 (max ${FLOAT32_MAX.toPrecision(8)})` };
  }
  return { kind: 'number', value };
}

function show(v: unknown): string {
  let s: string;
  try {
    s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

export function selectLinearData(table: Table, opts: SelectOptions): SelectedData {
  const { file, columns } = table;
  const { features, indices } = chooseColumns(columns, opts, file, (k) => isNumericColumn(table, k));
  const { target } = opts;
  const featureCols = indices.slice(0, -1);
  const targetCol = indices[indices.length - 1];

  const n0 = table.rowCount;
  const d = features.length;
  // float64: the values as parsed (the float64 twin's curve fit); otherwise float32, the upload layout.
  const Values = opts.float64 ? Float64Array : Float32Array;
  const x = new Values(n0 * d);
  const y = new Values(n0);
  const rowValues = new Float64Array(d);
  const policy = opts.invalid ?? 'drop-missing';
  const checkedCell = (row: number, col: number) => checkCell(table, row, col, policy);
  let n = 0;
  for (let row = 0; row < n0; row++) {
    // Every chosen cell is checked before deciding to drop, so a bad cell is never hidden by a missing one.
    let missing = false;
    for (let j = 0; j < d; j++) {
      const c = checkedCell(row, featureCols[j]);
      if (c === null) missing = true;
      else rowValues[j] = c;
    }
    const t = checkedCell(row, targetCol);
    if (missing || t === null) continue;
    x.set(rowValues, n * d);
    y[n] = t;
    n++;
  }
  const dropped = n0 - n;
  if (n === 0) {
    throw noRowsLeft(file, dropped);
  }
  return {
    // subarray would keep the whole allocation alive and is not what the GPU upload expects as a view.
    data: { x: (n === n0 ? x : x.slice(0, n * d)) as Float32Array, y: (n === n0 ? y : y.slice(0, n)) as Float32Array, n, d },
    features: [...features],
    target,
    rows: n,
    droppedRows: dropped,
  };
}

/** The value, or null when the policy drops the row; throws for anything else. */
function checkCell(table: Table, row: number, col: number, policy: InvalidPolicy): number | null {
  const c = classifyCell(table.cell(row, col));
  if (c.kind === 'number') return c.value;
  if (c.kind === 'missing' && policy !== 'error') return null;
  if (c.kind === 'infinite' && policy === 'drop') return null;
  const reason = c.kind === 'missing' ? 'missing value (--on-invalid error)' : c.reason;
  throw new DataError(reason, { ...locate(table, row), column: table.columns[col] });
}

function locate(table: Table, row: number): DataErrorLocation {
  const line = table.lineOf(row);
  return line === null ? { file: table.file, element: row } : { file: table.file, line };
}

/**
 * Numeric: at least one number and otherwise only missing values. Infinite values count as numbers
 * here so that a column with one "inf" is selected and then reported, instead of silently left out.
 */
export function isNumericColumn(table: Table, col: number): boolean {
  let sawNumber = false;
  for (let row = 0; row < table.rowCount; row++) {
    const c = classifyCell(table.cell(row, col));
    if (c.kind === 'bad') return false;
    if (c.kind !== 'missing') sawNumber = true;
  }
  return sawNumber;
}
