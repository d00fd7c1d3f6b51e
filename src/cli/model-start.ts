// A --model run whose start is not finite: the engines see standardized features (and, for the linear model
// under a loss, columns named x1, x2, ...), so the CLI names the first such row itself, in the file's units,
// with its columns' names and its line, as a formula run's start check does.
import { firstNonFiniteSample } from '../cpu/mlp_gradient.ts';
import { DataError } from '../data/errors.ts';
import type { InvalidPolicy } from '../data/select.ts';
import type { ModelData, NetworkConfig } from '../models/network.ts';
import type { StartDivergenceError } from '../models/model-engine.ts';
import { placeOfKeptRow } from './row-place.ts';
import { float32Text } from '../core/float32.ts';

export interface ModelRows {
  path: string;
  /** The rows the engine trained on (features standardized where the run standardizes). */
  trained: ModelData;
  /** The same rows as read from the file. */
  read: ModelData;
  features: readonly string[];
  target: string;
  classes: readonly string[] | null;
  invalid: InvalidPolicy;
}

/** The start's failure as a DataError at its first bad row, or the error itself where every row is finite there. */
export async function modelStartError(e: StartDivergenceError, config: NetworkConfig, theta: ArrayLike<number>, rows: ModelRows): Promise<Error> {
  const bad = firstNonFiniteSample(config, theta, rows.trained);
  if (!bad) return e;
  const { read, features, target, classes } = rows;
  const outputs = bad.outputs.length === 1 ? `output = ${bad.outputs[0]}` : `outputs = [${Array.from(bad.outputs).join(', ')}]`;
  const label = read.y[bad.row];
  const values = [...features.map((f, j) => `${f} = ${float32Text(read.x[bad.row * read.d + j])}`), `${target} = ${classes ? classes[label] : float32Text(label)}`];
  const at = e.update === 0 ? 'initial' : 'resumed';
  return new DataError(
    `the model is not finite on kept row ${bad.row + 1} at the ${at} parameters (${outputs}, loss = ${bad.loss}; ${values.join(', ')}): ` +
    'check that the loss is defined for the model\'s outputs (cross-entropy takes a probability, poisson a positive mean: a linear or mlp output is any number)',
    await placeOfKeptRow(rows.path, { target, features: [...features], invalid: rows.invalid }, bad.row),
  );
}
