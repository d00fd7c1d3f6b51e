// What the linear autotuner tries and how it judges results (src/gpu/tuning/linear-candidates.ts), no GPU.
import { describe, expect, it } from 'vitest';
import {
  checkLinearResult, isLinearKernelConfig, LINEAR_MAX_GROUPS, LINEAR_TUNE_MAX_BYTES, LINEAR_TUNE_START_BYTES, linearCandidates, linearLadderOf,
  linearFamily, linearProbePoint, linearReference, linearShapeClass, linearTuneRows,
} from '../../src/gpu/tuning/linear-candidates.ts';
import { linearTileRows, type DeviceShape } from '../../src/gpu/dispatch.ts';
import { linearGradient } from '../../src/cpu/linear_partials.ts';
import { makeLinearData } from '../data-gen.ts';

const CORE: DeviceShape = { maxWorkgroupSize: 256, maxWorkgroupsPerDimension: 65535, maxWorkgroupStorageSize: 16384 };
const COMPAT: DeviceShape = { ...CORE, maxWorkgroupSize: 128 };

describe('linearCandidates', () => {
  it('the same list on every adapter with the same limits: workgroups {64, 128, 256} x 1, 2, 4, ... capped by the work', () => {
    const rows = 2 ** 20;
    const list = linearCandidates(rows, 1, CORE);
    for (const [wg, unroll] of [64, 128, 256].flatMap((w) => [[w, 1], [w, 2]])) {
      const groups = list.filter((c) => c.workgroupSize === wg && (c.unroll ?? 1) === unroll).map((c) => c.numGroups);
      const tiles = Math.ceil(rows / linearTileRows(1, wg));
      const top = Math.min(tiles, LINEAR_MAX_GROUPS);
      expect(groups[0]).toBe(1);
      expect(groups[groups.length - 1]).toBe(top);
      for (let i = 1; i < groups.length - 1; i++) expect(groups[i]).toBe(2 * groups[i - 1]);
    }
    // Ladders in order of unroll then workgroup size, each walking growing grids; d = 1 also tries 2 quads per
    // iteration (QUAD_UNROLL_MAX_FEATURES), d = 2 does not.
    expect([...new Set(list.map(linearLadderOf))]).toEqual(['wg64u1', 'wg128u1', 'wg256u1', 'wg64u2', 'wg128u2', 'wg256u2']);
    expect(linearCandidates(rows, 2, CORE).every((c) => c.unroll === undefined)).toBe(true);
    expect(linearCandidates(rows, 1, CORE)).toEqual(list);
  });

  it('respects the workgroup limit, and a pinned size (rounded down to a power of two)', () => {
    expect(new Set(linearCandidates(2 ** 20, 4, COMPAT).map((c) => c.workgroupSize))).toEqual(new Set([64, 128]));
    expect(new Set(linearCandidates(2 ** 20, 4, CORE, 200).map((c) => c.workgroupSize))).toEqual(new Set([128]));
    expect(new Set(linearCandidates(2 ** 20, 4, { ...CORE, maxWorkgroupSize: 32 }).map((c) => c.workgroupSize))).toEqual(new Set([32]));
  });

  it('small data: one tile means one group per workgroup size; the one-tile-per-group grid ends each ladder', () => {
    expect(linearCandidates(5, 3, CORE)).toEqual([64, 128, 256].map((wg) => ({ workgroupSize: wg, numGroups: 1 })));
    const wg64 = linearCandidates(1000 * 256, 1, CORE).filter((c) => c.workgroupSize === 64 && c.unroll === undefined).map((c) => c.numGroups);
    expect(wg64).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000]);
    // The tiled kernel (d > 16): tiles of rowsPerTile(d) rows; from 17 to 64 features each kernel has its ladders, named.
    const tiled = linearCandidates(64 * 100, 32, CORE).filter((c) => c.workgroupSize === 64 && c.variant === 'tiled').map((c) => c.numGroups);
    expect(tiled).toEqual([1, 2, 4, 8, 16, 32, 64, 100]);
    const quad = linearCandidates(64 * 100, 32, CORE).filter((c) => c.workgroupSize === 64 && c.variant === 'quad').map((c) => c.numGroups);
    expect(quad).toEqual([1, 2, 4, 8, 16, 25]);
    expect(linearCandidates(64 * 100, 32, CORE).every((c) => c.unroll === undefined)).toBe(true);
    expect(new Set(linearCandidates(64 * 100, 32, CORE).map(linearLadderOf)).size).toBe(6);
    expect(linearCandidates(64 * 100, 65, CORE).every((c) => c.variant === undefined)).toBe(true);
    // Wide rows of whole vec4s (68 features): the tiled and the wide kernel, each in its ladders.
    expect(new Set(linearCandidates(64 * 100, 68, CORE).map((c) => c.variant))).toEqual(new Set(['tiled', 'wide']));
    expect(linearFamily(16)).not.toBe(linearFamily(17));
    expect(linearFamily(64)).not.toBe(linearFamily(65));
  });
});

describe('tuning rows and shape class', () => {
  it('the tuning prefix is whole quads within the data, its first chunk and the byte budget', () => {
    expect(linearTuneRows(1000, 1, 2 ** 30, LINEAR_TUNE_START_BYTES)).toBe(1000);
    expect(linearTuneRows(2 ** 24, 1, 2 ** 30, LINEAR_TUNE_START_BYTES)).toBe(LINEAR_TUNE_START_BYTES / 8);
    expect(linearTuneRows(2 ** 24, 1, 4096, LINEAR_TUNE_START_BYTES)).toBe(4096);
    const r = linearTuneRows(2 ** 24, 16, 2 ** 30, LINEAR_TUNE_START_BYTES);
    expect(r % 4).toBe(0);
    expect(r * 17 * 4).toBeLessThanOrEqual(LINEAR_TUNE_START_BYTES);
    expect((r + 4) * 17 * 4).toBeGreaterThan(LINEAR_TUNE_START_BYTES);
  });

  it('shape class: d and log2 of N (rounded up) up to the largest prefix; a pinned workgroup size is part of it', () => {
    expect(linearShapeClass(2 ** 20, 1)).toEqual({ d: 1, log2Rows: 20 });
    expect(linearShapeClass(2 ** 20 + 1, 1)).toEqual({ d: 1, log2Rows: 21 });
    expect(linearShapeClass(1_000_003, 16)).toEqual({ d: 16, log2Rows: 20 });
    const capRows = linearTuneRows(Infinity, 1, Infinity, LINEAR_TUNE_MAX_BYTES);
    expect(linearShapeClass(2 ** 30, 1)).toEqual(linearShapeClass(capRows, 1));
    expect(linearShapeClass(2 ** 30, 1)).toEqual(linearShapeClass(2 ** 28, 1));
    expect(linearShapeClass(1000, 3, 128)).toEqual({ d: 3, log2Rows: 10, workgroupSize: 128 });
    expect(linearFamily(16)).toBe('linear.partials.quad');
    expect([linearFamily(17), linearFamily(64), linearFamily(65), linearFamily(68)]).toEqual(['linear.partials.tiled-or-quad', 'linear.partials.tiled-or-quad', 'linear.partials.tiled', 'linear.partials.tiled-or-wide']);
  });

  it('isLinearKernelConfig accepts positive integer pairs only, with an unroll of 1 or 2 or none and a kernel name or none', () => {
    expect(isLinearKernelConfig({ workgroupSize: 64, numGroups: 2 })).toBe(true);
    expect(isLinearKernelConfig({ workgroupSize: 64, numGroups: 2, unroll: 2 })).toBe(true);
    expect(isLinearKernelConfig({ workgroupSize: 64, numGroups: 2, variant: 'quad' })).toBe(true);
    expect(isLinearKernelConfig({ workgroupSize: 64, numGroups: 2, variant: 'tiled' })).toBe(true);
    expect(isLinearKernelConfig({ workgroupSize: 64, numGroups: 2, variant: 'wide' })).toBe(true);
    for (const bad of [null, 3, 'x', {}, { workgroupSize: 64 }, { workgroupSize: 64, numGroups: 0 }, { workgroupSize: 1.5, numGroups: 2 }, { workgroupSize: '64', numGroups: 2 },
      { workgroupSize: 64, numGroups: 2, unroll: 3 }, { workgroupSize: 64, numGroups: 2, unroll: '2' }, { workgroupSize: 64, numGroups: 2, variant: 'vec' }]) {
      expect(isLinearKernelConfig(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('linearReference and checkLinearResult', () => {
  const data = makeLinearData(5_000, 4, 3);
  const at = linearProbePoint(4);

  it('the reference equals the float64 gradient and loss over the prefix; the scale bounds each |value|', () => {
    const ref = linearReference(data, 1_000, at);
    const prefix = { ...data, n: 1_000, x: data.x.subarray(0, 4_000), y: data.y.subarray(0, 1_000) };
    const want = linearGradient(prefix, at);
    const expected = [...want.gradW, want.gradB, want.loss];
    for (let k = 0; k < 6; k++) {
      expect(ref.value[k]).toBeCloseTo(expected[k], 12);
      expect(ref.scale[k]).toBeGreaterThanOrEqual(Math.abs(ref.value[k]));
    }
  });

  it('accepts float32 rounding, rejects an error of 1e-3 of the scale, NaN, and names the component', () => {
    const ref = linearReference(data, data.n, at);
    const f32 = Float32Array.from(ref.value);
    expect(checkLinearResult(f32, ref)).toBeNull();
    for (let k = 0; k < 6; k++) {
      const off = Float64Array.from(ref.value);
      off[k] += 1e-3 * ref.scale[k];
      expect(checkLinearResult(off, ref), `component ${k}`).toMatch(k < 4 ? new RegExp(`^grad_w\\[${k}\\] = `) : k === 4 ? /^grad_b = / : /^loss = /);
      const nan = Float64Array.from(ref.value);
      nan[k] = NaN;
      expect(checkLinearResult(nan, ref)).toMatch(/NaN/);
    }
  });
});
