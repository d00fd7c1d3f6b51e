// Problems with the user's input data (as opposed to bugs or GPU failures): the CLI maps these to exit
// code 2, so every one must say where in the file the problem is.

export interface DataErrorLocation {
  file?: string;
  /** 1-based line in the source file; the CSV header is line 1. */
  line?: number;
  /**
   * 0-based index of the row in a format without lines (a JSON array's element, a Parquet, Arrow or raw row);
   * messages say `row <element + 1>`, counting from 1 like lines.
   */
  element?: number;
  column?: string;
}

export class DataError extends Error {
  readonly file?: string;
  readonly line?: number;
  readonly element?: number;
  readonly column?: string;
  /** The message without the location prefix. */
  readonly detail: string;

  constructor(detail: string, where: DataErrorLocation = {}) {
    super(formatDataError(detail, where));
    this.name = 'DataError';
    this.detail = detail;
    if (where.file !== undefined) this.file = where.file;
    if (where.line !== undefined) this.line = where.line;
    if (where.element !== undefined) this.element = where.element;
    if (where.column !== undefined) this.column = where.column;
  }
}

/** A column asked for that the file does not have; `columns` are the file's own, for callers that name the role. */
export class MissingColumnError extends DataError {
  declare readonly column: string;
  readonly columns: readonly string[];

  constructor(column: string, role: string, columns: readonly string[], file: string) {
    super(`no such ${role} column; the columns are ${columnList(columns)}`, { file, column });
    this.columns = columns;
  }
}

export const columnList = (columns: readonly string[]): string => columns.map((c) => JSON.stringify(c)).join(', ');

/** e.g. `data.csv line 7, column "x2": "abc" is not a number`. */
export function formatDataError(detail: string, where: DataErrorLocation): string {
  const place: string[] = [];
  if (where.file !== undefined) place.push(where.file);
  if (where.line !== undefined) place.push(`line ${where.line}`);
  else if (where.element !== undefined) place.push(`row ${where.element + 1}`);
  let prefix = place.join(' ');
  if (where.column !== undefined) prefix += `${prefix ? ', ' : ''}column ${JSON.stringify(where.column)}`;
  return prefix ? `${prefix}: ${detail}` : detail;
}
