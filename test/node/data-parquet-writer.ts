// A minimal Parquet WRITER for test fixtures only (hyparquet reads, it does not write, and the brief
// allows no other package): PLAIN-encoded, one data page (v1) per column chunk, optional columns with
// bit-packed definition levels; uncompressed unless a codec and its compressor are given (the page body
// is compressed whole, as the format says for v1 pages). Enough to produce files with several row groups, nulls,
// INT64 and string columns, which hyparquet, the library under test, then has to read. ParquetLayout lays a
// file out one row group at a time, so that bench/data-files.ts writes large files through it block by block.
import { writeFileSync } from 'node:fs';

export type PqType = 'DOUBLE' | 'FLOAT' | 'INT32' | 'INT64' | 'UTF8';
export type PqValues = (number | bigint | string | null)[] | Float32Array;
export interface PqColumn {
  name: string;
  type: PqType;
  values: PqValues;
}

const PHYSICAL: Record<PqType, number> = { INT32: 1, INT64: 2, FLOAT: 4, DOUBLE: 5, UTF8: 6 };

/** Thrift compact protocol, just the parts the footer and page headers need. */
class Compact {
  bytes: number[] = [];
  private last: number[] = [0];
  varint(v: bigint): void {
    let x = v;
    while (x >= 0x80n) {
      this.bytes.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.bytes.push(Number(x));
  }
  zigzag(v: number | bigint): void {
    const b = BigInt(v);
    this.varint(b >= 0n ? b << 1n : ((-b) << 1n) - 1n);
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
  i64(id: number, v: number | bigint): void {
    this.field(id, 6);
    this.zigzag(v);
  }
  str(s: string): void {
    const b = new TextEncoder().encode(s);
    this.varint(BigInt(b.length));
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
    this.bytes.push(0);
    this.last.pop();
  }
  list(id: number, elemType: number, items: (() => void)[]): void {
    this.field(id, 9);
    if (items.length < 15) this.bytes.push((items.length << 4) | elemType);
    else {
      this.bytes.push(0xf0 | elemType);
      this.varint(BigInt(items.length));
    }
    for (const it of items) it();
  }
}

function plain(type: PqType, values: ArrayLike<number | bigint | string>): Uint8Array {
  if (type === 'UTF8') {
    const parts = Array.from(values, (v) => new TextEncoder().encode(String(v)));
    const out = new Uint8Array(parts.reduce((s, p) => s + 4 + p.length, 0));
    const view = new DataView(out.buffer);
    let at = 0;
    for (const p of parts) {
      view.setUint32(at, p.length, true);
      out.set(p, at + 4);
      at += 4 + p.length;
    }
    return out;
  }
  const size = type === 'INT32' || type === 'FLOAT' ? 4 : 8;
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (type === 'INT32') view.setInt32(i * 4, Number(v), true);
    else if (type === 'FLOAT') view.setFloat32(i * 4, Number(v), true);
    else if (type === 'DOUBLE') view.setFloat64(i * 8, Number(v), true);
    else view.setBigInt64(i * 8, BigInt(v), true);
  }
  return out;
}

const present = (values: PqValues) => Array.from(values as ArrayLike<number | bigint | string | null>).filter((v) => v !== null);

/** Definition levels (bit width 1) as one bit-packed run, with the v1 page's 4-byte length prefix. */
function defLevels(values: PqValues): Uint8Array {
  const groups = Math.ceil(values.length / 8);
  const head = new Compact();
  head.varint(BigInt((groups << 1) | 1));
  const packed = new Uint8Array(groups);
  for (let i = 0; i < values.length; i++) if (values[i] !== null) packed[i >> 3] |= 1 << (i & 7);
  const body = [...head.bytes, ...packed];
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length, true);
  out.set(body, 4);
  return out;
}

/** Parquet's CompressionCodec enum (parquet.thrift). */
export const PARQUET_CODECS = { UNCOMPRESSED: 0, SNAPPY: 1, GZIP: 2, LZO: 3, BROTLI: 4, LZ4: 5, ZSTD: 6, LZ4_RAW: 7 } as const;
export type ParquetCodec = keyof typeof PARQUET_CODECS;

export interface PqCompression {
  codec: ParquetCodec;
  /** A real encoder for `codec` (the writer only frames its output). */
  compress: (page: Uint8Array) => Uint8Array;
}

export interface PqField {
  name: string;
  type: PqType;
  /** With definition levels, so that values may be null. */
  optional: boolean;
}

/**
 * A Parquet file laid out one row group at a time: `head`, the pages `rowGroup` returns for each group in
 * order, then `tail()` (the footer, its length and the magic). Only the footer's entries are kept between
 * groups, so a writer holds one group whatever the file's size.
 */
export class ParquetLayout {
  readonly head = new TextEncoder().encode('PAR1');
  private offset = this.head.length;
  private rows = 0;
  private readonly groups: ((fm: Compact) => void)[] = [];

  constructor(private readonly fields: PqField[], private readonly compression?: PqCompression) {}

  /** One row group (a value array per field, all of one length): its column chunks, one data page each. */
  rowGroup(columns: PqValues[]): Uint8Array[] {
    const rows = columns[0].length;
    const chunks: Uint8Array[] = [];
    const metas: ((fm: Compact) => void)[] = [];
    let groupBytes = 0;
    this.fields.forEach((col, k) => {
      const vals = columns[k];
      const levels = col.optional ? defLevels(vals) : new Uint8Array(0);
      const data = plain(col.type, col.optional ? present(vals) : (vals as ArrayLike<number | bigint | string>));
      const plainBody = new Uint8Array(levels.length + data.length);
      plainBody.set(levels);
      plainBody.set(data, levels.length);
      const pageBody = this.compression ? this.compression.compress(plainBody) : plainBody;
      const ph = new Compact();
      ph.struct(null, () => {
        ph.i32(1, 0); // DATA_PAGE
        ph.i32(2, plainBody.length);
        ph.i32(3, pageBody.length);
        ph.struct(5, () => {
          ph.i32(1, rows);
          ph.i32(2, 0); // PLAIN
          ph.i32(3, 3); // RLE definition levels
          ph.i32(4, 3);
        });
      });
      const pageOffset = this.offset;
      const total = ph.bytes.length + pageBody.length;
      chunks.push(Uint8Array.from(ph.bytes), pageBody);
      this.offset += total;
      groupBytes += total;
      const codec = PARQUET_CODECS[this.compression?.codec ?? 'UNCOMPRESSED'];
      metas.push((fm) =>
        fm.struct(null, () => {
          fm.i64(2, pageOffset);
          fm.struct(3, () => {
            fm.i32(1, PHYSICAL[col.type]);
            fm.list(2, 5, [() => fm.zigzag(0), () => fm.zigzag(3)]);
            fm.list(3, 8, [() => fm.str(col.name)]);
            fm.i32(4, codec);
            fm.i64(5, rows);
            fm.i64(6, total - pageBody.length + plainBody.length);
            fm.i64(7, total);
            fm.i64(9, pageOffset);
          });
        }),
      );
    });
    this.rows += rows;
    this.groups.push((fm) =>
      fm.struct(null, () => {
        fm.list(1, 12, metas.map((m) => () => m(fm)));
        fm.i64(2, groupBytes);
        fm.i64(3, rows);
      }),
    );
    return chunks;
  }

  /** The footer (schema, row count, row groups), its length and the closing magic. */
  tail(): Uint8Array[] {
    const fm = new Compact();
    fm.struct(null, () => {
      fm.i32(1, 1);
      const schema: (() => void)[] = [
        () => fm.struct(null, () => {
          fm.binary(4, 'schema');
          fm.i32(5, this.fields.length);
        }),
        ...this.fields.map((c) => () =>
          fm.struct(null, () => {
            fm.i32(1, PHYSICAL[c.type]);
            fm.i32(3, c.optional ? 1 : 0);
            fm.binary(4, c.name);
            if (c.type === 'UTF8') fm.i32(6, 0);
          }),
        ),
      ];
      fm.list(2, 12, schema);
      fm.i64(3, this.rows);
      fm.list(4, 12, this.groups.map((g) => () => g(fm)));
    });
    const footer = Uint8Array.from(fm.bytes);
    const tail = new Uint8Array(8);
    new DataView(tail.buffer).setUint32(0, footer.length, true);
    tail.set(new TextEncoder().encode('PAR1'), 4);
    return [footer, tail];
  }
}

export function parquetBytes(columns: PqColumn[], rowGroupRows: number, compression?: PqCompression): Uint8Array {
  const n = columns[0].values.length;
  const fields = columns.map(({ name, type, values }) => ({ name, type, optional: present(values).length < values.length }));
  const layout = new ParquetLayout(fields, compression);
  const chunks: Uint8Array[] = [layout.head];
  for (let start = 0; start < n; start += rowGroupRows) {
    chunks.push(...layout.rowGroup(columns.map((c) => c.values.slice(start, start + rowGroupRows))));
  }
  chunks.push(...layout.tail());
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export function writeParquet(path: string, columns: PqColumn[], rowGroupRows: number, compression?: PqCompression): void {
  writeFileSync(path, parquetBytes(columns, rowGroupRows, compression));
}
