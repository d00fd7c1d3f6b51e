// Parquet through hyparquet, one row group at a time: for each row group only the chosen columns are
// read and decoded (hyparquet's column-oriented scan), turned into chunks, and released before the next.
// Host memory is therefore bounded by one row group's chosen columns plus one chunk: a property of the
// file (writers default to row groups of about 1M rows or 128 MiB), not of its total size.
// Pages may be compressed with any codec hyparquet-compressors decodes (Snappy, GZIP, Brotli, ZSTD, LZ4 in
// Hadoop framing, LZ4_RAW); a file using another (LZO) is refused when it is opened, naming the column.
import { parquetMetadataAsync, parquetScan, parquetSchema, type AsyncBuffer, type CompressionCodec, type FileMetaData, type SchemaTree } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { blobBytes, fileBytes, type ByteSource } from './byte-source.ts';
import { buffersOf, ChunkBuilder, chooseColumns, noRowsLeft, targetReading } from './chunk-builder.ts';
import { DataError } from './errors.ts';
import { checkBlob, checkSourceOptions, reasonOf, type SampleChunk, type SampleSource, type SourceOptions } from './source.ts';
import { columnTable, type Table } from './table.ts';

function asyncBuffer(bytes: ByteSource): AsyncBuffer {
  return {
    byteLength: bytes.size,
    slice: async (start, end) => {
      const u = await bytes.read(start, (end ?? bytes.size) - start);
      // hyparquet wants an ArrayBuffer of exactly the slice.
      return u.byteOffset === 0 && u.byteLength === u.buffer.byteLength ? (u.buffer as ArrayBuffer) : (u.slice().buffer as ArrayBuffer);
    },
  };
}

/**
 * Default features: top-level numeric columns by the schema (INT32, INT64, FLOAT, DOUBLE without a date,
 * time, timestamp or decimal annotation). A typed format states its types, so no rows are sampled.
 */
function isNumericLeaf(t: SchemaTree): boolean {
  const e = t.element;
  if (t.children.length > 0 || e.repetition_type === 'REPEATED') return false;
  if (e.type !== 'INT32' && e.type !== 'INT64' && e.type !== 'FLOAT' && e.type !== 'DOUBLE') return false;
  const logical = e.logical_type?.type;
  if (logical !== undefined && logical !== 'INTEGER') return false;
  const conv = e.converted_type;
  return conv === undefined || /^(U?INT_\d+)$/.test(conv);
}

/** The footer; a file that has none (empty, truncated, not Parquet) is a DataError naming the file. */
async function readMetadata(bytes: ByteSource, file: string): Promise<FileMetaData> {
  try {
    if (bytes.size === 0) throw new DataError('no data rows (the file is empty)', { file });
    return await parquetMetadataAsync(asyncBuffer(bytes));
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`not a readable Parquet file (${reasonOf(err)}); a truncated file loses its footer`, { file });
  }
}

function rowsOf(metadata: FileMetaData, file: string): number {
  const rows = Number(metadata.num_rows);
  if (rows === 0) throw new DataError('no data rows (the file has a schema but no rows)', { file });
  return rows;
}

export async function parquetSource(open: () => Promise<ByteSource>, file: string, opts: SourceOptions): Promise<SampleSource> {
  const bytes = await open();
  let metadata: FileMetaData;
  try {
    metadata = await readMetadata(bytes, file);
  } finally {
    await bytes.close();
  }
  const top = parquetSchema(metadata).children;
  const columns = top.map((t) => t.element.name);
  const choice = chooseColumns(columns, opts, file, (k) => isNumericLeaf(top[k]));
  checkCodecs(metadata, choice.names, file);
  const inputRows = rowsOf(metadata, file);
  const names = choice.names;
  const policy = opts.invalid ?? 'drop-missing';
  // Asked for in schema order, the order in which writers store a row group's column chunks: a server
  // without range requests (remote-stream.ts) is then read forward, once per pass.
  const readOrder = names.map((_, k) => k).sort((p, q) => columns.indexOf(names[p]) - columns.indexOf(names[q]));

  async function* chunks(maxRows: number): AsyncGenerator<SampleChunk> {
    const builder = new ChunkBuilder(names, maxRows, policy, targetReading(opts), buffersOf(opts));
    const src = await open();
    try {
      const scan = await parquetScan({ file: asyncBuffer(src), metadata, columns: names, compressors });
      const iota = Int32Array.from(names, (_, k) => k);
      const row = new Float64Array(names.length);
      for (const { rowStart, rowEnd } of scan.ranges) {
        const cols = await readColumns(scan, names, readOrder, rowStart, rowEnd, file);
        // Float/int typed arrays hold no nulls (hyparquet returns plain arrays for nullable columns).
        const typed = cols.every((c) => c instanceof Float64Array || c instanceof Float32Array || c instanceof Int32Array);
        for (let r = 0; r < rowEnd - rowStart; r++) {
          const where = () => ({ file, element: rowStart + r });
          let out: SampleChunk | null;
          if (typed) {
            for (let k = 0; k < cols.length; k++) row[k] = (cols[k] as ArrayLike<number>)[r];
            out = builder.addNumbers(row, 0, iota, where);
          } else {
            out = builder.addCells((k) => plainValue(cols[k][r]), where);
          }
          if (out) yield out;
        }
      }
    } finally {
      await src.close();
    }
    const last = builder.finish();
    if (last) yield last;
    if (builder.keptTotal === 0) throw noRowsLeft(file, builder.droppedTotal);
  }

  return { file, format: 'parquet', features: choice.features, target: choice.target, inputRows, chunks };
}

type Scan = Awaited<ReturnType<typeof parquetScan>>;

/** The columns' values over one row range, asked for in `order`; a failure to decode names the rows. */
async function readColumns(scan: Scan, names: readonly string[], order: readonly number[], rowStart: number, rowEnd: number, file: string): Promise<ArrayLike<unknown>[]> {
  const cols: ArrayLike<unknown>[] = new Array(names.length);
  try {
    await Promise.all(order.map(async (k) => {
      cols[k] = await scan.readColumn({ column: names[k], rowStart, rowEnd });
    }));
  } catch (err) {
    if (err instanceof DataError) throw err; // from the bytes themselves (a remote file that changed)
    throw new DataError(`cannot decode rows ${rowStart}..${rowEnd - 1} (${reasonOf(err)})`, { file });
  }
  return cols;
}

/**
 * Every column, every row, held whole (the page's in-memory modes): a Table whose cells are the decoded
 * values (INT64 as numbers, strings, null for a missing value), under the same codec check and messages.
 */
export async function parquetTable(bytes: ByteSource, file: string): Promise<Table> {
  const metadata = await readMetadata(bytes, file);
  const columns = parquetSchema(metadata).children.map((t) => t.element.name);
  checkCodecs(metadata, columns, file);
  const rows = rowsOf(metadata, file);
  const scan = await parquetScan({ file: asyncBuffer(bytes), metadata, columns, compressors });
  const values: unknown[][] = columns.map(() => new Array<unknown>(rows));
  const order = columns.map((_, k) => k);
  for (const { rowStart, rowEnd } of scan.ranges) {
    const cols = await readColumns(scan, columns, order, rowStart, rowEnd, file);
    for (let k = 0; k < cols.length; k++) {
      for (let r = 0; r < rowEnd - rowStart; r++) values[k][rowStart + r] = plainValue(cols[k][r]);
    }
  }
  return columnTable(file, columns, values, rows);
}

const READABLE_CODECS = new Set<CompressionCodec>(['UNCOMPRESSED', ...(Object.keys(compressors) as CompressionCodec[])]);

/** Every chosen column chunk must use a codec we can decode: refused here, before any training starts. */
function checkCodecs(metadata: FileMetaData, names: string[], file: string): void {
  const chosen = new Set(names);
  for (const group of metadata.row_groups) {
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      if (!meta || !chosen.has(meta.path_in_schema[0])) continue;
      if (!READABLE_CODECS.has(meta.codec)) {
        throw new DataError(`compressed with ${meta.codec}, which nabla cannot decode (it reads ${[...READABLE_CODECS].join(', ')}); ` +
          'rewrite the file with another codec', { file, column: meta.path_in_schema[0] });
      }
    }
  }
}

/** INT64 columns decode to bigint; as a float32 sample only the number matters. */
function plainValue(v: unknown): unknown {
  return typeof v === 'bigint' ? Number(v) : v;
}

export function openParquetSource(path: string, opts: SourceOptions): Promise<SampleSource> {
  return parquetSource(() => fileBytes(path, opts.onBytes), path, opts);
}

export async function openParquetBlob(blob: Blob, name: string, opts: SourceOptions): Promise<SampleSource> {
  checkBlob(blob, 'openParquetBlob');
  checkSourceOptions(opts, 'openParquetBlob');
  return parquetSource(async () => blobBytes(blob), name, opts);
}
