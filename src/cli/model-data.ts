// A data file -> ModelData for train --model, predict and evaluate, through the same sources as every
// other command (src/data/source.ts: CSV, JSON, Parquet, Arrow, raw), so every format, the --on-invalid
// policy and the errors naming file, line/row and column are the same. Class labels (numbers or
// strings) become indices through a LabelCoder; predict reads the features only.
import { openSource, readAllChunks } from '../data/source.ts';
import { LabelCoder } from '../data/labels.ts';
import type { InvalidPolicy } from '../data/select.ts';
import { DataError } from '../data/errors.ts';
import { placeOfKeptRow } from './row-place.ts';
import { parseLoss } from '../formula/losses.ts';
import type { ModelData } from '../models/network.ts';

export interface ModelSelection {
  data: ModelData;
  features: string[];
  rows: number;
  droppedRows: number;
  /** Class labels by index, or null for a number target (or none). */
  classes: string[] | null;
}

export interface ModelDataOptions {
  /** null: no target (predict); y is then empty. */
  target: string | null;
  features?: string[];
  /**
   * How the target is read: null, a number; 'learn', class labels found in the data (sorted); a list,
   * exactly these classes in this order (a saved model's, or --classes): another label is an error.
   */
  classes: null | 'learn' | readonly string[];
  invalid: InvalidPolicy;
}

export async function loadModelData(path: string, o: ModelDataOptions): Promise<ModelSelection> {
  const labels = o.classes === null || o.target === null ? undefined : new LabelCoder(o.classes === 'learn' ? undefined : o.classes);
  const source = await openSource(path, { target: o.target, features: o.features, invalid: o.invalid, labels });
  const all = await readAllChunks(source);
  const classes = labels ? labels.reindex(all.y) : null;
  if (classes && o.classes === 'learn' && classes.length < 2) {
    throw new DataError(`the target holds ${classes.length === 1 ? `one class only (${JSON.stringify(classes[0])})` : 'no class'}; a classifier needs at least 2`, {
      file: path, column: o.target!,
    });
  }
  return { data: { x: all.x, y: all.y, n: all.n, d: all.d }, features: source.features, rows: all.n, droppedRows: all.droppedRows, classes };
}

/**
 * A --loss formula's rule on a number target (poisson: counts >= 0), checked before training so that a bad
 * row is named by its line (CSV) or row in the file, as the formula models' checks name theirs.
 */
export async function checkLossTargets(path: string, loss: string, y: ArrayLike<number>, o: { target: string; features: string[]; invalid: InvalidPolicy }): Promise<void> {
  const spec = parseLoss(loss);
  for (let i = 0; i < y.length; i++) {
    const why = spec.checkTarget(y[i]);
    if (why) throw new DataError(`the ${spec.name} loss cannot use target ${o.target} = ${y[i]} in kept row ${i + 1}: ${why}`, await placeOfKeptRow(path, o, i));
  }
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
