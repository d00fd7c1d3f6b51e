// Arrow IPC (file format .arrow/.feather v2, stream format .arrows) through apache-arrow, one record
// batch at a time: the reader yields batches as it reads them, so host memory is one record batch plus
// one chunk. From a Node FileHandle the file format is read by its footer's block offsets; from a
// browser stream, apache-arrow buffers a file-format input whole (a stream-format one it does not).
import { DataType, RecordBatchReader, type RecordBatch, type Schema } from 'apache-arrow';
import type { FileHandle } from 'node:fs/promises';
import type { ByteSource } from './byte-source.ts';
import { buffersOf, ChunkBuilder, chooseColumns, noRowsLeft, targetReading } from './chunk-builder.ts';
import { DataError } from './errors.ts';
import { checkBlob, checkSourceOptions, reasonOf, type SampleChunk, type SampleSource, type SourceOptions } from './source.ts';
import { columnTable, type Table } from './table.ts';

/** A FileHandle (Node) or a ReadableStream / Response / bytes (browser): what RecordBatchReader.from takes. */
type ArrowInput = unknown;
type AnyReader = Awaited<ReturnType<typeof RecordBatchReader.from>>;

interface Opened {
  reader: AsyncIterable<RecordBatch> & { schema: Schema; cancel(): void | Promise<void> };
  close(): Promise<void>;
}

async function openReader(open: () => Promise<{ input: ArrowInput; close(): Promise<void> }>, file: string): Promise<Opened> {
  const { input, close } = await open();
  try {
    const reader = await (RecordBatchReader.from as (src: unknown) => AnyReader | Promise<AnyReader>)(input);
    await reader.open();
    // Bytes that start with an end-of-stream marker (zeros, say) open as an empty stream with no schema.
    if (!reader.schema) throw new Error('no schema message');
    return { reader: reader as unknown as Opened['reader'], close };
  } catch (err) {
    await close();
    if (err instanceof DataError) throw err; // from the bytes themselves (a remote file's HTTP errors)
    throw new DataError(`not a readable Arrow IPC file (${reasonOf(err)})`, { file });
  }
}

export async function arrowSource(
  open: () => Promise<{ input: ArrowInput; close(): Promise<void> }>,
  file: string,
  opts: SourceOptions,
): Promise<SampleSource> {
  const first = await openReader(open, file);
  const fields = first.reader.schema.fields;
  await first.close();
  if (fields.length === 0) throw new DataError('no data rows (the Arrow schema has no columns)', { file });
  const columns = fields.map((f) => f.name);
  // Default features: integer and floating-point columns by the schema (no rows sampled).
  const choice = chooseColumns(columns, opts, file, (k) => DataType.isInt(fields[k].type) || DataType.isFloat(fields[k].type));
  const names = choice.names;
  const policy = opts.invalid ?? 'drop-missing';

  async function* chunks(maxRows: number): AsyncGenerator<SampleChunk> {
    const builder = new ChunkBuilder(names, maxRows, policy, targetReading(opts), buffersOf(opts));
    const { reader, close } = await openReader(open, file);
    const iota = Int32Array.from(names, (_, k) => k);
    const row = new Float64Array(names.length);
    let base = 0; // absolute index of the batch's first row
    try {
      for await (const { batch, index } of batchesOf(reader, file)) {
        const vectors = names.map((name) => batch.getChild(name));
        if (vectors.some((v) => v === null)) throw new DataError(`record batch ${index} lacks a chosen column`, { file });
        // Primitive columns without nulls convert to one typed array each; anything else goes cell by cell.
        const arrays = vectors.map((v) => (v!.nullCount === 0 ? v!.toArray() : null));
        const typed = arrays.every((a) => a instanceof Float64Array || a instanceof Float32Array || a instanceof Int32Array);
        for (let r = 0; r < batch.numRows; r++) {
          const where = () => ({ file, element: base + r });
          let out: SampleChunk | null;
          if (typed) {
            for (let k = 0; k < arrays.length; k++) row[k] = (arrays[k] as ArrayLike<number>)[r];
            out = builder.addNumbers(row, 0, iota, where);
          } else {
            out = builder.addCells((k) => plainValue(vectors[k]!.get(r)), where);
          }
          if (out) yield out;
        }
        base += batch.numRows;
      }
    } finally {
      await Promise.resolve(reader.cancel()).catch(() => {});
      await close();
    }
    if (base === 0) throw new DataError('no data rows (the Arrow file has a schema but no rows)', { file });
    const last = builder.finish();
    if (last) yield last;
    if (builder.keptTotal === 0) throw noRowsLeft(file, builder.droppedTotal);
  }

  return { file, format: 'arrow', features: choice.features, target: choice.target, chunks };
}

/** The reader's record batches, numbered; a batch that cannot be read is a DataError naming it and the rows before it. */
async function* batchesOf(reader: Opened['reader'], file: string): AsyncGenerator<{ batch: RecordBatch; index: number }> {
  const it = reader[Symbol.asyncIterator]();
  let rows = 0;
  for (let index = 0; ; index++) {
    let next: IteratorResult<RecordBatch>;
    try {
      next = await it.next();
    } catch (err) {
      if (err instanceof DataError) throw err;
      throw new DataError(`cannot read record batch ${index} after row ${rows} (${reasonOf(err)}); is the file truncated?`, { file });
    }
    if (next.done) return;
    rows += next.value.numRows;
    yield { batch: next.value, index };
  }
}

/**
 * Every column, every row, held whole (the page's in-memory modes): a Table whose cells are the values as
 * apache-arrow gives them (Int64 as numbers, strings, null for a missing value), under the same messages.
 */
export async function arrowTable(bytes: ByteSource, file: string): Promise<Table> {
  if (bytes.size === 0) throw new DataError('no data rows (the file is empty)', { file });
  const { reader, close } = await openReader(async () => ({ input: fileHandleOf(bytes), close: async () => {} }), file);
  try {
    const columns = reader.schema.fields.map((f) => f.name);
    if (columns.length === 0) throw new DataError('no data rows (the Arrow schema has no columns)', { file });
    const values: unknown[][] = columns.map(() => []);
    for await (const { batch } of batchesOf(reader, file)) {
      columns.forEach((name, k) => {
        const v = batch.getChild(name);
        for (let r = 0; r < batch.numRows; r++) values[k].push(plainValue(v?.get(r)));
      });
    }
    if (values[0].length === 0) throw new DataError('no data rows (the Arrow file has a schema but no rows)', { file });
    return columnTable(file, columns, values, values[0].length);
  } finally {
    await Promise.resolve(reader.cancel()).catch(() => {});
    await close();
  }
}

/** Int64 columns give bigint, which classifyCell would call "not a number". */
function plainValue(v: unknown): unknown {
  return typeof v === 'bigint' ? Number(v) : v;
}

export async function openArrowSource(path: string, opts: SourceOptions): Promise<SampleSource> {
  const { open, stat } = await import('node:fs/promises');
  try {
    if ((await stat(path)).size === 0) throw new DataError('no data rows (the file is empty)', { file: path });
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`cannot read the file (${reasonOf(err)})`, { file: path });
  }
  const openFile = async () => {
    const fh = await open(path, 'r');
    return { input: opts.onBytes ? countedHandle(fh, opts.onBytes) : fh, close: () => fh.close().catch(() => {}) };
  };
  return arrowSource(openFile, path, opts);
}

/** The FileHandle's reads reported to onBytes, in the shape apache-arrow reads (as fileHandleOf below). */
function countedHandle(fh: FileHandle, onBytes: (n: number) => void) {
  return {
    fd: fh.fd,
    stat: () => fh.stat(),
    read: async (buffer: Uint8Array, offset: number, length: number, position: number) => {
      const r = await fh.read(buffer, offset, length, position);
      onBytes(r.bytesRead);
      return r;
    },
    close: () => fh.close(),
  };
}

/**
 * Any ByteSource (a remote file read by ranges) in the shape apache-arrow reads a Node FileHandle in: the
 * file format is then read by its footer's block offsets and the stream format forward, one record batch
 * at a time. A batch is read whole, every column: its buffers lie together, and picking out the chosen
 * columns' buffers would mean decoding the batch's metadata here, for a saving only on wide unused columns.
 */
export function openArrowBytes(open: () => Promise<ByteSource>, file: string, opts: SourceOptions): Promise<SampleSource> {
  const openHandle = async () => {
    const bytes = await open();
    if (bytes.size === 0) {
      await bytes.close();
      throw new DataError('no data rows (the file is empty)', { file });
    }
    return { input: fileHandleOf(bytes), close: () => bytes.close().catch(() => {}) };
  };
  return arrowSource(openHandle, file, opts);
}

function fileHandleOf(bytes: ByteSource) {
  return {
    fd: -1, // apache-arrow tells a FileHandle by its stat() and a numeric fd; it never uses the number
    stat: async () => ({ size: bytes.size }),
    read: async (buffer: Uint8Array, offset: number, length: number, position: number) => {
      const got = await bytes.read(position, length);
      buffer.set(got, offset);
      return { bytesRead: got.length, buffer };
    },
    close: () => bytes.close(),
  };
}

/** Browser: a File or Blob through its stream. */
export async function openArrowBlob(blob: Blob, name: string, opts: SourceOptions): Promise<SampleSource> {
  checkBlob(blob, 'openArrowBlob');
  checkSourceOptions(opts, 'openArrowBlob');
  if (blob.size === 0) throw new DataError('no data rows (the file is empty)', { file: name });
  return arrowSource(async () => ({ input: blob.stream(), close: async () => {} }), name, opts);
}
