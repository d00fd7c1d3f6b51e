// Pure helpers for what the page draws and how much it trains per chunk. Unit-tested in
// test/node/demo-sample.test.ts.

/** At most `max` row indices, evenly strided over [0, n), first row included. */
export function sampleIndices(n: number, max: number): Uint32Array {
  const m = Math.max(0, Math.min(n, max));
  const out = new Uint32Array(m);
  for (let i = 0; i < m; i++) out[i] = Math.floor((i * n) / m);
  return out;
}

/** Every k-th point (and always the last) so that at most `max` remain; x and y stay aligned. */
export function decimate(xs: ArrayLike<number>, ys: ArrayLike<number>, max: number): [number[], number[]] {
  const n = Math.min(xs.length, ys.length);
  const step = Math.max(1, Math.ceil(n / Math.max(1, max)));
  const ox: number[] = [];
  const oy: number[] = [];
  for (let i = 0; i < n; i += step) { ox.push(xs[i]); oy.push(ys[i]); }
  if (n > 0 && (n - 1) % step !== 0) { ox.push(xs[n - 1]); oy.push(ys[n - 1]); }
  return [ox, oy];
}

export interface ChunkInput {
  /** Epochs done so far. */
  epoch: number;
  /** Epochs left in this run. */
  remaining: number;
  /** Epochs in the previous chunk (0 before the first). */
  lastK: number;
  /** Wall time of the previous chunk, ms (NaN before the first). */
  lastMs: number;
  /** Wall time one chunk should take. */
  targetMs: number;
  /** Largest chunk (the GPU engine's history ring). */
  cap: number;
}

/**
 * Epochs in the next chunk. The path on the contour map gets one vertex per chunk, so chunks start at one
 * epoch (every early step visible) and may grow only in proportion to the epochs done (about eight
 * vertices per doubling). The time budget keeps each chunk short enough for a responsive page: under
 * three quarters of it the chunk may double (fixed costs per chunk hide the cost of an epoch), over it
 * the chunk shrinks in proportion.
 */
export function chunkEpochs(c: ChunkInput): number {
  const byPath = Math.max(1, Math.floor(c.epoch / 8));
  let byTime = 1;
  if (c.lastK > 0 && c.lastMs > 0) {
    byTime = c.lastMs < 0.75 * c.targetMs ? 2 * c.lastK
      : c.lastMs > c.targetMs ? Math.max(1, Math.floor((c.lastK * c.targetMs) / c.lastMs)) : c.lastK;
  }
  return Math.max(1, Math.min(byPath, byTime, c.cap, c.remaining));
}
