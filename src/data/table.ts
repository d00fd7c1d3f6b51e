// A uniform, read-only view of a data file held whole. Cells stay as they were written (strings for
// CSV, JSON values for JSON) so that select.ts can decide what "missing" and "numeric" mean in one
// place and report the exact source text when a cell is bad. The parsers are pure so the browser demo
// can reuse them; readTable (table-file.ts, Node only) reads them from a path, and table-blob.ts reads
// every other format into the same view.
import Papa from 'papaparse';
import { DataError } from './errors.ts';

export interface Table {
  file: string;
  columns: string[];
  rowCount: number;
  /**
   * A string for CSV; any JSON value (undefined when the element lacks the key) for JSON and JSON Lines; the
   * decoded value (number, string, null...) for the typed formats (table-blob.ts).
   */
  cell(row: number, col: number): unknown;
  /** 1-based source line of a CSV or JSON Lines data row; null where rows are counted (JSON, typed formats). */
  lineOf(row: number): number | null;
}

export type TableFormat = 'csv' | 'json';

export function detectFormat(path: string, text: string): TableFormat {
  const lower = path.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.json')) return 'json';
  // '{' counts too, so a single top-level object gets "expected an array" rather than CSV noise.
  const first = text.replace(/^\uFEFF/, '').trimStart()[0];
  return first === '[' || first === '{' ? 'json' : 'csv';
}

export function parseTableText(text: string, fileLabel: string, format: TableFormat): Table {
  return format === 'json' ? parseJsonText(text, fileLabel) : parseCsvText(text, fileLabel);
}

/**
 * Header row required. The delimiter is always ',': papaparse's guessing can pick ';' or '|' from the
 * data itself, which would turn a malformed file into a silently different table.
 */
export function parseCsvText(text: string, fileLabel: string): Table {
  const file = fileLabel;
  // Stripped here rather than by papaparse so its cursor offsets line up with `body`.
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;

  let header: string[] | null = null;
  const rows: string[][] = [];
  const lines: number[] = [];
  let line = 1; // line on which the current record starts
  let prevCursor = 0;
  let failure: DataError | null = null;

  Papa.parse<string[]>(body, {
    delimiter: ',',
    dynamicTyping: false,
    skipEmptyLines: false,
    step: (res, parser) => {
      const startLine = line;
      // The cursor sits after the record's line break; quoted fields may span lines, so count them all.
      line += countOccurrences(body, res.meta.linebreak, prevCursor, res.meta.cursor);
      prevCursor = res.meta.cursor;

      const quoteError = res.errors.find((e) => e.type === 'Quotes');
      if (quoteError) {
        failure = new DataError(`malformed quoting (${quoteError.message})`, { file, line: startLine });
        parser.abort();
        return;
      }
      const fields = res.data;
      if (fields.length === 1 && fields[0].trim() === '') return; // blank line

      if (header === null) {
        failure = checkHeader(fields, file, startLine);
        if (failure) parser.abort();
        else header = fields.map((h) => h.trim());
        return;
      }
      if (fields.length !== header.length) {
        const got = `${fields.length} field${fields.length === 1 ? '' : 's'}`;
        failure = new DataError(`${got}, but the header has ${header.length}`, { file, line: startLine });
        parser.abort();
        return;
      }
      rows.push(fields);
      lines.push(startLine);
    },
  });

  if (failure) throw failure;
  if (header === null) throw new DataError('no data rows (the file is empty)', { file });
  if (rows.length === 0) throw new DataError('no data rows (only a header)', { file });
  const columns: string[] = header;
  return {
    file,
    columns,
    rowCount: rows.length,
    cell: (row, col) => rows[row][col],
    lineOf: (row) => lines[row],
  };
}

function checkHeader(fields: string[], file: string, line: number): DataError | null {
  const seen = new Set<string>();
  for (let k = 0; k < fields.length; k++) {
    const name = fields[k].trim();
    if (name === '') return new DataError(`header field ${k + 1} is an empty column name`, { file, line });
    if (seen.has(name)) return new DataError('duplicate column name in the header', { file, line, column: name });
    seen.add(name);
  }
  return null;
}

function countOccurrences(s: string, needle: string, from: number, to: number): number {
  if (!needle) return 0;
  let count = 0;
  for (let i = s.indexOf(needle, from); i !== -1 && i + needle.length <= to; i = s.indexOf(needle, i + needle.length)) count++;
  return count;
}

/** An array of plain objects; the columns are the union of their keys in first-seen order. */
export function parseJsonText(text: string, fileLabel: string): Table {
  const file = fileLabel;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.startsWith('\uFEFF') ? text.slice(1) : text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (text.trim() === '') throw new DataError('no data rows (the file is empty)', { file });
    throw new DataError(`invalid JSON (${reason})`, { file });
  }
  if (!Array.isArray(parsed)) {
    throw new DataError(`expected a JSON array of objects, got ${describeJson(parsed)}`, { file });
  }
  const rows = parsed as unknown[];
  for (let i = 0; i < rows.length; i++) {
    const el = rows[i];
    if (typeof el !== 'object' || el === null || Array.isArray(el)) {
      throw new DataError(`expected an object, got ${describeJson(el)}`, { file, element: i });
    }
  }
  if (rows.length === 0) throw new DataError('no data rows (the array is empty)', { file });
  return objectTable(file, rows as Record<string, unknown>[], () => null);
}

/** Rows of plain objects (a JSON array, JSON Lines); the columns are the union of their keys in first-seen order. */
export function objectTable(file: string, objects: readonly Record<string, unknown>[], lineOf: (row: number) => number | null): Table {
  const columns: string[] = [];
  const known = new Set<string>();
  for (const o of objects) {
    for (const key of Object.keys(o)) {
      if (!known.has(key)) {
        known.add(key);
        columns.push(key);
      }
    }
  }
  return {
    file,
    columns,
    rowCount: objects.length,
    // hasOwn: a key such as "toString" missing from one element must read as missing, not inherited.
    cell: (row, col) => {
      const o = objects[row];
      const key = columns[col];
      return Object.hasOwn(o, key) ? o[key] : undefined;
    },
    lineOf,
  };
}

/** Columns of values, one array per column (a typed file read whole); rows are named by index, not line. */
export function columnTable(file: string, columns: readonly string[], values: readonly ArrayLike<unknown>[], rowCount: number): Table {
  return { file, columns: [...columns], rowCount, cell: (row, col) => values[col][row], lineOf: () => null };
}

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
