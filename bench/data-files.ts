// Large generated datasets for the memory test and the remote bench, written block by block so that the
// writer holds one block whatever the size: y = w·x + b + noise over d float32 features, the same rows in
// every format (raw .f32, Arrow IPC file, Parquet). hyparquet only reads, so Parquet is written here:
// FLOAT columns, required, PLAIN, one v1 data page per column chunk, each page compressed whole by a real
// encoder (ZSTD: the `zstd` command; GZIP: node:zlib) as the format says for v1 pages.
import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { Field, Float32, RecordBatch, RecordBatchFileWriter, Schema, makeData, Struct } from 'apache-arrow';
import { createRawWriter } from '../src/data/raw-format.ts';

export type ParquetCodec = 'UNCOMPRESSED' | 'GZIP' | 'ZSTD';
const CODEC_IDS: Record<ParquetCodec, number> = { UNCOMPRESSED: 0, GZIP: 2, ZSTD: 6 };
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

/** Thrift compact protocol: the parts a footer and a page header need. */
class Compact {
  bytes: number[] = [];
  private last: number[] = [0];
  varint(v: number): void {
    let x = BigInt(v);
    while (x >= 0x80n) {
      this.bytes.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.bytes.push(Number(x));
  }
  zigzag(v: number): void {
    const b = BigInt(v);
    this.varint(Number(b >= 0n ? b << 1n : (-b << 1n) - 1n));
  }
  field(id: number, type: number): void {
    const delta = id - this.last[this.last.length - 1];
    if (delta > 0 && delta <= 15) this.bytes.push((delta << 4) | type);
    else {
      this.bytes.push(type);
      this.zigzag(id);
    }
    this.last[this.last.length - 1] = id;
  }
  i32(id: number, v: number): void {
    this.field(id, 5);
    this.zigzag(v);
  }
  i64(id: number, v: number): void {
    this.field(id, 6);
    this.zigzag(v);
  }
  str(s: string): void {
    const b = new TextEncoder().encode(s);
    this.varint(b.length);
    this.bytes.push(...b);
  }
  binary(id: number, s: string): void {
    this.field(id, 8);
    this.str(s);
  }
  struct(id: number | null, body: () => void): void {
    if (id !== null) this.field(id, 12);
    this.last.push(0);
    body();
    this.last.pop();
    this.bytes.push(0);
  }
  list(id: number, elemType: number, items: (() => void)[]): void {
    this.field(id, 9);
    if (items.length < 15) this.bytes.push((items.length << 4) | elemType);
    else {
      this.bytes.push(0xf0 | elemType);
      this.varint(items.length);
    }
    for (const item of items) item();
  }
}

function compress(codec: ParquetCodec, page: Uint8Array): Uint8Array {
  if (codec === 'UNCOMPRESSED') return page;
  if (codec === 'GZIP') return gzipSync(page);
  const z = spawnSync('zstd', ['-q', '-3', '-c'], { input: page, maxBuffer: page.length * 2 + (1 << 20) });
  if (z.status !== 0) throw new Error(`zstd (the command) failed: ${z.stderr?.toString() || z.error?.message}`);
  return new Uint8Array(z.stdout.buffer, z.stdout.byteOffset, z.stdout.byteLength);
}

/** A Parquet file of FLOAT columns x0..x{d-1}, y in row groups of groupRows rows. */
export async function writeParquetFile(path: string, rows: number, d: number, codec: ParquetCodec, groupRows = 1 << 18): Promise<void> {
  const names = [...featureNames(d), 'y'];
  const fh = await open(path, 'w');
  let offset = 0;
  const write = async (b: Uint8Array) => {
    await fh.write(b);
    offset += b.length;
  };
  const groups: { rows: number; bytes: number; columns: { at: number; total: number; plain: number }[] }[] = [];
  try {
    await write(new TextEncoder().encode('PAR1'));
    for (const { x, y, m } of blocks(rows, d, groupRows)) {
      const columns: { at: number; total: number; plain: number }[] = [];
      let bytes = 0;
      for (let k = 0; k <= d; k++) {
        const v = new Float32Array(m);
        if (k < d) for (let r = 0; r < m; r++) v[r] = x[r * d + k];
        else v.set(y.subarray(0, m));
        const plain = new Uint8Array(v.buffer);
        const body = compress(codec, plain);
        const ph = new Compact();
        ph.struct(null, () => {
          ph.i32(1, 0); // DATA_PAGE
          ph.i32(2, plain.length);
          ph.i32(3, body.length);
          ph.struct(5, () => {
            ph.i32(1, m);
            ph.i32(2, 0); // PLAIN
            ph.i32(3, 3); // RLE (no levels: required column)
            ph.i32(4, 3);
          });
        });
        const at = offset;
        await write(Uint8Array.from(ph.bytes));
        await write(body);
        columns.push({ at, total: ph.bytes.length + body.length, plain: ph.bytes.length + plain.length });
        bytes += ph.bytes.length + body.length;
      }
      groups.push({ rows: m, bytes, columns });
    }
    const fm = new Compact();
    fm.struct(null, () => {
      fm.i32(1, 1);
      fm.list(2, 12, [
        () => fm.struct(null, () => {
          fm.binary(4, 'schema');
          fm.i32(5, names.length);
        }),
        ...names.map((name) => () => fm.struct(null, () => {
          fm.i32(1, 4); // FLOAT
          fm.i32(3, 0); // REQUIRED
          fm.binary(4, name);
        })),
      ]);
      fm.i64(3, rows);
      fm.list(4, 12, groups.map((g) => () => fm.struct(null, () => {
        fm.list(1, 12, g.columns.map((c, k) => () => fm.struct(null, () => {
          fm.i64(2, c.at);
          fm.struct(3, () => {
            fm.i32(1, 4);
            fm.list(2, 5, [() => fm.zigzag(0)]); // PLAIN
            fm.list(3, 8, [() => fm.str(names[k])]);
            fm.i32(4, CODEC_IDS[codec]);
            fm.i64(5, g.rows);
            fm.i64(6, c.plain);
            fm.i64(7, c.total);
            fm.i64(9, c.at);
          });
        }))),
        fm.i64(2, g.bytes);
        fm.i64(3, g.rows);
      })));
    });
    const footer = Uint8Array.from(fm.bytes);
    const tail = new Uint8Array(8);
    new DataView(tail.buffer).setUint32(0, footer.length, true);
    tail.set(new TextEncoder().encode('PAR1'), 4);
    await write(footer);
    await write(tail);
  } finally {
    await fh.close();
  }
}
