// Streamed rows: a dataset read chunk by chunk, one pass per epoch, so that memory holds about one chunk
// whatever the file size. The one loop cuts mini-batches inside chunks (BatchSchedule's chunkRows), so a
// program walks the chunks in order during an epoch; ChunkCursor gives it the chunk holding a batch,
// starting a new pass when an epoch (or the final evaluation) begins again at row 0.
import type { BatchRange } from './batches.ts';
import type { Standardizer } from './standardize.ts';

export interface RowChunk {
  /** rows * d features, row-major; a longer array is allowed (a reused buffer): only the first rows * d are read. */
  x: Float32Array;
  /** Targets (numbers or class indices); at least rows of them. */
  y: Float32Array;
  rows: number;
  /**
   * The reader may fill x and y again (SampleChunk.recycle). Called at most once per chunk, when its consumer is
   * done with x and y: the cursor when it moves past the chunk, or earlier where an evaluator keeps a copy.
   */
  recycle?(): void;
}

/**
 * Rows read chunk by chunk. The contract, checked on every chunk of every pass (checkedPass) and named when
 * broken: n, d and chunkRows are whole numbers >= 1; every pass yields the same n rows from the start, in chunks
 * of exactly chunkRows rows but the last, which holds the rest, and then ends; each chunk is a RowChunk as above.
 * What the model refuses in rows in memory (a label out of range, a target its loss cannot take, a negative or
 * non-finite weight) it refuses in every chunk, naming the row by its place in the whole stream.
 */
export interface RowStream {
  readonly n: number;
  readonly d: number;
  /** Rows per chunk: every chunk of a pass but the last holds exactly this many. */
  readonly chunkRows: number;
  /** One pass over the rows from the start; breaking out of it closes the source. */
  pass(): AsyncIterable<RowChunk>;
}

/** The stream's shape, each part named when wrong (what: the entry that was given it). */
export function checkRowStream(stream: RowStream, what: string): void {
  if (typeof stream !== 'object' || stream === null) throw new TypeError(`${what}: expected a RowStream (n, d, chunkRows, pass()), got ${stream === null ? 'null' : typeof stream}`);
  for (const key of ['n', 'd', 'chunkRows'] as const) {
    const v = stream[key];
    if (!(Number.isSafeInteger(v) && v >= 1)) throw new RangeError(`${what}: stream.${key} must be a whole number >= 1, got ${v}`);
  }
  if (typeof stream.pass !== 'function') throw new TypeError(`${what}: stream.pass must be a function returning the chunks of one pass, got ${typeof stream.pass}`);
}

/** One pass of the stream, each chunk checked against the RowStream contract before it is handed on. */
export async function* checkedPass(stream: RowStream): AsyncGenerator<RowChunk> {
  const { n, d, chunkRows } = stream;
  const chunks = stream.pass();
  if (!chunks || (typeof (chunks as AsyncIterable<RowChunk>)[Symbol.asyncIterator] !== 'function' && typeof (chunks as unknown as Iterable<RowChunk>)[Symbol.iterator] !== 'function')) {
    throw new TypeError(`stream: pass() must return an AsyncIterable of chunks, got ${chunks === null ? 'null' : typeof chunks}`);
  }
  let start = 0;
  let index = 0;
  for await (const c of chunks) {
    if (start >= n) throw new RangeError(`stream: the pass went on after its ${n} rows (chunk ${index}); a pass ends with its last row`);
    checkChunk(c, index, Math.min(chunkRows, n - start), d);
    yield c;
    start += c.rows;
    index++;
  }
  if (start < n) throw new Error(`stream: the data ended after ${start} rows, expected ${n} (did the file change between passes?)`);
}

function checkChunk(c: RowChunk, index: number, expected: number, d: number): void {
  const at = `stream: chunk ${index}`;
  if (typeof c !== 'object' || c === null) throw new TypeError(`${at} is ${c === null ? 'null' : typeof c}, expected { x, y, rows }`);
  if (c.rows !== expected) throw new RangeError(`${at} holds ${c.rows} rows, expected ${expected} (did the file change between passes?)`);
  if (!(c.x instanceof Float32Array)) throw new TypeError(`${at}: x must be a Float32Array, got ${describe(c.x)}`);
  if (!(c.y instanceof Float32Array)) throw new TypeError(`${at}: y must be a Float32Array, got ${describe(c.y)}`);
  if (c.x.length < c.rows * d) throw new RangeError(`${at}: x holds ${c.x.length} values, ${c.rows} rows of ${d} features need ${c.rows * d}`);
  if (c.y.length < c.rows) throw new RangeError(`${at}: y holds ${c.y.length} values for ${c.rows} rows`);
  if (c.recycle !== undefined && typeof c.recycle !== 'function') throw new TypeError(`${at}: recycle must be a function or absent, got ${typeof c.recycle}`);
}

function describe(v: unknown): string {
  return v === null ? 'null' : typeof v === 'object' ? (v as object).constructor?.name ?? 'an object' : typeof v;
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
    checkRowStream(stream, 'stream');
  }

  get chunks(): number {
    return Math.ceil(this.stream.n / this.stream.chunkRows);
  }

  /** The chunk holding row `row`: the current one, a later one of this pass, or (earlier) from a new pass. */
  async chunkOf(row: number): Promise<CursorChunk> {
    const { n, chunkRows } = this.stream;
    if (!(row >= 0 && row < n)) throw new RangeError(`stream: row ${row} is outside the ${n} rows`);
    const index = Math.floor(row / chunkRows);
    if (this.current && this.current.index === index) return this.current;
    if (!this.current || !this.iterator || index < this.current.index) await this.restart();
    while (this.current!.index < index) await this.advance();
    return this.current!;
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
    this.iterator = checkedPass(this.stream);
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
    this.current = { x: c.x, y: c.y, rows: c.rows, index, start, recycle: once(c) };
    if (start + c.rows < n) {
      this.ahead = this.iterator!.next();
      this.ahead.catch(() => undefined); // a failed read surfaces when that chunk is asked for
    } else {
      await this.iterator!.next(); // checkedPass ends the pass here, or throws naming what came after its last row
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

/** The chunk's own recycle (called on the chunk, as its reader wrote it), at most once however often it is asked for. */
function once(c: RowChunk): (() => void) | undefined {
  if (!c.recycle) return undefined;
  let given = false;
  return () => {
    if (given) return;
    given = true;
    c.recycle!();
  };
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
