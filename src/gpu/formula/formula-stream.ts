// Formula rows that come in chunks on the GPU: how many rows one chunk may hold (one storage binding), and
// rows already in memory, but larger than one binding, as a RowStream of slices (no copies), so that both
// run through the streamed engine (GpuFormulaEngine.createStreamed). Pure, unit-tested without a GPU.
import type { FormulaData } from '../../models/formula.ts';
import type { RowChunk, RowStream } from '../../models/row-stream.ts';

/** Bytes of x for `rows` rows of width d (the kernel reads at least one column per row). */
export function formulaXBytes(rows: number, d: number): number {
  return rows * Math.max(1, d) * 4;
}

/** Most rows whose x fits one storage binding, rounded down to a multiple of 4 (whole vec4 quads of rows). */
export function formulaBindingRows(d: number, maxBindingBytes: number): number {
  const rows = Math.floor(maxBindingBytes / formulaXBytes(1, d));
  return rows >= 4 ? rows - (rows % 4) : rows;
}

/** In-memory rows as a stream of chunkRows-row slices of the same arrays. */
export function memoryRowStream(data: FormulaData, chunkRows: number): RowStream {
  if (!(Number.isInteger(chunkRows) && chunkRows >= 1)) throw new RangeError(`chunk rows: expected a positive integer, got ${chunkRows}`);
  const { n, d, x, y } = data;
  return {
    n, d, chunkRows,
    async *pass(): AsyncGenerator<RowChunk> {
      for (let start = 0; start < n; start += chunkRows) {
        const rows = Math.min(chunkRows, n - start);
        yield { x: x.subarray(start * d, (start + rows) * d), y: y.subarray(start, start + rows), rows };
      }
    },
  };
}
