// A linear model wider than the quad kernel takes (D > 64), with the compiler's specialisations off, runs the
// generated kernel, whose sum over the columns
// is split into lets (src/formula/program.ts, MAX_LET_DEPTH): without the split, Tint refused the WGSL of
// linear(128 columns) ("maximum parser recursive depth reached"). Against the float64 twin with the tolerance
// of every formula kernel (FORMULA_REL_TOL of each component's mean |term|, src/gpu/formula/formula-check.ts).
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { GpuFormulaEngine } from '../../src/gpu/formula/gpu-formula-engine.ts';
import { checkFormulaResult, formulaError, formulaReference } from '../../src/gpu/formula/formula-check.ts';
import { linearFormulaModel } from '../../src/models/linear-formula.ts';
import { mulberry32 } from '../data-gen.ts';

describe('wide linear models on the GPU', () => {
  it('linear(130 columns): the generated kernel builds and agrees with the float64 twin', async () => {
    const d = 130;
    const n = 1_001;
    const rand = mulberry32(17);
    const x = Float32Array.from({ length: n * d }, () => rand() * 2 - 1);
    const y = Float32Array.from({ length: n }, () => rand() * 4 - 2);
    const model = linearFormulaModel(d);
    const at = Float64Array.from({ length: d + 1 }, () => Math.fround((rand() - 0.5) / 8));
    const engine = await GpuFormulaEngine.create(await testGpu(), model, { x, y, n, d }, at, { tuning: false, specialize: false });
    try {
      expect(engine.kernelKind).toBe('generated');
      const got = await engine.lossAndGradient(at);
      const flat = [...got.grad, got.loss];
      const ref = formulaReference(model, at, { x, y, n, d }, { start: 0, rows: n });
      console.info(`linear(${d}) n=${n}: max |error| / mean |term| = ${formulaError(flat, ref).toExponential(2)}`);
      expect(checkFormulaResult(flat, ref, model.params)).toBeNull();
    } finally {
      engine.dispose();
    }
  }, 240_000);
});
