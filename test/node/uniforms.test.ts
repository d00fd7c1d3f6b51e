// The host-side uniform packing must match the WGSL structs byte for byte. The offsets are derived from
// shaders/shared/linear_layout.wgsl itself, so a field added, removed or reordered there fails here.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { packGridUniforms, packReduceUniforms, packUpdateUniforms } from '../../src/gpu/uniforms.ts';
import type { LinearGridPlan } from '../../src/gpu/dispatch.ts';
import { MLP_UNIFORM_BYTES, packGemmUniforms, packMlpUniforms } from '../../src/gpu/models/mlp-plan.ts';
import { CONTROL_BYTES, NO_TOLERANCE, packOptimStep } from '../../src/gpu/models/optim-update-pass.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { readStruct as read, wgslStruct as structOf } from '../wgsl-layout.ts';

const shared = (file: string) => readFileSync(fileURLToPath(new URL(`../../shaders/shared/${file}`, import.meta.url)), 'utf8');
const layoutSource = shared('linear_layout.wgsl');

/** A struct of the linear layout (or of `source`). */
const wgslStruct = (name: string, source = layoutSource) => structOf(name, source);

const plan: LinearGridPlan = {
  variant: 'tiled', workgroupSize: 256, rowsPerTile: 680, numTiles: 37, numGroups: 5, groupsX: 3, groupsY: 2,
  featuresPerThread: 1, laneMode: true, unroll: 1, workgroupBytes: 10_000,
};

describe('uniform layouts match shaders/shared/linear_layout.wgsl', () => {
  it('LinearGridUniforms <- packGridUniforms: 32 bytes', () => {
    const s = wgslStruct('LinearGridUniforms');
    expect(s.fields.map((f) => `${f.name}: ${f.type}`)).toEqual([
      'n: u32', 'num_tiles: u32', 'num_groups: u32', 'groups_x: u32', 'first_group: u32', 'row_offset: u32', '_pad0: u32', '_pad1: u32',
    ]);
    expect(s.size).toBe(32);
    const buf = packGridUniforms({ chunk: 2, rows: 123_456_789, rowOffset: 4096, firstGroup: 17, plan });
    expect(buf.byteLength).toBe(s.size);
    expect(read(buf, s)).toEqual({
      n: 123_456_789, num_tiles: 37, num_groups: 5, groups_x: 3, first_group: 17, row_offset: 4096, _pad0: 0, _pad1: 0,
    });
  });

  it('ReduceUniforms <- packReduceUniforms: 16 bytes, components = D + 2, inv_n as f32', () => {
    const s = wgslStruct('ReduceUniforms');
    expect(s.fields.map((f) => `${f.name}: ${f.type}`)).toEqual(['num_groups: u32', 'components: u32', 'inv_n: f32', '_pad: u32']);
    expect(s.size).toBe(16);
    const buf = packReduceUniforms(41, 7, 3);
    expect(buf.byteLength).toBe(s.size);
    expect(read(buf, s)).toEqual({ num_groups: 41, components: 9, inv_n: Math.fround(1 / 3), _pad: 0 });
  });

  it('UpdateUniforms <- packUpdateUniforms: 32 bytes, f32 then u32 fields, zero padding', () => {
    const s = wgslStruct('UpdateUniforms');
    expect(s.fields.map((f) => `${f.name}: ${f.type}`)).toEqual([
      'lr: f32', 'tol: f32', 'explode_factor: f32', 'max_updates: u32', 'params: u32', 'history_cap: u32', '_pad0: u32', '_pad1: u32',
    ]);
    expect(s.size).toBe(32);
    const buf = packUpdateUniforms({ lr: 0.3, tol: 1e-6, explodeFactor: 1e6, maxUpdates: 1000, params: 8, historyCap: 64 });
    expect(buf.byteLength).toBe(s.size);
    expect(read(buf, s)).toEqual({
      lr: Math.fround(0.3), tol: Math.fround(1e-6), explode_factor: 1e6, max_updates: 1000, params: 8, history_cap: 64, _pad0: 0, _pad1: 0,
    });
  });

  it('UpdateUniforms clamps values that do not fit f32 / u32 instead of wrapping or overflowing', () => {
    const s = wgslStruct('UpdateUniforms');
    // 2^32 + 5 would wrap to 5 in a Uint32Array: a run meant to be unlimited would stop after 5 updates.
    const buf = packUpdateUniforms({ lr: 0.1, tol: 0, explodeFactor: 1e300, maxUpdates: 2 ** 32 + 5, params: 2, historyCap: 1 });
    const v = read(buf, s);
    expect(v.max_updates).toBe(0xffffffff);
    expect(Number.isFinite(v.explode_factor)).toBe(true);
    expect(v.explode_factor).toBeGreaterThan(1e38);
    expect(v.tol).toBe(0);
  });
});

describe('uniform layouts match shaders/shared/mlp_layout.wgsl and optim_layout.wgsl', () => {
  it('MlpUniforms <- packMlpUniforms: the batch rows x_row, y_row and inv_n = 1 / n', () => {
    const s = wgslStruct('MlpUniforms', shared('mlp_layout.wgsl'));
    expect(s.size).toBe(MLP_UNIFORM_BYTES);
    const buf = packMlpUniforms({ n: 24, fanIn: 2, fanOut: 8, wOffset: 16, chunk: 64, numChunks: 1, groupsX: 3, stride: 99, count: 192, lossCol: 98, hasLoss: false, xRow: 72, yRow: 0 });
    expect(read(buf, s)).toEqual({
      n: 24, fan_in: 2, fan_out: 8, w_offset: 16, chunk: 64, num_chunks: 1, groups_x: 3, stride: 99, count: 192, loss_col: 98, has_loss: 0,
      x_row: 72, y_row: 0, inv_n: Math.fround(1 / 24),
    });
  });

  it('GemmUniforms <- packGemmUniforms: sixteen u32 in the struct order', () => {
    const s = wgslStruct('GemmUniforms', shared('mlp_layout.wgsl'));
    expect(s.size).toBe(MLP_UNIFORM_BYTES);
    const v = { m: 1, n: 2, k: 3, kSplit: 4, aBase: 5, aSm: 6, aSk: 7, bBase: 8, bSk: 9, bSn: 10, cBase: 11, cSm: 12, cSplit: 13, auxBase: 14, auxSm: 15, groupsY: 16 };
    expect(Object.values(read(packGemmUniforms(v), s))).toEqual(Object.values(v));
    expect(s.fields.map((f) => f.name)).toEqual(['m', 'n', 'k', 'k_split', 'a_base', 'a_sm', 'a_sk', 'b_base', 'b_sk', 'b_sn', 'c_base', 'c_sm', 'c_split', 'aux_base', 'aux_sm', 'groups_y']);
  });

  it('OptimStep <- packOptimStep: the tolerance last, negative when off; TrainControl is two u32', () => {
    const source = shared('optim_layout.wgsl');
    const s = wgslStruct('OptimStep', source);
    expect(s.size).toBe(48);
    const c = optimizerConfig({ kind: 'adam', weightDecay: 0.5 });
    const v = read(packOptimStep(c, 1000, 3, 0.25, 4, 1e-3), s);
    expect(v).toMatchObject({ lr: 0.25, weight_decay: 0.5, params: 1000, step: 3, groups_x: 4, tol: Math.fround(1e-3) });
    expect(v.bc1).toBeCloseTo(1 - 0.9 ** 3, 6);
    expect(read(packOptimStep(c, 1, 1, 0.1, 1), s).tol).toBe(NO_TOLERANCE);
    expect(wgslStruct('TrainControl', source).fields.map((f) => `${f.name}: ${f.type}`)).toEqual(['status: u32', 'stopped_at: u32']);
    expect(CONTROL_BYTES).toBe(8);
  });
});
