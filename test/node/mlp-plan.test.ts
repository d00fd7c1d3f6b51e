import { describe, expect, it } from 'vitest';
import { MAX_CHUNKS, MIN_CHUNK, packMlpUniforms, planMlp } from '../../src/gpu/models/mlp-plan.ts';
import { mlpModel } from '../../src/models/mlp.ts';
import { decayMask, parameterCount } from '../../src/models/network.ts';

const shape = { maxWorkgroupSize: 256, maxWorkgroupsPerDimension: 65535, maxWorkgroupStorageSize: 16384 };

describe('mlp grid planning and uniform packing', () => {
  it('chunks: at least MIN_CHUNK samples, at most MAX_CHUNKS rows, every sample covered', () => {
    const c = mlpModel(64, [256, 256], 'relu', 'ce', 10);
    for (const n of [1, 63, 64, 65, 4096, 1_000_003]) {
      const p = planMlp(c, n, shape, 2 ** 31);
      expect(p.chunk).toBeGreaterThanOrEqual(MIN_CHUNK);
      expect(p.numChunks).toBeLessThanOrEqual(MAX_CHUNKS);
      expect(p.chunk * p.numChunks).toBeGreaterThanOrEqual(n);
      expect((p.numChunks - 1) * p.chunk).toBeLessThan(n);
      expect(p.stride).toBe(parameterCount(c) + 1);
    }
  });
  it('refuses activations larger than one binding, naming the dataset', () => {
    expect(() => planMlp(mlpModel(4, [1024], 'relu', 'mse'), 100_000, shape, 128 * 2 ** 20)).toThrow(/dataset/);
  });
  it('packs MlpUniforms as eleven u32 and inv_n', () => {
    const b = packMlpUniforms({ n: 8, fanIn: 2, fanOut: 3, wOffset: 4, chunk: 64, numChunks: 1, groupsX: 1, stride: 10, count: 24, lossCol: 9, hasLoss: true });
    expect(Array.from(new Uint32Array(b, 0, 11))).toEqual([8, 2, 3, 4, 64, 1, 1, 10, 24, 9, 1]);
    expect(new Float32Array(b)[11]).toBe(0.125);
  });
  it('decays weights, not biases', () => {
    expect(Array.from(decayMask(mlpModel(1, [2], 'relu', 'mse')))).toEqual([1, 1, 0, 0, 1, 1, 0]);
  });
});
