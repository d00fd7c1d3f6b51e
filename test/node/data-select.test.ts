import { describe, expect, it } from 'vitest';
import { classifyCell, selectLinearData, type SelectOptions } from '../../src/data/select.ts';
import { parseCsvText, parseJsonText } from '../../src/data/table.ts';
import { readTable } from '../../src/data/table-file.ts';
import { fixture, dataErrorOf, asyncDataErrorOf } from '../data-errors.ts';

async function selectFixture(name: string, opts: SelectOptions) {
  return selectLinearData(await readTable(fixture(name)), opts);
}

const csv = (text: string) => parseCsvText(text, 'data.csv');

describe('selectLinearData: columns', () => {
  it('default features are the numeric columns other than the target (label skipped)', async () => {
    const s = await selectFixture('good.csv', { target: 'y' });
    expect(s.features).toEqual(['x1', 'x2']);
    expect(s.target).toBe('y');
    expect([s.rows, s.droppedRows, s.data.n, s.data.d]).toEqual([9, 0, 9, 2]);
    expect(s.data.x).toBeInstanceOf(Float32Array);
    expect(Array.from(s.data.x.slice(0, 4))).toEqual([1, 2, 2, 1]);
    expect(Array.from(s.data.x.slice(16))).toEqual([1.5, 0.5]);
    expect(Array.from(s.data.y)).toEqual([-3, 2, -8, 0, -13, 1, -6, -1, 2.5]);
  });

  it('CSV and JSON versions of the same data give the same arrays', async () => {
    const a = await selectFixture('good.csv', { target: 'y' });
    const b = await selectFixture('good.json', { target: 'y' });
    expect(b.features).toEqual(a.features);
    expect(Array.from(b.data.x)).toEqual(Array.from(a.data.x));
    expect(Array.from(b.data.y)).toEqual(Array.from(a.data.y));
  });

  it('explicit features keep the given order', async () => {
    const s = await selectFixture('good.csv', { target: 'x1', features: ['y', 'x2'] });
    expect(s.features).toEqual(['y', 'x2']);
    expect(Array.from(s.data.x.slice(0, 2))).toEqual([-3, 2]);
    expect(s.data.y[0]).toBe(1);
  });

  it('a missing target or feature names it and lists the columns', async () => {
    const t = await asyncDataErrorOf(selectFixture('good.csv', { target: 'z' }));
    expect(t.column).toBe('z');
    expect(t.message).toContain('column "z": no such target column; the columns are "x1", "x2", "label", "y"');
    const f = await asyncDataErrorOf(selectFixture('good.csv', { target: 'y', features: ['x1', 'x9'] }));
    expect(f.message).toContain('column "x9": no such feature column');
  });

  it('target among the features, duplicate features, empty feature list', async () => {
    const both = await asyncDataErrorOf(selectFixture('good.csv', { target: 'y', features: ['x1', 'y'] }));
    expect(both.message).toContain('column "y": is the target');
    const dup = await asyncDataErrorOf(selectFixture('good.csv', { target: 'y', features: ['x1', 'x2', 'x1'] }));
    expect(dup.message).toContain('column "x1": listed twice');
    await asyncDataErrorOf(selectFixture('good.csv', { target: 'y', features: [] }));
  });

  it('no numeric column besides the target', () => {
    const e = dataErrorOf(() => selectLinearData(csv('name,y\na,1\nb,2\n'), { target: 'y' }));
    expect(e.message).toContain('no numeric feature columns besides the target "y"');
  });

  it('an explicitly chosen string column is an error at its first cell', async () => {
    const e = await asyncDataErrorOf(selectFixture('good.csv', { target: 'y', features: ['x1', 'label'] }));
    expect(e.message).toContain('good.csv line 2, column "label": "a" is not a number');
  });

  it('an all-missing column is not picked by default', () => {
    const s = selectLinearData(csv('a,empty,y\n1,,2\n3,NA,4\n'), { target: 'y' });
    expect(s.features).toEqual(['a']);
  });
});

describe('selectLinearData: missing values', () => {
  it('missing.csv: empty, NA, whitespace and NaN cells drop their rows; unused columns do not', async () => {
    const s = await selectFixture('missing.csv', { target: 'y' });
    expect(s.features).toEqual(['x1', 'x2']);
    expect(s.droppedRows).toBe(4);
    expect(s.rows).toBe(5);
    expect(s.data.n).toBe(5);
    expect(s.data.x.length).toBe(10);
    // Kept: lines 2, 5, 7, 9 (label empty but unused) and 10.
    expect(Array.from(s.data.y)).toEqual([-3, 0, 1, -1, 2.5]);
    expect(Array.from(s.data.x)).toEqual([1, 2, 4, 3, 6, 4, 8, 6, 1.5, 0.5]);
  });

  it('missing.json: null, "NA" and absent keys drop rows', async () => {
    const s = await selectFixture('missing.json', { target: 'y' });
    expect(s.features).toEqual(['x1', 'x2']);
    expect([s.rows, s.droppedRows]).toEqual([4, 3]);
    expect(Array.from(s.data.y)).toEqual([-3, 0, 1, -6]);
  });

  it('no rows left', () => {
    const e = dataErrorOf(() => selectLinearData(csv('a,y\n1,\nNA,2\n'), { target: 'y' }));
    expect(e.message).toBe('data.csv: no rows left after dropping 2 rows with missing or invalid values');
  });

  it('a bad cell is reported even when the same row also has a missing value', () => {
    const e = dataErrorOf(() => selectLinearData(csv('a,b,y\n1,2,3\n,x,4\n'), { target: 'y', features: ['a', 'b'] }));
    expect(e.message).toBe('data.csv line 3, column "b": "x" is not a number');
  });
});

describe('selectLinearData: bad values', () => {
  it('nonnumeric.csv: names file, line and column', async () => {
    const e = await asyncDataErrorOf(selectFixture('nonnumeric.csv', { target: 'y', features: ['x1', 'x2'] }));
    expect(e.message).toMatch(/nonnumeric\.csv line 7, column "x2": "abc" is not a number$/);
    expect([e.line, e.column]).toEqual([7, 'x2']);
  });

  it('nonnumeric.json: names the element index', async () => {
    const e = await asyncDataErrorOf(selectFixture('nonnumeric.json', { target: 'y', features: ['x1', 'x2'] }));
    expect(e.message).toMatch(/nonnumeric\.json row 4, column "x2": true is not a number$/);
    expect(e.element).toBe(3);
  });

  it('infinite.csv: "inf" is an error even with default features', async () => {
    const e = await asyncDataErrorOf(selectFixture('infinite.csv', { target: 'y' }));
    expect(e.message).toMatch(/infinite\.csv line 4, column "x2": "inf" is infinite$/);
  });

  it('values that overflow float64 or float32 are errors, in the target too', () => {
    const e1 = dataErrorOf(() => selectLinearData(csv('a,y\n1,2\n2,1e999\n'), { target: 'y' }));
    expect(e1.message).toBe('data.csv line 3, column "y": "1e999" is infinite');
    const e2 = dataErrorOf(() => selectLinearData(csv('a,y\n1e39,2\n'), { target: 'y', features: ['a'] }));
    expect(e2.message).toContain('line 2, column "a": "1e39" is too large for float32');
    const e3 = dataErrorOf(() => selectLinearData(parseJsonText('[{"a":1,"y":1e999}]', 'd.json'), { target: 'y' }));
    expect(e3.message).toBe('d.json row 1, column "y": Infinity is infinite');
  });
});

describe('classifyCell', () => {
  const kind = (v: unknown) => classifyCell(v).kind;
  it('missing tokens', () => {
    for (const v of ['', '   ', 'NA', 'NaN', 'nan', 'null', null, undefined, Number.NaN]) expect(kind(v), String(v)).toBe('missing');
  });
  it('numbers with Number() semantics', () => {
    const cases: Array<[unknown, number]> = [['1', 1], [' -2.5 ', -2.5], ['+.5', 0.5], ['5.', 5], ['1e3', 1000], ['-1.5E-2', -0.015], ['007', 7], [3, 3], [-0, -0]];
    for (const [v, expected] of cases) expect(classifyCell(v), String(v)).toEqual({ kind: 'number', value: expected });
  });
  it('rejects hex, garbage and non-numbers', () => {
    for (const v of ['0x10', '0b1', '1.2.3', 'abc', '1e', '.', '1_000', '1,5', true, false, {}, [1]]) expect(kind(v), String(v)).toBe('bad');
  });
  it('infinities and float32 overflow', () => {
    for (const v of ['inf', '-Infinity', 'INF', '1e999', Infinity, -Infinity, 4e38]) expect(kind(v), String(v)).toBe('infinite');
    expect(kind(3.4e38)).toBe('number');
  });
});
