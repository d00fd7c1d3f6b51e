// The formula mode's data sources: a file that cannot be read replaces the previous data and says so, a bad
// cell in a column of numbers is reported by file, line, column and value (not taken for a missing column),
// a column of text named by the formula is an error at the name, and a model that reads no column of a file
// reads its target alone.
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/data/errors.ts';
import { parseFile } from '../../src/demo/data.ts';
import { selectFormulaData } from '../../src/demo/formula/formula-data.ts';
import { compileForSource, namePosition, readSource, sourceLabel, sourceProblem, type DataSource } from '../../src/demo/formula/formula-source.ts';

/** A file's text as the page gets it: a Blob with a name. */
const read = (name: string, text: string) => readSource(name, new Blob([text]));

const compiled = (formula: string, source: DataSource) => {
  const c = compileForSource(formula, 'mse', source);
  if (!c.ok) throw new Error(c.error.reason);
  return c.model;
};

describe('demo formula mode: data sources', () => {
  it('a file that cannot be read is a source of its own, naming the file and its problem', async () => {
    const short = await read('short.csv', 'x,y\n1,2\n2');
    expect(short.kind).toBe('unreadable');
    expect(sourceProblem(short)).toMatch(/^short\.csv could not be read, so there is no data to train on: short\.csv line 3: 1 field, but the header has 2\. Choose another file/);
    expect(sourceLabel(short)).toBe('none: short.csv could not be read');
    const two = await read('two.csv', 'x,y\n1,2\n2,4');
    expect(sourceProblem(two)).toBeNull();
    expect(sourceLabel(two)).toBe('two.csv: 2 rows, columns x, y');
  });

  it('a column of numbers with one bad cell stays a column: its bad cell is reported by line, column and value', async () => {
    const csv = await read('badrow.csv', 'x,y\n1,2\n2,abc\n3,4\n');
    if (csv.kind !== 'file') throw new Error('not read');
    expect(csv.parsed.numeric).toEqual(['x']);
    expect(csv.parsed.text).toEqual([]);
    const m = compiled('y ~ a*x + b', csv);
    expect(m.target).toBe('y');
    expect(() => selectFormulaData(m, csv.parsed)).toThrowError(new DataError('"abc" is not a number', { file: 'badrow.csv', line: 3, column: 'y' }));
    const json = await read('bad.json', '[{"x":1,"y":2},{"x":2,"y":3},{"x":3,"y":"q"}]');
    if (json.kind !== 'file') throw new Error('not read');
    expect(() => selectFormulaData(compiled('y ~ a*x + b', json), json.parsed)).toThrowError(/^bad\.json row 3, column "y": "q" is not a number$/);
  });

  it('a column of text named by the formula is an error at the name, not a parameter', async () => {
    const text = await read('names.csv', 'x,y,who\na,2,p\nb,3,q\nc,4,r');
    if (text.kind !== 'file') throw new Error('not read');
    expect(text.parsed.text).toEqual(['x', 'who']);
    expect(compileForSource('y ~ a*x + b', 'mse', text)).toMatchObject({
      ok: false, error: { field: 'formula', position: 6, reason: '"x" is a column of names.csv but not numeric (none of its values is a number), so it cannot be read by the model' },
    });
    const target = await read('t.csv', 'x,y\n1,a\n2,b');
    expect(compileForSource('y ~ a*x + b', 'mse', target)).toMatchObject({ ok: false, error: { position: 0, reason: expect.stringMatching(/^"y" is a column of t\.csv but not numeric .*cannot be the target$/) } });
    // A column of text the formula does not name is left alone.
    const extra = await read('extra.csv', 'x,y,who\n1,2,p\n2,3,q');
    expect(compiled('y ~ a*x + b', extra).features).toEqual(['x']);
  });

  it('a target that is no column names every column of the file, text ones too, after any error before it', async () => {
    // Read with ',' as every CSV is: one column "x;y", of text, which the message must still name.
    const semi = await read('semi.csv', 'x;y\n1;2\n2;4\n');
    expect(compileForSource('y ~ a*x', 'mse', semi)).toMatchObject({
      ok: false, error: { field: 'formula', position: 0, reason: 'the target "y" is not a column of the data (columns: x;y)' },
    });
    const mixed = await read('mixed.csv', 'x,who,z\n1,p,2\n2,q,3\n');
    expect(compileForSource('y ~ a*x', 'mse', mixed)).toMatchObject({ ok: false, error: { reason: 'the target "y" is not a column of the data (columns: x, who, z)' } });
    // An error earlier in the text, or in the loss, is still the one shown.
    expect(compileForSource('y ~ a*(x', 'mse', semi)).toMatchObject({ ok: false, error: { field: 'formula', position: 8, reason: expect.stringMatching(/is not closed/) } });
    expect(compileForSource('y ~ a*x', '(yhat - q)^2', mixed)).toMatchObject({ ok: false, error: { field: 'loss', position: 8 } });
  });

  it('a model that reads no column of a file (y ~ c) reads the target alone, checked and dropped as beside features', async () => {
    const xy = await read('xy.csv', 'x,y\n1,2\n2,\n3,6\n,8');
    if (xy.kind !== 'file') throw new Error('not read');
    const constant = compiled('y ~ c', xy);
    expect(constant.features).toEqual([]);
    const ds = selectFormulaData(constant, xy.parsed);
    // Row 2's target is missing (dropped); row 4's x is missing, but the model does not read x.
    expect(ds.data).toMatchObject({ n: 3, d: 0 });
    expect(ds.data.x).toHaveLength(0);
    expect(Array.from(ds.data.y)).toEqual([2, 6, 8]);
    expect(ds.label).toBe('xy.csv: y alone (the model reads no other column: c is a parameter) (N = 3, 1 row with missing values dropped)');
    const bad = await read('bad.csv', 'x,y\n1,2\n2,inf\n');
    if (bad.kind !== 'file') throw new Error('not read');
    expect(() => selectFormulaData(compiled('y ~ c', bad), bad.parsed)).toThrowError(new DataError('"inf" is infinite', { file: 'bad.csv', line: 3, column: 'y' }));
    // A column named like the carrier of the target is the file's own and left alone.
    const odd = await read('odd.csv', '(no column),y\n5,1\n5,3');
    if (odd.kind !== 'file') throw new Error('not read');
    expect(Array.from(selectFormulaData(compiled('y ~ c', odd), odd.parsed).data.y)).toEqual([1, 3]);
  });

  it('a name is found as a whole token right of the "~"', async () => {
    expect(namePosition('y ~ ax*x + x', 'x')).toBe(7);
    expect(namePosition('x ~ b*x.1 + x', 'x')).toBe(12);
    expect(namePosition('y ~ a', 'q')).toBe(2);
  });
});

describe('demo parseFile', async () => {
  it('sorts columns into numbers, text, and numbers with a bad cell (neither)', async () => {
    const parsed = parseFile('mixed.csv', 'x,y,name,empty\n1,2,a,\n2,abc,b,\n3,4,c,NA\n');
    expect(parsed.numeric).toEqual(['x']);
    expect(parsed.text).toEqual(['name']);
  });
});
