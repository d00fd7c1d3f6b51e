// Class labels: a target column read as labels (numbers or strings) for classification, delivered as
// label indices in the chunks' y. Every reader goes through ChunkBuilder, so CSV, JSON, Parquet, Arrow
// and raw files agree on what a label is: a number-looking label is normalized ("1.0", "01" and a
// float 1 are all class "1"), a string is trimmed, and an empty / NA / null / NaN cell is missing.

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const MISSING_RE = /^(?:|na|nan|null)$/i;

/** The label of a cell, or null when the cell is missing; undefined for a value that cannot be a label. */
export function labelOf(v: unknown): string | null | undefined {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return Number.isNaN(v) ? null : numberLabel(v);
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (MISSING_RE.test(s)) return null;
  return NUMBER_RE.test(s) ? numberLabel(Number(s)) : s;
}

/**
 * A number's label: its shortest decimal, and for a float32 value (raw, Parquet FLOAT, Arrow Float32 cells) the
 * shortest that reads back as the same float32, so that 0.1 stored in float32 is class "0.1" as it is in a CSV,
 * not "0.10000000149011612". Two labels never merge: equal strings mean equal float32 values.
 */
function numberLabel(v: number): string {
  const plain = String(v);
  if (!Number.isFinite(v) || Math.fround(v) !== v || plain.length <= 9) return plain;
  for (let digits = 1; digits <= 9; digits++) {
    const s = String(Number(v.toPrecision(digits)));
    if (Math.fround(Number(s)) === v) return s;
  }
  return plain;
}

/** Numerically when every label is a number, else as strings: the order class indices follow. */
export function sortLabels(labels: Iterable<string>): string[] {
  const all = [...labels];
  return all.every((l) => Number.isFinite(Number(l))) ? all.sort((a, b) => Number(a) - Number(b)) : all.sort();
}

/**
 * Label -> index. Closed (built from a saved model's classes): any other label is refused. Open (for
 * training): labels get indices in the order first seen, and classes() sorts them once the pass is over;
 * remap the y already read with reindex().
 */
export class LabelCoder {
  private readonly index = new Map<string, number>();
  private readonly seen: string[] = [];
  readonly closed: boolean;

  constructor(known?: readonly string[]) {
    if (known !== undefined && !Array.isArray(known)) throw new TypeError(`LabelCoder: expected an array of class labels, got ${typeof known}`);
    this.closed = known !== undefined;
    // Class k is known[k]: an entry that is no label, or the same label twice ("1" and "1.0"), would shift the
    // indices after it away from the names.
    for (const k of known ?? []) {
      const label = labelOf(k);
      if (typeof label !== 'string') throw new RangeError(`LabelCoder: ${JSON.stringify(k)} is no class label (a missing value)`);
      if (this.index.has(label)) throw new RangeError(`LabelCoder: the class ${JSON.stringify(label)} is listed twice`);
      this.index.set(label, this.index.size);
      this.seen.push(k);
    }
  }

  /** The index of a (normalized) label, or undefined when a closed coder does not know it. */
  code(label: string): number | undefined {
    const k = this.index.get(label);
    if (k !== undefined || this.closed) return k;
    this.index.set(label, this.seen.length);
    this.seen.push(label);
    return this.seen.length - 1;
  }

  /** What a closed coder knows, for an error message. */
  known(): string[] {
    return [...this.seen];
  }

  /**
   * The classes in index order after reindex(): a closed coder's own list; an open coder's labels
   * sorted (sortLabels), with y rewritten from first-seen indices to sorted ones.
   */
  reindex(y: Float32Array): string[] {
    if (this.closed) return [...this.seen];
    const classes = sortLabels(this.seen);
    const rank = new Map(classes.map((c, k) => [c, k]));
    const remap = this.seen.map((l) => rank.get(l)!);
    for (let i = 0; i < y.length; i++) y[i] = remap[y[i]];
    return classes;
  }
}
