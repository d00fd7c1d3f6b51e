// `nabla train --model ... --stream`: the data file as a RowStream, never all of it in memory. A first pass
// counts the rows, learns the class labels (sorted, as loadModelData gives them) and the feature scaling
// statistics; every later pass (one per epoch) reads the file again with those classes fixed and the scaling
// applied per chunk. The train report's metrics take one more pass.
import { openSource, rowsPerChunk } from '../data/source.ts';
import { LabelCoder, sortLabels } from '../data/labels.ts';
import { StatsAccumulator } from '../data/stats.ts';
import { DataError } from '../data/errors.ts';
import { ChunkBuffers } from '../data/chunk-builder.ts';
import type { InvalidPolicy } from '../data/select.ts';
import type { ModelData, NetworkConfig } from '../models/network.ts';
import type { RowStream } from '../models/row-stream.ts';
import { modelLogits, modelLoss, predictFromLogits } from '../cpu/mlp_gradient.ts';
import { passTracker, type StreamProgress } from './progress.ts';

export interface StreamedModelData {
  rows: RowStream;
  features: string[];
  droppedRows: number;
  classes: string[] | null;
  scaling: { mean: number[]; std: number[] } | null;
  /** The train report's metrics (as evaluationReport gives them in memory), over one more pass. */
  metrics(config: NetworkConfig, theta: ArrayLike<number>): Promise<Record<string, unknown>>;
}

export interface StreamOptions {
  target: string;
  features?: string[];
  /** As in loadModelData: null, a number target; 'learn', labels found in the data; a list, exactly these. */
  classes: null | 'learn' | readonly string[];
  invalid: InvalidPolicy;
  /** Fit the feature scaling in the first pass (true), use a saved one, or none. */
  scaling: boolean | { mean: number[]; std: number[] } | null;
  chunkBytes: number;
  /** A progress line on stderr for each pass (progress.ts); none when not on a terminal. */
  progress?: StreamProgress;
}

export async function openModelStream(path: string, o: StreamOptions): Promise<StreamedModelData> {
  const learning = o.classes === 'learn';
  const coder = o.classes === null ? undefined : new LabelCoder(learning ? undefined : o.classes as string[]);
  // One set of chunk buffers for every pass: each pass opens the file again.
  const buffers = new ChunkBuffers();
  const onBytes = o.progress?.line.onBytes;
  const track = passTracker(o.progress);
  const counting = await openSource(path, { target: o.target, features: o.features, invalid: o.invalid, labels: coder, buffers, onBytes });
  const d = counting.features.length;
  const chunkRows = rowsPerChunk(o.chunkBytes, d);
  const stats = new StatsAccumulator(d);
  let droppedRows = 0;
  for await (const c of track(counting.chunks(chunkRows), counting.inputRows)) {
    stats.add(c);
    droppedRows += c.droppedRows;
    c.recycle?.();
  }
  if (stats.rows === 0) throw new DataError('no rows to train on', { file: path });
  let classes: string[] | null = null;
  if (coder) {
    classes = learning ? sortLabels(coder.known()) : [...(o.classes as string[])];
    if (learning && classes.length < 2) {
      throw new DataError(`the target holds ${classes.length === 1 ? `one class only (${JSON.stringify(classes[0])})` : 'no class'}; a classifier needs at least 2`, { file: path, column: o.target });
    }
  }
  const s = stats.result();
  const scaling = o.scaling === true ? { mean: Array.from(s.mean), std: Array.from(s.std) } : o.scaling || null;
  const n = stats.rows;
  const yMean = s.yMean;
  // Every later pass: the classes fixed in sorted order, so that y holds their indices directly.
  const reopen = () => openSource(path, { target: o.target, features: o.features, invalid: o.invalid, labels: classes ? new LabelCoder(classes) : undefined, buffers, onBytes });
  const rows: RowStream = {
    n, d, chunkRows,
    async *pass() {
      const source = await reopen();
      for await (const c of track(source.chunks(chunkRows), n)) {
        if (scaling) for (let k = 0; k < c.x.length; k++) c.x[k] = (c.x[k] - scaling.mean[k % d]) / scaling.std[k % d];
        yield c;
      }
    },
  };
  return {
    rows, features: counting.features, droppedRows, classes, scaling,
    async metrics(config, theta) {
      const K = classes?.length ?? 0;
      const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
      let right = 0;
      let logLoss = 0;
      let sse = 0;
      let sst = 0;
      for await (const c of rows.pass()) {
        const data: ModelData = { x: c.x, y: c.y, n: c.rows, d };
        const pred = predictFromLogits(config, modelLogits(config, theta, data.x, data.n), data.n);
        if (classes) {
          for (let i = 0; i < data.n; i++) {
            confusion[data.y[i]][pred[i]]++;
            if (pred[i] === data.y[i]) right++;
          }
          logLoss += (data.n / n) * modelLoss(config, theta, data);
        } else {
          for (let i = 0; i < data.n; i++) {
            sse += (pred[i] - data.y[i]) ** 2;
            sst += (data.y[i] - yMean) ** 2;
          }
          if (config.loss !== undefined) logLoss += (data.n / n) * modelLoss(config, theta, data);
        }
        c.recycle?.();
      }
      if (classes) return { accuracy: right / n, logLoss, classes, confusion };
      const fit = { mse: sse / n, r2: sst > 0 ? 1 - sse / sst : null };
      // As in memory (evaluationReport): a --loss formula's mean beside MSE and R² (logLoss holds its sum here).
      return config.loss === undefined ? fit : { loss: logLoss, lossFunction: config.loss, ...fit };
    },
  };
}
