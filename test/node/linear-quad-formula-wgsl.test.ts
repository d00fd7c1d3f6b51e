// shaders/linear_partials_quad.wgsl as linear-quad-codegen.ts emits it for a formula model of the linear
// shape: bound as formula_partials.wgsl, its parameters read where the formula keeps them, and each output
// column holding the sum (and factor) of the gradient program's output of that index.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { QUAD_MAX_WORKGROUP, quadTreeRows } from '../../src/gpu/dispatch.ts';
import { FORMULA_WORKGROUP_SIZES } from '../../src/gpu/formula/formula-grid.ts';
import { loadWeights, quadDefines, quadsPerTrip, reduceGradient, tailBody, trip } from '../../src/gpu/formula/linear-quad-codegen.ts';
import { specializeWgsl } from '../../src/gpu/wgsl.ts';

const shader = (file: string) => readFileSync(fileURLToPath(new URL(`../../shaders/${file}`, import.meta.url)), 'utf8');
const source = shader('linear_partials_quad.wgsl');
const code = (wgsl: string) => wgsl.replace(/\/\/.*$/gm, '');
/** Each resource binding's number and address space (what a bind group made for one kernel must fit in the other). */
const bindings = (wgsl: string) => [...code(wgsl).matchAll(/@group\(0\) @binding\((\d+)\) var<([\w, ]+)>/g)].map((m) => `${m[1]}: ${m[2]}`);

describe('linear_partials_quad.wgsl for a formula of the linear shape', () => {
  // y ~ b + x3*w3 + x1*w1 + x2*w2 style: params (b, w3, w1, w2) over columns (x1, x2, x3).
  const layout = { weights: [2, 3, 1], bias: 0 };
  const d = 3;

  it('binds as formula_partials.wgsl does (an MlpUniforms slot, the same five bindings), with every placeholder filled', () => {
    const out = specializeWgsl(source, quadDefines(d, layout));
    expect(code(out)).not.toContain('${');
    expect(out).not.toMatch(/^#/m);
    expect(code(out)).toContain('var<uniform> mu: MlpUniforms;');
    const generated = specializeWgsl(shader('formula_partials.wgsl'), {
      BLOCK: 64, TREE_ROWS: 1, SCRATCH: 64, TRIP: 1, TWO_A_TRIP: false, X_VEC4: true, Y_VEC4: true, ROW_BODY: '', QUAD_BODY: '', FOLD_BODY: '', LOAD_PARAMS: '', PARTIALS_ROW: 4, PARTIALS_OFFSET: 0,
    });
    expect(bindings(out)).toEqual(['0: uniform', '1: storage, read', '2: storage, read', '3: storage, read', '4: storage, read_write']);
    expect(bindings(out)).toEqual(bindings(generated));
    // The same pipeline constants (formulaKernelConstants): the grid's workgroup size and layout.
    const overrides = (wgsl: string) => [...code(wgsl).matchAll(/^override (\w+)/gm)].map((m) => m[1]);
    expect(overrides(out)).toEqual(['WG', 'BLOCKED', 'SPAN']);
    expect(overrides(generated)).toEqual(overrides(out));
    // Scratch sized in the text, never by the override WG (shared/segmented_sum.wgsl: Naga 29 panics on it).
    for (const wgsl of [out, generated]) expect(code(wgsl)).toMatch(/^var<workgroup> scratch: array<f32, SCRATCH>;/m);
    expect(quadDefines(d, layout).SCRATCH).toBe(QUAD_MAX_WORKGROUP * quadDefines(d, layout).TREE_ROWS);
    expect(Math.max(...FORMULA_WORKGROUP_SIZES)).toBeLessThanOrEqual(QUAD_MAX_WORKGROUP);
    expect(code(out)).toContain('let s = accumulate_tail(first + q, bias, n - 4u * q);');
    expect(code(out)).toContain('let out = group * (D + 2u);');
  });

  it('loads each column weight and the bias from the formula parameter index', () => {
    expect(loadWeights(d, layout).split('\n')).toEqual(['  w[0] = theta[2];', '  w[1] = theta[3];', '  w[2] = theta[1];', '  let bias = theta[0];']);
    const plain = { weights: [0, 1, 2], bias: 3 }; // y ~ linear(x1..x3): theta = (w_1..w_3, b)
    expect(loadWeights(d, plain).split('\n')).toEqual(['  w[0] = theta[0];', '  w[1] = theta[1];', '  w[2] = theta[2];', '  let bias = theta[3];']);
  });

  it('writes output column k from the sum of the parameter at index k: 2 Σ r·x_c, 2 Σ r, then Σ r²', () => {
    const text = reduceGradient(d, layout);
    const columns = new Map<number, string>();
    for (const round of text.matchAll(/((?:  scratch\[\d+u \* WG \+ t\] = [^\n]+;\n)+)  reduce_rows\(t, (\d+)u, out \+ (\d+)u\);/g)) {
      const k0 = Number(round[3]);
      const rows = [...round[1].matchAll(/scratch\[(\d+)u \* WG \+ t\] = ([^;]+);/g)];
      expect(rows).toHaveLength(Number(round[2]));
      expect(rows.length).toBeLessThanOrEqual(quadTreeRows(d));
      for (const m of rows) columns.set(k0 + Number(m[1]), m[2]);
    }
    expect([...columns.keys()].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(columns.get(0)).toBe('2.0 * (total[3] + comp[3])'); // b: Σ r
    expect(columns.get(1)).toBe('2.0 * (total[2] + comp[2])'); // w3: Σ r·x3
    expect(columns.get(2)).toBe('2.0 * (total[0] + comp[0])'); // w1
    expect(columns.get(3)).toBe('2.0 * (total[1] + comp[1])'); // w2
    expect(columns.get(4)).toBe('total[4] + comp[4]'); // J: Σ r²
  });

  it('the tail reads row k of the partial quad element by element, in the quad body order', () => {
    const lines = tailBody(2).split('\n').map((l) => l.trim());
    expect(lines).toEqual([
      'let t0 = x4[(e + 0u) / 4u][(e + 0u) % 4u];', 'let t1 = x4[(e + 1u) / 4u][(e + 1u) % 4u];', 'var p = bias;',
      'p = fma(t0, w[0], p);', 'p = fma(t1, w[1], p);', 'let r = p - y4[q][k];', 'g[0] = fma(r, t0, g[0]);', 'g[1] = fma(r, t1, g[1]);',
    ]);
  });

  it('refuses a layout that is not d weights and a bias, each a distinct parameter', () => {
    expect(() => reduceGradient(2, { weights: [0, 0], bias: 2 })).toThrow(RangeError);
    expect(() => loadWeights(2, { weights: [0, 1], bias: 3 })).toThrow(RangeError);
    expect(() => quadDefines(2, { weights: [0, 1, 2], bias: 3 })).toThrow(RangeError);
  });
});

describe('quads a trip of the block loop', () => {
  it('two at d = 1, one above; a trip adds its quads in order and steps q past them', () => {
    expect([1, 2, 4, 16, 64].map(quadsPerTrip)).toEqual([2, 1, 1, 1, 1]);
    const two = trip(2).split('\n');
    expect(two.filter((l) => l.includes('accumulate_quad'))).toEqual([
      '      let s0 = accumulate_quad(first + q, bias);', '      let s1 = accumulate_quad(first + q + 1u * inner, bias);',
    ]);
    expect(two.at(-1)).toBe('      q = q + 2u * inner;');
    expect(trip(1).split('\n').filter((l) => l.includes('accumulate_quad'))).toHaveLength(1);
    expect(() => trip(3)).toThrow(/must divide 16/);
    const stage = quadDefines(1, { weights: [0], bias: 1 });
    expect([stage.QUADS_PER_TRIP, stage.TRIP]).toEqual([2, trip(2)]);
  });
});
