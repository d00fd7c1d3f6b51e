// A kept row's place in its file, for messages about that row: its line (CSV, JSON Lines) or, in a format
// without lines, its element counting the dropped rows, wherever the dropped rows lie around it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { placeOfKeptRow } from '../../src/cli/row-place.ts';

const dir = mkdtempSync(join(tmpdir(), 'nabla-row-place-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const columns = { target: 'y', features: ['x'] };

describe('placeOfKeptRow', () => {
  it('names the line of a kept row that dropped rows precede or follow (CSV, JSON Lines)', async () => {
    // Kept rows: lines 2, 5, 6 (lines 3 and 4 miss a value and are dropped).
    const csv = file('a.csv', 'x,y\n1,2\n,3\n4,\n5,6\n7,8\n');
    expect(await Promise.all([0, 1, 2].map((r) => placeOfKeptRow(csv, columns, r)))).toEqual([2, 5, 6].map((line) => ({ file: csv, line })));
    // Kept rows: lines 1, 4, 5 (line 2 has a null, line 3 is blank).
    const jsonl = file('a.jsonl', '{"x":1,"y":2}\n{"x":null,"y":3}\n\n{"x":5,"y":6}\n{"x":7,"y":8}\n');
    expect(await Promise.all([0, 1, 2].map((r) => placeOfKeptRow(jsonl, columns, r)))).toEqual([1, 4, 5].map((line) => ({ file: jsonl, line })));
  });

  it('names the element, dropped ones counted, in a format without lines (a JSON array)', async () => {
    const json = file('a.json', '[{"x":null,"y":1},{"x":1,"y":2},{"x":null,"y":3},{"x":5,"y":6},{"x":7,"y":8}]');
    expect(await Promise.all([0, 1, 2].map((r) => placeOfKeptRow(json, columns, r)))).toEqual([1, 3, 4].map((element) => ({ file: json, element })));
  });
});
