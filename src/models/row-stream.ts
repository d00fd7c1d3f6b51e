// Streamed rows: a dataset read chunk by chunk, one pass per epoch, so that memory holds about one chunk
// whatever the file size. The one loop cuts mini-batches inside chunks (BatchSchedule's chunkRows), so a
// program walks the chunks in order during an epoch; ChunkCursor gives it the chunk holding a batch,
// starting a new pass when an epoch (or the final evaluation) begins again at row 0.
import type { BatchRange } from './batches.ts';
import type { Standardizer } from './standardize.ts';

export interface RowChunk {
  /** rows * d features, row-major. */
  x: Float32Array;
  /** Targets (numbers or class indices). */
  y: Float32Array;
  rows: number;
  /** The reader may fill x and y again (SampleChunk.recycle): the cursor calls it when it moves past the chunk. */
  recycle?(): void;
}

export interface RowStream {
  readonly n: number;
  readonly d: number;
  /** Rows per chunk: every chunk of a pass but the last holds exactly this many. */
  readonly chunkRows: number;
  /** One pass over the rows from the start; breaking out of it closes the source. */
  pass(): AsyncIterable<RowChunk>;
}

export interface CursorChunk extends RowChunk {
  /** Index of the chunk in the pass; its first row is index * chunkRows. */
  index: number;
  start: number;
}

export class ChunkCursor {
  private iterator: AsyncIterator<RowChunk> | null = null;
  private current: CursorChunk | null = null;
  /** The next chunk of the pass, already asked for: reading (a file's parse, the page's fetch) overlaps the work on this one. */
  private ahead: Promise<IteratorResult<RowChunk>> | null = null;
  /** Passes started (a test counts them: one per epoch). */
  passes = 0;

  constructor(private readonly stream: RowStream) {
    if (!(Number.isInteger(stream.chunkRows) && stream.chunkRows >= 1)) throw new RangeError(`stream: chunkRows must be a positive integer, got ${stream.chunkRows}`);
  }

  get chunks(): number {
    return Math.ceil(this.stream.n / this.stream.chunkRows);
  }

  /** The chunk holding row `row`: the current one, a later one of this pass, or (earlier) from a new pass. */
  async chunkOf(row: number): Promise<CursorChunk> {
    const { n, d, chunkRows } = this.stream;
    if (!(row >= 0 && row < n)) throw new RangeError(`stream: row ${row} is outside the ${n} rows`);
    const index = Math.floor(row / chunkRows);
    if (this.current && this.current.index === index) return this.current;
    if (!this.current || !this.iterator || index < this.current.index) await this.restart();
    while (this.current!.index < index) await this.advance();
    const c = this.current!;
    if (c.x.length < c.rows * d || c.y.length < c.rows) throw new Error(`stream: chunk ${c.index} holds ${c.x.length} features and ${c.y.length} targets for ${c.rows} rows of ${d} features`);
    return c;
  }

  /** The pieces of a range, chunk by chunk (a mini-batch: one piece; the full batch: every chunk). */
  async *pieces(range: BatchRange): AsyncGenerator<{ chunk: CursorChunk; start: number; rows: number }> {
    const end = range.start + range.rows;
    for (let row = range.start; row < end;) {
      const chunk = await this.chunkOf(row);
      const rows = Math.min(end, chunk.start + chunk.rows) - row;
      yield { chunk, start: row - chunk.start, rows };
      row += rows;
    }
  }

  private async restart(): Promise<void> {
    await this.close();
    this.iterator = this.stream.pass()[Symbol.asyncIterator]();
    this.passes++;
    this.current = null;
    await this.advance();
  }

  private async advance(): Promise<void> {
    const { n, chunkRows } = this.stream;
    const index = this.current ? this.current.index + 1 : 0;
    const start = index * chunkRows;
    const pending = this.ahead ?? this.iterator!.next();
    this.ahead = null;
    const next = await pending;
    if (next.done) throw new Error(`stream: the data ended after ${start} rows, expected ${n} (did the file change between passes?)`);
    this.current?.recycle?.();
    const c = next.value;
    const expected = Math.min(chunkRows, n - start);
    if (c.rows !== expected) throw new Error(`stream: chunk ${index} holds ${c.rows} rows, expected ${expected} (did the file change between passes?)`);
    this.current = { ...c, index, start };
    if (start + c.rows < n) {
      this.ahead = this.iterator!.next();
      this.ahead.catch(() => undefined); // a failed read surfaces when that chunk is asked for
    }
  }

  async close(): Promise<void> {
    this.current?.recycle?.();
    const it = this.iterator;
    const ahead = this.ahead;
    this.iterator = null;
    this.current = null;
    this.ahead = null;
    await ahead?.catch(() => undefined); // a generator returns only once its pending read settles
    await it?.return?.();
  }
}

/** Standardizes a chunk's rows in place (as standardizeData does into new arrays) and returns it. */
export function standardizeChunk<C extends RowChunk>(c: C, d: number, s: Standardizer): C {
  const { x, y, rows } = c;
  for (let i = 0, row = 0; i < rows; i++, row += d) {
    for (let j = 0; j < d; j++) x[row + j] = (x[row + j] - s.mean[j]) / s.std[j];
    y[i] = (y[i] - s.yMean) / s.yStd;
  }
  return c;
}
