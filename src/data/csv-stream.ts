// CSV streamed from pieces of text (a Node file stream, or a Blob's stream in the browser), parsed by
// papaparse one piece at a time, never the whole file as one string. Same rules as parseCsvText in
// table.ts: header row, delimiter always ',', blank lines skipped, 1-based lines counted through quoted
// line breaks, a row with the wrong field count is an error naming its line.
import Papa from 'papaparse';
import { buffersOf, ChunkBuilder, chooseColumns, noRowsLeft, targetReading } from './chunk-builder.ts';
import { DataError } from './errors.ts';
import { isNumericColumn } from './select.ts';
import { checkBlob, checkSourceOptions, type SampleChunk, type SampleSource, type SourceOptions } from './source.ts';

/** Piece size read from the file: big enough that papaparse's per-call overhead vanishes. */
const PIECE_BYTES = 1 << 20;
/**
 * A record still open after this many characters is an error, not a reason to buffer the file: it is
 * almost always an unterminated quote, and a bound here is what keeps host memory bounded.
 */
export const MAX_RECORD_CHARS = 16 << 20;
/** Rows sampled to decide the default features (see openCsvSource). */
export const SNIFF_ROWS = 8192;

export interface CsvBatch {
  header: string[];
  rows: string[][];
  /** 1-based source line where each row starts. */
  lines: number[];
}

/**
 * Complete records from a sequence of text pieces, in batches (one per piece). Papaparse parses each
 * piece plus the carried-over tail of the previous one; the last record of a piece may be cut off, so
 * it is carried into the next parse instead of being emitted. Throws DataError for an empty file, a bad
 * header, malformed quoting or a ragged row.
 */
export async function* csvBatches(pieces: AsyncIterable<string>, file: string): AsyncGenerator<CsvBatch> {
  let header: string[] | null = null;
  let carry = '';
  let line = 1; // line on which the next unparsed record starts
  let newline: string | undefined;
  let first = true;
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
      // Papaparse guesses the line break from the text; wait for a '\n' (or 1 MiB, for '\r'-only files)
      // so that a piece ending between '\r' and '\n' cannot fix the wrong one for the whole file.
      if (!done && newline === undefined && !text.includes('\n') && text.length < PIECE_BYTES) {
        carry = text;
        continue;
      }
      const rows: string[][] = [];
      const cursors: number[] = [];
      const quoteErrors: (string | null)[] = [];
      Papa.parse<string[]>(text, {
        delimiter: ',',
        dynamicTyping: false,
        skipEmptyLines: false,
        ...(newline !== undefined ? { newline: newline as Papa.ParseConfig['newline'] } : {}),
        step: (res) => {
          newline ??= res.meta.linebreak;
          rows.push(res.data);
          cursors.push(res.meta.cursor);
          const q = res.errors.find((e) => e.type === 'Quotes');
          quoteErrors.push(q ? q.message : null);
        },
      });
      const keep = done ? rows.length : rows.length - 1;
      if (keep <= 0) {
        if (text.length > MAX_RECORD_CHARS) {
          throw new DataError(`a record longer than ${MAX_RECORD_CHARS} characters (an unterminated quote?)`, { file, line });
        }
        carry = text;
        continue;
      }
      const batch: CsvBatch = { header: header ?? [], rows: [], lines: [] };
      let prev = 0;
      for (let i = 0; i < keep; i++) {
        const startLine = line;
        line += countOccurrences(text, newline ?? '\n', prev, cursors[i]);
        prev = cursors[i];
        if (quoteErrors[i] !== null) throw new DataError(`malformed quoting (${quoteErrors[i]})`, { file, line: startLine });
        const fields = rows[i];
        if (fields.length === 1 && fields[0].trim() === '') continue; // blank line
        if (header === null) {
          header = checkHeader(fields, file, startLine);
          batch.header = header;
          continue;
        }
        if (fields.length !== header.length) {
          const got = `${fields.length} field${fields.length === 1 ? '' : 's'}`;
          throw new DataError(`${got}, but the header has ${header.length}`, { file, line: startLine });
        }
        batch.rows.push(fields);
        batch.lines.push(startLine);
      }
      carry = done ? '' : text.substring(prev);
      if (batch.rows.length > 0) yield batch;
    }
  } finally {
    // Early exit (a consumer's break, or an error here) closes the underlying file.
    await it.return?.();
  }
  if (header === null) throw new DataError('no data rows (the file is empty)', { file });
}

function checkHeader(fields: string[], file: string, line: number): string[] {
  const seen = new Set<string>();
  for (let k = 0; k < fields.length; k++) {
    const name = fields[k].trim();
    if (name === '') throw new DataError(`header field ${k + 1} is an empty column name`, { file, line });
    if (seen.has(name)) throw new DataError('duplicate column name in the header', { file, line, column: name });
    seen.add(name);
  }
  return fields.map((h) => h.trim());
}

function countOccurrences(s: string, needle: string, from: number, to: number): number {
  let count = 0;
  for (let i = s.indexOf(needle, from); i !== -1 && i + needle.length <= to; i = s.indexOf(needle, i + needle.length)) count++;
  return count;
}

/**
 * A source over any re-openable text stream. The default features are decided from the first
 * SNIFF_ROWS data rows only (the first chunk of rows), with isNumericColumn's rule: a column with a
 * number and otherwise only missing values there. Deciding from the whole file would need a full pass
 * before training; the price is that a column numeric in that sample but with text further down is
 * reported as an error at that line and column (where readTable + selectLinearData would skip the
 * column), and a column empty in the sample is not chosen. Pass `features` to decide explicitly.
 */
export async function csvSource(openText: () => AsyncIterable<string>, file: string, opts: SourceOptions): Promise<SampleSource> {
  let header: string[] | null = null;
  const sample: string[][] = [];
  const sampleLines: number[] = [];
  for await (const b of csvBatches(openText(), file)) {
    header = b.header;
    for (let i = 0; i < b.rows.length && sample.length < SNIFF_ROWS; i++) {
      sample.push(b.rows[i]);
      sampleLines.push(b.lines[i]);
    }
    if (sample.length >= SNIFF_ROWS) break;
  }
  if (header === null || sample.length === 0) throw new DataError('no data rows (only a header)', { file });
  const columns = header;
  const table = {
    file,
    columns,
    rowCount: sample.length,
    cell: (row: number, col: number) => sample[row][col],
    lineOf: (row: number) => sampleLines[row],
  };
  const choice = chooseColumns(columns, opts, file, (k) => isNumericColumn(table, k));
  const policy = opts.invalid ?? 'drop-missing';
  const idx = choice.indices;

  async function* chunks(maxRows: number): AsyncGenerator<SampleChunk> {
    const builder = new ChunkBuilder(choice.names, maxRows, policy, targetReading(opts), buffersOf(opts));
    for await (const b of csvBatches(openText(), file)) {
      for (let i = 0; i < b.rows.length; i++) {
        const fields = b.rows[i];
        const line = b.lines[i];
        const out = builder.addCells((k) => fields[idx[k]], () => ({ file, line }), line);
        if (out) yield out;
      }
    }
    const last = builder.finish();
    if (last) yield last;
    if (builder.keptTotal === 0) throw noRowsLeft(file, builder.droppedTotal);
  }

  return { file, format: 'csv', features: choice.features, target: choice.target, chunks };
}

/** Node: a CSV file, read as UTF-8 pieces (the stream's decoder keeps multi-byte characters whole). */
export function openCsvSource(path: string, opts: SourceOptions): Promise<SampleSource> {
  return openTextFile(path, opts, csvSource);
}

/** Node: a text file (CSV, JSON Lines) checked for access, then handed to `source` as UTF-8 pieces, each pass a new stream. */
export async function openTextFile(
  path: string, opts: SourceOptions, source: (openText: () => AsyncIterable<string>, file: string, opts: SourceOptions) => Promise<SampleSource>,
): Promise<SampleSource> {
  const { createReadStream } = await import('node:fs');
  const { access } = await import('node:fs/promises');
  try {
    await access(path);
  } catch (err) {
    throw new DataError(`cannot read the file (${err instanceof Error ? err.message : String(err)})`, { file: path });
  }
  return source(() => filePieces(createReadStream(path, { encoding: 'utf8', highWaterMark: PIECE_BYTES }), opts.onBytes), path, opts);
}

export async function* filePieces(stream: AsyncIterable<unknown> & { bytesRead: number }, onBytes?: (n: number) => void): AsyncGenerator<string> {
  let counted = 0;
  for await (const piece of stream as AsyncIterable<string>) {
    onBytes?.(stream.bytesRead - counted);
    counted = stream.bytesRead;
    yield piece;
  }
}

/** Browser (or Node): a File or Blob, read through its stream. */
export async function openCsvBlob(blob: Blob, name: string, opts: SourceOptions): Promise<SampleSource> {
  checkBlob(blob, 'openCsvBlob');
  checkSourceOptions(opts, 'openCsvBlob');
  return csvSource(() => textPieces(blob.stream()), name, opts);
}

/** UTF-8 text of a byte stream, piece by piece; leaving early (an error, a cancelled run) releases it. */
export async function* textPieces(bytes: ReadableStream<Uint8Array<ArrayBuffer>>): AsyncGenerator<string> {
  const reader = bytes.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
