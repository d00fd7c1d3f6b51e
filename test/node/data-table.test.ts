import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/data/errors.ts';
import { detectFormat, parseCsvText, parseJsonText, type Table } from '../../src/data/table.ts';
import { readTable } from '../../src/data/table-file.ts';
import { fixture, dataErrorOf, asyncDataErrorOf } from '../data-errors.ts';

/** The DataError a call throws; fails the test if it throws nothing or something else. */

function rowsOf(t: Table): unknown[][] {
  return Array.from({ length: t.rowCount }, (_, r) => t.columns.map((_, c) => t.cell(r, c)));
}

describe('DataError', () => {
  it('names the file, line and column in its message', () => {
    const e = new DataError('"abc" is not a number', { file: 'data.csv', line: 7, column: 'x2' });
    expect(e.message).toBe('data.csv line 7, column "x2": "abc" is not a number');
    expect([e.file, e.line, e.column, e.detail]).toEqual(['data.csv', 7, 'x2', '"abc" is not a number']);
    expect(e.name).toBe('DataError');
    expect(new DataError('bad', { file: 'd.json', element: 3, column: 'y' }).message).toBe('d.json row 4, column "y": bad');
    expect(new DataError('bad').message).toBe('bad');
  });
});

describe('CSV', () => {
  it('reads good.csv with strings kept and source lines', async () => {
    const t = await readTable(fixture('good.csv'));
    expect(t.columns).toEqual(['x1', 'x2', 'label', 'y']);
    expect(t.rowCount).toBe(9);
    expect(rowsOf(t)[0]).toEqual(['1', '2', 'a', '-3']);
    expect(t.cell(8, 0)).toBe('1.5');
    expect(t.lineOf(0)).toBe(2);
    expect(t.lineOf(8)).toBe(10);
  });

  it('skips blank lines and counts lines inside quoted fields and CRLF', () => {
    const text = '\uFEFFa,b\r\n\r\n1,"two\r\nlines"\r\n\r\n3,4\r\n';
    const t = parseCsvText(text, 'data.csv');
    expect(t.columns).toEqual(['a', 'b']);
    expect(rowsOf(t)).toEqual([['1', 'two\r\nlines'], ['3', '4']]);
    expect([t.lineOf(0), t.lineOf(1)]).toEqual([3, 6]);
  });

  it('keeps cells as written (no dynamic typing) and trims header names', () => {
    const t = parseCsvText(' x , y\n007, 1e3 \n', 'data.csv');
    expect(t.columns).toEqual(['x', 'y']);
    expect(rowsOf(t)).toEqual([['007', ' 1e3 ']]);
  });

  it('ragged row: names the line and both field counts', async () => {
    const e = await asyncDataErrorOf(readTable(fixture('ragged.csv')));
    expect(e.line).toBe(5);
    expect(e.message).toContain('ragged.csv line 5');
    expect(e.message).toContain('3 fields, but the header has 4');
  });

  it('duplicate header name', async () => {
    const e = await asyncDataErrorOf(readTable(fixture('duplicate-header.csv')));
    expect(e.message).toContain('line 1, column "x1": duplicate column name');
    expect(e.column).toBe('x1');
  });

  it('empty header name', () => {
    const e = dataErrorOf(() => parseCsvText('a,,c\n1,2,3\n', 'data.csv'));
    expect(e.message).toBe('data.csv line 1: header field 2 is an empty column name');
  });

  it('empty file and header-only file: no data rows', async () => {
    const empty = await asyncDataErrorOf(readTable(fixture('empty.csv')));
    expect(empty.message).toMatch(/empty\.csv: no data rows/);
    const headerOnly = await asyncDataErrorOf(readTable(fixture('header-only.csv')));
    expect(headerOnly.message).toMatch(/header-only\.csv: no data rows/);
    expect(dataErrorOf(() => parseCsvText('\n  \n', 'data.csv')).message).toContain('no data rows');
  });

  it('unterminated quote names the line it starts on', () => {
    const e = dataErrorOf(() => parseCsvText('a,b\n1,2\n3,"4\n5,6\n', 'data.csv'));
    expect(e.line).toBe(3);
    expect(e.message).toContain('data.csv line 3: malformed quoting');
  });
});

describe('JSON', () => {
  it('reads good.json with values as parsed and no line numbers', async () => {
    const t = await readTable(fixture('good.json'));
    expect(t.columns).toEqual(['x1', 'x2', 'label', 'y']);
    expect(t.rowCount).toBe(9);
    expect(rowsOf(t)[8]).toEqual([1.5, 0.5, 'c', 2.5]);
    expect(t.lineOf(0)).toBeNull();
  });

  it('columns are the union of keys in first-seen order; absent keys read as undefined', () => {
    const t = parseJsonText('[{"a":1},{"b":2,"a":3},{"toString":4}]', 'd.json');
    expect(t.columns).toEqual(['a', 'b', 'toString']);
    expect(rowsOf(t)).toEqual([[1, undefined, undefined], [3, 2, undefined], [undefined, undefined, 4]]);
  });

  it('rejects a non-array top level and non-object elements by index', async () => {
    const top = await asyncDataErrorOf(readTable(fixture('not-array.json')));
    expect(top.message).toContain('expected a JSON array of objects, got an object');
    const el = dataErrorOf(() => parseJsonText('[{"a":1},{"a":2},{"a":3},[4]]', 'd.json'));
    expect(el.element).toBe(3);
    expect(el.message).toBe('d.json row 4: expected an object, got an array');
    expect(dataErrorOf(() => parseJsonText('[{"a":1}, null]', 'd.json')).message).toBe('d.json row 2: expected an object, got null');
  });

  it('invalid JSON and an empty array', () => {
    expect(dataErrorOf(() => parseJsonText('[{"a":1},', 'd.json')).message).toMatch(/^d\.json: invalid JSON \(/);
    expect(dataErrorOf(() => parseJsonText('[]', 'd.json')).message).toContain('d.json: no data rows');
  });
});

describe('readTable', () => {
  it('a missing file is a DataError naming the file and the OS reason', async () => {
    const path = fixture('does-not-exist.csv');
    const e = await asyncDataErrorOf(readTable(path));
    expect(e.file).toBe(path);
    expect(e.message).toContain(path);
    expect(e.message).toContain('ENOENT');
  });

  it('picks the format by extension, else by the first non-space character', () => {
    expect(detectFormat('a.CSV', '[1]')).toBe('csv');
    expect(detectFormat('a.json', 'x,y')).toBe('json');
    expect(detectFormat('data.txt', '  \n [{"a":1}]')).toBe('json');
    expect(detectFormat('data.txt', 'a,b\n1,2')).toBe('csv');
  });
});
