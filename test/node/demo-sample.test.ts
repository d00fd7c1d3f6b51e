import { describe, expect, it } from 'vitest';
import { chunkEpochs, decimate, sampleIndices } from '../../src/demo/sample.ts';

describe('demo sampling and chunking', () => {
  it('sampleIndices: at most max, evenly strided, distinct, first row included', () => {
    const idx = sampleIndices(10_000_000, 2000);
    expect(idx).toHaveLength(2000);
    expect(idx[0]).toBe(0);
    expect(idx[1]).toBe(5000);
    expect(idx[1999]).toBe(9_995_000);
    expect(Array.from(sampleIndices(5, 2000))).toEqual([0, 1, 2, 3, 4]);
    expect(sampleIndices(0, 10)).toHaveLength(0);
  });

  it('decimate keeps x and y aligned, the last point, and at most about max points', () => {
    const xs = Array.from({ length: 10_001 }, (_, i) => i);
    const ys = xs.map((v) => 2 * v);
    const [x, y] = decimate(xs, ys, 1000);
    expect(x.length).toBeLessThanOrEqual(1001);
    expect(x[x.length - 1]).toBe(10_000);
    x.forEach((v, i) => expect(y[i]).toBe(2 * v));
    expect(decimate([1, 2], [3, 4], 10)).toEqual([[1, 2], [3, 4]]);
  });

  it('chunkEpochs: one epoch at first, growing with the epochs done and the time left, within caps', () => {
    const base = { epoch: 0, remaining: 1000, lastK: 0, lastMs: NaN, targetMs: 40, cap: 256 };
    expect(chunkEpochs(base)).toBe(1);
    expect(chunkEpochs({ ...base, epoch: 80, lastK: 4, lastMs: 10 })).toBe(8); // fast: double
    expect(chunkEpochs({ ...base, epoch: 80, lastK: 8, lastMs: 35 })).toBe(8); // near budget: keep
    expect(chunkEpochs({ ...base, epoch: 80, lastK: 8, lastMs: 80 })).toBe(4); // slow: shrink
    expect(chunkEpochs({ ...base, epoch: 24, lastK: 64, lastMs: 1 })).toBe(3); // the path keeps vertices
    expect(chunkEpochs({ ...base, epoch: 1e6, lastK: 256, lastMs: 1 })).toBe(256);
    expect(chunkEpochs({ ...base, epoch: 1e6, remaining: 5, lastK: 256, lastMs: 1 })).toBe(5);
  });
});
