import { describe, expect, it } from 'vitest';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { csvSource, openCsvBlob, openCsvSource } from '../../src/data/csv-stream.ts';
import { selectLinearData, type SelectOptions } from '../../src/data/select.ts';
import { openSource, readAllChunks, type SampleChunk, type SampleSource } from '../../src/data/source.ts';
import { parseCsvText } from '../../src/data/table.ts';
import { readTable } from '../../src/data/table-file.ts';
import { fixture, asyncDataErrorOf as errorOf } from '../data-errors.ts';

async function collect(src: SampleSource, maxRows: number): Promise<SampleChunk[]> {
  const out: SampleChunk[] = [];
  for await (const c of src.chunks(maxRows)) out.push(c);
  return out;
}

/** The text cut into pieces of pseudo-random length 1..maxPiece: splits land inside quotes, CRLFs, numbers. */
function piecesOf(text: string, maxPiece: number, seed = 1) {
  return async function* () {
    let s = seed;
    for (let i = 0; i < text.length; ) {
      s = (s * 1103515245 + 12345) >>> 0;
      const len = 1 + (s % maxPiece);
      yield text.slice(i, i + len);
      i += len;
    }
  };
}

/** Rows with missing cells, a quoted label holding commas and line breaks, and an unused text column. */
function makeCsv(rows: number, eol = '\n'): string {
  const lines = ['x1,x2,label,"y"'];
  for (let i = 0; i < rows; i++) {
    const x1 = i % 53 === 7 ? '' : ((i * 37) % 101) / 7 - 5;
    const x2 = i % 61 === 3 ? 'NA' : (Math.sin(i) * 1e3).toFixed(4);
    const label = i % 10 === 0 ? `"multi${eol}line, ""quoted"""` : `l${i}`;
    const y = i % 97 === 5 ? 'NaN' : (3 * i - 2.5e-3).toString();
    lines.push(`${x1},${x2},${label},${y}`);
    if (i % 400 === 17) lines.push(''); // blank lines are skipped but still count as lines
  }
  return lines.join(eol) + eol;
}

function wholeFile(text: string, opts: SelectOptions) {
  return selectLinearData(parseCsvText(text, 'data.csv'), opts);
}

describe('streamed CSV equals the whole-file reader', () => {
  for (const eol of ['\n', '\r\n']) {
    it(`many chunks, ragged last, pieces cut anywhere (eol ${JSON.stringify(eol)})`, async () => {
      const text = makeCsv(3000, eol);
      const ref = wholeFile(text, { target: 'y' });
      const src = await csvSource(piecesOf(text, 257), 'data.csv', { target: 'y' });
      expect(src.features).toEqual(ref.features);
      const maxRows = 97;
      const chunks = await collect(src, maxRows);
      expect(chunks.length).toBe(Math.ceil(ref.rows / maxRows));
      expect(chunks.slice(0, -1).every((c) => c.rows === maxRows)).toBe(true);
      expect(chunks.at(-1)!.rows).toBe(ref.rows % maxRows || maxRows);
      expect(chunks.reduce((s, c) => s + c.droppedRows, 0)).toBe(ref.droppedRows);
      expect(ref.droppedRows).toBeGreaterThan(50);
      const all = await readAllChunks(src, maxRows);
      expect(all.x).toEqual(ref.data.x);
      expect(all.y).toEqual(ref.data.y);
      // A second pass (the next epoch) reads the same.
      expect((await readAllChunks(src, 1000)).x).toEqual(ref.data.x);
    });
  }

  it('firstLine points at the source line of each chunk', async () => {
    const text = 'a,y\n1,2\n4,3\n\n5,6\n7,8\n'; // line 4 is blank
    const src = await csvSource(piecesOf(text, 3), 'd.csv', { target: 'y' });
    const chunks = await collect(src, 2);
    expect(chunks.map((c) => c.firstLine)).toEqual([2, 5]);
    const quoted = 'a,b,y\n1,"two\nlines",2\n3,x,4\n5,y,6\n';
    const q = await collect(await csvSource(piecesOf(quoted, 4), 'q.csv', { target: 'y', features: ['a'] }), 1);
    expect(q.map((c) => c.firstLine)).toEqual([2, 4, 5]);
  });

  it('fixtures: good.csv and missing.csv, through openSource and through a Blob', async () => {
    for (const name of ['good.csv', 'missing.csv']) {
      const ref = selectLinearData(await readTable(fixture(name)), { target: 'y' });
      const all = await readAllChunks(await openSource(fixture(name), { target: 'y' }), 2);
      expect([all.x, all.y, all.droppedRows]).toEqual([ref.data.x, ref.data.y, ref.droppedRows]);
      const text = (await import('node:fs')).readFileSync(fixture(name));
      const blob = await readAllChunks(await openCsvBlob(new Blob([text]), name, { target: 'y' }), 3);
      expect(blob.x).toEqual(ref.data.x);
    }
  });

  it('a file larger than the read piece (several MiB) with a UTF-8 label and a BOM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nabla-csv-'));
    try {
      const text = '\uFEFF' + makeCsv(60_000).replaceAll('l1', 'λ1');
      expect(text.length).toBeGreaterThan(2 << 20);
      const path = join(dir, 'big.csv');
      await writeFile(path, text);
      const ref = wholeFile(text, { target: 'y' });
      const all = await readAllChunks(await openCsvSource(path, { target: 'y' }), 4096);
      expect(all.n).toBe(ref.rows);
      expect(all.x).toEqual(ref.data.x);
      expect(all.y).toEqual(ref.data.y);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('streamed CSV: bad input', () => {
  it('ragged row names its line (also when found late, in a later chunk)', async () => {
    const e = await errorOf(openCsvSource(fixture('ragged.csv'), { target: 'y' }));
    expect(e.message).toMatch(/ragged\.csv line \d+: 3 fields, but the header has 4$/);
    const text = makeCsv(20_000) + '1,2,3\n';
    const lastLine = text.split('\n').length - 1;
    const src = await csvSource(piecesOf(text, 4000), 'late.csv', { target: 'y' });
    const late = await errorOf(collect(src, 500));
    expect(late.message).toBe(`late.csv line ${lastLine}: 3 fields, but the header has 4`);
    expect(late.line).toBe(lastLine);
  });

  it('non-numeric cell names line and column', async () => {
    const src = await openCsvSource(fixture('nonnumeric.csv'), { target: 'y', features: ['x1', 'x2'] });
    const e = await errorOf(collect(src, 2));
    expect(e.message).toMatch(/nonnumeric\.csv line 7, column "x2": "abc" is not a number$/);
    expect([e.line, e.column]).toEqual([7, 'x2']);
  });

  it('empty file, header without rows, duplicate header', async () => {
    expect((await errorOf(openCsvSource(fixture('empty.csv'), { target: 'y' }))).message).toMatch(
      /empty\.csv: no data rows \(the file is empty\)$/,
    );
    expect((await errorOf(openCsvSource(fixture('header-only.csv'), { target: 'y' }))).message).toMatch(
      /header-only\.csv: no data rows \(only a header\)$/,
    );
    const dup = await errorOf(openCsvSource(fixture('duplicate-header.csv'), { target: 'y' }));
    expect(dup.message).toMatch(/line 1, column "x1": duplicate column name in the header$/);
    const missing = await errorOf(openCsvSource(fixture('no-such-file.csv'), { target: 'y' }));
    expect(missing.message).toContain('cannot read the file');
  });

  it('unterminated quote: reported at its line at the end of the file', async () => {
    const text = 'a,y\n1,2\n"3,4\n5,6\n';
    // Small enough to be found while sampling rows for the default features, i.e. when opening.
    const e = await errorOf((async () => collect(await csvSource(piecesOf(text, 3), 'q.csv', { target: 'y' }), 10))());
    expect(e.message).toMatch(/^q\.csv line 3: malformed quoting/);
  });

  it('every row dropped: the same message as selectLinearData', async () => {
    const src = await csvSource(piecesOf('a,y\n1,\nNA,2\n', 5), 'data.csv', { target: 'y' });
    const e = await errorOf(collect(src, 10));
    expect(e.message).toBe('data.csv: no rows left after dropping 2 rows with missing or invalid values');
  });

  it('default features come from the first rows: text further down is an error, not a skipped column', async () => {
    const rows = Array.from({ length: 9000 }, (_, i) => `${i},${i === 8999 ? 'oops' : i * 2},${i}`);
    const text = ['a,b,y', ...rows].join('\n');
    const src = await csvSource(piecesOf(text, 100_000), 'late.csv', { target: 'y' });
    expect(src.features).toEqual(['a', 'b']);
    const e = await errorOf(collect(src, 1000));
    expect(e.message).toBe('late.csv line 9001, column "b": "oops" is not a number');
  });
});

describe('streamed CSV: host memory stays bounded', () => {
  it('a ~50 MB file streams with RSS growth of a few chunks', async () => {
    // A forced collection after each chunk measures what the reader keeps alive, not how lazily V8
    // collects (without it, RSS swings by tens of MB with the collector's heuristics alone).
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const dir = await mkdtemp(join(tmpdir(), 'nabla-mem-'));
    const path = join(dir, 'big.csv');
    try {
      const out = createWriteStream(path);
      out.write('a,b,c,d,y\n');
      let bytes = 0;
      let block: string[] = [];
      for (let i = 0; bytes < 50e6; i++) {
        const line = `${(i % 1000) / 3},${i * 0.5},${(i * 7) % 13},${Math.sqrt(i)},${i % 17}\n`;
        bytes += line.length;
        block.push(line);
        if (block.length === 10_000) {
          if (!out.write(block.join(''))) await new Promise<void>((r) => out.once('drain', () => r()));
          block = [];
        }
      }
      out.write(block.join(''));
      await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));

      const maxRows = 65536; // 65536 x 5 x 4 B = 1.3 MB of float32 per chunk
      const src = await openCsvSource(path, { target: 'y' });
      gc();
      const base = process.memoryUsage().rss;
      let peak = base;
      let rows = 0;
      for await (const c of src.chunks(maxRows)) {
        rows += c.rows;
        gc();
        peak = Math.max(peak, process.memoryUsage().rss);
      }
      expect(rows).toBeGreaterThan(1_000_000);
      // Live at any time: one chunk (1.3 MB), one 1 MiB piece of text and the carry, the piece's parsed
      // rows (~25k rows x 5 strings, ~5-10 MB), and what the allocator keeps after a collection
      // (measured: 27 MB peak in all). Holding the file would take 50 MB for the text alone and several
      // times that parsed, so 40 MB fails any reader that accumulates the file.
      const growthMB = (peak - base) / 2 ** 20;
      expect(growthMB).toBeLessThan(40);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
