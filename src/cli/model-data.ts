// Table -> ModelData for the model commands: class labels (numbers or strings) mapped to indices, and
// feature standardization. Builds on selectLinearData (same missing/invalid-value rules and messages).
import type { Table } from '../data/table.ts';
import { selectLinearData, type InvalidPolicy } from '../data/select.ts';
import { DataError } from '../data/errors.ts';
import type { ModelData } from '../models/network.ts';

export interface ModelSelection {
  data: ModelData;
  features: string[];
  rows: number;
  droppedRows: number;
}

const MISSING = /^\s*(|na|nan|null)\s*$/i;

/** Distinct target values in a stable order: numerically when all are numbers, else as strings. */
export function classLabels(table: Table, target: string): string[] {
  const col = table.columns.indexOf(target);
  if (col < 0) throw new DataError('no such target column', { file: table.file, column: target });
  const seen = new Set<string>();
  for (let r = 0; r < table.rowCount; r++) {
    const v = table.cell(r, col);
    if (v === null || v === undefined || (typeof v === 'string' && MISSING.test(v))) continue;
    seen.add(String(v).trim());
  }
  const labels = [...seen];
  const numeric = labels.every((l) => Number.isFinite(Number(l)));
  return numeric ? labels.sort((a, b) => Number(a) - Number(b)) : labels.sort();
}

/** A view of the table whose target column holds class indices (labels not in `classes` are an error). */
function withClassIndices(table: Table, target: string, classes: string[]): Table {
  const col = table.columns.indexOf(target);
  const index = new Map(classes.map((c, k) => [c, k]));
  return {
    ...table,
    cell(row, c) {
      const v = table.cell(row, c);
      if (c !== col || v === null || v === undefined || (typeof v === 'string' && MISSING.test(v))) return v;
      const k = index.get(String(v).trim());
      if (k === undefined) {
        const line = table.lineOf(row);
        throw new DataError(`class ${JSON.stringify(v)} is not one the model knows (${classes.join(', ')})`, line === null ? { file: table.file, element: row, column: target } : { file: table.file, line, column: target });
      }
      return String(k);
    },
  } as Table;
}

/** A view with a constant target column appended (predict: no target needed). */
function withDummyTarget(table: Table, name: string): Table {
  const col = table.columns.length;
  return { ...table, columns: [...table.columns, name], cell: (row, c) => (c === col ? '0' : table.cell(row, c)) } as Table;
}

export function selectModelData(table: Table, o: { target: string | null; features?: string[]; classes: string[] | null; invalid: InvalidPolicy }): ModelSelection {
  let t = table;
  let target = o.target;
  if (target === null) {
    target = '\u0000target';
    t = withDummyTarget(table, target);
  } else if (o.classes) {
    t = withClassIndices(table, target, o.classes);
  }
  const s = selectLinearData(t, { target, features: o.features, invalid: o.invalid });
  return { data: s.data, features: s.features, rows: s.rows, droppedRows: s.droppedRows };
}

export function fitFeatureScaling(data: ModelData): { mean: number[]; std: number[] } {
  const { x, n, d } = data;
  const mean = new Array<number>(d).fill(0);
  const std = new Array<number>(d).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) std[j] += (x[i * d + j] - mean[j]) ** 2 / n;
  // A constant column: scale 1 (z = 0), as in src/models/standardize.ts.
  return { mean, std: std.map((v) => (v > 0 ? Math.sqrt(v) : 1)) };
}

export function scaleFeatures(data: ModelData, s: { mean: number[]; std: number[] } | null): ModelData {
  if (!s) return data;
  const { d } = data;
  const x = data.x.map((v, k) => (v - s.mean[k % d]) / s.std[k % d]);
  return { ...data, x };
}
