import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { defaultTarget, generateDataset, parseFile, seedGenerator, selectFromFile, suggestedLr } from '../../src/demo/data.ts';
import { leastSquares } from '../../src/cpu/least-squares.ts';
import { DataError } from '../../src/data/errors.ts';

const fixture = (name: string) => readFile(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');

describe('demo datasets', () => {
  it('generates the seed example in chunks, deterministically, with the asked-for line and noise', async () => {
    let yields = 0;
    const p = { n: 600_000, w: 3, b: 2, noise: 0.5, seed: 1 };
    const ds = await generateDataset(p, async () => { yields++; });
    expect(yields).toBe(2); // 2^18-sample chunks
    expect(ds.data.n).toBe(600_000);
    const fit = leastSquares(ds.data);
    expect(fit.w[0]).toBeCloseTo(3, 2);
    expect(fit.b).toBeCloseTo(2, 1);
    let ss = 0;
    for (let i = 0; i < ds.data.n; i++) ss += (ds.data.y[i] - 3 * ds.data.x[i] - 2) ** 2;
    expect(Math.sqrt(ss / ds.data.n)).toBeCloseTo(0.5, 2);
    const again = { x: new Float32Array(10), y: new Float32Array(10) };
    seedGenerator(p)(again.x, again.y, 0, 10);
    expect(Array.from(again.y)).toEqual(Array.from(ds.data.y.subarray(0, 10)));
  });

  it('a CSV with missing values: numeric columns found, rows dropped, target chosen by name', async () => {
    const parsed = parseFile('missing.csv', await fixture('missing.csv'));
    expect(parsed.numeric).toEqual(['x1', 'x2', 'y']);
    expect(defaultTarget(parsed.numeric)).toBe('y');
    const ds = selectFromFile(parsed, 'y');
    expect(ds.features).toEqual(['x1', 'x2']);
    expect(ds.droppedRows).toBeGreaterThan(0);
    expect(ds.label).toMatch(/missing values dropped/);
  });

  it('a ragged CSV is a DataError that names the line', async () => {
    expect(() => parseFile('ragged.csv', 'x,y\n1,2\n3\n')).toThrowError(/ragged\.csv line 3: 1 field, but the header has 2/);
    let err: unknown;
    try { parseFile('ragged.csv', await fixture('ragged.csv')); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).line).toBe(5);
  });

  it('defaultTarget falls back to the last numeric column', () => {
    expect(defaultTarget(['a', 'b'])).toBe('b');
    expect(defaultTarget([])).toBeNull();
  });

  it('suggestedLr is below 2 / lambda_max of the Hessian', () => {
    const x = new Float32Array(1000).map((_, i) => (i % 100) / 10);
    const lr = suggestedLr({ x, y: new Float32Array(1000), n: 1000, d: 1 });
    let m1 = 0, m2 = 0;
    for (const v of x) { m1 += v / 1000; m2 += (v * v) / 1000; }
    const tr = 2 * (m2 + 1), det = 4 * (m2 - m1 * m1);
    const lmax = (tr + Math.sqrt(tr * tr - 4 * det)) / 2;
    expect(lr).toBeLessThan(2 / lmax);
    expect(lr).toBeGreaterThan(1 / lmax);
  });
});
