// Standardization statistics in one streaming pass, equal to fitStandardizer (src/models/standardize.ts)
// on the same rows: float64 accumulation, population (1/N) standard deviations, and a constant column
// centred on its value with scale 1.
//
// How: the mean is the running float64 sum in row order divided by N, the very operations
// fitStandardizer performs, so it is bit-identical. The spread cannot use fitStandardizer's second pass
// (the data is gone), and the one-pass alternatives each have a flaw: E[x^2] - E[x]^2 cancels
// catastrophically when |mean| >> std; shifted sums cancel when the shift (say, the first value) is far
// from the mean; Welford divides once per value per row. Instead each chunk, which is in memory anyway,
// gets fitStandardizer's own two-pass sum of squares about its own mean, and chunks are merged with Chan
// et al.'s pairwise update M2 = M2a + M2b + delta^2 na nb / n, which is as stable as Welford at the
// cost of a few operations per chunk rather than per value.
import { DataError } from './errors.ts';
import type { SampleChunk, SampleSource } from './source.ts';

/** Feature and target statistics, z = (v - mean) / std: the shape of models/standardize.ts's Standardizer. */
export interface Standardizer {
  mean: Float64Array;
  std: Float64Array;
  yMean: number;
  yStd: number;
}

/** Folds chunks into float64 statistics; usable directly on chunks a consumer already has. */
export class StatsAccumulator {
  private n = 0;
  /** Running sums in row order (features, then the target last), for the means. */
  private readonly sum: Float64Array;
  /** Chan-merged mean and sum of squared deviations, for the spreads. */
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;
  private readonly min: Float64Array;
  private readonly max: Float64Array;
  private readonly chunkMean: Float64Array;

  constructor(private readonly d: number) {
    const k = d + 1;
    this.sum = new Float64Array(k);
    this.mean = new Float64Array(k);
    this.m2 = new Float64Array(k);
    this.min = new Float64Array(k).fill(Infinity);
    this.max = new Float64Array(k).fill(-Infinity);
    this.chunkMean = new Float64Array(k);
  }

  get rows(): number {
    return this.n;
  }

  add(chunk: Pick<SampleChunk, 'x' | 'y' | 'rows'>): void {
    const { x, y, rows } = chunk;
    if (rows === 0) return;
    const d = this.d;
    const value = (i: number, j: number) => (j < d ? x[i * d + j] : y[i]);
    const cm = this.chunkMean;
    cm.fill(0);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j <= d; j++) {
        const v = value(i, j);
        this.sum[j] += v;
        cm[j] += v;
        if (v < this.min[j]) this.min[j] = v;
        if (v > this.max[j]) this.max[j] = v;
      }
    }
    for (let j = 0; j <= d; j++) cm[j] /= rows;
    const nA = this.n;
    const n = nA + rows;
    for (let j = 0; j <= d; j++) {
      let m2b = 0;
      for (let i = 0; i < rows; i++) {
        const r = value(i, j) - cm[j];
        m2b += r * r;
      }
      const delta = cm[j] - this.mean[j];
      this.m2[j] += m2b + ((delta * delta * nA) / n) * rows;
      this.mean[j] += (delta * rows) / n;
    }
    this.n = n;
  }

  result(): Standardizer {
    const n = this.n;
    if (n === 0) throw new RangeError('no rows: standardization statistics need at least one');
    const d = this.d;
    const stat = (j: number): [number, number] => {
      // As in fitStandardizer: a constant column is centred exactly on its value with scale 1.
      if (this.min[j] === this.max[j]) return [this.min[j], 1];
      return [this.sum[j] / n, Math.sqrt(this.m2[j] / n)];
    };
    const mean = new Float64Array(d);
    const std = new Float64Array(d);
    for (let j = 0; j < d; j++) [mean[j], std[j]] = stat(j);
    const [yMean, yStd] = stat(d);
    return { mean, std, yMean, yStd };
  }
}

/** One pass over the source: the Standardizer of every kept row, and the row counts. */
export async function computeStandardizer(
  source: SampleSource,
  maxRows = 65536,
): Promise<{ standardizer: Standardizer; rows: number; droppedRows: number }> {
  const acc = new StatsAccumulator(source.features.length);
  let droppedRows = 0;
  for await (const c of source.chunks(maxRows)) {
    acc.add(c);
    droppedRows += c.droppedRows;
    c.recycle?.();
  }
  if (acc.rows === 0) throw new DataError('no rows to compute standardization statistics from', { file: source.file });
  return { standardizer: acc.result(), rows: acc.rows, droppedRows };
}
