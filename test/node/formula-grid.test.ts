// The formula pass-1 grid as data (src/gpu/formula/formula-grid.ts): default, candidates, tree rows, key.
import { describe, expect, it } from 'vitest';
import {
  checkFormulaConfig, defaultFormulaConfig, describeFormulaConfig, formulaCandidates, formulaKernelConstants, formulaLadder, formulaShapeClass, formulaTreeRows,
  FORMULA_BLOCK, FORMULA_MAX_GROUPS, isFormulaKernelConfig, programHash, stepWorkgroupSize,
} from '../../src/gpu/formula/formula-grid.ts';

const shape = { maxWorkgroupSize: 256, maxWorkgroupsPerDimension: 65535, maxWorkgroupStorageSize: 16384 };

describe('formula pass-1 grid', () => {
  it('defaults: a few workgroups of 64, blocked, on a software adapter, a strided GPU-shaped grid on hardware', () => {
    expect(defaultFormulaConfig(1, shape, true)).toEqual({ workgroupSize: 64, groups: 1, layout: 'blocked' });
    expect(defaultFormulaConfig(2 ** 20, shape, true)).toEqual({ workgroupSize: 64, groups: 8, layout: 'blocked' });
    expect(defaultFormulaConfig(2 ** 20, shape, false)).toEqual({ workgroupSize: 256, groups: 2 ** 20 / (256 * 4 * FORMULA_BLOCK) });
    expect(defaultFormulaConfig(2 ** 30, shape, false).groups).toBe(FORMULA_MAX_GROUPS);
  });

  it('candidates: growing power-of-two ladders per layout, span and workgroup size, ending at one block (or span) per thread', () => {
    const c = formulaCandidates(20003, shape); // 64-row blocks: 5 of 64 x 64 rows, 2 of 256 x 64; spans of 16 blocks: 1 each
    const grids = [
      { workgroupSize: 64, groups: 1 }, { workgroupSize: 64, groups: 2 }, { workgroupSize: 64, groups: 4 }, { workgroupSize: 64, groups: 5 },
      { workgroupSize: 256, groups: 1 }, { workgroupSize: 256, groups: 2 },
    ];
    expect(c).toEqual([
      ...grids.map((g) => ({ ...g, layout: 'strided' })), ...grids.map((g) => ({ ...g, layout: 'blocked', span: 1 })),
      { workgroupSize: 64, groups: 1, layout: 'blocked', span: 16 }, { workgroupSize: 256, groups: 1, layout: 'blocked', span: 16 },
    ]);
    expect(new Set(c.map(formulaLadder))).toEqual(new Set(['strided wg64', 'strided wg256', 'blocked wg64', 'blocked wg256', 'blocked span16 wg64', 'blocked span16 wg256']));
    for (const k of c) expect(() => checkFormulaConfig(k, shape)).not.toThrow();
    expect(() => checkFormulaConfig({ workgroupSize: 96, groups: 1 }, shape)).toThrow(/power of two/);
    // A wide program on a software adapter: workgroups of 64, strided and blocked in spans of one block.
    expect(formulaCandidates(20003, shape, true)).toEqual([
      ...grids.slice(0, 4).map((g) => ({ ...g, layout: 'strided' })), ...grids.slice(0, 4).map((g) => ({ ...g, layout: 'blocked', span: 1 })),
    ]);
  });

  it('a layout is strided or blocked (absent: strided, as tables written before the choice hold), and sets BLOCKED', () => {
    expect(isFormulaKernelConfig({ workgroupSize: 64, groups: 2 })).toBe(true);
    expect(isFormulaKernelConfig({ workgroupSize: 64, groups: 2, layout: 'blocked' })).toBe(true);
    expect(isFormulaKernelConfig({ workgroupSize: 64, groups: 2, layout: 'tiled' })).toBe(false);
    expect(isFormulaKernelConfig({ workgroupSize: 64, groups: 2, layout: 'blocked', span: 16 })).toBe(true);
    expect(isFormulaKernelConfig({ workgroupSize: 64, groups: 2, layout: 'blocked', span: 0 })).toBe(false);
    expect(isFormulaKernelConfig({ workgroupSize: 64, groups: 2, span: 16 })).toBe(false); // a span is blocked's
    expect(() => checkFormulaConfig({ workgroupSize: 64, groups: 2, layout: 'tiled' } as never, shape)).toThrow(/strided or blocked/);
    expect(formulaKernelConstants({ workgroupSize: 64, groups: 2 })).toEqual({ WG: 64, BLOCKED: 0, SPAN: 1 });
    expect(formulaKernelConstants({ workgroupSize: 256, groups: 2, layout: 'blocked' })).toEqual({ WG: 256, BLOCKED: 1, SPAN: 1 });
    expect(formulaKernelConstants({ workgroupSize: 64, groups: 2, layout: 'blocked', span: 16 })).toEqual({ WG: 64, BLOCKED: 1, SPAN: 16 });
    expect(describeFormulaConfig({ workgroupSize: 64, groups: 8, layout: 'blocked' })).toBe('64 x 8 blocked');
    expect(describeFormulaConfig({ workgroupSize: 64, groups: 8, layout: 'blocked', span: 16 })).toBe('64 x 8 blocked span 16');
    expect(describeFormulaConfig({ workgroupSize: 64, groups: 8 })).toBe('64 x 8');
  });

  it('tree rows: what the workgroup memory holds, at most the outputs', () => {
    expect(formulaTreeRows(3, 64, 16384)).toBe(3);
    expect(formulaTreeRows(18, 256, 16384)).toBe(16);
    expect(formulaTreeRows(18, 256, 8192)).toBe(8);
    expect(() => formulaTreeRows(2, 256, 512)).toThrow(/workgroup memory/);
  });

  it('the tuning key holds the program hash: another program, another entry', () => {
    expect(programHash('fn a()')).toMatch(/^[0-9a-f]{8}$/);
    expect(programHash('fn a()')).not.toBe(programHash('fn b()'));
    expect(formulaShapeClass('p', 1000, 3)).toEqual({ program: programHash('p'), rowWidth: 3, log2Rows: 10 });
    expect(formulaShapeClass('p', 2 ** 30, 3)).toEqual(formulaShapeClass('p', 2 ** 25, 3));
  });
});

describe('the step passes\' workgroup size', () => {
  it('covers the parameters with a power of two between 32 and 256', () => {
    expect([1, 2, 17, 32, 33, 200, 257, 10_000].map(stepWorkgroupSize)).toEqual([32, 32, 32, 32, 64, 256, 256, 256]);
  });
});
