// Seeded classification data with known answers for the model tests.
import type { ModelData } from '../src/models/network.ts';
import { mulberry32 } from './data-gen.ts';

function gauss(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** Linearly separable: label = [w.x + b > 0] with a margin (points closer than `margin` are dropped). */
export function makeSeparable(n: number, d: number, seed = 5, margin = 0.1): ModelData {
  const rand = mulberry32(seed);
  const w = Array.from({ length: d }, () => rand() * 2 - 1);
  const x = new Float32Array(n * d);
  const y = new Float32Array(n);
  for (let i = 0; i < n;) {
    const row = Array.from({ length: d }, () => rand() * 4 - 2);
    const s = row.reduce((acc, v, j) => acc + v * w[j], 0.3);
    if (Math.abs(s) < margin) continue;
    x.set(row, i * d);
    y[i] = s > 0 ? 1 : 0;
    i++;
  }
  return { x, y, n, d };
}

/** K Gaussian blobs (std 1) with centres on a circle of radius `radius` in the first two of d dimensions. */
export function makeBlobs(perClass: number, K: number, d: number, seed = 7, radius = 8): ModelData {
  const rand = mulberry32(seed);
  const n = perClass * K;
  const x = new Float32Array(n * d);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % K;
    for (let j = 0; j < d; j++) {
      const centre = j === 0 ? radius * Math.cos((2 * Math.PI * k) / K) : j === 1 ? radius * Math.sin((2 * Math.PI * k) / K) : 0;
      x[i * d + j] = centre + gauss(rand);
    }
    y[i] = k;
  }
  return { x, y, n, d };
}

/** XOR: four noisy clusters around (+-1, +-1); label 1 where the signs differ. */
export function makeXor(perCluster: number, seed = 9, noise = 0.15): ModelData {
  const rand = mulberry32(seed);
  const n = 4 * perCluster;
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = i & 1 ? 1 : -1;
    const b = i & 2 ? 1 : -1;
    x[2 * i] = a + noise * gauss(rand);
    x[2 * i + 1] = b + noise * gauss(rand);
    y[i] = a !== b ? 1 : 0;
  }
  return { x, y, n, d: 2 };
}

/** Two interleaved spirals (classes 0 and 1), `turns` turns each, radius up to 1. */
export function makeSpirals(perClass: number, seed = 11, turns = 1.5, noise = 0.02): ModelData {
  const rand = mulberry32(seed);
  const n = 2 * perClass;
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % 2;
    const s = Math.floor(i / 2) / perClass; // 0..1 along the arm
    const r = 0.1 + 0.9 * s;
    const angle = 2 * Math.PI * turns * s + Math.PI * k;
    x[2 * i] = r * Math.cos(angle) + noise * gauss(rand);
    x[2 * i + 1] = r * Math.sin(angle) + noise * gauss(rand);
    y[i] = k;
  }
  return { x, y, n, d: 2 };
}

/** A small dataset for gradient checks: features in [-1, 1], targets for the given head. */
export function makeCheckData(n: number, d: number, head: 'mse' | 'bce' | 'ce', K: number, seed = 13): ModelData {
  const rand = mulberry32(seed);
  const x = new Float32Array(n * d).map(() => rand() * 2 - 1);
  const y = new Float32Array(n).map(() => (head === 'mse' ? rand() * 4 - 2 : Math.floor(rand() * (head === 'bce' ? 2 : K))));
  return { x, y, n, d };
}
