import { describe, expect, it } from 'vitest';
import { gemmGrid, MAX_CHUNKS, MIN_CHUNK, MLP_UNIFORM_BYTES, packMlpUniforms, planMlp } from '../../src/gpu/models/mlp-plan.ts';
import { mlpModel } from '../../src/models/mlp.ts';
import { decayMask, parameterCount } from '../../src/models/network.ts';
import { reduceLanes, tiledPays } from '../../src/gpu/models/mlp-passes.ts';

const shape = { maxWorkgroupSize: 256, maxWorkgroupsPerDimension: 65535, maxWorkgroupStorageSize: 16384 };

describe('mlp grid planning and uniform packing', () => {
  it('chunks: at least MIN_CHUNK samples, at most MAX_CHUNKS rows, every sample covered', () => {
    const c = mlpModel(64, [256, 256], 'relu', 'ce', 10);
    for (const n of [1, 63, 64, 65, 4096, 1_000_003]) {
      const p = planMlp(c, n, shape, 2 ** 31);
      expect(p.rows).toBe(n);
      expect(p.chunk).toBeGreaterThanOrEqual(MIN_CHUNK);
      expect(p.numChunks).toBeLessThanOrEqual(MAX_CHUNKS);
      expect(p.chunk * p.numChunks).toBeGreaterThanOrEqual(n);
      expect((p.numChunks - 1) * p.chunk).toBeLessThan(n);
      expect(p.stride).toBe(parameterCount(c) + 1);
    }
  });
  it('holds as many samples per evaluation as one binding allows, and refuses more', () => {
    const c = mlpModel(4, [1024], 'relu', 'mse');
    const binding = 128 * 2 ** 20;
    expect(planMlp(c, 100_000, shape, binding).rows).toBe(binding / 4096); // 1024 units x 4 bytes a sample
    expect(planMlp(c, 100, shape, binding).rows).toBe(100);
    expect(planMlp(c, 100_000, shape, binding, 256, 4096).rows).toBe(4096);
    expect(() => planMlp(c, 100_000, shape, binding, 256, binding / 4096 + 1)).toThrow(/batch rows: .*at most 32768/);
    expect(() => planMlp(mlpModel(2 ** 16, [1], 'relu', 'mse'), 1024, shape, binding)).toThrow(/dataset: 1024 samples x 65536 features/);
  });
  it('packs MlpUniforms as thirteen u32 and inv_n', () => {
    const b = packMlpUniforms({ n: 8, fanIn: 2, fanOut: 3, wOffset: 4, chunk: 64, numChunks: 1, groupsX: 1, stride: 10, count: 24, lossCol: 9, hasLoss: true, xRow: 40, yRow: 41 });
    expect(b.byteLength).toBe(MLP_UNIFORM_BYTES);
    expect(Array.from(new Uint32Array(b, 0, 13))).toEqual([8, 2, 3, 4, 64, 1, 1, 10, 24, 9, 1, 40, 41]);
    expect(new Float32Array(b)[13]).toBe(0.125);
  });
  it('tiles products 64 x 64: columns in x, rows in y, splits or folded rows in z', () => {
    expect(gemmGrid(4096, 256, 1, 65535)).toEqual({ x: 4, y: 64, z: 1 });
    expect(gemmGrid(256, 64, 16, 65535)).toEqual({ x: 1, y: 4, z: 16 });
    expect(gemmGrid(1, 1, 1, 65535)).toEqual({ x: 1, y: 1, z: 1 });
    const folded = gemmGrid(64 * 70_000, 10, 1, 65535); // more row tiles than one dimension holds
    expect(folded.y * folded.z).toBeGreaterThanOrEqual(70_000);
    expect(folded.y).toBeLessThanOrEqual(65535);
    expect(tiledPays({ fanIn: 64, fanOut: 256 })).toBe(true);
    expect(tiledPays({ fanIn: 256, fanOut: 10 })).toBe(false);
    expect([reduceLanes(16), reduceLanes(128), reduceLanes(129), reduceLanes(1024)]).toEqual([1, 1, 32, 32]);
  });
  it('decays weights, not biases', () => {
    expect(Array.from(decayMask(mlpModel(1, [2], 'relu', 'mse')))).toEqual([1, 1, 0, 0, 1, 1, 0]);
  });
});
