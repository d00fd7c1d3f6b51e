// Dispatch helpers the GPU passes share (pure, no GPU): the workgroup size, the 2-D fold of large grids, and the
// quad kernel's tree widths.
import { describe, expect, it } from 'vitest';
import { chooseWorkgroupSize, fold2d, QUAD_MAX_FEATURES, QUAD_TREE_MAX_ROWS, quadTreeRows, type DeviceShape } from '../../src/gpu/dispatch.ts';

/** WebGPU's default limits (what a core-profile device guarantees). */
const CORE: DeviceShape = { maxWorkgroupSize: 256, maxWorkgroupsPerDimension: 65535, maxWorkgroupStorageSize: 16384 };
/** Compatibility-mode limits: maxComputeInvocationsPerWorkgroup 128. */
const COMPAT: DeviceShape = { maxWorkgroupSize: 128, maxWorkgroupsPerDimension: 65535, maxWorkgroupStorageSize: 16384 };

const isPowerOfTwo = (v: number) => Number.isInteger(v) && v >= 1 && (v & (v - 1)) === 0;

describe('chooseWorkgroupSize', () => {
  it('is the largest power of two within both the limit and the preference', () => {
    for (let limit = 1; limit <= 1024; limit++) {
      for (const preferred of [64, 100, 256, 1024]) {
        const wg = chooseWorkgroupSize({ maxWorkgroupSize: limit }, preferred);
        const cap = Math.min(limit, preferred);
        expect(isPowerOfTwo(wg), `limit ${limit}, preferred ${preferred}: ${wg}`).toBe(true);
        expect(wg).toBeLessThanOrEqual(cap);
        expect(wg * 2).toBeGreaterThan(cap);
      }
    }
  });

  it('defaults to 256, and 128 on a compatibility-limit device', () => {
    expect(chooseWorkgroupSize(CORE)).toBe(256);
    expect(chooseWorkgroupSize({ maxWorkgroupSize: 1024 })).toBe(256);
    expect(chooseWorkgroupSize(COMPAT)).toBe(128);
    expect(chooseWorkgroupSize({ maxWorkgroupSize: 200 })).toBe(128);
  });
});

describe('fold2d', () => {
  it('x * y >= groups with both <= max and less than one row of waste, exhaustively for max = 10', () => {
    const max = 10;
    for (let groups = 1; groups <= max * max; groups++) {
      const { x, y } = fold2d(groups, max);
      expect(x * y, `groups ${groups}`).toBeGreaterThanOrEqual(groups);
      expect(x).toBeLessThanOrEqual(max);
      expect(y).toBeLessThanOrEqual(max);
      expect(x * y - groups, `groups ${groups}: ${x} x ${y}`).toBeLessThan(y);
      if (groups <= max) expect({ x, y }).toEqual({ x: groups, y: 1 });
    }
  });

  it('works at WebGPU scale and throws a RangeError beyond max^2', () => {
    const max = 65535;
    for (const groups of [1, max, max + 1, 1_000_000, max * max]) {
      const { x, y } = fold2d(groups, max);
      expect(x * y).toBeGreaterThanOrEqual(groups);
      expect(x).toBeLessThanOrEqual(max);
      expect(y).toBeLessThanOrEqual(max);
    }
    expect(() => fold2d(max * max + 1, max)).toThrow(RangeError);
    expect(() => fold2d(101, 10)).toThrow(RangeError);
    expect(() => fold2d(101, 10)).toThrow(/101.*10/);
  });
});

describe('quadTreeRows', () => {
  it('the quad kernel runs its d + 2 trees in the fewest rounds of equal width within QUAD_TREE_MAX_ROWS', () => {
    for (let d = 1; d <= QUAD_MAX_FEATURES; d++) {
      const width = quadTreeRows(d);
      const rounds = Math.ceil((d + 2) / width);
      expect(width, `d = ${d}`).toBeLessThanOrEqual(QUAD_TREE_MAX_ROWS);
      expect(rounds, `d = ${d}`).toBe(Math.ceil((d + 2) / QUAD_TREE_MAX_ROWS));
      expect((rounds - 1) * width, `d = ${d}: no empty round`).toBeLessThan(d + 2);
    }
    expect([quadTreeRows(1), quadTreeRows(6), quadTreeRows(7), quadTreeRows(16)]).toEqual([3, 8, 5, 6]);
  });
});
