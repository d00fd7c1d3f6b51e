// The CPU side of each row, in the same JS engine as the GPU driver: nabla's float64 twin (the caller's
// gradient call, CpuFormulaEngine in the linear suite) and a plain single-threaded sum over the same
// Float32Arrays, the CPU's own read bandwidth as this engine sees it.
import type { LinearData } from '../../src/models/linear.ts';
import { summarize } from './gpu-timer.ts';

export interface CpuTiming {
  /** Median ms per gradient call (null where none was given). */
  gradientMs: number | null;
  /** Median ms per plain sum over x and y. */
  loopMs: number;
  reps: number;
}

/** Each sample lasts at least this long: a page's clock ticks in 5 to 100 µs steps. */
const MIN_SAMPLE_MS = 10;

/** Four accumulators: one would measure the add latency chain, not memory. */
export function sumFloats(a: Float32Array): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const m = a.length - (a.length % 4);
  for (let i = 0; i < m; i += 4) {
    s0 += a[i];
    s1 += a[i + 1];
    s2 += a[i + 2];
    s3 += a[i + 3];
  }
  for (let i = m; i < a.length; i++) s0 += a[i];
  return s0 + s1 + s2 + s3;
}

/** Kept so the optimizer cannot drop the loops. */
export let sink = 0;

/** Fewer repetitions for big inputs: a 1 GiB float64 pass takes about a second on this kind of core. */
export function cpuReps(bytes: number): number {
  return bytes >= 2 ** 28 ? 3 : bytes >= 2 ** 24 ? 5 : 9;
}

/**
 * Median ms per call; calls are batched until a sample lasts MIN_SAMPLE_MS (the doubling warms up too).
 * fn may return a promise (an engine's call): it is awaited, so each call's time includes its settling.
 */
async function timeCalls(fn: () => number | Promise<number>, reps: number): Promise<number> {
  let batch = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) sink += await fn();
    if (performance.now() - t0 >= MIN_SAMPLE_MS || batch >= 1 << 16) break;
    batch *= 2;
  }
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) sink += await fn();
    samples.push((performance.now() - t0) / batch);
  }
  return summarize(samples).median;
}

/** gradient: the float64 twin's call to time (returning its loss), or null for the read loop alone. */
export async function timeCpu(data: LinearData, gradient: (() => Promise<number>) | null, reps: number): Promise<CpuTiming> {
  return {
    gradientMs: gradient ? await timeCalls(gradient, reps) : null,
    loopMs: await timeCalls(() => sumFloats(data.x) + sumFloats(data.y), reps),
    reps,
  };
}
