// Formulas outside their functions' domains on the GPU: WGSL leaves log, sqrt and pow there indeterminate
// (SwiftShader's log of a negative number is a finite number), so the generated kernel spells them through
// helpers that give what the float64 twin gives, NaN or ±∞ (src/formula/functions.ts, WGSL_HELPERS). A row
// where the formula is undefined must make the loss not finite, and training must stop as diverged with the
// last good parameters, as on the CPU; where the rule's limit is finite (d/dp x^p at x = 0) the GPU agrees
// with the twin.
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { CpuFormulaEngine } from '../../src/cpu/formula-engine.ts';
import { GpuFormulaEngine } from '../../src/gpu/formula/gpu-formula-engine.ts';
import { compileFormula } from '../../src/formula/model.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { FORMULA_REL_TOL, checkFormulaResult, formulaReference } from '../../src/gpu/formula/formula-check.ts';
import { memoryRowStream } from '../../src/gpu/formula/formula-stream.ts';

const N = 600;
const xs = Float32Array.from({ length: N }, (_, i) => 1 + (9 * i) / (N - 1));

function data(y: (x: number) => number) {
  return { x: xs, y: Float32Array.from(xs, y), n: N, d: 1 };
}

describe('GPU formulas outside their domains', () => {
  it.each([
    ['y ~ 10*log(x - a)', -1, 5.5],
    ['y ~ b*sqrt(x - a)', -1, 5.5],
    ['y ~ b*(x - a)^p', -1, 5.5],
    ['y ~ log1p(x - a)', -1, 5.5],
    ['y ~ b*huber(x - 5, a)', 1, -1],
  ])('%s: not finite where some rows leave the domain, as on the twin', async (formula, good, bad) => {
    const gpu = await testGpu();
    const model = compileFormula({ formula }, { columns: ['x', 'y'] });
    const start = Float64Array.from(model.params, (p) => (p === 'a' ? good : p === 'p' ? 1.5 : 1));
    const d = data((x) => 10 * Math.log(x + 1) + Math.sin(7 * x));
    const engine = await GpuFormulaEngine.create(gpu, model, d, start, { tuning: false });
    const twin = new CpuFormulaEngine(model, d, start);
    try {
      const at = Float64Array.from(model.params, (p) => (p === 'a' ? bad : p === 'p' ? 1.5 : 1));
      expect(Number.isFinite((await twin.lossAndGradient(at)).loss)).toBe(false);
      expect(Number.isFinite((await engine.lossAndGradient(at)).loss)).toBe(false);
    } finally {
      engine.dispose();
      twin.dispose();
    }
  });

  it('training that steps outside the domain stops as diverged with the last good parameters, as on the CPU', async () => {
    const gpu = await testGpu();
    const model = compileFormula({ formula: 'y ~ 10*log(x - a)' }, { columns: ['x', 'y'] });
    const d = data((x) => 10 * Math.log(x + 1) + Math.sin(7 * x));
    const start = Float64Array.of(-1);
    const engine = await GpuFormulaEngine.create(gpu, model, d, start, { tuning: false });
    const twin = new CpuFormulaEngine(model, d, start);
    const options = { lr: 1, maxEpochs: 20, optimizer: optimizerConfig({ kind: 'sgd' }) };
    try {
      const cpu = await twin.train(options);
      const got = await engine.train(options);
      expect(cpu.stopReason).toBe('diverged');
      expect(got.stopReason).toBe('diverged');
      expect(got.divergedAtEpoch).toBe(cpu.divergedAtEpoch);
      expect(Number.isFinite(got.loss)).toBe(true);
      expect(got.theta[0]).toBeCloseTo(cpu.theta[0], 4);
    } finally {
      engine.dispose();
      twin.dispose();
    }
  });

  it('a comparison of float32 data with a decimal literal takes the same branch as the twin (the creation check passes)', async () => {
    const gpu = await testGpu();
    const z = Float32Array.from({ length: N }, (_, i) => [0.1, 0.2, 0.3][i % 3]);
    const d = { x: z, y: Float32Array.from(z, (v) => (v <= Math.fround(0.1) ? 5 : 1)), n: N, d: 1 };
    for (const formula of ['y ~ c*ifle(z, 0.1, 1, 0) + a', 'y ~ c*sign(z - 0.1) + a', 'y ~ c*eq(z, 0.1) + a']) {
      const model = compileFormula({ formula }, { columns: ['z', 'y'] });
      const at = Float64Array.of(0.5, 2);
      const engine = await GpuFormulaEngine.create(gpu, model, d, at, { tuning: false });
      try {
        const got = await engine.lossAndGradient(at);
        expect(checkFormulaResult([...got.grad, got.loss], formulaReference(model, at, d, { start: 0, rows: N }), model.params, FORMULA_REL_TOL), formula).toBeNull();
      } finally {
        engine.dispose();
      }
    }
  });

  it('d/dp x^p on rows where x = 0 is the twin\'s 0, not NaN', async () => {
    const gpu = await testGpu();
    const model = compileFormula({ formula: 'y ~ a*x^p' }, { columns: ['x', 'y'] });
    const x = Float32Array.from({ length: N }, (_, i) => (i % 5 === 0 ? 0 : i / N));
    const d = { x, y: Float32Array.from(x, (v) => 2 * v ** 1.3), n: N, d: 1 };
    const at = Float64Array.of(1.5, 1.2);
    const engine = await GpuFormulaEngine.create(gpu, model, d, at, { tuning: false });
    try {
      const got = await engine.lossAndGradient(at);
      const flat = [...got.grad, got.loss];
      expect(flat.every(Number.isFinite)).toBe(true);
      expect(checkFormulaResult(flat, formulaReference(model, at, d, { start: 0, rows: N }), model.params, FORMULA_REL_TOL)).toBeNull();
    } finally {
      engine.dispose();
    }
  });

  it('the cauchy loss is finite where (r/c)² overflows float32 (|r/c| > 1.8e19), and agrees with the twin', async () => {
    const gpu = await testGpu();
    const model = compileFormula({ formula: 'y ~ a*x + b', loss: 'cauchy:2' }, { columns: ['x', 'y'] });
    // Every seventh row an outlier 1e25 away: ln(1 + (r/c)²) there is about 113, and (r/c)² ~ 2.5e49 in float32 is ∞.
    const d = data((x) => (Math.round(x * 100) % 7 === 0 ? 1e25 : 3 * x + 1));
    const at = Float64Array.of(2.5, 0.5);
    const engine = await GpuFormulaEngine.create(gpu, model, d, at, { tuning: false });
    try {
      const got = await engine.lossAndGradient(at);
      const flat = [...got.grad, got.loss];
      expect(flat.every(Number.isFinite)).toBe(true);
      expect(got.loss).toBeGreaterThan(1);
      expect(checkFormulaResult(flat, formulaReference(model, at, d, { start: 0, rows: N }), model.params, FORMULA_REL_TOL)).toBeNull();
    } finally {
      engine.dispose();
    }
  });

  it('a start that is not finite streamed names its first bad row, counted from the stream\'s first', async () => {
    const gpu = await testGpu();
    const model = compileFormula({ formula: 'y ~ log(a*x + b)' }, { columns: ['x', 'y'] });
    const x = Float32Array.from({ length: 16 }, (_, i) => (i === 10 ? 0 : i === 13 ? -2 : i + 1));
    const d = { x, y: Float32Array.from(x, (v) => 2 * v), n: 16, d: 1 };
    const start = Float64Array.of(1, 0);
    const options = { lr: 0.1, maxEpochs: 3, optimizer: optimizerConfig({ kind: 'sgd' }) };
    const streamed = await GpuFormulaEngine.createStreamed(gpu, model, memoryRowStream(d, 4), start, { tuning: false });
    try {
      await expect(streamed.train(options)).rejects.toThrow(/initial parameters.*the model is not finite on row 11 \(yhat = -Infinity.*; x = 0, y = 0\)/);
    } finally {
      streamed.dispose();
    }
  });
});
