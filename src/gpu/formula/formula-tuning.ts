// Picks the grid of a formula model's pass 1 and proves the generated kernel right before anything uses it:
// an explicit configuration, the tuning table's entry for this adapter and program (the key holds a hash of
// the generated WGSL), a fresh autotune over a prefix of the data just uploaded (every candidate validated
// against the float64 twin, then timed), or the untuned default. Whichever it is, the engine's own passes
// are then checked against the twin once (checkKernel): a mismatch is an error, never a CPU fallback.
import type { FormulaModel } from '../../formula/model.ts';
import type { SampleProgram } from '../../formula/program.ts';
import { wgslSampleFunction } from '../../formula/emit-wgsl.ts';
import type { BatchRange } from '../../models/batches.ts';
import type { FormulaData } from '../../models/formula.ts';
import type { GpuContext } from '../device.ts';
import type { DeviceShape } from '../dispatch.ts';
import type { DeviceIo } from '../device-io.ts';
import { createBufferChecked } from '../resources.ts';
import { autotune, AutotuneError, type AutotuneResult, type KernelChoice, type TuningTrial } from '../tuning/autotune.ts';
import { defaultTuningCache, tuningKey, type ShapeClass, type TuningCache } from '../tuning/cache.ts';
import { checkFormulaResult, referencesOf, type FormulaReference, type ReferenceOf } from './formula-check.ts';
import {
  checkFormulaConfig, defaultFormulaConfig, FORMULA_FAMILY, FORMULA_MAX_SUMS, formulaCandidates, formulaLadder, formulaShapeClass, formulaTuneRows, isFormulaKernelConfig, SOFTWARE_WIDE_OUTPUTS,
  type FormulaKernelConfig,
} from './formula-grid.ts';
import { FormulaGradientPasses, outputSlices, type FormulaBuffers } from './formula-passes.ts';

const kLabel = 'nabla.tuning.formula';

export interface FormulaTuningOptions {
  /** Use this grid: no table, no tuning. */
  kernel?: FormulaKernelConfig;
  /** The table to read and fill (default: defaultTuningCache); false: no table, no tuning (the default grid). */
  tuning?: TuningCache | false;
  /** The most outputs one generated kernel keeps (default FORMULA_MAX_SUMS; formula-passes.ts: outputSlices). */
  maxSums?: number;
}

export type FormulaKernelChoice = KernelChoice<FormulaKernelConfig>;

/**
 * A pass-1 kernel of the formula skeleton's grid ({ workgroupSize, groups }) and bindings: the generated one
 * (the default), or a specialised one (linear-quad-pass.ts) tuned under its own family and shape class.
 */
export interface FormulaKernelVariant {
  family: string;
  shape: ShapeClass;
  /** The grids to try over `tuneRows` rows (default: formulaCandidates, the generated kernel's). */
  candidates?(tuneRows: number, shape: DeviceShape): FormulaKernelConfig[];
  /** The passes at one grid (one slot), over the tuner's buffers. */
  build(device: GPUDevice, config: FormulaKernelConfig, buffers: FormulaBuffers): Promise<FormulaGradientPasses>;
}

/** The generated kernel of `program` as a tuning variant, in slices of at most maxSums outputs. */
export function generatedVariant(gpu: GpuContext, program: SampleProgram, n: number, maxSums = FORMULA_MAX_SUMS): FormulaKernelVariant {
  const slices = outputSlices(program.outputs.length, maxSums).length;
  return {
    family: FORMULA_FAMILY,
    shape: formulaShapeClass(`${wgslSampleFunction(program)}${slices > 1 ? `// ${slices} slices` : ''}`, n, program.rowWidth),
    build: (device, config, buffers) => FormulaGradientPasses.create(device, program, config, gpu.shape.maxWorkgroupsPerDimension, buffers, 1, { maxSums }),
  };
}

/**
 * Poisons grad_loss (and, for a check, the partials rows), records the slot's passes, reads grad_loss back (the
 * program's outputs).
 */
export async function runGradient(
  io: DeviceIo, passes: FormulaGradientPasses, slot: number, gradLoss: GPUBuffer, readback: GPUBuffer, outputs: number, partials?: GPUBuffer,
): Promise<Float32Array> {
  const device = io.live();
  // A kernel that writes nothing leaves NaN, never the previous run's sums: a pass 1 that skips its rows must
  // not be folded from rows an earlier candidate or check left in the partials.
  device.queue.writeBuffer(gradLoss, 0, new Float32Array(gradLoss.size / 4).fill(NaN));
  if (partials) device.queue.writeBuffer(partials, 0, new Float32Array(partials.size / 4).fill(NaN));
  const encoder = device.createCommandEncoder({ label: `${kLabel}.run.encoder` });
  const pass = encoder.beginComputePass({ label: `${kLabel}.run.pass` });
  passes.record(pass, slot);
  pass.end();
  encoder.copyBufferToBuffer(gradLoss, 0, readback, 0, outputs * 4);
  await io.submitChecked(encoder, 'gradient');
  return new Float32Array(await io.readBack(readback, outputs * 4));
}

/**
 * The kernel's result over `range` at theta against the float64 twin: null when right, else what is wrong.
 * labels: one per output (default: the gradient program's, from the parameters).
 */
export function judge(model: FormulaModel, got: ArrayLike<number>, reference: FormulaReference, labels: readonly string[] = model.params): string | null {
  return checkFormulaResult(got, reference, labels);
}

/** Each candidate's passes over rows [0, rows) at the probe theta, with scratch theta, partials and grad_loss. */
class FormulaTuner {
  private readonly made: GPUBuffer[] = [];
  private bufs: FormulaBuffers | null = null;
  private readback: GPUBuffer | null = null;
  readonly reference: FormulaReference;
  private readonly range: BatchRange;

  constructor(
    private readonly io: DeviceIo, private readonly model: FormulaModel, private readonly program: SampleProgram,
    data: FormulaData, private readonly resident: { x: GPUBuffer; y: GPUBuffer }, private readonly theta: Float64Array, rows: number,
    private readonly labels: readonly string[], private readonly variant: FormulaKernelVariant,
    referenceOf: ReferenceOf = referencesOf(model, theta, data, program),
  ) {
    this.range = { start: 0, rows };
    this.reference = referenceOf(this.range);
  }

  async allocate(maxGroups: number): Promise<void> {
    const device = this.io.live();
    const S = this.program.outputs.length;
    const make = async (name: string, size: number, usage: number) => {
      const b = await createBufferChecked(device, { label: `${kLabel}.${name}`, size: Math.max(16, Math.ceil(size / 16) * 16), usage });
      this.made.push(b);
      return b;
    };
    const ST = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    this.bufs = {
      ...this.resident,
      theta: await make('theta', this.theta.length * 4, ST),
      partials: await make('partials', maxGroups * S * 4, ST),
      gradLoss: await make('gradLoss', S * 4, ST | GPUBufferUsage.COPY_SRC),
    };
    this.readback = await make('readback', S * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    device.queue.writeBuffer(this.bufs.theta, 0, Float32Array.from(this.theta));
  }

  async prepare(config: FormulaKernelConfig): Promise<TuningTrial> {
    const { bufs, readback } = this;
    if (!bufs || !readback) throw new Error('FormulaTuner: prepare() before allocate()');
    const passes = await this.variant.build(this.io.live(), config, bufs);
    passes.writeSlot(0, this.range);
    return {
      record: (pass) => passes.record(pass, 0),
      validate: async () => judge(this.model, await runGradient(this.io, passes, 0, bufs.gradLoss, readback, this.program.outputs.length, bufs.partials), this.reference, this.labels),
      dispose: () => passes.dispose(),
    };
  }

  dispose(): void {
    for (const b of this.made) b.destroy();
  }
}

/**
 * The grid the engine runs: explicit > table > tuned now > default (tuning: false). No candidate validating
 * is an AutotuneError (the generated kernel is wrong on this adapter), not a reason to fall back.
 */
export async function chooseFormulaKernel(
  gpu: GpuContext, io: DeviceIo, model: FormulaModel, program: SampleProgram, data: FormulaData,
  resident: { x: GPUBuffer; y: GPUBuffer }, theta: Float64Array, options: FormulaTuningOptions, labels: readonly string[] = model.params,
  variant: FormulaKernelVariant = generatedVariant(gpu, program, data.n, options.maxSums),
  referenceOf?: ReferenceOf,
): Promise<FormulaKernelChoice> {
  if (options.kernel) {
    checkFormulaConfig(options.kernel, gpu.shape);
    return { config: { ...options.kernel }, source: 'explicit' };
  }
  if (options.tuning === false) return { config: defaultFormulaConfig(data.n, gpu.shape, gpu.summary.isFallback), source: 'default' };
  const cache = options.tuning ?? defaultTuningCache;
  const key = tuningKey(gpu, variant.family, variant.shape);
  const runnable = (c: unknown): c is FormulaKernelConfig => {
    if (!isFormulaKernelConfig(c)) return false;
    try {
      checkFormulaConfig(c, gpu.shape);
      return true;
    } catch {
      return false;
    }
  };
  const hit = cache.get(key, runnable);
  if (hit) return { config: hit.config, source: 'table', timing: { ms: hit.ms, method: hit.method } };
  const rows = formulaTuneRows(data.n, program.rowWidth);
  const candidates = variant.candidates?.(rows, gpu.shape) ?? formulaCandidates(rows, gpu.shape, gpu.summary.isFallback && program.outputs.length > SOFTWARE_WIDE_OUTPUTS);
  const tuner = new FormulaTuner(io, model, program, data, resident, theta, rows, labels, variant, referenceOf);
  let result: AutotuneResult<FormulaKernelConfig>;
  try {
    await tuner.allocate(Math.max(...candidates.map((c) => c.groups)));
    // Samples of at least 10 ms (several passes each): on SwiftShader a single pass of a few ms over the
    // prefix sometimes ran its two workgroups one after the other (y ~ exp(linear(16 columns)), poisson:
    // 1.8 or 3.5 ms for 2 groups, 2.8 for 1), and once the tuner picked one workgroup for 2^22 rows: 72 % of
    // the read's speed, where the 4 groups tuned at 2^20 ran at 101 %.
    result = await autotune(gpu, {
      family: variant.family, candidates, ladderOf: formulaLadder, ladderWalk: 'turns', budgetMs: 2000, minSampleMs: 10,
      prepare: (c) => tuner.prepare(c),
    });
  } finally {
    tuner.dispose();
  }
  cache.set(key, {
    config: result.best, ms: result.timing.ms, method: result.timing.method, validated: result.trials.filter((t) => t.ms !== undefined).length,
    tried: result.trials.filter((t) => !t.rejected?.startsWith('skipped')).length, tunedAt: new Date().toISOString(),
  });
  return { config: result.best, source: 'tuned', result, timing: { ms: result.timing.ms, method: result.timing.method } };
}

export { AutotuneError };
