// The autotuner on a real adapter: it keeps only configurations whose result matches float64, the winner
// is one of the candidates, the table serves the second engine, and tuned kernels keep the accuracy bound.
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { GpuLinearEngine } from '../../src/gpu/gpu-linear-engine.ts';
import { linearGradient } from '../../src/cpu/linear_partials.ts';
import { makeLinearData, relativeError, thetaOf } from '../data-gen.ts';
import { planLinearGrid, type LinearKernelConfig } from '../../src/gpu/dispatch.ts';
import { linearPartialsWgsl } from '../../src/gpu/passes/linear-partials-pass.ts';
import { uploadChunks } from '../../src/gpu/linear-buffers.ts';
import { planChunks } from '../../src/gpu/data-layout.ts';
import { autotune, AutotuneError } from '../../src/gpu/tuning/autotune.ts';
import { TuningCache } from '../../src/gpu/tuning/cache.ts';
import { LinearTuner } from '../../src/gpu/tuning/linear-tuning.ts';
import {
  LINEAR_TUNE_GROWTH, LINEAR_TUNE_MAX_BYTES, LINEAR_TUNE_START_BYTES, linearCandidates, linearFamily, linearTuneRows,
} from '../../src/gpu/tuning/linear-candidates.ts';

// As test/gpu/linear-gradient.test.ts: the kernels' float32 bound is ~(64 + 2 + log2 N) eps of the sum of
// |terms|, which is O(|grad|) at these points.
const GRADIENT_REL_TOL = 1e-5;

/** A pass-1 kernel whose every group returns at once: no partial row written, faster than any honest one. */
const skipsEverything = (code: string) => code.replace(/if \(group >= grid\.num_groups \|\| state\.status != STATUS_RUNNING\) \{/, 'if (group < grid.num_groups || state.status != STATUS_RUNNING) {');
/** A pass-1 kernel whose residuals use 2y: every component off by O(1), at the honest kernel's speed. */
const doublesY = (code: string) => code.replace(/var r = p - y4\[q\];/, 'var r = p - 2.0 * y4[q];');

async function tunerOver(n: number, d: number) {
  const gpu = await testGpu();
  const data = makeLinearData(n, d, 9);
  const specs = planChunks(n, d, gpu.maxBindingBytes);
  const chunks = await uploadChunks(gpu, data, specs, 'test.tuning');
  const tuner = new LinearTuner(gpu, { chunks, specs, data }, n, 4096);
  return { gpu, tuner, dispose: () => { tuner.dispose(); for (const c of chunks) { c.x.destroy(); c.y.destroy(); } } };
}

describe('autotune validates before it times', () => {
  it('rejects injected candidates with wrong results (one skips all work, one doubles y); the winner is honest', async () => {
    const { gpu, tuner, dispose } = await tunerOver(200_003, 4);
    try {
      const candidates: LinearKernelConfig[] = [
        { workgroupSize: 64, numGroups: 1 }, { workgroupSize: 64, numGroups: 2 }, { workgroupSize: 64, numGroups: 4 }, { workgroupSize: 128, numGroups: 2 },
      ];
      const faults = new Map<LinearKernelConfig, (code: string) => string>([[candidates[1], skipsEverything], [candidates[3], doublesY]]);
      const result = await autotune(gpu, {
        ...tuner.spec(candidates),
        prepare: (c) => {
          const fault = faults.get(c);
          if (!fault) return tuner.prepare(c);
          const code = fault(linearPartialsWgsl(4, planLinearGrid(tuner.rows, 4, gpu.shape, c)));
          expect(code).not.toBe(linearPartialsWgsl(4, planLinearGrid(tuner.rows, 4, gpu.shape, c))); // the fault took
          return tuner.prepare(c, code);
        },
      });
      const byConfig = new Map(result.trials.map((t) => [t.config, t]));
      expect(byConfig.get(candidates[1])?.rejected, byConfig.get(candidates[1])?.rejected).toMatch(/^invalid result: .*NaN/);
      expect(byConfig.get(candidates[3])?.rejected).toMatch(/^invalid result: /);
      expect(byConfig.get(candidates[1])?.ms).toBeUndefined();
      expect([candidates[0], candidates[2]]).toContain(result.best);
      expect(result.timing.ms).toBeGreaterThan(0);
    } finally {
      dispose();
    }
  });

  it('throws AutotuneError, with the reasons, when no candidate validates', async () => {
    const { gpu, tuner, dispose } = await tunerOver(50_000, 2);
    try {
      const c = { workgroupSize: 64, numGroups: 2 };
      const bad = doublesY(linearPartialsWgsl(2, planLinearGrid(tuner.rows, 2, gpu.shape, c)));
      const run = autotune(gpu, { ...tuner.spec([c]), prepare: (config) => tuner.prepare(config, bad) });
      await expect(run).rejects.toThrow(AutotuneError);
      await expect(run).rejects.toThrow(/linear\.partials\.quad.*invalid result: (grad_w\[\d\]|grad_b|loss) = /);
    } finally {
      dispose();
    }
  });
});

describe('GpuLinearEngine with tuning', () => {
  for (const d of [1, 16, 17]) {
    it(`d = ${d}, N = 10^6 + 3: tunes once (a candidate of the list), the table serves the next engine, both match float64 to ${GRADIENT_REL_TOL}`, async () => {
      const gpu = await testGpu();
      const n = 1_000_003;
      const data = makeLinearData(n, d, 21 + d);
      const at = { w: Float64Array.from({ length: d }, (_, j) => 0.2 - 0.05 * j), b: 0.6 };
      const want = linearGradient(data, at);
      const table = new TuningCache();
      for (const expected of ['tuned', 'table'] as const) {
        const engine = await GpuLinearEngine.create(gpu, data, { tuning: table });
        try {
          expect(engine.kernel.source).toBe(expected);
          const result = engine.kernel.result;
          if (expected === 'tuned') {
            expect(result!.trials.some((t) => t.ms !== undefined)).toBe(true);
            // Whatever prefix the last round timed (a fast adapter grows it: LINEAR_TUNE_START_BYTES).
            const offered = [1, LINEAR_TUNE_GROWTH, LINEAR_TUNE_GROWTH ** 2]
              .flatMap((k) => linearCandidates(linearTuneRows(n, d, n, Math.min(k * LINEAR_TUNE_START_BYTES, LINEAR_TUNE_MAX_BYTES)), d, gpu.shape));
            expect(offered).toContainEqual(engine.kernel.config);
            console.info(`d = ${d}: tuned ${JSON.stringify(engine.kernel.config)} in ${result!.elapsedMs.toFixed(0)} ms (${linearFamily(d)}; ${result!.trials.length} trials)`);
          }
          expect(table.size).toBe(1);
          engine.fillOutputs(NaN);
          const got = await engine.gradient(at);
          const g = relativeError(thetaOf(got.gradW, got.gradB), thetaOf(want.gradW, want.gradB));
          expect(g.rel, `${JSON.stringify(engine.kernel.config)}: ${g.worst}`).toBeLessThanOrEqual(GRADIENT_REL_TOL);
          expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThanOrEqual(GRADIENT_REL_TOL);
        } finally {
          engine.dispose();
        }
      }
    });
  }

  it('an explicit kernel, or tuning: false, skips the table; a table entry this device cannot run is retuned', async () => {
    const gpu = await testGpu();
    const data = makeLinearData(100_000, 3, 4);
    const table = new TuningCache();
    const explicit = await GpuLinearEngine.create(gpu, data, { tuning: table, kernel: { workgroupSize: 128, numGroups: 3 } });
    expect([explicit.kernel.source, explicit.plan.workgroupSize, explicit.plan.numGroups]).toEqual(['explicit', 128, 3]);
    explicit.dispose();
    const untuned = await GpuLinearEngine.create(gpu, data, { tuning: false });
    expect(untuned.kernel.source).toBe('default');
    untuned.dispose();
    expect(table.size).toBe(0);
    // Tune once, then corrupt the stored entry as a foreign table might have it: it is dropped and retuned.
    const first = await GpuLinearEngine.create(gpu, data, { tuning: table });
    first.dispose();
    const stored = table.toJSON();
    stored.entries[0].config = { workgroupSize: gpu.shape.maxWorkgroupSize * 2, numGroups: 4 };
    const foreign = new TuningCache();
    foreign.merge(stored);
    const again = await GpuLinearEngine.create(gpu, data, { tuning: foreign });
    expect(again.kernel.source).toBe('tuned');
    expect(again.plan.workgroupSize).toBeLessThanOrEqual(gpu.shape.maxWorkgroupSize);
    again.dispose();
  });
});
