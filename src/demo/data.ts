// Datasets for the page: the seed's example generated in chunks (so 10^7 samples never block the page),
// and a user's file, of any format the CLI reads, through the same readers and checks as the CLI.
import type { FormulaData } from '../models/formula.ts';
import { detectFormat, parseTableText, type Table } from '../data/table.ts';
import { readTableBlob } from '../data/table-blob.ts';
import { classifyCell, isNumericColumn, selectLinearData } from '../data/select.ts';
import { seededUniform } from '../data/shuffle.ts';

export interface GenerateParams {
  n: number;
  w: number;
  b: number;
  noise: number;
  seed: number;
}

export interface DemoDataset {
  label: string;
  source: 'generated' | 'file';
  data: FormulaData; // original units
  features: string[];
  target: string;
  droppedRows: number;
  /** The generating line, for the generated dataset. */
  truth: { w: number; b: number } | null;
}

/** x ~ U[0, 10) as in the seed example, noise ~ N(0, noise^2) by Box-Muller, from a seeded generator. */
export function seedGenerator(p: GenerateParams): (x: Float32Array, y: Float32Array, from: number, to: number) => void {
  const rand = seededUniform(p.seed);
  return (x, y, from, to) => {
    for (let i = from; i < to; i++) {
      const xi = 10 * rand();
      const g = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
      x[i] = xi;
      y[i] = p.w * xi + p.b + p.noise * g;
    }
  };
}

const CHUNK = 1 << 18;

/** Fills the arrays a chunk per task; `yieldTask` lets the page breathe between chunks. */
export async function generateDataset(
  p: GenerateParams,
  yieldTask: () => Promise<void>,
  onProgress?: (done: number) => void,
): Promise<DemoDataset> {
  const x = new Float32Array(p.n);
  const y = new Float32Array(p.n);
  const fill = seedGenerator(p);
  for (let from = 0; from < p.n; from += CHUNK) {
    fill(x, y, from, Math.min(p.n, from + CHUNK));
    onProgress?.(Math.min(p.n, from + CHUNK));
    if (from + CHUNK < p.n) await yieldTask();
  }
  return {
    label: `generated: y = ${p.w}·x + ${p.b} + noise (σ = ${p.noise}), N = ${p.n}`,
    source: 'generated',
    data: { x, y, n: p.n, d: 1 },
    features: ['x'],
    target: 'y',
    droppedRows: 0,
    truth: { w: p.w, b: p.b },
  };
}

export interface ParsedFile {
  table: Table;
  /** Columns of numbers (missing values allowed). */
  numeric: string[];
  /**
   * Columns with values but not one number among them (names, labels). A column with numbers and a bad cell
   * is in neither list: selecting it reports the bad cell by line and column.
   */
  text: string[];
}

/** Parses a file's text; throws DataError (with line, or element, and column) on bad input. */
export function parseFile(name: string, text: string): ParsedFile {
  return sortColumns(parseTableText(text, name, detectFormat(name, text)));
}

/** Reads a file of any format the package reads, whole (readTableBlob); throws DataError as parseFile does. */
export async function readDataFile(file: Blob, name: string): Promise<ParsedFile> {
  return sortColumns(await readTableBlob(file, name));
}

function sortColumns(table: Table): ParsedFile {
  const numeric = table.columns.filter((_, k) => isNumericColumn(table, k));
  return { table, numeric, text: table.columns.filter((_, k) => isTextColumn(table, k)) };
}

function isTextColumn(table: Table, col: number): boolean {
  let sawValue = false;
  for (let row = 0; row < table.rowCount; row++) {
    const kind = classifyCell(table.cell(row, col)).kind;
    if (kind === 'number' || kind === 'infinite') return false;
    if (kind === 'bad') sawValue = true;
  }
  return sawValue;
}

/** The default target: a column named y/target/label when numeric, else the last numeric column. */
export function defaultTarget(numeric: readonly string[]): string | null {
  for (const name of ['y', 'target', 'label']) {
    const hit = numeric.find((c) => c.toLowerCase() === name);
    if (hit) return hit;
  }
  return numeric.length ? numeric[numeric.length - 1] : null;
}

/** Trains on every numeric column but the target; throws DataError like the CLI. */
export function selectFromFile(parsed: ParsedFile, target: string): DemoDataset {
  const features = parsed.numeric.filter((c) => c !== target);
  const sel = selectLinearData(parsed.table, { target, features });
  const dropped = sel.droppedRows ? `, ${sel.droppedRows} row${sel.droppedRows === 1 ? '' : 's'} with missing values dropped` : '';
  return {
    label: `${parsed.table.file}: ${sel.target} from ${sel.features.join(', ')} (N = ${sel.rows}${dropped})`,
    source: 'file',
    data: sel.data,
    features: sel.features,
    target: sel.target,
    droppedRows: sel.droppedRows,
    truth: null,
  };
}

/** A learning rate that is safe for full-batch descent: 1.6 / trace(H) <= 1.6 / lambda_max(H). */
export function suggestedLr(data: FormulaData): number {
  const { x, n, d } = data;
  let sq = 0;
  const stride = Math.max(1, Math.floor(n / 100_000)); // an estimate is enough
  let count = 0;
  for (let i = 0; i < n; i += stride, count++) {
    for (let j = 0; j < d; j++) sq += x[i * d + j] * x[i * d + j];
  }
  const trace = 2 * (sq / count + 1); // H = (2/N) [X 1]^T [X 1]
  return 1.6 / trace;
}
