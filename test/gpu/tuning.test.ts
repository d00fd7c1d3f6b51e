// The autotuner on a real adapter for the linear model's kernel (the quad kernel inside GpuFormulaEngine,
// tuned under LINEAR_QUAD_FAMILY): it keeps only grids whose result matches the float64 twin, whatever their
// speed, fails naming the reasons when none does, and the table it fills serves, or is refused by, the next
// engine. Wrong kernels come from the test (faulty WGSL through the variant's `code`), as a broken adapter
// would give them.
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { gpuLinear } from './linear-formula.ts';
import { DeviceIo } from '../../src/gpu/device-io.ts';
import { createUploadedBuffer } from '../../src/gpu/resources.ts';
import { chooseFormulaKernel, AutotuneError, type FormulaKernelVariant } from '../../src/gpu/formula/formula-tuning.ts';
import { LINEAR_QUAD_FAMILY, linearQuadVariant, linearQuadWgsl } from '../../src/gpu/formula/linear-quad-pass.ts';
import type { FormulaKernelConfig } from '../../src/gpu/formula/formula-grid.ts';
import { gradientProgram } from '../../src/formula/program.ts';
import { linearShape } from '../../src/formula/shapes.ts';
import { linearFormulaModel } from '../../src/models/linear-formula.ts';
import { TuningCache } from '../../src/gpu/tuning/cache.ts';
import { makeLinearData } from '../data-gen.ts';

/** A kernel whose every group returns at once: no partial row written, faster than any honest one. */
const skipsEverything = (code: string) => code.replace('if (group >= num_groups) {', 'if (group < num_groups) {');
/** A kernel whose residuals use 2y (the whole quads; the partial last quad stays right): O(1) wrong. */
const doublesY = (code: string) => code.replace('var r = p - y4[q];', 'var r = p - 2.0 * y4[q];');

/** The quad kernel's tuning over n rows of d features, its candidates built by `codeFor` (null: the real kernel). */
async function tuneQuad(n: number, d: number, codeFor: (c: FormulaKernelConfig) => string | null) {
  const gpu = await testGpu();
  const data = makeLinearData(n, d, 9);
  const model = linearFormulaModel(d);
  const program = gradientProgram(model);
  const shape = linearShape(model)!;
  const maxPerDim = gpu.shape.maxWorkgroupsPerDimension;
  const honest = linearQuadVariant(program, shape, n, maxPerDim);
  const built: FormulaKernelConfig[] = [];
  const variant: FormulaKernelVariant = {
    ...honest,
    build: (device, config, buffers) => {
      built.push(config);
      const code = codeFor(config);
      return code === null ? honest.build(device, config, buffers) : linearQuadVariant(program, shape, n, maxPerDim, code).build(device, config, buffers);
    },
  };
  const io = new DeviceIo(gpu.device, 'test.tuning');
  const round = (bytes: number) => Math.ceil(bytes / 16) * 16;
  const x = await createUploadedBuffer(gpu.device, 'test.tuning.x', data.x, round(data.x.byteLength), GPUBufferUsage.STORAGE);
  const y = await createUploadedBuffer(gpu.device, 'test.tuning.y', data.y, round(data.y.byteLength), GPUBufferUsage.STORAGE);
  const theta = Float64Array.from({ length: d + 1 }, (_, j) => 0.25 - 0.1 * j); // away from the optimum
  try {
    const cache = new TuningCache();
    const run = chooseFormulaKernel(gpu, io, model, program, data, { x, y }, theta, { tuning: cache }, model.params, variant);
    return { run: await run.then((r) => ({ ok: r }), (e: unknown) => ({ error: e })), built, cache };
  } finally {
    x.destroy();
    y.destroy();
  }
}

describe('autotune validates before it times', () => {
  /** Tunes with every grid of 2 groups (the second candidate of each ladder) poisoned by `fault`. */
  async function poisonedTuning(fault: (code: string) => string) {
    const good = linearQuadWgsl(linearShape(linearFormulaModel(4))!);
    const bad = fault(good);
    expect(bad).not.toBe(good); // the fault took
    const { run, built, cache } = await tuneQuad(200_003, 4, (c) => (c.groups === 2 ? bad : null));
    if (!('ok' in run)) throw run.error;
    const { config, result } = run.ok;
    const trials = result!.trials;
    console.info(`tuned ${JSON.stringify(config)}: ${trials.map((t) => `${t.config.workgroupSize}x${t.config.groups} ${t.ms?.toFixed(2) ?? t.rejected}`).join(', ')}`);
    const poisoned = trials.filter((t) => t.config.groups === 2 && !t.rejected?.startsWith('skipped'));
    expect(poisoned.length).toBeGreaterThan(0); // the budget reached a poisoned grid
    for (const t of poisoned) {
      expect(t.rejected, JSON.stringify(t.config)).toMatch(/^invalid result: /);
      expect(t.ms).toBeUndefined();
    }
    expect(config.groups).not.toBe(2);
    expect(built).toContainEqual(config);
    expect(result!.timing.ms).toBeGreaterThan(0);
    expect(cache.toJSON().entries.map((e) => e.key.family)).toEqual([LINEAR_QUAD_FAMILY]);
  }

  it('rejects a candidate with wrong results (residuals against 2y); the winner is an honest one', () => poisonedTuning(doublesY));

  // A candidate that writes no partial row would be reduced over the rows an earlier candidate left there, and
  // validate (measured before the tuner poisoned its partials: 64 x 2 at 0.17 ms won against an honest 2.25 ms).
  it('rejects a candidate that skips all its work (no partial row written)', () => poisonedTuning(skipsEverything));

  it('throws AutotuneError, with the reasons, when no candidate validates', async () => {
    const bad = doublesY(linearQuadWgsl(linearShape(linearFormulaModel(2))!));
    const { run, cache } = await tuneQuad(50_000, 2, () => bad);
    if (!('error' in run)) throw new Error(`tuning chose ${JSON.stringify(run.ok.config)} among wrong kernels`);
    expect(run.error).toBeInstanceOf(AutotuneError);
    expect(String((run.error as Error).message)).toMatch(new RegExp(`${LINEAR_QUAD_FAMILY.replace(/\./g, '\\.')}.*invalid result: `, 's'));
    expect(cache.size).toBe(0);
  });
});

describe('the linear model engine with tuning', () => {
  it('an explicit grid, or tuning: false, skips the table; a table entry this device cannot run is retuned', async () => {
    const gpu = await testGpu();
    const data = makeLinearData(100_000, 3, 4);
    const table = new TuningCache();
    const explicit = await gpuLinear(gpu, data, { tuning: table, kernel: { workgroupSize: 64, groups: 3 }, quadKernel: { workgroupSize: 256, groups: 3 } });
    expect([explicit.kernel.source, explicit.quadKernel?.source, explicit.quadKernel?.config]).toEqual(['explicit', 'explicit', { workgroupSize: 256, groups: 3 }]);
    explicit.dispose();
    const untuned = await gpuLinear(gpu, data, { tuning: false });
    expect([untuned.kernel.source, untuned.quadKernel?.source]).toEqual(['default', 'default']);
    untuned.dispose();
    expect(table.size).toBe(0);
    // Tune once, then corrupt the quad kernel's stored entry as a foreign table might have it: it is dropped and retuned.
    const first = await gpuLinear(gpu, data, { tuning: table });
    expect(first.quadKernel?.source).toBe('tuned');
    first.dispose();
    const stored = table.toJSON();
    const quad = stored.entries.find((e) => e.key.family === LINEAR_QUAD_FAMILY)!;
    quad.config = { workgroupSize: gpu.shape.maxWorkgroupSize * 2, groups: 4 };
    const foreign = new TuningCache();
    foreign.merge(stored);
    const again = await gpuLinear(gpu, data, { tuning: foreign });
    try {
      expect([again.kernel.source, again.quadKernel?.source]).toEqual(['default', 'tuned']);
      expect(again.quadKernel!.config.workgroupSize).toBeLessThanOrEqual(gpu.shape.maxWorkgroupSize);
    } finally {
      again.dispose();
    }
  });
});
