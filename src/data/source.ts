// Streaming sample sources: a dataset as a sequence of float32 chunks, re-read on every pass (one pass
// per epoch), so that host memory holds about one chunk whatever the file size. Every reader applies
// the same column choice and missing-value policy as selectLinearData (see chunk-builder.ts).
import { DataError } from './errors.ts';
import { INVALID_POLICIES, type InvalidPolicy } from './select.ts';
import { rejectUnknownKeys, requireOptionsObject } from '../core/options.ts';
import type { LabelCoder } from './labels.ts';
import type { ChunkBuffers } from './chunk-builder.ts';

/** Samples in memory, row-major: what a model trains on (the models' LinearData and ModelData have this shape). */
export interface Samples {
  x: Float32Array;
  /** Targets: numbers, or class indices for a label target; empty when there is no target. */
  y: Float32Array;
  n: number;
  d: number;
}

export interface SampleChunk {
  /** rows * d features, row-major (the GPU layout); a fresh array per chunk, owned by the consumer. */
  x: Float32Array;
  y: Float32Array;
  /** Rows kept: 1 <= rows <= maxRows; every chunk of a pass but the last has exactly maxRows. */
  rows: number;
  /** Input rows dropped for a missing (or, under 'drop', infinite) value since the previous chunk. */
  droppedRows: number;
  /** CSV and JSON Lines only: the 1-based source line of the first row counted in this chunk. */
  firstLine?: number;
  /** CSV and JSON Lines only: the 1-based source line of the chunk's last kept row. */
  lastLine?: number;
  /** The 0-based index of the chunk's last kept row among every input row of the pass, dropped ones included. */
  lastInputRow?: number;
  /**
   * The consumer is done with x and y: the reader may fill them with a later chunk of the same pass, so
   * that a pass recycles a few chunk buffers instead of leaving one per chunk to the garbage collector.
   * Optional on both sides: a consumer that never calls it gets fresh arrays every chunk.
   */
  recycle?(): void;
}

export interface SampleSource {
  readonly file: string;
  readonly format: SourceFormat;
  readonly features: string[];
  /** null: read without a target (SourceOptions.target null). */
  readonly target: string | null;
  /** Input rows before dropping, where the format records it (raw, Parquet, Arrow file); else undefined. */
  readonly inputRows?: number;
  /**
   * Raw format read from a path (Node): where the records lie, so that a streamed run can hand the GPU
   * page the file itself rather than parsed chunks (when no row is dropped).
   */
  readonly records?: { path: string; dataOffset: number; stride: number; columns: number[] };
  /**
   * One pass over the data. Each call re-reads the source from the start; breaking out of the loop
   * closes the file. Errors (DataError) name the file and the line, element or row.
   */
  chunks(maxRows: number): AsyncIterable<SampleChunk>;
}

export interface SourceOptions {
  /** The target column; null reads the features only (predict), and every chunk's y is then empty. */
  target: string | null;
  /** Default: every other numeric column (each reader says how it decides). */
  features?: string[];
  invalid?: InvalidPolicy;
  /**
   * Read the target as class labels (numbers or strings) rather than numbers: y holds each row's label
   * index from this coder (see labels.ts). A closed coder refuses a label it does not know.
   */
  labels?: LabelCoder;
  /** Where recycled chunk buffers wait for the next chunk (chunk-builder.ts); share one across sources reopened per pass. */
  buffers?: ChunkBuffers;
  /** Told the size of every piece of the file read (after it is read), on every pass: a progress line's bytes. */
  onBytes?: (n: number) => void;
}

const SOURCE_OPTION_KEYS = ['target', 'features', 'invalid', 'labels', 'buffers', 'onBytes'];

/**
 * Checks a reader's options before it opens anything: an object, with a target given (a name, or null), no
 * key the readers do not read (`feature` for features would read every column), a known invalid policy.
 * `extraKeys`: what the opener reads besides (openUrl's HttpOptions). `what` names the opener in messages.
 */
export function checkSourceOptions(opts: unknown, what: string, extraKeys: readonly string[] = []): asserts opts is SourceOptions {
  requireOptionsObject(opts, `${what}: options (at least { target })`);
  rejectUnknownKeys(opts, [...SOURCE_OPTION_KEYS, ...extraKeys], `${what} options`);
  const o = opts as Partial<SourceOptions>;
  if (o.target === undefined) throw new TypeError(`${what}: no target given: options.target is the target column's name, or null to read the features only`);
  if (o.target !== null && typeof o.target !== 'string') throw new TypeError(`${what}: target: expected a column name or null, got ${typeof o.target}`);
  if (o.features !== undefined && !(Array.isArray(o.features) && o.features.every((f) => typeof f === 'string'))) {
    throw new TypeError(`${what}: features: expected an array of column names`);
  }
  if (o.invalid !== undefined && !INVALID_POLICIES.includes(o.invalid)) {
    throw new RangeError(`${what}: invalid: expected ${INVALID_POLICIES.join(', ')}, got ${JSON.stringify(o.invalid)}`);
  }
  if (o.onBytes !== undefined && typeof o.onBytes !== 'function') throw new TypeError(`${what}: onBytes: expected a function, got ${typeof o.onBytes}`);
}

/** A TypeError unless `blob` is a Blob or File (what the browser openers read through blob.stream()). */
export function checkBlob(blob: unknown, what: string): void {
  const b = blob as { stream?: unknown; size?: unknown } | null;
  if (typeof b !== 'object' || b === null || typeof b.stream !== 'function' || typeof b.size !== 'number') {
    throw new TypeError(`${what}: blob: expected a Blob or File, got ${b === null ? 'null' : typeof b === 'object' ? 'an object that is neither' : typeof b}`);
  }
}

export type SourceFormat = 'csv' | 'json' | 'jsonl' | 'parquet' | 'arrow' | 'raw';

/** The formats by file name ending; a name (or a URL's path) is matched case-insensitively. */
export const FORMAT_EXTENSIONS: Readonly<Record<string, SourceFormat>> = {
  '.csv': 'csv', '.json': 'json', '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.parquet': 'parquet', '.arrow': 'arrow', '.arrows': 'arrow', '.feather': 'arrow', '.f32': 'raw',
};

/** The longest matching ending wins: "d.ndjson" also ends in ".json". */
export function sourceFormatOf(path: string): SourceFormat | null {
  const lower = path.toLowerCase();
  let best: string | null = null;
  for (const ending of Object.keys(FORMAT_EXTENSIONS)) {
    if (lower.endsWith(ending) && (best === null || ending.length > best.length)) best = ending;
  }
  return best === null ? null : FORMAT_EXTENSIONS[best];
}

/** e.g. ".csv, .json or .f32", for the messages that say which names are known. */
export function knownExtensions(): string {
  const all = Object.keys(FORMAT_EXTENSIONS);
  return `${all.slice(0, -1).join(', ')} or ${all[all.length - 1]}`;
}

/**
 * Opens a data file (Node) by its extension, or an http(s) URL (url-source.ts; any other scheme is an
 * error naming it); opts may carry openUrl's HttpOptions, which a path does not use. Reads the header or metadata now, so a missing column or an empty file fails here,
 * before any training starts; the rows are read by chunks().
 */
export async function openSource(path: string, opts: SourceOptions): Promise<SampleSource> {
  if (typeof path !== 'string') throw new TypeError(`openSource: path: expected a file path or an http(s) URL, got ${typeof path}`);
  const { looksLikeUrl, HTTP_OPTION_KEYS } = await import('./http-probe.ts');
  if (looksLikeUrl(path)) return (await import('./url-source.ts')).openUrl(path, opts);
  // One options object may serve paths and URLs alike: a URL's HttpOptions are left unused for a path.
  checkSourceOptions(opts, 'openSource', HTTP_OPTION_KEYS);
  const format = sourceFormatOf(path);
  // Readers are imported lazily: a CSV run never loads apache-arrow or hyparquet.
  switch (format) {
    case 'csv':
      return (await import('./csv-stream.ts')).openCsvSource(path, opts);
    case 'json':
      return (await import('./json-source.ts')).openJsonSource(path, opts);
    case 'jsonl':
      return (await import('./jsonl-source.ts')).openJsonlSource(path, opts);
    case 'parquet':
      return (await import('./parquet-source.ts')).openParquetSource(path, opts);
    case 'arrow':
      return (await import('./arrow-source.ts')).openArrowSource(path, opts);
    case 'raw':
      return (await import('./raw-format.ts')).openRawSource(path, opts);
    default:
      throw new DataError(`unknown data format: the name must end in ${knownExtensions()}`, { file: path });
  }
}

/** Rows per chunk for a byte budget: d features + 1 target as float32 per row, at least one row. */
export function rowsPerChunk(chunkBytes: number, d: number): number {
  return Math.max(1, Math.floor(chunkBytes / ((d + 1) * 4)));
}

/** The byte budget that rowsPerChunk turns into exactly `rows` rows of d features. */
export function chunkBytesOfRows(rows: number, d: number): number {
  return rows * (d + 1) * 4;
}

/** Every row of a source in one pair of arrays (y empty without a target): for data that fits in memory. */
export async function readAllChunks(source: SampleSource, maxRows = 65536): Promise<Samples & { droppedRows: number }> {
  if (typeof (source as Partial<SampleSource> | null | undefined)?.chunks !== 'function') {
    throw new TypeError(`source: expected a SampleSource (from openSource, openCsvBlob, openUrl, ...), got ${source === null ? 'null' : typeof source === 'object' ? 'an object without chunks()' : typeof source}`);
  }
  const parts: SampleChunk[] = [];
  let n = 0;
  let droppedRows = 0;
  for await (const c of source.chunks(maxRows)) {
    parts.push(c);
    n += c.rows;
    droppedRows += c.droppedRows;
  }
  const d = source.features.length;
  const x = new Float32Array(n * d);
  const y = new Float32Array(source.target === null ? 0 : n);
  let at = 0;
  for (const c of parts) {
    x.set(c.x, at * d);
    if (y.length > 0) y.set(c.y, at);
    at += c.rows;
  }
  return { x, y, n, d, droppedRows };
}

/** The message of a library error, for wrapping it into a DataError. */
export function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
