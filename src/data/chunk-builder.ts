// The part every streaming reader shares: choosing the columns by name and turning rows of cells into
// fixed-size float32 chunks under the missing-value policy. It follows select.ts message for message
// (selectLinearData works on a whole Table, these work one row at a time), so a streamed file and the
// same file read whole give the same errors, the same kept rows and the same dropped count.
// The target is a number (regression, the linear model), a class label (a LabelCoder turns it into an
// index) or absent (predict): every reader passes that choice through, so every format supports all three.
import { FLOAT32_MAX } from '../core/float32.ts';
import { DataError, MissingColumnError, type DataErrorLocation } from './errors.ts';
import { classifyCell, type InvalidPolicy } from './select.ts';
import { labelOf, type LabelCoder } from './labels.ts';
import type { SampleChunk } from './source.ts';

export interface ColumnChoice {
  features: string[];
  /** null: no target column (predict). */
  target: string | null;
  /** Features, then the target when there is one: the names of `indices`. */
  names: string[];
  /** Indices into the source's columns: features first, then the target last (when there is one). */
  indices: number[];
}

/**
 * Validates `target` and `features` against `columns` as selectLinearData does. Without `features`,
 * every other column for which `isNumeric(k)` holds is a feature; each reader says what evidence that is.
 */
export function chooseColumns(
  columns: readonly string[],
  opts: { target: string | null; features?: string[] },
  file: string,
  isNumeric: (col: number) => boolean,
): ColumnChoice {
  const colIndex = new Map(columns.map((c, k) => [c, k]));
  const requireColumn = (name: string, role: string): number => {
    const k = colIndex.get(name);
    if (k === undefined) throw new MissingColumnError(name, role, columns, file);
    return k;
  };
  const target = opts.target;
  const targetCol = target === null ? -1 : requireColumn(target, 'target');
  let features: string[];
  if (opts.features !== undefined) {
    features = [...opts.features];
    if (features.length === 0) throw new DataError('at least one feature column is required', { file });
    const seen = new Set<string>();
    for (const f of features) {
      if (seen.has(f)) throw new DataError('listed twice among the features', { file, column: f });
      seen.add(f);
      if (f === target) throw new DataError('is the target, so it cannot also be a feature', { file, column: f });
      requireColumn(f, 'feature');
    }
  } else {
    features = columns.filter((_, k) => k !== targetCol && isNumeric(k));
    if (features.length === 0) {
      throw new DataError(target === null ? 'no numeric feature columns' : `no numeric feature columns besides the target ${JSON.stringify(target)}`, { file });
    }
  }
  const featureCols = features.map((f) => colIndex.get(f)!);
  return target === null
    ? { features, target, names: [...features], indices: featureCols }
    : { features, target, names: [...features, target], indices: [...featureCols, targetCol] };
}

/** The message select.ts gives when every row was dropped. */
export function noRowsLeft(file: string, dropped: number): DataError {
  return new DataError(`no rows left after dropping ${dropped} row${dropped === 1 ? '' : 's'} with missing or invalid values`, {
    file,
  });
}

/** How the target column is read: a number, a class label (indexed by the coder), or no target at all. */
export type TargetReading = { kind: 'number' } | { kind: 'label'; coder: LabelCoder } | { kind: 'none' };

export const NUMBER_TARGET: TargetReading = { kind: 'number' };

/** The reading that SourceOptions ask for: no target, a label target (with `labels`), or a number. */
export function targetReading(opts: { target: string | null; labels?: LabelCoder }): TargetReading {
  if (opts.target === null) return { kind: 'none' };
  return opts.labels ? { kind: 'label', coder: opts.labels } : NUMBER_TARGET;
}

/**
 * Collects kept rows into chunks of exactly maxRows rows (the last one ragged). A full chunk is handed
 * out only when the next kept row arrives or at finish(), so rows dropped after it still count in it
 * and every chunk a reader yields has rows >= 1: the GPU side never sees an empty chunk. Without a
 * target, y is empty.
 */
export class ChunkBuilder {
  private readonly d: number;
  /** Values per input row: d features, plus the target when there is one. */
  private readonly width: number;
  private x: Float32Array | null = null;
  private y: Float32Array | null = null;
  private n = 0;
  private dropped = 0;
  private firstLine: number | undefined;
  private lastLine: number | undefined;
  private started = false;
  private lastInputRow = -1;
  private readonly values: Float64Array;
  /** Rows kept and dropped over the whole pass. */
  keptTotal = 0;
  droppedTotal = 0;

  constructor(
    /** Features, then the target (if any): names for error messages (ColumnChoice.names). */
    private readonly names: readonly string[],
    private readonly maxRows: number,
    private readonly policy: InvalidPolicy,
    private readonly target: TargetReading = NUMBER_TARGET,
    /** Where given-back chunk buffers wait to be filled again (shared by the passes of one source). */
    private readonly free: ChunkBuffers = new ChunkBuffers(),
  ) {
    if (!Number.isInteger(maxRows) || maxRows < 1) throw new RangeError(`maxRows must be a positive integer, got ${maxRows}`);
    this.width = names.length;
    this.d = target.kind === 'none' ? names.length : names.length - 1;
    this.values = new Float64Array(names.length);
  }

  /**
   * One input row: cell(k) for k < d is feature k, cell(d) the target. Every chosen cell is checked
   * before the row is dropped, so a bad cell is never hidden by a missing one (as in select.ts).
   * `where` is called only to build an error; `line` marks the chunk's first line (CSV).
   */
  addCells(cell: (k: number) => unknown, where: () => DataErrorLocation, line?: number): SampleChunk | null {
    let missing = false;
    const vals = this.values;
    for (let k = 0; k < this.d; k++) {
      const c = classifyCell(cell(k));
      if (c.kind === 'number') vals[k] = c.value;
      else if ((c.kind === 'missing' && this.policy !== 'error') || (c.kind === 'infinite' && this.policy === 'drop')) {
        missing = true;
      } else {
        const reason = c.kind === 'missing' ? 'missing value (--on-invalid error)' : c.reason;
        throw new DataError(reason, { ...where(), column: this.names[k] });
      }
    }
    if (this.target.kind === 'label') {
      const k = this.labelIndex(cell(this.d), this.target.coder, where);
      if (k === null) missing = true;
      else vals[this.d] = k;
    } else if (this.target.kind === 'number') {
      const c = classifyCell(cell(this.d));
      if (c.kind === 'number') vals[this.d] = c.value;
      else if ((c.kind === 'missing' && this.policy !== 'error') || (c.kind === 'infinite' && this.policy === 'drop')) {
        missing = true;
      } else {
        const reason = c.kind === 'missing' ? 'missing value (--on-invalid error)' : c.reason;
        throw new DataError(reason, { ...where(), column: this.names[this.d] });
      }
    }
    if (missing) {
      this.noteStart(line);
      this.dropped++;
      this.droppedTotal++;
      return null;
    }
    return this.keep(vals, line);
  }

  /** A label's index, or null when the cell is missing (and the policy drops the row). */
  private labelIndex(v: unknown, coder: LabelCoder, where: () => DataErrorLocation): number | null {
    const column = this.names[this.d];
    const label = labelOf(v);
    if (label === undefined) throw new DataError(`${JSON.stringify(v)} cannot be a class label`, { ...where(), column });
    if (label === null) {
      if (this.policy !== 'error') return null;
      throw new DataError('missing value (--on-invalid error)', { ...where(), column });
    }
    const k = coder.code(label);
    if (k === undefined) {
      throw new DataError(`class ${JSON.stringify(label)} is not one the model knows (${coder.known().join(', ')})`, { ...where(), column });
    }
    return k;
  }

  /**
   * Fast path for already-numeric rows (raw float32, typed Arrow/Parquet columns): src[off + idx[k]].
   * A row with a non-finite value, or any row with a label target, goes through addCells so that the
   * policy and messages are the same.
   */
  addNumbers(src: ArrayLike<number>, off: number, idx: ArrayLike<number>, where: () => DataErrorLocation): SampleChunk | null {
    if (this.target.kind === 'label') return this.addCells((j) => src[off + idx[j]], where);
    for (let k = 0; k < this.width; k++) {
      const v = src[off + idx[k]];
      // v - v is 0 exactly for finite v; NaN and ±Infinity give NaN. Float32 inputs are always in range.
      if (v - v !== 0 || Math.abs(v) > FLOAT32_MAX) return this.addCells((j) => src[off + idx[j]], where);
    }
    const vals = this.values;
    for (let k = 0; k < this.width; k++) vals[k] = src[off + idx[k]];
    return this.keep(vals, undefined);
  }

  /**
   * Bulk form of addNumbers for float32 records (the raw format's hot loop, ~10^8 rows per epoch):
   * record r of `rows` starts at src[r * stride]; values are copied straight into the chunk, with no
   * per-row call or float64 staging. Returns the chunks completed meanwhile (a block holds few).
   */
  addRecords(src: Float32Array, rows: number, stride: number, idx: Int32Array, where: (r: number) => DataErrorLocation): SampleChunk[] {
    const out: SampleChunk[] = [];
    if (this.target.kind !== 'number') {
      for (let r = 0, off = 0; r < rows; r++, off += stride) {
        const c = this.addNumbers(src, off, idx, () => where(r));
        if (c) out.push(c);
      }
      return out;
    }
    const d = this.d;
    const target = idx[d];
    for (let r = 0, off = 0; r < rows; r++, off += stride) {
      let finite = true;
      for (let k = 0; k <= d; k++) {
        const v = src[off + idx[k]];
        if (v - v !== 0) {
          finite = false;
          break;
        }
      }
      if (!finite) {
        const c = this.addCells((k) => src[off + idx[k]], () => where(r));
        if (c) out.push(c);
        continue;
      }
      if (this.n === this.maxRows) out.push(this.take());
      if (this.x === null || this.y === null) this.allocate();
      this.started = true;
      const x = this.x!;
      const row = this.n * d;
      for (let j = 0; j < d; j++) x[row + j] = src[off + idx[j]];
      this.y![this.n] = src[off + target];
      this.n++;
      this.keptTotal++;
    }
    return out;
  }

  /** The last chunk, or null when the pass kept nothing after the previous chunk. */
  finish(): SampleChunk | null {
    return this.n > 0 ? this.take() : null;
  }

  private noteStart(line: number | undefined): void {
    if (!this.started) {
      this.started = true;
      this.firstLine = line;
    }
  }

  /**
   * Arrays for the next chunk: given-back ones, else fresh ones (a consumer that recycles nothing, such as
   * the GPU upload that may still be reading the previous chunk, gets fresh arrays every time).
   */
  private allocate(): void {
    const again = this.free.take(this.maxRows * this.d, this.target.kind === 'none' ? 0 : this.maxRows);
    if (again) {
      this.x = again.x;
      this.y = again.y;
      return;
    }
    this.x = new Float32Array(this.maxRows * this.d);
    this.y = new Float32Array(this.target.kind === 'none' ? 0 : this.maxRows);
  }

  private keep(vals: Float64Array, line: number | undefined): SampleChunk | null {
    const out = this.n === this.maxRows ? this.take() : null;
    this.noteStart(line);
    if (this.x === null || this.y === null) this.allocate();
    const d = this.d;
    const row = this.n * d;
    const x = this.x!;
    for (let j = 0; j < d; j++) x[row + j] = vals[j];
    if (this.target.kind !== 'none') this.y![this.n] = vals[d];
    this.n++;
    this.lastLine = line;
    this.lastInputRow = this.keptTotal + this.droppedTotal;
    this.keptTotal++;
    return out;
  }

  private take(): SampleChunk {
    const n = this.n;
    const full = n === this.maxRows;
    const chunk: SampleChunk = {
      // slice, not subarray: a view would keep the whole maxRows allocation alive for a short last chunk.
      x: full ? this.x! : this.x!.slice(0, n * this.d),
      y: full || this.target.kind === 'none' ? this.y! : this.y!.slice(0, n),
      rows: n,
      droppedRows: this.dropped,
    };
    if (this.firstLine !== undefined) chunk.firstLine = this.firstLine;
    if (this.lastLine !== undefined) chunk.lastLine = this.lastLine;
    chunk.lastInputRow = this.lastInputRow;
    const buffers = { x: this.x!, y: this.y! };
    if (full) {
      let given = false;
      chunk.recycle = () => {
        if (given) return;
        given = true;
        this.free.give(buffers);
      };
    } else {
      this.free.give(buffers); // the chunk holds copies
    }
    this.x = null;
    this.y = null;
    this.n = 0;
    this.dropped = 0;
    this.started = false;
    this.firstLine = undefined;
    this.lastLine = undefined;
    return chunk;
  }
}

/**
 * Chunk buffers given back by consumers (SampleChunk.recycle), reused by the next chunk of the same size.
 * One per source (buffersOf), so that every pass of a streamed run fills the same few buffers: dropped
 * arrays of tens of MiB are freed only when the garbage collector gets to them, so a run that reads a
 * fresh chunk per chunk can hold several chunks more than it uses.
 */
export class ChunkBuffers {
  private readonly kept: { x: Float32Array; y: Float32Array }[] = [];
  /** At most this many wait here; more are left to the garbage collector. */
  constructor(private readonly max = 4) {}

  take(xLength: number, yLength: number): { x: Float32Array; y: Float32Array } | undefined {
    const k = this.kept.findIndex((b) => b.x.length === xLength && b.y.length === yLength);
    return k < 0 ? undefined : this.kept.splice(k, 1)[0];
  }

  give(b: { x: Float32Array; y: Float32Array }): void {
    if (this.kept.length >= this.max) this.kept.shift();
    this.kept.push(b);
  }
}

const poolOf = new WeakMap<object, ChunkBuffers>();

/** The source options' own buffers, else one set per options object (a source keeps its options for every pass). */
export function buffersOf(opts: { buffers?: ChunkBuffers }): ChunkBuffers {
  if (opts.buffers) return opts.buffers;
  let b = poolOf.get(opts);
  if (!b) poolOf.set(opts, (b = new ChunkBuffers()));
  return b;
}

