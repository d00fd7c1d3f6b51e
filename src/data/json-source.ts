// JSON arrays of objects as a SampleSource. JSON.parse needs the whole text, so this reader DOES hold
// the whole file (text and parsed objects) in memory while open: JSON is for small and medium data;
// convert it once with `nabla convert` (convertToRaw) for anything large. Chunks are still produced
// row by row, so the float32 copies stay one chunk at a time like every other source.
import { buffersOf, ChunkBuilder, chooseColumns, noRowsLeft, targetReading, type ColumnChoice } from './chunk-builder.ts';
import { DataError } from './errors.ts';
import { isNumericColumn } from './select.ts';
import type { SampleChunk, SampleSource, SourceOptions } from './source.ts';
import { parseJsonText, type Table } from './table.ts';

/** From already-read text (browser: `await file.text()`). Errors name the element (0-based index). */
export function jsonSourceFromText(text: string, file: string, opts: SourceOptions): SampleSource {
  const table = parseJsonText(text, file);
  // Unlike CSV, every row is at hand, so the default features come from the whole file, exactly as
  // selectLinearData decides them.
  const choice = chooseColumns(table.columns, opts, file, (k) => isNumericColumn(table, k));
  return tableSource(table, 'json', choice, opts);
}

export async function openJsonSource(path: string, opts: SourceOptions): Promise<SampleSource> {
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try {
    const bytes = await readFile(path);
    opts.onBytes?.(bytes.length);
    text = bytes.toString('utf8');
  } catch (err) {
    throw new DataError(`cannot read the file (${err instanceof Error ? err.message : String(err)})`, { file: path });
  }
  return jsonSourceFromText(text, path, opts);
}

function tableSource(
  table: Table,
  format: 'json',
  choice: ColumnChoice,
  opts: SourceOptions,
): SampleSource {
  const { file } = table;
  const { features, target, indices: idx } = choice;
  const policy = opts.invalid ?? 'drop-missing';
  async function* chunks(maxRows: number): AsyncGenerator<SampleChunk> {
    const builder = new ChunkBuilder(choice.names, maxRows, policy, targetReading(opts), buffersOf(opts));
    for (let row = 0; row < table.rowCount; row++) {
      const out = builder.addCells((k) => table.cell(row, idx[k]), () => ({ file, element: row }));
      if (out) yield out;
    }
    const last = builder.finish();
    if (last) yield last;
    if (builder.keptTotal === 0) throw noRowsLeft(file, builder.droppedTotal);
  }
  return { file, format, features, target, inputRows: table.rowCount, chunks };
}
