// The per-row code of the formula kernel (src/gpu/formula/formula-row-code.ts): products fused into fma,
// the program's names, vec4 or scalar loads. Whether the WGSL is right is the GPU tests' job (every kernel
// against the float64 twin); these pin the shape of what is emitted.
import { describe, expect, it } from 'vitest';
import { compileFormula } from '../../src/formula/model.ts';
import { gradientProgram, normalEquationsProgram } from '../../src/formula/program.ts';
import { parseExpression } from '../../src/formula/parse.ts';
import { formulaRowCode, fusedExpression, rowsAsVec4 } from '../../src/gpu/formula/formula-row-code.ts';

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

  it('linear(4 columns), mse: vec4 loads, a fused dot product, every product output accumulated by fma', () => {
    const p = gradientProgram(linear4);
    expect(rowsAsVec4(p)).toBe(true);
    const { ROW_BODY, FOLD_BODY } = formulaRowCode(p, true);
    expect(ROW_BODY).toContain('let nabla_v0 = rows_x4[nabla_base + 0u];');
    expect(ROW_BODY).toContain('let x3 = nabla_v0.w;');
    expect(ROW_BODY).toContain('let y_ = rows_y[row];');
    expect(ROW_BODY.match(/fma\(/g)!.length).toBe(3 + 4 + 1); // the dot product, the 4 weight sums, the square
    expect(ROW_BODY).toContain('block_sum[0] = fma(g, x0, block_sum[0]);');
    expect(ROW_BODY).toContain('block_sum[4] = block_sum[4] + g;');
    expect(ROW_BODY).not.toContain('nabla_sample');
    expect(FOLD_BODY.match(/neumaier_add/g)!.length).toBe(6);
    expect(formulaRowCode(p).ROW_BODY).toContain('let x2 = rows_x[nabla_base + 2u];');
  });

  it('weights and the normal equations: w read after the features, one accumulation per output', () => {
    const m = compileFormula({ formula: 'y ~ b1*(1-exp(-b2*x))', loss: 'mse', weights: 'wt' }, { columns: ['x', 'wt', 'y'] });
    const p = normalEquationsProgram(m);
    expect(rowsAsVec4(p)).toBe(false);
    const { ROW_BODY } = formulaRowCode(p);
    expect(ROW_BODY).toContain('let w = rows_x[nabla_base + 1u];');
    for (let k = 0; k < p.outputs.length; k++) expect(ROW_BODY).toContain(`block_sum[${k}] = `);
    expect(() => formulaRowCode(p, true)).toThrow(/multiple of 4/);
  });
});
