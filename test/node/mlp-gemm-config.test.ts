// The layer products' kernel configurations as data (src/gpu/models/gemm-blocked.ts) and the pure parts of
// their tuning (gemm-tuning.ts): the unrolled WGSL, the grid, the config check a cached table passes
// through, the candidate list and the float64 reference's bound. The GPU side is test/gpu/models-gemm-tuning.test.ts.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { blockedGemmGrid, blockedGemmItems, blockedGemmWgsl, gemmConfigName, isGemmConfig, TILED_GEMM, validateGemmConfig, type BlockedGemmConfig } from '../../src/gpu/models/gemm-blocked.ts';
import { checkGemm, gemmCandidates, gemmReference, layerProblems, problemUniforms } from '../../src/gpu/models/gemm-tuning.ts';
import { GEMM_BACKPROP, GEMM_FORWARD, GEMM_WEIGHTS, assembleMlpWgsl, GEMM_PIECES, MLP_PIECES, uniformProducts } from '../../src/gpu/models/mlp-passes.ts';
import { planMlp } from '../../src/gpu/models/mlp-plan.ts';
import { mlpModel } from '../../src/models/mlp.ts';

const source = readFileSync(fileURLToPath(new URL('../../shaders/mlp_gemm_blocked.wgsl', import.meta.url)), 'utf8');
const code = (wgsl: string) => wgsl.replace(/\/\/.*$/gm, '');
const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;
const LENGTHS = { a: 4096 * 64, b: 85002, c: 4096 * 256, aux: 85002 };
const blocked = (o: Partial<BlockedGemmConfig> = {}): BlockedGemmConfig => ({ kernel: 'blocked', rm: 8, rn: 4, quad: false, wg: 64, groups: 8, ...o });

describe('blocked product kernel: unrolled WGSL', () => {
  it('one accumulator per row and vec4 of columns, one load per row (quad: per four rows) and column', () => {
    for (const c of [blocked(), blocked({ rm: 4, rn: 8 }), blocked({ rm: 8, rn: 4, quad: true }), blocked({ rm: 32, rn: 4, quad: true })]) {
      const wgsl = code(blockedGemmWgsl(source, c, LENGTHS));
      expect(wgsl).toContain(`var<storage, read> a: array<f32, ${4096 * 64}>;`);
      expect(wgsl).toContain(`var<storage, read_write> c: array<f32, ${4096 * 256}>;`);
      expect(wgsl, gemmConfigName(c)).not.toMatch(/\$\{/);
      expect(count(wgsl, /var acc\d+_\d+ = vec4<f32>\(\);/g)).toBe(c.rm * (c.rn / 4));
      expect(count(wgsl, /let al\d+ = a\[/g)).toBe(c.quad ? c.rm / 4 : c.rm);
      expect(count(wgsl, /b\[bc\d+ \+ kb\]/g)).toBe(c.rn);
      expect(count(wgsl, /store4\(/g) - 1).toBe(c.rm * (c.rn / 4)); // the calls, less the definition
      expect(count(wgsl, /quadBroadcast/g)).toBe(c.quad ? c.rm : 0);
      expect(wgsl.includes('enable subgroups;')).toBe(c.quad);
      expect(wgsl).not.toMatch(/fma\(/); // multiply then add: see blockedGemmWgsl
    }
  });

  it('assembleMlpWgsl puts the stage\'s directives before the shared pieces, then the shared epilogue once', () => {
    const out = assembleMlpWgsl(blockedGemmWgsl(source, blocked({ quad: true }), LENGTHS), GEMM_PIECES);
    expect(out.indexOf('enable subgroups;')).toBe(0);
    expect(out.indexOf('diagnostic(off, subgroup_uniformity);')).toBeLessThan(out.indexOf('struct GemmUniforms'));
    expect(count(out, /\bfn store\(/g)).toBe(1); // shaders/shared/gemm_epilogue.wgsl, in neither stage file
    expect(assembleMlpWgsl('fn main() {}', MLP_PIECES).endsWith('\nfn main() {}')).toBe(true);
    expect(assembleMlpWgsl('fn main() {}', MLP_PIECES)).not.toMatch(/\bfn store\(/); // only the products get the epilogue
  });
});

describe('blocked product kernel: grid and configuration', () => {
  it('items are row blocks x column blocks (of a unit) x splits; the grid never exceeds what they need', () => {
    expect(blockedGemmItems(blocked(), 70, 37, 1)).toBe(9 * 10);
    expect(blockedGemmItems(blocked({ quad: true }), 70, 37, 3)).toBe(9 * 3 * 3);
    expect(blockedGemmGrid(blocked({ groups: 8 }), 4096, 256, 1, 65535)).toEqual({ x: 8, y: 1, z: 1 });
    expect(blockedGemmGrid(blocked({ groups: 4096 }), 64, 16, 1, 65535)).toEqual({ x: 1, y: 1, z: 1 }); // 32 items, one workgroup
    expect(blockedGemmGrid(blocked({ groups: 4096, wg: 4 }), 4096, 4096, 1, 1000)).toEqual({ x: 820, y: 5, z: 1 }); // 4096 folded: 5 rows of 820
  });

  it('refuses what the kernel cannot run, and isGemmConfig checks a table entry the same way', () => {
    expect(() => validateGemmConfig(blocked({ rn: 6 }))).toThrow(/rn 6/);
    expect(() => validateGemmConfig(blocked({ rm: 6, quad: true }))).toThrow(/rm 6/);
    expect(() => validateGemmConfig(blocked({ rm: 32, rn: 8 }))).toThrow(/exceeds 128 accumulators/);
    expect(() => validateGemmConfig(blocked({ wg: 66 }))).toThrow(/workgroup size 66/);
    expect(() => blockedGemmWgsl(source, blocked(), { ...LENGTHS, aux: 0 })).toThrow(/operand aux: length 0/);
    expect(isGemmConfig(blocked())).toBe(true);
    expect(isGemmConfig(TILED_GEMM)).toBe(true);
    expect(isGemmConfig({ kernel: 'tiled', extra: 1 })).toBe(false);
    expect(isGemmConfig({ ...blocked(), quad: 'yes' })).toBe(false);
    expect(isGemmConfig({ ...blocked(), rm: 0 })).toBe(false);
    expect(isGemmConfig(null)).toBe(false);
  });

  it('candidates: valid, the same list with and without subgroups less the quad ones, tiled last', () => {
    const all = gemmCandidates(true);
    const plain = gemmCandidates(false);
    for (const c of all) expect(isGemmConfig(c), gemmConfigName(c)).toBe(true);
    expect(plain).toEqual(all.filter((c) => c.kernel === 'tiled' || !c.quad));
    expect(all.at(-1)).toEqual(TILED_GEMM);
  });
});

describe('tuning problems and their float64 reference', () => {
  it('a layer\'s three products read theta and the activations with the strides mlp-passes.ts packs', () => {
    const c = mlpModel(64, [256], 'relu', 'ce', 10);
    const plan = planMlp(c, 4096, { maxWorkgroupSize: 256, maxWorkgroupsPerDimension: 65535, maxWorkgroupStorageSize: 16384 }, 2 ** 30);
    const p = layerProblems(plan, 0, 1, 1024);
    expect(p.forward).toEqual({ mode: GEMM_FORWARD, act: 1, m: 1024, n: 256, k: 64, kSplit: 64 });
    expect(p.backprop).toEqual({ mode: GEMM_BACKPROP, act: 1, m: 1024, n: 64, k: 256, kSplit: 256 });
    expect(p.weights).toEqual({ mode: GEMM_WEIGHTS, act: 0, m: 256, n: 64, k: 1024, kSplit: 256 });
    expect(layerProblems(plan, 1, 1, 1024).forward.act).toBe(0); // the logits: identity
    expect(problemUniforms(p.forward)).toMatchObject({ aSm: 64, aSk: 1, bSk: 1, bSn: 64, auxBase: 64 * 256 });
    expect(problemUniforms(p.weights)).toMatchObject({ aSm: 1, aSk: 256, bSk: 64, bSn: 1, cSplit: 256 * 64 });
  });

  it('the bound admits float32 rounding and refuses a dropped term', () => {
    const p = { mode: GEMM_WEIGHTS, act: 0, m: 5, n: 3, k: 300, kSplit: 256 };
    const ref = gemmReference(p, 3);
    expect(ref.want.length).toBe(2 * 5 * 3);
    // float32 sums in ascending k, as a kernel makes them
    const u = problemUniforms(p);
    const f32 = new Float32Array(ref.want.length);
    for (let s = 0; s < 2; s++) for (let i = 0; i < 5; i++) for (let j = 0; j < 3; j++) {
      let acc = 0;
      for (let k = s * 256; k < Math.min(300, s * 256 + 256); k++) acc = Math.fround(acc + Math.fround(ref.a[i * u.aSm + k * u.aSk] * ref.b[k * u.bSk + j * u.bSn]));
      f32[s * u.cSplit + i * u.cSm + j] = acc;
    }
    expect(checkGemm(f32, ref)).toBeNull();
    const dropped = f32.slice();
    dropped[7] -= Math.fround(ref.a[2 * u.aSm + 255 * u.aSk] * ref.b[255 * u.bSk + 1 * u.bSn]);
    expect(checkGemm(dropped, ref)).toMatch(/^1 of 30 values wrong: C\[7\]/);
    expect(checkGemm(new Float32Array(30).fill(NaN), ref)).toMatch(/^30 of 30/);
  });

  it('uniformProducts: the rule (tiled where both sides >= 32) or one kernel everywhere', () => {
    const layers = [{ fanIn: 64, fanOut: 256 }, { fanIn: 256, fanOut: 10 }];
    expect(uniformProducts(layers, 'heuristic').map((l) => l.forward.kernel)).toEqual(['tiled', 'simple']);
    expect(uniformProducts(layers, blocked()).every((l) => l.weights === l.forward && l.forward.kernel === 'blocked')).toBe(true);
  });
});
