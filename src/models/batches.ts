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

/** Rows range.start.. of row-major samples as views (no copy); the data itself for all of its rows. */
export function rowsOf<T extends { x: Float32Array; y: Float32Array; n: number; d: number }>(data: T, r: BatchRange): T {
  if (r.start === 0 && r.rows === data.n) return data;
  const { d } = data;
  return { ...data, n: r.rows, x: data.x.subarray(r.start * d, (r.start + r.rows) * d), y: data.y.subarray(r.start, r.start + r.rows) };
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
  /** Samples per batch (the last of each chunk may hold fewer). */
  readonly size: number;
  /** Batches of each chunk, in row order: chunk c's are ranges[firstOf[c] .. firstOf[c + 1]). */
  private readonly firstOf: number[];
  private epoch = -1;
  private order: Uint32Array | null = null;

  /**
   * chunkRows: the data come in chunks of this many rows (streamed, one pass per epoch): batches are cut
   * inside each chunk and shuffled within it, chunks visited in order. Default: one chunk of all rows, the
   * same cut and order as an unchunked schedule.
   */
  constructor(readonly n: number, batchSize: number | undefined, private readonly seed: number, chunkRows = n) {
    this.size = Math.min(batchSize ?? n, n);
    if (!(Number.isInteger(chunkRows) && chunkRows >= 1)) throw new RangeError(`chunk rows: expected a positive integer, got ${chunkRows}`);
    if (this.size < n && this.size > chunkRows) {
      throw new RangeError(`batch size: ${this.size} samples exceed a chunk of ${chunkRows} rows (streamed batches are cut inside chunks)`);
    }
    if (this.size >= n || chunkRows >= n) {
      this.ranges = batchRanges(n, this.size);
      this.firstOf = [0, this.ranges.length];
      return;
    }
    this.ranges = [];
    this.firstOf = [];
    for (let start = 0; start < n; start += chunkRows) {
      this.firstOf.push(this.ranges.length);
      const rows = Math.min(chunkRows, n - start);
      for (const r of batchRanges(rows, this.size)) this.ranges.push({ start: start + r.start, rows: r.rows });
    }
    this.firstOf.push(this.ranges.length);
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
      this.order = this.epochOrder(epoch);
      this.epoch = epoch;
    }
    return this.order[t % this.ranges.length];
  }

  private epochOrder(epoch: number): Uint32Array {
    const chunks = this.firstOf.length - 1;
    if (chunks === 1) return shuffledOrder(this.ranges.length, this.seed, epoch);
    const order = new Uint32Array(this.ranges.length);
    for (let c = 0; c < chunks; c++) {
      const first = this.firstOf[c];
      // (epoch, chunk) pairs numbered apart so that every chunk of every epoch draws its own order.
      const inChunk = shuffledOrder(this.firstOf[c + 1] - first, this.seed, epoch * chunks + c);
      for (let i = 0; i < inChunk.length; i++) order[first + i] = first + inChunk[i];
    }
    return order;
  }

  /** The batch update t trains on. */
  at(t: number): BatchRange {
    return this.ranges[this.indexAt(t)];
  }
}
