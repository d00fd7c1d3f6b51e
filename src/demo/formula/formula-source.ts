// Where the formula mode's rows come from: generated from the model, the user's file, or a file that could
// not be read (then nothing trains until another file or the generated data is chosen: the failed file
// replaced the previous one, so training on that one would be training on data the user moved away from).
// The formula is compiled against the source's columns, and a name the formula gives a column of text
// (a column with no number in it) is an error at that name. Pure: unit-testable without a page.
import { readDataFile, type ParsedFile } from '../data.ts';
import { compileSpec, generatedColumns, type Compiled } from './formula-spec.ts';

export type DataSource =
  | { kind: 'generated' }
  | { kind: 'file'; parsed: ParsedFile }
  | { kind: 'unreadable'; file: string; message: string };

/** The file's table (any format the package reads), or why it could not be read; never throws. */
export async function readSource(name: string, file: Blob): Promise<DataSource> {
  try {
    return { kind: 'file', parsed: await readDataFile(file, name) };
  } catch (e) {
    return { kind: 'unreadable', file: name, message: (e as Error).message };
  }
}

/** The Data section's message for a file that could not be read, or null. */
export function sourceProblem(source: DataSource): string | null {
  return source.kind === 'unreadable'
    ? `${source.file} could not be read, so there is no data to train on: ${source.message}. Choose another file, or use the generated data.`
    : null;
}

/** The Dataset line before a run is built from the source. */
export function sourceLabel(source: DataSource): string {
  if (source.kind === 'unreadable') return `none: ${source.file} could not be read`;
  if (source.kind === 'generated') return 'generated';
  const { table } = source.parsed;
  return `${table.file}: ${table.rowCount} row${table.rowCount === 1 ? '' : 's'}, columns ${table.columns.join(', ')}`;
}

/**
 * The formula and loss compiled against the source's columns. A file's columns of text are no columns to
 * the model, so a name that reads one would become a parameter: that is an error at the name instead.
 */
export function compileForSource(formula: string, loss: string, source: DataSource): Compiled {
  if (source.kind !== 'file') return compileSpec(formula, loss, generatedColumns(formula));
  const { table, text } = source.parsed;
  const notNumeric = (name: string) =>
    `"${name}" is a column of ${table.file} but not numeric (none of its values is a number), so it cannot be ${name === targetOf(formula) ? 'the target' : 'read by the model'}`;
  const target = targetOf(formula);
  if (text.includes(target)) return { ok: false, error: { field: 'formula', reason: notNumeric(target), text: formula, position: formula.indexOf(target) } };
  const numeric = table.columns.filter((col) => !text.includes(col));
  if (target !== '' && !table.columns.includes(target)) {
    // Compiled as if the target were a column, so that an error earlier in the text is still the one shown;
    // the message lists every column, text ones too (a file read as one column "x;y" would list none).
    const c = compileSpec(formula, loss, [...numeric, target]);
    const reason = `the target "${target}" is not a column of the data (columns: ${table.columns.join(', ')})`;
    return c.ok ? { ok: false, error: { field: 'formula', reason, text: formula, position: formula.indexOf(target) } } : c;
  }
  const c = compileSpec(formula, loss, numeric);
  if (!c.ok) return c;
  const textParam = c.model.params.find((p) => text.includes(p));
  if (textParam === undefined) return c;
  return { ok: false, error: { field: 'formula', reason: notNumeric(textParam), text: formula, position: namePosition(formula, textParam) } };
}

function targetOf(formula: string): string {
  const tilde = formula.indexOf('~');
  return tilde < 0 ? '' : formula.slice(0, tilde).trim();
}

/** Where a name stands as a whole token right of the "~" (not inside a longer name), 0-based. */
export function namePosition(formula: string, name: string): number {
  const from = Math.max(0, formula.indexOf('~'));
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const hit = new RegExp(`(?<![A-Za-z0-9_.])${escaped}(?![A-Za-z0-9_.])`).exec(formula.slice(from));
  return hit ? from + hit.index : from;
}
