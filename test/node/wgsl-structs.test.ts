// Every struct and enum the host packs or reads must match its WGSL declaration. test/node/uniforms.test.ts
// checks the model-engine uniforms (MlpUniforms, GemmUniforms, OptimStep, TrainControl); this file checks the
// rest (SurfaceUniforms, ReadUniforms), the enum codes shared with TypeScript (ACT_*, KIND_*), and that no
// struct declared under shaders/ is left out of either file.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { packSurfaceUniforms } from '../../src/gpu/passes/loss-surface-pass.ts';
import { ACTIVATION_CODES } from '../../src/models/network.ts';
import { OPTIMIZER_CODES } from '../../src/optim/config.ts';
import { packReadUniforms } from '../../bench/suite/read-plan.ts';
import { readStruct as read, wgslStruct } from '../wgsl-layout.ts';

const SHADERS = fileURLToPath(new URL('../../shaders/', import.meta.url));
const shader = (file: string) => readFileSync(`${SHADERS}${file}`, 'utf8');
/** The code a WGSL compiler sees: line comments removed. */
const code = (wgsl: string) => wgsl.replace(/\/\/.*$/gm, '');
const allShaders = () => [
  ...readdirSync(SHADERS).filter((f) => f.endsWith('.wgsl')),
  ...readdirSync(`${SHADERS}shared`).filter((f) => f.endsWith('.wgsl')).map((f) => `shared/${f}`),
].map((file) => ({ file, source: shader(file) }));

/** `const PREFIX_NAME: u32 = Nu;` declarations of a source, as { name: N }. */
function wgslConstants(source: string, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of source.matchAll(new RegExp(`const\\s+(${prefix}\\w+)\\s*:\\s*u32\\s*=\\s*(\\d+)u;`, 'g'))) out[m[1]] = Number(m[2]);
  return out;
}

describe('host packing matches the remaining WGSL structs', () => {
  it('SurfaceUniforms <- packSurfaceUniforms: 48 bytes, u32 and f32 fields in struct order', () => {
    const s = wgslStruct('SurfaceUniforms', shader('shared/loss_surface_layout.wgsl'));
    expect(s.size).toBe(48);
    const buf = packSurfaceUniforms(1000, 3, 2, 17, { w0: -1.5, b0: 0.25, dw: 0.125, db: 0.5, nx: 40, ny: 30 });
    expect(buf.byteLength).toBe(s.size);
    expect(read(buf, s)).toEqual({
      n: 1000, d: 3, k: 2, num_groups: 17, w0: -1.5, b0: 0.25, dw: 0.125, db: 0.5, nx: 40, ny: 30, inv_n: Math.fround(1 / 1000), _pad: 0,
    });
  });

  it('ReadUniforms <- packReadUniforms (bench read sweep): count, num_groups, groups_x, zero pad', () => {
    const s = wgslStruct('ReadUniforms', shader('read_bandwidth.wgsl'));
    expect(s.size).toBe(16);
    expect(read(packReadUniforms(1 << 20, 96, 48), s)).toEqual({ count: 1 << 20, num_groups: 96, groups_x: 48, _pad: 0 });
  });
});

describe('enum codes shared by WGSL and TypeScript', () => {
  it('ACT_* in mlp_layout.wgsl equal ACTIVATION_CODES', () => {
    const wgsl = wgslConstants(shader('shared/mlp_layout.wgsl'), 'ACT_');
    expect(wgsl).toEqual(Object.fromEntries(Object.entries(ACTIVATION_CODES).map(([k, v]) => [`ACT_${k.toUpperCase()}`, v])));
  });

  it('no shader keeps a HEAD code: mlp_head.wgsl picks its variant (generated loss or ce) by its text', () => {
    expect(allShaders().filter(({ source }) => /\bHEAD(_\w+)?\b/.test(code(source))).map((s) => s.file)).toEqual([]);
  });

  it('KIND_* in optim_layout.wgsl equal OPTIMIZER_CODES, and optim_rule.wgsl branches on them by name', () => {
    const wgsl = wgslConstants(shader('shared/optim_layout.wgsl'), 'KIND_');
    expect(wgsl).toEqual(Object.fromEntries(Object.entries(OPTIMIZER_CODES).map(([k, v]) => [`KIND_${k.toUpperCase()}`, v])));
    const update = code(shader('shared/optim_rule.wgsl'));
    expect(update).not.toMatch(/KIND [!=]= \d/);
    const named = new Set([...update.matchAll(/KIND [!=]= (KIND_\w+)/g)].map((m) => m[1]));
    expect([...named].sort()).toEqual(['KIND_ADAMW', 'KIND_MOMENTUM', 'KIND_NESTEROV', 'KIND_SGD']);
  });
});

describe('coverage', () => {
  it('every struct declared under shaders/ is checked here or in uniforms.test.ts', () => {
    const checkedElsewhere = ['MlpUniforms', 'GemmUniforms', 'OptimStep', 'TrainControl', 'FoldStep'];
    const checkedHere = ['SurfaceUniforms', 'ReadUniforms'];
    const uniformsTest = readFileSync(fileURLToPath(new URL('./uniforms.test.ts', import.meta.url)), 'utf8');
    for (const name of checkedElsewhere) expect(uniformsTest).toContain(`wgslStruct('${name}'`);
    const declared = allShaders().flatMap(({ source }) => [...source.matchAll(/^struct\s+(\w+)/gm)].map((m) => m[1]));
    expect([...new Set(declared)].sort()).toEqual([...checkedElsewhere, ...checkedHere].sort());
  });
});
