// Node only: a CSV or JSON file read by path into a Table (table.ts). Kept apart from table.ts so that the
// browser bundle (the demo parses files the user drops) never meets node:fs.
import { readFile } from 'node:fs/promises';
import { DataError } from './errors.ts';
import { detectFormat, parseTableText, type Table } from './table.ts';

export async function readTable(path: string): Promise<Table> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new DataError(`cannot read the file (${reason})`, { file: path });
  }
  return parseTableText(text, path, detectFormat(path, text));
}
