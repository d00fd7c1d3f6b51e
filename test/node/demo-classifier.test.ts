import { describe, expect, it } from 'vitest';
import { CpuModelEngine } from '../../src/cpu/cpu-model-engine.ts';
import { classesOf, generateClassifier, SHAPES, validateClassifierParams } from '../../src/demo/classifier/datasets.ts';
import { dataExtent, distinctClasses, gridClasses, gridPoints, trainingAccuracy } from '../../src/demo/classifier/grid.ts';
import { DEFAULT_LR, networkFor, optimizerFor } from '../../src/demo/classifier/models.ts';
import { logisticModel } from '../../src/models/logistic.ts';

describe('classifier datasets', () => {
  it('are seeded, balanced, 2-D, with class indices 0..K-1', () => {
    for (const shape of SHAPES) {
      const p = { shape, n: 401, classes: 4, noise: 0.1, seed: 3 };
      const a = generateClassifier(p);
      const K = classesOf(p);
      expect(a.classes).toBe(shape === 'blobs' ? 4 : 2);
      expect(a.data.d).toBe(2);
      expect(a.data.x.length).toBe(802);
      expect(Array.from(a.data.x).every(Number.isFinite)).toBe(true);
      const counts = new Array(K).fill(0);
      for (const c of a.data.y) counts[c]++;
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      expect(generateClassifier(p).data.x).toEqual(a.data.x);
      expect(generateClassifier({ ...p, seed: 4 }).data.x).not.toEqual(a.data.x);
    }
  });

  it('have the shapes they are named for', () => {
    // XOR without noise: class 0 where x1 x2 > 0, class 1 where x1 x2 < 0.
    const xor = generateClassifier({ shape: 'xor', n: 200, classes: 2, noise: 0, seed: 1 }).data;
    for (let i = 0; i < xor.n; i++) expect(xor.x[2 * i] * xor.x[2 * i + 1] > 0 ? 0 : 1).toBe(xor.y[i]);
    // Blobs: every point is nearest its own class's centre when the noise is small.
    const blobs = generateClassifier({ shape: 'blobs', n: 300, classes: 3, noise: 0.2, seed: 1 }).data;
    const centre = (c: number) => [2 * Math.cos((2 * Math.PI * c) / 3 + Math.PI / 4), 2 * Math.sin((2 * Math.PI * c) / 3 + Math.PI / 4)];
    for (let i = 0; i < blobs.n; i++) {
      const d = [0, 1, 2].map((c) => Math.hypot(blobs.x[2 * i] - centre(c)[0], blobs.x[2 * i + 1] - centre(c)[1]));
      expect(d.indexOf(Math.min(...d))).toBe(blobs.y[i]);
    }
    // Spirals: radii within [0.15, 1], the two arms point-symmetric about the origin.
    const sp = generateClassifier({ shape: 'spirals', n: 100, classes: 2, noise: 0, seed: 1 }).data;
    for (let i = 0; i < sp.n; i++) {
      const r = Math.hypot(sp.x[2 * i], sp.x[2 * i + 1]);
      expect(r).toBeGreaterThanOrEqual(0.15 - 1e-6);
      expect(r).toBeLessThanOrEqual(1 + 1e-6);
    }
  });

  it('refuse bad parameters', () => {
    const ok = { shape: 'blobs' as const, n: 10, classes: 2, noise: 0.1, seed: 1 };
    expect(() => validateClassifierParams(ok)).not.toThrow();
    expect(() => validateClassifierParams({ ...ok, n: 3 })).toThrow(/samples/);
    expect(() => validateClassifierParams({ ...ok, classes: 5 })).toThrow(/classes/);
    expect(() => validateClassifierParams({ ...ok, noise: -1 })).toThrow(/noise/);
    expect(() => validateClassifierParams({ ...ok, shape: 'moons' as never })).toThrow(/dataset/);
  });
});

describe('decision grid', () => {
  it('covers the data in a square extent, row 0 at the top', () => {
    const data = { x: Float32Array.from([0, 0, 2, 1]), y: Float32Array.from([0, 1]), n: 2, d: 2 };
    const e = dataExtent(data, 0);
    expect(e).toEqual({ x0: 0, x1: 2, y0: -0.5, y1: 1.5 });
    const pts = gridPoints(e, 4);
    expect(pts.length).toBe(32);
    expect([pts[0], pts[1]]).toEqual([0.25, 1.25]); // top-left cell centre
    expect([pts[30], pts[31]]).toEqual([1.75, -0.25]); // bottom-right
  });

  it('evaluates the model at every cell: a logistic split along x1', () => {
    const c = logisticModel(2);
    const theta = Float64Array.from([1, 0, 0]); // z = x1
    const cells = gridClasses(c, theta, gridPoints({ x0: -1, x1: 1, y0: -1, y1: 1 }, 8));
    expect(cells.length).toBe(64);
    for (let r = 0; r < 8; r++) for (let k = 0; k < 8; k++) expect(cells[r * 8 + k]).toBe(k >= 4 ? 1 : 0);
    expect(distinctClasses(cells)).toBe(2);
    expect(distinctClasses(gridClasses(c, Float64Array.from([0, 0, -1]), gridPoints({ x0: -1, x1: 1, y0: -1, y1: 1 }, 8)))).toBe(1);
  });

  it('an MLP trained (CPU twin, Adam) on 400 spiral points reaches 95 % and shows both regions', async () => {
    const ds = generateClassifier({ shape: 'spirals', n: 400, classes: 2, noise: 0.05, seed: 20261126 });
    const c = networkFor({ model: 'mlp', hidden: 32, activation: 'tanh' }, 2);
    const r = await new CpuModelEngine(c, ds.data).train({ lr: DEFAULT_LR.adam, maxEpochs: 500, optimizer: optimizerFor('adam'), seed: 1 });
    expect(trainingAccuracy(c, r.theta, ds.data)).toBeGreaterThanOrEqual(0.95);
    expect(distinctClasses(gridClasses(c, r.theta, gridPoints(dataExtent(ds.data), 96)))).toBe(2);
  });
});

describe('model choices', () => {
  it('map to network configurations', () => {
    expect(networkFor({ model: 'logistic', hidden: 8, activation: 'tanh' }, 2).head).toBe('bce');
    expect(() => networkFor({ model: 'logistic', hidden: 8, activation: 'tanh' }, 3)).toThrow(/2 classes/);
    expect(networkFor({ model: 'softmax', hidden: 8, activation: 'tanh' }, 3)).toMatchObject({ head: 'ce', outputs: 3, hidden: [] });
    expect(networkFor({ model: 'mlp', hidden: 16, activation: 'relu' }, 2)).toMatchObject({ head: 'bce', outputs: 1, hidden: [16], activation: 'relu' });
    expect(networkFor({ model: 'mlp', hidden: 16, activation: 'relu' }, 4)).toMatchObject({ head: 'ce', outputs: 4 });
    expect(optimizerFor('momentum').kind).toBe('momentum');
  });
});
