// Where a kept row lies in its file, for a message about that row: reading a second time, one row a chunk,
// is cheaper than keeping every row's line while the data load (errors are rare, files are large).
import { openSource, type SourceOptions } from '../data/source.ts';
import type { DataErrorLocation } from '../data/errors.ts';

/** Where kept row `row` (0-based), read with `options`, lies in the file: its CSV line, or its row counting the dropped ones. */
export async function placeOfKeptRow(path: string, options: SourceOptions, row: number): Promise<DataErrorLocation> {
  const source = await openSource(path, options);
  let kept = 0;
  let dropped = 0;
  for await (const c of source.chunks(1)) {
    dropped += c.droppedRows;
    if (kept++ < row) continue;
    // A chunk of one kept row: its first line is that row's unless dropped rows came before it in the chunk.
    if (c.firstLine !== undefined) return c.droppedRows === 0 ? { file: path, line: c.firstLine } : { file: path };
    return source.format === 'csv' ? { file: path } : { file: path, element: row + dropped };
  }
  return { file: path };
}
