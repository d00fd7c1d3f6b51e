// The per-row code of the formula kernel (src/gpu/formula/formula-row-code.ts): products fused into fma,
// the program's names, vec4 or scalar loads. Whether the WGSL is right is the GPU tests' job (every kernel
// against the float64 twin); these pin the shape of what is emitted.
import { describe, expect, it } from 'vitest';
import { compileFormula } from '../../src/formula/model.ts';
import { gradientProgram, normalEquationsProgram } from '../../src/formula/program.ts';
import { parseExpression } from '../../src/formula/parse.ts';
import { formulaRowCode, formulaTripQuads, fusedExpression, rowLoads } from '../../src/gpu/formula/formula-row-code.ts';

const linear4 = compileFormula({ formula: 'y ~ linear()', loss: 'mse' }, { columns: ['f1', 'f2', 'f3', 'f4', 'y'] });

describe('formula row code', () => {
  it('fuses a sum or difference with a product, leaves the rest to the compiler emitter', () => {
    const e = (s: string) => fusedExpression(parseExpression(s));
    expect(e('a*b + c')).toBe('fma(a, b, c)');
    expect(e('c + a*b')).toBe('fma(a, b, c)');
    expect(e('a*b - c')).toBe('fma(a, b, (-c))');
    expect(e('c - a*b')).toBe('fma((-a), b, c)');
    expect(e('(a + b) / c')).toBe('((a + b) / c)');
    expect(e('a^2 + b*c')).toBe('fma(b, c, nabla_sq(a))');
  });

  it('linear(4 columns), mse: as vec4 rows, a fused dot product, every product output accumulated by fma', () => {
    const p = gradientProgram(linear4);
    const { ROW_BODY, QUAD_BODY, FOLD_BODY } = formulaRowCode(p, 'vec4');
    expect(ROW_BODY).toContain('let nabla_v0 = rows_x4[nabla_base + 0u];');
    expect(ROW_BODY).toContain('let x3 = nabla_v0.w;');
    expect(ROW_BODY).toContain('let y_ = rows_y[row];');
    expect(ROW_BODY).toContain('let p4 = params[4];');
    expect(ROW_BODY.match(/fma\(/g)!.length).toBe(3 + 4 + 1); // the dot product, the 4 weight sums, the square
    expect(ROW_BODY).toContain('block_sum[0] = fma(g, x0, block_sum[0]);');
    expect(ROW_BODY).toContain('block_sum[4] = block_sum[4] + g;');
    expect(ROW_BODY).not.toContain('nabla_sample');
    expect(QUAD_BODY.split('\n')).toEqual(['  add_row(row);', '  add_row(row + 1u);', '  add_row(row + 2u);', '  add_row(row + 3u);']);
    expect(FOLD_BODY.match(/neumaier_add/g)!.length).toBe(6);
    expect(formulaRowCode(p, 'scalar').ROW_BODY).toContain('let x2 = rows_x[nabla_base + 2u];');
  });

  it('rows of up to 64 columns and outputs load a quad at once; wider ones a row at a time', () => {
    const p = gradientProgram(linear4);
    expect(rowLoads(p)).toBe('quad');
    expect(formulaTripQuads(p)).toBe(1);
    const { QUAD_BODY, LOAD_PARAMS } = formulaRowCode(p);
    expect(QUAD_BODY).toContain('let nabla_base = (row >> 2u) * 4u;');
    expect(QUAD_BODY).toContain('let nabla_q3 = rows_x4[nabla_base + 3u];');
    const rows = QUAD_BODY.split('\n  {\n').slice(1);
    expect(rows.map((r) => /let x2 = (\S+);/.exec(r)![1])).toEqual(['nabla_q0.z', 'nabla_q1.z', 'nabla_q2.z', 'nabla_q3.z']);
    expect(LOAD_PARAMS.split('\n')).toEqual([0, 1, 2, 3, 4].map((j) => `  params[${j}] = theta[${j}];`));
    const linear = (d: number) => gradientProgram(compileFormula({ formula: 'y ~ linear()', loss: 'mse' }, { columns: [...Array.from({ length: d }, (_, k) => `f${k}`), 'y'] }));
    expect(rowLoads(linear(5))).toBe('quad');
    expect(rowLoads(linear(64))).toBe('quad');
    expect(rowLoads(linear(68))).toBe('vec4');
    expect(rowLoads(linear(67))).toBe('scalar');
    // Four bodies of 171 outputs would be much code to compile for a small share of the work.
    const normal16 = normalEquationsProgram(compileFormula({ formula: 'y ~ linear()', loss: 'mse' }, { columns: [...Array.from({ length: 16 }, (_, k) => `f${k}`), 'y'] }));
    expect(normal16.outputs.length).toBeGreaterThan(66);
    expect(rowLoads(normal16)).toBe('vec4');
  });

  it('narrow rows: a quad loaded as vec4s, its four rows on the lanes in order; a leftover row by element', () => {
    const m = compileFormula({ formula: 'y ~ b1*(1-exp(-b2*x))', loss: 'mse', weights: 'wt' }, { columns: ['x', 'wt', 'y'] });
    const p = gradientProgram(m);
    expect(rowLoads(p)).toBe('quad');
    expect(formulaTripQuads(p)).toBe(2);
    const { ROW_BODY, QUAD_BODY } = formulaRowCode(p);
    // Width 2: rows 0 and 1 in the first vec4, rows 2 and 3 in the second.
    expect(QUAD_BODY).toContain('let nabla_base = (row >> 2u) * 2u;');
    expect(QUAD_BODY).toContain('let nabla_q1 = rows_x4[nabla_base + 1u];');
    const rows = QUAD_BODY.split('  {').slice(1);
    expect(rows).toHaveLength(4);
    expect(rows.map((r) => [/let x0 = (\S+);/.exec(r)![1], /let w = (\S+);/.exec(r)![1], /let y_ = (\S+);/.exec(r)![1]])).toEqual([
      ['nabla_q0.x', 'nabla_q0.y', 'nabla_y.x'], ['nabla_q0.z', 'nabla_q0.w', 'nabla_y.y'],
      ['nabla_q1.x', 'nabla_q1.y', 'nabla_y.z'], ['nabla_q1.z', 'nabla_q1.w', 'nabla_y.w'],
    ]);
    for (const r of rows) for (let k = 0; k < p.outputs.length; k++) expect(r).toContain(`block_sum[${k}] = `);
    expect(ROW_BODY).toContain('let x0 = rows_x4[(nabla_base + 0u) >> 2u][(nabla_base + 0u) & 3u];');
    expect(ROW_BODY).toContain('let y_ = rows_y4[row >> 2u][row & 3u];');
  });

  it('weights and the normal equations: w read after the features, one accumulation per output', () => {
    const m = compileFormula({ formula: 'y ~ b1*(1-exp(-b2*x))', loss: 'mse', weights: 'wt' }, { columns: ['x', 'wt', 'y'] });
    const p = normalEquationsProgram(m);
    expect(rowLoads(p)).toBe('quad');
    expect(formulaTripQuads(p)).toBe(1); // more outputs than two quads' registers hold
    const { ROW_BODY } = formulaRowCode(p, 'scalar');
    expect(ROW_BODY).toContain('let w = rows_x[nabla_base + 1u];');
    for (let k = 0; k < p.outputs.length; k++) expect(ROW_BODY).toContain(`block_sum[${k}] = `);
    expect(() => formulaRowCode(p, 'vec4')).toThrow(/multiple of 4/);
  });
});
