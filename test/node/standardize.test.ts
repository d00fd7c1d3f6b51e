import { describe, expect, it } from 'vitest';
import { linearGradient } from '../../src/cpu/linear_partials.ts';
import type { LinearData } from '../../src/models/linear.ts';
import {
  fitStandardizer,
  gradientToOriginal,
  paramsToOriginal,
  paramsToStandardized,
  standardizeData,
  type Standardizer,
} from '../../src/models/standardize.ts';
import { makeLinearData, mulberry32 } from '../data-gen.ts';

/** Features with very different offsets and scales, so that a wrong mu or s term shows up. */
function skewedData(n: number, seed: number): LinearData {
  const d = 3;
  const rand = mulberry32(seed);
  const offsets = [100, -3, 0.5];
  const scales = [5, 0.01, 40];
  const x = new Float32Array(n * d);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let p = 12;
    for (let j = 0; j < d; j++) {
      const v = offsets[j] + scales[j] * (rand() - 0.5);
      x[i * d + j] = v;
      p += (j + 1) * 0.7 * v;
    }
    y[i] = 30 * p + 50 * (rand() - 0.5);
  }
  return { x, y, n, d };
}

/** float64 gradient of the standardized problem, from the original data and s, without float32 rounding. */
function standardizedGradient(data: LinearData, s: Standardizer, v: ArrayLike<number>, c: number) {
  const { x, y, n, d } = data;
  const gradW = new Float64Array(d);
  let sumR = 0;
  let sumRR = 0;
  for (let i = 0; i < n; i++) {
    let p = c;
    const z = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      z[j] = (x[i * d + j] - s.mean[j]) / s.std[j];
      p += v[j] * z[j];
    }
    const r = p - (y[i] - s.yMean) / s.yStd;
    sumR += r;
    sumRR += r * r;
    for (let j = 0; j < d; j++) gradW[j] += r * z[j];
  }
  return { loss: sumRR / n, gradW: gradW.map((g) => (2 * g) / n), gradB: (2 * sumR) / n };
}

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-300));
  return worst;
}

describe('fitStandardizer / standardizeData', () => {
  it('population mean and std; standardized columns have mean 0 and std 1', () => {
    const data: LinearData = { x: Float32Array.from([1, 10, 3, 10, 5, 40]), y: Float32Array.from([2, 4, 9]), n: 3, d: 2 };
    const s = fitStandardizer(data);
    expect(Array.from(s.mean)).toEqual([3, 20]);
    expect(s.std[0]).toBeCloseTo(Math.sqrt(8 / 3), 14);
    expect(s.std[1]).toBeCloseTo(Math.sqrt(200), 12);
    expect(s.yMean).toBeCloseTo(5, 14);
    expect(s.yStd).toBeCloseTo(Math.sqrt(26 / 3), 14);
    const z = standardizeData(data, s);
    expect(z.x).toBeInstanceOf(Float32Array);
    expect(z.x).not.toBe(data.x);
    expect(z.x[0]).toBeCloseTo(-2 / Math.sqrt(8 / 3), 6);
    expect(z.y[2]).toBeCloseTo(4 / Math.sqrt(26 / 3), 6);
    expect(data.x[0]).toBe(1); // input untouched
  });
});

describe('parameter maps', () => {
  it('original -> standardized -> original and back is the identity to 1e-12', () => {
    const s = fitStandardizer(skewedData(500, 3));
    const w = [0.7, -1234.5, 2.1e-3];
    const b = 17.25;
    const std = paramsToStandardized(s, w, b);
    const back = paramsToOriginal(s, std.w, std.b);
    expect(maxRel(back.w, w)).toBeLessThan(1e-12);
    expect(Math.abs(back.b - b) / Math.abs(b)).toBeLessThan(1e-12);
    const again = paramsToStandardized(s, back.w, back.b);
    expect(maxRel(again.w, std.w)).toBeLessThan(1e-12);
    expect(Math.abs(again.b - std.b)).toBeLessThan(1e-12 * Math.max(1, Math.abs(std.b)));
  });

  it('both parameterizations predict the same y on every sample', () => {
    const data = skewedData(50, 4);
    const s = fitStandardizer(data);
    const v = [0.3, -0.8, 1.1];
    const c = 0.2;
    const { w, b } = paramsToOriginal(s, v, c);
    for (let i = 0; i < data.n; i++) {
      let pStd = c;
      let pOrig = b;
      for (let j = 0; j < data.d; j++) {
        pStd += v[j] * (data.x[i * data.d + j] - s.mean[j]) / s.std[j];
        pOrig += w[j] * data.x[i * data.d + j];
      }
      expect(pOrig).toBeCloseTo(s.yMean + s.yStd * pStd, 8);
    }
  });
});

describe('gradientToOriginal', () => {
  it('equals the float64 gradient on the original data at the mapped point (1e-9 relative)', () => {
    const data = skewedData(2000, 5);
    const s = fitStandardizer(data);
    for (const [v, c] of [[[0.3, -0.8, 1.1], 0.2], [[0, 0, 0], 0], [[2, 0.1, -0.4], -1.5]] as const) {
      const mapped = gradientToOriginal(s, standardizedGradient(data, s, v, c));
      const direct = linearGradient(data, paramsToOriginal(s, v, c));
      expect(Math.abs(mapped.loss - direct.loss) / direct.loss).toBeLessThan(1e-9);
      expect(maxRel(mapped.gradW, direct.gradW)).toBeLessThan(1e-9);
      // At c = 0, v = 0 the exact dJ/db is 0 (t has mean 0), so b is measured against the whole gradient.
      const norm = Math.hypot(...direct.gradW, direct.gradB);
      expect(Math.abs(mapped.gradB - direct.gradB) / norm).toBeLessThan(1e-9);
    }
  });

  it('through standardizeData (float32 z) agrees to float32 accuracy', () => {
    const data = makeLinearData(5000, 4, 11);
    const s = fitStandardizer(data);
    const v = [0.5, -0.25, 0.75, 0.1];
    const mapped = gradientToOriginal(s, linearGradient(standardizeData(data, s), { w: v, b: 0.3 }));
    const direct = linearGradient(data, paramsToOriginal(s, v, 0.3));
    expect(maxRel(mapped.gradW, direct.gradW)).toBeLessThan(1e-5);
    expect(Math.abs(mapped.gradB - direct.gradB) / Math.abs(direct.gradB)).toBeLessThan(1e-5);
    expect(Math.abs(mapped.loss - direct.loss) / direct.loss).toBeLessThan(1e-5);
  });
});

describe('constant columns', () => {
  it('a constant feature (and a constant target) gives no NaN or Infinity anywhere', () => {
    const n = 7;
    const x = new Float32Array(n * 2);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      x[2 * i] = i;
      x[2 * i + 1] = 0.1; // not exactly representable: its float64 mean need not equal it
      y[i] = 2 * i + 1;
    }
    const data: LinearData = { x, y, n, d: 2 };
    const s = fitStandardizer(data);
    expect(s.std[1]).toBe(1);
    const z = standardizeData(data, s);
    for (let i = 0; i < n; i++) expect(z.x[2 * i + 1]).toBe(0);
    const g = gradientToOriginal(s, linearGradient(z, { w: [0.4, -2], b: 0.1 }));
    const p = paramsToOriginal(s, [0.4, -2], 0.1);
    for (const value of [...g.gradW, g.gradB, g.loss, ...p.w, p.b, ...z.x, ...z.y]) expect(Number.isFinite(value)).toBe(true);
    const direct = linearGradient(data, p);
    expect(maxRel(g.gradW, direct.gradW)).toBeLessThan(1e-5);

    const flat: LinearData = { x, y: new Float32Array(n).fill(3), n, d: 2 };
    const sf = fitStandardizer(flat);
    expect([sf.yMean, sf.yStd]).toEqual([3, 1]);
    for (const value of standardizeData(flat, sf).y) expect(value).toBe(0);
  });

  it('rejects a standardizer of the wrong width', () => {
    const s = fitStandardizer(skewedData(10, 1));
    expect(() => paramsToOriginal(s, [1, 2], 0)).toThrow(RangeError);
  });
});

describe('checks', () => {
  const data = (x: number[], y: number[], n: number, d: number): LinearData => ({ x: Float32Array.from(x), y: Float32Array.from(y), n, d });

  it('fitStandardizer refuses data of the wrong shape or with a value that is not finite, rather than returning NaN statistics', () => {
    expect(() => fitStandardizer(data([], [], 0, 1))).toThrow(/need at least one sample/);
    expect(() => fitStandardizer(data([1, 2, 3], [1, 2], 3, 1))).toThrow(/y has 2 values, expected n = 3/);
    expect(() => fitStandardizer(data([1, 2, 3], [1, 2, 3], 3, 2))).toThrow(/x has 3 values, expected n \* d = 6/);
    expect(() => fitStandardizer(data([1, NaN, 3], [1, 2, 3], 3, 1))).toThrow(/x of sample 1, feature 0 is NaN/);
    expect(() => fitStandardizer(data([1, 2, 3], [1, Infinity, 3], 3, 1))).toThrow(/y of sample 1 is Infinity/);
    expect(fitStandardizer(data([1, 2, 3], [1, 2, 3], 3, 1)).yMean).toBeCloseTo(2, 12);
  });

  it('the parameter maps refuse values that are not finite', () => {
    const s = fitStandardizer(data([1, 2, 3, 5], [1, 2], 2, 2));
    expect(() => paramsToOriginal(s, [1, NaN], 0)).toThrow(/weight 1 is NaN/);
    expect(() => paramsToOriginal(s, [1, 1], NaN)).toThrow(/bias is NaN/);
    expect(() => paramsToStandardized(s, [Infinity, 1], 0)).toThrow(/weight 0 is Infinity/);
    expect(paramsToOriginal(s, [1, 1], 0).w).toHaveLength(2);
  });
});
