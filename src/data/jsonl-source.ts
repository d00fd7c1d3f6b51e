// JSON Lines (.jsonl, .ndjson): one JSON object per line, streamed forward from pieces of text (a Node file
// stream, a Blob's stream, or a URL read by ranges), so that unlike a JSON array the file is never held.
// A value may be a number or a numeric string; a missing key and null are missing values under the
// --on-invalid policy, as an empty CSV cell is. Blank lines are skipped; errors name the file, the 1-based
// line and the key.
import { buffersOf, ChunkBuilder, chooseColumns, noRowsLeft, targetReading } from './chunk-builder.ts';
import { MAX_RECORD_CHARS, openTextFile, SNIFF_ROWS } from './csv-stream.ts';
import { DataError } from './errors.ts';
import { isNumericColumn } from './select.ts';
import type { SampleChunk, SampleSource, SourceOptions } from './source.ts';
import { objectTable, type Table } from './table.ts';

export interface JsonlLine {
  row: Record<string, unknown>;
  /** 1-based line in the file. */
  line: number;
}

/**
 * The objects of a JSON Lines text, one per non-blank line, in batches (one per piece of text). A line cut
 * between two pieces is carried into the next; a line longer than MAX_RECORD_CHARS is an error rather than
 * a reason to buffer the file (it is almost always not JSON Lines at all, e.g. a pretty-printed array).
 */
export async function* jsonlLines(pieces: AsyncIterable<string>, file: string): AsyncGenerator<JsonlLine[]> {
  let carry = '';
  let line = 1; // line number of carry's first character
  let first = true;
  let any = false;
  const it = pieces[Symbol.asyncIterator]();
  try {
    for (let done = false; !done; ) {
      const r = await it.next();
      done = r.done === true;
      let text = done ? carry : carry + r.value;
      if (first && text.length > 0) {
        if (text.startsWith('\uFEFF')) text = text.slice(1);
        first = false;
      }
      const batch: JsonlLine[] = [];
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        const row = parseLine(text, start, nl, file, line);
        if (row) batch.push({ row, line });
        line++;
        start = nl + 1;
      }
      if (done && start < text.length) {
        const row = parseLine(text, start, text.length, file, line);
        if (row) batch.push({ row, line });
        start = text.length;
      }
      carry = text.substring(start);
      if (carry.length > MAX_RECORD_CHARS) {
        throw new DataError(`a line longer than ${MAX_RECORD_CHARS} characters (JSON Lines holds one object per line)`, { file, line });
      }
      if (batch.length > 0) {
        any = true;
        yield batch;
      }
    }
  } finally {
    // Early exit (a consumer's break, or an error here) closes the underlying file.
    await it.return?.();
  }
  if (!any) throw new DataError('no data rows (the file is empty)', { file });
}

/** The object on text[start, end), null for a blank line; '\r' before the '\n' is part of the line break. */
function parseLine(text: string, start: number, end: number, file: string, line: number): Record<string, unknown> | null {
  const s = text.substring(start, end).trim();
  if (s === '') return null;
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch (err) {
    throw new DataError(`invalid JSON (${err instanceof Error ? err.message : String(err)})`, { file, line });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    const got = v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`;
    throw new DataError(`expected one JSON object per line, got ${got}`, { file, line });
  }
  return v as Record<string, unknown>;
}

/**
 * A source over any re-openable text stream. The columns are the keys seen in the first SNIFF_ROWS lines
 * (first-seen order), and the default features those of them numeric there (isNumericColumn's rule), as
 * csv-stream.ts decides from its first rows: reading the whole file first would be a pass before training.
 * A key that first appears further down is therefore not offered; a chosen key missing from a line is a
 * missing value.
 */
export async function jsonlSource(openText: () => AsyncIterable<string>, file: string, opts: SourceOptions): Promise<SampleSource> {
  const sample: JsonlLine[] = [];
  for await (const batch of jsonlLines(openText(), file)) {
    for (const l of batch) {
      if (sample.length < SNIFF_ROWS) sample.push(l);
    }
    if (sample.length >= SNIFF_ROWS) break;
  }
  const columns: string[] = [];
  const known = new Set<string>();
  for (const { row } of sample) {
    for (const key of Object.keys(row)) {
      if (!known.has(key)) {
        known.add(key);
        columns.push(key);
      }
    }
  }
  if (columns.length === 0) throw new DataError(`no keys in the first ${sample.length} objects`, { file });
  const table = {
    file,
    columns,
    rowCount: sample.length,
    cell: (row: number, col: number) => sample[row].row[columns[col]],
    lineOf: (row: number) => sample[row].line,
  };
  const choice = chooseColumns(columns, opts, file, (k) => isNumericColumn(table, k));
  const keys = choice.indices.map((k) => columns[k]);
  const policy = opts.invalid ?? 'drop-missing';

  async function* chunks(maxRows: number): AsyncGenerator<SampleChunk> {
    const builder = new ChunkBuilder(choice.names, maxRows, policy, targetReading(opts), buffersOf(opts));
    for await (const batch of jsonlLines(openText(), file)) {
      for (const { row, line } of batch) {
        const out = builder.addCells((k) => row[keys[k]], () => ({ file, line }), line);
        if (out) yield out;
      }
    }
    const last = builder.finish();
    if (last) yield last;
    if (builder.keptTotal === 0) throw noRowsLeft(file, builder.droppedTotal);
  }

  return { file, format: 'jsonl', features: choice.features, target: choice.target, chunks };
}

/** Every line's object, held whole (the page's in-memory modes): rows keep their lines for the messages. */
export async function jsonlTable(pieces: AsyncIterable<string>, file: string): Promise<Table> {
  const rows: Record<string, unknown>[] = [];
  const lines: number[] = [];
  for await (const batch of jsonlLines(pieces, file)) {
    for (const { row, line } of batch) {
      rows.push(row);
      lines.push(line);
    }
  }
  return objectTable(file, rows, (row) => lines[row]);
}

/** Node: a JSON Lines file, read as UTF-8 pieces. */
export function openJsonlSource(path: string, opts: SourceOptions): Promise<SampleSource> {
  return openTextFile(path, opts, jsonlSource);
}
