// The host-side uniform packing must match the WGSL structs byte for byte. The offsets are derived from
// shaders/shared/mlp_layout.wgsl and optim_layout.wgsl themselves, so a field added, removed or reordered
// there fails here.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MLP_UNIFORM_BYTES, packGemmUniforms, packMlpUniforms } from '../../src/gpu/models/mlp-plan.ts';
import { CONTROL_BYTES, NO_TOLERANCE, packOptimStep } from '../../src/gpu/models/optim-update-pass.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { FOLD_STEP_BYTES, FOLD_STEP_MAX_CHUNKS, FOLD_STEP_MAX_PARAMS, foldStepApplies, packFoldStep } from '../../src/gpu/models/fold-step-pass.ts';
import { readStruct as read, wgslStruct } from '../wgsl-layout.ts';

const shared = (file: string) => readFileSync(fileURLToPath(new URL(`../../shaders/shared/${file}`, import.meta.url)), 'utf8');

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

  it('FoldStep <- packFoldStep: the partial rows and inv_n = 1 / rows as MlpUniforms holds it; bad counts refused', () => {
    const s = wgslStruct('FoldStep', shared('optim_layout.wgsl'));
    expect(s.size).toBe(FOLD_STEP_BYTES);
    expect(read(packFoldStep(7, 4093), s)).toEqual({ num_chunks: 7, inv_n: Math.fround(1 / 4093) });
    const mlp = read(packMlpUniforms({ n: 4093, fanIn: 0, fanOut: 0, wOffset: 0, chunk: 0, numChunks: 7, groupsX: 1, stride: 3, count: 0, lossCol: 0, hasLoss: false, xRow: 0, yRow: 0 }), wgslStruct('MlpUniforms', shared('mlp_layout.wgsl')));
    expect(read(packFoldStep(7, 4093), s).inv_n).toBe(mlp.inv_n);
    expect(() => packFoldStep(0, 10)).toThrow(/partial rows/);
    expect(() => packFoldStep(FOLD_STEP_MAX_CHUNKS + 1, 10)).toThrow(/partial rows/);
    expect(() => packFoldStep(1, 0)).toThrow(/rows/);
  });

  it('foldStepApplies: up to FOLD_STEP_MAX_PARAMS parameters (P + 1 values in one workgroup) and FOLD_STEP_MAX_CHUNKS rows', () => {
    expect(foldStepApplies(1, 1)).toBe(true);
    expect(foldStepApplies(FOLD_STEP_MAX_PARAMS, FOLD_STEP_MAX_CHUNKS)).toBe(true);
    expect(foldStepApplies(FOLD_STEP_MAX_PARAMS + 1, 1)).toBe(false);
    expect(foldStepApplies(3, FOLD_STEP_MAX_CHUNKS + 1)).toBe(false);
  });
});
