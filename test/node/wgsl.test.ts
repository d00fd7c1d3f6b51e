// specializeWgsl: `${NAME}` placeholders and `#if ${FLAG}` blocks, on toy sources and on the quad kernel with the
// code linear-quad-codegen.ts emits for it.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { specializeWgsl } from '../../src/gpu/wgsl.ts';
import { quadDefines } from '../../src/gpu/formula/linear-quad-codegen.ts';
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

describe('specializeWgsl on shaders/linear_partials_quad.wgsl with the emitted quad code', () => {
  const source = shader('linear_partials_quad.wgsl');
  const LANES = ['x', 'y', 'z', 'w'];

  for (const d of [1, 3, 16]) {
    it(`D = ${d}: no placeholder left, and every fma reads the row-major element it claims`, () => {
      // y ~ linear(x1..xd): theta = (w_1..w_d, b), so weight j is parameter j and the bias parameter d.
      const layout = { weights: Array.from({ length: d }, (_, j) => j), bias: d };
      const out = specializeWgsl(source, quadDefines(d, layout));
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
      // doubled for the d + 1 parameters (the 2 of d(r²)/dr) and not for the loss, and reduce_rows writes its
      // rows to out + k0 ...: every component exactly once, in order.
      const rounds = [...out.matchAll(/((?:  scratch\[\d+u \* WG \+ t\] = [^\n]+;\n)+)  reduce_rows\(t, (\d+)u, out \+ (\d+)u\);/g)];
      const written: number[] = [];
      for (const round of rounds) {
        const k0 = Number(round[3]);
        const rows = [...round[1].matchAll(/scratch\[(\d+)u \* WG \+ t\] = (2\.0 \* \()?total\[(\d+)\] \+ comp\[(\d+)\]\)?;/g)];
        expect(rows).toHaveLength(Number(round[2]));
        expect(rows.length).toBeLessThanOrEqual(quadTreeRows(d));
        rows.forEach((m, r) => expect([Number(m[1]), Number(m[3]), Number(m[4]), m[2] !== undefined]).toEqual([r, k0 + r, k0 + r, k0 + r <= d]));
        written.push(...rows.map((m) => Number(m[3])));
      }
      expect(written).toEqual(Array.from({ length: d + 2 }, (_, k) => k));
      expect(out.match(/w\[\d+\] = theta\[\d+\];/g)).toHaveLength(d);
    });
  }
});
