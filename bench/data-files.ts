// Large generated datasets for the memory test and the remote bench, written block by block so that the
// writer holds one block whatever the size: y = w·x + b + noise over d float32 features, the same rows in
// every format (raw .f32, Arrow IPC file, Parquet). hyparquet only reads, so Parquet is laid out by the test
// fixtures' writer (test/node/data-parquet-writer.ts), one row group per block: FLOAT columns, required,
// PLAIN, one v1 data page per column chunk, each page compressed whole by a real encoder (ZSTD: the `zstd`
// command; GZIP: node:zlib) as the format says for v1 pages.
import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { Field, Float32, RecordBatch, RecordBatchFileWriter, Schema, makeData, Struct } from 'apache-arrow';
import { createRawWriter } from '../src/data/raw-format.ts';
import { ParquetLayout } from '../test/node/data-parquet-writer.ts';

export type ParquetCodec = 'UNCOMPRESSED' | 'GZIP' | 'ZSTD';
const BLOCK_ROWS = 1 << 16;

/** mulberry32: seeded, so every file of the same shape holds the same rows. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const featureNames = (d: number) => Array.from({ length: d }, (_, j) => `x${j}`);

/** Rows in blocks: x row-major (rows × d) and y; the arrays are reused between blocks. */
function* blocks(rows: number, d: number, blockRows = BLOCK_ROWS): Generator<{ x: Float32Array; y: Float32Array; m: number }> {
  const rand = rng(12345);
  const w = Array.from({ length: d }, (_, j) => (j % 2 ? -1 : 1) * (0.5 + j / d));
  const x = new Float32Array(blockRows * d);
  const y = new Float32Array(blockRows);
  for (let start = 0; start < rows; start += blockRows) {
    const m = Math.min(blockRows, rows - start);
    for (let r = 0; r < m; r++) {
      let s = 0.25;
      for (let j = 0; j < d; j++) {
        const v = rand() * 2 - 1;
        x[r * d + j] = v;
        s += w[j] * v;
      }
      y[r] = s + 0.1 * (rand() - 0.5);
    }
    yield { x, y, m };
  }
}

/** Rows of a raw file of about `bytes` bytes (d features + target, float32). */
export const rowsForBytes = (bytes: number, d: number) => Math.floor(bytes / ((d + 1) * 4));

export async function writeRawFile(path: string, rows: number, d: number): Promise<void> {
  const writer = await createRawWriter(path, featureNames(d), 'y');
  try {
    for (const { x, y, m } of blocks(rows, d)) await writer.append(x.subarray(0, m * d), y.subarray(0, m), m);
    await writer.finish();
  } catch (e) {
    await writer.abort();
    throw e;
  }
}

/** An Arrow IPC file: one record batch per block of rows. */
export async function writeArrowFile(path: string, rows: number, d: number, batchRows = 1 << 18): Promise<void> {
  const names = [...featureNames(d), 'y'];
  const schema = new Schema(names.map((n) => new Field(n, new Float32(), false)));
  const writer = new RecordBatchFileWriter();
  const out = createWriteStream(path);
  const done = finished(writer.toNodeStream().pipe(out));
  for (const { x, y, m } of blocks(rows, d, batchRows)) {
    const cols = names.map((_, k) => {
      const v = new Float32Array(m);
      if (k < d) for (let r = 0; r < m; r++) v[r] = x[r * d + k];
      else v.set(y.subarray(0, m));
      return makeData({ type: new Float32(), length: m, nullCount: 0, data: v });
    });
    const data = makeData({ type: new Struct(schema.fields), length: m, nullCount: 0, children: cols });
    writer.write(new RecordBatch(schema, data));
    if (out.writableNeedDrain) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  writer.finish();
  await done;
}

/** Page compressors: the format's own encoders (ZSTD: the `zstd` command; GZIP: node:zlib). */
const COMPRESSORS: Record<Exclude<ParquetCodec, 'UNCOMPRESSED'>, (page: Uint8Array) => Uint8Array> = {
  GZIP: (page) => gzipSync(page),
  ZSTD: (page) => {
    const z = spawnSync('zstd', ['-q', '-3', '-c'], { input: page, maxBuffer: page.length * 2 + (1 << 20) });
    if (z.status !== 0) throw new Error(`zstd (the command) failed: ${z.stderr?.toString() || z.error?.message}`);
    return new Uint8Array(z.stdout.buffer, z.stdout.byteOffset, z.stdout.byteLength);
  },
};

/** A Parquet file of FLOAT columns x0..x{d-1}, y in row groups of groupRows rows (test/node/data-parquet-writer.ts lays it out). */
export async function writeParquetFile(path: string, rows: number, d: number, codec: ParquetCodec, groupRows = 1 << 18): Promise<void> {
  const names = [...featureNames(d), 'y'];
  const compression = codec === 'UNCOMPRESSED' ? undefined : { codec, compress: COMPRESSORS[codec] };
  const layout = new ParquetLayout(names.map((name) => ({ name, type: 'FLOAT' as const, optional: false })), compression);
  const fh = await open(path, 'w');
  try {
    await fh.write(layout.head);
    for (const { x, y, m } of blocks(rows, d, groupRows)) {
      const columns = names.map((_, k) => {
        const v = new Float32Array(m);
        if (k < d) for (let r = 0; r < m; r++) v[r] = x[r * d + k];
        else v.set(y.subarray(0, m));
        return v;
      });
      for (const b of layout.rowGroup(columns)) await fh.write(b);
    }
    for (const b of layout.tail()) await fh.write(b);
  } finally {
    await fh.close();
  }
}
