// `nabla train --formula ... --stream`: the formula's columns as a RowStream, never all of the file in memory.
// A first pass counts the rows and runs the checks of the rows in memory chunk by chunk (the loss's target
// rule, the weights, a model finite at the start), naming a bad row by its line; every later pass (one per
// epoch) reads the file again. The train report's metrics take one more pass.
import { openSource, rowsPerChunk } from '../data/source.ts';
import { DataError } from '../data/errors.ts';
import type { InvalidPolicy } from '../data/select.ts';
import type { FormulaModel } from '../formula/model.ts';
import { formulaColumns, formulaPredict, rowsThatCount } from '../models/formula.ts';
import type { RowStream } from '../models/row-stream.ts';
import { UsageError } from './args.ts';
import { checkFormulaRows, zeroWeightsError } from './formula-data.ts';
import { CLASS_OF } from './formula-metrics.ts';
import { passTracker, type StreamProgress } from './progress.ts';

export interface StreamedFormulaRows {
  rows: RowStream;
  droppedRows: number;
  /** The rows a fit's degrees of freedom count (rowsThatCount over every chunk). */
  countedRows: number;
  /** MSE and R², or accuracy, as formulaMetrics gives them in memory, over one more pass. */
  metrics(theta: ArrayLike<number>): Promise<Record<string, number | null>>;
}

export async function openFormulaStream(
  path: string, model: FormulaModel, invalid: InvalidPolicy, chunkBytes: number, theta: Float64Array, at: string,
  progress?: StreamProgress,
): Promise<StreamedFormulaRows> {
  const features = formulaColumns(model);
  if (features.length === 0) throw new UsageError(`--stream: the formula "${model.spec.formula}" reads no column besides its target; train it without --stream`);
  const open = () => openSource(path, { target: model.target, features, invalid, onBytes: progress?.line.onBytes });
  const track = passTracker(progress);
  const d = features.length;
  const chunkRows = rowsPerChunk(chunkBytes, d);
  let n = 0;
  let droppedRows = 0;
  const first = await open();
  let countedRows = 0;
  for await (const c of track(first.chunks(chunkRows), first.inputRows)) {
    const chunk = { x: c.x, y: c.y, n: c.rows, d };
    await checkFormulaRows(path, model, invalid, chunk, theta, at, n);
    countedRows += rowsThatCount(model, chunk);
    n += c.rows;
    droppedRows += c.droppedRows;
  }
  if (n === 0) throw new DataError('no rows to train on', { file: path });
  if (countedRows === 0) throw zeroWeightsError(path, model);
  const rows: RowStream = {
    n, d, chunkRows,
    async *pass() {
      yield* track((await open()).chunks(chunkRows), n);
    },
  };
  return {
    rows, droppedRows, countedRows,
    async metrics(at): Promise<Record<string, number | null>> {
      const classOf = CLASS_OF[model.loss.name];
      let right = 0;
      let sse = 0;
      let sy = 0;
      let syy = 0;
      for await (const c of rows.pass()) {
        const yhat = formulaPredict(model, at, { x: c.x, y: c.y, n: c.rows, d });
        for (let i = 0; i < c.rows; i++) {
          const y = c.y[i];
          if (classOf && classOf(yhat[i]) === (y >= 0.5 ? 1 : 0)) right++;
          sse += (yhat[i] - y) ** 2;
          sy += y;
          syy += y * y;
        }
      }
      if (classOf) return { accuracy: right / n };
      const sst = syy - (sy * sy) / n;
      return { mse: sse / n, r2: sst > 0 ? 1 - sse / sst : null };
    },
  };
}
