// The generated kernel in slices (src/gpu/formula/formula-passes.ts: outputSlices): a program of more outputs
// than one kernel keeps (FORMULA_MAX_SUMS) runs one kernel per slice, each a pass over the rows keeping its
// own sums in its place of the partials rows, then one reduce. maxSums makes small programs slice here, as
// wide ones do at FORMULA_MAX_SUMS, without SwiftShader compiling kernels of hundreds of sums. Against the
// float64 twin with the tolerance of every formula kernel (FORMULA_REL_TOL of each output's mean |term|);
// each output is summed by the same code in the same order whatever slice holds it, so a sliced run follows
// the unsliced one's training trajectory within SLICED_TRAJECTORY_TOL.
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { GpuFormulaEngine } from '../../src/gpu/formula/gpu-formula-engine.ts';
import { checkFormulaResult, formulaError, formulaReference, normalEquationsLabels } from '../../src/gpu/formula/formula-check.ts';
import { normalEquationsProgram } from '../../src/formula/program.ts';
import { memoryRowStream } from '../../src/gpu/formula/formula-stream.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import type { EpochInfo } from '../../src/models/linear.ts';
import { relativeError } from '../data-gen.ts';
import { DECAY, LINEAR16_HUBER, WEIGHTED_SATURATION, setupCase } from '../formula-cases.ts';

const SLICED_TRAJECTORY_TOL = 1e-6;

describe('the generated kernel in slices', () => {
  for (const [c, maxSums] of [[DECAY, 1], [LINEAR16_HUBER, 5], [WEIGHTED_SATURATION, 2]] as const) {
    it(`${c.name}, at most ${maxSums} sums a kernel: agrees with the float64 twin on two grids`, async () => {
      const { model, data, start, at } = setupCase(c);
      const slices = Math.ceil((model.params.length + 1) / maxSums);
      for (const kernel of [undefined, { workgroupSize: 256, groups: 3, layout: 'blocked' as const, span: 2 }]) {
        const engine = await GpuFormulaEngine.create(await testGpu(), model, data, start, { tuning: false, kernel, maxSums, specialize: false });
        try {
          expect(engine.slices).toBe(slices);
          engine.fillOutputs(NaN);
          const got = await engine.lossAndGradient(at);
          const flat = [...got.grad, got.loss];
          const ref = formulaReference(model, at, data, { start: 0, rows: data.n });
          console.info(`${c.name} in ${slices} slices ${JSON.stringify(engine.kernel.config)}: max |error| / mean |term| = ${formulaError(flat, ref).toExponential(2)}`);
          expect(checkFormulaResult(flat, ref, model.params)).toBeNull();
        } finally {
          engine.dispose();
        }
      }
    }, 240_000);
  }

  it('trains as one kernel does (Adam, mini-batches of 37 rows over streamed chunks of 1001)', async () => {
    const { model, data, start } = setupCase(LINEAR16_HUBER);
    const o = { lr: 0.01, maxEpochs: 2, batchSize: 37, seed: 4, reportEvery: 1, optimizer: optimizerConfig({ kind: 'adam' }) };
    const runs = [];
    for (const maxSums of [undefined, 4]) {
      const engine = await GpuFormulaEngine.createStreamed(await testGpu(), model, memoryRowStream(data, 1001), start, { tuning: false, maxReportEvery: 8, maxSums, specialize: false });
      try {
        const epochs: EpochInfo[] = [];
        runs.push({ slices: engine.slices, r: await engine.train({ ...o, onEpoch: (i) => epochs.push(i) }), epochs });
      } finally {
        engine.dispose();
      }
    }
    const [whole, sliced] = runs;
    expect([whole.slices, sliced.slices]).toEqual([1, 5]);
    expect(sliced.r.updates).toBe(whole.r.updates);
    const losses = relativeError(sliced.epochs.map((e) => e.loss), whole.epochs.map((e) => e.loss));
    const params = relativeError(sliced.r.theta, whole.r.theta);
    console.info(`${sliced.r.updates} updates: epoch losses rel ${losses.rel.toExponential(2)}, parameters rel ${params.rel.toExponential(2)}`);
    expect(losses.rel, losses.worst).toBeLessThanOrEqual(SLICED_TRAJECTORY_TOL);
    expect(params.rel, params.worst).toBeLessThanOrEqual(SLICED_TRAJECTORY_TOL);
  }, 240_000);

  it('the normal equations of Levenberg-Marquardt in slices agree with the twin\'s', async () => {
    const { model, data, start, at } = setupCase(DECAY);
    const program = normalEquationsProgram(model);
    const engine = await GpuFormulaEngine.create(await testGpu(), model, data, start, { tuning: false, maxSums: 3 });
    try {
      const got = await engine.normalEquations(at);
      const ref = formulaReference(model, at, data, { start: 0, rows: data.n }, program);
      const mean = got.map((v) => v / data.n);
      console.info(`normal equations, ${program.outputs.length} sums in slices of 3: max |error| / mean |term| = ${formulaError(mean, ref).toExponential(2)}`);
      expect(got.length).toBe(program.outputs.length);
      expect(checkFormulaResult(mean, ref, normalEquationsLabels(model.params))).toBeNull();
    } finally {
      engine.dispose();
    }
  }, 240_000);
});
