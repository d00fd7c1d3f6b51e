// Where a kept row lies in its file, for a message about that row: reading a second time, one row a chunk,
// is cheaper than keeping every row's line while the data load (errors are rare, files are large).
import { openSource, type SourceOptions } from '../data/source.ts';
import type { DataErrorLocation } from '../data/errors.ts';

/** Where kept row `row` (0-based), read with `options`, lies in the file: its CSV or JSON Lines line, or its row counting the dropped ones. */
export async function placeOfKeptRow(path: string, options: SourceOptions, row: number): Promise<DataErrorLocation> {
  const source = await openSource(path, options);
  let kept = 0;
  for await (const c of source.chunks(1)) {
    if (kept++ < row) continue;
    if (c.lastLine !== undefined) return { file: path, line: c.lastLine };
    return c.lastInputRow === undefined || source.format === 'csv' ? { file: path } : { file: path, element: c.lastInputRow };
  }
  return { file: path };
}
