// specializeWgsl: `${NAME}` placeholders and `#if ${FLAG}` blocks, on toy sources and the real shaders.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assembleWgsl, specializeWgsl } from '../../src/gpu/wgsl.ts';
import { planLinearGrid } from '../../src/gpu/dispatch.ts';
import { foldBlock, loadWeights, quadBody, recordsQuadBody, reduceGradient, wholeBlockLoop } from '../../src/gpu/passes/linear-quad-codegen.ts';
import { quadTreeRows } from '../../src/gpu/dispatch.ts';

const shader = (path: string) => readFileSync(fileURLToPath(new URL(`../../shaders/${path}`, import.meta.url)), 'utf8');

/** The code a WGSL compiler sees: line comments removed. */
const code = (wgsl: string) => wgsl.replace(/\/\/.*$/gm, '');

describe('specializeWgsl on toy sources', () => {
  it('fills every placeholder, repeated ones included, with numbers, strings and booleans', () => {
    const out = specializeWgsl('const D: u32 = ${D}u;\nconst E = ${D} * ${E};\nfn ${NAME}() {}', { D: 7, E: 2.5, NAME: 'main' });
    expect(out).toBe('const D: u32 = 7u;\nconst E = 7 * 2.5;\nfn main() {}');
  });

  it('leaves text without placeholders unchanged', () => {
    const src = 'fn main() {\n  let a = 1u;\n}\n';
    expect(specializeWgsl(src, {})).toBe(src);
  });

  const conditional = 'a\n#if ${FLAG}\nthen ${X}\n#else\nelse ${X}\n#endif\nz';
  it('#if ${FLAG} true keeps the first branch', () => {
    const out = specializeWgsl(conditional, { FLAG: true, X: 1 });
    expect(out).toContain('then 1');
    expect(out).not.toContain('else');
    expect(out).not.toMatch(/#(if|else|endif)/);
    expect(out.startsWith('a\n')).toBe(true);
    expect(out.endsWith('z')).toBe(true);
  });

  it('#if ${FLAG} false keeps the #else branch', () => {
    const out = specializeWgsl(conditional, { FLAG: false, X: 2 });
    expect(out).toContain('else 2');
    expect(out).not.toContain('then');
    expect(out).not.toMatch(/#(if|else|endif)/);
  });

  it('#if without #else drops the block when false', () => {
    const src = 'x\n#if ${F}\ny\n#endif\nw';
    expect(specializeWgsl(src, { F: false }).replace(/\s+/g, ' ')).toBe('x w');
    expect(specializeWgsl(src, { F: true }).replace(/\s+/g, ' ')).toBe('x y w');
  });

  it('throws naming a placeholder that has no value (and the shader)', () => {
    expect(() => specializeWgsl('const D = ${D}u; const R = ${ROWS}u;', { D: 3 }, 'toy.wgsl')).toThrow(/ROWS/);
    expect(() => specializeWgsl('const D = ${D}u; const R = ${ROWS}u;', { D: 3 }, 'toy.wgsl')).toThrow(/toy\.wgsl/);
    // Also inside a branch that would be dropped: every placeholder must be defined.
    expect(() => specializeWgsl('#if ${F}\n${MISSING}\n#endif', { F: false })).toThrow(/MISSING/);
  });
});

describe('specializeWgsl on shaders/linear_partials.wgsl', () => {
  const source = shader('linear_partials.wgsl');

  for (const [mode, d, wg] of [['lane', 7, 256], ['column', 300, 128]] as const) {
    it(`${mode} mode (D = ${d}, WG = ${wg}) leaves no placeholder or directive`, () => {
      const plan = planLinearGrid(10_000, d, { maxWorkgroupSize: wg, maxWorkgroupsPerDimension: 65535, maxWorkgroupStorageSize: 16384 });
      expect(plan.laneMode).toBe(mode === 'lane');
      const out = specializeWgsl(source, { D: d, ROWS: plan.rowsPerTile, FPT: plan.featuresPerThread, LANE_MODE: plan.laneMode, BLOCK: 8 });
      // No unfilled `${NAME}` anywhere, and no `${` at all in the code the compiler reads.
      expect(out).not.toMatch(/\$\{\w+\}/);
      expect(code(out)).not.toContain('${');
      expect(out).not.toMatch(/^\s*#(if|else|endif)\b/m);
      expect(out).not.toContain('#');
      expect(out).toContain(`const D: u32 = ${d}u;`);
      expect(out).toContain(`const ROWS: u32 = ${plan.rowsPerTile}u;`);
      expect(out).toContain(`const FPT: u32 = ${plan.featuresPerThread}u;`);
      // The right branch survived: lane mode folds lane groups, column mode loops over m < FPT.
      if (mode === 'lane') {
        expect(out).toContain('if (t < LANES)');
        expect(out).not.toContain('for (var m = 0u; m < FPT');
      } else {
        expect(out).not.toContain('if (t < LANES)');
        expect(out).toContain('for (var m = 0u; m < FPT');
      }
      // Assembled with the shared structs, every struct the stage uses is declared.
      const full = assembleWgsl([shader('shared/linear_layout.wgsl')], out);
      for (const s of ['LinearGridUniforms', 'TrainState']) expect(full).toContain(`struct ${s} {`);
    });
  }

  it('contains `const D: u32 = 7u;` for D = 7', () => {
    const out = specializeWgsl(source, { D: 7, ROWS: 292, FPT: 1, LANE_MODE: true, BLOCK: 8 });
    expect(out).toContain('const D: u32 = 7u;');
  });

  it('names the missing placeholder when a define is left out', () => {
    expect(() => specializeWgsl(source, { D: 7, ROWS: 292, LANE_MODE: true, BLOCK: 8 }, 'linear_partials.wgsl')).toThrow(/FPT/);
  });
});

describe('specializeWgsl on shaders/linear_partials_quad.wgsl with the emitted quad code', () => {
  const source = shader('linear_partials_quad.wgsl');
  const LANES = ['x', 'y', 'z', 'w'];

  for (const d of [1, 3, 16]) {
    it(`D = ${d}: no placeholder left, and every fma reads the row-major element it claims`, () => {
      const out = specializeWgsl(source, {
        D: d, S: d, BLOCK: 16, TREE_ROWS: quadTreeRows(d), RECORDS: false, QUAD_BODY: quadBody(d), LOAD_WEIGHTS: loadWeights(d), WHOLE_BLOCK: wholeBlockLoop(d === 1 ? 2 : 1),
        FOLD_BLOCK: foldBlock(d), REDUCE_GRADIENT: reduceGradient(d), FORMULA: false, TAIL_BODY: '',
      });
      expect(code(out)).not.toContain('${');
      expect(out).not.toContain('#');
      expect(out).toContain(`const D: u32 = ${d}u;`);
      expect(out.match(/let v\d+ = x4\[base \+ \d+u\];/g)).toHaveLength(d);
      // Float f of a quad (4 samples x D features, row-major) is vector f / 4, lane f % 4, sample f / D,
      // feature f % D: check each prediction term and each gradient term against that.
      const predict = [...out.matchAll(/p\.([xyzw]) = fma\(v(\d+)\.([xyzw]), w\[(\d+)\], p\.([xyzw])\);/g)];
      const grad = [...out.matchAll(/g\[(\d+)\] = fma\(r\.([xyzw]), v(\d+)\.([xyzw]), g\[(\d+)\]\);/g)];
      expect(predict).toHaveLength(4 * d);
      expect(grad).toHaveLength(4 * d);
      const seen = new Set<number>();
      for (const [, s, v, lane, j, s2] of predict) {
        expect(s2).toBe(s);
        const f = 4 * Number(v) + LANES.indexOf(lane);
        expect(LANES.indexOf(s) * d + Number(j)).toBe(f);
        seen.add(f);
      }
      expect(seen.size).toBe(4 * d);
      for (const [, j, s, v, lane, j2] of grad) {
        expect(j2).toBe(j);
        expect(LANES.indexOf(s) * d + Number(j)).toBe(4 * Number(v) + LANES.indexOf(lane));
      }
      // Each block's d gradient sums, sum_r and sum_rr are folded into compensated totals and cleared (after
      // every whole block, and once after the checked rest); the workgroup trees reduce total + comp for all
      // d + 2 components.
      const folds = [...out.matchAll(/neumaier_add\(total\[(\d+)\], comp\[(\d+)\], (g\[(\d+)\]|sum_r|sum_rr)\)/g)];
      const oneFold = [...Array.from({ length: d }, (_, j) => [`${j}`, `${j}`, `g[${j}]`]), [`${d}`, `${d}`, 'sum_r'], [`${d + 1}`, `${d + 1}`, 'sum_rr']];
      expect(folds.map((m) => [m[1], m[2], m[3]])).toEqual([...oneFold, ...oneFold]);
      expect(out.match(/g\[\d+\] = 0\.0;/g)).toHaveLength(2 * d);
      expect(out.match(/f\.y; sum_rr? = 0\.0;/g)).toHaveLength(4);
      // Rounds of trees side by side: scratch row r of a round starting at k0 holds total[k0 + r] + comp[k0 + r],
      // and reduce_rows writes its rows to out + k0 ...: every component exactly once, in order.
      const rounds = [...out.matchAll(/((?:  scratch\[\d+u \* WG \+ t\] = total\[\d+\] \+ comp\[\d+\];\n)+)  reduce_rows\(t, (\d+)u, out \+ (\d+)u\);/g)];
      const written: number[] = [];
      for (const round of rounds) {
        const k0 = Number(round[3]);
        const rows = [...round[1].matchAll(/scratch\[(\d+)u \* WG \+ t\] = total\[(\d+)\] \+ comp\[(\d+)\]/g)];
        expect(rows).toHaveLength(Number(round[2]));
        expect(rows.length).toBeLessThanOrEqual(quadTreeRows(d));
        rows.forEach((m, r) => expect([Number(m[1]), Number(m[2]), Number(m[3])]).toEqual([r, k0 + r, k0 + r]));
        written.push(...rows.map((m) => Number(m[2])));
      }
      expect(written).toEqual(Array.from({ length: d + 2 }, (_, k) => k));
      expect(out.match(/w\[\d+\] = theta\[\d+\];/g)).toHaveLength(d);
    });
  }
});

describe('specializeWgsl on the RECORDS variant of shaders/linear_partials_quad.wgsl with the emitted records code', () => {
  const source = shader('linear_partials_quad.wgsl');
  const LANES = ['x', 'y', 'z', 'w'];

  it('every standardized element reads its record column; fma chains in quadBody order', () => {
    // 3 features in columns 4, 0, 2 of 5-float records, the target in column 3 (column 1 unused).
    const d = 3;
    const stride = 5;
    const columns = [4, 0, 2, 3];
    const out = specializeWgsl(source, {
      D: d, S: stride, BLOCK: 16, TREE_ROWS: quadTreeRows(d), RECORDS: true, QUAD_BODY: recordsQuadBody(d, stride, columns), LOAD_WEIGHTS: loadWeights(d), WHOLE_BLOCK: wholeBlockLoop(1),
      FOLD_BLOCK: foldBlock(d), REDUCE_GRADIENT: reduceGradient(d), FORMULA: false, TAIL_BODY: '',
    });
    expect(code(out)).not.toContain('${');
    expect(code(out)).toContain('var<storage, read> rec4');
    expect(code(out)).not.toContain('x4');
    expect(code(out)).toContain('let base = q * S;');
    const at = (f: number) => `v${Math.floor(f / 4)}.${LANES[f % 4]}`;
    for (let s = 0; s < 4; s++) {
      for (let j = 0; j < d; j++) expect(out).toContain(`let e${s}_${j} = (${at(s * stride + columns[j])} - mean[${j}]) * inv_std[${j}];`);
    }
    expect(out).toContain(`var r = p - vec4<f32>(${[0, 1, 2, 3].map((s) => `(${at(s * stride + 3)} - y_mean) * y_inv_std`).join(', ')});`);
    const predict = [...out.matchAll(/p\.([xyzw]) = fma\(e(\d)_(\d+), w\[(\d+)\]/g)].map((m) => `${m[1]}${m[2]}${m[3]}${m[4]}`);
    expect(predict).toEqual([0, 1, 2, 3].flatMap((s) => [0, 1, 2].map((j) => `${LANES[s]}${s}${j}${j}`)));
    expect(() => recordsQuadBody(d, stride, [4, 0, 5, 3])).toThrow(/column indices below 5/);
    expect(() => recordsQuadBody(d, stride, [4, 0, 2])).toThrow(/4 column indices/);
  });
});
