// The generated formula kernels (src/gpu/formula/) against the float64 twin (CpuFormulaEngine) on the same
// float32 rows and float32-rounded parameters. Tolerance: FORMULA_REL_TOL (1e-4, its derivation in
// src/gpu/formula/formula-check.ts) of each component's mean |term|, the scale its float32 error grows
// with; the measured error is printed (in units of that scale).
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { CpuFormulaEngine } from '../../src/cpu/formula-engine.ts';
import { GpuFormulaEngine, FormulaKernelError } from '../../src/gpu/formula/gpu-formula-engine.ts';
import { checkFormulaResult, formulaError, formulaReference } from '../../src/gpu/formula/formula-check.ts';
import { TuningCache } from '../../src/gpu/tuning/cache.ts';
import type { FormulaKernelConfig } from '../../src/gpu/formula/formula-grid.ts';
import { CASES, setupCase } from '../formula-cases.ts';

describe('GPU formula gradient vs the float64 twin', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const gpu = await testGpu();
      const { model, data, start, at } = setupCase(c);
      const engine = await GpuFormulaEngine.create(gpu, model, data, start, { tuning: false });
      const twin = new CpuFormulaEngine(model, data, start);
      try {
        engine.fillOutputs(NaN);
        const got = await engine.lossAndGradient(at);
        const want = await twin.lossAndGradient(Float64Array.from(at, Math.fround));
        const ref = formulaReference(model, at, data, { start: 0, rows: data.n });
        const flat = [...got.grad, got.loss];
        const err = formulaError(flat, ref);
        console.info(`${c.name} n=${data.n} ${JSON.stringify(engine.kernel.config)}: max |error| / mean |term| = ${err.toExponential(2)}`);
        expect(checkFormulaResult(flat, ref, model.params)).toBeNull();
        // The reference is the twin's own sums.
        for (let j = 0; j < model.params.length; j++) expect(ref.mean[j]).toBeCloseTo(want.grad[j], 12);
      } finally {
        engine.dispose();
        twin.dispose();
      }
    });
  }

  it('tunes the grid per adapter and program, validating every candidate; a second engine takes it from the table', async () => {
    const gpu = await testGpu();
    const { model, data, start, at } = setupCase(CASES[2]);
    const cache = new TuningCache();
    const first = await GpuFormulaEngine.create(gpu, model, data, start, { tuning: cache });
    try {
      expect(first.kernel.source).toBe('tuned');
      const trials = first.kernel.result!.trials;
      console.info(`tuned ${JSON.stringify(first.kernel.config)}: ${trials.map((t) => `${t.config.workgroupSize}x${t.config.groups} ${t.ms?.toFixed(2) ?? t.rejected}`).join(', ')}`);
      expect(trials.every((t) => !t.rejected || t.rejected.startsWith('skipped'))).toBe(true);
      const second = await GpuFormulaEngine.create(gpu, model, data, start, { tuning: cache });
      expect(second.kernel.source).toBe('table');
      expect(second.kernel.config).toEqual(first.kernel.config);
      const a = await first.lossAndGradient(at);
      const b = await second.lossAndGradient(at);
      expect([...b.grad, b.loss]).toEqual([...a.grad, a.loss]); // same grid: the same bits
      second.dispose();
    } finally {
      first.dispose();
    }
  });

  it('is bit-identical when rerun, and any grid agrees within the tolerance', async () => {
    const gpu = await testGpu();
    const { model, data, start, at } = setupCase(CASES[1]);
    const ref = formulaReference(model, at, data, { start: 0, rows: data.n });
    const grids: FormulaKernelConfig[] = [
      { workgroupSize: 64, groups: 1 }, { workgroupSize: 64, groups: 13 }, { workgroupSize: 256, groups: 300 },
      { workgroupSize: 64, groups: 1, layout: 'blocked' }, { workgroupSize: 64, groups: 13, layout: 'blocked' }, { workgroupSize: 256, groups: 300, layout: 'blocked' },
      { workgroupSize: 64, groups: 3, layout: 'blocked', span: 16 }, { workgroupSize: 64, groups: 13, layout: 'blocked', span: 5 },
    ];
    for (const kernel of grids) {
      const engine = await GpuFormulaEngine.create(gpu, model, data, start, { kernel });
      try {
        const a = await engine.lossAndGradient(at);
        engine.fillOutputs(NaN);
        const b = await engine.lossAndGradient(at);
        expect([...b.grad, b.loss]).toEqual([...a.grad, a.loss]);
        console.info(`${JSON.stringify(kernel)}: max |error| / mean |term| = ${formulaError([...a.grad, a.loss], ref).toExponential(2)}`);
        expect(checkFormulaResult([...a.grad, a.loss], ref, model.params)).toBeNull();
      } finally {
        engine.dispose();
      }
    }
  });

  it('a wrong generated kernel is an error at creation, never a silent fallback', async () => {
    const gpu = await testGpu();
    const { model, data, start } = setupCase(CASES[0]);
    const { formulaPartialsWgsl } = await import('../../src/gpu/formula/formula-passes.ts');
    const { gradientProgram } = await import('../../src/formula/program.ts');
    const good = formulaPartialsWgsl(gradientProgram(model), 64, gpu.device.limits.maxComputeWorkgroupStorageSize);
    // Drops the last quad of every thread's share: a plausible off-by-one.
    const bad = good.replace('q < whole; q = q + step)', 'q + step < whole; q = q + step)');
    expect(bad).not.toBe(good);
    for (const kernel of [{ layout: 'strided' }, { layout: 'blocked' }, { layout: 'blocked', span: 16 }] as const) {
      await expect(GpuFormulaEngine.create(gpu, model, data, start, { kernel: { workgroupSize: 64, groups: 4, ...kernel }, code: bad })).rejects.toThrow(FormulaKernelError);
    }
  });
});
