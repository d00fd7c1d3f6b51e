// The raw format (.f32): a small header, then row-major little-endian float32 records of d features and
// the target. Described in docs/raw-format.md. Rows interleaved, not an X block then a y block, so one
// sequential read yields complete samples: the streaming reader never seeks and never holds more than
// a block. The header codec is pure (browser-usable); file access goes through a small ByteSource.
import { buffersOf, ChunkBuilder, chooseColumns, noRowsLeft, targetReading } from './chunk-builder.ts';
import { DataError } from './errors.ts';
import { blobBytes, fileBytes, type ByteSource } from './byte-source.ts';
import { checkBlob, checkSourceOptions, type SampleChunk, type SampleSource, type SourceOptions } from './source.ts';
import type { Table } from './table.ts';

export const RAW_MAGIC = 'NABLAF32';
export const RAW_VERSION = 1;
/** magic (8) + version u32 + d u32 + n u64 + names length u32. */
export const RAW_FIXED_HEADER_BYTES = 28;
/** Records start at a multiple of this, so a mapped or read block is aligned for Float32Array. */
export const RAW_DATA_ALIGN = 16;
/** Read and write in blocks of about this many bytes, whatever the chunk size. */
const BLOCK_BYTES = 4 << 20;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export interface RawHeader {
  version: number;
  /** Feature names, then the target's name last: d + 1 columns per record. */
  columns: string[];
  d: number;
  n: number;
  /** Byte offset of the first record. */
  dataOffset: number;
}

export function encodeRawHeader(features: readonly string[], target: string, n: number): Uint8Array {
  const names = new TextEncoder().encode(JSON.stringify([...features, target]));
  const dataOffset = alignUp(RAW_FIXED_HEADER_BYTES + names.length, RAW_DATA_ALIGN);
  const bytes = new Uint8Array(dataOffset); // zero padding after the names
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(RAW_MAGIC), 0);
  view.setUint32(8, RAW_VERSION, true);
  view.setUint32(12, features.length, true);
  view.setBigUint64(16, BigInt(n), true);
  view.setUint32(24, names.length, true);
  bytes.set(names, RAW_FIXED_HEADER_BYTES);
  return bytes;
}

/**
 * Parses and checks a header. `read` returns the bytes at [pos, pos + len) (fewer only at the end);
 * `fileSize` must be exactly dataOffset + n (d + 1) 4, so a truncated file is caught before training.
 */
export async function readRawHeader(read: (pos: number, len: number) => Promise<Uint8Array>, fileSize: number, file: string): Promise<RawHeader> {
  if (fileSize === 0) throw new DataError('no data rows (the file is empty)', { file });
  const fixed = await read(0, RAW_FIXED_HEADER_BYTES);
  const magic = new TextEncoder().encode(RAW_MAGIC);
  // A file shorter than the magic but agreeing with it is a truncated raw file, not some other format.
  if (!fixed.subarray(0, 8).every((b, i) => b === magic[i])) {
    throw new DataError(`not a nabla raw file (expected the magic "${RAW_MAGIC}" at byte 0)`, { file });
  }
  if (fixed.length < RAW_FIXED_HEADER_BYTES) {
    throw new DataError(`truncated header: expected at least ${RAW_FIXED_HEADER_BYTES} bytes, found ${fixed.length}`, { file });
  }
  const view = new DataView(fixed.buffer, fixed.byteOffset, fixed.byteLength);
  const version = view.getUint32(8, true);
  if (version !== RAW_VERSION) throw new DataError(`unsupported raw format version ${version} (this reader knows ${RAW_VERSION})`, { file });
  const d = view.getUint32(12, true);
  const n64 = view.getBigUint64(16, true);
  const namesLength = view.getUint32(24, true);
  if (d === 0) throw new DataError('the header declares no feature columns (d = 0)', { file });
  if (n64 > BigInt(Number.MAX_SAFE_INTEGER)) throw new DataError(`the header's row count ${n64} is not plausible`, { file });
  const n = Number(n64);
  const dataOffset = alignUp(RAW_FIXED_HEADER_BYTES + namesLength, RAW_DATA_ALIGN);
  if (dataOffset > fileSize) {
    throw new DataError(`truncated header: the column names need ${dataOffset} bytes, the file has ${fileSize}`, { file });
  }
  const columns = parseNames(await read(RAW_FIXED_HEADER_BYTES, namesLength), d, file);
  const expected = dataOffset + n * (d + 1) * 4;
  if (fileSize !== expected) {
    const what = fileSize < expected ? 'truncated' : 'has trailing bytes';
    throw new DataError(
      `${what}: the header says n = ${n} rows of d = ${d} features + target, so ${expected} bytes are expected, found ${fileSize}`,
      { file },
    );
  }
  if (n === 0) throw new DataError('no data rows (the header says n = 0)', { file });
  return { version, columns, d, n, dataOffset };
}

function parseNames(bytes: Uint8Array, d: number, file: string): string[] {
  let names: unknown;
  try {
    names = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new DataError(`malformed header: the column names are not valid UTF-8 JSON (${err instanceof Error ? err.message : String(err)})`, { file });
  }
  if (!Array.isArray(names) || names.length !== d + 1 || !names.every((s) => typeof s === 'string' && s !== '')) {
    throw new DataError(`malformed header: expected a JSON array of ${d + 1} non-empty column names (d features, then the target)`, { file });
  }
  if (new Set(names).size !== names.length) throw new DataError('malformed header: duplicate column names', { file });
  return names as string[];
}

/** A raw-format source over any ByteSource opener (one open per pass); `path` when it is a Node file. */
export async function rawSource(open: () => Promise<ByteSource>, file: string, opts: SourceOptions, path?: string): Promise<SampleSource> {
  const bytes = await open();
  let header: RawHeader;
  try {
    header = await readRawHeader(bytes.read, bytes.size, file);
  } finally {
    await bytes.close();
  }
  const { columns, d: dFile, n, dataOffset } = header;
  // Every column of a raw file is numeric; the default features are all but the target, in file order.
  const choice = chooseColumns(columns, opts, file, () => true);
  const policy = opts.invalid ?? 'drop-missing';
  const stride = dFile + 1;
  const idx = Int32Array.from(choice.indices);
  const reading = targetReading(opts);

  async function* chunks(maxRows: number): AsyncGenerator<SampleChunk> {
    const builder = new ChunkBuilder(choice.names, maxRows, policy, reading, buffersOf(opts));
    const src = await open();
    // The next block is asked for while this one is turned into rows: a remote read then overlaps the work.
    let pending: Promise<Uint8Array> | null = null;
    try {
      if (src.size !== bytes.size) throw new DataError(`the file changed size since it was opened (${bytes.size} -> ${src.size} bytes)`, { file });
      const blockRows = Math.max(1, Math.floor(BLOCK_BYTES / (stride * 4)));
      const readAt = (start: number) => {
        const p = src.read(dataOffset + start * stride * 4, Math.min(blockRows, n - start) * stride * 4);
        p.catch(() => undefined); // awaited in turn, unless the pass ends first
        return p;
      };
      pending = n > 0 ? readAt(0) : null;
      for (let start = 0; start < n; start += blockRows) {
        const rows = Math.min(blockRows, n - start);
        const block = await pending!;
        pending = start + blockRows < n ? readAt(start + blockRows) : null;
        if (block.length !== rows * stride * 4) {
          throw new DataError(`truncated while reading: expected ${rows * stride * 4} bytes at row ${start}, got ${block.length}`, { file });
        }
        const done = builder.addRecords(float32View(block), rows, stride, idx, (r) => ({ file, element: start + r }));
        for (const c of done) yield c;
      }
    } finally {
      await pending?.catch(() => undefined); // a read in flight must end before its file closes
      await src.close();
    }
    const last = builder.finish();
    if (last) yield last;
    if (builder.keptTotal === 0) throw noRowsLeft(file, builder.droppedTotal);
  }

  // The page reads stored records as numbers: only for a number target (labels are re-indexed here).
  const records = path === undefined || reading.kind !== 'number' ? undefined : { path, dataOffset, stride, columns: [...choice.indices] };
  return { file, format: 'raw', features: choice.features, target: choice.target, inputRows: n, chunks, ...(records && { records }) };
}

export function openRawSource(path: string, opts: SourceOptions): Promise<SampleSource> {
  return rawSource(() => fileBytes(path, opts.onBytes), path, opts, path);
}

export async function openRawBlob(blob: Blob, name: string, opts: SourceOptions): Promise<SampleSource> {
  checkBlob(blob, 'openRawBlob');
  checkSourceOptions(opts, 'openRawBlob');
  return rawSource(async () => blobBytes(blob), name, opts);
}

/**
 * Every record held whole (the page's in-memory modes): a Table whose every column is numbers, NaN a
 * missing value as in the streamed reader.
 */
export async function rawTable(bytes: ByteSource, file: string): Promise<Table> {
  const { columns, n, dataOffset } = await readRawHeader(bytes.read, bytes.size, file);
  const stride = columns.length;
  const block = await bytes.read(dataOffset, n * stride * 4);
  if (block.length !== n * stride * 4) throw new DataError(`truncated while reading: expected ${n * stride * 4} bytes of records, got ${block.length}`, { file });
  const records = float32View(block);
  return { file, columns, rowCount: n, cell: (row, col) => records[row * stride + col], lineOf: () => null };
}

/** Little-endian float32 values of an aligned byte block (swapped in place on a big-endian host). */
function float32View(block: Uint8Array): Float32Array {
  if (!LITTLE_ENDIAN_HOST) swap4(block);
  return new Float32Array(block.buffer, block.byteOffset, block.byteLength / 4);
}

function swap4(b: Uint8Array): void {
  for (let i = 0; i + 3 < b.length; i += 4) {
    const t0 = b[i];
    const t1 = b[i + 1];
    b[i] = b[i + 3];
    b[i + 1] = b[i + 2];
    b[i + 2] = t1;
    b[i + 3] = t0;
  }
}

function alignUp(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}

/**
 * Streaming writer (Node): header with n = 0 first, records appended in blocks, n patched in at the end.
 * It writes where it is told; convert.ts gives it a temporary name and renames on success.
 */
export async function createRawWriter(path: string, features: readonly string[], target: string) {
  const { open } = await import('node:fs/promises');
  const fh = await open(path, 'w');
  const d = features.length;
  const stride = d + 1;
  let pos = 0;
  let n = 0;
  const write = async (bytes: Uint8Array) => {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, pos + done);
      done += bytesWritten;
    }
    pos += bytes.length;
  };
  await write(encodeRawHeader(features, target, 0));
  return {
    /** Appends rows of x (row-major, d per row) and y. */
    async append(x: Float32Array, y: Float32Array, rows: number): Promise<void> {
      const blockRows = Math.max(1, Math.floor(BLOCK_BYTES / (stride * 4)));
      for (let start = 0; start < rows; start += blockRows) {
        const m = Math.min(blockRows, rows - start);
        const rec = new Float32Array(m * stride);
        for (let r = 0; r < m; r++) {
          rec.set(x.subarray((start + r) * d, (start + r + 1) * d), r * stride);
          rec[r * stride + d] = y[start + r];
        }
        const bytes = new Uint8Array(rec.buffer);
        if (!LITTLE_ENDIAN_HOST) swap4(bytes);
        await write(bytes);
      }
      n += rows;
    },
    /** Patches the row count into the header and closes; returns n. */
    async finish(): Promise<number> {
      const count = new Uint8Array(8);
      new DataView(count.buffer).setBigUint64(0, BigInt(n), true);
      await fh.write(count, 0, 8, 16);
      await fh.close();
      return n;
    },
    async abort(): Promise<void> {
      await fh.close().catch(() => {});
    },
  };
}
