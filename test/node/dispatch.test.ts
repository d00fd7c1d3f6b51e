// Grid planning for the linear-model passes (pure helpers, no GPU).
import { describe, expect, it } from 'vitest';
import {
  checkLinearConfig, chooseWorkgroupSize, defaultLinearConfig, fold2d, linearTileRows, paddedFeatureBytes, planLinearGrid,
  linearVariants, type LinearVariant, QUAD_MAX_FEATURES, QUAD_ONLY_MAX_FEATURES, QUAD_TREE_MAX_ROWS, QUADS_PER_BLOCK, quadTreeRows, REDUCE_SINGLE_MAX_ROWS, reduceSingle, rowsPerTile, stepWorkgroupSize, TILE_FLOATS, TILES_PER_BLOCK, type DeviceShape,
} from '../../src/gpu/dispatch.ts';

/** WebGPU's default limits (what a core-profile device guarantees). */
const CORE: DeviceShape = { maxWorkgroupSize: 256, maxWorkgroupsPerDimension: 65535, maxWorkgroupStorageSize: 16384 };
/** Compatibility-mode limits: maxComputeInvocationsPerWorkgroup 128. */
const COMPAT: DeviceShape = { maxWorkgroupSize: 128, maxWorkgroupsPerDimension: 65535, maxWorkgroupStorageSize: 16384 };

const isPowerOfTwo = (v: number) => Number.isInteger(v) && v >= 1 && (v & (v - 1)) === 0;

/**
 * Workgroup memory the partials shaders declare. linear_partials.wgsl (tiled): tile_x (ROWS * D / 4 vec4s),
 * tile_r (ROWS f32), scratch (WG f32). linear_partials_quad.wgsl and linear_partials_wide.wgsl: scratch
 * (WG x TREE_ROWS f32) only.
 */
function shaderWorkgroupBytes(variant: LinearVariant, rows: number, d: number, wg: number): number {
  return variant === 'tiled' ? (rows * d / 4) * 16 + rows * 4 + wg * 4 : wg * quadTreeRows(d) * 4;
}

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

describe('rowsPerTile', () => {
  it('is a multiple of 4 with rows * d <= TILE_FLOATS, and as many rows as fit, for d <= 512', () => {
    for (let d = 1; d <= 512; d++) {
      const rows = rowsPerTile(d);
      expect(rows % 4, `d = ${d}`).toBe(0);
      expect(rows).toBeGreaterThanOrEqual(4);
      expect(rows * d, `d = ${d}`).toBeLessThanOrEqual(TILE_FLOATS);
      // Four more rows (the next multiple of 4) would not fit.
      expect((rows + 4) * d, `d = ${d}`).toBeGreaterThan(TILE_FLOATS);
    }
    expect(rowsPerTile(1)).toBe(2048);
    expect(rowsPerTile(3)).toBe(680);
    expect(rowsPerTile(512)).toBe(4);
  });

  it('never drops below 4 rows (one vec4-aligned tile) for wide data', () => {
    for (const d of [513, 1000, 5000]) expect(rowsPerTile(d)).toBe(4);
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

describe('paddedFeatureBytes', () => {
  it('pads the samples up to whole quads: ceil(n / 4) * d vec4s', () => {
    expect(paddedFeatureBytes(1, 1)).toBe(16);
    expect(paddedFeatureBytes(4, 1)).toBe(16);
    expect(paddedFeatureBytes(5, 1)).toBe(32);
    expect(paddedFeatureBytes(3, 3)).toBe(48);
    expect(paddedFeatureBytes(5, 3)).toBe(96);
    for (let n = 1; n <= 20; n++) {
      for (let d = 1; d <= 9; d++) {
        const bytes = paddedFeatureBytes(n, d);
        expect(bytes % 16).toBe(0);
        expect(bytes).toBeGreaterThanOrEqual(n * d * 4);
        // Less than one quad of samples (4 * d floats) of padding.
        expect(bytes).toBeLessThan((n + 4) * d * 4);
      }
    }
  });

  it('covers every vec4 either partials shader reads', () => {
    for (const n of [1, 5, 679, 680, 681, 1023, 1025, 2047, 2049, 9999]) {
      for (const d of [1, 2, 3, 5, 7, 16, 17, 33, 300]) {
        const p = planLinearGrid(n, d, CORE);
        let highestVec4: number;
        if (p.variant === 'quad') {
          // linear_partials_quad.wgsl: quad q = row0 / 4 reads x4[q * D + k], k < D, for every row0 < n.
          highestVec4 = (Math.ceil(n / 4) - 1) * d + d - 1;
        } else {
          // linear_partials.wgsl reads x4[tile * TILE4 + k] for k < valid4 = ceil(rows_in_tile * D / 4).
          const last = p.numTiles - 1;
          const rowsLast = n - last * p.rowsPerTile;
          highestVec4 = last * ((p.rowsPerTile * d) / 4) + Math.ceil((rowsLast * d) / 4) - 1;
        }
        expect(paddedFeatureBytes(n, d), `n ${n}, d ${d} (${p.variant})`).toBeGreaterThanOrEqual((highestVec4 + 1) * 16);
      }
    }
  });
});

describe('planLinearGrid', () => {
  it('tiles, groups and the 2-D fold are consistent for a range of n and d', () => {
    for (const shape of [CORE, COMPAT]) {
      for (const n of [1, 3, 4, 2047, 2048, 2049, 100_000, 10_000_000]) {
        for (const d of [1, 2, 3, 7, 16, 17, 64, 127, 128, 129, 256, 257, 512, 700]) {
          const p = planLinearGrid(n, d, shape);
          const tag = `n ${n}, d ${d}, wg limit ${shape.maxWorkgroupSize}`;
          expect(p.workgroupSize, tag).toBe(chooseWorkgroupSize(shape));
          // Untuned: the quad kernel only where it is the only one offered.
          const quad = d <= QUAD_ONLY_MAX_FEATURES;
          expect(p.variant, tag).toBe(quad ? 'quad' : 'tiled');
          // A quad-kernel tile is one quad (4 samples) per thread.
          expect(p.rowsPerTile, tag).toBe(quad ? 4 * p.workgroupSize : rowsPerTile(d));
          expect(p.numTiles, tag).toBe(Math.ceil(n / p.rowsPerTile));
          // Untuned: one block of tiles per group, so the grid grows with n (GPU-shaped).
          const perGroup = quad ? QUADS_PER_BLOCK : TILES_PER_BLOCK;
          expect(p.numGroups * perGroup, tag).toBeGreaterThanOrEqual(p.numTiles);
          // ... and no more groups than needed.
          expect((p.numGroups - 1) * perGroup, tag).toBeLessThan(p.numTiles);
          expect(p.groupsX * p.groupsY, tag).toBeGreaterThanOrEqual(p.numGroups);
          expect(p.groupsX).toBeLessThanOrEqual(shape.maxWorkgroupsPerDimension);
          expect(p.groupsY).toBeLessThanOrEqual(shape.maxWorkgroupsPerDimension);
          expect(p.workgroupBytes, tag).toBe(shaderWorkgroupBytes(p.variant, p.rowsPerTile, d, p.workgroupSize));
          expect(p.workgroupBytes).toBeLessThanOrEqual(shape.maxWorkgroupStorageSize);
          // Lane mode exactly when every feature gets at least one thread.
          expect(p.laneMode, tag).toBe(d <= p.workgroupSize);
          expect(p.featuresPerThread, tag).toBe(p.laneMode ? 1 : Math.ceil(d / p.workgroupSize));
          // Column mode: FPT threads-worth of columns cover all d features.
          expect(p.featuresPerThread * p.workgroupSize, tag).toBeGreaterThanOrEqual(d);
        }
      }
    }
  });

  it('a configuration fixes the grid whatever n is, capped by the tiles so that no group idles', () => {
    for (const d of [1, 5, 16, 17, 64, 300]) {
      for (const wg of [64, 128, 256]) {
        for (const numGroups of [1, 2, 7, 64, 4096]) {
          for (const n of [1, 4, 1000, 2 ** 20, 2 ** 24 + 3]) {
            const p = planLinearGrid(n, d, CORE, { workgroupSize: wg, numGroups });
            const tag = `n ${n}, d ${d}, ${wg} x ${numGroups}`;
            expect(p.workgroupSize, tag).toBe(wg);
            expect(p.rowsPerTile, tag).toBe(linearTileRows(d, wg));
            expect(p.numTiles, tag).toBe(Math.ceil(n / p.rowsPerTile));
            expect(p.numGroups, tag).toBe(Math.max(1, Math.min(numGroups, p.numTiles)));
            expect(p.groupsX * p.groupsY, tag).toBeGreaterThanOrEqual(p.numGroups);
            expect(p.laneMode, tag).toBe(d <= wg);
          }
        }
      }
    }
  });

  it('defaultLinearConfig is the untuned plan, and plans without a configuration use it', () => {
    for (const [n, d] of [[1, 1], [2 ** 20, 1], [2 ** 24, 16], [10_000, 64]]) {
      const config = defaultLinearConfig(n, d, CORE);
      expect(planLinearGrid(n, d, CORE)).toEqual(planLinearGrid(n, d, CORE, config));
      expect(config.workgroupSize).toBe(256);
    }
    // 2^20 samples, d = 1: 1024 samples a tile, 16 tiles a group -> 64 groups; 2^24 -> 1024 (the numbers).
    expect(defaultLinearConfig(2 ** 20, 1, CORE).numGroups).toBe(64);
    expect(defaultLinearConfig(2 ** 24, 1, CORE).numGroups).toBe(1024);
    expect(defaultLinearConfig(100, 1, COMPAT, 1024).workgroupSize).toBe(128);
  });

  it('rejects configurations the device cannot run, naming the field', () => {
    for (const bad of [{ workgroupSize: 96, numGroups: 1 }, { workgroupSize: 512, numGroups: 1 }, { workgroupSize: 0, numGroups: 1 }]) {
      expect(() => planLinearGrid(1000, 1, CORE, bad), JSON.stringify(bad)).toThrow(/workgroupSize/);
    }
    for (const bad of [{ workgroupSize: 64, numGroups: 0 }, { workgroupSize: 64, numGroups: 1.5 }, { workgroupSize: 64, numGroups: NaN }]) {
      expect(() => checkLinearConfig(bad, CORE), JSON.stringify(bad)).toThrow(/numGroups/);
    }
    expect(() => planLinearGrid(1000, 1, COMPAT, { workgroupSize: 256, numGroups: 2 })).toThrow(/<= 128/);
  });

  it('lane vs column mode at the workgroup-size boundary', () => {
    const at = (d: number, shape = CORE) => planLinearGrid(1000, d, shape);
    expect([at(256).laneMode, at(256).featuresPerThread]).toEqual([true, 1]);
    expect([at(257).laneMode, at(257).featuresPerThread]).toEqual([false, 2]);
    expect([at(512).laneMode, at(512).featuresPerThread]).toEqual([false, 2]);
    expect([at(513).laneMode, at(513).featuresPerThread]).toEqual([false, 3]);
    expect([at(128, COMPAT).laneMode, at(128, COMPAT).featuresPerThread]).toEqual([true, 1]);
    expect([at(129, COMPAT).laneMode, at(129, COMPAT).featuresPerThread]).toEqual([false, 2]);
    expect([at(300, COMPAT).laneMode, at(300, COMPAT).featuresPerThread]).toEqual([false, 3]);
  });

  it('folds into 2-D once the groups exceed the per-dimension limit', () => {
    const shape = { ...CORE, maxWorkgroupsPerDimension: 100 };
    // Untuned quad kernel, d = 1: 1024 rows per tile, 16 tiles per group -> 16384 rows per group; 101 groups.
    const q = planLinearGrid(16384 * 101, 1, shape);
    expect([q.variant, q.numGroups, q.groupsX, q.groupsY]).toEqual(['quad', 101, 51, 2]);
    // Untuned tiled kernel, d = 32: 64 rows per tile, 8 tiles per group -> 512 rows per group; 101 groups.
    const t = planLinearGrid(512 * 101, 32, shape);
    expect([t.variant, t.numGroups, t.groupsX, t.groupsY]).toEqual(['tiled', 101, 51, 2]);
  });

  it('the quad kernel serves d <= 16 on every workgroup size, with only the reduction scratch', () => {
    for (const wg of [32, 64, 128, 256]) {
      const p = planLinearGrid(100, 16, { ...CORE, maxWorkgroupSize: wg });
      expect([p.variant, p.rowsPerTile, p.workgroupBytes]).toEqual(['quad', 4 * wg, 4 * wg * quadTreeRows(16)]);
      expect(planLinearGrid(100, 17, { ...CORE, maxWorkgroupSize: wg }).variant).toBe('tiled');
    }
  });

  it('from 17 to 64 features the tiled or the quad kernel, above for whole vec4 rows the tiled or the wide one; quad tiles, tree scratch, no unroll', () => {
    expect([1, 16, 17, 64, 65, 68, 512, 516, 700].map((d) => linearVariants(d))).toEqual([
      ['quad'], ['quad'], ['tiled', 'quad'], ['tiled', 'quad'], ['tiled'], ['tiled', 'wide'], ['tiled', 'wide'], ['tiled'], ['tiled'],
    ]);
    for (const d of [68, 256, 512]) {
      const wide = planLinearGrid(10_001, d, CORE, { workgroupSize: 64, numGroups: 3, variant: 'wide' });
      expect([wide.variant, wide.rowsPerTile, wide.numTiles, wide.workgroupBytes, wide.unroll]).toEqual(['wide', 256, Math.ceil(10_001 / 256), 4 * 64 * quadTreeRows(d), 1]);
    }
    for (const d of [66, 516, 70]) {
      expect(() => planLinearGrid(100, d, CORE, { workgroupSize: 64, numGroups: 1, variant: 'wide' }), `d = ${d}`).toThrow(/wide kernel takes d a multiple of 4 up to 512/);
    }
    for (const d of [17, 40, 64]) {
      const q = planLinearGrid(10_000, d, CORE, { workgroupSize: 64, numGroups: 3, variant: 'quad' });
      expect([q.variant, q.rowsPerTile, q.numTiles, q.workgroupBytes, q.unroll]).toEqual(['quad', 256, Math.ceil(10_000 / 256), 4 * 64 * quadTreeRows(d), 1]);
      expect(planLinearGrid(10_000, d, CORE, { workgroupSize: 64, numGroups: 3, variant: 'tiled' }).variant).toBe('tiled');
      expect(linearTileRows(d, 64, 'quad')).toBe(256);
      expect(linearTileRows(d, 64)).toBe(rowsPerTile(d));
      // The untuned default for another kernel counts that kernel's tiles.
      expect(defaultLinearConfig(2 ** 20, d, CORE, 256, 'quad')).toEqual({ workgroupSize: 256, numGroups: Math.ceil(2 ** 20 / 1024 / QUADS_PER_BLOCK), variant: 'quad' });
    }
    expect(() => planLinearGrid(100, 65, CORE, { workgroupSize: 64, numGroups: 1, variant: 'quad' })).toThrow(/quad kernel takes d <= 64 features, got 65/);
    expect(() => planLinearGrid(100, 32, CORE, { workgroupSize: 64, numGroups: 1, variant: 'tiled', unroll: 2 })).toThrow(/unroll applies to the quad kernel only/);
    expect(() => checkLinearConfig({ workgroupSize: 64, numGroups: 1, variant: 'vec' as never }, CORE)).toThrow(/variant must be one of quad, tiled, wide, got vec/);
  });

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

  it('single-workgroup passes: a power of two >= d + 2 threads (one per component), within the device and 256', () => {
    expect([1, 2, 3, 6, 14, 16, 30, 64, 254, 255, 1000].map((d) => stepWorkgroupSize(d, CORE))).toEqual([4, 4, 8, 8, 16, 32, 32, 128, 256, 256, 256]);
    expect(stepWorkgroupSize(200, COMPAT)).toBe(128);
    expect(stepWorkgroupSize(3, { maxWorkgroupSize: 4 })).toBe(4);
    expect(stepWorkgroupSize(9, { maxWorkgroupSize: 4 })).toBe(4);
  });

  it(`the reduce is one workgroup up to ${REDUCE_SINGLE_MAX_ROWS} partial rows, one per column above`, () => {
    expect([1, 2, REDUCE_SINGLE_MAX_ROWS, REDUCE_SINGLE_MAX_ROWS + 1, 4096].map(reduceSingle)).toEqual([true, true, true, false, false]);
  });

  it('a d whose tile exceeds the workgroup memory limit throws a RangeError naming d and the limit', () => {
    // rows = 4 for d > 512: 16 d + 16 + 4 * 256 bytes; d = 959 is the widest that fits 16384 bytes.
    expect(planLinearGrid(10, 959, CORE).workgroupBytes).toBe(16384);
    expect(() => planLinearGrid(10, 960, CORE)).toThrow(RangeError);
    expect(() => planLinearGrid(10, 960, CORE)).toThrow(/d = 960\b/);
    expect(() => planLinearGrid(10, 960, CORE)).toThrow(/\b16384\b/);
    expect(() => planLinearGrid(10, 5000, { ...CORE, maxWorkgroupStorageSize: 32768 })).toThrow(/d = 5000\b.*\b32768\b/);
  });
});
