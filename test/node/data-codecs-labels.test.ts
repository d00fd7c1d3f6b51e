// Compressed Parquet (every common codec, real encoders: test/fixtures/parquet/README.md), an unknown
// codec refused from the footer, and the target read as class labels or not at all, in every format.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { Float64, Table, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { openSource, readAllChunks, type SourceOptions } from '../../src/data/source.ts';
import { LabelCoder, labelOf } from '../../src/data/labels.ts';
import { convertToRaw } from '../../src/data/convert.ts';
import { writeParquet } from './data-parquet-writer.ts';
import { fixture, asyncDataErrorOf as errorOf } from '../data-errors.ts';

let dir = '';
const tmp = (name: string) => join(dir, name);
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nabla-codecs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Parquet codecs', () => {
  const expected = { SNAPPY: 'snappy', GZIP: 'gzip', BROTLI: 'brotli', ZSTD: 'zstd', LZ4_RAW: 'lz4_raw', LZ4: 'lz4' };
  for (const [codec, name] of Object.entries(expected)) {
    it(`${codec}: reads the rows of the fixture`, async () => {
      const path = fixture(`parquet/${name}.parquet`);
      // The fixture really is compressed with this codec (not a plain file under a codec's name).
      const bytes = readFileSync(path);
      const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
      expect(new Set(meta.row_groups.flatMap((g) => g.columns.map((c) => c.meta_data!.codec)))).toEqual(new Set([codec]));
      const all = await readAllChunks(await openSource(path, { target: 'y' }));
      // 48 rows, row 5 has a null x2: dropped.
      expect([all.n, all.droppedRows, all.d]).toEqual([47, 1, 2]);
      const rows = [...Array(48).keys()].filter((i) => i !== 5);
      expect(Array.from(all.x.subarray(0, 4))).toEqual([0, 0, 0.5, 0]);
      for (const [r, i] of rows.entries()) {
        const a = (i % 8) * 0.5;
        const b = Math.floor(i / 8) * 0.25;
        expect([all.x[2 * r], all.x[2 * r + 1], all.y[r]]).toEqual([a, b, 2 * a - 3 * b + 1]);
      }
    });
  }

  it('an unknown codec (LZO) is refused when the file is opened, naming file, column and codec', async () => {
    writeParquet(tmp('lzo.parquet'), [
      { name: 'x', type: 'DOUBLE', values: [1, 2, 3] },
      { name: 'y', type: 'DOUBLE', values: [2, 4, 6] },
    ], 10, { codec: 'LZO', compress: (p) => p });
    const e = await errorOf(openSource(tmp('lzo.parquet'), { target: 'y' }));
    expect(e.message).toMatch(/lzo\.parquet, column "x": compressed with LZO, which nabla cannot decode \(it reads UNCOMPRESSED, .*ZSTD/);
  });
});

describe('labelOf and LabelCoder', () => {
  it('normalizes number-looking labels, trims strings, reads missing cells as null', () => {
    expect(['1.0', ' 01 ', 1, 1n, '1e0'].map(labelOf)).toEqual(['1', '1', '1', '1', '1']);
    expect([' cat ', 'NA', '', null, undefined, NaN, 'nan'].map(labelOf)).toEqual(['cat', null, null, null, null, null, null]);
    expect(labelOf({})).toBeUndefined();
    // A float32 cell (raw, Parquet FLOAT, Arrow Float32) names its class as a CSV would: 0.1, not 0.10000000149011612.
    const f32 = Float32Array.of(0.1, 2.5, 1 / 3, 16777216, -0.7);
    expect(Array.from(f32, labelOf)).toEqual(['0.1', '2.5', '0.33333334', '16777216', '-0.7']);
    expect(['0.1', 0.1, '0.7'].map(labelOf)).toEqual(['0.1', '0.1', '0.7']); // float64 values keep their own shortest form
    expect(labelOf(Math.fround(0.1) + 2 ** -30)).not.toBe(labelOf(Math.fround(0.1))); // distinct values never merge
  });

  it('an open coder sorts numerically when every label is a number, else as strings, and re-indexes y', () => {
    const c = new LabelCoder();
    const y = Float32Array.from(['10', '9', '10', '-1'].map((l) => c.code(l)!));
    expect(c.reindex(y)).toEqual(['-1', '9', '10']);
    expect(Array.from(y)).toEqual([2, 1, 2, 0]);
    const s = new LabelCoder();
    const z = Float32Array.from(['b', '2', 'a'].map((l) => s.code(l)!));
    expect(s.reindex(z)).toEqual(['2', 'a', 'b']);
    expect(Array.from(z)).toEqual([2, 0, 1]);
  });

  it('a closed coder knows only its classes (saved as "1.0" or "1")', () => {
    const c = new LabelCoder(['0.0', '1.0']);
    expect([c.code('0'), c.code('1'), c.code('2')]).toEqual([0, 1, undefined]);
  });
});

describe('the target as class labels or absent, in every format', () => {
  // Three classes written as numbers; a missing label on row 4 (dropped); two features.
  const n = 12;
  const f1 = Array.from({ length: n }, (_, i) => i * 0.5);
  const f2 = Array.from({ length: n }, (_, i) => 10 - i);
  const cls = Array.from({ length: n }, (_, i) => (i === 4 ? null : [2, 0, 1][i % 3]));
  const name = (c: number | null) => (c === null ? null : ['ant', 'bee', 'cat'][c]);

  beforeAll(async () => {
    const csv = (label: (c: number | null) => unknown) =>
      ['f1,f2,c', ...f1.map((_, i) => `${f1[i]},${f2[i]},${label(cls[i]) ?? 'NA'}`)].join('\n');
    await writeFile(tmp('num.csv'), csv((c) => (c === null ? null : `${c}.0`)));
    await writeFile(tmp('str.csv'), csv(name));
    await writeFile(tmp('num.json'), JSON.stringify(f1.map((_, i) => ({ f1: f1[i], f2: f2[i], c: cls[i] }))));
    await writeFile(tmp('str.json'), JSON.stringify(f1.map((_, i) => ({ f1: f1[i], f2: f2[i], c: name(cls[i]) }))));
    for (const [file, c] of [['num', { name: 'c', type: 'DOUBLE', values: cls }], ['str', { name: 'c', type: 'UTF8', values: cls.map(name) }]] as const) {
      writeParquet(tmp(`${file}.parquet`), [
        { name: 'f1', type: 'DOUBLE', values: f1 },
        { name: 'f2', type: 'DOUBLE', values: f2 },
        { ...c, values: [...c.values] },
      ], 5);
    }
    const arrow = (values: unknown[], type: Float64 | Utf8) => new Table({
      f1: vectorFromArray(f1, new Float64()), f2: vectorFromArray(f2, new Float64()), c: vectorFromArray(values, type),
    });
    await writeFile(tmp('num.arrow'), tableToIPC(arrow(cls, new Float64()), 'file'));
    await writeFile(tmp('str.arrow'), tableToIPC(arrow(cls.map(name), new Utf8()), 'file'));
    await convertToRaw(tmp('num.csv'), tmp('num.f32'), { target: 'c' });
  });

  const kept = [...Array(n).keys()].filter((i) => cls[i] !== null);
  async function labelled(file: string, opts: Partial<SourceOptions> = {}) {
    const coder = new LabelCoder();
    const all = await readAllChunks(await openSource(tmp(file), { target: 'c', labels: coder, ...opts }), 5);
    return { all, classes: coder.reindex(all.y) };
  }

  for (const file of ['num.csv', 'num.json', 'num.parquet', 'num.arrow', 'num.f32']) {
    it(`${file}: numeric labels, sorted numerically`, async () => {
      const { all, classes } = await labelled(file);
      expect(classes).toEqual(['0', '1', '2']);
      // convert dropped the row with the missing label already.
      expect([all.n, all.droppedRows]).toEqual([11, file.endsWith('.f32') ? 0 : 1]);
      expect(Array.from(all.y)).toEqual(kept.map((i) => cls[i]));
      expect(Array.from(all.x.subarray(0, 4))).toEqual([f1[0], f2[0], f1[1], f2[1]]);
    });
  }

  for (const file of ['str.csv', 'str.json', 'str.parquet', 'str.arrow']) {
    it(`${file}: string labels`, async () => {
      const { all, classes } = await labelled(file);
      expect(classes).toEqual(['ant', 'bee', 'cat']);
      expect(Array.from(all.y)).toEqual(kept.map((i) => cls[i]));
    });
  }

  it('a closed coder (a saved model) refuses an unknown class, naming file, line and column', async () => {
    const e = await errorOf(readAllChunks(await openSource(tmp('str.csv'), { target: 'c', labels: new LabelCoder(['ant', 'bee']) })));
    expect(e.message).toMatch(/str\.csv line 2, column "c": class "cat" is not one the model knows \(ant, bee\)/);
    const r = await errorOf(readAllChunks(await openSource(tmp('num.f32'), { target: 'c', labels: new LabelCoder(['0', '1']) })));
    expect(r.message).toMatch(/num\.f32 row 1, column "c": class "2" is not one the model knows/);
  });

  it('--on-invalid error: a missing label is an error naming its place', async () => {
    const e = await errorOf(labelled('str.parquet', { invalid: 'error' }));
    expect(e.message).toMatch(/str\.parquet row 5, column "c": missing value/);
  });

  for (const file of ['num.csv', 'num.json', 'num.parquet', 'num.arrow', 'num.f32']) {
    it(`${file}: no target (predict): features only, y empty, the label column ignored`, async () => {
      const source = await openSource(tmp(file), { target: null, features: ['f2', 'f1'] });
      const all = await readAllChunks(source, 5);
      expect([all.n, all.droppedRows, all.y.length, source.target]).toEqual([file.endsWith('.f32') ? 11 : 12, 0, 0, null]);
      expect(Array.from(all.x.subarray(0, 4))).toEqual([f2[0], f1[0], f2[1], f1[1]]);
      // A missing feature lists the file's real columns only.
      const e = await errorOf(openSource(tmp(file), { target: null, features: ['f1', 'f9'] }));
      expect(e.message).toMatch(/column "f9": no such feature column; the columns are "f1", "f2", "c"$/);
    });
  }
});

describe('LabelCoder built from a class list', () => {
  it('refuses what would shift the indices away from the names: the same label twice, a missing value, no array', () => {
    expect(() => new LabelCoder(['1.0', '1', '2'])).toThrow(/the class "1" is listed twice/);
    expect(() => new LabelCoder(['a', 'a', 'b'])).toThrow(/the class "a" is listed twice/);
    expect(() => new LabelCoder(['', 'a'])).toThrow(/"" is no class label/);
    expect(() => new LabelCoder('abc' as unknown as string[])).toThrow(/expected an array of class labels/);
    const coder = new LabelCoder(['b', 'a', 'c']);
    expect([coder.code('b'), coder.code('a'), coder.code('c')]).toEqual([0, 1, 2]);
  });
});
