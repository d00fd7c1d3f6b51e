// CPU twin of shaders/linear_partials.wgsl + reduce_partials.wgsl, in float64: the reference in tests
// and the fallback path. One pass over the data; d = 1 has its own loop because the generic inner
// loop costs a third of the bandwidth there.
import type { GradientResult, LinearData, LinearParams } from '../models/linear.ts';

export function linearGradient(data: LinearData, at: LinearParams): GradientResult {
  const { n, d } = data;
  const w = Float64Array.from(at.w);
  const gradW = new Float64Array(d);
  // Separate functions: V8 optimizes each loop on its own; one function holding both ran 4x slower on
  // whichever shape came second.
  const { sumR, sumRR } = d === 1 ? sums1(data, w[0], at.b, gradW) : sumsD(data, w, at.b, gradW);
  const scale = 2 / n;
  for (let j = 0; j < d; j++) gradW[j] *= scale;
  return { loss: sumRR / n, gradW, gradB: sumR * scale };
}

function sums1(data: LinearData, w0: number, b: number, gradW: Float64Array): { sumR: number; sumRR: number } {
  const { x, y, n } = data;
  let sumR = 0;
  let sumRR = 0;
  let sumRX = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    const r = w0 * xi + b - y[i];
    sumR += r;
    sumRR += r * r;
    sumRX += r * xi;
  }
  gradW[0] = sumRX;
  return { sumR, sumRR };
}

function sumsD(data: LinearData, w: Float64Array, b: number, gradW: Float64Array): { sumR: number; sumRR: number } {
  const { x, y, n, d } = data;
  let sumR = 0;
  let sumRR = 0;
  for (let i = 0, row = 0; i < n; i++, row += d) {
    let p = b;
    for (let j = 0; j < d; j++) p += w[j] * x[row + j];
    const r = p - y[i];
    sumR += r;
    sumRR += r * r;
    for (let j = 0; j < d; j++) gradW[j] += r * x[row + j];
  }
  return { sumR, sumRR };
}

/** J alone, for finite differences. */
export function linearLoss(data: LinearData, at: LinearParams): number {
  const { x, y, n, d } = data;
  let sumRR = 0;
  for (let i = 0, row = 0; i < n; i++, row += d) {
    let p = at.b;
    for (let j = 0; j < d; j++) p += at.w[j] * x[row + j];
    const r = p - y[i];
    sumRR += r * r;
  }
  return sumRR / n;
}
