// Mini-batches of the model engines, shared by the GPU engine and its float64 twin so that both take the
// same samples in the same order: batches of batchSize consecutive rows (the last one ragged), their
// order shuffled per epoch from the seed (src/data/shuffle.ts). Update t belongs to epoch
// floor(t / perEpoch) and takes that epoch's batch number t mod perEpoch in shuffled order.
import { shuffledOrder } from '../data/shuffle.ts';

/** Samples start..start+rows of the data: one mini-batch, or one piece of a full evaluation. */
export interface BatchRange {
  start: number;
  rows: number;
}

/** Batches of batchSize consecutive samples, the last one ragged. */
export function batchRanges(n: number, batchSize: number): BatchRange[] {
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new RangeError(`batch size: expected a positive integer, got ${batchSize}`);
  const out: BatchRange[] = [];
  for (let start = 0; start < n; start += batchSize) out.push({ start, rows: Math.min(batchSize, n - start) });
  return out;
}

export class BatchSchedule {
  readonly ranges: BatchRange[];
  /** Samples per batch (the last may hold fewer). */
  readonly size: number;
  private epoch = -1;
  private order: Uint32Array | null = null;

  constructor(readonly n: number, batchSize: number | undefined, private readonly seed: number) {
    this.size = Math.min(batchSize ?? n, n);
    this.ranges = batchRanges(n, this.size);
  }

  /** Updates per epoch. */
  get perEpoch(): number {
    return this.ranges.length;
  }

  /** The index (into ranges) of the batch update t trains on. */
  indexAt(t: number): number {
    if (this.ranges.length === 1) return 0;
    const epoch = Math.floor(t / this.ranges.length);
    if (epoch !== this.epoch || !this.order) {
      this.order = shuffledOrder(this.ranges.length, this.seed, epoch);
      this.epoch = epoch;
    }
    return this.order[t % this.ranges.length];
  }

  /** The batch update t trains on. */
  at(t: number): BatchRange {
    return this.ranges[this.indexAt(t)];
  }
}
