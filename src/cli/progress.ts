// The one-line progress of a long streamed pass on stderr: bytes and rows read, rows/s, which pass. Drawn
// over itself with '\r' on a terminal only: a log file or a pipe would collect every redraw, and --json
// promises a quiet stderr to scripts. The line is cleared when the pass ends, so the per-epoch log lines
// that follow start on a clean line.

export interface PassState {
  /** e.g. "statistics", "epoch 3/100", "metrics". */
  label: string;
  bytes: number;
  rows: number;
  /** Rows in a full pass, when known (every pass after the first); gives the bar and the percentage. */
  totalRows?: number;
  seconds: number;
}

const BAR = 20;

/** e.g. `epoch 3/100 [#########-----------] 45%  120.3 MiB  4,500,000/10,000,000 rows  1.52M rows/s`, cut to `width`. */
export function formatProgress(p: PassState, width = 100): string {
  const parts = [p.label];
  if (p.totalRows !== undefined && p.totalRows > 0) {
    const f = Math.min(1, p.rows / p.totalRows);
    const filled = Math.round(f * BAR);
    parts.push(`[${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ${String(Math.floor(f * 100)).padStart(3)}%`);
  }
  parts.push(formatBytes(p.bytes));
  parts.push(`${p.rows.toLocaleString('en-US')}${p.totalRows !== undefined ? `/${p.totalRows.toLocaleString('en-US')}` : ''} rows`);
  if (p.seconds > 0) parts.push(`${formatCount(p.rows / p.seconds)} rows/s`);
  const line = parts.join('  ');
  return line.length > width ? line.slice(0, Math.max(0, width - 1)) : line;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

function formatCount(v: number): string {
  if (v >= 1e9) return `${(v / 1e9).toFixed(2)}G`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  return v.toFixed(0);
}

/** Where the line goes: process.stderr, or a fake in the tests. */
export interface ProgressStream {
  isTTY?: boolean;
  /** 0 or absent (a pseudo-terminal without a size): 100. */
  columns?: number;
  write(s: string): unknown;
}

/** Redraws at most this often: a terminal repainted per chunk costs time and flickers. */
const REDRAW_MS = 100;

/** The line drawn on stderr now, if any: one stderr per process, so one line. */
let drawn: ProgressLine | null = null;

/** Clears the line before other stderr output (main.ts's io.err), which it would otherwise run into. */
export function clearProgress(): void {
  drawn?.clear();
}

export class ProgressLine {
  private bytes = 0;
  private shown = false;
  private lastDraw = -Infinity;

  constructor(private readonly out: ProgressStream, private readonly now: () => number = () => performance.now()) {}

  /** Feeds SourceOptions.onBytes. */
  readonly onBytes = (n: number): void => {
    this.bytes += n;
  };

  /**
   * The chunks of one pass, passed through unchanged while the line counts their rows; the line is cleared
   * when the pass ends, however it ends.
   */
  async *track<C extends { rows: number }>(label: string, chunks: AsyncIterable<C>, totalRows?: number): AsyncGenerator<C> {
    const start = this.now();
    this.bytes = 0;
    let rows = 0;
    try {
      for await (const c of chunks) {
        rows += c.rows;
        const t = this.now();
        if (t - this.lastDraw >= REDRAW_MS) {
          this.lastDraw = t;
          const state: PassState = { label, bytes: this.bytes, rows, seconds: (t - start) / 1000, ...(totalRows !== undefined && { totalRows }) };
          this.out.write(`\r${formatProgress(state, (this.out.columns || 100) - 1)}\x1b[K`);
          this.shown = true;
          drawn = this;
        }
        yield c;
      }
    } finally {
      this.clear();
    }
  }

  clear(): void {
    if (!this.shown) return;
    this.out.write('\r\x1b[K');
    this.shown = false;
    if (drawn === this) drawn = null;
  }
}

/** A progress line when stderr is a terminal and --json is not given; otherwise none at all. */
export function cliProgress(json: boolean, out: ProgressStream = process.stderr): ProgressLine | undefined {
  return !json && out.isTTY === true ? new ProgressLine(out) : undefined;
}

/** How a streamed run shows its passes: the line, and what to call them (epochs of a trainer, passes of a fit). */
export interface StreamProgress {
  line: ProgressLine;
  /** The epochs asked for, for "epoch 3/100"; a pass past them is the report's final pass. */
  epochs?: number;
  /** "epoch" (the default) or "pass" (a fit's iterations read the data once or more each). */
  unit?: string;
}

/** The progress of a streamed run with `--epochs`, when stderr is a terminal and --json is not given. */
export function streamProgress(json: boolean, epochs?: number, unit?: string, out: ProgressStream = process.stderr): StreamProgress | undefined {
  const line = cliProgress(json, out);
  return line && { line, ...(epochs !== undefined && { epochs }), ...(unit !== undefined && { unit }) };
}

/** What a streamed run's pass k is: the first reads the statistics, each later one an epoch (or pass). */
export function passLabel(pass: number, epochs?: number, unit = 'epoch'): string {
  if (pass === 0) return 'statistics';
  if (epochs !== undefined && pass > epochs) return 'final pass'; // the report's loss or metrics
  return `${unit} ${pass}${epochs !== undefined ? `/${epochs}` : ''}`;
}

/**
 * Numbers a streamed run's passes (each call one more) and sends each pass's chunks through the line;
 * without one, the chunks go through untouched.
 */
export function passTracker(p: StreamProgress | undefined) {
  let pass = 0;
  return <C extends { rows: number }>(chunks: AsyncIterable<C>, totalRows?: number): AsyncIterable<C> =>
    p ? p.line.track(passLabel(pass++, p.epochs, p.unit), chunks, totalRows) : chunks;
}

/**
 * Where a run diverged and which parameters it kept, for the exit-3 line. Full batch: epochs (an update each).
 * Mini-batches: the update that failed and its epoch (1-based), and the update whose parameters were kept,
 * since an epoch's end is not where they stopped.
 */
export function divergenceText(r: { divergedAtEpoch?: number; epochs: number; updates: number }, miniBatches: boolean): string {
  if (!miniBatches) return `training diverged at epoch ${r.divergedAtEpoch}; kept the parameters of epoch ${r.epochs}`;
  const kept = r.updates === 0 ? 'the starting parameters' : `the parameters of update ${r.updates}`;
  return `training diverged at update ${r.updates + 1} (epoch ${(r.divergedAtEpoch ?? 0) + 1}); kept ${kept}`;
}
