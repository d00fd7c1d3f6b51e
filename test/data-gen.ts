// Seeded test data: features with non-zero means and a noisy linear target.
import type { LinearData } from '../src/models/linear.ts';
import { seededUniform } from '../src/data/shuffle.ts';

/** Seeded uniform floats in [0, 1) (mulberry32, src/data/shuffle.ts). */
export const mulberry32 = seededUniform;

export function makeLinearData(n: number, d: number, seed = 1, noise = 0.1): LinearData & { wTrue: Float64Array; bTrue: number } {
  const rand = mulberry32(seed);
  const wTrue = new Float64Array(d);
  for (let j = 0; j < d; j++) wTrue[j] = (rand() - 0.5) * 4;
  const bTrue = 0.7;
  const x = new Float32Array(n * d);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let p = bTrue;
    for (let j = 0; j < d; j++) {
      const v = 0.5 + rand() * 2 - (j % 3) * 0.4;
      x[i * d + j] = v;
      p += wTrue[j] * v;
    }
    y[i] = p + noise * (rand() - 0.5);
  }
  return { x, y, n, d, wTrue, bTrue };
}

/** ||a - b|| / ||b||, with the first mismatches for the failure message. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): { rel: number; worst: string } {
  let num = 0;
  let den = 0;
  const rows: Array<[number, number, number]> = [];
  for (let i = 0; i < b.length; i++) {
    const diff = a[i] - b[i];
    num += diff * diff;
    den += b[i] * b[i];
    rows.push([i, a[i], b[i]]);
  }
  rows.sort((p, q) => Math.abs(q[1] - q[2]) - Math.abs(p[1] - p[2]));
  const worst = rows.slice(0, 3).map(([i, x, y]) => `[${i}] got ${x} want ${y}`).join('; ');
  return { rel: Math.sqrt(num) / Math.sqrt(den), worst };
}

export function thetaOf(w: ArrayLike<number>, b: number): Float64Array {
  const t = new Float64Array(w.length + 1);
  t.set(Array.from(w));
  t[w.length] = b;
  return t;
}

/** Centred, independent features: a well-conditioned least-squares problem (Hessian ~ diag(2/3, 2)). */
export function makeWellConditioned(n: number, d: number, seed = 3, noise = 0.05): LinearData {
  const rand = mulberry32(seed);
  const x = new Float32Array(n * d);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let p = 0.5;
    for (let j = 0; j < d; j++) {
      const v = rand() * 2 - 1;
      x[i * d + j] = v;
      p += (j + 1) * (j % 2 ? -1 : 1) * v;
    }
    y[i] = p + noise * (rand() * 2 - 1);
  }
  return { x, y, n, d };
}
