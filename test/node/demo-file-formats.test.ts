// The page's in-memory modes read every format the package reads: the same rows, in the same Table as a CSV
// (numeric and text columns told apart, missing values dropped and counted), with the formula mode's messages
// (a target that is no column, a column of text named by the formula) the same for each. What cannot be read
// is refused naming the file and why, never parsed into noise; the pickers offer exactly the known endings.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Float64, Table, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { encodeRawHeader } from '../../src/data/raw-format.ts';
import { FORMAT_EXTENSIONS } from '../../src/data/source.ts';
import { defaultTarget, selectFromFile } from '../../src/demo/data.ts';
import { ACCEPT } from '../../src/demo/data-source/panel-html.ts';
import { selectFormulaData } from '../../src/demo/formula/formula-data.ts';
import { compileForSource, readSource, sourceLabel, sourceProblem, type DataSource } from '../../src/demo/formula/formula-source.ts';
import { parquetBytes } from './data-parquet-writer.ts';

// Row 2's x is missing; "who" is text; every number is exact in float32.
const x = [1.5, 2.25, null, 4, 5.5, 6];
const who = ['p', 'q', 'r', 's', 't', 'u'];
const y = x.map((v, i) => (v === null ? 7 : 2 * v + 1 + i / 4));
const rows = x.map((_, i) => ({ x: x[i], who: who[i], y: y[i] }));
const keptX = x.filter((v) => v !== null);
const keptY = y.filter((_, i) => x[i] !== null);

/** Two record batches (of 4 and 2 rows), so that rows are counted across batches. */
function arrowBytes(format: 'file' | 'stream'): Uint8Array<ArrayBuffer> {
  const part = (from: number, to: number) => new Table({
    x: vectorFromArray(x.slice(from, to), new Float64()),
    who: vectorFromArray(who.slice(from, to), new Utf8()),
    y: vectorFromArray(y.slice(from, to), new Float64()),
  });
  const table = part(0, 4).concat(part(4, 6));
  expect(table.batches).toHaveLength(2);
  return new Uint8Array(tableToIPC(table, format));
}

/** The raw format has no text: x and y only, NaN for the missing value. */
function rawBytes(): Uint8Array<ArrayBuffer> {
  const header = encodeRawHeader(['x'], 'y', x.length);
  const records = Float32Array.from(x.flatMap((v, i) => [v ?? NaN, y[i]]));
  const out = new Uint8Array(header.length + records.byteLength);
  out.set(header);
  out.set(new Uint8Array(records.buffer), header.length);
  return out;
}

const FILES: Record<string, () => BlobPart> = {
  'd.csv': () => ['x,who,y', ...rows.map((r) => `${r.x ?? ''},${r.who},${r.y}`)].join('\n'),
  'd.json': () => JSON.stringify(rows),
  'd.jsonl': () => rows.map((r) => JSON.stringify(r)).join('\n') + '\n',
  'd.ndjson': () => rows.map((r) => JSON.stringify(r)).join('\r\n'),
  // Row groups of 4 rows: the second group's rows land after the first's.
  'd.parquet': () => new Uint8Array(parquetBytes([{ name: 'x', type: 'DOUBLE', values: x }, { name: 'who', type: 'UTF8', values: who }, { name: 'y', type: 'DOUBLE', values: y }], 4)),
  'd.arrow': () => arrowBytes('file'),
  'd.feather': () => arrowBytes('file'),
  'd.arrows': () => arrowBytes('stream'),
  'd.f32': () => rawBytes(),
};

const read = (name: string, part: BlobPart): Promise<DataSource> => readSource(name, new Blob([part]));

async function fileSource(name: string): Promise<Extract<DataSource, { kind: 'file' }>> {
  const s = await read(name, FILES[name]());
  if (s.kind !== 'file') throw new Error(`${name} not read: ${sourceProblem(s)}`);
  return s;
}

function compiled(formula: string, source: DataSource) {
  const c = compileForSource(formula, 'mse', source);
  if (!c.ok) throw new Error(c.error.reason);
  return c.model;
}

describe('the page reads every format the package reads into the same table', () => {
  for (const name of Object.keys(FILES)) {
    const raw = name.endsWith('.f32');
    it(name, async () => {
      const source = await fileSource(name);
      const columns = raw ? ['x', 'y'] : ['x', 'who', 'y'];
      expect(source.parsed.table.columns).toEqual(columns);
      expect(source.parsed.numeric).toEqual(['x', 'y']);
      expect(source.parsed.text).toEqual(raw ? [] : ['who']);
      expect(sourceLabel(source)).toBe(`${name}: 6 rows, columns ${columns.join(', ')}`);

      // The formula mode: the rows of its columns, the missing x dropped and counted.
      const ds = selectFormulaData(compiled('y ~ a*x + b', source), source.parsed);
      expect(ds.label).toBe(`${name}: y from x (N = 5, 1 row with missing values dropped)`);
      expect(Array.from(ds.data.x)).toEqual(keptX);
      expect(Array.from(ds.data.y)).toEqual(keptY);
      // Its messages: a target that is no column names every column; a column of text is no parameter.
      expect(compileForSource('z ~ a*x', 'mse', source)).toMatchObject({
        ok: false, error: { field: 'formula', position: 0, reason: `the target "z" is not a column of the data (columns: ${columns.join(', ')})` },
      });
      if (!raw) {
        expect(compileForSource('y ~ a*who', 'mse', source)).toMatchObject({
          ok: false, error: { field: 'formula', position: 6, reason: `"who" is a column of ${name} but not numeric (none of its values is a number), so it cannot be read by the model` },
        });
      }

      // The linear mode: y is the default target, x the one feature.
      expect(defaultTarget(source.parsed.numeric)).toBe('y');
      const linear = selectFromFile(source.parsed, 'y');
      expect(linear.features).toEqual(['x']);
      expect(linear.droppedRows).toBe(1);
    });
  }
});

describe('a file the page cannot read is refused, naming the file and why', () => {
  const problem = async (name: string, part: BlobPart) => sourceProblem(await read(name, part));

  it('a bad cell of JSON Lines is named by its line; a line that is no JSON by its line, as the CLI says', async () => {
    const bad = await read('bad.jsonl', '{"x":1,"y":2}\n\n{"x":2,"y":"q"}\n');
    if (bad.kind !== 'file') throw new Error('not read');
    expect(() => selectFormulaData(compiled('y ~ a*x', bad), bad.parsed)).toThrowError(/^bad\.jsonl line 3, column "y": "q" is not a number$/);
    expect(await problem('torn.ndjson', '{"x":1,"y":2}\n{"x":2,')).toMatch(/^torn\.ndjson could not be read, so there is no data to train on: torn\.ndjson line 2: invalid JSON \(/);
    expect(await problem('array.jsonl', '[1, 2]\n')).toMatch(/: array\.jsonl line 1: expected one JSON object per line, got an array\. Choose another file/);
  });

  it('a damaged or empty binary file, by the reader\'s own message', async () => {
    const parquet = FILES['d.parquet']() as Uint8Array;
    expect(await problem('cut.parquet', parquet.slice(0, parquet.length - 10))).toMatch(/^cut\.parquet could not be read.*: cut\.parquet: not a readable Parquet file \(/);
    expect(await problem('empty.parquet', '')).toMatch(/: empty\.parquet: no data rows \(the file is empty\)\. Choose/);
    expect(await problem('zeros.arrow', new Uint8Array(64))).toMatch(/: zeros\.arrow: not a readable Arrow IPC file \(/);
    const f32 = rawBytes();
    expect(await problem('cut.f32', f32.slice(0, f32.length - 4))).toMatch(/: cut\.f32: truncated: the header says n = 6 rows/);
  });

  it('a name with no known ending is read as text, and refused when it is no text', async () => {
    const text = await read('data.txt', 'x,y\n1,2\n2,4\n');
    expect(text.kind === 'file' && text.parsed.numeric).toEqual(['x', 'y']);
    expect(await problem('data.bin', FILES['d.parquet']())).toBe(
      'data.bin could not be read, so there is no data to train on: data.bin: not text, and the name does not say which format it is: ' +
      'it must end in .csv, .json, .jsonl, .ndjson, .parquet, .arrow, .arrows, .feather or .f32. Choose another file, or use the generated data.');
  });
});

describe('the pickers', () => {
  it('offer every known ending, in the in-memory modes as in the streamed-data panel', () => {
    const html = readFileSync(new URL('../../index.html', import.meta.url), 'utf8');
    const known = Object.keys(FORMAT_EXTENSIONS).join(',');
    expect(ACCEPT).toBe(known);
    for (const id of ['file-input', 'f-file-input']) {
      const accept = new RegExp(`<input id="${id}" type="file" accept="([^"]*)"`).exec(html)?.[1];
      expect(accept, id).toBe(known);
    }
  });
});
