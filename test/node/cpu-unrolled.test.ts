import { describe, expect, it } from 'vitest';
import { linearGradient, UNROLL_MAX_FEATURES, unrolledSums } from '../../src/cpu/linear_partials.ts';
import { makeLinearData } from '../data-gen.ts';

// Same float64 arithmetic in the same order per row: the unrolled loop differs from a naive one only in
// summation association of the dot product, a few ulps of each term.
const REL_TOL = 1e-12;

function naive(data: ReturnType<typeof makeLinearData>, w: Float64Array, b: number) {
  const { x, y, n, d } = data;
  const g = new Float64Array(d + 2);
  for (let i = 0; i < n; i++) {
    let p = b;
    for (let j = 0; j < d; j++) p += w[j] * x[i * d + j];
    const r = p - y[i];
    for (let j = 0; j < d; j++) g[j] += (2 / n) * r * x[i * d + j];
    g[d] += (2 / n) * r;
    g[d + 1] += (r * r) / n;
  }
  return g;
}

describe('unrolled CPU loop', () => {
  for (const d of [2, 16, UNROLL_MAX_FEATURES, UNROLL_MAX_FEATURES + 1]) {
    it(`d = ${d}: equals a naive float64 loop`, () => {
      const data = makeLinearData(2_003, d, d);
      const w = Float64Array.from({ length: d }, (_, j) => Math.sin(j + 1));
      const got = linearGradient(data, { w, b: 0.25 });
      const want = naive(data, w, 0.25);
      for (let j = 0; j < d; j++) expect(Math.abs(got.gradW[j] - want[j])).toBeLessThanOrEqual(REL_TOL * Math.max(1, Math.abs(want[j])));
      expect(Math.abs(got.gradB - want[d])).toBeLessThanOrEqual(REL_TOL * Math.max(1, Math.abs(want[d])));
      expect(Math.abs(got.loss - want[d + 1])).toBeLessThanOrEqual(REL_TOL * want[d + 1]);
      expect(unrolledSums(d) === null).toBe(d > UNROLL_MAX_FEATURES);
    });
  }
});
