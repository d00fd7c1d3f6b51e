// How a dataset is laid out on the GPU: chunks (one buffer pair each, within one storage binding) and,
// for a batch size, the slices of chunks each mini-batch covers. Pure, so it is unit-tested without a GPU.
import { planLinearGrid, type DeviceShape, type LinearGridPlan, type LinearKernelConfig } from './dispatch.ts';

export interface ChunkSpec {
  startRow: number;
  rows: number;
}

/** Chunks of whole quads (4 samples) whose X fits maxChunkBytes; the last one holds the rest. */
export function planChunks(n: number, d: number, maxChunkBytes: number): ChunkSpec[] {
  const rowsPerChunk = Math.floor(maxChunkBytes / (16 * d)) * 4;
  if (rowsPerChunk < 4) {
    throw new RangeError(`one chunk of ${maxChunkBytes} bytes cannot hold 4 samples of ${d} features (${16 * d} bytes)`);
  }
  const chunks: ChunkSpec[] = [];
  for (let start = 0; start < n; start += rowsPerChunk) chunks.push({ startRow: start, rows: Math.min(rowsPerChunk, n - start) });
  return chunks;
}

/** One pass-1 dispatch: rows [rowOffset, rowOffset + rows) of a chunk, writing partial rows from firstGroup. */
export interface SliceSpec {
  chunk: number;
  rowOffset: number;
  rows: number;
  firstGroup: number;
  plan: LinearGridPlan;
}

export interface BatchSpec {
  rows: number;
  slices: SliceSpec[];
  /** Partial rows the batch writes (the reduce pass folds exactly these). */
  groups: number;
}

/**
 * Mini-batches of batchSize consecutive samples (the last may be smaller), each split at chunk boundaries.
 * Offsets inside a chunk must be whole quads, so batchSize is a multiple of 4 unless it covers all samples.
 * Every slice runs `config` (its groups capped by the slice's tiles); without one, each slice gets
 * defaultLinearConfig for its own size.
 */
export function planBatches(chunks: ChunkSpec[], batchSize: number, d: number, shape: DeviceShape, config?: LinearKernelConfig): BatchSpec[] {
  const n = chunks.reduce((s, c) => s + c.rows, 0);
  const size = Math.min(batchSize, n);
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batch size: expected a positive integer, got ${batchSize}`);
  if (size < n && size % 4 !== 0) throw new RangeError(`batch size: ${batchSize} must be a multiple of 4 (or at least the ${n} samples)`);
  const batches: BatchSpec[] = [];
  for (let start = 0; start < n; start += size) {
    const end = Math.min(start + size, n);
    const slices: SliceSpec[] = [];
    let groups = 0;
    chunks.forEach((c, k) => {
      const from = Math.max(start, c.startRow);
      const to = Math.min(end, c.startRow + c.rows);
      if (from >= to) return;
      const plan = planLinearGrid(to - from, d, shape, config);
      slices.push({ chunk: k, rowOffset: from - c.startRow, rows: to - from, firstGroup: groups, plan });
      groups += plan.numGroups;
    });
    batches.push({ rows: end - start, slices, groups });
  }
  return batches;
}
