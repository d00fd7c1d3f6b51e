import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Float64, Int64, Table, tableToIPC, Utf8, vectorFromArray, RecordBatch, makeData, Struct, Field, Schema } from 'apache-arrow';
import { convertToRaw } from '../../src/data/convert.ts';
import { encodeRawHeader, openRawSource, RAW_FIXED_HEADER_BYTES } from '../../src/data/raw-format.ts';
import { openSource, readAllChunks, type SampleChunk } from '../../src/data/source.ts';
import { writeParquet } from './data-parquet-writer.ts';
import { fixture, asyncDataErrorOf as errorOf } from '../data-errors.ts';

let dir = '';
const tmp = (name: string) => join(dir, name);
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nabla-formats-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function drain(path: string, opts = { target: 'y' }, maxRows = 7): Promise<SampleChunk[]> {
  const out: SampleChunk[] = [];
  for await (const c of (await openSource(path, opts)).chunks(maxRows)) out.push(c);
  return out;
}

// A dataset with nulls (rows 3 and 10 dropped), an INT64 feature, a string column that the default
// features skip, and float64 values that must round to float32 identically in every format.
const N = 50;
const a = Array.from({ length: N }, (_, i) => (i === 3 ? null : Math.sin(i) * 1e3 + 1 / 3));
const k = Array.from({ length: N }, (_, i) => BigInt(i * 1000 - 7));
const s = Array.from({ length: N }, (_, i) => `s${i}`);
const y = Array.from({ length: N }, (_, i) => (i === 10 ? null : 2 * i - 0.1));
const kept = [...Array(N).keys()].filter((i) => a[i] !== null && y[i] !== null);
const expectX = Float32Array.from(kept.flatMap((i) => [a[i]!, Number(k[i])]));
const expectY = Float32Array.from(kept.map((i) => y[i]!));

function arrowTable(rowsPerBatch: number): Table {
  const batches: RecordBatch[] = [];
  for (let start = 0; start < N; start += rowsPerBatch) {
    const end = Math.min(N, start + rowsPerBatch);
    const cols = {
      a: vectorFromArray(a.slice(start, end), new Float64()),
      k: vectorFromArray(k.slice(start, end), new Int64()),
      s: vectorFromArray(s.slice(start, end), new Utf8()),
      y: vectorFromArray(y.slice(start, end), new Float64()),
    };
    const schema = new Schema(Object.entries(cols).map(([name, v]) => new Field(name, v.type, true)));
    const data = makeData({ type: new Struct(schema.fields), length: end - start, nullCount: 0, children: Object.values(cols).map((v) => v.data[0]) });
    batches.push(new RecordBatch(schema, data));
  }
  return new Table(batches);
}

describe('each format reads the same rows, and round-trips through the raw format', () => {
  beforeAll(async () => {
    writeParquet(tmp('d.parquet'), [
      { name: 'a', type: 'DOUBLE', values: a },
      { name: 'k', type: 'INT64', values: k },
      { name: 's', type: 'UTF8', values: s },
      { name: 'y', type: 'DOUBLE', values: y },
    ], 16);
    const table = arrowTable(12);
    expect(table.batches.length).toBe(5);
    await writeFile(tmp('d.arrow'), tableToIPC(table, 'file'));
    await writeFile(tmp('d.feather'), tableToIPC(table, 'file'));
    await writeFile(tmp('d.arrows'), tableToIPC(table, 'stream'));
    const csv = ['a,k,s,y', ...a.map((_, i) => `${a[i] ?? ''},${k[i]},${s[i]},${y[i] ?? 'NA'}`)].join('\n');
    await writeFile(tmp('d.csv'), csv);
    await writeFile(tmp('d.json'), JSON.stringify(a.map((_, i) => ({ a: a[i], k: Number(k[i]), s: s[i], y: y[i] }))));
  });

  for (const name of ['d.csv', 'd.json', 'd.parquet', 'd.arrow', 'd.feather', 'd.arrows']) {
    it(name, async () => {
      const src = await openSource(tmp(name), { target: 'y' });
      expect(src.features).toEqual(['a', 'k']);
      const all = await readAllChunks(src, 7);
      expect(all.x).toEqual(expectX);
      expect(all.y).toEqual(expectY);
      expect(all.droppedRows).toBe(2);

      const out = tmp(`${name}.f32`);
      const res = await convertToRaw(tmp(name), out, { target: 'y', chunkRows: 5 });
      expect(res).toEqual({ rows: kept.length, droppedRows: 2, features: ['a', 'k'], target: 'y' });
      const raw = await openRawSource(out, { target: 'y' });
      expect([raw.features, raw.inputRows]).toEqual([['a', 'k'], kept.length]);
      const back = await readAllChunks(raw, 7);
      expect(back.x).toEqual(expectX);
      expect(back.y).toEqual(expectY);
      expect(back.droppedRows).toBe(0);
    });
  }

  it('raw: explicit features reorder and subset; chunk sizes are exact with a ragged last', async () => {
    const raw = await openRawSource(tmp('d.csv.f32'), { target: 'a', features: ['y'] });
    const chunks: SampleChunk[] = [];
    for await (const c of raw.chunks(10)) chunks.push(c);
    expect(chunks.map((c) => c.rows)).toEqual([10, 10, 10, 10, 8]);
    expect(Array.from(chunks[0].x.slice(0, 3))).toEqual(Array.from(expectY.slice(0, 3)));
    expect(chunks[0].y[1]).toBe(expectX[2]);
  });

  it('raw: NaN rows are dropped per policy, infinite ones are errors naming the row', async () => {
    const hdr = encodeRawHeader(['x'], 'y', 4);
    const body = new Float32Array([1, 2, NaN, 3, 4, 5, Infinity, 6]);
    const file = tmp('nan.f32');
    await writeFile(file, Buffer.concat([hdr, new Uint8Array(body.buffer)]));
    const ok = await readAllChunks(await openRawSource(file, { target: 'y', invalid: 'drop' }));
    expect([ok.n, ok.droppedRows, Array.from(ok.y)]).toEqual([2, 2, [2, 5]]);
    const e = await errorOf(readAllChunks(await openRawSource(file, { target: 'y' })));
    expect(e.message).toBe(`${file} row 4, column "x": Infinity is infinite`);
  });
});

describe('bad input: clear DataErrors', () => {
  it('empty files', async () => {
    for (const ext of ['parquet', 'arrow', 'arrows', 'f32', 'json']) {
      await writeFile(tmp(`empty.${ext}`), '');
      const e = await errorOf(openSource(tmp(`empty.${ext}`), { target: 'y' }));
      expect(e.message).toMatch(/no data rows \(the file is empty\)$/);
      expect(e.file).toBe(tmp(`empty.${ext}`));
    }
  });

  it('truncated Parquet: the footer is gone', async () => {
    const bytes = await readFile(tmp('d.parquet'));
    await writeFile(tmp('cut.parquet'), bytes.subarray(0, bytes.length - 20));
    const e = await errorOf(openSource(tmp('cut.parquet'), { target: 'y' }));
    expect(e.message).toMatch(/cut\.parquet: not a readable Parquet file \(.+\)/);
  });

  it('truncated Arrow file and stream', async () => {
    for (const ext of ['arrow', 'arrows']) {
      const bytes = await readFile(tmp(`d.${ext}`));
      const cut = tmp(`cut.${ext}`);
      await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      const e = await errorOf(() => drain(cut));
      expect(e.file).toBe(cut);
      expect(e.message).toMatch(/not a readable Arrow IPC file|cannot read record batch|truncated/);
    }
  });

  it('truncated, padded or foreign raw files say what is wrong', async () => {
    const good = await readFile(tmp('d.csv.f32'));
    await writeFile(tmp('cut.f32'), good.subarray(0, good.length - 6));
    const e = await errorOf(openSource(tmp('cut.f32'), { target: 'y' }));
    expect(e.message).toBe(
      `${tmp('cut.f32')}: truncated: the header says n = ${kept.length} rows of d = 2 features + target, so ${good.length} bytes are expected, found ${good.length - 6}`,
    );
    await writeFile(tmp('long.f32'), Buffer.concat([good, Buffer.alloc(4)]));
    expect((await errorOf(openSource(tmp('long.f32'), { target: 'y' }))).message).toContain('has trailing bytes');
    await writeFile(tmp('head.f32'), good.subarray(0, 12));
    expect((await errorOf(openSource(tmp('head.f32'), { target: 'y' }))).message).toContain(
      `truncated header: expected at least ${RAW_FIXED_HEADER_BYTES} bytes, found 12`,
    );
    await writeFile(tmp('foreign.f32'), 'x,y\n1,2\n');
    expect((await errorOf(openSource(tmp('foreign.f32'), { target: 'y' }))).message).toContain('not a nabla raw file');
    await writeFile(tmp('zero.f32'), encodeRawHeader(['x'], 'y', 0));
    expect((await errorOf(openSource(tmp('zero.f32'), { target: 'y' }))).message).toContain('no data rows (the header says n = 0)');
    expect((await errorOf(openSource(tmp('d.csv.f32'), { target: 'z' }))).message).toContain('column "z": no such target column');
  });

  it('header without rows: Parquet and Arrow', async () => {
    writeParquet(tmp('none.parquet'), [{ name: 'a', type: 'DOUBLE', values: [] }, { name: 'y', type: 'DOUBLE', values: [] }], 10);
    expect((await errorOf(openSource(tmp('none.parquet'), { target: 'y' }))).message).toContain('no data rows');
    await writeFile(tmp('none.arrows'), tableToIPC(arrowTable(12).slice(0, 0), 'stream'));
    expect((await errorOf(() => drain(tmp('none.arrows')))).message).toContain('no data rows');
  });

  it('convert: a bad cell late in the file leaves neither output nor temporary file', async () => {
    const rows = Array.from({ length: 200 }, (_, i) => `${i},${i === 150 ? 'abc' : i}`);
    await writeFile(tmp('late-bad.csv'), ['x,y', ...rows].join('\n'));
    const sub = await mkdtemp(join(dir, 'out-'));
    const e = await errorOf(convertToRaw(tmp('late-bad.csv'), join(sub, 'o.f32'), { target: 'y', chunkRows: 16 }));
    expect(e.message).toContain('line 152, column "y": "abc" is not a number');
    expect(existsSync(join(sub, 'o.f32'))).toBe(false);
    expect(readdirSync(sub)).toEqual([]);
  });

  it('unknown extension', async () => {
    const e = await errorOf(openSource(fixture('good.csv').replace('.csv', '.txt'), { target: 'y' }));
    expect(e.message).toContain('unknown data format');
  });
});
