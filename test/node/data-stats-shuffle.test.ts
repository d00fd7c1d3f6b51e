import { describe, expect, it } from 'vitest';
import { fitStandardizer } from '../../src/models/standardize.ts';
import { epochSeed, mulberry32, shuffledOrder } from '../../src/data/shuffle.ts';
import { computeStandardizer, StatsAccumulator } from '../../src/data/stats.ts';
import type { SampleChunk, SampleSource } from '../../src/data/source.ts';

/** An in-memory source cut into chunks of maxRows (the stats code sees only chunks). */
function memorySource(x: Float32Array, y: Float32Array, d: number): SampleSource {
  const n = y.length;
  return {
    file: 'mem',
    format: 'raw',
    features: Array.from({ length: d }, (_, j) => `x${j}`),
    target: 'y',
    async *chunks(maxRows: number): AsyncGenerator<SampleChunk> {
      for (let s = 0; s < n; s += maxRows) {
        const e = Math.min(n, s + maxRows);
        yield { x: x.slice(s * d, e * d), y: y.slice(s, e), rows: e - s, droppedRows: 0 };
      }
    },
  };
}

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
}

describe('streaming standardization statistics', () => {
  // Columns chosen to break naive one-pass formulas: a large offset (|mean| / std = 1e4), a tiny
  // scale, a constant column, a column with one outlier first (bad for a first-value shift).
  const n = 20_011;
  const d = 4;
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const x = new Float32Array(n * d);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i * d] = 1e4 + (rand() - 0.5);
    x[i * d + 1] = 1e-6 * (rand() - 0.5);
    x[i * d + 2] = 7.25;
    x[i * d + 3] = i === 0 ? 1e6 : rand();
    y[i] = 3 * x[i * d] - 2 + rand();
  }
  const ref = fitStandardizer({ x, y, n, d });

  for (const maxRows of [1, 97, 4096, n]) {
    it(`equals fitStandardizer to 1e-12 relative (chunks of ${maxRows})`, async () => {
      const { standardizer: s, rows } = await computeStandardizer(memorySource(x, y, d), maxRows);
      expect(rows).toBe(n);
      // The means are the same float64 sums in the same order: identical, not merely close.
      expect(Array.from(s.mean)).toEqual(Array.from(ref.mean));
      expect(s.yMean).toBe(ref.yMean);
      for (let j = 0; j < d; j++) expect(relErr(s.std[j], ref.std[j])).toBeLessThan(1e-12);
      expect(relErr(s.yStd, ref.yStd)).toBeLessThan(1e-12);
      expect([s.mean[2], s.std[2]]).toEqual([7.25, 1]);
    });
  }

  it('constant target: centred on its value with scale 1, as fitStandardizer', () => {
    const acc = new StatsAccumulator(1);
    acc.add({ x: new Float32Array([1, 2]), y: new Float32Array([5, 5]), rows: 2 });
    acc.add({ x: new Float32Array([3]), y: new Float32Array([5]), rows: 1 });
    const s = acc.result();
    const r = fitStandardizer({ x: new Float32Array([1, 2, 3]), y: new Float32Array([5, 5, 5]), n: 3, d: 1 });
    expect([s.yMean, s.yStd]).toEqual([r.yMean, r.yStd]);
    expect(relErr(s.std[0], r.std[0])).toBeLessThan(1e-15);
    expect(() => new StatsAccumulator(2).result()).toThrow(/no rows/);
  });
});

describe('seeded shuffle of batch order', () => {
  it('is a permutation, reproducible, and differs by epoch and by seed', () => {
    const a = shuffledOrder(1000, 42, 3);
    expect(Array.from(a).sort((p, q) => p - q)).toEqual([...Array(1000).keys()]);
    expect(shuffledOrder(1000, 42, 3)).toEqual(a);
    expect(shuffledOrder(1000, 42, 4)).not.toEqual(a);
    expect(shuffledOrder(1000, 43, 3)).not.toEqual(a);
    expect(shuffledOrder(1000, 42 + 2 ** 40, 3)).not.toEqual(a); // high seed bits matter
    expect(Array.from(shuffledOrder(0, 1, 0))).toEqual([]);
    expect(Array.from(shuffledOrder(1, 1, 0))).toEqual([0]);
  });

  it('known values pin the generator (a change of algorithm changes every run)', () => {
    // The reference mulberry32 (returning t / 2^32) gives 0.6270739405881613 first for seed 1.
    const g = mulberry32(1);
    expect(g() / 2 ** 32).toBe(0.6270739405881613);
    expect([g(), g()]).toEqual([11749833, 2265367787]);
    expect(Array.from(shuffledOrder(8, 7, 0))).toEqual([1, 3, 4, 5, 7, 6, 0, 2]);
    expect(epochSeed(0, 0)).not.toBe(epochSeed(0, 1));
  });

  it('every position is roughly uniform (chi-square over many epochs)', () => {
    const m = 5;
    const epochs = 20_000;
    const counts = Array.from({ length: m }, () => new Array(m).fill(0));
    for (let e = 0; e < epochs; e++) {
      const o = shuffledOrder(m, 9, e);
      for (let p = 0; p < m; p++) counts[p][o[p]]++;
    }
    const expected = epochs / m;
    let chi2 = 0;
    for (const row of counts) for (const c of row) chi2 += (c - expected) ** 2 / expected;
    // 25 cells, 16 degrees of freedom: P(chi2 > 45) < 1e-4 for a uniform shuffle.
    expect(chi2).toBeLessThan(45);
  });

  it('rejects bad arguments', () => {
    expect(() => shuffledOrder(3, -1, 0)).toThrow(RangeError);
    expect(() => shuffledOrder(3, 1.5, 0)).toThrow(RangeError);
    expect(() => shuffledOrder(-1, 1, 0)).toThrow(RangeError);
  });
});
