// Formula models over streamed rows on the GPU (GpuFormulaEngine.createStreamed: one chunk resident, the
// model engine's streamed program) and in-memory rows larger than one storage binding (run as a stream of
// slices), against the float64 twin over all the rows. Tolerances: the gradient and the normal equations
// within FORMULA_REL_TOL of each output's mean |term| (formula-check.ts: a chunked evaluation adds one
// float64 combination per chunk, nothing in float32), training trajectories 1e-4 relative as in
// formula-train.test.ts, the twin cutting the same mini-batches inside the same chunks (chunkRows).
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { CpuFormulaEngine } from '../../src/cpu/formula-engine.ts';
import { GpuFormulaEngine } from '../../src/gpu/formula/gpu-formula-engine.ts';
import { checkFormulaResult, formulaError, formulaReference, normalEquationsLabels } from '../../src/gpu/formula/formula-check.ts';
import { memoryRowStream } from '../../src/gpu/formula/formula-stream.ts';
import { normalEquationsProgram } from '../../src/formula/program.ts';
import type { EpochInfo } from '../../src/models/linear.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { relativeError } from '../data-gen.ts';
import { CASES, setupCase, type FormulaCase } from '../formula-cases.ts';

const byName = (name: string): FormulaCase => CASES.find((c) => c.name.startsWith(name))!;

async function checkAgainstTwin(engine: GpuFormulaEngine, c: FormulaCase, label: string): Promise<void> {
  const { model, data, at } = setupCase(c);
  const all = { start: 0, rows: data.n };
  const g = await engine.lossAndGradient(at);
  const ref = formulaReference(model, at, data, all);
  console.info(`${label} gradient: max |error| / mean |term| = ${formulaError([...g.grad, g.loss], ref).toExponential(2)}`);
  expect(checkFormulaResult([...g.grad, g.loss], ref, model.params)).toBeNull();
  const program = normalEquationsProgram(model);
  const sums = await engine.normalEquations(at);
  const nref = formulaReference(model, at, data, all, program);
  const mean = sums.map((v) => v / data.n);
  console.info(`${label} normal equations: max |error| / mean |term| = ${formulaError(mean, nref).toExponential(2)}`);
  expect(checkFormulaResult(mean, nref, normalEquationsLabels(model.params))).toBeNull();
}

describe('GPU formula engine over streamed rows', () => {
  it('gradient and normal equations over chunks of 10007 rows (2^16 + 3 rows, exponential decay) match the twin', async () => {
    const c = byName('exponential decay');
    const { model, data, start } = setupCase(c);
    const engine = await GpuFormulaEngine.createStreamed(await testGpu(), model, memoryRowStream(data, 10007), start, { tuning: false });
    try {
      await checkAgainstTwin(engine, c, 'streamed decay');
      expect(engine.streamPasses).toBeGreaterThanOrEqual(2); // each full evaluation is a pass over the stream
    } finally {
      engine.dispose();
    }
  });

  it('trains on mini-batches inside chunks as the twin does (weighted rows, adam) and the full batch chunk by chunk', async () => {
    const c = byName('weighted');
    const { model, data, start } = setupCase(c);
    const chunkRows = 1000;
    const engine = await GpuFormulaEngine.createStreamed(await testGpu(), model, memoryRowStream(data, chunkRows), start, { tuning: false, maxReportEvery: 8 });
    try {
      for (const batchSize of [250, data.n]) {
        const o = { lr: 0.05, maxEpochs: 5, batchSize, seed: 5, optimizer: optimizerConfig({ kind: 'adam' }), reportEvery: 4, chunkRows };
        const gpuEpochs: EpochInfo[] = [];
        const cpuEpochs: EpochInfo[] = [];
        const g = await engine.train({ ...o, onEpoch: (i) => gpuEpochs.push(i) });
        const h = await new CpuFormulaEngine(model, data, start).train({ ...o, onEpoch: (i) => cpuEpochs.push(i) });
        const losses = relativeError(gpuEpochs.map((e) => e.loss), cpuEpochs.map((e) => e.loss));
        const params = relativeError(g.theta, h.theta);
        console.info(`streamed weighted, batch ${batchSize}: ${g.updates} updates, epoch losses rel ${losses.rel.toExponential(2)}, parameters rel ${params.rel.toExponential(2)}`);
        expect(g.updates).toBe(h.updates);
        expect(losses.rel, losses.worst).toBeLessThanOrEqual(1e-4);
        expect(params.rel, params.worst).toBeLessThanOrEqual(1e-4);
      }
    } finally {
      engine.dispose();
    }
  });

  it('in-memory rows larger than one storage binding run in chunks', async () => {
    const gpu = await testGpu();
    const c = byName('16-feature');
    const { model, data, start } = setupCase(c);
    // A pretend binding of 64 KiB: 5003 rows x 16 columns (320 KB) take 5 chunks of 1024 rows.
    const small = { ...gpu, maxBindingBytes: 64 * 1024 };
    const engine = await GpuFormulaEngine.create(small, model, data, start, { tuning: false });
    try {
      await checkAgainstTwin(engine, c, 'chunked 16-feature');
      expect(engine.streamPasses).toBeGreaterThanOrEqual(1);
    } finally {
      engine.dispose();
    }
  });

  it('refuses a chunk larger than one binding, and a stream of the wrong width', async () => {
    const gpu = await testGpu();
    const { model, data, start } = setupCase(byName('16-feature'));
    const small = { ...gpu, maxBindingBytes: 64 * 1024 };
    await expect(GpuFormulaEngine.createStreamed(small, model, memoryRowStream(data, 2048), start)).rejects.toThrow(/more than one storage binding.*at most 1024 rows/);
    await expect(GpuFormulaEngine.createStreamed(gpu, model, memoryRowStream({ ...data, d: 15 }, 2048), start)).rejects.toThrow(/15 columns per row/);
  });
});
