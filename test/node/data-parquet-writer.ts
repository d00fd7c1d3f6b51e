// A minimal Parquet WRITER for test fixtures only (hyparquet reads, it does not write, and the brief
// allows no other package): PLAIN-encoded, one data page (v1) per column chunk, optional columns with
// bit-packed definition levels; uncompressed unless a codec and its compressor are given (the page body
// is compressed whole, as the format says for v1 pages). Enough to produce files with several row groups, nulls,
// INT64 and string columns, which hyparquet, the library under test, then has to read.
import { writeFileSync } from 'node:fs';

export type PqType = 'DOUBLE' | 'FLOAT' | 'INT32' | 'INT64' | 'UTF8';
export interface PqColumn {
  name: string;
  type: PqType;
  values: (number | bigint | string | null)[];
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
  binary(id: number, s: string): void {
    this.field(id, 8);
    const b = new TextEncoder().encode(s);
    this.varint(BigInt(b.length));
    this.bytes.push(...b);
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

function plain(type: PqType, values: (number | bigint | string)[]): Uint8Array {
  if (type === 'UTF8') {
    const parts = values.map((v) => new TextEncoder().encode(String(v)));
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
  values.forEach((v, i) => {
    if (type === 'INT32') view.setInt32(i * 4, Number(v), true);
    else if (type === 'FLOAT') view.setFloat32(i * 4, Number(v), true);
    else if (type === 'DOUBLE') view.setFloat64(i * 8, Number(v), true);
    else view.setBigInt64(i * 8, BigInt(v), true);
  });
  return out;
}

/** Definition levels (bit width 1) as one bit-packed run, with the v1 page's 4-byte length prefix. */
function defLevels(values: unknown[]): Uint8Array {
  const groups = Math.ceil(values.length / 8);
  const head = new Compact();
  head.varint(BigInt((groups << 1) | 1));
  const packed = new Uint8Array(groups);
  values.forEach((v, i) => {
    if (v !== null) packed[i >> 3] |= 1 << (i & 7);
  });
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

export function parquetBytes(columns: PqColumn[], rowGroupRows: number, compression?: PqCompression): Uint8Array {
  const n = columns[0].values.length;
  const optional = columns.map((c) => c.values.some((v) => v === null));
  const chunks: Uint8Array[] = [new TextEncoder().encode('PAR1')];
  let offset = 4;
  const groups: (() => void)[] = [];
  for (let start = 0; start < n; start += rowGroupRows) {
    const rows = Math.min(rowGroupRows, n - start);
    const metas: (() => void)[] = [];
    let groupBytes = 0;
    columns.forEach((col, k) => {
      const vals = col.values.slice(start, start + rows);
      const levels = optional[k] ? defLevels(vals) : new Uint8Array(0);
      const data = plain(col.type, vals.filter((v) => v !== null) as (number | bigint | string)[]);
      const plainBody = new Uint8Array(levels.length + data.length);
      plainBody.set(levels);
      plainBody.set(data, levels.length);
      const pageBody = compression ? compression.compress(plainBody) : plainBody;
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
      const pageOffset = offset;
      const total = ph.bytes.length + pageBody.length;
      chunks.push(Uint8Array.from(ph.bytes), pageBody);
      offset += total;
      groupBytes += total;
      metas.push(() =>
        fm.struct(null, () => {
          fm.i64(2, pageOffset);
          fm.struct(3, () => {
            fm.i32(1, PHYSICAL[col.type]);
            fm.list(2, 5, [() => fm.zigzag(0), () => fm.zigzag(3)]);
            fm.list(3, 8, [() => fm.binaryElem(col.name)]);
            fm.i32(4, PARQUET_CODECS[compression?.codec ?? 'UNCOMPRESSED']);
            fm.i64(5, rows);
            fm.i64(6, total - pageBody.length + plainBody.length);
            fm.i64(7, total);
            fm.i64(9, pageOffset);
          });
        }),
      );
    });
    groups.push(() =>
      fm.struct(null, () => {
        fm.list(1, 12, metas);
        fm.i64(2, groupBytes);
        fm.i64(3, rows);
      }),
    );
  }
  const fm = new (class extends Compact {
    binaryElem(s: string): void {
      const b = new TextEncoder().encode(s);
      this.varint(BigInt(b.length));
      this.bytes.push(...b);
    }
  })();
  fm.struct(null, () => {
    fm.i32(1, 1);
    const schema: (() => void)[] = [
      () => fm.struct(null, () => {
        fm.binary(4, 'schema');
        fm.i32(5, columns.length);
      }),
      ...columns.map((c, k) => () =>
        fm.struct(null, () => {
          fm.i32(1, PHYSICAL[c.type]);
          fm.i32(3, optional[k] ? 1 : 0);
          fm.binary(4, c.name);
          if (c.type === 'UTF8') fm.i32(6, 0);
        }),
      ),
    ];
    fm.list(2, 12, schema);
    fm.i64(3, n);
    fm.list(4, 12, groups);
  });
  const footer = Uint8Array.from(fm.bytes);
  const tail = new Uint8Array(8);
  new DataView(tail.buffer).setUint32(0, footer.length, true);
  tail.set(new TextEncoder().encode('PAR1'), 4);
  chunks.push(footer, tail);
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
